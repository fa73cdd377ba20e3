/**
 * The columns of the multi-layer diagram: one per layer, input to output, each a head (the
 * layer's name and its count control) over its tiles (the last layer's are the widget's own
 * tiles), then a column of the table's classes.
 *
 * DOM hooks (stable; browser and unit tests rely on them):
 *   .ng-column[data-layer]         one per layer, input to output, then data-layer="classes";
 *                                  class has-selection on the shown group's column
 *     .ng-column-head              .ng-column-name, and .ng-layer-groups[data-layer] (select:
 *                                  an earlier layer's sends layer_groups, the last's n_groups)
 *                                  or .ng-layer-count (one count), then the layer's
 *                                  .ng-explained[data-layer] (components/variance.js)
 *     .ng-tile[data-layer][data-group]  as in tiles.js, every layer; .ng-class-node[data-class]
 */
/** @import { LayerColumn } from "../data/decode.js" */
/** @import { NodeBox } from "../pure/curves.js" */
/** @import { UrlBag } from "./dom.js" */
/** @import { Scene, Selection } from "./scene.js" */
import { CLASSES_COLUMN } from "../data/tables.js";
import { groupCounts } from "../pure/controls.js";
import { h } from "./dom.js";
import { createTiles } from "./tiles.js";
import { createVarianceCurve } from "./variance.js";

/**
 * @typedef {object} ColumnView
 * @property {string} layer
 * @property {HTMLElement} el
 * @property {HTMLElement} head
 * @property {ReturnType<typeof createTiles> | null} tiles  null for the classes column
 * @property {HTMLElement[]} classNodes                      the classes column's nodes
 * @property {ReturnType<typeof createVarianceCurve> | null} curve  null for the classes column
 * @property {boolean} enabled                               whether its count can change
 */

/**
 * The count control of a column: a select of its counts, or its count as text.
 * @param {Document} doc
 * @param {string} layer
 * @param {number} count
 * @param {number[]} options
 * @param {boolean} enabled
 */
function countControl(doc, layer, count, options, enabled) {
  const counts = groupCounts(options, count);
  if (counts.length < 2) {
    return h(doc, "span", { class: "ng-layer-count", text: `${count} group${count === 1 ? "" : "s"}` });
  }
  const select = h(
    doc,
    "select",
    { class: "ng-layer-groups", "data-layer": layer, "aria-label": `Groups at ${layer}`, disabled: !enabled },
    counts.map((c) => h(doc, "option", { value: c, text: `${c} groups` })),
  );
  select.value = String(count);
  return select;
}

/**
 * The column of the table's classes.
 * @param {Document} doc
 * @param {string[]} classNames
 * @returns {ColumnView}
 */
function classesColumn(doc, classNames) {
  const classNodes = classNames.map((name, i) =>
    h(doc, "div", { class: "ng-class-node", "data-class": name, "data-row": i, title: name, text: name }),
  );
  const head = h(doc, "div", { class: "ng-column-head" }, [h(doc, "span", { class: "ng-column-name", text: "Classes" })]);
  const node = h(doc, "div", { class: "ng-column ng-column-classes", "data-layer": CLASSES_COLUMN }, [
    head,
    h(doc, "div", { class: "ng-class-nodes" }, classNodes),
  ]);
  return { layer: CLASSES_COLUMN, el: node, head, tiles: null, classNodes, curve: null, enabled: false };
}

/**
 * The columns of the diagram (built again only when the layers or classes change).
 * @param {Document} doc
 * @param {UrlBag} urls
 * @param {ReturnType<typeof createTiles>} lastTiles
 */
