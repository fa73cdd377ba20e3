/**
 * What is shown without recomputation: the hovered group (of any layer), the pinned one (the
 * model's `selected_layer` and `selected_group`) and the probed map cell, and the actions
 * that change them. The references are checked against the scene: a group that is not shown
 * now is no reference.
 */
/** @import { Ref, Scene, Selection } from "../components/scene.js" */
/** @import { WidgetModel } from "../data/contract.js" */
/** @import { Cell } from "../pure/pixels.js" */
/** @import { createView } from "./view.js" */
import { asString } from "../data/values.js";
import { moveAcrossColumns } from "../pure/curves.js";
import { cellShares } from "../pure/pixels.js";

/**
 * The view's own state: what is hovered and probed; what is pinned is the model's.
 * @typedef {object} ViewState
 * @property {Ref | null} hovered
 * @property {Cell | null} probe
 * @property {boolean} stopping  Stop was pressed and the kernel is still optimising
 * @property {boolean} pending   an image was sent; the kernel has not answered yet
 * @property {Ref | null} pinned (selected_layer, selected_group) when it is a group shown now
 */

/**
 * What the controller's actions share.
 * @typedef {object} Context
 * @property {WidgetModel} model
 * @property {ReturnType<typeof createView>} v
 * @property {ViewState} view
 * @property {() => Scene} current  the scene shown now
 * @property {(changed: Set<string>, fromModel?: boolean) => void} refresh
 * @property {() => void} highlight  show the view state (no recomputation)
 * @property {(on: boolean) => void} setPending
 * @property {() => boolean} kernel  whether a kernel can take an image
 */

/**
 * The group a layer (its name; "" = the last layer) and an index name, if it is shown now.
 * @param {Scene} scene
 * @param {string} layer
 * @param {number} j
 * @returns {Ref | null}
 */
export function refIn({ columns }, layer, j) {
  const column = layer === "" ? columns[columns.length - 1] : columns.find((c) => c.layer === layer);
  return column && Number.isInteger(j) && j >= 0 && j < column.data.n ? { layer: column.layer, group: j } : null;
}

/**
 * @param {Scene} scene
 * @param {string} layer
 * @returns {number} its column, -1 when it has none
 */
export function columnOf({ columns }, layer) {
  return columns.findIndex((c) => c.layer === layer);
}

/**
 * @param {Scene} scene
 * @param {Ref | null} r
 * @returns {boolean} whether it is a group of the last layer
 */
const isLast = ({ state }, r) => !!r && r.layer === state.layer;

/** @param {Ref | null} a @param {Ref | null} b */
const same = (a, b) => (a === null ? b === null : !!b && a.layer === b.layer && a.group === b.group);

/**
 * The group shown (hovered, else pinned) and the probed cell with each group's share of it.
 * @param {Scene} scene
 * @param {ViewState} view
 * @returns {Selection}
 */
export function selectionOf(scene, view) {
  const { spatial, n, h: rows, w: cols } = scene.data;
  const pinnedRef = view.pinned;
  const shownRef = view.hovered ?? pinnedRef;
  const cell = view.probe;
  const probing = !!(cell && spatial && cell.row < rows && cell.col < cols);
  return {
    shown: shownRef && isLast(scene, shownRef) ? shownRef.group : -1,
    pinned: pinnedRef && isLast(scene, pinnedRef) ? pinnedRef.group : -1,
    cell: probing ? cell : null,
    shares: probing && cell && spatial ? cellShares(spatial, n, rows, cols, cell) : null,
    shownRef,
    pinnedRef,
  };
}

/**
 * Hover, pin and probe.
 * @param {Context} ctx
 */
export function createSelectionActions({ model, view, current, highlight }) {
  /**
   * Pin a group (null: unpin): selected_layer ("" for the last layer) and selected_group, saved
   * together.
   * @param {Ref | null} r
   */
  function pin(r) {
    const layer = r && !isLast(current(), r) ? r.layer : "";
    const group = r ? r.group : -1;
    const oldLayer = asString(model.get("selected_layer"));
    const changed = oldLayer !== layer || Number(model.get("selected_group")) !== group;
    if (!changed) return;
    if (oldLayer !== layer) model.set("selected_layer", layer);
    model.set("selected_group", group);
    model.save_changes();
  }

  return {
    /**
     * The group a tile or table element shows (closest [data-group] inside `scope`), or null.
     * @param {EventTarget | null} target
     * @param {string} selector
     * @param {Element} scope
     * @returns {Ref | null}
     */
    refAt(target, selector, scope) {
      if (!(target instanceof Element)) return null;
      const node = /** @type {HTMLElement | null} */ (target.closest(selector));
      if (!node || !scope.contains(node)) return null;
      const layer = node.dataset.layer;
      const scene = current();
      return refIn(scene, layer && layer !== scene.state.layer ? layer : "", Number(node.dataset.group));
    },
    /** @param {Ref | null} r group, null none */
    hover(r) {
      if (same(view.hovered, r)) return;
      view.hovered = r;
      highlight();
    },
    /** @param {Ref} r */
    togglePin(r) {
      pin(same(view.pinned, r) ? null : r);
      highlight();
    },
    /** Escape: unpin (and clear the hover); true when something was unpinned. */
    escape() {
      view.hovered = null;
      const unpin = view.pinned !== null;
      if (unpin) pin(null);
      highlight();
      return unpin;
    },
    /** @param {Cell | null} cell */
    probe(cell) {
      const old = view.probe;
      if (old === cell || (old && cell && old.row === cell.row && old.col === cell.col)) return;
      view.probe = cell;
      highlight();
    },
    /**
     * Where the focus goes from a group for a key (multi-layer view), or null.
     * @param {Ref} r
     * @param {string} key
     * @returns {{ col: number, group: number } | null}
     */
    moveFrom(r, key) {
      const scene = current();
      return moveAcrossColumns(key, columnOf(scene, r.layer), r.group, scene.columns.map((c) => c.data.n));
    },
  };
}
