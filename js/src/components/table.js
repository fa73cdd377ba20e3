/**
 * The class x group attribution table (the last layer's).
 *
 * DOM hooks (stable; browser and unit tests rely on them):
 *   .ng-table                      th[data-group] (column header with .ng-swatch) and
 *                                  td[data-group][data-class]; is-selected / is-pinned on the
 *                                  shown group's column; faded like the tiles while probing
 */
/** @import { GroupData } from "../data/decode.js" */
/** @import { Scene, Selection } from "./scene.js" */
import { attributionColor, cssColor } from "../pure/colors.js";
import { formatValue } from "../pure/format.js";
import { fadeOpacity } from "../pure/pixels.js";
import { h } from "./dom.js";

/**
 * The class x group attribution table.
 * @param {Document} doc
 */
export function createTable(doc) {
  const thead = h(doc, "thead");
  const tbody = h(doc, "tbody");
  const table = h(doc, "table", { class: "ng-table" }, [
    h(doc, "caption", { text: "Effect of neuron groups on output classes" }),
    thead,
    tbody,
  ]);
  const el = h(doc, "div", { class: "ng-table-wrap" }, [table]);
  /** @type {HTMLElement[][]} header + cells per group */
  let columns = [];
  /** @type {GroupData | null} */
  let built = null;

  /** @param {GroupData} d */
  function build(d) {
    const { n, rgb, classNames, attributions, maxAbs } = d;
    columns = [];
    const head = h(doc, "tr", {}, [h(doc, "th", { class: "ng-corner", scope: "col", text: "Class" })]);
    for (let j = 0; j < n; j++) {
      const swatch = h(doc, "span", { class: "ng-swatch", "aria-hidden": "true" });
      swatch.style.background = cssColor(rgb[j]);
      const th = h(
        doc,
        "th",
        { scope: "col", "data-group": j, "aria-label": `Group ${j}`, title: `Group ${j}: hover to isolate, click to pin` },
        [swatch, h(doc, "span", { class: "ng-col-label", text: String(j) })],
      );
      head.append(th);
      columns.push([th]);
    }
    thead.replaceChildren(head);
    const rows = classNames.map((name, i) => {
      const tr = h(doc, "tr", {}, [h(doc, "th", { class: "ng-class-name", scope: "row", text: name })]);
      for (let j = 0; j < n; j++) {
        const v = attributions ? attributions[i * n + j] : NaN;
        const td = h(doc, "td", {
          "data-group": j,
          "data-class": name,
          "data-value": Number.isFinite(v) ? String(v) : null,
          title: Number.isFinite(v)
            ? `Effect of group ${j} on "${name}": ${Number(v.toPrecision(7))}`
            : `No attribution for group ${j} on "${name}"`,
          text: formatValue(v),
        });
        td.classList.add(v > 0 ? "is-positive" : v < 0 ? "is-negative" : "is-zero");
        td.style.background = attributionColor(v, maxAbs);
        tr.append(td);
        columns[j].push(td);
      }
      return tr;
    });
    if (rows.length === 0) {
      rows.push(
        h(doc, "tr", {}, [h(doc, "td", { class: "ng-empty", colspan: n + 1, text: "No classes to show yet." })]),
      );
    }
    tbody.replaceChildren(...rows);
  }

  return {
    el,
    table,
    /** @param {Scene} s */
    update({ data }) {
      if (data === built) return;
      built = data;
      build(data);
    },
    /** @param {Selection} sel */
    highlight({ shown, pinned, shares }) {
      columns.forEach((cells, j) => {
        const opacity = shares ? String(fadeOpacity(shares[j])) : "";
        for (const c of cells) {
          c.classList.toggle("is-selected", j === shown);
          c.classList.toggle("is-pinned", j === pinned);
          c.style.opacity = opacity;
        }
      });
    },
  };
}
