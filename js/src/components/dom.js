/**
 * DOM and canvas helpers shared by the components: `h` (create an element), `UrlBag` (object
 * URLs of image bytes) and the canvas calls that tolerate hosts without a 2D context (jsdom).
 */
import { encodeBase64 } from "../data/decode.js";

/**
 * Create an element. `props`: "class", "text", other keys become attributes (null/false skip).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {Document} doc
 * @param {K} tag
 * @param {Record<string, string | number | boolean | null | undefined>} [props]
 * @param {Array<Node | string | null | undefined | false>} [children]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(doc, tag, props = {}, children = []) {
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
export class UrlBag {
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

/**
 * 2D context of a canvas, or null where there is none (jsdom, exotic hosts).
 * @param {HTMLCanvasElement} canvas
 * @returns {CanvasRenderingContext2D | null}
 */
export function context2d(canvas) {
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
export function putPixels(canvas, pixels, w, h) {
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
export function blit(target, source) {
  const ctx = context2d(target);
  if (!ctx) return;
  ctx.clearRect(0, 0, target.width, target.height);
  if (source) ctx.drawImage(source, 0, 0);
}
