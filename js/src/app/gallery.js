/**
 * The gallery view of shared groups (view "gallery": `display/gallery.py`'s `GalleryState`):
 * its DOM, its view state (hovered group and region, pinned group) and its listeners,
 * attached through the same `Wiring` as the widget's. Each change of a gallery trait redraws
 * at once.
 *
 * DOM hooks (stable; browser and unit tests rely on them):
 *   .neuron-groups.ng-gallery-view root; data-status, data-selected, data-pinned
 *   .ng-title, .ng-meta, .ng-gallery-explained (the share of the layer the groups explain over
 *   the images; hidden when unknown), .ng-error (as in header.js), .ng-progress (hidden unless computing or
 *   optimizing with a kernel; .ng-progress-bar, .ng-progress-text, .ng-stop), .ng-gallery-detail
 *   (the hovered region in words), and the gallery (components/gallery.js)
 */
/** @import { GalleryGroup, WidgetModel } from "../data/contract.js" */
/** @import { Wiring } from "./wiring.js" */
import { h, UrlBag } from "../components/dom.js";
import { createGallery } from "../components/gallery.js";
import { createErrorBanner } from "../components/header.js";
import { GALLERY_FIELDS } from "../data/contract.js";
import { asArray, asString, asUnit } from "../data/values.js";
import { regionText } from "../pure/format.js";
import { createWiring } from "./wiring.js";

/** What the header's share is. */
const EXPLAINED_TIP =
  "Share of the layer's activations over all the images that the groups explain (1 - |a - R|² / |a|², " +
  "R: the groups' reconstruction)";

/**
 * The gallery's DOM: header, error, progress with Stop, the detail line and the groups.
 * @param {Document} doc
 * @param {UrlBag} urls
 */
function createGalleryView(doc, urls) {
  const title = h(doc, "div", { class: "ng-title" });
  const meta = h(doc, "div", { class: "ng-meta" });
  const explained = h(doc, "div", { class: "ng-gallery-explained", title: EXPLAINED_TIP, hidden: true });
  const error = createErrorBanner(doc);
  const bar = h(doc, "progress", { class: "ng-progress-bar", max: 1, value: 0, "aria-label": "Gallery progress" });
  const text = h(doc, "span", { class: "ng-progress-text" });
  const stop = h(doc, "button", { class: "ng-stop", type: "button", text: "Stop" });
  const progress = h(doc, "div", { class: "ng-progress", hidden: true }, [bar, text, stop]);
  const detail = h(doc, "div", { class: "ng-gallery-detail", "aria-live": "polite", text: "Hover a region to read it." });
  const gallery = createGallery(doc, urls);
  const root = h(
    doc,
    "div",
    { class: "neuron-groups ng-gallery-view", "data-lm-suppress-shortcuts": "true", "data-selected": -1, "data-pinned": -1 },
    [h(doc, "div", { class: "ng-header" }, [title, meta, explained]), error.el, progress, detail, gallery.el],
  );
  return { root, title, meta, explained, error, progress, bar, text, stop, detail, gallery };
}

/**
 * The gallery's view state and what changes it.
 * @param {WidgetModel} model
 * @param {ReturnType<typeof createGalleryView>} g
 */
