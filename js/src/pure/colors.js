/**
 * Colours: CSS text, contrast (black or white text on a group's colour), and the palette of
 * the table and the flow curves (blue positive, orange negative). `textColor` and
 * `attributionColor` are cross-checked against their Python twins by a pytest.
 */
/** @import { RGB } from "../data/contract.js" */

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

/** The table's palette: blue for a positive effect, orange for a negative one. */
const POSITIVE_RGB = Object.freeze([33, 113, 181]);
const NEGATIVE_RGB = Object.freeze([230, 85, 13]);
const ZERO_RGB = Object.freeze([128, 128, 128]);

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

/**
 * Colour of a flow curve: the table's hue for its sign (grey for 0 or not a number).
 * @param {number} v
 * @returns {string}
 */
export function signColor(v) {
  const [r, g, b] = v > 0 ? POSITIVE_RGB : v < 0 ? NEGATIVE_RGB : ZERO_RGB;
  return `rgb(${r}, ${g}, ${b})`;
}
