// @vitest-environment node
// The committed bundle (python/neuron_groups/static/widget.js and widget.css, what the Python
// package ships and loads) is exactly what `npm run build` makes from js/src/ now.
import { readFileSync } from "node:fs";
import * as esbuild from "esbuild";
import { describe, expect, it } from "vitest";
import { buildOptions } from "../build.mjs";

describe("the committed bundle", () => {
  it("is a fresh build of js/src (else: npm run build, and commit python/neuron_groups/static)", async () => {
    const { outputFiles } = await esbuild.build({ ...buildOptions(), write: false });
    const built = outputFiles.map((f) => f.path.replace(/\\/g, "/").split("/").pop()).sort();
    expect(built).toEqual(["widget.css", "widget.js"]);
    for (const file of outputFiles) {
      expect(readFileSync(file.path, "utf8"), `${file.path} is stale`).toBe(file.text);
    }
  });
});
