// @ts-check
/**
 * neuron-groups — the front end of `GroupWidget` (an anywidget ES module) and of the standalone
 * page (`mountPage`).
 *
 * Shows the "neuron groups" of one layer of a vision network for one image: the input image and
 * a colour-coded map of where each group fires, one feature-visualisation icon per group, and a
 * class x group attribution table. With several layers (`earlier_layers` not empty) it shows, as
 * the article's second figure does, one column of group tiles per layer, left to right, then the
 * classes, with curves between neighbouring columns whose width is the flow's size (normalized
 * per pair of layers) and whose colour is its sign; the table and the map stay the last layer's. The layout and interactions follow the GroupWidget of Lucid
 * and Distill's "The Building Blocks of Interpretability" (Olah et al., 2018): spotlight of the
 * hovered group over the image, lighter-wins group map, reticle and fading when a cell is
 * probed. This file is a new implementation (plain DOM, no framework); no code was copied.
 *
 * It is one self-contained module (anywidget loads it from a blob: no relative imports) and uses
 * no JupyterLab globals, so it runs in JupyterLab, Notebook 7, VS Code, Colab, and in a
 * standalone HTML page driven by the exported `StaticModel`. Nothing at the top level touches
 * the DOM: node imports it to cross-check the pure functions against Python.
 *
 * Layout of this file
 *   1. The contract: FIELDS, GROUP_FIELDS and the State typedef (== Python display/state.py).
 *   2. Pure functions: decoding, colours, pixels, shares, formatting (exported, unit-tested;
 *      formatValue, attributionColor, textColor, groupMapPixels are cross-checked by a pytest).
 *   3. Components: header, error, groups control, class picker, image picker, status, panels,
 *      tiles, the multi-layer diagram (flow), table.
 *      Each builds its DOM and has `update(scene)`; the ones that show a group also have
 *      `highlight(selection)`. None of them listens to anything.
 *   4. render(): the view state (hovered, pinned, probe), the actions, and `wire()`, the one
 *      place where DOM listeners and model listeners are attached.
 *   5. StaticModel and mountPage (the standalone page's start-up).
 *
 * DOM hooks (stable; browser and unit tests rely on them):
 *   .neuron-groups                 root; data-status, data-selected (shown group or -1),
 *                                  data-pinned (selected_group or -1); class is-computing
 *   .ng-error[role=alert]          error banner; `hidden` when the `error` trait is ""
 *   .ng-status                     one-line status ("Computing…", "Stopped"); hidden when idle
 *   .ng-progress                   progress block, `hidden` unless status is "optimizing":
 *     .ng-progress-bar (<progress>), .ng-progress-text, .ng-stop (button: sends {type:"stop"})
 *   .ng-panel-image                left panel: .ng-image (<img>), .ng-spotlight (<canvas>,
 *                                  `hidden` unless a group is hovered/pinned), .ng-reticle
 *   .ng-panel-map                  right panel: .ng-map (all groups; `hidden` while a group is
 *                                  shown), .ng-map-group (the shown group only), .ng-reticle
 *   .ng-reticle                    `hidden` unless a cell is probed; data-row, data-col
 *   .ng-tile[data-group="j"]       role=button, tabindex=0, aria-pressed (pinned?);
 *                                  classes is-selected (hovered or pinned), is-pinned;
 *                                  style.opacity + data-share while a cell is probed
 *     .ng-icon (<img>) / .ng-icon-placeholder (icon not ready), .ng-tile-strip (group colour,
 *                                  text colour by contrast)
 *   .ng-table                      th[data-group] (column header with .ng-swatch) and
 *                                  td[data-group][data-class]; is-selected / is-pinned on the
 *                                  shown group's column; faded like the tiles while probing
 *   .ng-groups-control[data-mode]  "range": .ng-groups-input (range over n_groups_options,
 *                                  contiguous) + .ng-groups-value (the count); "select":
 *                                  .ng-groups-select (exactly the offered counts, e.g. a page's
 *                                  cached ones); "text": one count, .ng-groups-value "6 groups"
 *   .ng-class-input, .ng-class-add, .ng-chip[data-class][data-index] (> .ng-chip-remove only
 *                                  where classes can be changed), .ng-class-hint
 *   .ng-title, .ng-meta, .ng-predictions
 *   .ng-image-picker               hidden without a kernel (standalone page, disconnected):
 *     .ng-image-select (examples; sends {type: "image", name}), .ng-image-upload (button) and
 *     .ng-image-file (input type=file, hidden; sends {type: "image", filename} + the bytes as one
 *     buffer, as does a file dropped on the root, which has class is-dropping meanwhile),
 *     .ng-image-message; the root shows is-computing / data-status "computing" until the kernel
 *     answers
 *   .ng-flow                       the last layer's tiles; class is-single (no box) in the
 *                                  single-layer view; in the multi-layer view also data-curves
 *                                  (curves drawn), class has-focus while a group is shown:
 *     .ng-column[data-layer]       one per layer, input to output, then data-layer="classes";
 *       .ng-column-head            .ng-column-name, and .ng-layer-groups[data-layer] (select:
 *                                  an earlier layer's sends layer_groups, the last's n_groups)
 *                                  or .ng-layer-count (one count)
 *       .ng-tile[data-layer][data-group]  as above, every layer; .ng-class-node[data-class]
 *     svg.ng-curves > path.ng-curve  data-pair, data-from-layer, data-from, data-to-layer,
 *                                  data-to, data-value, data-fraction (|v| / pair max); <title>
 *                                  with the value; classes is-hidden (under the threshold),
 *                                  is-emphasized / is-faded (a group is shown), is-hovered
 *     .ng-flow-tip                 the hovered curve's value
 *   .ng-flow-controls > .ng-threshold (range 0..1, view only), .ng-threshold-value
 *   root data-selected-layer / data-pinned-layer: layer of the shown / pinned group ("" none)
 */

// =============================================================================================
// 1. The contract with Python (display/state.py)
// =============================================================================================

/**
 * The traits that change with the number of groups (a standalone page's "variants" carry
 * these per cached count).
 */
export const GROUP_FIELDS = Object.freeze([
  "n_groups",
  "spatial",
  "spatial_shape",
  "icons",
  "icon_size",
  "attributions",
  "class_names",
  "group_colors",
]);

/** Every synced trait the front end reads (== the Python ViewState traits). */
export const FIELDS = Object.freeze([
  "image",
  "spatial",
  "spatial_shape",
  "icons",
  "icon_size",
  "attributions",
  "class_names",
  "class_options",
  "predictions",
  "group_colors",
  "n_groups_options",
  "layer",
  "model_name",
  "title",
  "progress_text",
  "error",
  "status",
  "progress",
  "n_groups",
  "classes",
  "selected_group",
  "earlier_layers",
  "flows",
  "layer_groups",
  "selected_layer",
  "image_options",
]);

/** The traits the decoded group data (GroupData) is read from. */
const DATA_FIELDS = Object.freeze([
  "n_groups",
  "spatial",
  "spatial_shape",
  "attributions",
  "class_names",
  "group_colors",
]);

/**
 * Binary trait as it arrives: DataView (anywidget), ArrayBuffer or any typed array.
 * @typedef {DataView | ArrayBuffer | ArrayBufferView | null | undefined} Binary
 */

/** @typedef {[number, number, number]} RGB  a colour, 0..255 per channel */

/** @typedef {"loading" | "computing" | "optimizing" | "ready" | "stopped" | "error"} Status */

/**
 * Whether the kernel is still producing the view (loading the model, or computing groups).
 * @param {string} status
 */
const isBusy = (status) => status === "loading" || status === "computing";

/** @typedef {{ name: string, probability: number }} Prediction */

/**
 * The synced state, one property per name in FIELDS (kernel -> front end unless noted).
 * @typedef {object} State
 * @property {Binary} image                PNG of the input image
 * @property {Binary} spatial              float32 little-endian (n, h, w) maps in [0, 1]
 * @property {number[]} spatial_shape      [n, h, w]
 * @property {Binary[]} icons              PNG per group; empty while pending
 * @property {number} icon_size            icon side in px
 * @property {Binary} attributions         float32 little-endian (k, n) class x group effects
 * @property {string[]} class_names        the k table rows
 * @property {string[]} class_options      every class name (the picker); [] = no picker
 * @property {Prediction[]} predictions    top 5
 * @property {RGB[]} group_colors          one colour per group
 * @property {number[]} n_groups_options   the counts the groups control offers
 * @property {string} layer
 * @property {string} model_name
 * @property {string} title
 * @property {string} progress_text
 * @property {string} error
 * @property {Status | string} status
 * @property {number} progress             0..1
 * @property {number} n_groups             both ways
 * @property {Array<string | number>} classes  both ways; [] = top 5; ints are class indices
 * @property {number} selected_group       both ways; pinned group, -1 none
 * @property {EarlierLayer[]} earlier_layers  layers before the last, input to output; [] in the
 *                                         single-layer view
 * @property {FlowEntry[]} flows           one per neighbouring pair, input to output; []
 *                                         single-layer; the last pair's `to` is `layer`
 * @property {number[]} layer_groups       both ways; group count per layer, input to output
 *                                         ([] single-layer); the last entry is n_groups
 * @property {string} selected_layer       both ways; layer of the pinned group, "" = the last
 * @property {string[]} image_options      example image names the image picker offers
 */

/**
 * One layer before the last, as sent in `earlier_layers`.
 * @typedef {object} EarlierLayer
 * @property {string} layer
 * @property {number} n_groups
 * @property {number[]} n_groups_options
 * @property {Binary} spatial              float32 little-endian (n, h, w) maps in [0, 1]
 * @property {number[]} spatial_shape      [n, h, w]
 * @property {Binary[]} icons              PNG per group; empty while pending
 * @property {RGB[]} group_colors
 */

/**
 * The flow between two neighbouring layers, as sent in `flows`.
 * @typedef {object} FlowEntry
 * @property {string} from
 * @property {string} to
 * @property {Binary} values               float32 little-endian (n_from, n_to)
 * @property {number[]} shape              [n_from, n_to]
 */

/**
 * The subset of the anywidget model API this widget uses.
 * @typedef {object} WidgetModel
 * @property {(name: string) => any} get
 * @property {(name: string, value: any) => void} set
 * @property {(event: string, cb: (...args: any[]) => void) => void} on
 * @property {(event?: string | null, cb?: ((...args: any[]) => void) | null) => void} off
 * @property {() => void} save_changes
 * @property {(msg: any, callbacks?: any, buffers?: any[]) => void} send
 */

/**
 * Decoded, self-consistent view of the group traits.
 * @typedef {object} GroupData
 * @property {number} n                  number of groups shown
 * @property {number} h                  spatial map rows
 * @property {number} w                  spatial map columns
 * @property {Float32Array | null} spatial  n*h*w values in [0, 1], or null when missing
 * @property {RGB[]} rgb                 colour per group
 * @property {string[]} classNames       table rows
 * @property {Float32Array | null} attributions  classNames.length * n values, or null
 * @property {number} maxAbs             max |attribution| (0 when none)
 */

/**
 * Pixels of every group layer, computed once per data change.
 * @typedef {object} Layers
 * @property {Uint8ClampedArray[]} color   per group: RGBA, the group's colour scaled by its map
 * @property {Uint8ClampedArray[]} gray    per group: RGBA grey spotlight mask
 * @property {Uint8ClampedArray} composite lighten (per-channel max) of all colour layers on black
 */

/** @typedef {{ row: number, col: number }} Cell */

/**
 * @param {unknown} v
 * @returns {any[]}
 */
function asArray(v) {
  return Array.isArray(v) ? v : [];
}

/**
 * @param {unknown} v
 * @returns {string}
 */
function asString(v) {
  return v == null ? "" : String(v);
}

/** Colour of a group whose colour has not arrived (or is malformed). */
const FALLBACK_RGB = /** @type {RGB} */ (Object.freeze([128, 128, 128]));

/**
 * A colour as sent ([r, g, b], 0..255), rounded and clamped; null when it is not one.
 * @param {unknown} value
 * @returns {RGB | null}
 */
export function toRGB(value) {
  if (!Array.isArray(value) || value.length !== 3) return null;
  const ch = value.map(Number);
  if (!ch.every(Number.isFinite)) return null;
  return /** @type {RGB} */ (ch.map((c) => Math.min(255, Math.max(0, Math.round(c)))));
}

/**
 * The synced state of a model, each value checked and brought to its type (binary values are
 * passed through; they are decoded where they are used).
 * @param {{ get: (name: string) => any }} model
 * @returns {State}
 */
export function readState(model) {
  const get = (/** @type {string} */ name) => model.get(name);
  const ints = (/** @type {string} */ name) =>
    asArray(get(name))
      .map(Number)
      .filter((v) => Number.isInteger(v));
  const selected = Number(get("selected_group"));
  return {
    image: get("image"),
    spatial: get("spatial"),
    spatial_shape: ints("spatial_shape"),
    icons: asArray(get("icons")),
    icon_size: Number(get("icon_size")) || 80,
    attributions: get("attributions"),
    class_names: asArray(get("class_names")).map(asString),
    class_options: asArray(get("class_options")).map(asString),
    predictions: asArray(get("predictions"))
      .filter((p) => p && typeof p === "object")
      .map((p) => ({ name: asString(p.name), probability: Number(p.probability) })),
    group_colors: asArray(get("group_colors")).map((c) => toRGB(c) ?? FALLBACK_RGB),
    n_groups_options: ints("n_groups_options").filter((v) => v > 0),
    layer: asString(get("layer")),
    model_name: asString(get("model_name")),
    title: asString(get("title")),
    progress_text: asString(get("progress_text")),
    error: asString(get("error")),
    status: asString(get("status")) || "ready",
    progress: clamp01(Number(get("progress"))),
    n_groups: Math.max(0, Math.trunc(Number(get("n_groups")) || 0)),
    classes: asArray(get("classes")).filter((c) => typeof c === "string" || Number.isInteger(c)),
    selected_group: Number.isInteger(selected) ? selected : -1,
    earlier_layers: asArray(get("earlier_layers")).filter(isRecord).map(readEarlierLayer),
    flows: asArray(get("flows"))
      .filter(isRecord)
      .map((f) => ({
        from: asString(f.from),
        to: asString(f.to),
        values: f.values,
        shape: asArray(f.shape).map(Number).filter((v) => Number.isInteger(v)),
      })),
    layer_groups: ints("layer_groups"),
    selected_layer: asString(get("selected_layer")),
    image_options: asArray(get("image_options")).map(asString),
  };
}

