// A TypeDoc plugin for the documentation site (loaded by typedoc.json's "plugin"). Two changes:
//
// 1. Heading anchors are GitHub's: lower case, punctuation dropped, each space a hyphen. The
//    guides link to each other's headings (`streams.md#reading-lines`) with GitHub's anchors,
//    which test/docs-blocks.test.ts checks in the repository; with the same anchors on the site
//    those links work in both places, and TypeDoc's own check of the anchors of links between
//    documents (a warning, an error here) checks them again on the site. TypeDoc's default
//    slugger drops the same punctuation but collapses runs of hyphens ("a — b" gives `a-b`, not
//    GitHub's `a--b`), and reads a heading's text without its code spans (GitHub keeps them:
//    "Retrying: `retry`" is `#retrying-retry`); a Markdown rule gives it their text too.
// 2. The `[util.inspect.custom]` method of each class is left out of the API reference: it is
//    Node's hook for `console.log` (it shows what `toString()` does, which is documented), not
//    API, and documenting it 37 times over would say nothing.
// 3. A `{@link Name}` that TypeDoc cannot resolve where the comment is shown falls back to the
//    export `Name` of the main entry point. `TestLoop` (asyncio-ts/testing) inherits the doc
//    comments of `EventLoop`, whose `{@link TimeoutError}` resolves in `asyncio-ts` but not in
//    `asyncio-ts/testing`, which does not export `TimeoutError`.
// 4. An `@example` ends at its first empty line, as test/docs-blocks.test.ts reads it: the
//    sentences after it (the closing "asyncio: `asyncio.create_task(…)`" line of most doc
//    comments) are prose, where TypeDoc would show them inside the code block.
// 5. `@throws {TypeError} when …` reads "Throws: `TypeError` when …" (TypeDoc would drop the
//    type, or, kept as a type annotation, show `{TypeError}` on a line of its own).
import { Application, Converter, ReflectionKind, Slugger } from "typedoc";

/** GitHub's anchor for a heading's text, before the `-1`, `-2` of repeated headings. */
export function githubSlug(text) {
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, "")
    .replace(/ /g, "-");
}

/**
 * A markdown-it plugin: after each code span of a heading, a text token with the span's text
 * that renders as nothing. TypeDoc reads a heading's anchor (and its entry in "On this page")
 * from the heading's text tokens only; with these, the text is the heading's as GitHub reads it.
 */
function headingCodeText(md) {
  md.core.ruler.push("asyncio_ts_heading_code_text", (state) => {
    state.tokens.forEach((token, i) => {
      if (token.type !== "inline" || state.tokens[i - 1]?.type !== "heading_open" || token.children === null) return;
      token.children = token.children.flatMap((child) => {
        if (child.type !== "code_inline") return [child];
        const text = new state.Token("text", "", 0);
        text.content = child.content;
        text.meta = { slugOnly: true };
        return [child, text];
      });
    });
  });
  const renderText = md.renderer.rules.text;
  md.renderer.rules.text = (tokens, idx, ...rest) => (tokens[idx].meta?.slugOnly ? "" : renderText(tokens, idx, ...rest));
}

/** An `@example` that TypeDoc made one code block: the code up to the first empty line, then prose. */
function splitExample(tag) {
  const [part] = tag.content;
  if (tag.content.length !== 1 || part.kind !== "code") return;
  const match = /^```ts\n([\s\S]*?)\n\s*\n([\s\S]*)\n```$/.exec(part.text);
  if (match === null || match[2].trim() === "") return;
  tag.content = [
    { kind: "code", text: `\`\`\`ts\n${match[1]}\n\`\`\`` },
    { kind: "text", text: `\n\n${match[2].trim()}` },
  ];
}

/** @param {import("typedoc").Application} app */
export function load(app) {
  // TypeDoc lower-cases and numbers repeats itself (as GitHub does); only the text part differs.
  Slugger.prototype.serialize = (value) => githubSlug(value) || "_";
  app.on(Application.EVENT_BOOTSTRAP_END, () => {
    const loader = app.options.getValue("markdownItLoader");
    app.options.setValue("markdownItLoader", (parser) => {
      loader(parser);
      parser.use(headingCodeText);
    });
  });

  app.converter.addUnknownSymbolResolver((ref, reflection) => {
    const path = ref.symbolReference?.path;
    if (ref.moduleSource !== undefined || path === undefined || path.length !== 1) return undefined;
    const main = reflection.project.getChildByName("asyncio-ts");
    const target = main?.getChildByName?.(path[0].path);
    // TypeDoc takes a reflection as the target as well as a URL.
    return target === undefined ? undefined : { target, caption: target.name };
  });

  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    const project = context.project;
    for (const reflection of Object.values(project.reflections)) {
      for (const tag of reflection.comment?.blockTags ?? []) {
        if (tag.tag === "@example") splitExample(tag);
        if (tag.tag === "@throws" && tag.typeAnnotation !== undefined) {
          const type = tag.typeAnnotation.replace(/^\{\s*|\s*\}$/g, "");
          tag.content = [{ kind: "code", text: `\`${type}\`` }, { kind: "text", text: " " }, ...tag.content];
          delete tag.typeAnnotation;
        }
      }
    }
    for (const method of project.getReflectionsByKind(ReflectionKind.Method)) {
      if (method.name === "[inspectCustom]") project.removeReflection(method);
    }
  });
}
