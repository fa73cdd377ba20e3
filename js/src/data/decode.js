/**
 * Binary decoding: bytes, little-endian float32 arrays and base64 as they arrive, then one
 * layer's group traits decoded into a self-consistent `GroupData`, and the earlier layers'
 * columns (the multi-layer view). The tables and flows are decoded in `tables.js`.
 */
/** @import { Binary, EarlierLayer, RGB } from "./contract.js" */
import { FALLBACK_RGB, toRGB } from "./contract.js";
import { asArray, asString } from "./values.js";

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
export function encodeBase64(bytes) {
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

/**
 * One column of group tiles in the multi-layer view.
 * @typedef {object} LayerColumn
 * @property {string} layer      the layer's name
 * @property {string} key        how selected_layer names it: "" for the last layer, else `layer`
 * @property {GroupData} data    its groups (no classes)
 * @property {Binary[]} icons    PNG per group; empty while pending
 * @property {number} count      its n_groups
 * @property {number[]} options  the counts its control offers
 * @property {number} explained  share of the layer the groups explain, [0, 1]; NaN unknown
 * @property {number[]} explainedByK  entry k-1 for k groups ([] until measured)
 * @property {number[]} stability  per group, [0, 1] (NaN or missing: unknown)
 * @property {Binary[]} regions  PNG per group: its strongest region, shown while the icon is
 *                               pending
 */

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
      explained: e.explained_variance,
      explainedByK: e.explained_variance_by_k,
      stability: e.stability,
      regions: e.regions,
    };
  });
}
