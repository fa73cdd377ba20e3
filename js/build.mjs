// Builds the front end the Python package ships: js/src/index.js and everything it imports
// become ONE ES module (anywidget loads one file), python/neuron_groups/static/widget.js, and
// its stylesheet widget.css beside it. Readable on purpose (not minified): the Python side
// drops comment lines and indentation when it sends the module (display/assets.py).
//
//   npm run build            writes python/neuron_groups/static/
//   npm run build -- DIR     writes DIR/ instead
//
// Both files are committed, so that `pip install .` needs no node; js/tests/bundle.test.js
// fails while they differ from a fresh build.
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

/** The repository root (the paths below are relative to it). */
export const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Where the Python package looks for the front end. */
export const STATIC = "python/neuron_groups/static";

const BANNER = "Built from js/src/ by `npm run build` (esbuild): edit those files, not this one.";

/**
 * esbuild's options for the bundle.
 * @param {string} [outdir] relative to ROOT, or absolute
 * @returns {import("esbuild").BuildOptions}
 */
export function buildOptions(outdir = STATIC) {
  return {
    absWorkingDir: ROOT,
    entryPoints: { widget: "js/src/index.js" },
    outdir,
    bundle: true,
    format: "esm",
    target: "es2022",
    charset: "utf8",
    banner: { js: `// ${BANNER}`, css: `/* ${BANNER} */` },
    logLevel: "warning",
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await esbuild.build(buildOptions(process.argv[2]));
}
