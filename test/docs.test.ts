// Every public name has a doc comment: the exports of both entry points, and the public
// methods and properties of every exported class (style.md: one doc comment per public name).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import ts from "typescript";

function undocumented(): string[] {
  const entries = ["src/index.ts", "src/testing.ts"];
  const program = ts.createProgram(entries, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
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

describe("documentation", () => {
  it("gives every public name and every public member of an exported class a doc comment", () => {
    assert.deepEqual(undocumented(), []);
  });
});
