/**
 * The widget's header (title, model and layers, top predictions) and its error banner.
 *
 * DOM hooks (stable; browser and unit tests rely on them):
 *   .ng-title, .ng-meta, .ng-predictions   hidden when empty
 *   .ng-error[role=alert]          error banner; `hidden` when the `error` trait is "" (the
 *                                  gallery view shows the same banner)
 */
/** @import { Scene } from "./scene.js" */
import { h } from "./dom.js";

/**
 * Title, model and layer, top predictions.
 * @param {Document} doc
 */
export function createHeader(doc) {
  const title = h(doc, "div", { class: "ng-title" });
  const meta = h(doc, "div", { class: "ng-meta" });
  const predictions = h(doc, "div", { class: "ng-predictions" });
  const el = h(doc, "div", { class: "ng-header" }, [title, meta, predictions]);
  return {
    el,
    /** @param {Scene} s */
    update({ state, columns, multi }) {
      title.textContent = state.title;
      title.hidden = !state.title;
      const layers = multi ? columns.map((c) => c.layer).join(" → ") : state.layer;
      const parts = [state.model_name, layers].filter(Boolean);
      meta.textContent = parts.join(" · ");
      meta.hidden = parts.length === 0;
      const preds = state.predictions.map(({ name, probability }) =>
        Number.isFinite(probability) ? `${name} (${(probability * 100).toFixed(1)}%)` : name,
      );
      predictions.textContent = preds.length ? `Predicted: ${preds.join(", ")}` : "";
      predictions.hidden = preds.length === 0;
    },
  };
}

/** @param {Document} doc */
export function createErrorBanner(doc) {
  const el = h(doc, "div", { class: "ng-error", role: "alert", hidden: true });
  return {
    el,
    /** @param {{ state: { error: string } }} s a Scene, or any state with an `error` */
    update({ state }) {
      el.textContent = state.error;
      el.hidden = !state.error;
    },
  };
}
