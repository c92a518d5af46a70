// Every public name has a doc comment: the exports of both entry points, and the public
// methods and properties of every exported class (style.md: one doc comment per public name);
// and every one that returns something to await says what cancelling it does.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import ts from "typescript";

const entries = ["src/index.ts", "src/testing.ts", "src/bullmq.ts"];
const program = ts.createProgram(entries, {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2022,
  strict: true,
  noEmit: true,
});
const checker = program.getTypeChecker();

function undocumented(): string[] {
  const missing: string[] = [];
  for (const entry of entries) {
    const source = program.getSourceFile(entry);
    const module = source === undefined ? undefined : checker.getSymbolAtLocation(source);
    assert.ok(module !== undefined, `cannot read ${entry}`);
    for (const exported of checker.getExportsOfModule(module)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      if (ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim() === "") {
        missing.push(`${entry}: ${exported.name}`);
      }
      if ((symbol.flags & ts.SymbolFlags.Class) === 0) continue;
      for (const member of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol))) {
        if (/^(_|#|__@)/.test(member.name)) continue;
        const declarations = member.getDeclarations() ?? [];
        // Members inherited from the standard library (Error's message, …) are not ours.
        if (declarations.every((d) => !d.getSourceFile().fileName.includes("/src/"))) continue;
        const hidden = ts.ModifierFlags.Private | ts.ModifierFlags.Protected;
        if (declarations.some((d) => (ts.getCombinedModifierFlags(d) & hidden) !== 0)) continue;
        if (ts.displayPartsToString(member.getDocumentationComment(checker)).trim() === "") {
          missing.push(`${entry}: ${exported.name}.${member.name}`);
        }
      }
    }
  }
  return missing;
}

/** True when calling `symbol` returns something with a `then`: an awaitable. */
function returnsAwaitable(symbol: ts.Symbol, declaration: ts.Declaration): boolean {
  const type = checker.getTypeOfSymbolAtLocation(symbol, declaration);
  return type
    .getCallSignatures()
    .some((signature) => checker.getReturnTypeOfSignature(signature).getProperty("then") !== undefined);
}

function docText(symbol: ts.Symbol): string {
  const tags = symbol.getJsDocTags().map((tag) => ts.displayPartsToString(tag.text));
  return [ts.displayPartsToString(symbol.getDocumentationComment(checker)), ...tags].join(" ");
}

/** Public functions and methods returning an awaitable whose doc has no Cancellation paragraph. */
function withoutCancellationParagraph(): string[] {
  const missing = new Set<string>();
  const chaining = new Set(["then", "catch", "finally"]);
  for (const entry of entries) {
    const source = program.getSourceFile(entry);
    const module = source === undefined ? undefined : checker.getSymbolAtLocation(source);
    assert.ok(module !== undefined, `cannot read ${entry}`);
    for (const exported of checker.getExportsOfModule(module)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const declaration = symbol.valueDeclaration;
      if (declaration !== undefined && (symbol.flags & ts.SymbolFlags.Function) !== 0) {
        if (returnsAwaitable(symbol, declaration) && !docText(symbol).includes("Cancellation")) {
          missing.add(exported.name);
        }
      }
      if ((symbol.flags & ts.SymbolFlags.Class) === 0) continue;
      for (const member of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol))) {
        if (/^(_|#|__@)/.test(member.name) || chaining.has(member.name)) continue;
        const memberDeclaration = member.valueDeclaration;
        if (memberDeclaration === undefined || !memberDeclaration.getSourceFile().fileName.includes("/src/")) continue;
        if ((member.flags & ts.SymbolFlags.Method) === 0) continue;
        if (returnsAwaitable(member, memberDeclaration) && !docText(member).includes("Cancellation")) {
          missing.add(`${exported.name}.${member.name}`);
        }
      }
    }
  }
  return [...missing];
}

/**
 * Exported names that docs/api.md leaves out: each must be in the first cell of a row of one of
 * its tables, as a code span (`` `Name` ``, `` `name(args)` ``, `` `Name<T>` ``), so that it comes
 * with its one-line summary.
 */
function missingFromApiIndex(): string[] {
  const firstCells = readFileSync("docs/api.md", "utf8")
    .split("\n")
    .filter((line) => line.startsWith("| "))
    .map((line) => line.split(" | ")[0] as string);
  const missing: string[] = [];
  for (const entry of entries) {
    const source = program.getSourceFile(entry);
    const module = source === undefined ? undefined : checker.getSymbolAtLocation(source);
    assert.ok(module !== undefined, `cannot read ${entry}`);
    for (const exported of checker.getExportsOfModule(module)) {
      const name = exported.name.replace(/[$]/g, "\\$&");
      if (!firstCells.some((cell) => new RegExp("`" + name + "[`(<]").test(cell))) missing.push(`${entry}: ${exported.name}`);
    }
  }
  return missing;
}

describe("documentation", () => {
  it("lists every exported name, types included, in docs/api.md with a summary", () => {
    assert.deepEqual(missingFromApiIndex(), []);
  });

  it("gives every public name and every public member of an exported class a doc comment", () => {
    assert.deepEqual(undocumented(), []);
  });

  it("says in a Cancellation paragraph what cancelling does, for everything that can be awaited", () => {
    assert.deepEqual(withoutCancellationParagraph(), []);
  });

  it("stands alone: no file cites the planning documents users do not have", () => {
    // Built from parts so that this file does not cite them itself.
    const citation = new RegExp(["design", "\\.md"].join("") + "|" + ["shared", "/"].join(""));
    const skip = new Set(["node_modules", "out", ".node", "fixtures"]);
    const files: string[] = ["README.md"];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (skip.has(entry.name)) continue;
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (/\.(ts|mts|mjs|md)$/.test(entry.name)) files.push(path);
      }
    };
    for (const dir of ["src", "test", "docs", "bench", "examples", "scripts"]) walk(dir);
    const citing = files.filter((file) => citation.test(readFileSync(file, "utf8")));
    assert.deepEqual(citing, []);
  });
});