/**
 * @param {unknown} v
 * @returns {v is Record<string, any>}
 */
function isRecord(v) {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

/**
 * One entry of `earlier_layers`, each value brought to its type.
 * @param {Record<string, any>} e
 * @returns {EarlierLayer}
 */
function readEarlierLayer(e) {
  const ints = (/** @type {unknown} */ v) =>
    asArray(v)
      .map(Number)
      .filter((x) => Number.isInteger(x));
  return {
    layer: asString(e.layer),
    n_groups: Math.max(0, Math.trunc(Number(e.n_groups)) || 0),
    n_groups_options: ints(e.n_groups_options).filter((x) => x > 0),
    spatial: e.spatial,
    spatial_shape: ints(e.spatial_shape),
    icons: asArray(e.icons),
    group_colors: asArray(e.group_colors).map((c) => toRGB(c) ?? FALLBACK_RGB),
  };
}

// =============================================================================================
// 2. Pure functions
// =============================================================================================

// ---- decoding ---------------------------------------------------------------------------------

/**
 * Bytes of a binary trait: DataView (anywidget), ArrayBuffer, any typed array, or null.
 * @param {unknown} value
 * @returns {Uint8Array | null}
 */
export function toBytes(value) {
  if (value == null) return null;
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) {
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  if (Object.prototype.toString.call(value) === "[object ArrayBuffer]") {
    return new Uint8Array(/** @type {ArrayBuffer} */ (value));
  }
  if (typeof value === "object" && "buffer" in value) {
    return toBytes(/** @type {any} */ (value).buffer);
  }
  return null;
}

/**
 * Little-endian float32 values of a binary trait (copied; any alignment).
 * @param {unknown} value
 * @returns {Float32Array | null}
 */
export function decodeFloat32(value) {
  const bytes = toBytes(value);
  if (!bytes || bytes.byteLength % 4 !== 0) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/**
 * Decode base64 (optionally a `data:...;base64,` URL, whitespace and base64url allowed).
 * @param {string} str
 * @returns {DataView}
 */
export function decodeBase64(str) {
  let s = String(str ?? "");
  const comma = s.startsWith("data:") ? s.indexOf(",") : -1;
  if (comma >= 0) s = s.slice(comma + 1);
  s = s.replace(/\s+/g, "").replace(/-/g, "+").replace(/_/g, "/");
  while (s.length % 4) s += "=";
  const bin = atob(s);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new DataView(bytes.buffer);
}

/**
 * Base64 of bytes (used for data: URLs when URL.createObjectURL is unavailable).
 * @param {Uint8Array} bytes
 * @returns {string}
 */
function encodeBase64(bytes) {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode.apply(null, Array.from(bytes.subarray(i, i + 0x8000)));
  }
  return btoa(bin);
}

/**
 * A page's JSON with every `{"$base64": "..."}` replaced by its bytes (a DataView).
 * @param {unknown} value
 * @returns {any}
 */
export function reviveBinary(value) {
  if (Array.isArray(value)) return value.map(reviveBinary);
  if (value && typeof value === "object") {
    if ("$base64" in value) return decodeBase64(/** @type {any} */ (value).$base64);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reviveBinary(v)]));
  }
  return value;
}

/**
 * Decode one layer's group maps and colours: the number of groups comes from the spatial maps
 * when they are present and well formed (traits may arrive one by one while the kernel
 * recomputes), otherwise from `nGroups` (or the colours).
 * @param {unknown} shape [n, h, w]
 * @param {unknown} spatialBinary float32 little-endian (n, h, w)
 * @param {unknown} colorList [[r, g, b], ...]
 * @param {unknown} nGroups
 * @returns {{ n: number, h: number, w: number, spatial: Float32Array | null, rgb: RGB[] }}
 */
function decodeGroups(shape, spatialBinary, colorList, nGroups) {
  let spatial = decodeFloat32(spatialBinary);
  const colors = asArray(colorList).map(toRGB);
  let n = 0;
  let h = 0;
  let w = 0;
  if (Array.isArray(shape) && shape.length === 3 && shape.every((v) => Number.isInteger(v) && v >= 0)) {
    [n, h, w] = shape;
  }
  if (!spatial || n * h * w === 0 || spatial.length !== n * h * w) {
    spatial = null;
    n = Math.max(0, Number(nGroups) || 0) || colors.length;
    if (!(h > 0 && w > 0)) h = w = 0;
  }
  /** @type {RGB[]} */
  const rgb = [];
  for (let j = 0; j < n; j++) rgb.push(colors[j] ?? FALLBACK_RGB);
  return { n, h, w, spatial, rgb };
}

/**
 * Read the group traits into one consistent GroupData (see decodeGroups for the count).
 * @param {{ get: (name: string) => any }} model
 * @returns {GroupData}
 */
export function readGroupData(model) {
  const groups = decodeGroups(
    model.get("spatial_shape"),
    model.get("spatial"),
    model.get("group_colors"),
    model.get("n_groups"),
  );
  const n = groups.n;
  const classNames = asArray(model.get("class_names")).map(asString);
  let attributions = decodeFloat32(model.get("attributions"));
  if (attributions && attributions.length !== classNames.length * n) attributions = null;
  let maxAbs = 0;
  if (attributions) {
    for (const v of attributions) if (Number.isFinite(v)) maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  return { ...groups, classNames, attributions, maxAbs };
}

// ---- layers and flows (the multi-layer view) ---------------------------------------------------

/**
 * One column of group tiles in the multi-layer view.
 * @typedef {object} LayerColumn
 * @property {string} layer      the layer's name
 * @property {string} key        how selected_layer names it: "" for the last layer, else `layer`
 * @property {GroupData} data    its groups (no classes)
 * @property {Binary[]} icons    PNG per group; empty while pending
 * @property {number} count      its n_groups
 * @property {number[]} options  the counts its control offers
 */

/**
 * The decoded flow between two neighbouring columns.
 * @typedef {object} Flow
 * @property {string} from                 layer (or "classes") on the left
 * @property {string} to                   layer (or "classes") on the right
 * @property {number} nFrom
 * @property {number} nTo
 * @property {Float32Array | null} values  nFrom * nTo, row-major (from, to); null when malformed
 */

/** The `to` of the flow from the last layer to the table's classes. */
export const CLASSES_COLUMN = "classes";

/**
 * The columns of the earlier layers (input to output), decoded.
 * @param {EarlierLayer[]} earlier
 * @returns {LayerColumn[]}
 */
export function earlierColumns(earlier) {
  return earlier.map((e) => {
    const groups = decodeGroups(e.spatial_shape, e.spatial, e.group_colors, e.n_groups);
    return {
      layer: e.layer,
      key: e.layer,
      data: { ...groups, classNames: [], attributions: null, maxAbs: 0 },
      icons: e.icons,
      count: e.n_groups || groups.n,
      options: e.n_groups_options,
    };
  });
}

/**
 * A `flows` entry decoded; values null unless there are exactly shape[0] * shape[1] of them.
 * @param {FlowEntry} entry
 * @returns {Flow}
 */
export function decodeFlow(entry) {
  const [nFrom, nTo] = entry.shape.length === 2 ? entry.shape : [0, 0];
  let values = decodeFloat32(entry.values);
  if (!values || values.length !== nFrom * nTo) values = null;
  return { from: entry.from, to: entry.to, nFrom, nTo, values };
}

/**
 * The flow from the last layer's groups to the table's classes: the attributions, transposed
 * to (groups, classes).
 * @param {GroupData} data
 * @param {string} layer the last layer's name
 * @returns {Flow}
 */
export function classFlow(data, layer) {
  const { n, classNames, attributions } = data;
  const k = classNames.length;
  let values = null;
  if (attributions) {
    values = new Float32Array(n * k);
    for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) values[j * k + i] = attributions[i * n + j];
  }
  return { from: layer, to: CLASSES_COLUMN, nFrom: n, nTo: k, values };
}

/**
 * Each flow's share of its pair's largest: |v| / max |v| (0 where the pair has no flow).
 * @param {ArrayLike<number>} values
 * @returns {{ maxAbs: number, fractions: Float32Array }}
 */
export function normalizeFlow(values) {
  let maxAbs = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  const fractions = new Float32Array(values.length);
  if (maxAbs > 0) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      fractions[i] = Number.isFinite(v) ? Math.abs(v) / maxAbs : 0;
    }
  }
  return { maxAbs, fractions };
}

/** Stroke width (px) of the largest flow of a pair; the others scale with |flow|. */
export const CURVE_MAX_WIDTH = 8;
/** Thinnest stroke drawn, so that a small flow above the threshold stays visible. */
export const CURVE_MIN_WIDTH = 0.5;

/**
 * Where a node (tile) sits in the diagram, in px relative to it.
 * @typedef {{ left: number, right: number, y: number }} NodeBox
 */

/**
 * One curve of the diagram.
 * @typedef {object} Curve
 * @property {number} pair      index p of the pair (columns p and p + 1)
 * @property {number} from      group in column p
 * @property {number} to        group (or class row) in column p + 1
 * @property {number} value     the flow
 * @property {number} fraction  |value| / the pair's max |value|, in [0, 1]
 * @property {number} width     stroke width, px
 * @property {string} color     by sign, the table's palette
 * @property {string} d         SVG path: from the right edge of `from` to the left edge of `to`
 * @property {boolean} hidden   fraction below the threshold
 */

/**
 * Whether a curve is hidden: under the threshold (a fraction of its pair's largest), or 0.
 * @param {number} fraction
 * @param {number} threshold
 * @returns {boolean}
 */
export function belowThreshold(fraction, threshold) {
  return !(fraction >= threshold) || fraction === 0;
}

/**
 * A horizontal S-curve from (x0, y0) to (x1, y1).
 * @param {number} x0
 * @param {number} y0
 * @param {number} x1
 * @param {number} y1
 * @returns {string}
 */
export function curveD(x0, y0, x1, y1) {
  const r = (/** @type {number} */ v) => Math.round(v * 10) / 10;
  const xm = r((x0 + x1) / 2);
  return `M ${r(x0)} ${r(y0)} C ${xm} ${r(y0)}, ${xm} ${r(y1)}, ${r(x1)} ${r(y1)}`;
}

/**
 * The curves between neighbouring columns: one per (from, to) of each pair whose flow matches
 * the columns' sizes. Width by |flow| normalized per pair (the pair's largest gets
 * CURVE_MAX_WIDTH), colour by sign, hidden under `threshold` (a fraction of the pair's largest).
 * @param {Array<{ values: ArrayLike<number> | null, nFrom: number, nTo: number } | null>} flows
 *        flows[p]: between columns p and p + 1, row-major (from, to)
 * @param {NodeBox[][]} columns each column's nodes, in group order
 * @param {number} threshold 0..1
 * @returns {Curve[]}
 */
export function curvePaths(flows, columns, threshold) {
  /** @type {Curve[]} */
  const curves = [];
  flows.forEach((flow, p) => {
    const left = columns[p];
    const right = columns[p + 1];
    if (!flow || !flow.values || !left || !right) return;
    const { values, nFrom, nTo } = flow;
    if (left.length !== nFrom || right.length !== nTo || values.length !== nFrom * nTo) return;
    const { fractions } = normalizeFlow(values);
    for (let a = 0; a < nFrom; a++) {
      for (let b = 0; b < nTo; b++) {
        const value = values[a * nTo + b];
        const fraction = fractions[a * nTo + b];
        curves.push({
          pair: p,
          from: a,
          to: b,
          value,
          fraction,
          width: Math.max(CURVE_MIN_WIDTH, CURVE_MAX_WIDTH * fraction),
          color: signColor(value),
          d: curveD(left[a].right, left[a].y, right[b].left, right[b].y),
          hidden: belowThreshold(fraction, threshold),
        });
      }
    }
  });
  return curves;
}

/**
 * Where the focus goes from group `group` of column `col` for a key, in the multi-layer view:
 * Up/Down within the column (wrapping), Home/End to its ends, Left/Right to the neighbouring
 * column (the same index, or its last group), not past the first or last column.
 * @param {string} key
 * @param {number} col
 * @param {number} group
 * @param {number[]} counts groups per column
 * @returns {{ col: number, group: number } | null} null when the key does not move the focus
 */
export function moveAcrossColumns(key, col, group, counts) {
  const n = counts[col] ?? 0;
  if (n === 0) return null;
  switch (key) {
    case "ArrowUp":
      return { col, group: (group - 1 + n) % n };
    case "ArrowDown":
      return { col, group: (group + 1) % n };
    case "Home":
      return { col, group: 0 };
    case "End":
      return { col, group: n - 1 };
    case "ArrowLeft":
    case "ArrowRight": {
      const step = key === "ArrowLeft" ? -1 : 1;
      for (let c = col + step; c >= 0 && c < counts.length; c += step) {
        if (counts[c] > 0) return { col: c, group: Math.min(group, counts[c] - 1) };
      }
      return { col, group };
    }
    default:
      return null;
  }
}

// ---- colours ----------------------------------------------------------------------------------

/**
 * CSS text of a colour.
 * @param {RGB} rgb
 * @returns {string}
 */
export function cssColor(rgb) {
  return `rgb(${rgb[0]} ${rgb[1]} ${rgb[2]})`;
}

/**
 * WCAG 2 relative luminance of an sRGB colour (channels 0..255).
 * @param {RGB} rgb
 * @returns {number} 0 (black) .. 1 (white)
 */
