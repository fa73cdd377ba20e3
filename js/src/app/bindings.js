/**
 * The widget's DOM listeners, by area; each calls the controller. `bindWidget` attaches them
 * all through one `Wiring` (which removes them on cleanup).
 */
/** @import { WidgetModel } from "../data/contract.js" */
/** @import { createController } from "./controller.js" */
/** @import { createView } from "./view.js" */
/** @import { Wiring } from "./wiring.js" */
import { readState } from "../data/contract.js";
import { cellAt } from "../pure/pixels.js";

/** @typedef {ReturnType<typeof createView>} View */
/** @typedef {ReturnType<typeof createController>} Controller */

/** @type {Record<string, number>} keys that move the focus between tiles (single-layer view) */
const TILE_MOVES = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1, Home: -Infinity, End: Infinity };

/**
 * Tiles of every layer (all inside the diagram): hover or focus isolates, click/Enter/Space
 * pins, arrows move the focus (along the row in the single-layer view; within a column and
 * across columns in the multi-layer view).
 * @param {Wiring} wiring
 * @param {View} v
 * @param {Controller} ctl
 */
function bindTiles({ on }, { parts: { flow, tiles } }, ctl) {
  /** @param {EventTarget | null} t */
  const tileRef = (t) => ctl.refAt(t, ".ng-tile", flow.el);
  on(flow.el, "mouseover", (e) => {
    const r = tileRef(e.target);
    if (r) ctl.hover(r);
  });
  on(tiles.el, "mouseleave", () => ctl.hover(null));
  on(flow.el, "mouseleave", () => ctl.hover(null));
  on(flow.el, "click", (e) => {
    const r = tileRef(e.target);
    if (r) ctl.togglePin(r);
  });
  on(flow.el, "focusin", (e) => {
    const r = tileRef(e.target);
    if (r) ctl.hover(r);
  });
  on(flow.el, "focusout", (e) => {
    if (!tileRef(e.relatedTarget)) ctl.hover(null);
  });
  on(flow.el, "keydown", (e) => {
    const r = tileRef(e.target);
    if (!r || e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.key === "Enter" || e.key === " " || e.key === "Spacebar") {
      e.preventDefault();
      ctl.togglePin(r);
    } else if (ctl.multi()) {
      const to = ctl.moveFrom(r, e.key);
      if (!to) return;
      e.preventDefault();
      flow.focusTile(to.col, to.group);
    } else if (e.key in TILE_MOVES) {
      e.preventDefault();
      const n = ctl.groupCount();
      const d = TILE_MOVES[e.key];
      tiles.focus(d === Infinity ? n - 1 : d === -Infinity ? 0 : (r.group + d + n) % n);
    }
  });
}

/**
 * Curves: hovering one shows its value; the threshold hides the small ones; a column's count;
 * the curves follow the diagram's size.
 * @param {Wiring} wiring
 * @param {View} v
 * @param {Controller} ctl
 */
function bindCurves({ on, onResize }, { parts: { flow } }, ctl) {
  on(flow.svg, "mousemove", (e) => {
    const path = e.target instanceof Element ? e.target.closest(".ng-curve") : null;
    flow.showTip(path, e.clientX, e.clientY);
  });
  on(flow.svg, "mouseleave", () => flow.showTip(null));
  on(flow.threshold, "input", () => flow.setThreshold(Number(flow.threshold.value)));
  on(flow.el, "change", (e) => {
    const select = e.target instanceof HTMLSelectElement && e.target.matches(".ng-layer-groups") ? e.target : null;
    if (select) ctl.chooseLayerGroups(select.dataset.layer ?? "", Number(select.value));
  });
  onResize(flow.el, () => flow.layout());
}

/**
 * Table: a column header or cell isolates its group (of the last layer); click pins. Panels:
 * probing a cell shows the reticle and fades groups by their share of it.
 * @param {Wiring} wiring
 * @param {View} v
 * @param {Controller} ctl
 */
function bindTableAndPanels({ on }, { parts: { table, panels } }, ctl) {
  const tableRef = (/** @type {EventTarget | null} */ t) => ctl.refAt(t, "[data-group]", table.table);
  on(table.table, "mouseover", (e) => ctl.hover(tableRef(e.target)));
  on(table.table, "mouseleave", () => ctl.hover(null));
  on(table.table, "click", (e) => {
    const r = tableRef(e.target);
    if (r) ctl.togglePin(r);
  });

  on(panels.el, "mouseenter", () => ctl.hover(null));
  on(panels.el, "mousemove", (e) => {
    const panel = e.target instanceof Element ? e.target.closest(".ng-panel") : null;
    if (!panel) return ctl.probe(null);
    const { h: rows, w: cols } = ctl.mapSize();
    ctl.probe(cellAt(e.clientX, e.clientY, panel.getBoundingClientRect(), rows, cols));
  });
  on(panels.el, "mouseleave", () => ctl.probe(null));
  on(panels.image, "load", () => panels.fitImage());
}

/**
 * Escape unpins (and clears hover) anywhere in the widget except text fields. Keys pressed in
 * the widget stop here: notebooks bind single keys to commands at the document (in
 * JupyterLab's command mode "d d" deletes the cell, "b" inserts one), and a
 * data-lm-suppress-shortcuts attribute on the root is not enough, as Lumino checks the focused
 * element first.
 * @param {Wiring} wiring
 * @param {View} v
 * @param {Controller} ctl
 */
