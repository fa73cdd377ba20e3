// @ts-check
/**
 * neuron-groups — the front end of `GroupWidget` (an anywidget ES module).
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
 * standalone HTML page driven by the exported `StaticModel`.
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
 *     .ng-icon (<img>) / .ng-icon-placeholder (icon not ready), .ng-tile-strip (group colour)
 *   .ng-table                      th[data-group] (column header with .ng-swatch) and
 *                                  td[data-group][data-class]; is-selected / is-pinned on the
 *                                  shown group's column; faded like the tiles while probing
 *   .ng-groups-input (range over n_groups_options), .ng-groups-value
 *   .ng-class-input, .ng-class-add, .ng-chip[data-class] > .ng-chip-remove, .ng-class-hint
 *   .ng-title, .ng-meta, .ng-predictions
 *
 * Named exports: StaticModel (in-memory model for pages/tests), decodeBase64, and a few pure
 * helpers used by the tests.
 */

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

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
 * Decoded, self-consistent view of the data traits.
 * @typedef {object} GroupData
 * @property {number} n                  number of groups shown
 * @property {number} h                  spatial map rows
 * @property {number} w                  spatial map columns
 * @property {Float32Array | null} spatial  n*h*w values in [0, 1], or null when missing
 * @property {string[]} colors           CSS colour per group
 * @property {Array<[number, number, number]>} rgb  colour per group as 0..255 channels
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

// ---------------------------------------------------------------------------------------------
// Data decoding
// ---------------------------------------------------------------------------------------------

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
 * Parse a CSS colour: #rgb, #rgba, #rrggbb, #rrggbbaa, rgb()/rgba(), hsl()/hsla().
 * Returns null for anything else (named colours are resolved with a canvas when possible).
 * @param {string} css
 * @returns {[number, number, number] | null}
 */
export function parseColor(css) {
  const s = String(css ?? "").trim().toLowerCase();
  let m = /^#([0-9a-f]{3,8})$/.exec(s);
  if (m) {
    const hex = m[1];
    if (hex.length === 3 || hex.length === 4) {
      return /** @type {[number, number, number]} */ (
        [0, 1, 2].map((i) => parseInt(hex[i] + hex[i], 16))
      );
    }
    if (hex.length === 6 || hex.length === 8) {
      return /** @type {[number, number, number]} */ (
        [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16))
      );
    }
    return null;
  }
  m = /^(rgba?|hsla?)\(([^)]*)\)$/.exec(s);
  if (!m) return null;
  const parts = m[2].split(/[\s,/]+/).filter(Boolean);
  if (parts.length < 3) return null;
  if (m[1].startsWith("rgb")) {
    const ch = parts.slice(0, 3).map((p) =>
      p.endsWith("%") ? (parseFloat(p) / 100) * 255 : parseFloat(p),
    );
    if (ch.some((v) => !Number.isFinite(v))) return null;
    return /** @type {[number, number, number]} */ (
      ch.map((v) => Math.round(Math.min(255, Math.max(0, v))))
    );
  }
  const hue = parseHue(parts[0]);
  const sat = parseFloat(parts[1]) / 100;
  const light = parseFloat(parts[2]) / 100;
  if (![hue, sat, light].every(Number.isFinite)) return null;
  return hslToRgb(hue, sat, light);
}

/**
 * @param {string} p  hue with optional unit (deg, turn, rad)
 * @returns {number} degrees
 */
function parseHue(p) {
  const v = parseFloat(p);
  if (p.endsWith("turn")) return v * 360;
  if (p.endsWith("rad")) return (v * 180) / Math.PI;
  return v;
}

/**
 * @param {number} hue degrees
 * @param {number} s 0..1
 * @param {number} l 0..1
 * @returns {[number, number, number]}
 */
function hslToRgb(hue, s, l) {
  const h = (((hue % 360) + 360) % 360) / 360;
  const sat = Math.min(1, Math.max(0, s));
  const lig = Math.min(1, Math.max(0, l));
  const a = sat * Math.min(lig, 1 - lig);
  /** @param {number} n */
  const f = (n) => {
    const k = (n + h * 12) % 12;
    return lig - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
  };
  return [Math.round(f(0) * 255), Math.round(f(8) * 255), Math.round(f(4) * 255)];
}

/**
 * Default colour of group j of n, as in the original widget.
 * @param {number} j
 * @param {number} n
 * @returns {string}
 */
export function defaultColor(j, n) {
  return `hsl(${(j * 360) / Math.max(1, n)}, 80%, 50%)`;
}

/**
 * Read the data traits into one consistent GroupData. The number of groups comes from the
 * spatial maps when they are present and well formed (traits may arrive one by one while the
 * kernel recomputes), otherwise from n_groups (or group_colors).
 * @param {WidgetModel} model
 * @param {(css: string) => [number, number, number] | null} [resolveColor]
 * @returns {GroupData}
 */
