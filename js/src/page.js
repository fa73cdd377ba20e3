/**
 * The standalone page's start-up: `StaticModel` stands in for the kernel (a model in memory,
 * with the precomputed group counts as variants) and `mountPage` renders the widget or the
 * gallery from the page's JSON (`display/page.py`, `display/gallery.py`).
 */
import { GROUP_FIELDS } from "./data/contract.js";
import { reviveBinary } from "./data/decode.js";
import { render } from "./app/render.js";

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
