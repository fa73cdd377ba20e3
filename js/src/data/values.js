/**
 * Small coercions of values as they arrive from the kernel or a page (any of them may be
 * missing or malformed while the kernel recomputes).
 */

/**
 * @param {unknown} v
 * @returns {any[]}
 */
export function asArray(v) {
  return Array.isArray(v) ? v : [];
}

/**
 * @param {unknown} v
 * @returns {string}
 */
export function asString(v) {
  return v == null ? "" : String(v);
}

/**
 * @param {unknown} v
 * @returns {v is Record<string, any>}
 */
export function isRecord(v) {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

/**
 * @param {number} v
 * @returns {number}
 */
export function clamp01(v) {
  return v > 0 ? (v < 1 ? v : 1) : 0; // NaN -> 0
}

/**
 * A share in [0, 1] as sent (clamped), or NaN where it is unknown: missing, null, NaN (or
 * Python's "nan" written as text), not a number.
 * @param {unknown} v
 * @returns {number}
 */
export function asUnit(v) {
  if (v == null || v === "" || typeof v === "boolean") return NaN;
  const x = Number(v);
  return Number.isFinite(x) ? clamp01(x) : NaN;
}
