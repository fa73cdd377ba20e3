/**
 * The curves of the multi-layer diagram (an SVG over its columns), their threshold control and
 * the tip that shows the hovered curve's value. `flow.js` tells it where the nodes are.
 *
 * DOM hooks (stable; browser and unit tests rely on them):
 *   svg.ng-curves > path.ng-curve  data-pair, data-from-layer, data-from, data-to-layer,
 *                                  data-to, data-value, data-fraction (|v| / pair max); <title>
 *                                  with the value; classes is-hidden (under the threshold),
 *                                  is-emphasized / is-faded (a group is shown), is-hovered;
 *                                  is-disagreeing + data-disagrees="true" (dashed; the
 *                                  explanation in its title) where linear and measured
 *                                  effects disagree in sign
 *   .ng-flow-tip                   the hovered curve's value
 *   .ng-flow-controls > .ng-threshold (range 0..1, view only), .ng-threshold-value
 *   the diagram (.ng-flow): data-curves (curves drawn), class has-focus while a group is shown
 */
/** @import { Flow } from "../data/tables.js" */
/** @import { Curve, NodeBox } from "../pure/curves.js" */
import { CLASSES_COLUMN, DISAGREEMENT_TEXT } from "../data/tables.js";
import { clamp01 } from "../data/values.js";
import { belowThreshold, curvePaths, DEFAULT_THRESHOLD } from "../pure/curves.js";
import { formatValue } from "../pure/format.js";
import { h } from "./dom.js";

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * Where the curves are drawn from: each column's layer name (the classes column last), the
 * nodes' boxes, and the name of a class node.
 * @typedef {object} CurveLayout
 * @property {Array<Flow | null>} flows  flows[p]: between columns p and p + 1
 * @property {NodeBox[][]} boxes         each column's nodes, in group order
 * @property {string[]} names            each column's layer name
 * @property {(col: number, i: number) => string | undefined} label  a class node's class
 */

/**
 * The path of a curve (its `d` is set by draw), with its value as a <title>.
 * @param {Document} doc
 * @param {Curve} c
 * @param {CurveLayout} at
 * @returns {SVGPathElement}
 */
function curveElement(doc, c, { names, label }) {
  const path = /** @type {SVGPathElement} */ (doc.createElementNS(SVG_NS, "path"));
  const toClass = names[c.pair + 1] === CLASSES_COLUMN;
  const from = `${names[c.pair]} group ${c.from}`;
  const to = toClass ? `“${label(c.pair + 1, c.to) ?? c.to}”` : `${names[c.pair + 1]} group ${c.to}`;
  const title = /** @type {SVGTitleElement} */ (doc.createElementNS(SVG_NS, "title"));
  const why = c.disagrees ? "\n" + DISAGREEMENT_TEXT : "";
  title.textContent = `${from} → ${to}: ${formatValue(c.value)}` + why;
  path.append(title);
  path.setAttribute("class", c.disagrees ? "ng-curve is-disagreeing" : "ng-curve");
  if (c.disagrees) path.dataset.disagrees = "true";
  path.setAttribute("fill", "none");
  path.setAttribute("stroke", c.color);
  path.setAttribute("stroke-width", String(Math.round(c.width * 100) / 100));
  Object.assign(path.dataset, {
    pair: String(c.pair),
    fromLayer: names[c.pair],
    from: String(c.from),
    toLayer: names[c.pair + 1],
    to: String(c.to),
    value: String(c.value),
    fraction: c.fraction.toFixed(3),
  });
  return path;
}

/**
 * The curves, the threshold control and the tip (the diagram places them).
 * @param {Document} doc
 * @param {HTMLElement} el the diagram the curves are drawn over
 * @param {string} uid
 */