export function readGroupData(model, resolveColor = parseColor) {
  const shape = model.get("spatial_shape");
  let spatial = decodeFloat32(model.get("spatial"));
  const colorsIn = asArray(model.get("group_colors")).map(String);
  let n = 0;
  let h = 0;
  let w = 0;
  if (Array.isArray(shape) && shape.length === 3 && shape.every((v) => Number.isInteger(v) && v >= 0)) {
    [n, h, w] = shape;
  }
  if (!spatial || n * h * w === 0 || spatial.length !== n * h * w) {
    spatial = null;
    n = Math.max(0, Number(model.get("n_groups")) || 0) || colorsIn.length;
    if (!(h > 0 && w > 0)) h = w = 0;
  }
  const colors = [];
  const rgb = [];
  for (let j = 0; j < n; j++) {
    let css = colorsIn[j] || defaultColor(j, n);
    let parsed = resolveColor(css);
    if (!parsed) {
      css = defaultColor(j, n);
      parsed = /** @type {[number, number, number]} */ (parseColor(css));
    }
    colors.push(css);
    rgb.push(parsed);
  }
  const classNames = asArray(model.get("class_names")).map(String);
  let attributions = decodeFloat32(model.get("attributions"));
  if (attributions && attributions.length !== classNames.length * n) attributions = null;
  let maxAbs = 0;
  if (attributions) {
    for (const v of attributions) if (Number.isFinite(v)) maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  return { n, h, w, spatial, colors, rgb, classNames, attributions, maxAbs };
}

/**
 * @param {unknown} v
 * @returns {any[]}
 */
function asArray(v) {
  return Array.isArray(v) ? v : [];
}

// ---------------------------------------------------------------------------------------------
// Drawing (pure pixel computations + canvas helpers)
// ---------------------------------------------------------------------------------------------

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
 * @param {number} v
 * @returns {number}
 */
function clamp01(v) {
  return v > 0 ? (v < 1 ? v : 1) : 0; // NaN -> 0
}

/**
 * Compute every group's colour layer, spotlight mask and the lighten composite (RGBA, h x w).
 * @param {Float32Array} spatial n*h*w values
 * @param {number} n
 * @param {number} h
 * @param {number} w
 * @param {Array<[number, number, number]>} rgb
 * @returns {Layers}
 */
export function computeLayers(spatial, n, h, w, rgb) {
  const size = h * w;
  const composite = new Uint8ClampedArray(size * 4);
  for (let p = 0; p < size; p++) composite[p * 4 + 3] = 255;
  const color = [];
  const gray = [];
  for (let j = 0; j < n; j++) {
    const c = new Uint8ClampedArray(size * 4);
    const g = new Uint8ClampedArray(size * 4);
    const [r, gr, b] = rgb[j];
    for (let p = 0; p < size; p++) {
      const v = clamp01(spatial[j * size + p]);
      const o = p * 4;
      c[o] = r * v;
      c[o + 1] = gr * v;
      c[o + 2] = b * v;
      c[o + 3] = 255;
      if (c[o] > composite[o]) composite[o] = c[o];
      if (c[o + 1] > composite[o + 1]) composite[o + 1] = c[o + 1];
      if (c[o + 2] > composite[o + 2]) composite[o + 2] = c[o + 2];
      const s = spotlightLevel(v) * 255;
      g[o] = s;
      g[o + 1] = s;
      g[o + 2] = s;
      g[o + 3] = 255;
    }
    color.push(c);
    gray.push(g);
  }
  return { color, gray, composite };
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

/**
 * A colour resolver that also understands named colours, via a 1x1 canvas when available.
 * @param {Document} doc
 * @returns {(css: string) => [number, number, number] | null}
 */
function colorResolver(doc) {
  /** @type {CanvasRenderingContext2D | null | undefined} */
  let ctx;
  return (css) => {
    const parsed = parseColor(css);
    if (parsed) return parsed;
    if (ctx === undefined) {
      const c = doc.createElement("canvas");
      c.width = c.height = 1;
      ctx = context2d(c);
    }
    if (!ctx) return null;
    if (typeof CSS !== "undefined" && CSS.supports && !CSS.supports("color", css)) return null;
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = "#000";
    ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1);
    const d = ctx.getImageData(0, 0, 1, 1).data;
    return [d[0], d[1], d[2]];
  };
}

// ---------------------------------------------------------------------------------------------
// DOM helpers
// ---------------------------------------------------------------------------------------------

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

  revokeAll() {
    for (const key of [...this.urls.keys()]) this.revoke(key);
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

let instanceCounter = 0;

// ---------------------------------------------------------------------------------------------
// Skeleton
// ---------------------------------------------------------------------------------------------

/**
 * Build the static part of the widget's DOM.
 * @param {Document} doc
 * @returns named elements (see the DOM hooks in the header)
 */
function buildSkeleton(doc) {
  const uid = `ng-${++instanceCounter}-${Math.random().toString(36).slice(2, 7)}`;
  const title = h(doc, "div", { class: "ng-title" });
  const meta = h(doc, "div", { class: "ng-meta" });
  const predictions = h(doc, "div", { class: "ng-predictions" });
  const error = h(doc, "div", { class: "ng-error", role: "alert", hidden: true });

  const groupsInput = h(doc, "input", {
    class: "ng-groups-input",
    id: `${uid}-groups`,
    type: "range",
    min: 0,
    max: 0,
    step: 1,
  });
  const groupsValue = h(doc, "output", { class: "ng-groups-value", for: `${uid}-groups` });
  const chips = h(doc, "ul", { class: "ng-chips", "aria-label": "Chosen classes" });
  const classHint = h(doc, "span", { class: "ng-class-hint", text: "top 5 predicted" });
  const classInput = h(doc, "input", {
    class: "ng-class-input",
    id: `${uid}-class`,
    type: "text",
    list: `${uid}-classes`,
    placeholder: "Add a class…",
    autocomplete: "off",
    spellcheck: "false",
  });
  const classAdd = h(doc, "button", { class: "ng-class-add", type: "button", text: "Add" });
  const classEntry = h(doc, "span", { class: "ng-class-entry" }, [classInput, classAdd]);
  const classList = h(doc, "datalist", { id: `${uid}-classes` });
  const classMessage = h(doc, "span", { class: "ng-class-message", "aria-live": "polite" });
  const controls = h(doc, "div", { class: "ng-controls" }, [
    h(doc, "div", { class: "ng-groups-control" }, [
      h(doc, "label", { for: `${uid}-groups`, text: "Groups" }),
      groupsInput,
      groupsValue,
    ]),
    h(doc, "div", { class: "ng-classes-control" }, [
      h(doc, "label", { for: `${uid}-class`, text: "Classes" }),
      chips,
      classHint,
      classEntry,
      classList,
      classMessage,
    ]),
  ]);

  const status = h(doc, "div", { class: "ng-status", role: "status", hidden: true });
  const progressBar = h(doc, "progress", {
    class: "ng-progress-bar",
    max: 1,
    value: 0,
    "aria-label": "Icon optimisation progress",
  });
  const progressText = h(doc, "span", { class: "ng-progress-text" });
  const stop = h(doc, "button", { class: "ng-stop", type: "button", text: "Stop" });
  const progress = h(doc, "div", { class: "ng-progress", hidden: true }, [
    progressBar,
    progressText,
    stop,
  ]);

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
  const imagePanel = h(doc, "div", { class: "ng-panel ng-panel-image" }, [
    image,
    spotlight,
    reticles[0],
  ]);
  const mapPanel = h(doc, "div", { class: "ng-panel ng-panel-map" }, [
    map,
    mapGroup,
    reticles[1],
  ]);
  const panels = h(doc, "div", { class: "ng-panels" }, [imagePanel, mapPanel]);

  const tiles = h(doc, "div", {
    class: "ng-tiles",
    role: "group",
    "aria-label": "Neuron groups: hover or focus to isolate, click or Enter to pin",
  });
  const tableCaption = h(doc, "caption", { text: "Effect of neuron groups on output classes" });
  const thead = h(doc, "thead");
  const tbody = h(doc, "tbody");
  const table = h(doc, "table", { class: "ng-table" }, [tableCaption, thead, tbody]);

  const root = h(
    doc,
    "div",
    { class: "neuron-groups", "data-lm-suppress-shortcuts": "true", "data-selected": -1 },
    [
      h(doc, "div", { class: "ng-header" }, [title, meta, predictions]),
      error,
      controls,
      status,
      progress,
      panels,
      h(doc, "div", { class: "ng-hint", text: "Hover a group to isolate it; click to pin." }),
      tiles,
      h(doc, "div", { class: "ng-table-wrap" }, [table]),
    ],
  );
  return {
    title,
    meta,
    predictions,
    error,
    groupsInput,
    groupsValue,
    chips,
    classHint,
    classInput,
    classAdd,
    classEntry,
    classList,
    classMessage,
    status,
    progressBar,
    progressText,
    stop,
    progress,
    image,
    spotlight,
    map,
    mapGroup,
    reticles,
    imagePanel,
    mapPanel,
    panels,
    tiles,
    tableCaption,
    thead,
    tbody,
    table,
    root,
  };
}

// ---------------------------------------------------------------------------------------------
// Render
// ---------------------------------------------------------------------------------------------

/** Traits whose change means the group data must be re-read. */
const DATA_TRAITS = [
  "spatial",
  "spatial_shape",
  "group_colors",
  "n_groups",
  "attributions",
  "class_names",
];
const ALL_TRAITS = [
  ...DATA_TRAITS,
  "image",
  "icons",
  "icon_size",
  "classes",
  "class_options",
  "predictions",
  "n_groups_options",
  "selected_group",
  "status",
  "progress",
  "progress_text",
  "error",
  "layer",
  "model_name",
  "title",
];

/**
 * anywidget entry point: build the widget in `el`, keep it in sync with `model`.
 * @param {{ model: WidgetModel, el: HTMLElement }} ctx
 * @returns {() => void} cleanup
 */
function render({ model, el }) {
  const doc = el.ownerDocument || document;
  const ui = buildSkeleton(doc);
  const urls = new UrlBag();
  const aborter = new AbortController();
  const { signal } = aborter;
  const resolveColor = colorResolver(doc);
  /** @type {Array<[string, (...args: any[]) => void]>} */
  const modelListeners = [];

  const state = {
    /** @type {GroupData} */
    data: readGroupData(model, resolveColor),
    /** @type {Layers | null} */
    layers: null,
    /** @type {{ color: HTMLCanvasElement[], gray: HTMLCanvasElement[] }} cached canvases */
    canvases: { color: [], gray: [] },
    hovered: -1,
    /** @type {Cell | null} */
    probe: null,
    /** @type {Array<{ el: HTMLElement, img: HTMLImageElement, placeholder: HTMLElement }>} */
    tiles: [],
    /** @type {HTMLElement[][]} table header + cells per group */
    columns: [],
    /** @type {string} joined class_options, to rebuild the datalist only when they change */
    optionsKey: "",
    /** @type {number[]} values offered by the groups control */
    groupOptions: [],
    stopping: false,
    disposed: false,
  };

  // ---- selection -----------------------------------------------------------------------------

  /** @returns {number} the pinned group (selected_group) if valid, else -1 */
  function pinnedGroup() {
    const v = Number(model.get("selected_group"));
    return Number.isInteger(v) && v >= 0 && v < state.data.n ? v : -1;
  }

  /** @returns {number} hovered group, else pinned group, else -1 */
  function shownGroup() {
    const j = state.hovered;
    return j >= 0 && j < state.data.n ? j : pinnedGroup();
  }

  /** @param {number} j */
  function setHovered(j) {
    if (state.hovered === j) return;
    state.hovered = j;
    applySelection();
  }

  /** @param {number} j group to pin, -1 to unpin */
  function setPinned(j) {
    if (Number(model.get("selected_group")) !== j) {
      model.set("selected_group", j);
      model.save_changes();
    }
    applySelection();
  }

  /** @param {number} j */
  function togglePin(j) {
    setPinned(pinnedGroup() === j ? -1 : j);
  }

  /** Reflect hovered/pinned group in classes, spotlight and map (no recomputation). */
  function applySelection() {
    const g = shownGroup();
    const p = pinnedGroup();
    ui.root.dataset.selected = String(g);
    ui.root.dataset.pinned = String(p);
    ui.root.classList.toggle("has-selection", g >= 0);
    state.tiles.forEach((t, j) => {
      t.el.classList.toggle("is-selected", j === g);
      t.el.classList.toggle("is-pinned", j === p);
      t.el.setAttribute("aria-pressed", String(j === p));
    });
    state.columns.forEach((cells, j) => {
      for (const c of cells) {
        c.classList.toggle("is-selected", j === g);
        c.classList.toggle("is-pinned", j === p);
      }
    });
    if (g >= 0) {
      blit(ui.spotlight, state.canvases.gray[g]);
      blit(ui.mapGroup, state.canvases.color[g]);
      ui.spotlight.setAttribute("aria-label", `Spotlight: where group ${g} is present in the image`);
      ui.mapGroup.setAttribute("aria-label", `Map of group ${g}: where it is present`);
    }
    ui.spotlight.hidden = g < 0;
    ui.mapGroup.hidden = g < 0;
    ui.map.hidden = g >= 0;
  }

  // ---- probing a cell ------------------------------------------------------------------------

  /** @param {Cell | null} cell */
  function setProbe(cell) {
    const old = state.probe;
    if (old === cell || (old && cell && old.row === cell.row && old.col === cell.col)) return;
    state.probe = cell;
    applyProbe();
  }

  /** Reticle on both panels and fading of tiles/columns by each group's share of the cell. */
  function applyProbe() {
    const { spatial, n, h: rows, w: cols } = state.data;
    const cell = state.probe;
    const valid = !!(cell && spatial && cell.row < rows && cell.col < cols);
    ui.root.classList.toggle("is-probing", valid);
    if (!valid || !cell || !spatial) {
      for (const r of ui.reticles) r.hidden = true;
      state.tiles.forEach((t) => {
        t.el.style.opacity = "";
        delete t.el.dataset.share;
      });
      for (const cells of state.columns) for (const c of cells) c.style.opacity = "";
      return;
    }
    for (const r of ui.reticles) {
      r.hidden = false;
      r.style.left = `${(cell.col / cols) * 100}%`;
      r.style.top = `${(cell.row / rows) * 100}%`;
      r.style.width = `${100 / cols}%`;
      r.style.height = `${100 / rows}%`;
      r.dataset.row = String(cell.row);
      r.dataset.col = String(cell.col);
    }
    const shares = cellShares(spatial, n, rows, cols, cell);
    state.tiles.forEach((t, j) => {
      t.el.style.opacity = String(fadeOpacity(shares[j]));
      t.el.dataset.share = shares[j].toFixed(3);
    });
    state.columns.forEach((cells, j) => {
      for (const c of cells) c.style.opacity = String(fadeOpacity(shares[j]));
    });
  }

  // ---- building from data --------------------------------------------------------------------

  /** Rebuild the group tiles (icons are filled by updateIcons). */
  function rebuildTiles() {
    const focused = doc.activeElement;
    const refocus =
      focused instanceof HTMLElement && ui.tiles.contains(focused) ? focused.dataset.group : null;
    const { n, colors } = state.data;
    state.tiles = [];
    const nodes = [];
    for (let j = 0; j < n; j++) {
      const img = /** @type {HTMLImageElement} */ (
        h(doc, "img", {
          class: "ng-icon",
          alt: `Feature visualisation of group ${j}`,
          draggable: "false",
          hidden: true,
        })
      );
      const placeholder = h(doc, "div", {
        class: "ng-icon ng-icon-placeholder",
        role: "img",
        "aria-label": `Icon of group ${j} not ready yet`,
      });
      const strip = h(doc, "div", { class: "ng-tile-strip" }, [
        h(doc, "span", { class: "ng-tile-label", text: String(j) }),
      ]);
      strip.style.background = colors[j];
      const tile = h(
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
      tile.style.setProperty("--ng-group-color", colors[j]);
      state.tiles.push({ el: tile, img, placeholder });
      nodes.push(tile);
    }
    ui.tiles.replaceChildren(...nodes);
    if (refocus != null) {
      /** @type {HTMLElement | null} */ (
        ui.tiles.querySelector(`.ng-tile[data-group="${refocus}"]`)
      )?.focus();
    }
  }

  /** Rebuild the class x group attribution table. */
  function rebuildTable() {
    const { n, colors, classNames, attributions, maxAbs } = state.data;
    /** @type {HTMLElement[][]} */
    const columns = [];
    const headRow = h(doc, "tr", {}, [h(doc, "th", { class: "ng-corner", scope: "col", text: "Class" })]);
    for (let j = 0; j < n; j++) {
      const swatch = h(doc, "span", { class: "ng-swatch", "aria-hidden": "true" });
      swatch.style.background = colors[j];
      const th = h(
        doc,
        "th",
        {
          scope: "col",
          "data-group": j,
          "aria-label": `Group ${j}`,
          title: `Group ${j}: hover to isolate, click to pin`,
        },
        [swatch, h(doc, "span", { class: "ng-col-label", text: String(j) })],
      );
      headRow.append(th);
      columns.push([th]);
    }
    ui.thead.replaceChildren(headRow);
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
        h(doc, "tr", {}, [
          h(doc, "td", { class: "ng-empty", colspan: n + 1, text: "No classes to show yet." }),
        ]),
      );
    }
    ui.tbody.replaceChildren(...rows);
    state.columns = columns;
  }

  /** Compute and cache every group's canvases; draw the composite map. */
  function rebuildLayers() {
    const { spatial, n, h: rows, w: cols, rgb } = state.data;
    state.layers = spatial ? computeLayers(spatial, n, rows, cols, rgb) : null;
    state.canvases = { color: [], gray: [] };
    for (const c of [ui.map, ui.mapGroup, ui.spotlight]) {
      c.width = cols || 1;
      c.height = rows || 1;
    }
    const mapCtx = context2d(ui.map);
    if (!state.layers) {
      if (mapCtx) {
        mapCtx.fillStyle = "#000";
        mapCtx.fillRect(0, 0, ui.map.width, ui.map.height);
      }
      return;
    }
    if (!mapCtx) return; // no canvas support: keep the DOM, skip the pixels
    putPixels(ui.map, state.layers.composite, cols, rows);
    for (let j = 0; j < n; j++) {
      for (const kind of /** @type {const} */ (["color", "gray"])) {
        const c = /** @type {HTMLCanvasElement} */ (doc.createElement("canvas"));
        c.width = cols;
        c.height = rows;
        putPixels(c, state.layers[kind][j], cols, rows);
        state.canvases[kind].push(c);
      }
    }
  }

  // ---- trait -> view updates -----------------------------------------------------------------

  function updateIcons() {
    const icons = asArray(model.get("icons"));
    const size = Math.max(16, Number(model.get("icon_size")) || 80);
    ui.root.style.setProperty("--ng-icon-size", `${size}px`);
    state.tiles.forEach((t, j) => {
      const url = urls.set(`icon-${j}`, toBytes(icons[j]));
      if (url) t.img.src = url;
      else t.img.removeAttribute("src");
      t.img.hidden = !url;
      t.placeholder.hidden = !!url;
      t.el.classList.toggle("is-loading", !url);
    });
    // Drop URLs of groups that no longer exist.
    for (const key of [...urls.urls.keys()]) {
      const m = /^icon-(\d+)$/.exec(key);
      if (m && Number(m[1]) >= state.tiles.length) urls.revoke(key);
    }
  }

  function updateImage() {
    const url = urls.set("image", toBytes(model.get("image")));
    if (url) ui.image.src = url;
    else ui.image.removeAttribute("src");
    ui.image.hidden = !url;
  }

  function updateCaption() {
    const title = String(model.get("title") ?? "");
    ui.title.textContent = title;
    ui.title.hidden = !title;
    const meta = [model.get("model_name"), model.get("layer")].filter(Boolean).map(String);
    ui.meta.textContent = meta.join(" · ");
    ui.meta.hidden = meta.length === 0;
    const preds = asArray(model.get("predictions"))
      .filter((p) => p && typeof p === "object")
      .map((p) => {
        const prob = Number(p.probability);
        return Number.isFinite(prob) ? `${p.name} (${(prob * 100).toFixed(1)}%)` : String(p.name);
      });
    ui.predictions.textContent = preds.length ? `Predicted: ${preds.join(", ")}` : "";
    ui.predictions.hidden = preds.length === 0;
    const label = title || meta.join(" ") || "input image";
    ui.image.alt = `Input image${title ? `: ${title}` : ""}`;
    ui.root.setAttribute("aria-label", `Neuron groups of ${label}`);
  }

  /**
   * Whether no kernel is behind the widget: Jupyter's widget managers mark a view whose model
   * has no live connection (an exported notebook, a dead kernel) with this class. Controls
   * that need the kernel to recompute are then disabled.
   */
  function disconnected() {
    return !!el.closest(".jupyter-widgets-disconnected");
  }

  function updateGroupsControl() {
    const n = Number(model.get("n_groups")) || state.data.n;
    let options = asArray(model.get("n_groups_options"))
      .map(Number)
      .filter((v) => Number.isInteger(v) && v > 0);
    if (!options.includes(n)) options = [...options, n].sort((a, b) => a - b);
    ui.groupsInput.max = String(Math.max(0, options.length - 1));
    ui.groupsInput.value = String(options.indexOf(n));
    ui.groupsInput.disabled = options.length < 2 || disconnected();
    ui.groupsInput.setAttribute("aria-valuetext", `${n} groups`);
    ui.groupsValue.textContent = String(n);
    state.groupOptions = options;
  }

  function updateClassesControl() {
    const classes = asArray(model.get("classes")).map(String);
    const options = asArray(model.get("class_options")).map(String);
    // No options (e.g. a standalone page, with no kernel to recompute): classes are read-only.
    const editable = options.length > 0 && !disconnected();
    ui.classEntry.hidden = !editable;
    const chips = classes.map((name) => {
      const remove = h(doc, "button", {
        hidden: !editable,
        class: "ng-chip-remove",
        type: "button",
        "aria-label": `Remove ${name}`,
        title: `Remove ${name}`,
        text: "×",
      });
      return h(doc, "li", { class: "ng-chip", "data-class": name }, [
        h(doc, "span", { class: "ng-chip-label", text: name }),
        remove,
      ]);
    });
    ui.chips.replaceChildren(...chips);
    ui.chips.hidden = classes.length === 0;
    ui.classHint.hidden = classes.length > 0;
    const key = options.join("\n");
    if (key !== state.optionsKey) {
      state.optionsKey = key;
      ui.classList.replaceChildren(...options.map((o) => h(doc, "option", { value: o })));
    }
  }

  function updateStatus() {
    const status = String(model.get("status") ?? "ready");
    ui.root.dataset.status = status;
    ui.root.classList.toggle("is-computing", status === "computing");
    ui.root.setAttribute("aria-busy", String(status === "computing"));
    const optimizing = status === "optimizing";
    ui.progress.hidden = !optimizing;
    if (!optimizing) state.stopping = false;
    const p = clamp01(Number(model.get("progress")));
    ui.progressBar.value = p;
    ui.progressBar.setAttribute("aria-valuetext", `${Math.round(p * 100)}%`);
    const text = String(model.get("progress_text") ?? "");
    ui.progressText.textContent = text || `Icons: ${Math.round(p * 100)}%`;
    ui.stop.disabled = state.stopping;
    ui.stop.textContent = state.stopping ? "Stopping…" : "Stop";
    const messages = {
      computing: "Computing neuron groups…",
      stopped: "Icon optimisation stopped; icons show their last state.",
    };
    const msg = /** @type {Record<string, string>} */ (messages)[status] || "";
    ui.status.textContent = msg;
    ui.status.hidden = !msg;
  }

  function updateError() {
    const err = String(model.get("error") ?? "");
    ui.error.textContent = err;
    ui.error.hidden = !err;
  }

  /**
   * Bring the view up to date with the given changed traits.
   * @param {Set<string>} changed
   */
  function update(changed) {
    const has = (/** @type {string[]} */ ...names) => names.some((k) => changed.has(k));
    if (has(...DATA_TRAITS)) {
      const old = state.data;
      state.data = readGroupData(model, resolveColor);
      const d = state.data;
      const shapeChanged = old.n !== d.n || old.colors.join() !== d.colors.join();
      if (shapeChanged || state.tiles.length !== d.n) {
        rebuildTiles();
        changed.add("icons");
      }
      rebuildTable();
      if (has("spatial", "spatial_shape", "group_colors", "n_groups") || !state.layers) {
        rebuildLayers();
      }
      if (state.hovered >= d.n) state.hovered = -1;
      changed.add("selected_group");
      changed.add("n_groups");
      if (state.probe) applyProbe();
    }
    if (has("icons", "icon_size")) updateIcons();
    if (has("image")) updateImage();
    if (has("title", "model_name", "layer", "predictions")) updateCaption();
    if (has("n_groups", "n_groups_options")) updateGroupsControl();
    if (has("classes", "class_options")) updateClassesControl();
    if (has("status", "progress", "progress_text")) updateStatus();
    if (has("error")) updateError();
    if (has("selected_group")) applySelection();
  }

  // Coalesce the change events of one kernel message (they arrive in the same task).
  /** @type {Set<string>} */
  let pending = new Set();
  let queued = false;
  /** @param {string} name */
  function schedule(name) {
    pending.add(name);
    if (queued) return;
    queued = true;
    queueMicrotask(() => {
      queued = false;
      const changed = pending;
      pending = new Set();
      if (!state.disposed) update(changed);
    });
  }

  // ---- interaction ---------------------------------------------------------------------------

  /**
   * Group index of the element (or ancestor) with data-group inside `scope`, or -1.
   * @param {EventTarget | null} target
   * @param {string} selector
   * @returns {{ el: HTMLElement, group: number } | null}
   */
  function groupTarget(target, selector) {
    if (!(target instanceof Element)) return null;
    const node = /** @type {HTMLElement | null} */ (target.closest(selector));
    if (!node || !ui.root.contains(node)) return null;
    const group = Number(node.dataset.group);
    return Number.isInteger(group) && group >= 0 && group < state.data.n ? { el: node, group } : null;
  }

  /** @param {number} from @param {number} delta */
  function focusTile(from, delta) {
    const n = state.tiles.length;
    if (n === 0) return;
    const to = delta === Infinity ? n - 1 : delta === -Infinity ? 0 : (from + delta + n) % n;
    state.tiles[to].el.focus();
  }

  const opts = { signal };
  // Tiles: hover isolates, click/Enter/Space pins, arrows move focus.
  ui.tiles.addEventListener(
    "mouseover",
    (e) => {
      const t = groupTarget(e.target, ".ng-tile");
      if (t) setHovered(t.group);
    },
    opts,
  );
  ui.tiles.addEventListener("mouseleave", () => setHovered(-1), opts);
  ui.tiles.addEventListener(
    "click",
    (e) => {
      const t = groupTarget(e.target, ".ng-tile");
      if (t) togglePin(t.group);
    },
    opts,
  );
  ui.tiles.addEventListener(
    "focusin",
    (e) => {
      const t = groupTarget(e.target, ".ng-tile");
      if (t) setHovered(t.group);
    },
    opts,
  );
  ui.tiles.addEventListener(
    "focusout",
    (e) => {
      if (!groupTarget(/** @type {FocusEvent} */ (e).relatedTarget, ".ng-tile")) setHovered(-1);
    },
    opts,
  );
  ui.tiles.addEventListener(
    "keydown",
    (e) => {
      const t = groupTarget(e.target, ".ng-tile");
      if (!t || e.altKey || e.ctrlKey || e.metaKey) return;
      /** @type {Record<string, number>} */
      const moves = {
        ArrowRight: 1,
        ArrowDown: 1,
        ArrowLeft: -1,
        ArrowUp: -1,
        Home: -Infinity,
        End: Infinity,
      };
      if (e.key in moves) {
        e.preventDefault();
        focusTile(t.group, moves[e.key]);
      } else if (e.key === "Enter" || e.key === " " || e.key === "Spacebar") {
        e.preventDefault();
        togglePin(t.group);
      }
    },
    opts,
  );

  // Table: hovering a column header or cell isolates its group; click pins.
  ui.table.addEventListener(
    "mouseover",
    (e) => {
      const t = groupTarget(e.target, "[data-group]");
      setHovered(t ? t.group : -1);
    },
    opts,
  );
  ui.table.addEventListener("mouseleave", () => setHovered(-1), opts);
  ui.table.addEventListener(
    "click",
    (e) => {
      const t = groupTarget(e.target, "[data-group]");
      if (t) togglePin(t.group);
    },
    opts,
  );

  // Panels: probing a cell shows the reticle and fades groups by their share of it.
  ui.panels.addEventListener("mouseenter", () => setHovered(-1), opts);
  ui.panels.addEventListener(
    "mousemove",
    (e) => {
      const panel = e.target instanceof Element ? e.target.closest(".ng-panel") : null;
      if (!panel) return setProbe(null);
      const { h: rows, w: cols } = state.data;
      setProbe(cellAt(e.clientX, e.clientY, panel.getBoundingClientRect(), rows, cols));
    },
    opts,
  );
  ui.panels.addEventListener("mouseleave", () => setProbe(null), opts);

  // A non-square image keeps its shape: both panels (and so the map) take its aspect ratio.
  ui.image.addEventListener(
    "load",
    () => {
      const { naturalWidth: w, naturalHeight: h } = ui.image;
      const ratio = w > 0 && h > 0 ? `${w} / ${h}` : "";
      ui.imagePanel.style.aspectRatio = ratio;
      ui.mapPanel.style.aspectRatio = ratio;
    },
    opts,
  );

  // Escape unpins (and clears hover) anywhere in the widget except text fields. Keys pressed
  // in the widget stop here: notebooks bind single keys to commands at the document (in
  // JupyterLab's command mode "d d" deletes the cell, "b" inserts one), and a
  // data-lm-suppress-shortcuts attribute on the root is not enough, as Lumino checks the focused
  // element first.
  ui.root.addEventListener(
    "keydown",
    (e) => {
      e.stopPropagation();
      if (e.key !== "Escape") return;
      const target = /** @type {HTMLElement} */ (e.target);
      if (target instanceof HTMLInputElement && target.type === "text" && target.value) return;
      state.hovered = -1;
      if (pinnedGroup() >= 0) {
        e.preventDefault();
        setPinned(-1);
      } else {
        applySelection();
      }
    },
    opts,
  );

  // Groups control: commit on release / keyboard step.
  ui.groupsInput.addEventListener(
    "input",
    () => {
      const v = state.groupOptions[Number(ui.groupsInput.value)];
      if (v != null) ui.groupsValue.textContent = String(v);
    },
    opts,
  );
  ui.groupsInput.addEventListener(
    "change",
    () => {
      const v = state.groupOptions[Number(ui.groupsInput.value)];
      if (v != null && v !== Number(model.get("n_groups"))) {
        model.set("n_groups", v);
        model.save_changes();
        updateGroupsControl();
      }
    },
    opts,
  );

  // Class picker.
  /**
   * The class option a typed text refers to: exact (case-insensitive), else the only
   * option containing it, else the first option starting with it.
   * @param {string} text
   * @returns {string | null}
   */
  function resolveClass(text) {
    const q = text.trim().toLowerCase();
    if (!q) return null;
    const options = asArray(model.get("class_options")).map(String);
    const exact = options.find((o) => o.toLowerCase() === q);
    if (exact) return exact;
    const containing = options.filter((o) => o.toLowerCase().includes(q));
    if (containing.length === 1) return containing[0];
    return containing.find((o) => o.toLowerCase().startsWith(q)) ?? null;
  }

  /** @param {string} text @returns {boolean} whether a class was added */
  function addClass(text) {
    const name = resolveClass(text);
    if (!name) {
      ui.classMessage.textContent = text.trim() ? `No class matches “${text.trim()}”.` : "";
      ui.classInput.setAttribute("aria-invalid", String(!!text.trim()));
      return false;
    }
    ui.classInput.removeAttribute("aria-invalid");
    ui.classMessage.textContent = "";
    ui.classInput.value = "";
    const classes = asArray(model.get("classes")).map(String);
    if (!classes.includes(name)) {
      model.set("classes", [...classes, name]);
      model.save_changes();
      updateClassesControl();
    }
    return true;
  }

  /** @param {string} name */
  function removeClass(name) {
    const classes = asArray(model.get("classes")).map(String);
    model.set(
      "classes",
      classes.filter((c) => c !== name),
    );
    model.save_changes();
    updateClassesControl();
    ui.classInput.focus();
  }

  ui.classInput.addEventListener(
    "keydown",
    (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        addClass(ui.classInput.value);
      } else if (e.key === "Escape" && ui.classInput.value) {
        ui.classInput.value = "";
      } else if (e.key === "Backspace" && !ui.classInput.value) {
        const classes = asArray(model.get("classes")).map(String);
        if (classes.length) removeClass(classes[classes.length - 1]);
      }
    },
    opts,
  );
  ui.classInput.addEventListener(
    "input",
    (e) => {
      // A pick from the datalist arrives as an input event that is not typing.
      const ev = /** @type {InputEvent} */ (e);
      const picked = !("inputType" in ev) || ev.inputType === "insertReplacementText";
      if (picked) {
        const exact = asArray(model.get("class_options")).map(String).includes(ui.classInput.value);
        if (exact) addClass(ui.classInput.value);
      } else if (ui.classInput.hasAttribute("aria-invalid")) {
        ui.classInput.removeAttribute("aria-invalid");
        ui.classMessage.textContent = "";
      }
    },
    opts,
  );
  ui.classAdd.addEventListener("click", () => addClass(ui.classInput.value), opts);
  ui.chips.addEventListener(
    "click",
    (e) => {
      const btn = e.target instanceof Element ? e.target.closest(".ng-chip-remove") : null;
      const chip = btn?.closest(".ng-chip");
      if (chip instanceof HTMLElement && chip.dataset.class != null) removeClass(chip.dataset.class);
    },
    opts,
  );

  // Stop the icon optimisation.
  ui.stop.addEventListener(
    "click",
    () => {
      model.send({ type: "stop" });
      state.stopping = true;
      updateStatus();
    },
    opts,
  );

  // ---- wire up -------------------------------------------------------------------------------

  for (const name of ALL_TRAITS) {
    const cb = () => schedule(name);
    model.on(`change:${name}`, cb);
    modelListeners.push([`change:${name}`, cb]);
  }
  el.append(ui.root);
  const connection = new MutationObserver(() => {
    updateGroupsControl();
    updateClassesControl();
  });
  for (let node = /** @type {Element | null} */ (el); node; node = node.parentElement) {
    connection.observe(node, { attributes: true, attributeFilter: ["class"] });
  }
  rebuildTiles();
  rebuildTable();
  rebuildLayers();
  update(new Set(ALL_TRAITS.filter((t) => !DATA_TRAITS.includes(t))));

  return function cleanup() {
    state.disposed = true;
    connection.disconnect();
    for (const [event, cb] of modelListeners) model.off(event, cb);
    modelListeners.length = 0;
    aborter.abort();
    urls.revokeAll();
    ui.root.remove();
  };
}

// ---------------------------------------------------------------------------------------------
// StaticModel: an in-memory model for standalone pages and tests
// ---------------------------------------------------------------------------------------------

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

export default { render };
