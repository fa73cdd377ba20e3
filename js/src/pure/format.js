/**
 * How values are written: an attribution or flow (`formatValue`, cross-checked against Python
 * by a pytest), and the gallery's captions and cell boxes.
 */
/** @import { GalleryGroup, GalleryRegion } from "../data/contract.js" */
import { asArray, clamp01 } from "../data/values.js";

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
