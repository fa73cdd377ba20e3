/**
 * The one way a view attaches listeners, for the widget and the gallery alike: DOM listeners
 * (removed together with one AbortController), the model's change events, observers of the
 * host (its connection class, the diagram's size); `dispose` removes everything.
 */
/** @import { WidgetModel } from "../data/contract.js" */

export function createWiring() {
  const aborter = new AbortController();
  /** @type {Array<() => void>} */
  const undo = [];
  return {
    /**
     * @template {keyof HTMLElementEventMap} K
     * @param {EventTarget} target
     * @param {K} type
     * @param {(e: HTMLElementEventMap[K]) => void} fn
     */
    on(target, type, fn) {
      target.addEventListener(type, /** @type {EventListener} */ (fn), { signal: aborter.signal });
    },
    /**
     * Call `fn(name)` on each change of one of `fields`.
     * @param {WidgetModel} model
     * @param {readonly string[]} fields
     * @param {(name: string) => void} fn
     */
    onModel(model, fields, fn) {
      for (const name of fields) {
        const event = `change:${name}`;
        const cb = () => fn(name);
        model.on(event, cb);
        undo.push(() => model.off(event, cb));
      }
    },
    /**
     * Call `fn` when the class of `el` or of an ancestor changes (the host marks a lost
     * connection there).
     * @param {HTMLElement} el
     * @param {() => void} fn
     */
    onHostClass(el, fn) {
      const observer = new MutationObserver(fn);
      for (let node = /** @type {Element | null} */ (el); node; node = node.parentElement) {
        observer.observe(node, { attributes: true, attributeFilter: ["class"] });
      }
      undo.push(() => observer.disconnect());
    },
    /**
     * Call `fn` when `el` is resized (where the host has a ResizeObserver).
     * @param {Element} el
     * @param {() => void} fn
     */
    onResize(el, fn) {
      if (typeof ResizeObserver === "undefined") return;
      const observer = new ResizeObserver(fn);
      observer.observe(el);
      undo.push(() => observer.disconnect());
    },
    /** @param {() => void} fn called on dispose */
    onDispose(fn) {
      undo.push(fn);
    },
    /** @returns {boolean} whether dispose was called */
    disposed() {
      return aborter.signal.aborted;
    },
    /** Remove every listener and observer. */
    dispose() {
      for (const fn of undo.splice(0)) fn();
      aborter.abort();
    },
  };
}

/** @typedef {ReturnType<typeof createWiring>} Wiring */

/**
 * Collect names and call `fn` once with all of them, after the current task: the change events
 * of one kernel message arrive in the same task. Nothing is called once `wiring` is disposed.
 * @param {Wiring} wiring
 * @param {(changed: Set<string>) => void} fn
 * @returns {(name: string) => void} adds a name
 */
export function coalesce(wiring, fn) {
  /** @type {Set<string>} */
  let pending = new Set();
  return (name) => {
    if (pending.size === 0) {
      queueMicrotask(() => {
        const changed = pending;
        pending = new Set();
        if (!wiring.disposed()) fn(changed);
      });
    }
    pending.add(name);
  };
}
