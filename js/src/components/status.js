/**
 * The status line and the icon progress block (with its Stop button).
 *
 * DOM hooks (stable; browser and unit tests rely on them):
 *   .ng-status                     one-line status ("Computing…", "Stopped"); hidden when idle
 *   .ng-progress                   progress block, `hidden` unless status is "optimizing":
 *     .ng-progress-bar (<progress>), .ng-progress-text, .ng-stop (button: sends {type:"stop"})
 */
/** @import { Scene } from "./scene.js" */
import { h } from "./dom.js";

/** @type {Record<string, string>} */
const STATUS_MESSAGES = {
  loading: "Loading the model (the first time in this kernel)…",
  computing: "Computing neuron groups…",
  stopped: "Icon optimisation stopped; icons show their last state.",
};

/**
 * The status line and the icon progress block (with its Stop button).
 * @param {Document} doc
 */
export function createStatus(doc) {
  const line = h(doc, "div", { class: "ng-status", role: "status", hidden: true });
  const bar = h(doc, "progress", {
    class: "ng-progress-bar",
    max: 1,
    value: 0,
    "aria-label": "Icon optimisation progress",
  });
  const text = h(doc, "span", { class: "ng-progress-text" });
  const stop = h(doc, "button", { class: "ng-stop", type: "button", text: "Stop" });
  const progress = h(doc, "div", { class: "ng-progress", hidden: true }, [bar, text, stop]);
  return {
    nodes: [line, progress],
    stop,
    /** @param {Scene} s */
    update({ state, stopping, pending }) {
      progress.hidden = state.status !== "optimizing" || pending;
      const pct = `${Math.round(state.progress * 100)}%`;
      bar.value = state.progress;
      bar.setAttribute("aria-valuetext", pct);
      text.textContent = state.progress_text || `Icons: ${pct}`;
      stop.disabled = stopping;
      stop.textContent = stopping ? "Stopping…" : "Stop";
      const msg = STATUS_MESSAGES[pending ? "computing" : state.status] ?? "";
      line.textContent = msg;
      line.hidden = !msg;
    },
  };
}
