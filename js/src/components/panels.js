/**
 * The two panels: the input image with the spotlight of the shown group, and the group map
 * (every group, or the shown group alone), each with a reticle on the probed cell. Every
 * group's canvases are drawn once per data change; hovering only copies one.
 *
 * DOM hooks (stable; browser and unit tests rely on them):
 *   .ng-panel-image                left panel: .ng-image (<img>), .ng-spotlight (<canvas>,
 *                                  `hidden` unless a group is hovered/pinned), .ng-reticle
 *   .ng-panel-map                  right panel: .ng-map (all groups; `hidden` while a group is
 *                                  shown), .ng-map-group (the shown group only), .ng-reticle
 *   .ng-reticle                    `hidden` unless a cell is probed; data-row, data-col
 */
/** @import { GroupData, LayerColumn } from "../data/decode.js" */
/** @import { Cell, Layers } from "../pure/pixels.js" */
/** @import { UrlBag } from "./dom.js" */
/** @import { Ref, Scene, Selection } from "./scene.js" */
import { toBytes } from "../data/decode.js";
import { computeLayers } from "../pure/pixels.js";
import { blit, context2d, h, putPixels } from "./dom.js";

/** @typedef {{ color: HTMLCanvasElement[], gray: HTMLCanvasElement[] }} GroupCanvases cached per group */

/**
 * Every group's colour and spotlight canvases; null where a canvas can't draw.
 * @param {Document} doc
 * @param {GroupData} d
 * @param {HTMLCanvasElement} probe a canvas of the panels (does this host draw?)
 * @returns {{ layers: Layers, canvases: GroupCanvases } | null}
 */
function groupCanvases(doc, d, probe) {
  if (!d.spatial || !context2d(probe)) return null;
  const layers = computeLayers(d.spatial, d.n, d.h, d.w, d.rgb);
  /** @type {GroupCanvases} */
  const out = { color: [], gray: [] };
  for (let j = 0; j < d.n; j++) {
    for (const kind of /** @type {const} */ (["color", "gray"])) {
      const c = doc.createElement("canvas");
      c.width = d.w;
      c.height = d.h;
      putPixels(c, layers[kind][j], d.w, d.h);
      out[kind].push(c);
    }
  }
  return { layers, canvases: out };
}

/** @param {HTMLCanvasElement} c @param {number} w @param {number} h */
function resize(c, w, h) {
  if (c.width !== w) c.width = w;
  if (c.height !== h) c.height = h;
}

/**
 * Put the reticles on a probed cell of a rows x cols map (hide them when there is none).
 * @param {HTMLElement[]} reticles
 * @param {Cell | null} cell
 * @param {number} rows
 * @param {number} cols
 */
function placeReticles(reticles, cell, rows, cols) {
  for (const r of reticles) {
    r.hidden = !cell;
    if (!cell) continue;
    r.style.left = `${(cell.col / cols) * 100}%`;
    r.style.top = `${(cell.row / rows) * 100}%`;
    r.style.width = `${100 / cols}%`;
    r.style.height = `${100 / rows}%`;
    r.dataset.row = String(cell.row);
    r.dataset.col = String(cell.col);
  }
}

/**
 * The input image with the spotlight, the group map, and a reticle on each.
 * @param {Document} doc
 * @param {UrlBag} urls
 */
