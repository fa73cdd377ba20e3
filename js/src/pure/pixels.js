/**
 * Pixels of the group map and the spotlight (RGBA arrays; `groupMapPixels` is cross-checked
 * against Python by a pytest), and what a probed map cell says about each group.
 */
/** @import { RGB } from "../data/contract.js" */
import { FALLBACK_RGB, toRGB } from "../data/contract.js";
import { clamp01 } from "../data/values.js";

/**
 * Pixels of every group layer, computed once per data change.
 * @typedef {object} Layers
 * @property {Uint8ClampedArray[]} color   per group: RGBA, the group's colour scaled by its map
 * @property {Uint8ClampedArray[]} gray    per group: RGBA grey spotlight mask
 * @property {Uint8ClampedArray} composite lighten (per-channel max) of all colour layers on black
 */

/** @typedef {{ row: number, col: number }} Cell */

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
