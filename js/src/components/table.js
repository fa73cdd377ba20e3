/**
 * The class x group table (the last layer's), in the method shown, with the rest column for
 * integrated gradients and a mark on the cells where the linear attribution and the measured
 * effect disagree in sign.
 *
 * DOM hooks (stable; browser and unit tests rely on them):
 *   .ng-table                      data-method (the method shown; "" for an older state);
 *                                  caption (names the method); th[data-group] (column header
 *                                  with .ng-swatch) and td[data-group][data-class]; is-selected
 *                                  / is-pinned on the shown group's column; faded like the
 *                                  tiles while probing
 *     td.has-disagreement          data-disagrees="true", the explanation in its title and
 *                                  aria-label; marked "!" in its corner (CSS)
 *     th.ng-rest-head, td.ng-rest[data-row]  the rest column (integrated gradients only)
 */
/** @import { GroupData } from "../data/decode.js" */
/** @import { Table } from "../data/tables.js" */
/** @import { Scene, Selection } from "./scene.js" */
import { DISAGREEMENT_TEXT, METHOD_CAPTIONS, REST_TEXT } from "../data/tables.js";
import { attributionColor, cssColor } from "../pure/colors.js";
import { formatValue } from "../pure/format.js";
import { fadeOpacity } from "../pure/pixels.js";
import { h } from "./dom.js";

const CAPTION = "Effect of neuron groups on output classes";

/**
 * @param {string} method
 * @returns {string} the table's caption, naming the method ("" : an older state's table)
 */
export function tableCaption(method) {
  if (!method) return CAPTION;
  const captions = /** @type {Record<string, string>} */ (METHOD_CAPTIONS);
  return `${CAPTION} (${captions[method] ?? method})`;
}

/**
 * One cell of the table.
 * @param {Document} doc
 * @param {number} v
 * @param {number} j group
 * @param {string} name class
 * @param {number} maxAbs
 * @param {boolean} disagrees
 */
function valueCell(doc, v, j, name, maxAbs, disagrees) {
  const finite = Number.isFinite(v);
  const said = finite ? `Effect of group ${j} on "${name}": ${Number(v.toPrecision(7))}` : `No attribution for group ${j} on "${name}"`;
  const td = h(doc, "td", {
    "data-group": j,
    "data-class": name,
    "data-value": finite ? String(v) : null,
    "data-disagrees": disagrees ? "true" : null,
    title: disagrees ? said + "\n" + DISAGREEMENT_TEXT : said,
    "aria-label": disagrees ? `${formatValue(v)}, disagreement: ${DISAGREEMENT_TEXT}` : null,
    text: formatValue(v),
  });
  td.classList.add(v > 0 ? "is-positive" : v < 0 ? "is-negative" : "is-zero");
  td.classList.toggle("has-disagreement", disagrees);
  td.style.background = attributionColor(v, maxAbs);
  return td;
}

/**
 * The class x group attribution table.
 * @param {Document} doc
 */
export function createTable(doc) {
  const thead = h(doc, "thead");
  const tbody = h(doc, "tbody");
  const caption = h(doc, "caption", { text: CAPTION });
  const table = h(doc, "table", { class: "ng-table" }, [caption, thead, tbody]);
  const el = h(doc, "div", { class: "ng-table-wrap" }, [table]);
  /** @type {HTMLElement[][]} header + cells per group */
  let columns = [];
  /** @type {[GroupData, Table] | null} */
  let built = null;

  /** @param {GroupData} d @param {number} n */
  function header(d, n) {
    const head = h(doc, "tr", {}, [h(doc, "th", { class: "ng-corner", scope: "col", text: "Class" })]);
    for (let j = 0; j < n; j++) {
      const swatch = h(doc, "span", { class: "ng-swatch", "aria-hidden": "true" });
      swatch.style.background = cssColor(d.rgb[j]);
      const th = h(
        doc,
        "th",
        { scope: "col", "data-group": j, "aria-label": `Group ${j}`, title: `Group ${j}: hover to isolate, click to pin` },
        [swatch, h(doc, "span", { class: "ng-col-label", text: String(j) })],
      );
      head.append(th);
      columns.push([th]);
    }
    return head;
  }

  /** @param {GroupData} d @param {Table} t */
  function build(d, t) {
    const { n, classNames } = d;
    const { values, maxAbs, rest, disagreements } = t;
    columns = [];
    caption.textContent = tableCaption(t.method);
    table.dataset.method = t.method;
    const head = header(d, n);
    if (rest) head.append(h(doc, "th", { class: "ng-rest-head", scope: "col", title: REST_TEXT, text: "rest" }));
    thead.replaceChildren(head);
    const rows = classNames.map((name, i) => {
      const tr = h(doc, "tr", {}, [h(doc, "th", { class: "ng-class-name", scope: "row", text: name })]);
      for (let j = 0; j < n; j++) {
        const td = valueCell(doc, values ? values[i * n + j] : NaN, j, name, maxAbs, disagreements?.[i * n + j] === 1);
        tr.append(td);
        columns[j].push(td);
      }
      if (rest) {
        const v = rest[i];
        const title = `Rest for "${name}": ${Number.isFinite(v) ? Number(v.toPrecision(7)) : "–"}, ${REST_TEXT}`;
        tr.append(h(doc, "td", { class: "ng-rest", "data-row": i, "data-value": Number.isFinite(v) ? String(v) : null, title, text: formatValue(v) }));
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
    update({ data, table: t }) {
      if (built && built[0] === data && built[1] === t) return;
      built = [data, t];
      build(data, t);
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
