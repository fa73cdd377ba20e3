// Helpers shared by the front end's vitest files (not part of the widget's module).
import widget, { decodeBase64 } from "../src/index.js";

/** A valid 1x1 PNG, base64. */
export const PNG_B64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

/** The 1x1 PNG as bytes. */
export const png = () => decodeBase64(PNG_B64);

/**
 * float32 little-endian DataView of `values`, as the kernel sends arrays.
 * @param {number[]} values
 */
export function f32(values) {
  const view = new DataView(new ArrayBuffer(values.length * 4));
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return view;
}

/** @param {Element} node */
export const hover = (node) => node.dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
/** @param {Element} node */
export const leave = (node) => node.dispatchEvent(new MouseEvent("mouseleave"));
/** @param {Element} node */
export const click = (node) => node.dispatchEvent(new MouseEvent("click", { bubbles: true }));
/** @param {Element} node @param {string} k */
export const key = (node, k) =>
  node.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true }));

/** Resolves after the pending tasks (a model's deferred answers). */
export const tick = () => new Promise((r) => setTimeout(r, 0));

/**
 * Renders views and removes them all afterwards.
 * @returns {{ mountModel: Function, track: Function, unmountAll: Function }}
 */
export function createMounter() {
  /** @type {Array<{ cleanup: Function }>} */
  let mounted = [];
  return {
    /** Render the widget for `model` into a new element under `parent`. */
    mountModel(model, parent = document.body) {
      const el = document.createElement("div");
      parent.append(el);
      const cleanup = widget.render({ model, el });
      const entry = { model, el, cleanup };
      mounted.push(entry);
      const $ = (sel) => el.querySelector(sel);
      const $$ = (sel) => [...el.querySelectorAll(sel)];
      return { ...entry, $, $$ };
    },
    /** Clean up this view too (one rendered another way, e.g. by mountPage). */
    track(entry) {
      mounted.push(entry);
    },
    /** Clean up every view rendered so far and empty the document. */
    unmountAll() {
      for (const { cleanup } of mounted) cleanup();
      mounted = [];
      document.body.replaceChildren();
    },
  };
}
