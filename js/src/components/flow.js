/**
 * The multi-layer diagram: one column of group tiles per layer, left to right (the last one
 * holds the last layer's `.ng-tiles`), then a column of the table's classes; curves between
 * neighbouring columns (in the table's method), and a threshold control. In the single-layer view it holds the last
 * layer's tiles only and takes no box (display: contents), so that view is unchanged.
 *
 * DOM hooks (stable; browser and unit tests rely on them; see also flow-columns.js and
 * flow-curves.js):
 *   .ng-flow                       the last layer's tiles; class is-single (no box) in the
 *                                  single-layer view; in the multi-layer view also data-curves
 *                                  (curves drawn), class has-focus while a group is shown
 */
/** @import { Flow } from "../data/tables.js" */
/** @import { UrlBag } from "./dom.js" */
/** @import { Scene, Selection } from "./scene.js" */
/** @import { createTiles } from "./tiles.js" */
import { columnFlows } from "../data/tables.js";
import { h } from "./dom.js";
import { createColumns } from "./flow-columns.js";
import { createCurves } from "./flow-curves.js";

/**
 * @param {Document} doc
 * @param {UrlBag} urls
 * @param {ReturnType<typeof createTiles>} lastTiles
 * @param {string} uid
 */
export function createFlow(doc, urls, lastTiles, uid) {
  const el = h(doc, "div", { class: "ng-flow is-single" });
  const curves = createCurves(doc, el, uid);
  const columns = createColumns(doc, urls, lastTiles);
  el.append(curves.svg, columns.el, curves.tip, lastTiles.el);
  /** @type {Array<Flow | null>} */
  let flows = [];

  /** Recompute the curves from the flows and the nodes' places. */
  function layout() {
    if (columns.empty()) {
      curves.clear();
      return;
    }
    curves.draw({ flows, boxes: columns.measure(el), names: columns.names(), label: columns.label });
  }

  /** Back to the single-layer view: no columns, the last layer's tiles alone. */
  function showSingle() {
    if (columns.empty()) return;
    columns.clear();
    flows = [];
    el.append(lastTiles.el);
    layout();
  }

  return {
    el,
    controls: curves.controls,
    threshold: curves.threshold,
    svg: curves.svg,
    focusTile: columns.focusTile,
    setThreshold: curves.setThreshold,
    showTip: curves.showTip,
    layout,
    /** @param {Scene} s */
    update(s) {
      el.classList.toggle("is-single", !s.multi);
      curves.svg.style.display = s.multi ? "" : "none";
      curves.controls.hidden = !s.multi;
      if (!s.multi) {
        showSingle();
        return;
      }
      if (columns.build(s)) curves.forget();
      columns.show(s);
      flows = columnFlows(columns.names(), s.state.flows, s.table);
      layout();
    },
    /**
     * @param {Selection} sel
     * @param {number} col column of the shown group, -1 none
     */
    highlight(sel, col) {
      columns.highlight(sel, col);
      curves.setFocus(sel.shownRef && col >= 0 ? { col, group: sel.shownRef.group } : null, !columns.empty());
    },
  };
}
