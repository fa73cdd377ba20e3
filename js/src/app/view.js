/**
 * The widget's DOM: every component, in page order under one root, and which component shows
 * which traits (`dependencies`: a component is updated only when one of its traits changed).
 *
 * DOM hooks (stable; browser and unit tests rely on them):
 *   .neuron-groups                 root; data-status, data-selected (shown group or -1),
 *                                  data-pinned (selected_group or -1); classes is-computing,
 *                                  is-multi, has-selection, is-probing, is-dropping (a file is
 *                                  dragged over it); data-selected-layer / data-pinned-layer:
 *                                  layer of the shown / pinned group ("" none)
 *   .ng-hint                       what hovering and clicking do
 *   the components' own hooks are listed in their modules (components/*.js)
 */
/** @import { UrlBag } from "../components/dom.js" */
/** @import { Scene, Selection } from "../components/scene.js" */
import { createClassPicker, createGroupsControl, createImagePicker } from "../components/controls.js";
import { h } from "../components/dom.js";
import { createFlow } from "../components/flow.js";
import { createErrorBanner, createHeader } from "../components/header.js";
import { createMethodSwitch } from "../components/methods.js";
import { createPanels } from "../components/panels.js";
import { createStatus } from "../components/status.js";
import { createTable } from "../components/table.js";
import { createTiles } from "../components/tiles.js";
import { DATA_FIELDS, isBusy, LAYER_FIELDS, TABLE_FIELDS, VARIANCE_FIELDS } from "../data/contract.js";

let instanceCounter = 0;

/**
 * Every component, and the root element holding them in page order.
 * @param {Document} doc
 * @param {UrlBag} urls
 */
export function createView(doc, urls) {
  const uid = `ng-${++instanceCounter}-${Math.random().toString(36).slice(2, 7)}`;
  const tiles = createTiles(doc, urls);
  const parts = {
    header: createHeader(doc),
    error: createErrorBanner(doc),
    groups: createGroupsControl(doc, uid),
    classes: createClassPicker(doc, uid),
    image: createImagePicker(doc, uid),
    status: createStatus(doc),
    panels: createPanels(doc, urls),
    tiles,
    flow: createFlow(doc, urls, tiles, uid),
    methods: createMethodSwitch(doc, uid),
    table: createTable(doc),
  };
  const hint = h(doc, "div", { class: "ng-hint", text: "Hover a group to isolate it; click to pin." });
  const root = h(
    doc,
    "div",
    { class: "neuron-groups", "data-lm-suppress-shortcuts": "true", "data-selected": -1, "data-pinned": -1 },
    [
      parts.header.el,
      parts.error.el,
      h(doc, "div", { class: "ng-controls" }, [parts.groups.el, parts.classes.el, parts.image.el]),
      ...parts.status.nodes,
      parts.panels.el,
      hint,
      parts.flow.controls,
      parts.flow.el,
      parts.methods.el,
      parts.table.el,
    ],
  );
  const frame = {
    el: root,
    /** @param {Scene} s */
    update({ state, multi, pending }) {
      const computing = isBusy(state.status) || pending;
      root.dataset.status = pending ? "computing" : state.status;
      root.classList.toggle("is-computing", computing);
      root.classList.toggle("is-multi", multi);
      root.setAttribute("aria-busy", String(computing));
      root.style.setProperty("--ng-icon-size", `${Math.max(16, state.icon_size)}px`);
      const label = state.title || [state.model_name, state.layer].filter(Boolean).join(" ") || "input image";
      root.setAttribute("aria-label", `Neuron groups of ${label}`);
      hint.textContent = multi
        ? "Hover a group of any layer to isolate it and its curves; click to pin. Arrow keys move between groups and layers."
        : "Hover a group to isolate it; click to pin.";
    },
    /** @param {Selection} sel */
    highlight({ shown, pinned, cell, shownRef, pinnedRef }) {
      root.dataset.selected = String(shownRef ? shownRef.group : shown);
      root.dataset.pinned = String(pinnedRef ? pinnedRef.group : pinned);
      root.dataset.selectedLayer = shownRef ? shownRef.layer : "";
      root.dataset.pinnedLayer = pinnedRef ? pinnedRef.layer : "";
      root.classList.toggle("has-selection", !!shownRef || shown >= 0);
      root.classList.toggle("is-probing", !!cell);
    },
  };
  return { root, parts, frame };
}

/** The traits a tile shows besides its group's colour. */
const TILE_FIELDS = ["icons", "icon_size", "stability", "regions"];

/**
 * Which component shows which traits ("connection", "stopping" and "pending" are view facts).
 * @param {ReturnType<typeof createView>} v
 * @returns {Array<[{ update: (s: Scene) => void }, readonly string[]]>}
 */
export function dependencies({ parts, frame }) {
  return [
    [frame, ["status", "title", "model_name", "layer", "icon_size", "earlier_layers", "pending"]],
    [parts.header, ["title", "model_name", "layer", "predictions", "earlier_layers"]],
    [parts.error, ["error"]],
    [parts.groups, [...DATA_FIELDS, ...VARIANCE_FIELDS, "n_groups_options", "layer", "connection", "earlier_layers"]],
    [parts.classes, ["classes", "class_options", "class_names", "connection"]],
    [parts.image, ["image_options", "status", "connection", "pending"]],
    [parts.status, ["status", "progress", "progress_text", "stopping", "pending"]],
    [parts.panels, [...DATA_FIELDS, ...LAYER_FIELDS, "image", "title"]],
    [parts.flow, [...DATA_FIELDS, ...LAYER_FIELDS, ...TABLE_FIELDS, ...VARIANCE_FIELDS, ...TILE_FIELDS, "layer", "n_groups_options", "connection"]],
    [parts.tiles, [...DATA_FIELDS, ...TILE_FIELDS, "layer", "earlier_layers"]],
    [parts.methods, [...DATA_FIELDS, ...TABLE_FIELDS]],
    [parts.table, [...DATA_FIELDS, ...TABLE_FIELDS]],
  ];
}
