// @vitest-environment node
// The size limits of hand-written source (HELPERS.md): no file in js/src (scripts and
// stylesheets) over 800 lines, no function (with what it nests) over 120 lines of code (lines
// holding a token, not only comments or blanks).
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const SRC = fileURLToPath(new URL("../src", import.meta.url));
const MAX_FILE_LINES = 800;
const MAX_FUNCTION_LINES = 120;

/**
 * @param {string} dir
 * @param {string} [ext]
 * @returns {string[]} every file under dir whose name ends with ext
 */
function sources(dir, ext = ".js") {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name), ext) : e.name.endsWith(ext) ? [join(dir, e.name)] : [],
  );
}

/**
 * Lines of code of each function of a module: name (with its line) -> count.
 * @param {string} text
 * @returns {Array<{ name: string, lines: number }>}
 */
function functionSizes(text) {
  const file = ts.createSourceFile("m.js", text, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const lineOf = (/** @type {number} */ pos) => file.getLineAndCharacterOfPosition(pos).line;
  /** @type {Set<number>} lines holding a token (JSDoc and other comments are not tokens) */
  const code = new Set();
  /** @param {ts.Node} node */
  const tokens = (node) => {
    if (node.kind >= ts.SyntaxKind.FirstJSDocNode && node.kind <= ts.SyntaxKind.LastJSDocNode) return;
    const children = node.getChildren(file);
    if (children.length > 0) children.forEach(tokens);
    else if (node.kind !== ts.SyntaxKind.EndOfFileToken) {
      for (let l = lineOf(node.getStart(file)); l <= lineOf(node.getEnd()); l++) code.add(l);
    }
  };
  tokens(file);
  /** @type {Array<{ name: string, lines: number }>} */
  const sizes = [];
  /** @param {ts.Node} node */
  const visit = (node) => {
    if (ts.isFunctionLike(node) && "body" in node && node.body) {
      const first = lineOf(node.getStart(file));
      const last = lineOf(node.getEnd());
      let lines = 0;
      for (let l = first; l <= last; l++) if (code.has(l)) lines++;
      const name = node.name && ts.isIdentifier(node.name) ? node.name.text : "(anonymous)";
      sizes.push({ name: `${name} (line ${first + 1})`, lines });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return sizes;
}

describe("js/src size limits", () => {
  const files = sources(SRC);

  it("finds the sources", () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it.each(files.map((f) => [relative(SRC, f), f]))("%s: short file, short functions", (_name, path) => {
    const text = readFileSync(path, "utf8");
    expect(text.split("\n").length).toBeLessThanOrEqual(MAX_FILE_LINES);
    const long = functionSizes(text).filter((f) => f.lines > MAX_FUNCTION_LINES);
    expect(long).toEqual([]);
  });

  const sheets = sources(SRC, ".css");

  it("finds the stylesheets", () => {
    expect(sheets.map((f) => relative(SRC, f).replace(/\\/g, "/"))).toContain("widget.css");
    expect(sheets.length).toBeGreaterThan(1);
  });

  it.each(sheets.map((f) => [relative(SRC, f), f]))("%s: short stylesheet", (_name, path) => {
    expect(readFileSync(path, "utf8").split("\n").length).toBeLessThanOrEqual(MAX_FILE_LINES);
  });

  it("counts lines of code, not comments", () => {
    const body = Array.from({ length: 121 }, (_, i) => `  const v${i} = \`${i}\${i}\`; // ${i}\n  /** @type {number} */`);
    const sizes = functionSizes(`function f() {\n${body.join("\n")}\n}\n`);
    expect(sizes).toEqual([{ name: "f (line 1)", lines: 123 }]);
  });
});