function bindKeys({ on }, { root }, ctl) {
  on(root, "keydown", (e) => {
    e.stopPropagation();
    if (e.key !== "Escape") return;
    const target = e.target;
    if (target instanceof HTMLInputElement && target.type === "text" && target.value) return;
    if (ctl.escape()) e.preventDefault();
  });
}

/**
 * The groups control (the slider commits on release / keyboard step, the select on change),
 * the class picker and its chips, and Stop.
 * @param {Wiring} wiring
 * @param {WidgetModel} model
 * @param {View} v
 * @param {Controller} ctl
 */
function bindControls({ on }, model, { parts: { groups, classes, status } }, ctl) {
  on(groups.input, "input", () => groups.preview());
  on(groups.input, "change", () => ctl.chooseGroups(groups.chosen()));
  on(groups.select, "change", () => ctl.chooseGroups(groups.chosen()));

  on(classes.input, "keydown", (e) => {
    const input = classes.input;
    if (e.key === "Enter") {
      e.preventDefault();
      ctl.addClass(input.value);
    } else if (e.key === "Escape" && input.value) {
      input.value = "";
    } else if (e.key === "Backspace" && !input.value) {
      ctl.removeClass(-1);
    }
  });
  on(classes.input, "input", (e) => {
    // A pick from the datalist arrives as an input event that is not typing.
    const picked = !("inputType" in e) || e.inputType === "insertReplacementText";
    if (picked) {
      if (readState(model).class_options.includes(classes.input.value)) ctl.addClass(classes.input.value);
    } else if (classes.input.hasAttribute("aria-invalid")) {
      classes.say("");
    }
  });
  on(classes.add, "click", () => ctl.addClass(classes.input.value));
  on(classes.chips, "click", (e) => {
    const btn = e.target instanceof Element ? e.target.closest(".ng-chip-remove") : null;
    const chip = btn?.closest(".ng-chip");
    if (chip instanceof HTMLElement) ctl.removeClass(Number(chip.dataset.index));
  });

  on(status.stop, "click", () => ctl.stop());
}

/**
 * The method switch; a click on a point of an explained-variance curve (beside the groups
 * control, or in a column's head) chooses that count.
 * @param {Wiring} wiring
 * @param {View} v
 * @param {Controller} ctl
 */
function bindQuality({ on }, { root, parts: { methods } }, ctl) {
  on(methods.el, "change", (e) => {
    if (e.target instanceof HTMLInputElement && e.target.checked) ctl.chooseMethod(e.target.value);
  });
  on(root, "click", (e) => {
    const point = e.target instanceof Element ? e.target.closest(".ng-ev-point.is-choosable") : null;
    const curve = point?.closest(".ng-ev-curve");
    if (point && curve instanceof SVGElement) {
      ctl.chooseLayerGroups(curve.dataset.layer ?? "", Number(point.getAttribute("data-k")));
    }
  });
}

/**
 * Whether a drag carries files.
 * @param {DragEvent} e
 */
function draggingFiles(e) {
  const types = e.dataTransfer?.types;
  return !!types && Array.from(types).includes("Files");
}

/**
 * Image picker: an example, an upload, or a file dropped anywhere on the widget.
 * @param {Wiring} wiring
 * @param {View} v
 * @param {Controller} ctl
 */
function bindImage({ on }, { root, parts: { image } }, ctl) {
  on(image.select, "change", () => ctl.chooseImage(image.select.value));
  on(image.upload, "click", () => image.file.click());
  on(image.file, "change", () => {
    const file = image.file.files?.[0];
    if (file) ctl.sendImageFile(file);
    image.file.value = "";
  });
  on(root, "dragover", (e) => {
    if (!draggingFiles(e) || !ctl.canSendImage()) return;
    e.preventDefault(); // accept the drop, and keep it from the notebook around the widget
    e.stopPropagation();
    if (e.dataTransfer) e.dataTransfer.dropEffect = "copy";
    root.classList.add("is-dropping");
  });
  on(root, "dragleave", (e) => {
    if (!(e.relatedTarget instanceof Node && root.contains(e.relatedTarget))) root.classList.remove("is-dropping");
  });
  on(root, "drop", (e) => {
    root.classList.remove("is-dropping");
    const file = e.dataTransfer?.files?.[0];
    if (!file || !ctl.canSendImage()) return;
    e.preventDefault();
    e.stopPropagation();
    ctl.sendImageFile(file);
  });
}

/**
 * Attach every DOM listener of the widget.
 * @param {Wiring} wiring
 * @param {WidgetModel} model
 * @param {View} v
 * @param {Controller} ctl
 */
export function bindWidget(wiring, model, v, ctl) {
  bindTiles(wiring, v, ctl);
  bindCurves(wiring, v, ctl);
  bindTableAndPanels(wiring, v, ctl);
  bindKeys(wiring, v, ctl);
  bindControls(wiring, model, v, ctl);
  bindImage(wiring, v, ctl);
  bindQuality(wiring, v, ctl);
}