export function createColumns(doc, urls, lastTiles) {
  const el = h(doc, "div", { class: "ng-columns" });
  /** @type {ColumnView[]} earlier layers, then the last, then the classes */
  let views = [];
  let builtKey = "";
  /** @type {string[]} layer name of each column (the classes column last) */
  let names = [];

  /**
   * @param {LayerColumn} column
   * @param {boolean} last
   * @param {boolean} enabled
   * @returns {ColumnView}
   */
  function layerColumn(column, last, enabled) {
    const tiles = last ? lastTiles : createTiles(doc, urls, `icon:${column.layer}:`);
    const curve = createVarianceCurve(doc);
    const head = h(doc, "div", { class: "ng-column-head" }, [
      h(doc, "span", { class: "ng-column-name", text: column.layer }),
      countControl(doc, column.layer, column.count, column.options, enabled),
      curve.el,
    ]);
    const node = h(doc, "div", { class: "ng-column", "data-layer": column.layer }, [head, tiles.el]);
    return { layer: column.layer, el: node, head, tiles, classNodes: [], curve, enabled };
  }

  /** @param {ColumnView} view @returns {HTMLElement[]} */
  const nodesOf = (view) => (view.tiles ? view.tiles.nodes() : view.classNodes);

  /** Forget the URLs of the earlier layers' icons (their columns are going). */
  function disposeTiles() {
    for (const v of views) if (v.tiles && v.tiles !== lastTiles) v.tiles.dispose();
  }

  return {
    el,
    /** @returns {boolean} whether there are no columns (the single-layer view) */
    empty() {
      return views.length === 0;
    },
    /** @returns {string[]} each column's layer name, the classes column last */
    names() {
      return names.slice();
    },
    /** @param {number} col @param {number} group */
    focusTile(col, group) {
      views[col]?.tiles?.focus(group);
    },
    /** @param {number} col @param {number} i @returns {string | undefined} a class node's class */
    label(col, i) {
      return nodesOf(views[col])[i]?.dataset.class;
    },
    /**
     * Node boxes relative to the diagram (all zeros where nothing is laid out).
     * @param {HTMLElement} diagram
     * @returns {NodeBox[][]}
     */
    measure(diagram) {
      const base = diagram.getBoundingClientRect();
      const x0 = base.left - diagram.scrollLeft;
      const y0 = base.top - diagram.scrollTop;
      return views.map((view) =>
        nodesOf(view).map((node) => {
          const r = node.getBoundingClientRect();
          return { left: r.left - x0, right: r.right - x0, y: r.top + r.height / 2 - y0 };
        }),
      );
    },
    /**
     * Build the columns again when the layers, their counts or the classes changed.
     * @param {Scene} s
     * @returns {boolean} whether they were rebuilt
     */
    build({ columns, data, kernel }) {
      const key = JSON.stringify([
        columns.map((c) => [c.layer, c.count, c.options, c.data.n]),
        data.classNames,
        kernel,
      ]);
      if (key === builtKey) return false;
      builtKey = key;
      disposeTiles();
      views = columns.map((c, i) => layerColumn(c, i === columns.length - 1, kernel));
      views.push(classesColumn(doc, data.classNames));
      names = views.map((v) => v.layer);
      el.replaceChildren(...views.map((v) => v.el));
      return true;
    },
    /**
     * Show each layer's groups, icons and explained variance in its column.
     * @param {Scene} s
     */
    show({ columns }) {
      columns.forEach((c, i) => {
        const { tiles, curve, enabled } = views[i];
        tiles?.show(c, true);
        curve?.update({
          layer: c.layer,
          // The share sent belongs to the groups shown: not yet to a count just chosen.
          explained: c.data.n === c.count ? c.explained : NaN,
          byK: c.explainedByK,
          count: c.count,
          choosable: enabled ? groupCounts(c.options, c.count) : [],
        });
      });
    },
    /** Remove every column (back to the single-layer view). */
    clear() {
      disposeTiles();
      views = [];
      names = [];
      builtKey = "";
      el.replaceChildren();
    },
    /**
     * @param {Selection} sel
     * @param {number} col column of the shown group, -1 none
     */
    highlight(sel, col) {
      views.forEach((v, i) => {
        if (!v.tiles || v.tiles === lastTiles) return;
        const shown = sel.shownRef && sel.shownRef.layer === v.layer ? sel.shownRef.group : -1;
        const pinned = sel.pinnedRef && sel.pinnedRef.layer === v.layer ? sel.pinnedRef.group : -1;
        v.tiles.highlight({ shown, pinned });
        v.el.classList.toggle("has-selection", i === col);
      });
    },
  };
}
