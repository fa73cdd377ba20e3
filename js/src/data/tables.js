/**
 * The attribution tables and the flows in the method shown: which methods a state offers
 * (the switch), the class x group table of the chosen one with its rest column and the cells
 * where linear and measured effects disagree (`Table`), and the flows between neighbouring
 * columns of the multi-layer view in the same method (`Flow`). Everything is decoded from
 * data already present, so switching the method needs no kernel.
 */
/** @import { Binary, FlowEntry, State } from "./contract.js" */
/** @import { GroupData } from "./decode.js" */
import { decodeFloat32, toBytes } from "./decode.js";

/** The methods the front end knows, in the order the switch lists them. */
export const METHODS = Object.freeze(["integrated", "linear", "ablation"]);

/** What the switch calls each method. */
export const METHOD_LABELS = Object.freeze({
  integrated: "Integrated gradients",
  linear: "Linear (article)",
  ablation: "Measured (ablation)",
});

/** One line per method: what it is (the switch's tooltips). */
export const METHOD_TIPS = Object.freeze({
  integrated:
    "Integrated gradients: the gradient averaged along the path from zero activations to the image's, " +
    "times the group's part; with the rest it adds up to the class's logit change.",
  linear:
    "The article's linear attribution: the gradient at the image's activations times the group's part " +
    "(a first-order estimate).",
  ablation: "Measured effect: how much the class's logit drops when the group's part is removed from the activations.",
});

/** How the table's caption names each method. */
export const METHOD_CAPTIONS = Object.freeze({
  integrated: "integrated gradients",
  linear: "linear, as in the article",
  ablation: "measured by ablation",
});

/** The explanation of a disagreement mark (cells and curves). */
export const DISAGREEMENT_TEXT =
  "Linear attribution and the measured effect of removing this group disagree in sign here: " +
  "the first-order estimate is unreliable for this cell.";

/** The tooltip of the rest column's header. */
export const REST_TEXT =
  "evidence the groups do not explain (integrated gradients: groups + rest = logit(image) - logit(zero activations))";

/**
 * @param {string} method
 * @returns {string} what the switch calls it
 */
export const methodLabel = (method) => /** @type {Record<string, string>} */ (METHOD_LABELS)[method] ?? method;

/**
 * The class x group table shown.
 * @typedef {object} Table
 * @property {string[]} methods   the methods the switch offers (their tables are well formed)
 * @property {string} method      the method shown; "" when the state has only `attributions`
 * @property {number} k           class rows
 * @property {number} n           group columns
 * @property {Float32Array | null} values  k * n, row-major (class, group); null when none
 * @property {number} maxAbs      max |value| (0 when none)
 * @property {Float32Array | null} rest    k values, only when the method is "integrated"
 * @property {Uint8Array | null} disagreements  k * n (1: linear and measured disagree)
 * @property {unknown[]} source   what it was decoded from (to skip decoding it again)
 */

/**
 * The methods offered: those of `listed` (the kernel's order of preference; when it lists
 * none, the known methods first, then any other) whose table has `size` values.
 * @param {Record<string, Binary>} tables
 * @param {string[]} listed
 * @param {number} size
 * @returns {string[]}
 */
export function offeredMethods(tables, listed, size) {
  const present = Object.keys(tables);
  const order = listed.length > 0 ? listed : [...METHODS.filter((m) => present.includes(m)), ...present.filter((m) => !METHODS.includes(m))];
  return [...new Set(order)].filter((m) => present.includes(m) && decodeFloat32(tables[m])?.length === size);
}

/**
 * The method shown: the one asked for when it is offered, else the first offered ("" none).
 * @param {string} asked
 * @param {string[]} offered
 * @returns {string}
 */
export function shownMethod(asked, offered) {
  return offered.includes(asked) ? asked : (offered[0] ?? "");
}

/**
 * Bytes of exactly `size` entries, or null.
 * @param {unknown} value
 * @param {number} size
 * @returns {Uint8Array | null}
 */
function uint8Of(value, size) {
  const bytes = toBytes(value);
  return bytes && bytes.length === size && size > 0 ? bytes : null;
}

/**
 * float32 values, exactly `size` of them, or null.
 * @param {unknown} value
 * @param {number} size
 * @returns {Float32Array | null}
 */
