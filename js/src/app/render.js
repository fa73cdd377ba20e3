/**
 * anywidget's entry point: `render` builds the widget (or the gallery, for a model whose
 * `view` is "gallery") in the host's element and keeps it in sync with the model.
 */
/** @import { WidgetModel } from "../data/contract.js" */
import { UrlBag } from "../components/dom.js";
import { FIELDS } from "../data/contract.js";
import { bindWidget } from "./bindings.js";
import { createController } from "./controller.js";
import { renderGallery } from "./gallery.js";
import { createView } from "./view.js";
import { coalesce, createWiring } from "./wiring.js";

/**
 * The neuron-groups widget in `el`: its view, its controller, and every listener.
 * @param {{ model: WidgetModel, el: HTMLElement }} ctx
 * @returns {() => void} cleanup
 */
function renderWidget({ model, el }) {
  const doc = el.ownerDocument || document;
  const urls = new UrlBag();
  const v = createView(doc, urls);
  const ctl = createController(model, el, v);
  const wiring = createWiring();
  bindWidget(wiring, model, v, ctl);
  const schedule = coalesce(wiring, (changed) => ctl.refresh(changed, true));
  wiring.onModel(model, FIELDS, schedule);
  wiring.onHostClass(el, () => schedule("connection"));
  wiring.onDispose(() => ctl.dispose());
  el.append(v.root);
  ctl.refresh(new Set(FIELDS));
  return function cleanup() {
    wiring.dispose();
    urls.revokeAll();
    v.root.remove();
  };
}

/**
 * anywidget entry point: build the widget in `el`, keep it in sync with `model`.
 * @param {{ model: WidgetModel, el: HTMLElement }} ctx
 * @returns {() => void} cleanup
 */
export function render({ model, el }) {
  if (model.get("view") === "gallery") return renderGallery({ model, el });
  return renderWidget({ model, el });
}
