// @ts-check
/**
 * neuron-groups — the front end of `GroupWidget` (an anywidget ES module) and of the standalone
 * page (`mountPage`).
 *
 * Shows the "neuron groups" of one layer of a vision network for one image: the input image and
 * a colour-coded map of where each group fires, one feature-visualisation icon per group, and a
 * class x group attribution table. The layout and interactions follow the GroupWidget of Lucid
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
 *   3. Components: header, error, groups control, class picker, status, panels, tiles, table.
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

/** @typedef {"computing" | "optimizing" | "ready" | "stopped" | "error"} Status */

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
 * Read the group traits into one consistent GroupData. The number of groups comes from the
 * spatial maps when they are present and well formed (traits may arrive one by one while the
 * kernel recomputes), otherwise from n_groups (or group_colors).
 * @param {{ get: (name: string) => any }} model
 * @returns {GroupData}
 */
export function readGroupData(model) {
  const shape = model.get("spatial_shape");
  let spatial = decodeFloat32(model.get("spatial"));
  const colors = asArray(model.get("group_colors")).map(toRGB);
  let n = 0;
  let h = 0;
  let w = 0;
  if (Array.isArray(shape) && shape.length === 3 && shape.every((v) => Number.isInteger(v) && v >= 0)) {
    [n, h, w] = shape;
  }
  if (!spatial || n * h * w === 0 || spatial.length !== n * h * w) {
    spatial = null;
    n = Math.max(0, Number(model.get("n_groups")) || 0) || colors.length;
    if (!(h > 0 && w > 0)) h = w = 0;
  }
  /** @type {RGB[]} */
  const rgb = [];
  for (let j = 0; j < n; j++) rgb.push(colors[j] ?? FALLBACK_RGB);
  const classNames = asArray(model.get("class_names")).map(asString);
  let attributions = decodeFloat32(model.get("attributions"));
  if (attributions && attributions.length !== classNames.length * n) attributions = null;
  let maxAbs = 0;
  if (attributions) {
    for (const v of attributions) if (Number.isFinite(v)) maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  return { n, h, w, spatial, rgb, classNames, attributions, maxAbs };
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
  return v > 0 ? `rgba(33, 113, 181, ${a})` : `rgba(230, 85, 13, ${a})`;
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
 * @returns {Uint8ClampedArray} size*4 RGBA
 */
function colorLayer(spatial, j, size, rgb) {
  const out = new Uint8ClampedArray(size * 4);
  const [r, g, b] = rgb;
  for (let p = 0; p < size; p++) {
    const v = clamp01(spatial[j * size + p]);
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
 * Compute every group's colour layer, spotlight mask and the lighten composite (RGBA, h x w).
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
  for (let j = 0; j < n; j++) {
    color.push(colorLayer(spatial, j, size, rgb[j]));
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
  return { color, gray, composite: lighten(color, size) };
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
 */

/**
 * Which group is shown and which cell is probed (view state, applied without recomputation).
 * @typedef {object} Selection
 * @property {number} shown   hovered group, else pinned group, else -1
 * @property {number} pinned  selected_group when valid, else -1
 * @property {Cell | null} cell  probed cell (inside the map) or null
 * @property {Float32Array | null} shares  each group's share of the probed cell
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
 * The group index of the closest element matching `selector` around `target` inside `scope`,
 * or -1.
 * @param {EventTarget | null} target
 * @param {string} selector
 * @param {Element} scope
 * @param {number} n number of groups
 * @returns {number}
 */
function groupOf(target, selector, scope, n) {
  if (!(target instanceof Element)) return -1;
  const node = /** @type {HTMLElement | null} */ (target.closest(selector));
  if (!node || !scope.contains(node)) return -1;
  const j = Number(node.dataset.group);
  return Number.isInteger(j) && j >= 0 && j < n ? j : -1;
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
   * @returns {string | null}
   */
  set(key, bytes) {
    const old = this.bytes.get(key);
    if (bytes && bytes.byteLength > 0 && old && sameBytes(old, bytes)) {
      return /** @type {string} */ (this.urls.get(key));
    }
    this.revoke(key);
    if (!bytes || bytes.byteLength === 0) return null;
    let url;
    if (typeof URL !== "undefined" && typeof URL.createObjectURL === "function") {
      url = URL.createObjectURL(new Blob([/** @type {BlobPart} */ (bytes)], { type: "image/png" }));
    } else {
      url = `data:image/png;base64,${encodeBase64(bytes)}`;
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
    update({ state }) {
      title.textContent = state.title;
      title.hidden = !state.title;
      const parts = [state.model_name, state.layer].filter(Boolean);
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
    update({ state, stopping }) {
      progress.hidden = state.status !== "optimizing";
      const pct = `${Math.round(state.progress * 100)}%`;
      bar.value = state.progress;
      bar.setAttribute("aria-valuetext", pct);
      text.textContent = state.progress_text || `Icons: ${pct}`;
      stop.disabled = stopping;
      stop.textContent = stopping ? "Stopping…" : "Stop";
      const msg = STATUS_MESSAGES[state.status] ?? "";
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
    update({ state, data, connected }) {
      const n = state.n_groups || data.n;
      counts = groupCounts(state.n_groups_options, n);
      const mode = groupsMode(counts);
      el.dataset.mode = mode;
      el.hidden = counts.length === 0;
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
    const layers = computeLayers(d.spatial, d.n, d.h, d.w, d.rgb);
    putPixels(map, layers.composite, d.w, d.h);
    for (let j = 0; j < d.n; j++) {
      for (const kind of /** @type {const} */ (["color", "gray"])) {
        const c = doc.createElement("canvas");
        c.width = d.w;
        c.height = d.h;
        putPixels(c, layers[kind][j], d.w, d.h);
        canvases[kind].push(c);
      }
    }
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
    update({ state, data }) {
      const url = urls.set("image", toBytes(state.image));
      if (url) image.src = url;
      else image.removeAttribute("src");
      image.hidden = !url;
      image.alt = `Input image${state.title ? `: ${state.title}` : ""}`;
      if (data !== drawn) draw(data);
    },
    /** @param {Selection} sel */
    highlight({ shown, cell }) {
      if (shown >= 0) {
        blit(spotlight, canvases.gray[shown]);
        blit(mapGroup, canvases.color[shown]);
        spotlight.setAttribute("aria-label", `Spotlight: where group ${shown} is present in the image`);
        mapGroup.setAttribute("aria-label", `Map of group ${shown}: where it is present`);
      }
      spotlight.hidden = shown < 0;
      mapGroup.hidden = shown < 0;
      map.hidden = shown >= 0;
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
 * One tile per group: its icon (or a placeholder) over a strip in its colour.
 * @param {Document} doc
 * @param {UrlBag} urls
 */
function createTiles(doc, urls) {
  const el = h(doc, "div", {
    class: "ng-tiles",
    role: "group",
    "aria-label": "Neuron groups: hover or focus to isolate, click or Enter to pin",
  });
  /** @type {Array<{ el: HTMLElement, img: HTMLImageElement, placeholder: HTMLElement }>} */
  let tiles = [];
  let builtKey = "";

  /** @param {number} j @param {RGB} rgb */
  function tile(j, rgb) {
    const img = h(doc, "img", {
      class: "ng-icon",
      alt: `Feature visualisation of group ${j}`,
      draggable: "false",
      hidden: true,
    });
    const placeholder = h(doc, "div", {
      class: "ng-icon ng-icon-placeholder",
      role: "img",
      "aria-label": `Icon of group ${j} not ready yet`,
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
        role: "button",
        tabindex: 0,
        "aria-pressed": "false",
        "aria-label": `Group ${j}`,
        title: `Group ${j}: hover to isolate, click to pin`,
      },
      [img, placeholder, strip],
    );
    node.style.setProperty("--ng-group-color", cssColor(rgb));
    return { el: node, img, placeholder };
  }

  /** @param {GroupData} d */
  function build(d) {
    const focused = doc.activeElement;
    const refocus = focused instanceof HTMLElement && el.contains(focused) ? focused.dataset.group : null;
    tiles = d.rgb.map((rgb, j) => tile(j, rgb));
    el.replaceChildren(...tiles.map((t) => t.el));
    if (refocus != null) tiles[Number(refocus)]?.el.focus();
  }

  return {
    el,
    /** @param {number} j */
    focus(j) {
      tiles[j]?.el.focus();
    },
    /** @param {Scene} s */
    update({ state, data }) {
      const key = data.rgb.map((c) => c.join(",")).join(";");
      if (key !== builtKey || tiles.length !== data.n) {
        builtKey = key;
        build(data);
      }
      tiles.forEach((t, j) => {
        const url = urls.set(`icon-${j}`, toBytes(state.icons[j]));
        if (url) t.img.src = url;
        else t.img.removeAttribute("src");
        t.img.hidden = !url;
        t.placeholder.hidden = !!url;
        t.el.classList.toggle("is-loading", !url);
      });
      urls.revokeWhere((key) => {
        const m = /^icon-(\d+)$/.exec(key);
        return !!m && Number(m[1]) >= tiles.length;
      });
    },
    /** @param {Selection} sel */
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

// ---- the whole --------------------------------------------------------------------------------

let instanceCounter = 0;

/**
 * Every component, and the root element holding them in page order.
 * @param {Document} doc
 * @param {UrlBag} urls
 */
function createView(doc, urls) {
  const uid = `ng-${++instanceCounter}-${Math.random().toString(36).slice(2, 7)}`;
  const parts = {
    header: createHeader(doc),
    error: createErrorBanner(doc),
    groups: createGroupsControl(doc, uid),
    classes: createClassPicker(doc, uid),
    status: createStatus(doc),
    panels: createPanels(doc, urls),
    tiles: createTiles(doc, urls),
    table: createTable(doc),
  };
  const root = h(
    doc,
    "div",
    { class: "neuron-groups", "data-lm-suppress-shortcuts": "true", "data-selected": -1, "data-pinned": -1 },
    [
      parts.header.el,
      parts.error.el,
      h(doc, "div", { class: "ng-controls" }, [parts.groups.el, parts.classes.el]),
      ...parts.status.nodes,
      parts.panels.el,
      h(doc, "div", { class: "ng-hint", text: "Hover a group to isolate it; click to pin." }),
      parts.tiles.el,
      parts.table.el,
    ],
  );
  const frame = {
    el: root,
    /** @param {Scene} s */
    update({ state }) {
      root.dataset.status = state.status;
      root.classList.toggle("is-computing", state.status === "computing");
      root.setAttribute("aria-busy", String(state.status === "computing"));
      root.style.setProperty("--ng-icon-size", `${Math.max(16, state.icon_size)}px`);
      const label = state.title || [state.model_name, state.layer].filter(Boolean).join(" ") || "input image";
      root.setAttribute("aria-label", `Neuron groups of ${label}`);
    },
    /** @param {Selection} sel */
    highlight({ shown, pinned, cell }) {
      root.dataset.selected = String(shown);
      root.dataset.pinned = String(pinned);
      root.classList.toggle("has-selection", shown >= 0);
      root.classList.toggle("is-probing", !!cell);
    },
  };
  return { root, parts, frame };
}

/**
 * Which component shows which traits ("connection" and "stopping" are view facts).
 * @param {ReturnType<typeof createView>} v
 * @returns {Array<[{ update: (s: Scene) => void }, readonly string[]]>}
 */
function dependencies({ parts, frame }) {
  return [
    [frame, ["status", "title", "model_name", "layer", "icon_size"]],
    [parts.header, ["title", "model_name", "layer", "predictions"]],
    [parts.error, ["error"]],
    [parts.groups, [...DATA_FIELDS, "n_groups_options", "connection"]],
    [parts.classes, ["classes", "class_options", "class_names", "connection"]],
    [parts.status, ["status", "progress", "progress_text", "stopping"]],
    [parts.panels, [...DATA_FIELDS, "image", "title"]],
    [parts.tiles, [...DATA_FIELDS, "icons", "icon_size"]],
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

  /** @param {number} j @returns {number} j if it is a group shown now, else -1 */
  const valid = (j) => (Number.isInteger(j) && j >= 0 && j < current().data.n ? j : -1);

  /** The view state: what is hovered and probed; what is pinned is the model's. */
  const view = {
    hovered: -1,
    /** @type {Cell | null} */
    probe: null,
    stopping: false,
    /** selected_group when it is a group shown now, else -1 */
    get pinned() {
      return valid(Number(model.get("selected_group")));
    },
  };

  /**
   * Whether something can recompute: Jupyter's widget managers mark a view whose model has no
   * live connection (an exported notebook, a dead kernel) with this class.
   */
  const connected = () => !el.closest(".jupyter-widgets-disconnected");

  /** @returns {Selection} */
  function selection() {
    const { spatial, n, h: rows, w: cols } = current().data;
    const pinned = view.pinned;
    const shown = valid(view.hovered) >= 0 ? view.hovered : pinned;
    const cell = view.probe;
    const probing = !!(cell && spatial && cell.row < rows && cell.col < cols);
    return {
      shown,
      pinned,
      cell: probing ? cell : null,
      shares: probing && cell && spatial ? cellShares(spatial, n, rows, cols, cell) : null,
    };
  }

  /** Show the hovered/pinned group and the probed cell (no recomputation). */
  function highlight() {
    const sel = selection();
    v.frame.highlight(sel);
    v.parts.panels.highlight(sel);
    v.parts.tiles.highlight(sel);
    v.parts.table.highlight(sel);
  }

  /**
   * Re-read the model and update the components that show any of `changed`.
   * @param {Set<string>} changed trait names, or "connection" / "stopping"
   */
  function refresh(changed) {
    const state = readState(model);
    const first = scene === null;
    const data = first || DATA_FIELDS.some((f) => changed.has(f)) ? readGroupData(model) : current().data;
    if (state.status !== "optimizing") view.stopping = false;
    scene = { state, data, connected: connected(), stopping: view.stopping };
    for (const [part, fields] of deps) {
      if (first || fields.some((f) => changed.has(f))) part.update(scene);
    }
    if (view.hovered >= data.n) view.hovered = -1;
    highlight();
  }

  /** Re-render the controls from the model now (a refused value may not emit any event). */
  function refreshControls() {
    refresh(new Set(["n_groups", "n_groups_options", "classes", "class_options"]));
  }

  /** @param {string} name @param {any} value */
  function send(name, value) {
    model.set(name, value);
    model.save_changes();
  }

  return {
    view,
    refresh,
    /** @param {number} j group, -1 none */
    hover(j) {
      if (view.hovered === j) return;
      view.hovered = j;
      highlight();
    },
    /** @param {number} j */
    togglePin(j) {
      const next = view.pinned === j ? -1 : j;
      if (Number(model.get("selected_group")) !== next) send("selected_group", next);
      highlight();
    },
    /** Escape: unpin (and clear the hover); true when something was unpinned. */
    escape() {
      view.hovered = -1;
      const unpin = view.pinned >= 0;
      if (unpin) send("selected_group", -1);
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
    /** @returns {number} groups shown now */
    groupCount() {
      return current().data.n;
    },
    /** @param {number | undefined} n the count chosen in the groups control */
    chooseGroups(n) {
      if (n != null && Number.isInteger(n) && n !== readState(model).n_groups) send("n_groups", n);
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
  };
}

/** @type {Record<string, number>} keys that move the focus between tiles */
const TILE_MOVES = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1, Home: -Infinity, End: Infinity };

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
  const { tiles, table, panels, groups, classes, status } = parts;
  const aborter = new AbortController();
  /**
   * @template {keyof HTMLElementEventMap} K
   * @param {EventTarget} target
   * @param {K} type
   * @param {(e: HTMLElementEventMap[K]) => void} fn
   */
  const on = (target, type, fn) =>
    target.addEventListener(type, /** @type {EventListener} */ (fn), { signal: aborter.signal });
  /** @param {EventTarget | null} t @param {string} selector @param {Element} scope */
  const group = (t, selector, scope) => groupOf(t, selector, scope, ctl.groupCount());

  // Tiles: hover or focus isolates, click/Enter/Space pins, arrows move focus.
  on(tiles.el, "mouseover", (e) => {
    const j = group(e.target, ".ng-tile", tiles.el);
    if (j >= 0) ctl.hover(j);
  });
  on(tiles.el, "mouseleave", () => ctl.hover(-1));
  on(tiles.el, "click", (e) => {
    const j = group(e.target, ".ng-tile", tiles.el);
    if (j >= 0) ctl.togglePin(j);
  });
  on(tiles.el, "focusin", (e) => {
    const j = group(e.target, ".ng-tile", tiles.el);
    if (j >= 0) ctl.hover(j);
  });
  on(tiles.el, "focusout", (e) => {
    if (group(e.relatedTarget, ".ng-tile", tiles.el) < 0) ctl.hover(-1);
  });
  on(tiles.el, "keydown", (e) => {
    const j = group(e.target, ".ng-tile", tiles.el);
    if (j < 0 || e.altKey || e.ctrlKey || e.metaKey) return;
    const n = ctl.groupCount();
    if (e.key in TILE_MOVES) {
      e.preventDefault();
      const d = TILE_MOVES[e.key];
      tiles.focus(d === Infinity ? n - 1 : d === -Infinity ? 0 : (j + d + n) % n);
    } else if (e.key === "Enter" || e.key === " " || e.key === "Spacebar") {
      e.preventDefault();
      ctl.togglePin(j);
    }
  });

  // Table: a column header or cell isolates its group; click pins.
  on(table.table, "mouseover", (e) => ctl.hover(group(e.target, "[data-group]", table.table)));
  on(table.table, "mouseleave", () => ctl.hover(-1));
  on(table.table, "click", (e) => {
    const j = group(e.target, "[data-group]", table.table);
    if (j >= 0) ctl.togglePin(j);
  });

  // Panels: probing a cell shows the reticle and fades groups by their share of it.
  on(panels.el, "mouseenter", () => ctl.hover(-1));
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
        if (!disposed) ctl.refresh(changed);
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
   */
  constructor(state = {}, variants = {}) {
    /** @type {Record<string, any>} */
    this.state = { ...state };
    /** @type {Record<string, Record<string, any>>} */
    this.variants = variants || {};
    /** @type {Map<string, Set<(...args: any[]) => void>>} */
    this.listeners = new Map();
    /** @type {any[]} messages passed to send() */
    this.sent = [];
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
      /** @type {Set<(...args: any[]) => void>} */ (this.listeners.get(event)).add(cb);
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

  /** @param {any} msg */
  send(msg) {
    this.sent.push(msg);
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
    const model = new StaticModel(state, variants);
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