function float32Of(value, size) {
  const values = decodeFloat32(value);
  return values && values.length === size && size > 0 ? values : null;
}

/**
 * @param {ArrayLike<number> | null} values
 * @returns {number} max |v| over the finite values (0 when none)
 */
function maxAbsOf(values) {
  let m = 0;
  if (values) for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) m = Math.max(m, Math.abs(values[i]));
  return m;
}

/**
 * The table shown for the state and its group data: `tables[method]` when the state has
 * tables, else `attributions`. `previous` is returned as is when nothing it came from changed.
 * @param {State} state
 * @param {GroupData} data
 * @param {Table | null} [previous]
 * @returns {Table}
 */
export function readTable(state, data, previous = null) {
  const k = data.classNames.length;
  const n = data.n;
  const { tables, attribution_methods: listed, attribution_method: asked, attributions, rest, disagreements } = state;
  const source = [tables, listed.join("\n"), asked, attributions, rest, disagreements, k, n];
  if (previous && previous.source.every((v, i) => v === source[i])) return previous;
  const methods = offeredMethods(tables, listed, k * n);
  const method = shownMethod(asked, methods);
  const values = method ? float32Of(tables[method], k * n) : data.attributions;
  return {
    methods,
    method,
    k,
    n,
    values,
    maxAbs: method ? maxAbsOf(values) : data.maxAbs,
    rest: method === "integrated" ? float32Of(rest, k) : null,
    disagreements: uint8Of(disagreements, k * n),
    source,
  };
}

/**
 * The decoded flow between two neighbouring columns.
 * @typedef {object} Flow
 * @property {string} from                 layer (or "classes") on the left
 * @property {string} to                   layer (or "classes") on the right
 * @property {number} nFrom
 * @property {number} nTo
 * @property {Float32Array | null} values  nFrom * nTo, row-major (from, to); null when malformed
 * @property {Uint8Array | null} disagreements  nFrom * nTo (1: linear and measured disagree)
 */

/** The `to` of the flow from the last layer to the table's classes. */
export const CLASSES_COLUMN = "classes";

/**
 * A `flows` entry decoded in a method: `tables[method]` when it has one, else its `values`;
 * null values unless there are exactly shape[0] * shape[1] of them.
 * @param {FlowEntry} entry
 * @param {string} [method]
 * @returns {Flow}
 */
export function decodeFlow(entry, method = "") {
  const [nFrom, nTo] = entry.shape.length === 2 ? entry.shape : [0, 0];
  const size = nFrom * nTo;
  const tables = entry.tables ?? {};
  const values = (method && float32Of(tables[method], size)) || float32Of(entry.values, size);
  const disagreements = uint8Of(entry.disagreements, size);
  return { from: entry.from, to: entry.to, nFrom, nTo, values, disagreements };
}

/**
 * The flow from the last layer's groups to the table's classes: the table shown, transposed
 * to (groups, classes).
 * @param {Table} table
 * @param {string} layer the last layer's name
 * @returns {Flow}
 */
export function classFlow(table, layer) {
  const { n, k, values: rows, disagreements: marks } = table;
  /** @param {ArrayLike<number>} a @param {Float32Array | Uint8Array} out */
  const transpose = (a, out) => {
    for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) out[j * k + i] = a[i * n + j];
    return out;
  };
  const values = rows ? /** @type {Float32Array} */ (transpose(rows, new Float32Array(n * k))) : null;
  const disagreements = marks ? /** @type {Uint8Array} */ (transpose(marks, new Uint8Array(n * k))) : null;
  return { from: layer, to: CLASSES_COLUMN, nFrom: n, nTo: k, values, disagreements };
}

/**
 * The flow between each pair of neighbouring columns (named by their layers, the classes
 * column last), in the table's method: the matching `flows` entry, or the table for the
 * classes; null where there is none.
 * @param {string[]} names each column's layer name
 * @param {FlowEntry[]} entries as sent in `flows`
 * @param {Table} table the table shown
 * @returns {Array<Flow | null>}
 */
export function columnFlows(names, entries, table) {
  const decoded = entries.map((e) => decodeFlow(e, table.method));
  return names.slice(0, -1).map((from, p) => {
    const to = names[p + 1];
    if (to === CLASSES_COLUMN) return classFlow(table, from);
    return decoded.find((f) => f.from === from && f.to === to) ?? null;
  });
}
