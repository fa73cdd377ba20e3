/**
 * The widget's controller: it reads the model into a `Scene`, updates the components that
 * show what changed, keeps the view state (hover, probe, Stop pressed, image pending) and
 * holds the actions (`selection.js`, `actions.js`). It knows nothing about events: the
 * listeners of `bindings.js` and the model's change events (`render.js`) call it.
 */
/** @import { Scene } from "../components/scene.js" */
/** @import { State, WidgetModel } from "../data/contract.js" */
/** @import { LayerColumn } from "../data/decode.js" */
/** @import { Context, ViewState } from "./selection.js" */
/** @import { createView } from "./view.js" */
import { DATA_FIELDS, readState } from "../data/contract.js";
import { earlierColumns, readGroupData } from "../data/decode.js";
import { readTable } from "../data/tables.js";
import { asString } from "../data/values.js";
import { createModelActions } from "./actions.js";
import { columnOf, createSelectionActions, refIn, selectionOf } from "./selection.js";
import { dependencies } from "./view.js";

/** How long (ms) the image picker waits for the kernel's answer before it is usable again. */
const PENDING_TIMEOUT_MS = 30_000;

/**
 * The scene after a change: the state read again, the group data and the earlier layers'
 * columns decoded again only when their traits changed, the table only when what it is
 * decoded from changed.
 * @param {WidgetModel} model
 * @param {State} state the model's state, read now
 * @param {Scene | null} previous null the first time
 * @param {Set<string>} changed
 * @param {{ connected: boolean, kernel: boolean, stopping: boolean, pending: boolean }} facts
 * @returns {Scene}
 */
function nextScene(model, state, previous, changed, facts) {
  const data = !previous || DATA_FIELDS.some((f) => changed.has(f)) ? readGroupData(model) : previous.data;
  const earlier =
    !previous || changed.has("earlier_layers") ? earlierColumns(state.earlier_layers) : previous.columns.slice(0, -1);
  /** @type {LayerColumn} */
  const last = {
    layer: state.layer,
    key: "",
    data,
    icons: state.icons,
    count: state.n_groups || data.n,
    options: state.n_groups_options,
    explained: state.explained_variance,
    explainedByK: state.explained_variance_by_k,
    stability: state.stability,
    regions: state.regions,
  };
  const table = readTable(state, data, previous?.table);
  return { state, data, table, multi: earlier.length > 0, columns: [...earlier, last], ...facts };
}

/**
 * The view's state and the actions that change it or the model. Knows nothing about events.
 * @param {WidgetModel} model
 * @param {HTMLElement} el the host element (its ancestors say whether a kernel is connected)
 * @param {ReturnType<typeof createView>} v
 */
export function createController(model, el, v) {
  const deps = dependencies(v);
  /** @type {Scene | null} */
  let scene = null;
  const current = () => /** @type {Scene} */ (scene);

  /** @type {ViewState} */
  const view = {
    hovered: null,
    probe: null,
    stopping: false,
    pending: false,
    get pinned() {
      return refIn(current(), asString(model.get("selected_layer")), Number(model.get("selected_group")));
    },
  };

  /**
   * Whether something can recompute: Jupyter's widget managers mark a view whose model has no
   * live connection (an exported notebook, a dead kernel) with this class.
   */
  const connected = () => !el.closest(".jupyter-widgets-disconnected");

  /** Whether a kernel can take an image: connected, and not a standalone page's model. */
  const kernel = () => connected() && model.offline !== true;

  /** Show the hovered/pinned group and the probed cell (no recomputation). */
  function highlight() {
    const sel = selectionOf(current(), view);
    v.frame.highlight(sel);
    v.parts.panels.highlight(sel);
    v.parts.tiles.highlight(sel);
    v.parts.table.highlight(sel);
    v.parts.flow.highlight(sel, sel.shownRef ? columnOf(current(), sel.shownRef.layer) : -1);
  }

  /**
   * Re-read the model and update the components that show any of `changed`.
   * @param {Set<string>} changed trait names, or "connection" / "stopping" / "pending"
   * @param {boolean} [fromModel] the names come from the model's change events
   */
  function refresh(changed, fromModel = false) {
    const state = readState(model);
    const first = scene === null;
    if (state.status !== "optimizing") view.stopping = false;
    if (view.pending && fromModel) {
      setPending(false); // the kernel answered (any change it sends is its answer)
      changed = new Set([...changed, "pending"]);
    }
    const facts = { connected: connected(), kernel: kernel(), stopping: view.stopping, pending: view.pending };
    scene = nextScene(model, state, scene, changed, facts);
    for (const [part, fields] of deps) {
      if (first || fields.some((f) => changed.has(f))) part.update(scene);
    }
    if (view.hovered && !refIn(scene, view.hovered.layer, view.hovered.group)) view.hovered = null;
    highlight();
  }

  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let pendingTimer;

  /**
   * Mark an image as sent (or answered). Should the kernel send nothing back (it always should:
   * a status, an image or an error), the picker comes back after PENDING_TIMEOUT_MS.
   * @param {boolean} on
   */
  function setPending(on) {
    view.pending = on;
    clearTimeout(pendingTimer);
    pendingTimer = on
      ? setTimeout(() => {
          if (view.pending) {
            view.pending = false;
            refresh(new Set(["pending"]));
          }
        }, PENDING_TIMEOUT_MS)
      : undefined;
  }

  /** @type {Context} */
  const ctx = { model, v, view, current, refresh, highlight, setPending, kernel };
  return {
    refresh,
    ...createSelectionActions(ctx),
    ...createModelActions(ctx),
    /** @returns {{ h: number, w: number }} the map's size in cells */
    mapSize() {
      const { h: rows, w: cols } = current().data;
      return { h: rows, w: cols };
    },
    /** @returns {boolean} whether the multi-layer view is shown */
    multi() {
      return current().multi;
    },
    /** @returns {number} groups of the last layer shown now */
    groupCount() {
      return current().data.n;
    },
    dispose() {
      clearTimeout(pendingTimer);
    },
  };
}
