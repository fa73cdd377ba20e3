/**
 * How much of a layer its groups explain, beside its count control: the share as text
 * ("72% explained") and, once measured, a small curve of it over group counts with the
 * current count marked; a click on a point of an offered count chooses that count.
 *
 * DOM hooks (stable; browser and unit tests rely on them):
 *   .ng-explained[data-layer]      hidden while nothing is known; data-value (the share shown)
 *     svg.ng-ev-curve              hidden until explained_variance_by_k arrives; data-layer
 *       path.ng-ev-line, circle.ng-ev-point[data-k] (<title>; class is-choosable where a click
 *       chooses that count), circle.ng-ev-current[data-k] (the current count)
 *     .ng-ev-text                  "72% explained"
 */
import { CURVE_HEIGHT, CURVE_WIDTH, explainedAt, explainedText, varianceCurve } from "../pure/variance.js";
import { h } from "./dom.js";

const SVG_NS = "http://www.w3.org/2000/svg";

/** What the share is (the tooltip). */
const EXPLAINED_TIP =
  "Share of the layer's activations the groups explain (1 - |a - R|² / |a|², R: the groups' reconstruction); " +
  "the curve: by number of groups, the current one marked";

/**
 * An SVG element with attributes.
 * @param {Document} doc
 * @param {string} tag
 * @param {Record<string, string | number>} attrs
 * @returns {SVGElement}
 */
function svgNode(doc, tag, attrs) {
  const node = /** @type {SVGElement} */ (doc.createElementNS(SVG_NS, tag));
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

/**
 * What one curve shows.
 * @typedef {object} VarianceView
 * @property {string} layer       the layer's name (a click chooses a count of this layer)
 * @property {number} explained   the share at the current count (NaN unknown)
 * @property {number[]} byK       entry k-1 for k groups ([] until measured)
 * @property {number} count       the current count
 * @property {number[]} choosable the counts a click may choose
 */

/** @param {Document} doc */
export function createVarianceCurve(doc) {
  const svg = /** @type {SVGSVGElement} */ (
    svgNode(doc, "svg", {
      class: "ng-ev-curve",
      viewBox: `0 0 ${CURVE_WIDTH} ${CURVE_HEIGHT}`,
      width: CURVE_WIDTH,
      height: CURVE_HEIGHT,
      role: "img",
    })
  );
  const line = svgNode(doc, "path", { class: "ng-ev-line", fill: "none" });
  const dots = svgNode(doc, "g", { class: "ng-ev-points" });
  const current = svgNode(doc, "circle", { class: "ng-ev-current", r: 3.5 });
  svg.append(line, dots, current);
  const text = h(doc, "span", { class: "ng-ev-text" });
  const el = h(doc, "span", { class: "ng-explained", title: EXPLAINED_TIP, hidden: true }, [svg, text]);
  let builtKey = "";

  /** @param {VarianceView} v */
  function draw({ byK, count, choosable }) {
    const { points, d, current: at } = varianceCurve(byK, count);
    svg.toggleAttribute("hidden", points.length === 0);
    line.setAttribute("d", d);
    dots.replaceChildren(
      ...points.map((p) => {
        const dot = svgNode(doc, "circle", { class: "ng-ev-point", cx: p.x, cy: p.y, r: 2.5, "data-k": p.k });
        dot.classList.toggle("is-choosable", p.k !== count && choosable.includes(p.k));
        const title = svgNode(doc, "title", {});
        title.textContent = `${p.k} group${p.k === 1 ? "" : "s"}: ${explainedText(p.value)}`;
        dot.append(title);
        return dot;
      }),
    );
    current.toggleAttribute("hidden", !at);
    current.setAttribute("cx", String(at?.x ?? 0));
    current.setAttribute("cy", String(at?.y ?? 0));
    current.setAttribute("data-k", String(count));
    const summary = points.map((p) => `${p.k}: ${Math.round(p.value * 100)}%`).join(", ");
    svg.setAttribute("aria-label", `Explained variance by number of groups (${summary}); now ${count}`);
  }

  return {
    el,
    svg,
    /** @param {VarianceView} v */
    update(v) {
      const value = explainedAt(v.explained, v.byK, v.count);
      text.textContent = explainedText(value);
      el.hidden = !text.textContent && !v.byK.some(Number.isFinite);
      el.dataset.layer = v.layer;
      svg.dataset.layer = v.layer;
      if (Number.isFinite(value)) el.dataset.value = String(value);
      else delete el.dataset.value;
      const key = JSON.stringify([v.byK.map((x) => (Number.isFinite(x) ? x : null)), v.count, v.choosable]);
      if (key === builtKey) return;
      builtKey = key;
      draw(v);
    },
  };
}