export function createPanels(doc, urls) {
  const image = h(doc, "img", { class: "ng-image", alt: "Input image", draggable: "false" });
  const spotlight = h(doc, "canvas", {
    class: "ng-spotlight",
    role: "img",
    "aria-label": "Spotlight: where the selected group is present in the image",
    hidden: true,
  });
  const map = h(doc, "canvas", {
    class: "ng-map",
    role: "img",
    "aria-label": "Group map: each cell is coloured by the groups present there",
  });
  const mapGroup = h(doc, "canvas", {
    class: "ng-map-group",
    role: "img",
    "aria-label": "Map of the selected group",
    hidden: true,
  });
  const reticles = [0, 1].map(() => h(doc, "div", { class: "ng-reticle", hidden: true }));
  const imagePanel = h(doc, "div", { class: "ng-panel ng-panel-image" }, [image, spotlight, reticles[0]]);
  const mapPanel = h(doc, "div", { class: "ng-panel ng-panel-map" }, [map, mapGroup, reticles[1]]);
  const el = h(doc, "div", { class: "ng-panels" }, [imagePanel, mapPanel]);
  /** @type {GroupCanvases} */
  let canvases = { color: [], gray: [] };
  /** @type {GroupData | null} */
  let drawn = null;
  /** @type {LayerColumn[]} the layers before the last (the multi-layer view) */
  let earlier = [];
  /** @type {Map<string, { data: GroupData, canvases: GroupCanvases }>} their canvases, drawn on first use */
  const earlierCanvases = new Map();

  /** Compute and cache every group's canvases; draw the composite map. @param {GroupData} d */
  function draw(d) {
    drawn = d;
    canvases = { color: [], gray: [] };
    for (const c of [map, mapGroup, spotlight]) {
      c.width = d.w || 1;
      c.height = d.h || 1;
    }
    const ctx = context2d(map);
    if (!ctx) return; // no canvas support: keep the DOM, skip the pixels
    if (!d.spatial) {
      ctx.fillStyle = "#000";
      ctx.fillRect(0, 0, map.width, map.height);
      return;
    }
    const drawnGroups = /** @type {NonNullable<ReturnType<typeof groupCanvases>>} */ (groupCanvases(doc, d, map));
    putPixels(map, drawnGroups.layers.composite, d.w, d.h);
    canvases = drawnGroups.canvases;
  }

  /**
   * The canvases and size of the shown group's layer (an earlier layer's drawn on first use).
   * @param {Ref | null} ref
   * @returns {{ canvases: GroupCanvases, w: number, h: number } | null}
   */
  function layerCanvases(ref) {
    const column = ref ? earlier.find((c) => c.layer === ref.layer) : undefined;
    if (!column) return drawn ? { canvases, w: drawn.w || 1, h: drawn.h || 1 } : null;
    let cached = earlierCanvases.get(column.layer);
    if (!cached || cached.data !== column.data) {
      cached = { data: column.data, canvases: groupCanvases(doc, column.data, map)?.canvases ?? { color: [], gray: [] } };
      earlierCanvases.set(column.layer, cached);
    }
    return { canvases: cached.canvases, w: column.data.w || 1, h: column.data.h || 1 };
  }

  return {
    el,
    image,
    /** Both panels (and so the map) take the image's aspect ratio once it has loaded. */
    fitImage() {
      const { naturalWidth: w, naturalHeight: h } = image;
      const ratio = w > 0 && h > 0 ? `${w} / ${h}` : "";
      imagePanel.style.aspectRatio = ratio;
      mapPanel.style.aspectRatio = ratio;
    },
    /** @param {Scene} s */
    update({ state, data, columns }) {
      const url = urls.set("image", toBytes(state.image));
      if (url) image.src = url;
      else image.removeAttribute("src");
      image.hidden = !url;
      image.alt = `Input image${state.title ? `: ${state.title}` : ""}`;
      if (data !== drawn) draw(data);
      earlier = columns.slice(0, -1);
      for (const layer of [...earlierCanvases.keys()]) {
        if (!earlier.some((c) => c.layer === layer)) earlierCanvases.delete(layer);
      }
    },
    /** @param {Selection} sel */
    highlight({ shown: lastShown, cell, shownRef }) {
      const isEarlier = !!shownRef && earlier.some((c) => c.layer === shownRef.layer);
      const shown = isEarlier && shownRef ? shownRef.group : lastShown;
      if (shown >= 0) {
        const source = layerCanvases(isEarlier ? shownRef : null);
        if (source) {
          resize(spotlight, source.w, source.h);
          resize(mapGroup, source.w, source.h);
          blit(spotlight, source.canvases.gray[shown]);
          blit(mapGroup, source.canvases.color[shown]);
        }
        const name = isEarlier && shownRef ? `${shownRef.layer} group ${shown}` : `group ${shown}`;
        spotlight.setAttribute("aria-label", `Spotlight: where ${name} is present in the image`);
        mapGroup.setAttribute("aria-label", `Map of ${name}: where it is present`);
      }
      spotlight.hidden = shown < 0;
      mapGroup.hidden = shown < 0;
      map.hidden = shown >= 0;
      spotlight.dataset.layer = shown >= 0 && shownRef ? shownRef.layer : "";
      placeReticles(reticles, cell, drawn?.h ?? 0, drawn?.w ?? 0);
    },
  };
}