export function relativeLuminance(rgb) {
  const lin = rgb.map((c) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
}

/**
 * The text colour to write on a background: black or white, whichever has the higher WCAG
 * contrast ratio against it (ties: black).
 * @param {RGB} rgb background, 0..255 per channel
 * @returns {"#000" | "#fff"}
 */
export function textColor(rgb) {
  const lum = relativeLuminance(rgb);
  const onBlack = (lum + 0.05) / 0.05;
  const onWhite = 1.05 / (lum + 0.05);
  return onBlack >= onWhite ? "#000" : "#fff";
}

/**
 * Background of an attribution cell: hue by sign, opacity by |v| / maxAbs.
 * @param {number} v
 * @param {number} maxAbs
 * @returns {string}
 */
export function attributionColor(v, maxAbs) {
  if (!Number.isFinite(v) || !(maxAbs > 0) || v === 0) return "transparent";
  const a = Math.round(Math.min(1, Math.abs(v) / maxAbs) * 0.8 * 1000) / 1000;
  const [r, g, b] = v > 0 ? POSITIVE_RGB : NEGATIVE_RGB;
  return `rgba(${r}, ${g}, ${b}, ${a})`;
}

/** The table's palette: blue for a positive effect, orange for a negative one. */
const POSITIVE_RGB = Object.freeze([33, 113, 181]);
const NEGATIVE_RGB = Object.freeze([230, 85, 13]);
const ZERO_RGB = Object.freeze([128, 128, 128]);

/**
 * Colour of a flow curve: the table's hue for its sign (grey for 0 or not a number).
 * @param {number} v
 * @returns {string}
 */
export function signColor(v) {
  const [r, g, b] = v > 0 ? POSITIVE_RGB : v < 0 ? NEGATIVE_RGB : ZERO_RGB;
  return `rgb(${r}, ${g}, ${b})`;
}

/**
 * An attribution as shown in the table: 3 decimals, no "-0.000".
 * @param {number} v
 * @returns {string}
 */
export function formatValue(v) {
  if (!Number.isFinite(v)) return "–";
  const s = v.toFixed(3);
  return /^-0\.0+$/.test(s) ? s.slice(1) : s;
}

// ---- pixels -----------------------------------------------------------------------------------

/**
 * @param {number} v
 * @returns {number}
 */
function clamp01(v) {
  return v > 0 ? (v < 1 ? v : 1) : 0; // NaN -> 0
}

/**
 * Brightness of the spotlight mask for a map value: bright where the group is present,
 * dark where it is absent (brightened so that mid values already light the image well).
 * @param {number} v value in [0, 1]
 * @returns {number} 0..1
 */
export function spotlightLevel(v) {
  return Math.min(1, 1.5 * Math.pow(v, 0.75));
}

/**
 * One group's colour layer: RGBA, its colour scaled by its clipped presence, opaque.
 * @param {ArrayLike<number>} spatial n*h*w values
 * @param {number} j group
 * @param {number} size h*w
 * @param {RGB} rgb
 * @param {number} [gain] multiplies the values first (1: as sent)
 * @returns {Uint8ClampedArray} size*4 RGBA
 */
function colorLayer(spatial, j, size, rgb, gain = 1) {
  const out = new Uint8ClampedArray(size * 4);
  const [r, g, b] = rgb;
  for (let p = 0; p < size; p++) {
    const v = clamp01(spatial[j * size + p] * gain);
    const o = p * 4;
    out[o] = r * v;
    out[o + 1] = g * v;
    out[o + 2] = b * v;
    out[o + 3] = 255;
  }
  return out;
}

/**
 * Lighten (per-channel max) of RGBA layers over opaque black.
 * @param {Uint8ClampedArray[]} layers
 * @param {number} size pixels per layer
 * @returns {Uint8ClampedArray}
 */
function lighten(layers, size) {
  const out = new Uint8ClampedArray(size * 4);
  for (let p = 0; p < size; p++) out[p * 4 + 3] = 255;
  for (const layer of layers) {
    for (let p = 0; p < size; p++) {
      const o = p * 4;
      if (layer[o] > out[o]) out[o] = layer[o];
      if (layer[o + 1] > out[o + 1]) out[o + 1] = layer[o + 1];
      if (layer[o + 2] > out[o + 2]) out[o + 2] = layer[o + 2];
    }
  }
  return out;
}

/**
 * The group map: every group's colour scaled by its presence (clipped to [0, 1]), the
 * per-channel max over groups, on opaque black. Channels are rounded as Uint8ClampedArray
 * does (to nearest, halves to even).
 * @param {ArrayLike<number>} spatial n*h*w values
 * @param {ArrayLike<number>} shape [n, h, w]
 * @param {ArrayLike<ArrayLike<number>>} colors n colours [r, g, b], 0..255
 * @returns {Uint8ClampedArray} h*w*4 RGBA
 */
export function groupMapPixels(spatial, shape, colors) {
  const [n, h, w] = [shape[0], shape[1], shape[2]];
  const size = h * w;
  if (spatial.length < n * size) {
    throw new RangeError(`spatial has ${spatial.length} values, shape [${n}, ${h}, ${w}] needs ${n * size}`);
  }
  const layers = [];
  for (let j = 0; j < n; j++) {
    layers.push(colorLayer(spatial, j, size, toRGB(Array.from(colors[j] ?? [])) ?? FALLBACK_RGB));
  }
  return lighten(layers, size);
}

/**
 * A group's largest clipped value (1 when it has none), which its single-group view scales to.
 * @param {ArrayLike<number>} spatial
 * @param {number} j
 * @param {number} size
 */
export function groupPeak(spatial, j, size) {
  let peak = 0;
  for (let p = 0; p < size; p++) peak = Math.max(peak, clamp01(spatial[j * size + p]));
  return peak > 0 ? peak : 1;
}

/**
 * Compute every group's colour layer (alone: scaled to its own peak), spotlight mask and the
 * lighten composite of the colour layers as sent (RGBA, h x w).
 * @param {Float32Array} spatial n*h*w values
 * @param {number} n
 * @param {number} h
 * @param {number} w
 * @param {RGB[]} rgb
 * @returns {Layers}
 */
export function computeLayers(spatial, n, h, w, rgb) {
  const size = h * w;
  const color = [];
  const gray = [];
  const shared = [];
  for (let j = 0; j < n; j++) {
    shared.push(colorLayer(spatial, j, size, rgb[j]));
    // Alone, a group is drawn up to its own peak: a faint group stays readable on black.
    color.push(colorLayer(spatial, j, size, rgb[j], 1 / groupPeak(spatial, j, size)));
    const g = new Uint8ClampedArray(size * 4);
    for (let p = 0; p < size; p++) {
      const s = spotlightLevel(clamp01(spatial[j * size + p])) * 255;
      g[p * 4] = s;
      g[p * 4 + 1] = s;
      g[p * 4 + 2] = s;
      g[p * 4 + 3] = 255;
    }
    gray.push(g);
  }
  return { color, gray, composite: lighten(shared, size) };
}

/**
 * How much of one cell each group explains: its value there over the max over groups.
 * @param {Float32Array} spatial
 * @param {number} n
 * @param {number} h
 * @param {number} w
 * @param {Cell} cell
 * @returns {Float32Array} n shares in [0, 1]
 */
export function cellShares(spatial, n, h, w, cell) {
  const size = h * w;
  const p = cell.row * w + cell.col;
  const shares = new Float32Array(n);
  let max = 0;
  for (let j = 0; j < n; j++) max = Math.max(max, clamp01(spatial[j * size + p]));
  if (max > 0) for (let j = 0; j < n; j++) shares[j] = clamp01(spatial[j * size + p]) / max;
  return shares;
}

/**
 * Opacity of a tile/column for a share of a probed cell.
 * @param {number} share
 * @returns {number}
 */
export function fadeOpacity(share) {
  return Math.round((0.15 + 0.85 * clamp01(share)) * 1000) / 1000;
}

/**
 * The map cell under a pointer position, or null outside the panel.
 * @param {number} x clientX
 * @param {number} y clientY
 * @param {{left: number, top: number, width: number, height: number}} rect panel rect
 * @param {number} h
 * @param {number} w
 * @returns {Cell | null}
 */
export function cellAt(x, y, rect, h, w) {
  if (!(rect.width > 0 && rect.height > 0 && h > 0 && w > 0)) return null;
  const fx = (x - rect.left) / rect.width;
  const fy = (y - rect.top) / rect.height;
  if (fx < 0 || fy < 0 || fx >= 1 || fy >= 1) return null;
  return { row: Math.floor(fy * h), col: Math.floor(fx * w) };
}

// ---- controls ---------------------------------------------------------------------------------

/**
 * How the groups control offers counts: a slider over a contiguous range, a choice among
 * scattered counts (a page's cached ones), or plain text when there is one count.
 * @param {number[]} options the offered counts, ascending
 * @returns {"range" | "select" | "text"}
 */
export function groupsMode(options) {
  if (options.length < 2) return "text";
  const contiguous = options.every((v, i) => i === 0 || v === options[i - 1] + 1);
  return contiguous ? "range" : "select";
}

/**
 * The counts the groups control offers: n_groups_options, plus the current count if it is
 * missing, ascending and without repeats.
 * @param {number[]} options
 * @param {number} current
 * @returns {number[]}
 */
export function groupCounts(options, current) {
  const all = new Set(options.filter((v) => Number.isInteger(v) && v > 0));
  if (current > 0) all.add(current);
  return [...all].sort((a, b) => a - b);
}

/**
 * The text of each class chip: the name of the table row it asked for. classes[i] is the row
 * class_names[i] after a computation; while a change is pending they may not line up, so a
 * name is shown as written (or as its row spells it) and an index by its class option (or by
 * its row when there are no options, as in a standalone page).
 * @param {Array<string | number>} classes
 * @param {string[]} classNames
 * @param {string[]} classOptions
 * @returns {string[]}
 */
export function chipLabels(classes, classNames, classOptions) {
  const aligned = classNames.length === classes.length;
  return classes.map((c, i) => {
    const row = aligned ? classNames[i] : undefined;
    if (typeof c === "number") return classOptions[c] ?? row ?? String(c);
    return row !== undefined && row.toLowerCase() === c.toLowerCase() ? row : c;
  });
}

/**
 * The class option a typed text refers to: exact (case-insensitive), else the only option
 * containing it, else the first option starting with it.
 * @param {string} text
 * @param {string[]} options
 * @returns {string | null}
 */
export function resolveClass(text, options) {
  const q = text.trim().toLowerCase();
  if (!q) return null;
  const exact = options.find((o) => o.toLowerCase() === q);
  if (exact) return exact;
  const containing = options.filter((o) => o.toLowerCase().includes(q));
  if (containing.length === 1) return containing[0];
  return containing.find((o) => o.toLowerCase().startsWith(q)) ?? null;
}

// =============================================================================================
// 3. Components
// =============================================================================================

/**
 * What the components show: the model's state, its decoded group data, and two facts about
 * the view.
 * @typedef {object} Scene
 * @property {State} state
 * @property {GroupData} data
 * @property {boolean} connected  something can recompute (false in an exported notebook)
 * @property {boolean} stopping   Stop was pressed and the kernel is still optimising
 * @property {boolean} multi      the multi-layer view (earlier_layers is not empty)
 * @property {LayerColumn[]} columns  one per layer, input to output (the last layer's last;
 *                                the only one in the single-layer view)
 * @property {boolean} kernel     a kernel can take an image (false in a standalone page)
 * @property {boolean} pending    an image was sent and the kernel has not answered yet
 */

/**
 * A group of one layer: the layer's name and the group's index in it.
 * @typedef {{ layer: string, group: number }} Ref
 */

/**
 * Which group is shown and which cell is probed (view state, applied without recomputation).
 * @typedef {object} Selection
 * @property {number} shown   hovered group, else pinned group, else -1
 * @property {number} pinned  selected_group when valid, else -1
 * @property {Cell | null} cell  probed cell (inside the map) or null
 * @property {Float32Array | null} shares  each group's share of the probed cell
 * @property {Ref | null} shownRef   the shown group, of any layer
 * @property {Ref | null} pinnedRef  the pinned group (selected_layer, selected_group)
 */

// ---- DOM helpers ------------------------------------------------------------------------------

/**
 * Create an element. `props`: "class", "text", other keys become attributes (null/false skip).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {Document} doc
 * @param {K} tag
 * @param {Record<string, string | number | boolean | null | undefined>} [props]
 * @param {Array<Node | string | null | undefined | false>} [children]
 * @returns {HTMLElementTagNameMap[K]}
 */
function h(doc, tag, props = {}, children = []) {
  const node = /** @type {HTMLElementTagNameMap[K]} */ (doc.createElement(tag));
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue;
    if (k === "class") node.className = String(v);
    else if (k === "text") node.textContent = String(v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

/**
 * Object URLs for PNG bytes, keyed, revoked when replaced and on dispose.
 * Falls back to data: URLs where URL.createObjectURL is missing.
 */
class UrlBag {
  constructor() {
    /** @type {Map<string, string>} */
    this.urls = new Map();
    /** @type {Map<string, Uint8Array>} bytes behind each URL, to skip unchanged snapshots */
    this.bytes = new Map();
  }

  /**
   * URL for `bytes` under `key`; the same URL when the bytes did not change.
   * @param {string} key
   * @param {Uint8Array | null} bytes PNG bytes; null/empty removes the URL
   * @param {string} [type] the bytes' media type (PNG unless told)
   * @returns {string | null}
   */
  set(key, bytes, type = "image/png") {
    const old = this.bytes.get(key);
    if (bytes && bytes.byteLength > 0 && old && sameBytes(old, bytes)) {
      return /** @type {string} */ (this.urls.get(key));
    }
    this.revoke(key);
    if (!bytes || bytes.byteLength === 0) return null;
    let url;
    if (typeof URL !== "undefined" && typeof URL.createObjectURL === "function") {
      url = URL.createObjectURL(new Blob([/** @type {BlobPart} */ (bytes)], { type }));
    } else {
      url = `data:${type};base64,${encodeBase64(bytes)}`;
    }
    this.urls.set(key, url);
    this.bytes.set(key, bytes.slice());
    return url;
  }

  /** @param {string} key */
  revoke(key) {
    const url = this.urls.get(key);
    if (url === undefined) return;
    this.urls.delete(key);
    this.bytes.delete(key);
    if (url.startsWith("blob:") && typeof URL.revokeObjectURL === "function") {
      URL.revokeObjectURL(url);
    }
  }

  /** @param {(key: string) => boolean} stale revoke the keys for which this is true */
  revokeWhere(stale) {
    for (const key of [...this.urls.keys()]) if (stale(key)) this.revoke(key);
  }

  revokeAll() {
    this.revokeWhere(() => true);
  }
}

/**
 * @param {Uint8Array} a
 * @param {Uint8Array} b
 * @returns {boolean}
 */
function sameBytes(a, b) {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ---- canvas helpers ---------------------------------------------------------------------------

/**
 * 2D context of a canvas, or null where there is none (jsdom, exotic hosts).
 * @param {HTMLCanvasElement} canvas
 * @returns {CanvasRenderingContext2D | null}
 */
function context2d(canvas) {
  try {
    return canvas.getContext ? canvas.getContext("2d") : null;
  } catch {
    return null;
  }
}

/**
 * Put RGBA pixels on a canvas of the same size; false when the canvas can't draw.
 * @param {HTMLCanvasElement} canvas
 * @param {Uint8ClampedArray} pixels
 * @param {number} w
 * @param {number} h
 * @returns {boolean}
 */
function putPixels(canvas, pixels, w, h) {
  const ctx = context2d(canvas);
  if (!ctx || w === 0 || h === 0) return false;
  const image = ctx.createImageData(w, h);
  image.data.set(pixels);
  ctx.putImageData(image, 0, 0);
  return true;
}

/**
 * Copy a cached canvas onto a display canvas (the only drawing done on hover).
 * @param {HTMLCanvasElement} target
 * @param {HTMLCanvasElement | undefined} source
 */
function blit(target, source) {
  const ctx = context2d(target);
  if (!ctx) return;
  ctx.clearRect(0, 0, target.width, target.height);
  if (source) ctx.drawImage(source, 0, 0);
}

// ---- header -----------------------------------------------------------------------------------

/**
 * Title, model and layer, top predictions.
 * @param {Document} doc
 */
function createHeader(doc) {
  const title = h(doc, "div", { class: "ng-title" });
  const meta = h(doc, "div", { class: "ng-meta" });
  const predictions = h(doc, "div", { class: "ng-predictions" });
  const el = h(doc, "div", { class: "ng-header" }, [title, meta, predictions]);
  return {
    el,
    /** @param {Scene} s */
    update({ state, columns, multi }) {
      title.textContent = state.title;
      title.hidden = !state.title;
      const layers = multi ? columns.map((c) => c.layer).join(" → ") : state.layer;
      const parts = [state.model_name, layers].filter(Boolean);
      meta.textContent = parts.join(" · ");
      meta.hidden = parts.length === 0;
      const preds = state.predictions.map(({ name, probability }) =>
        Number.isFinite(probability) ? `${name} (${(probability * 100).toFixed(1)}%)` : name,
      );
      predictions.textContent = preds.length ? `Predicted: ${preds.join(", ")}` : "";
      predictions.hidden = preds.length === 0;
    },
  };
}

// ---- error and status -------------------------------------------------------------------------

/** @param {Document} doc */
function createErrorBanner(doc) {
  const el = h(doc, "div", { class: "ng-error", role: "alert", hidden: true });
  return {
    el,
    /** @param {Scene} s */
    update({ state }) {
      el.textContent = state.error;
      el.hidden = !state.error;
    },
  };
}

/** @type {Record<string, string>} */
const STATUS_MESSAGES = {
  loading: "Loading the model (the first time in this kernel)…",
  computing: "Computing neuron groups…",
  stopped: "Icon optimisation stopped; icons show their last state.",
};

/**
 * The status line and the icon progress block (with its Stop button).
 * @param {Document} doc
 */
function createStatus(doc) {
  const line = h(doc, "div", { class: "ng-status", role: "status", hidden: true });
  const bar = h(doc, "progress", {
    class: "ng-progress-bar",
    max: 1,
    value: 0,
    "aria-label": "Icon optimisation progress",
  });
  const text = h(doc, "span", { class: "ng-progress-text" });
  const stop = h(doc, "button", { class: "ng-stop", type: "button", text: "Stop" });
  const progress = h(doc, "div", { class: "ng-progress", hidden: true }, [bar, text, stop]);
  return {
    nodes: [line, progress],
    stop,
    /** @param {Scene} s */
    update({ state, stopping, pending }) {
      progress.hidden = state.status !== "optimizing" || pending;
      const pct = `${Math.round(state.progress * 100)}%`;
      bar.value = state.progress;
      bar.setAttribute("aria-valuetext", pct);
      text.textContent = state.progress_text || `Icons: ${pct}`;
      stop.disabled = stopping;
      stop.textContent = stopping ? "Stopping…" : "Stop";
      const msg = STATUS_MESSAGES[pending ? "computing" : state.status] ?? "";
      line.textContent = msg;
      line.hidden = !msg;
    },
  };
}

// ---- controls ---------------------------------------------------------------------------------

/**
 * The groups control: a slider (contiguous counts), a select (scattered counts) or text (one).
 * @param {Document} doc
 * @param {string} uid
 */
function createGroupsControl(doc, uid) {
  const label = h(doc, "label", { for: `${uid}-groups`, text: "Groups" });
  const input = h(doc, "input", {
    class: "ng-groups-input",
    id: `${uid}-groups`,
    type: "range",
    min: 0,
    max: 0,
    step: 1,
  });
  const select = h(doc, "select", { class: "ng-groups-select", id: `${uid}-groups-select` });
  const value = h(doc, "output", { class: "ng-groups-value", for: `${uid}-groups` });
  const el = h(doc, "div", { class: "ng-groups-control" }, [label, input, select, value]);
  /** @type {number[]} */
  let counts = [];
  let selectKey = "";
  return {
    el,
    input,
    select,
    /** @returns {number | undefined} the count the control points at */
    chosen() {
      return el.dataset.mode === "select" ? Number(select.value) : counts[Number(input.value)];
    },
    /** Show the count under the slider while it is dragged (nothing is sent yet). */
    preview() {
      const n = counts[Number(input.value)];
      if (n != null) value.textContent = String(n);
    },
    /** @param {Scene} s */
    update({ state, data, connected, multi }) {
      const n = state.n_groups || data.n;
      counts = groupCounts(state.n_groups_options, n);
      const mode = groupsMode(counts);
      el.dataset.mode = mode;
      // The multi-layer view has a count control on each layer's column instead.
      el.hidden = counts.length === 0 || multi;
      label.hidden = mode === "text";
      label.htmlFor = mode === "select" ? select.id : input.id;
      input.hidden = mode !== "range";
      input.max = String(Math.max(0, counts.length - 1));
      input.value = String(Math.max(0, counts.indexOf(n)));
      input.disabled = mode !== "range" || !connected;
      input.setAttribute("aria-valuetext", `${n} groups`);
      select.hidden = mode !== "select";
      const key = counts.join();
      if (key !== selectKey) {
        selectKey = key;
        select.replaceChildren(...counts.map((c) => h(doc, "option", { value: c, text: c })));
      }
      select.value = String(n);
      select.disabled = mode !== "select" || !connected;
      value.hidden = mode === "select";
      value.textContent = mode === "text" ? `${n} group${n === 1 ? "" : "s"}` : String(n);
    },
  };
}

/**
 * Chips of the chosen classes (removable where classes can change) and the class picker.
 * @param {Document} doc
 * @param {string} uid
 */
function createClassPicker(doc, uid) {
  const chips = h(doc, "ul", { class: "ng-chips", "aria-label": "Chosen classes" });
  const hint = h(doc, "span", { class: "ng-class-hint", text: "top 5 predicted" });
  const input = h(doc, "input", {
    class: "ng-class-input",
    id: `${uid}-class`,
    type: "text",
    list: `${uid}-classes`,
    placeholder: "Add a class…",
    autocomplete: "off",
    spellcheck: "false",
  });
  const add = h(doc, "button", { class: "ng-class-add", type: "button", text: "Add" });
  const entry = h(doc, "span", { class: "ng-class-entry" }, [input, add]);
  const datalist = h(doc, "datalist", { id: `${uid}-classes` });
  const message = h(doc, "span", { class: "ng-class-message", "aria-live": "polite" });
  const el = h(doc, "div", { class: "ng-classes-control" }, [
    h(doc, "label", { for: input.id, text: "Classes" }),
    chips,
    hint,
    entry,
    datalist,
    message,
  ]);
  let optionsKey = "";
  return {
    el,
    input,
    add,
    chips,
    /** @param {string} text "" clears the message */
    say(text) {
      message.textContent = text;
      if (text) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    },
    /** @param {Scene} s */
    update({ state, connected }) {
      // No options (e.g. a standalone page, with no kernel to recompute): classes are read-only.
      const editable = state.class_options.length > 0 && connected;
      entry.hidden = !editable;
      const labels = chipLabels(state.classes, state.class_names, state.class_options);
      const items = labels.map((name, i) => {
        const remove = editable
          ? h(doc, "button", {
              class: "ng-chip-remove",
              type: "button",
              "aria-label": `Remove ${name}`,
              title: `Remove ${name}`,
              text: "×",
            })
          : null;
        const chip = h(doc, "li", { class: "ng-chip", "data-class": name, "data-index": i }, [
          h(doc, "span", { class: "ng-chip-label", text: name }),
          remove,
        ]);
        chip.classList.toggle("is-removable", editable);
        return chip;
      });
      chips.replaceChildren(...items);
      chips.hidden = items.length === 0;
      hint.hidden = items.length > 0;
      const key = state.class_options.join("\n");
      if (key !== optionsKey) {
        optionsKey = key;
        datalist.replaceChildren(...state.class_options.map((o) => h(doc, "option", { value: o })));
      }
    },
  };
}

// ---- panels: image and map --------------------------------------------------------------------

/**
 * The input image with the spotlight, the group map, and a reticle on each.
 * @param {Document} doc
 * @param {UrlBag} urls
 */
function createPanels(doc, urls) {
  const image = h(doc, "img", { class: "ng-image", alt: "Input image", draggable: "false" });
  const spotlight = h(doc, "canvas", {
    class: "ng-spotlight",
    role: "img",
    "aria-label": "Spotlight: where the selected group is present in the image",
    hidden: true,
  });
  const map = h(doc, "canvas", {
    class: "ng-map",
    role: "img",
    "aria-label": "Group map: each cell is coloured by the groups present there",
  });
  const mapGroup = h(doc, "canvas", {
    class: "ng-map-group",
    role: "img",
    "aria-label": "Map of the selected group",
    hidden: true,
  });
  const reticles = [0, 1].map(() => h(doc, "div", { class: "ng-reticle", hidden: true }));
  const imagePanel = h(doc, "div", { class: "ng-panel ng-panel-image" }, [image, spotlight, reticles[0]]);
  const mapPanel = h(doc, "div", { class: "ng-panel ng-panel-map" }, [map, mapGroup, reticles[1]]);
  const el = h(doc, "div", { class: "ng-panels" }, [imagePanel, mapPanel]);
  /** @type {{ color: HTMLCanvasElement[], gray: HTMLCanvasElement[] }} cached per group */
  let canvases = { color: [], gray: [] };
  /** @type {GroupData | null} */
  let drawn = null;
  /** @type {LayerColumn[]} the layers before the last (the multi-layer view) */
  let earlier = [];
  /** @type {Map<string, { data: GroupData, canvases: typeof canvases }>} their canvases, drawn on first use */
  const earlierCanvases = new Map();

  /**
   * Every group's colour and spotlight canvases; null where the canvas can't draw.
   * @param {GroupData} d
   * @returns {{ layers: Layers, canvases: typeof canvases } | null}
   */
  function groupCanvases(d) {
    if (!d.spatial || !context2d(map)) return null;
    const layers = computeLayers(d.spatial, d.n, d.h, d.w, d.rgb);
    /** @type {typeof canvases} */
    const out = { color: [], gray: [] };
    for (let j = 0; j < d.n; j++) {
      for (const kind of /** @type {const} */ (["color", "gray"])) {
        const c = doc.createElement("canvas");
        c.width = d.w;
        c.height = d.h;
        putPixels(c, layers[kind][j], d.w, d.h);
        out[kind].push(c);
      }
    }
    return { layers, canvases: out };
  }

  /** @param {HTMLCanvasElement} c @param {number} w @param {number} h */
  function resize(c, w, h) {
    if (c.width !== w) c.width = w;
    if (c.height !== h) c.height = h;
  }

  /** Compute and cache every group's canvases; draw the composite map. @param {GroupData} d */
  function draw(d) {
    drawn = d;
    canvases = { color: [], gray: [] };
    for (const c of [map, mapGroup, spotlight]) {
      c.width = d.w || 1;
      c.height = d.h || 1;
    }
    const ctx = context2d(map);
    if (!ctx) return; // no canvas support: keep the DOM, skip the pixels
    if (!d.spatial) {
      ctx.fillStyle = "#000";
      ctx.fillRect(0, 0, map.width, map.height);
      return;
    }
    const drawnGroups = /** @type {NonNullable<ReturnType<typeof groupCanvases>>} */ (groupCanvases(d));
    putPixels(map, drawnGroups.layers.composite, d.w, d.h);
    canvases = drawnGroups.canvases;
  }

  /**
   * The canvases and size of the shown group's layer (an earlier layer's drawn on first use).
   * @param {Ref | null} ref
   * @returns {{ canvases: typeof canvases, w: number, h: number } | null}
   */
  function layerCanvases(ref) {
    const column = ref ? earlier.find((c) => c.layer === ref.layer) : undefined;
    if (!column) return drawn ? { canvases, w: drawn.w || 1, h: drawn.h || 1 } : null;
    let cached = earlierCanvases.get(column.layer);
    if (!cached || cached.data !== column.data) {
      cached = { data: column.data, canvases: groupCanvases(column.data)?.canvases ?? { color: [], gray: [] } };
      earlierCanvases.set(column.layer, cached);
    }
    return { canvases: cached.canvases, w: column.data.w || 1, h: column.data.h || 1 };
  }

  return {
    el,
    image,
    /** Both panels (and so the map) take the image's aspect ratio once it has loaded. */
    fitImage() {
      const { naturalWidth: w, naturalHeight: h } = image;
      const ratio = w > 0 && h > 0 ? `${w} / ${h}` : "";
      imagePanel.style.aspectRatio = ratio;
      mapPanel.style.aspectRatio = ratio;
    },
    /** @param {Scene} s */
    update({ state, data, columns }) {
      const url = urls.set("image", toBytes(state.image));
      if (url) image.src = url;
      else image.removeAttribute("src");
      image.hidden = !url;
      image.alt = `Input image${state.title ? `: ${state.title}` : ""}`;
      if (data !== drawn) draw(data);
      earlier = columns.slice(0, -1);
      for (const layer of [...earlierCanvases.keys()]) {
        if (!earlier.some((c) => c.layer === layer)) earlierCanvases.delete(layer);
      }
    },
    /** @param {Selection} sel */
    highlight({ shown: lastShown, cell, shownRef }) {
      const isEarlier = !!shownRef && earlier.some((c) => c.layer === shownRef.layer);
      const shown = isEarlier && shownRef ? shownRef.group : lastShown;
      if (shown >= 0) {
        const source = layerCanvases(isEarlier ? shownRef : null);
        if (source) {
          resize(spotlight, source.w, source.h);
          resize(mapGroup, source.w, source.h);
          blit(spotlight, source.canvases.gray[shown]);
          blit(mapGroup, source.canvases.color[shown]);
        }
        const name = isEarlier && shownRef ? `${shownRef.layer} group ${shown}` : `group ${shown}`;
        spotlight.setAttribute("aria-label", `Spotlight: where ${name} is present in the image`);
        mapGroup.setAttribute("aria-label", `Map of ${name}: where it is present`);
      }
      spotlight.hidden = shown < 0;
      mapGroup.hidden = shown < 0;
      map.hidden = shown >= 0;
      spotlight.dataset.layer = shown >= 0 && shownRef ? shownRef.layer : "";
      const rows = drawn?.h ?? 0;
      const cols = drawn?.w ?? 0;
      for (const r of reticles) {
        r.hidden = !cell;
        if (!cell) continue;
        r.style.left = `${(cell.col / cols) * 100}%`;
        r.style.top = `${(cell.row / rows) * 100}%`;
        r.style.width = `${100 / cols}%`;
        r.style.height = `${100 / rows}%`;
        r.dataset.row = String(cell.row);
        r.dataset.col = String(cell.col);
      }
    },
  };
}

// ---- tiles ------------------------------------------------------------------------------------

/**
 * One tile per group of one layer: its icon (or a placeholder) over a strip in its colour.
 * The last layer's tiles (`update`) are today's; an earlier layer's column calls `show`.
 * @param {Document} doc
 * @param {UrlBag} urls
 * @param {string} [urlPrefix] key prefix of its icons in `urls` ("icon-" for the last layer)
 */
function createTiles(doc, urls, urlPrefix = "icon-") {
  const el = h(doc, "div", {
    class: "ng-tiles",
    role: "group",
    "aria-label": "Neuron groups: hover or focus to isolate, click or Enter to pin",
  });
  /** @type {Array<{ el: HTMLElement, img: HTMLImageElement, placeholder: HTMLElement }>} */
  let tiles = [];
  let builtKey = "";

  /**
   * @param {number} j
   * @param {RGB} rgb
   * @param {string} layer the layer's name (data-layer)
   * @param {string} name how the tile names its group: "Group 3" or "mixed4a group 3"
   */
  function tile(j, rgb, layer, name) {
    const img = h(doc, "img", {
      class: "ng-icon",
      alt: `Feature visualisation of ${name.charAt(0).toLowerCase()}${name.slice(1)}`,
      draggable: "false",
      hidden: true,
    });
    const placeholder = h(doc, "div", {
      class: "ng-icon ng-icon-placeholder",
      role: "img",
      "aria-label": `Icon of ${name.charAt(0).toLowerCase()}${name.slice(1)} not ready yet`,
    });
    const strip = h(doc, "div", { class: "ng-tile-strip" }, [
      h(doc, "span", { class: "ng-tile-label", text: String(j) }),
    ]);
    strip.style.background = cssColor(rgb);
    strip.style.color = textColor(rgb);
    const node = h(
      doc,
      "div",
      {
        class: "ng-tile",
        "data-group": j,
        "data-layer": layer || null,
        role: "button",
        tabindex: 0,
        "aria-pressed": "false",
        "aria-label": name,
        title: `${name}: hover to isolate, click to pin`,
      },
      [img, placeholder, strip],
    );
    node.style.setProperty("--ng-group-color", cssColor(rgb));
    return { el: node, img, placeholder };
  }

  /**
   * @param {GroupData} d
   * @param {string} layer
   * @param {boolean} named whether tiles name their layer (the multi-layer view)
   */
  function build(d, layer, named) {
    const focused = doc.activeElement;
    const refocus = focused instanceof HTMLElement && el.contains(focused) ? focused.dataset.group : null;
    tiles = d.rgb.map((rgb, j) => tile(j, rgb, layer, named ? `${layer} group ${j}` : `Group ${j}`));
    el.replaceChildren(...tiles.map((t) => t.el));
    if (refocus != null) tiles[Number(refocus)]?.el.focus();
  }

  /**
   * Show a layer's groups and icons.
   * @param {GroupData} data
   * @param {Binary[]} icons
   * @param {string} layer
   * @param {boolean} named
   */
  function show(data, icons, layer, named) {
    const key = `${layer}|${named}|${data.rgb.map((c) => c.join(",")).join(";")}`;
    if (key !== builtKey || tiles.length !== data.n) {
      builtKey = key;
      build(data, layer, named);
    }
    tiles.forEach((t, j) => {
      const url = urls.set(`${urlPrefix}${j}`, toBytes(icons[j]));
      if (url) t.img.src = url;
      else t.img.removeAttribute("src");
      t.img.hidden = !url;
      t.placeholder.hidden = !!url;
      t.el.classList.toggle("is-loading", !url);
    });
    urls.revokeWhere((k) => k.startsWith(urlPrefix) && Number(k.slice(urlPrefix.length)) >= tiles.length);
  }

  return {
    el,
    show,
    /** @returns {HTMLElement[]} the tiles, in group order */
    nodes() {
      return tiles.map((t) => t.el);
    },
    /** @param {number} j */
    focus(j) {
      tiles[j]?.el.focus();
    },
    /** @param {Scene} s */
    update({ state, data, multi }) {
      show(data, state.icons, state.layer, multi);
    },
    /** Forget its icons' URLs (the column is gone). */
    dispose() {
      urls.revokeWhere((k) => k.startsWith(urlPrefix));
    },
    /** @param {{ shown: number, pinned: number, shares?: Float32Array | null }} sel */
    highlight({ shown, pinned, shares }) {
      tiles.forEach((t, j) => {
        t.el.classList.toggle("is-selected", j === shown);
        t.el.classList.toggle("is-pinned", j === pinned);
        t.el.setAttribute("aria-pressed", String(j === pinned));
        if (shares) {
          t.el.style.opacity = String(fadeOpacity(shares[j]));
          t.el.dataset.share = shares[j].toFixed(3);
        } else {
          t.el.style.opacity = "";
          delete t.el.dataset.share;
        }
      });
    },
  };
}

// ---- table ------------------------------------------------------------------------------------

/**
 * The class x group attribution table.
 * @param {Document} doc
 */
function createTable(doc) {
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

// ---- the multi-layer diagram ------------------------------------------------------------------

const SVG_NS = "http://www.w3.org/2000/svg";

/** Default threshold of the curves: hide those under this fraction of their pair's largest. */
export const DEFAULT_THRESHOLD = 0.1;

/**
 * The multi-layer diagram: one column of group tiles per layer, left to right (the last one
 * holds the last layer's `.ng-tiles`), then a column of the table's classes; curves between
 * neighbouring columns, and a threshold control. In the single-layer view it holds the last
 * layer's tiles only and takes no box (display: contents), so that view is today's.
 * @param {Document} doc
 * @param {UrlBag} urls
 * @param {ReturnType<typeof createTiles>} lastTiles
 * @param {string} uid
 */
function createFlow(doc, urls, lastTiles, uid) {
  const svg = /** @type {SVGSVGElement} */ (doc.createElementNS(SVG_NS, "svg"));
  svg.setAttribute("class", "ng-curves");
  svg.setAttribute("aria-hidden", "true");
  const tip = h(doc, "div", { class: "ng-flow-tip", role: "tooltip", hidden: true });
  const columnsEl = h(doc, "div", { class: "ng-columns" });
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
  const el = h(doc, "div", { class: "ng-flow is-single" }, [svg, columnsEl, tip]);
  el.append(lastTiles.el);

  /**
   * @typedef {object} ColumnView
   * @property {string} layer
   * @property {HTMLElement} el
   * @property {HTMLElement} head
   * @property {ReturnType<typeof createTiles> | null} tiles  null for the classes column
   * @property {HTMLElement[]} classNodes                      the classes column's nodes
   */
  /** @type {ColumnView[]} earlier layers, then the last, then the classes */
  let views = [];
  let builtKey = "";
  /** @type {Array<Flow | null>} */
  let flows = [];
  /** @type {Curve[]} */
  let curves = [];
  /** @type {SVGPathElement[]} */
  let paths = [];
  /** @type {string[]} layer name of each column (the classes column last) */
  let names = [];
  let cut = DEFAULT_THRESHOLD;
  /** @type {{ col: number, group: number } | null} */
  let focus = null;

  /**
   * The count control of a column: a select of its counts, or its count as text.
   * @param {string} layer
   * @param {number} count
   * @param {number[]} options
   * @param {boolean} enabled
   */
  function countControl(layer, count, options, enabled) {
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
   * @param {LayerColumn} column
   * @param {boolean} last
   * @param {boolean} enabled
   * @returns {ColumnView}
   */
  function layerColumn(column, last, enabled) {
    const tiles = last ? lastTiles : createTiles(doc, urls, `icon:${column.layer}:`);
    const head = h(doc, "div", { class: "ng-column-head" }, [
      h(doc, "span", { class: "ng-column-name", text: column.layer }),
      countControl(column.layer, column.count, column.options, enabled),
    ]);
    const node = h(doc, "div", { class: "ng-column", "data-layer": column.layer }, [head, tiles.el]);
    return { layer: column.layer, el: node, head, tiles, classNodes: [] };
  }

  /** @param {string[]} classNames @returns {ColumnView} */
  function classesColumn(classNames) {
    const classNodes = classNames.map((name, i) =>
      h(doc, "div", { class: "ng-class-node", "data-class": name, "data-row": i, title: name, text: name }),
    );
    const head = h(doc, "div", { class: "ng-column-head" }, [h(doc, "span", { class: "ng-column-name", text: "Classes" })]);
    const node = h(doc, "div", { class: "ng-column ng-column-classes", "data-layer": CLASSES_COLUMN }, [
      head,
      h(doc, "div", { class: "ng-class-nodes" }, classNodes),
    ]);
    return { layer: CLASSES_COLUMN, el: node, head, tiles: null, classNodes };
  }

  /** @param {ColumnView} view @returns {HTMLElement[]} */
  const nodesOf = (view) => (view.tiles ? view.tiles.nodes() : view.classNodes);

  /** Node boxes relative to the diagram (all zeros where nothing is laid out). */
  function measure() {
    const base = el.getBoundingClientRect();
    const x0 = base.left - el.scrollLeft;
    const y0 = base.top - el.scrollTop;
    return views.map((view) =>
      nodesOf(view).map((node) => {
        const r = node.getBoundingClientRect();
        return { left: r.left - x0, right: r.right - x0, y: r.top + r.height / 2 - y0 };
      }),
    );
  }

  /** Recompute the curves from the flows and the nodes' places; (re)build the paths. */
  function layout() {
    if (views.length === 0) {
      curves = [];
      paths = [];
      svg.replaceChildren();
      return;
    }
    const next = curvePaths(flows, measure(), cut);
    const same =
      next.length === curves.length &&
      next.every((c, i) => c.pair === curves[i].pair && c.from === curves[i].from && c.to === curves[i].to && c.value === curves[i].value);
    curves = next;
    if (!same) {
      paths = curves.map(curveElement);
      svg.replaceChildren(...paths);
    }
    curves.forEach((c, i) => paths[i].setAttribute("d", c.d));
    svg.setAttribute("width", String(el.scrollWidth || 0));
    svg.setAttribute("height", String(el.scrollHeight || 0));
    applyClasses();
  }

  /**
   * The path of a curve (its `d` is set by layout), with its value as a <title>.
   * @param {Curve} c
   * @returns {SVGPathElement}
   */
  function curveElement(c) {
    const path = /** @type {SVGPathElement} */ (doc.createElementNS(SVG_NS, "path"));
    const toClass = names[c.pair + 1] === CLASSES_COLUMN;
    const from = `${names[c.pair]} group ${c.from}`;
    const to = toClass
      ? `“${nodesOf(views[c.pair + 1])[c.to]?.dataset.class ?? c.to}”`
      : `${names[c.pair + 1]} group ${c.to}`;
    const title = /** @type {SVGTitleElement} */ (doc.createElementNS(SVG_NS, "title"));
    title.textContent = `${from} → ${to}: ${formatValue(c.value)}`;
    path.append(title);
    path.setAttribute("class", "ng-curve");
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
    el,
    controls,
    threshold,
    svg,
    /** @returns {string[]} each column's layer name, the classes column last */
    names() {
      return names.slice();
    },
    /** @returns {number[]} nodes per group column (the classes column excluded) */
    counts() {
      return views.filter((v) => v.tiles).map((v) => nodesOf(v).length);
    },
    /** @param {number} col @param {number} group */
    focusTile(col, group) {
      views[col]?.tiles?.focus(group);
    },
    /** @param {number} t 0..1 */
    setThreshold(t) {
      cut = clamp01(t);
      applyClasses();
    },
    layout,
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
    /** @param {Scene} s */
    update({ state, data, columns, multi, kernel }) {
      el.classList.toggle("is-single", !multi);
      svg.style.display = multi ? "" : "none";
      controls.hidden = !multi;
      if (!multi) {
        if (views.length) {
          for (const v of views) if (v.tiles && v.tiles !== lastTiles) v.tiles.dispose();
          views = [];
          names = [];
          flows = [];
          builtKey = "";
          columnsEl.replaceChildren();
          el.append(lastTiles.el);
          layout();
        }
        return;
      }
      const key = JSON.stringify([
        columns.map((c) => [c.layer, c.count, c.options, c.data.n]),
        data.classNames,
        kernel,
      ]);
      if (key !== builtKey) {
        builtKey = key;
        for (const v of views) if (v.tiles && v.tiles !== lastTiles) v.tiles.dispose();
        views = columns.map((c, i) => layerColumn(c, i === columns.length - 1, kernel));
        views.push(classesColumn(data.classNames));
        names = views.map((v) => v.layer);
        columnsEl.replaceChildren(...views.map((v) => v.el));
        paths = [];
        curves = [];
      }
      columns.forEach((c, i) => {
        const tiles = views[i].tiles;
        if (!tiles) return;
        if (tiles === lastTiles) lastTiles.update(/** @type {Scene} */ ({ state, data, multi }));
        else tiles.show(c.data, c.icons, c.layer, true);
      });
      const decoded = state.flows.map(decodeFlow);
      flows = names.slice(0, -1).map((from, p) => {
        const to = names[p + 1];
        if (to === CLASSES_COLUMN) return classFlow(data, from);
        return decoded.find((f) => f.from === from && f.to === to) ?? null;
      });
      layout();
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
      focus = sel.shownRef && col >= 0 ? { col, group: sel.shownRef.group } : null;
      if (views.length) applyClasses();
    },
  };
}

// ---- image picker -----------------------------------------------------------------------------

/**
 * Choose an example image, or upload one (a drop on the widget does the same). Hidden where no
 * kernel can recompute (a standalone page, an exported notebook).
 * @param {Document} doc
 * @param {string} uid
 */
function createImagePicker(doc, uid) {
  const select = h(doc, "select", { class: "ng-image-select", id: `${uid}-image` });
  const upload = h(doc, "button", { class: "ng-image-upload", type: "button", text: "Upload…" });
  const file = h(doc, "input", {
    class: "ng-image-file",
    type: "file",
    accept: "image/*",
    hidden: true,
    "aria-label": "Upload an image",
  });
  const message = h(doc, "span", { class: "ng-image-message", "aria-live": "polite" });
  const el = h(doc, "div", { class: "ng-image-picker", hidden: true }, [
    h(doc, "label", { for: select.id, text: "Image" }),
    select,
    upload,
    file,
    message,
  ]);
  let optionsKey = "";
  return {
    el,
    select,
    upload,
    file,
    /** @param {string} text what went wrong before anything was sent ("" clears it) */
    say(text) {
      message.textContent = text;
    },
    /** @param {Scene} s */
    update({ state, kernel, pending }) {
      el.hidden = !kernel;
      const key = state.image_options.join("\n");
      if (key !== optionsKey) {
        optionsKey = key;
        select.replaceChildren(
          h(doc, "option", { value: "", text: "Example image…" }),
          ...state.image_options.map((o) => h(doc, "option", { value: o, text: o })),
        );
      }
      select.value = "";
      select.hidden = state.image_options.length === 0;
      const busy = pending || isBusy(state.status);
      select.disabled = busy;
      upload.disabled = busy;
    },
  };
}

// ---- the whole --------------------------------------------------------------------------------

let instanceCounter = 0;

/**
 * Every component, and the root element holding them in page order.
 * @param {Document} doc
 * @param {UrlBag} urls
 */
function createView(doc, urls) {
  const uid = `ng-${++instanceCounter}-${Math.random().toString(36).slice(2, 7)}`;
  const tiles = createTiles(doc, urls);
  const parts = {
    header: createHeader(doc),
    error: createErrorBanner(doc),
    groups: createGroupsControl(doc, uid),
    classes: createClassPicker(doc, uid),
    image: createImagePicker(doc, uid),
    status: createStatus(doc),
    panels: createPanels(doc, urls),
    tiles,
    flow: createFlow(doc, urls, tiles, uid),
    table: createTable(doc),
  };
  const hint = h(doc, "div", { class: "ng-hint", text: "Hover a group to isolate it; click to pin." });
  const root = h(
    doc,
    "div",
    { class: "neuron-groups", "data-lm-suppress-shortcuts": "true", "data-selected": -1, "data-pinned": -1 },
    [
      parts.header.el,
      parts.error.el,
      h(doc, "div", { class: "ng-controls" }, [parts.groups.el, parts.classes.el, parts.image.el]),
      ...parts.status.nodes,
      parts.panels.el,
      hint,
      parts.flow.controls,
      parts.flow.el,
      parts.table.el,
    ],
  );
  const frame = {
    el: root,
    /** @param {Scene} s */
    update({ state, multi, pending }) {
      const computing = isBusy(state.status) || pending;
      root.dataset.status = pending ? "computing" : state.status;
      root.classList.toggle("is-computing", computing);
      root.classList.toggle("is-multi", multi);
      root.setAttribute("aria-busy", String(computing));
      root.style.setProperty("--ng-icon-size", `${Math.max(16, state.icon_size)}px`);
      const label = state.title || [state.model_name, state.layer].filter(Boolean).join(" ") || "input image";
      root.setAttribute("aria-label", `Neuron groups of ${label}`);
      hint.textContent = multi
        ? "Hover a group of any layer to isolate it and its curves; click to pin. Arrow keys move between groups and layers."
        : "Hover a group to isolate it; click to pin.";
    },
    /** @param {Selection} sel */
    highlight({ shown, pinned, cell, shownRef, pinnedRef }) {
      root.dataset.selected = String(shownRef ? shownRef.group : shown);
      root.dataset.pinned = String(pinnedRef ? pinnedRef.group : pinned);
      root.dataset.selectedLayer = shownRef ? shownRef.layer : "";
      root.dataset.pinnedLayer = pinnedRef ? pinnedRef.layer : "";
      root.classList.toggle("has-selection", !!shownRef || shown >= 0);
      root.classList.toggle("is-probing", !!cell);
    },
  };
  return { root, parts, frame };
}

/** The traits the multi-layer diagram is drawn from (besides the last layer's DATA_FIELDS). */
const LAYER_FIELDS = Object.freeze(["earlier_layers", "flows", "layer_groups"]);

/**
 * Which component shows which traits ("connection", "stopping" and "pending" are view facts).
 * @param {ReturnType<typeof createView>} v
 * @returns {Array<[{ update: (s: Scene) => void }, readonly string[]]>}
 */
function dependencies({ parts, frame }) {
  return [
    [frame, ["status", "title", "model_name", "layer", "icon_size", "earlier_layers", "pending"]],
    [parts.header, ["title", "model_name", "layer", "predictions", "earlier_layers"]],
    [parts.error, ["error"]],
    [parts.groups, [...DATA_FIELDS, "n_groups_options", "connection", "earlier_layers"]],
    [parts.classes, ["classes", "class_options", "class_names", "connection"]],
    [parts.image, ["image_options", "status", "connection", "pending"]],
    [parts.status, ["status", "progress", "progress_text", "stopping", "pending"]],
    [parts.panels, [...DATA_FIELDS, ...LAYER_FIELDS, "image", "title"]],
    [parts.flow, [...DATA_FIELDS, ...LAYER_FIELDS, "icons", "icon_size", "layer", "n_groups_options", "connection"]],
    [parts.tiles, [...DATA_FIELDS, "icons", "icon_size", "layer", "earlier_layers"]],
    [parts.table, DATA_FIELDS],
  ];
}

// =============================================================================================
// 4. render: view state, actions, and the one place where events are wired
// =============================================================================================

/**
 * The view's state and the actions that change it or the model. Knows nothing about events.
 * @param {WidgetModel} model
 * @param {HTMLElement} el the host element (its ancestors say whether a kernel is connected)
 * @param {ReturnType<typeof createView>} v
 */
function createController(model, el, v) {
  const deps = dependencies(v);
  /** @type {Scene | null} */
  let scene = null;

  /** @returns {Scene} */
  const current = () => /** @type {Scene} */ (scene);

  /** @param {string} layer @returns {number} its column, -1 when it has none */
  const columnOf = (layer) => current().columns.findIndex((c) => c.layer === layer);

  /**
   * The group a layer (its name; "" = the last layer) and an index name, if it is shown now.
   * @param {string} layer
   * @param {number} j
   * @returns {Ref | null}
   */
  const ref = (layer, j) => {
    const { columns } = current();
    const column = layer === "" ? columns[columns.length - 1] : columns.find((c) => c.layer === layer);
    return column && Number.isInteger(j) && j >= 0 && j < column.data.n ? { layer: column.layer, group: j } : null;
  };

  /** @param {Ref | null} r @returns {boolean} whether it is a group of the last layer */
  const isLast = (r) => !!r && r.layer === current().state.layer;

  /** @param {Ref | null} a @param {Ref | null} b */
  const same = (a, b) => (a === null ? b === null : !!b && a.layer === b.layer && a.group === b.group);

  /** The view state: what is hovered and probed; what is pinned is the model's. */
  const view = {
    /** @type {Ref | null} */
    hovered: null,
    /** @type {Cell | null} */
    probe: null,
    stopping: false,
    /** an image was sent; the kernel has not answered yet */
    pending: false,
    /** (selected_layer, selected_group) when it is a group shown now, else null */
    get pinned() {
      return ref(asString(model.get("selected_layer")), Number(model.get("selected_group")));
    },
  };

  /**
   * Whether something can recompute: Jupyter's widget managers mark a view whose model has no
   * live connection (an exported notebook, a dead kernel) with this class.
   */
  const connected = () => !el.closest(".jupyter-widgets-disconnected");

  /** Whether a kernel can take an image: connected, and not a standalone page's model. */
  const kernel = () => connected() && !(/** @type {any} */ (model).offline === true);

  /** @returns {Selection} */
  function selection() {
    const { spatial, n, h: rows, w: cols } = current().data;
    const pinnedRef = view.pinned;
    const shownRef = view.hovered ?? pinnedRef;
    const cell = view.probe;
    const probing = !!(cell && spatial && cell.row < rows && cell.col < cols);
    return {
      shown: shownRef && isLast(shownRef) ? shownRef.group : -1,
      pinned: pinnedRef && isLast(pinnedRef) ? pinnedRef.group : -1,
      cell: probing ? cell : null,
      shares: probing && cell && spatial ? cellShares(spatial, n, rows, cols, cell) : null,
      shownRef,
      pinnedRef,
    };
  }

  /** Show the hovered/pinned group and the probed cell (no recomputation). */
  function highlight() {
    const sel = selection();
    v.frame.highlight(sel);
    v.parts.panels.highlight(sel);
    v.parts.tiles.highlight(sel);
    v.parts.table.highlight(sel);
    v.parts.flow.highlight(sel, sel.shownRef ? columnOf(sel.shownRef.layer) : -1);
  }

  /**
   * Re-read the model and update the components that show any of `changed`.
   * @param {Set<string>} changed trait names, or "connection" / "stopping" / "pending"
   * @param {boolean} [fromModel] the names come from the model's change events
   */
  function refresh(changed, fromModel = false) {
    const state = readState(model);
    const first = scene === null;
    const data = first || DATA_FIELDS.some((f) => changed.has(f)) ? readGroupData(model) : current().data;
    const earlier =
      first || changed.has("earlier_layers") ? earlierColumns(state.earlier_layers) : current().columns.slice(0, -1);
    if (state.status !== "optimizing") view.stopping = false;
    if (view.pending && fromModel) {
      setPending(false); // the kernel answered (any change it sends is its answer)
      changed = new Set([...changed, "pending"]);
    }
    /** @type {LayerColumn} */
    const last = {
      layer: state.layer,
      key: "",
      data,
      icons: state.icons,
      count: state.n_groups || data.n,
      options: state.n_groups_options,
    };
    scene = {
      state,
      data,
      connected: connected(),
      stopping: view.stopping,
      multi: earlier.length > 0,
      columns: [...earlier, last],
      kernel: kernel(),
      pending: view.pending,
    };
    for (const [part, fields] of deps) {
      if (first || fields.some((f) => changed.has(f))) part.update(scene);
    }
    if (view.hovered && !ref(view.hovered.layer, view.hovered.group)) view.hovered = null;
    highlight();
  }

  /** Re-render the controls from the model now (a refused value may not emit any event). */
  function refreshControls() {
    refresh(new Set(["n_groups", "n_groups_options", "classes", "class_options", "layer_groups"]));
  }

  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let pendingTimer;

  /**
   * Mark an image as sent (or answered). Should the kernel send nothing back (it always should:
   * a status, an image or an error), the picker comes back after PENDING_TIMEOUT_MS.
   * @param {boolean} on
   */
  function setPending(on) {
    view.pending = on;
    clearTimeout(pendingTimer);
    pendingTimer = on
      ? setTimeout(() => {
          if (view.pending) {
            view.pending = false;
            refresh(new Set(["pending"]));
          }
        }, PENDING_TIMEOUT_MS)
      : undefined;
  }

  /** @param {string} name @param {any} value */
  function send(name, value) {
    model.set(name, value);
    model.save_changes();
  }

  /**
   * Pin a group (null: unpin): selected_layer ("" for the last layer) and selected_group, saved
   * together.
   * @param {Ref | null} r
   */
  function pin(r) {
    const layer = r && !isLast(r) ? r.layer : "";
    const group = r ? r.group : -1;
    const oldLayer = asString(model.get("selected_layer"));
    const changed = oldLayer !== layer || Number(model.get("selected_group")) !== group;
    if (!changed) return;
    if (oldLayer !== layer) model.set("selected_layer", layer);
    model.set("selected_group", group);
    model.save_changes();
  }

  return {
    view,
    refresh,
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
      return ref(layer && layer !== current().state.layer ? layer : "", Number(node.dataset.group));
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
    /** @returns {{ h: number, w: number }} the map's size in cells */
    mapSize() {
      const { h: rows, w: cols } = current().data;
      return { h: rows, w: cols };
    },
    /** @returns {boolean} whether the multi-layer view is shown */
    multi() {
      return current().multi;
    },
    /** @returns {number} groups of the last layer shown now */
    groupCount() {
      return current().data.n;
    },
    /**
     * Where the focus goes from a group for a key (multi-layer view), or null.
     * @param {Ref} r
     * @param {string} key
     * @returns {{ col: number, group: number } | null}
     */
    moveFrom(r, key) {
      return moveAcrossColumns(key, columnOf(r.layer), r.group, current().columns.map((c) => c.data.n));
    },
    /** @param {number | undefined} n the count chosen in the groups control */
    chooseGroups(n) {
      if (n != null && Number.isInteger(n) && n !== readState(model).n_groups) send("n_groups", n);
      refreshControls();
    },
    /**
     * A layer's count chosen in its column: the last layer's is n_groups, an earlier one's is
     * sent as a new layer_groups list.
     * @param {string} layer
     * @param {number} n
     */
    chooseLayerGroups(layer, n) {
      const { columns, state } = current();
      const i = columnOf(layer);
      if (i < 0 || !Number.isInteger(n) || n < 1) return;
      if (i === columns.length - 1) {
        this.chooseGroups(n);
        return;
      }
      const counts = columns.map((c, k) => state.layer_groups[k] ?? c.count);
      if (counts[i] === n) return;
      counts[i] = n;
      send("layer_groups", counts);
      refreshControls();
    },
    /**
     * Add the class a typed text refers to (as its name).
     * @param {string} text
     * @returns {boolean} whether the text named a class
     */
    addClass(text) {
      const state = readState(model);
      const name = resolveClass(text, state.class_options);
      const picker = v.parts.classes;
      if (!name) {
        picker.say(text.trim() ? `No class matches “${text.trim()}”.` : "");
        if (!text.trim()) picker.input.removeAttribute("aria-invalid");
        return false;
      }
      picker.say("");
      picker.input.value = "";
      const labels = chipLabels(state.classes, state.class_names, state.class_options);
      if (!state.classes.includes(name) && !labels.includes(name)) {
        send("classes", [...state.classes, name]);
      }
      refreshControls();
      return true;
    },
    /** @param {number} i index in `classes` (-1: the last one) */
    removeClass(i) {
      const { classes } = readState(model);
      const at = i < 0 ? classes.length + i : i;
      if (at < 0 || at >= classes.length) return;
      send("classes", classes.filter((_, k) => k !== at));
      refreshControls();
      v.parts.classes.input.focus();
    },
    stop() {
      model.send({ type: "stop" });
      view.stopping = true;
      refresh(new Set(["stopping"]));
    },
    /** @returns {boolean} whether an image can be sent now */
    canSendImage() {
      return kernel() && !view.pending;
    },
    /** @param {string} name an example image */
    chooseImage(name) {
      if (!name || !this.canSendImage()) return;
      v.parts.image.say("");
      model.send({ type: "image", name });
      setPending(true);
      refresh(new Set(["pending"]));
    },
    /**
     * Send an image file's bytes (upload or drop) as one binary buffer.
     * @param {Blob & { name?: string }} file
     * @returns {Promise<void>}
     */
    async sendImageFile(file) {
      if (!this.canSendImage()) return;
      v.parts.image.say("");
      setPending(true);
      refresh(new Set(["pending"]));
      try {
        const bytes = await readBytes(file);
        model.send({ type: "image", filename: file.name || "image" }, undefined, [bytes]);
      } catch (err) {
        setPending(false);
        v.parts.image.say(`Could not read ${file.name || "the file"}: ${err}`);
        refresh(new Set(["pending"]));
      }
    },
    dispose() {
      clearTimeout(pendingTimer);
    },
  };
}

/**
 * The bytes of a file (Blob.arrayBuffer, or a FileReader where a host lacks it).
 * @param {Blob} file
 * @returns {Promise<ArrayBuffer>}
 */
function readBytes(file) {
  if (typeof file.arrayBuffer === "function") return file.arrayBuffer();
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(/** @type {ArrayBuffer} */ (reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsArrayBuffer(file);
  });
}

/** How long (ms) the image picker waits for the kernel's answer before it is usable again. */
const PENDING_TIMEOUT_MS = 30_000;

/** @type {Record<string, number>} keys that move the focus between tiles (single-layer view) */
const TILE_MOVES = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1, Home: -Infinity, End: Infinity };

/**
 * Whether a drag carries files.
 * @param {DragEvent} e
 */
function draggingFiles(e) {
  const types = e.dataTransfer?.types;
  return !!types && Array.from(types).includes("Files");
}

/**
 * The one place where events are wired: DOM listeners (removed with one AbortController),
 * model listeners (coalesced per task) and the connection observer.
 * @param {WidgetModel} model
 * @param {HTMLElement} el
 * @param {ReturnType<typeof createView>} v
 * @param {ReturnType<typeof createController>} ctl
 * @returns {() => void} removes everything it added
 */
function wire(model, el, v, ctl) {
  const { root, parts } = v;
  const { tiles, flow, table, panels, groups, classes, status, image } = parts;
  const aborter = new AbortController();
  /**
   * @template {keyof HTMLElementEventMap} K
   * @param {EventTarget} target
   * @param {K} type
   * @param {(e: HTMLElementEventMap[K]) => void} fn
   */
  const on = (target, type, fn) =>
    target.addEventListener(type, /** @type {EventListener} */ (fn), { signal: aborter.signal });
  /** @param {EventTarget | null} t */
  const tileRef = (t) => ctl.refAt(t, ".ng-tile", flow.el);

  // Tiles of every layer (all inside the diagram): hover or focus isolates, click/Enter/Space
  // pins, arrows move the focus (along the row in the single-layer view; within a column and
  // across columns in the multi-layer view).
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

  // Curves: hovering one shows its value; the threshold hides the small ones; a column's count.
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
  if (typeof ResizeObserver !== "undefined") {
    const resized = new ResizeObserver(() => flow.layout());
    resized.observe(flow.el);
    aborter.signal.addEventListener("abort", () => resized.disconnect());
  }

  // Table: a column header or cell isolates its group (of the last layer); click pins.
  const tableRef = (/** @type {EventTarget | null} */ t) => ctl.refAt(t, "[data-group]", table.table);
  on(table.table, "mouseover", (e) => ctl.hover(tableRef(e.target)));
  on(table.table, "mouseleave", () => ctl.hover(null));
  on(table.table, "click", (e) => {
    const r = tableRef(e.target);
    if (r) ctl.togglePin(r);
  });

  // Panels: probing a cell shows the reticle and fades groups by their share of it.
  on(panels.el, "mouseenter", () => ctl.hover(null));
  on(panels.el, "mousemove", (e) => {
    const panel = e.target instanceof Element ? e.target.closest(".ng-panel") : null;
    if (!panel) return ctl.probe(null);
    const { h: rows, w: cols } = ctl.mapSize();
    ctl.probe(cellAt(e.clientX, e.clientY, panel.getBoundingClientRect(), rows, cols));
  });
  on(panels.el, "mouseleave", () => ctl.probe(null));
  on(panels.image, "load", () => panels.fitImage());

  // Escape unpins (and clears hover) anywhere in the widget except text fields. Keys pressed
  // in the widget stop here: notebooks bind single keys to commands at the document (in
  // JupyterLab's command mode "d d" deletes the cell, "b" inserts one), and a
  // data-lm-suppress-shortcuts attribute on the root is not enough, as Lumino checks the focused
  // element first.
  on(root, "keydown", (e) => {
    e.stopPropagation();
    if (e.key !== "Escape") return;
    const target = e.target;
    if (target instanceof HTMLInputElement && target.type === "text" && target.value) return;
    if (ctl.escape()) e.preventDefault();
  });

  // Groups control: the slider commits on release / keyboard step, the select on change.
  on(groups.input, "input", () => groups.preview());
  on(groups.input, "change", () => ctl.chooseGroups(groups.chosen()));
  on(groups.select, "change", () => ctl.chooseGroups(groups.chosen()));

  // Class picker and chips.
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
    const picked = !("inputType" in e) || /** @type {InputEvent} */ (e).inputType === "insertReplacementText";
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

  // Image picker: an example, an upload, or a file dropped anywhere on the widget.
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

  on(status.stop, "click", () => ctl.stop());

  // Model: the change events of one kernel message arrive in the same task; coalesce them.
  /** @type {Set<string>} */
  let pending = new Set();
  let disposed = false;
  /** @param {string} name */
  const schedule = (name) => {
    if (pending.size === 0) {
      queueMicrotask(() => {
        const changed = pending;
        pending = new Set();
        if (!disposed) ctl.refresh(changed, true);
      });
    }
    pending.add(name);
  };
  /** @type {Array<[string, () => void]>} */
  const listeners = FIELDS.map((name) => [`change:${name}`, () => schedule(name)]);
  for (const [event, cb] of listeners) model.on(event, cb);

  // The host marks a lost connection on an ancestor's class.
  const observer = new MutationObserver(() => schedule("connection"));
  for (let node = /** @type {Element | null} */ (el); node; node = node.parentElement) {
    observer.observe(node, { attributes: true, attributeFilter: ["class"] });
  }

  return () => {
    disposed = true;
    ctl.dispose();
    observer.disconnect();
    for (const [event, cb] of listeners) model.off(event, cb);
    aborter.abort();
  };
}

/**
 * anywidget entry point: build the widget in `el`, keep it in sync with `model`.
 * @param {{ model: WidgetModel, el: HTMLElement }} ctx
 * @returns {() => void} cleanup
 */
function render({ model, el }) {
  if (model.get("view") === "gallery") return renderGallery({ model, el });
  const doc = el.ownerDocument || document;
  const urls = new UrlBag();
  const v = createView(doc, urls);
  const ctl = createController(model, el, v);
  const unwire = wire(model, el, v, ctl);
  el.append(v.root);
  ctl.refresh(new Set(FIELDS));
  return function cleanup() {
    unwire();
    urls.revokeAll();
    v.root.remove();
  };
}

// =============================================================================================
// 6. The gallery of shared groups (view "gallery": display/gallery.py's GalleryState)
// =============================================================================================

/** Every synced trait the gallery reads (== the Python GalleryState traits). */
export const GALLERY_FIELDS = Object.freeze([
  "view",
  "title",
  "model_name",
  "layer",
  "n_images",
  "gallery",
  "group_colors",
  "icons",
  "icon_size",
  "status",
  "progress",
  "progress_text",
  "error",
  "selected_group",
]);

/**
 * One region of a group, as sent in `gallery[j].regions`.
 * @typedef {object} GalleryRegion
 * @property {string} image     the image's name or path
 * @property {number} index     its position among the images read
 * @property {number} y         the cell's row at the layer
 * @property {number} x         the cell's column
 * @property {number} value     the group's code at the cell
 * @property {Binary} crop      JPEG of the image around the cell (empty when none)
 * @property {number[]} box     [top, left, bottom, right]: the cell in the crop, fractions
 */

/**
 * One group of the gallery, as sent in `gallery`.
 * @typedef {object} GalleryGroup
 * @property {number} usage     share of the summed codes over the dataset, 0..1
 * @property {Array<{ name: string, value: number }>} classes  pushed most, largest first
 * @property {GalleryRegion[]} regions  strongest first
 */

/**
 * The short name of an image path (its file name), for captions.
 * @param {string} path
 * @returns {string}
 */
export function shortImageName(path) {
  const name = String(path).split(/[\\/]/).pop() || String(path);
  return name.length > 24 ? `${name.slice(0, 11)}…${name.slice(-12)}` : name;
}

/**
 * The words that describe a region (detail line, tooltip).
 * @param {GalleryRegion} r
 * @returns {string}
 */
export function regionText(r) {
  return `${r.image} · cell (${r.y}, ${r.x}) · value ${formatValue(r.value)}`;
}

/**
 * The words that say which classes a group pushes.
 * @param {GalleryGroup} g
 * @returns {string}
 */
export function classesText(g) {
  const classes = asArray(g.classes);
  if (classes.length === 0) return "";
  return `Pushes ${classes.map((c) => `${c.name} (${formatValue(c.value)})`).join(", ")}`;
}

/**
 * CSS position of a cell's box inside its crop (percentages).
 * @param {number[]} box [top, left, bottom, right] fractions
 * @returns {{ top: string, left: string, width: string, height: string }}
 */
export function boxStyle(box) {
  const [top, left, bottom, right] = asArray(box).map((v) => clamp01(Number(v)));
  const pct = (/** @type {number} */ v) => `${(v * 100).toFixed(2)}%`;
  return { top: pct(top), left: pct(left), width: pct(right - left), height: pct(bottom - top) };
}

/**
 * The gallery: one row per group (its icon tile, usage and classes, then its regions).
 * @param {Document} doc
 * @param {UrlBag} urls
 */
function createGallery(doc, urls) {
  const el = h(doc, "div", {
    class: "ng-gallery",
    role: "list",
    "aria-label": "Shared neuron groups: hover a region to read it, click a group to pin it",
  });
  /** @type {Array<{ row: HTMLElement, head: HTMLElement, img: HTMLImageElement, placeholder: HTMLElement }>} */
  let rows = [];
  let builtKey = "";

  /**
   * @param {GalleryRegion} r
   * @param {number} j
   * @param {number} i
   * @param {RGB} rgb
   */
  function region(r, j, i, rgb) {
    const url = urls.set(`crop-${j}-${i}`, toBytes(r.crop), "image/jpeg");
    const crop = url
      ? h(doc, "img", { class: "ng-region-crop", src: url, alt: `Region of ${r.image}`, draggable: "false" })
      : h(doc, "div", { class: "ng-region-crop ng-icon-placeholder", role: "img", "aria-label": "No crop" });
    const cell = h(doc, "div", { class: "ng-region-cell" });
    Object.assign(cell.style, boxStyle(r.box));
    cell.style.borderColor = cssColor(rgb);
    const caption = h(doc, "div", { class: "ng-region-caption", text: formatValue(r.value) });
    return h(
      doc,
      "div",
      {
        class: "ng-region",
        "data-group": j,
        "data-index": i,
        tabindex: 0,
        role: "img",
        "aria-label": regionText(r),
        title: regionText(r),
      },
      [h(doc, "div", { class: "ng-region-frame" }, [crop, cell]), caption],
    );
  }

  /**
   * @param {GalleryGroup} g
   * @param {number} j
   * @param {RGB} rgb
   */
  function groupRow(g, j, rgb) {
    const img = h(doc, "img", { class: "ng-icon", alt: `Feature visualisation of group ${j}`, hidden: true });
    const placeholder = h(doc, "div", {
      class: "ng-icon ng-icon-placeholder",
      role: "img",
      "aria-label": `Icon of group ${j} not ready yet`,
    });
    const strip = h(doc, "div", { class: "ng-tile-strip" }, [h(doc, "span", { class: "ng-tile-label", text: String(j) })]);
    strip.style.background = cssColor(rgb);
    strip.style.color = textColor(rgb);
    const head = h(
      doc,
      "div",
      {
        class: "ng-tile",
        "data-group": j,
        role: "button",
        tabindex: 0,
        "aria-pressed": "false",
        "aria-label": `Group ${j}`,
        title: `Group ${j}: click to pin`,
      },
      [img, placeholder, strip],
    );
    head.style.setProperty("--ng-group-color", cssColor(rgb));
    const usage = h(doc, "div", { class: "ng-gallery-usage", text: `${(g.usage * 100).toFixed(1)}% of use` });
    const classes = h(doc, "div", { class: "ng-gallery-classes", text: classesText(g) });
    classes.hidden = !classes.textContent;
    const regions = h(
      doc,
      "div",
      { class: "ng-gallery-regions" },
      asArray(g.regions).map((r, i) => region(r, j, i, rgb)),
    );
    const row = h(doc, "div", { class: "ng-gallery-group", role: "listitem", "data-group": j }, [
      h(doc, "div", { class: "ng-gallery-head" }, [head, h(doc, "div", { class: "ng-gallery-about" }, [usage, classes])]),
      regions,
    ]);
    row.style.setProperty("--ng-group-color", cssColor(rgb));
    return { row, head, img, placeholder };
  }

  return {
    el,
    /**
     * @param {GalleryGroup[]} groups
     * @param {RGB[]} colors
     * @param {Binary[]} icons
     */
    update(groups, colors, icons) {
      // Rebuilt only when the groups change (the crops are many); icons update in place.
      const key = JSON.stringify([groups.length, colors, groups.map((g) => [g.usage, g.classes, asArray(g.regions).length])]);
      if (key !== builtKey || rows.length !== groups.length) {
        builtKey = key;
        urls.revokeWhere((k) => k.startsWith("crop-"));
        rows = groups.map((g, j) => groupRow(g, j, toRGB(colors[j]) ?? FALLBACK_RGB));
        el.replaceChildren(...rows.map((r) => r.row));
      }
      rows.forEach((r, j) => {
        const url = urls.set(`gallery-icon-${j}`, toBytes(icons[j]));
        if (url) r.img.src = url;
        else r.img.removeAttribute("src");
        r.img.hidden = !url;
        r.placeholder.hidden = !!url;
        r.head.classList.toggle("is-loading", !url);
      });
    },
    /** @param {{ shown: number, pinned: number, region: HTMLElement | null }} sel */
    highlight({ shown, pinned, region }) {
      rows.forEach((r, j) => {
        r.row.classList.toggle("is-selected", j === shown);
        r.row.classList.toggle("is-pinned", j === pinned);
        r.head.classList.toggle("is-selected", j === shown);
        r.head.classList.toggle("is-pinned", j === pinned);
        r.head.setAttribute("aria-pressed", String(j === pinned));
      });
      for (const node of el.querySelectorAll(".ng-region.is-hovered")) {
        if (node !== region) node.classList.remove("is-hovered");
      }
      region?.classList.add("is-hovered");
    },
  };
}

/**
 * The gallery view, in `el`, kept in sync with `model` (GalleryState).
 * @param {{ model: WidgetModel, el: HTMLElement }} ctx
 * @returns {() => void} cleanup
 */
function renderGallery({ model, el }) {
  const doc = el.ownerDocument || document;
  const urls = new UrlBag();
  const title = h(doc, "div", { class: "ng-title" });
  const meta = h(doc, "div", { class: "ng-meta" });
  const error = h(doc, "div", { class: "ng-error", role: "alert", hidden: true });
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
    [h(doc, "div", { class: "ng-header" }, [title, meta]), error, progress, detail, gallery.el],
  );
  const offline = /** @type {any} */ (model).offline === true;
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
    root.dataset.selected = String(shown);
    root.dataset.pinned = String(pin);
    gallery.highlight({ shown, pinned: pin, region });
  }

  function refresh() {
    const status = asString(model.get("status"));
    title.textContent = asString(model.get("title"));
    title.hidden = !title.textContent;
    const n = Number(model.get("n_images")) || 0;
    meta.textContent = [asString(model.get("model_name")), asString(model.get("layer")), `${groups().length} groups over ${n} images`]
      .filter(Boolean)
      .join(" · ");
    error.textContent = asString(model.get("error"));
    error.hidden = !error.textContent;
    progress.hidden = offline || !(status === "optimizing" || status === "computing");
    const value = Number(model.get("progress")) || 0;
    bar.value = value;
    bar.setAttribute("aria-valuetext", `${Math.round(value * 100)}%`);
    text.textContent = asString(model.get("progress_text"));
    root.dataset.status = status;
    root.style.setProperty("--ng-icon-size", `${Math.max(16, Number(model.get("icon_size")) || 80)}px`);
    gallery.update(groups(), asArray(model.get("group_colors")), asArray(model.get("icons")));
    highlight();
  }

  /** @param {EventTarget | null} t @returns {HTMLElement | null} */
  const regionAt = (t) => (t instanceof Element ? /** @type {HTMLElement | null} */ (t.closest(".ng-region")) : null);
  /** @param {EventTarget | null} t @returns {number} the group of the row under t, -1 none */
  const groupAt = (t) => {
    const row = t instanceof Element ? t.closest(".ng-gallery-group") : null;
    return row instanceof HTMLElement ? Number(row.dataset.group) : -1;
  };
  /** @param {HTMLElement | null} node */
  function showRegion(node) {
    region = node;
    if (node) {
      const r = groups()[Number(node.dataset.group)]?.regions?.[Number(node.dataset.index)];
      if (r) detail.textContent = regionText(r);
    }
  }
  /** @param {number} j */
  function togglePin(j) {
    model.set("selected_group", pinned() === j ? -1 : j);
    model.save_changes();
  }

  const aborter = new AbortController();
  const opts = { signal: aborter.signal };
  gallery.el.addEventListener(
    "mouseover",
    (e) => {
      hovered = groupAt(e.target);
      showRegion(regionAt(e.target));
      highlight();
    },
    opts,
  );
  gallery.el.addEventListener(
    "mouseleave",
    () => {
      hovered = -1;
      region = null;
      highlight();
    },
    opts,
  );
  gallery.el.addEventListener(
    "focusin",
    (e) => {
      hovered = groupAt(e.target);
      showRegion(regionAt(e.target));
      highlight();
    },
    opts,
  );
  gallery.el.addEventListener(
    "click",
    (e) => {
      const j = groupAt(e.target);
      if (j >= 0 && e.target instanceof Element && e.target.closest(".ng-tile, .ng-region")) togglePin(j);
    },
    opts,
  );
  gallery.el.addEventListener(
    "keydown",
    (e) => {
      const j = groupAt(e.target);
      if (j >= 0 && (e.key === "Enter" || e.key === " ")) {
        e.preventDefault();
        togglePin(j);
      }
    },
    opts,
  );
  stop.addEventListener(
    "click",
    () => {
      stop.disabled = true;
      stop.textContent = "Stopping…";
      model.send({ type: "stop" });
    },
    opts,
  );
  const names = GALLERY_FIELDS.map((f) => `change:${f}`).join(" ");
  model.on(names, refresh);
  el.append(root);
  refresh();
  return function cleanup() {
    model.off(names, refresh);
    aborter.abort();
    urls.revokeAll();
    root.remove();
  };
}

// =============================================================================================
// 5. StaticModel and the standalone page
// =============================================================================================

/**
 * A minimal in-memory stand-in for the anywidget model: get/set/on/off/save_changes/send with
 * `change:<name>` (and `change`) events. `variants` maps an n_groups value (string key) to a
 * partial state swapped in when `n_groups` is set to that value, so the groups control works
 * offline for precomputed counts. Setting n_groups to a value without a variant (when variants
 * exist) keeps the old data and sets `error` to say which counts are available.
 */
export class StaticModel {
  /**
   * @param {Record<string, any>} [state]
   * @param {Record<string, Record<string, any>>} [variants]
   * @param {{ offline?: boolean }} [options] offline: no kernel stands behind it (a standalone
   *        page), so nothing that needs one (the image picker) is offered
   */
  constructor(state = {}, variants = {}, options = {}) {
    /** @type {Record<string, any>} */
    this.state = { ...state };
    /** no kernel behind this model (a standalone page) */
    this.offline = !!options.offline;
    /** @type {Record<string, Record<string, any>>} */
    this.variants = variants || {};
    /** @type {Map<string, Set<(...args: any[]) => void>>} */
    this.listeners = new Map();
    /** @type {any[]} messages passed to send() */
    this.sent = [];
    /** @type {any[][]} the buffers passed with each message */
    this.buffers = [];
    /** number of save_changes() calls */
    this.saves = 0;
    /** @private */
    this.variantError = "";
  }

  /** @param {string} name */
  get(name) {
    return this.state[name];
  }

  /**
   * @param {string} name
   * @param {any} value
   */
  set(name, value) {
    if (name === "n_groups" && Object.keys(this.variants).length > 0) {
      const variant = this.variants[String(value)];
      if (variant) {
        for (const [k, v] of Object.entries(variant)) if (k !== "n_groups") this.setOne(k, v);
        if (this.variantError && this.state.error === this.variantError) this.setOne("error", "");
        this.variantError = "";
      } else {
        const counts = Object.keys(this.variants).join(", ");
        this.variantError = `No precomputed groups for n_groups=${value} in this page (available: ${counts}).`;
        this.setOne("error", this.variantError);
        return;
      }
    }
    this.setOne(name, value);
  }

  /**
   * @private
   * @param {string} name
   * @param {any} value
   */
  setOne(name, value) {
    const old = this.state[name];
    if (old === value) return;
    this.state[name] = value;
    this.emit(`change:${name}`, this, value);
    this.emit("change", this);
  }

  /**
   * @param {string} events one or more space-separated event names
   * @param {(...args: any[]) => void} cb
   */
  on(events, cb) {
    for (const event of String(events).split(/\s+/).filter(Boolean)) {
      if (!this.listeners.has(event)) this.listeners.set(event, new Set());
      // (Not a line that starts with a comment: the page's compact copy drops those.)
      const set = /** @type {Set<(...args: any[]) => void>} */ (this.listeners.get(event));
      set.add(cb);
    }
  }

  /**
   * Remove listeners: all (no arguments), of one event, or one callback (of one/all events).
   * @param {string | null} [events]
   * @param {((...args: any[]) => void) | null} [cb]
   */
  off(events, cb) {
    const names = events ? String(events).split(/\s+/).filter(Boolean) : [...this.listeners.keys()];
    for (const event of names) {
      const set = this.listeners.get(event);
      if (!set) continue;
      if (cb) set.delete(cb);
      else set.clear();
      if (set.size === 0) this.listeners.delete(event);
    }
  }

  /**
   * Fire an event (e.g. "msg:custom" for a page that simulates kernel messages).
   * @param {string} event
   * @param {...any} args
   */
  emit(event, ...args) {
    for (const cb of [...(this.listeners.get(event) ?? [])]) cb(...args);
  }

  /** @returns {number} number of listeners registered (for leak checks) */
  listenerCount() {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  save_changes() {
    this.saves += 1;
  }

  /**
   * Record a message (and its binary buffers, in `buffers`).
   * @param {any} msg
   * @param {any} [_callbacks]
   * @param {any[]} [buffers]
   */
  send(msg, _callbacks, buffers) {
    this.sent.push(msg);
    this.buffers.push(buffers ?? []);
  }
}

/**
 * The data a standalone page carries (JSON; bytes as {"$base64": "..."}).
 * @typedef {object} PageData
 * @property {string} [esm]                 this module's source (used by the page's loader)
 * @property {Record<string, any>} state    every field of FIELDS
 * @property {Record<string, Record<string, any>>} [variants]  GROUP_FIELDS per other cached
 *                                          count, keyed by the count; the current one is not
 *                                          repeated (rebuilt here from `state`)
 */

/**
 * Start a standalone page: revive the binary values, rebuild the current count's variant from
 * the state, make a StaticModel and render the widget into `root`, then mark
 * `root.dataset.ready = "true"`. On failure, show a message in `root` (class ng-page-error)
 * and rethrow.
 * @param {HTMLElement} root
 * @param {PageData} data
 * @returns {{ model: StaticModel, cleanup: () => void }}
 */
export function mountPage(root, data) {
  try {
    if (!data || typeof data.state !== "object" || data.state === null) {
      throw new TypeError("the page has no widget state");
    }
    const state = reviveBinary(data.state);
    /** @type {Record<string, Record<string, any>>} */
    const variants = reviveBinary(data.variants ?? {});
    // The count shown first is a variant too (so the control can come back to it).
    const current = String(state.n_groups);
    if (Object.keys(variants).length > 0 && !(current in variants)) {
      variants[current] = Object.fromEntries(GROUP_FIELDS.map((k) => [k, state[k]]));
    }
    const model = new StaticModel(state, variants, { offline: true });
    const cleanup = render({ model, el: root });
    root.dataset.ready = "true";
    return { model, cleanup };
  } catch (err) {
    const doc = root.ownerDocument;
    const message = doc.createElement("p");
    message.className = "ng-page-error";
    message.textContent = `The neuron groups could not be shown: ${err}`;
    root.replaceChildren(message);
    throw err;
  }
}

export default { render };