function createGalleryController(model, g) {
  const offline = model.offline === true;
  let hovered = -1;
  /** @type {HTMLElement | null} */
  let region = null;

  const pinned = () => {
    const p = Number(model.get("selected_group"));
    return Number.isInteger(p) ? p : -1;
  };
  const groups = () => /** @type {GalleryGroup[]} */ (asArray(model.get("gallery")));

  function highlight() {
    const pin = pinned();
    const shown = hovered >= 0 ? hovered : pin;
    g.root.dataset.selected = String(shown);
    g.root.dataset.pinned = String(pin);
    g.gallery.highlight({ shown, pinned: pin, region });
  }

  return {
    /** Redraw from the model. */
    refresh() {
      const status = asString(model.get("status"));
      g.title.textContent = asString(model.get("title"));
      g.title.hidden = !g.title.textContent;
      const n = Number(model.get("n_images")) || 0;
      g.meta.textContent = [asString(model.get("model_name")), asString(model.get("layer")), `${groups().length} groups over ${n} images`]
        .filter(Boolean)
        .join(" · ");
      const share = asUnit(model.get("explained_variance"));
      g.explained.textContent = Number.isFinite(share) ? `The groups explain ${Math.round(share * 100)}% of the layer over the images` : "";
      g.explained.hidden = !g.explained.textContent;
      g.error.update({ state: { error: asString(model.get("error")) } });
      g.progress.hidden = offline || !(status === "optimizing" || status === "computing");
      const value = Number(model.get("progress")) || 0;
      g.bar.value = value;
      g.bar.setAttribute("aria-valuetext", `${Math.round(value * 100)}%`);
      g.text.textContent = asString(model.get("progress_text"));
      g.root.dataset.status = status;
      g.root.style.setProperty("--ng-icon-size", `${Math.max(16, Number(model.get("icon_size")) || 80)}px`);
      const stability = asArray(model.get("stability")).map(asUnit);
      g.gallery.update(groups(), asArray(model.get("group_colors")), asArray(model.get("icons")), stability);
      highlight();
    },
    /**
     * Show a group (-1: none) and a region (null: none; the detail line keeps the last read).
     * @param {number} j
     * @param {HTMLElement | null} node
     */
    hover(j, node) {
      hovered = j;
      region = node;
      if (node) {
        const r = groups()[Number(node.dataset.group)]?.regions?.[Number(node.dataset.index)];
        if (r) g.detail.textContent = regionText(r);
      }
      highlight();
    },
    /** @param {number} j */
    togglePin(j) {
      model.set("selected_group", pinned() === j ? -1 : j);
      model.save_changes();
    },
    stop() {
      g.stop.disabled = true;
      g.stop.textContent = "Stopping…";
      model.send({ type: "stop" });
    },
  };
}

/** @param {EventTarget | null} t @returns {HTMLElement | null} the region under t */
const regionAt = (t) => (t instanceof Element ? /** @type {HTMLElement | null} */ (t.closest(".ng-region")) : null);

/** @param {EventTarget | null} t @returns {number} the group of the row under t, -1 none */
const groupAt = (t) => {
  const row = t instanceof Element ? t.closest(".ng-gallery-group") : null;
  return row instanceof HTMLElement ? Number(row.dataset.group) : -1;
};

/**
 * Hover or focus shows a group and reads a region; click (on its tile or a region), Enter or
 * Space pins it; Stop stops.
 * @param {Wiring} wiring
 * @param {ReturnType<typeof createGalleryView>} g
 * @param {ReturnType<typeof createGalleryController>} ctl
 */
function bindGallery({ on }, g, ctl) {
  on(g.gallery.el, "mouseover", (e) => ctl.hover(groupAt(e.target), regionAt(e.target)));
  on(g.gallery.el, "mouseleave", () => ctl.hover(-1, null));
  on(g.gallery.el, "focusin", (e) => ctl.hover(groupAt(e.target), regionAt(e.target)));
  on(g.gallery.el, "click", (e) => {
    const j = groupAt(e.target);
    if (j >= 0 && e.target instanceof Element && e.target.closest(".ng-tile, .ng-region")) ctl.togglePin(j);
  });
  on(g.gallery.el, "keydown", (e) => {
    const j = groupAt(e.target);
    if (j >= 0 && (e.key === "Enter" || e.key === " ")) {
      e.preventDefault();
      ctl.togglePin(j);
    }
  });
  on(g.stop, "click", () => ctl.stop());
}

/**
 * The gallery view, in `el`, kept in sync with `model` (GalleryState).
 * @param {{ model: WidgetModel, el: HTMLElement }} ctx
 * @returns {() => void} cleanup
 */
export function renderGallery({ model, el }) {
  const doc = el.ownerDocument || document;
  const urls = new UrlBag();
  const g = createGalleryView(doc, urls);
  const ctl = createGalleryController(model, g);
  const wiring = createWiring();
  bindGallery(wiring, g, ctl);
  wiring.onModel(model, GALLERY_FIELDS, () => ctl.refresh());
  el.append(g.root);
  ctl.refresh();
  return function cleanup() {
    wiring.dispose();
    urls.revokeAll();
    g.root.remove();
  };
}
