// The built site's own links, checked after TypeDoc wrote it: every `href` and `src` of every
// HTML page that is not an external URL must be a relative path (a site served from a sub-path
// breaks on `/…`) to a file of the site, and its `#anchor`, if any, an `id` of that page.
// TypeDoc checks the links of the comments and between documents; this also covers the pages
// made at build time and TypeDoc's own navigation.
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );
}

const decode = (s) => s.replace(/&amp;/g, "&").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">");

/** Every problem with the links of the site in `out`, as `page: link: why` lines. */
export function checkLinks(out) {
  const all = files(out);
  const idsCache = new Map();
  const idsOf = (file) => {
    if (!idsCache.has(file)) {
      const text = readFileSync(file, "utf8");
      idsCache.set(file, new Set([...text.matchAll(/\s(?:id|name)="([^"]*)"/g)].map((m) => decode(m[1]))));
    }
    return idsCache.get(file);
  };
  const problems = [];
  let checked = 0;
  for (const page of all.filter((f) => f.endsWith(".html"))) {
    const text = readFileSync(page, "utf8");
    const where = relative(out, page);
    for (const match of text.matchAll(/\s(?:href|src)="([^"]*)"/g)) {
      const link = decode(match[1]);
      if (link === "" || link === "#" || /^(?:[a-z][a-z+.-]*:|\/\/)/i.test(link)) continue;
      checked++;
      if (link.startsWith("/")) {
        problems.push(`${where}: ${link}: an absolute path (the site must work from any folder)`);
        continue;
      }
      const [pathPart, anchor] = link.split("#");
      const path = decodeURIComponent(pathPart.split("?")[0]);
      const target = path === "" ? page : resolve(dirname(page), path);
      if (!target.startsWith(out)) {
        problems.push(`${where}: ${link}: outside the site`);
      } else if (!existsSync(target)) {
        problems.push(`${where}: ${link}: no such file`);
      } else if (statSync(target).isDirectory() && !existsSync(join(target, "index.html"))) {
        problems.push(`${where}: ${link}: a folder without index.html`);
      } else if (anchor !== undefined && anchor !== "" && /\.(html|svg)$/.test(target) && !idsOf(target).has(decodeURIComponent(anchor))) {
        problems.push(`${where}: ${link}: no id "${anchor}" in ${relative(out, target)}`);
      }
    }
  }
  return { problems, checked };
}