export function createCurves(doc, el, uid) {
  const svg = /** @type {SVGSVGElement} */ (doc.createElementNS(SVG_NS, "svg"));
  svg.setAttribute("class", "ng-curves");
  svg.setAttribute("aria-hidden", "true");
  const tip = h(doc, "div", { class: "ng-flow-tip", role: "tooltip", hidden: true });
  const threshold = h(doc, "input", {
    class: "ng-threshold",
    id: `${uid}-threshold`,
    type: "range",
    min: 0,
    max: 1,
    step: 0.05,
    value: DEFAULT_THRESHOLD,
  });
  const thresholdValue = h(doc, "output", { class: "ng-threshold-value", for: threshold.id });
  const controls = h(doc, "div", { class: "ng-flow-controls", hidden: true }, [
    h(doc, "label", { for: threshold.id, text: "Hide curves under" }),
    threshold,
    thresholdValue,
  ]);
  /** @type {Curve[]} */
  let curves = [];
  /** @type {SVGPathElement[]} */
  let paths = [];
  let cut = DEFAULT_THRESHOLD;
  /** @type {{ col: number, group: number } | null} */
  let focus = null;

  /** Threshold and emphasis classes of the curves. */
  function applyClasses() {
    curves.forEach((c, i) => {
      const hidden = belowThreshold(c.fraction, cut);
      const touches =
        !!focus && ((c.pair === focus.col && c.from === focus.group) || (c.pair + 1 === focus.col && c.to === focus.group));
      const path = paths[i];
      path.classList.toggle("is-hidden", hidden);
      path.classList.toggle("is-emphasized", touches);
      path.classList.toggle("is-faded", !!focus && !touches);
    });
    el.classList.toggle("has-focus", !!focus);
    const shown = paths.filter((p) => !p.classList.contains("is-hidden")).length;
    el.dataset.curves = String(shown);
    thresholdValue.textContent = `${Math.round(cut * 100)}% of the largest (${shown} of ${paths.length} shown)`;
  }

  return {
    svg,
    tip,
    controls,
    threshold,
    /**
     * Recompute the curves from the flows and the nodes' places; (re)build the paths only when
     * the curves themselves changed.
     * @param {CurveLayout} at
     */
    draw(at) {
      const next = curvePaths(at.flows, at.boxes, cut);
      const same =
        next.length === curves.length &&
        next.every((c, i) => {
          const o = curves[i];
          return c.pair === o.pair && c.from === o.from && c.to === o.to && c.value === o.value && c.disagrees === o.disagrees;
        });
      curves = next;
      if (!same) {
        paths = curves.map((c) => curveElement(doc, c, at));
        svg.replaceChildren(...paths);
      }
      curves.forEach((c, i) => paths[i].setAttribute("d", c.d));
      svg.setAttribute("width", String(el.scrollWidth || 0));
      svg.setAttribute("height", String(el.scrollHeight || 0));
      applyClasses();
    },
    /** No columns: no curves. */
    clear() {
      curves = [];
      paths = [];
      svg.replaceChildren();
    },
    /** The columns were rebuilt: the next draw makes new paths. */
    forget() {
      paths = [];
      curves = [];
    },
    /** @param {number} t 0..1 */
    setThreshold(t) {
      cut = clamp01(t);
      applyClasses();
    },
    /**
     * Emphasize the curves of a group (null: none).
     * @param {{ col: number, group: number } | null} group
     * @param {boolean} drawn whether there are columns (else nothing to restyle)
     */
    setFocus(group, drawn) {
      focus = group;
      if (drawn) applyClasses();
    },
    /**
     * Show the value of a curve next to the pointer (null hides it).
     * @param {Element | null} path
     * @param {number} [x] clientX
     * @param {number} [y] clientY
     */
    showTip(path, x = 0, y = 0) {
      const i = path ? paths.indexOf(/** @type {SVGPathElement} */ (path)) : -1;
      for (const p of paths) p.classList.toggle("is-hovered", p === path);
      if (i < 0) {
        tip.hidden = true;
        return;
      }
      tip.textContent = paths[i].querySelector("title")?.textContent ?? "";
      const base = el.getBoundingClientRect();
      tip.style.left = `${Math.round(x - base.left + 12)}px`;
      tip.style.top = `${Math.max(0, Math.round(y - base.top - 30))}px`;
      tip.hidden = false;
    },
  };
}
