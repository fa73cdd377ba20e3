/**
 * The tiles of one layer: one per group, its icon (or a placeholder) over a strip in its
 * colour, with the group's stability. While an icon is pending, its placeholder shows the
 * group's strongest region of the image (labelled as such) when there is one. The last
 * layer's tiles are the widget's `tiles`; the multi-layer diagram makes one more per earlier
 * layer.
 *
 * DOM hooks (stable; browser and unit tests rely on them):
 *   .ng-tile[data-group="j"]       role=button, tabindex=0, aria-pressed (pinned?);
 *                                  classes is-selected (hovered or pinned), is-pinned;
 *                                  style.opacity + data-share while a cell is probed;
 *                                  data-layer in the multi-layer view; data-stability when
 *                                  known; class is-loading while its icon is pending
 *     .ng-icon (<img>) / .ng-icon-placeholder (icon not ready; class has-region, and inside
 *                                  it img.ng-tile-region + .ng-region-tag "region", when the
 *                                  group's region is shown instead), .ng-tile-strip (group
 *                                  colour, text colour by contrast) with .ng-tile-stability
 *                                  ("0.93", with its meaning as title) and .ng-stability-bar
 */
/** @import { Binary, RGB } from "../data/contract.js" */
/** @import { GroupData } from "../data/decode.js" */
/** @import { UrlBag } from "./dom.js" */
/** @import { Scene } from "./scene.js" */
import { toBytes } from "../data/decode.js";
import { cssColor, textColor } from "../pure/colors.js";
import { fadeOpacity } from "../pure/pixels.js";
import { STABILITY_TEXT, stabilityText } from "../pure/variance.js";
import { h } from "./dom.js";

/**
 * What one layer's tiles show (a LayerColumn has all of it).
 * @typedef {object} TileLayer
 * @property {string} layer
 * @property {GroupData} data
 * @property {Binary[]} icons       PNG per group; empty while pending
 * @property {Binary[]} regions     PNG per group: its strongest region (shown while pending)
 * @property {number[]} stability   per group (NaN or missing: unknown)
 */

/**
 * @typedef {object} Tile
 * @property {HTMLElement} el
 * @property {HTMLImageElement} img
 * @property {HTMLElement} placeholder
 * @property {HTMLImageElement} region
 * @property {HTMLElement} stability
 * @property {HTMLElement} bar
 * @property {string} name
 */

/** @param {string} name @returns {string} "Group 3" -> "group 3" */
const lower = (name) => `${name.charAt(0).toLowerCase()}${name.slice(1)}`;

/**
 * One tile: the group's icon (hidden until it arrives), a placeholder (holding its region
 * while there is one), its strip with the stability.
 * @param {Document} doc
 * @param {number} j
 * @param {RGB} rgb
 * @param {string} layer the layer's name (data-layer)
 * @param {string} name how the tile names its group: "Group 3" or "mixed4a group 3"
 * @returns {Tile}
 */
function tileNode(doc, j, rgb, layer, name) {
  const img = h(doc, "img", { class: "ng-icon", alt: `Feature visualisation of ${lower(name)}`, draggable: "false", hidden: true });
  const region = h(doc, "img", { class: "ng-tile-region", alt: "", draggable: "false", hidden: true });
  const tag = h(doc, "span", { class: "ng-region-tag", text: "region", "aria-hidden": "true" });
  const placeholder = h(doc, "div", { class: "ng-icon ng-icon-placeholder", role: "img" }, [region, tag]);
  const stability = h(doc, "span", { class: "ng-tile-stability", hidden: true });
  const bar = h(doc, "span", { class: "ng-stability-bar", "aria-hidden": "true", hidden: true });
  const strip = h(doc, "div", { class: "ng-tile-strip" }, [h(doc, "span", { class: "ng-tile-label", text: String(j) }), stability, bar]);
  strip.style.background = cssColor(rgb);
  strip.style.color = textColor(rgb);
  const node = h(
    doc,
    "div",
    {
      class: "ng-tile",
      "data-group": j,
      "data-layer": layer || null,
      role: "button",
      tabindex: 0,
      "aria-pressed": "false",
      "aria-label": name,
      title: `${name}: hover to isolate, click to pin`,
    },
    [img, placeholder, strip],
  );
  node.style.setProperty("--ng-group-color", cssColor(rgb));
  return { el: node, img, placeholder, region, stability, bar, name };
}

/**
 * Show a tile's icon, else its region (labelled), else the bare placeholder.
 * @param {Tile} t
 * @param {string | null} icon URL
 * @param {string | null} region URL
 */
function showPicture(t, icon, region) {
  if (icon) t.img.src = icon;
  else t.img.removeAttribute("src");
  t.img.hidden = !icon;
  t.placeholder.hidden = !!icon;
  t.el.classList.toggle("is-loading", !icon);
  const showRegion = !icon && !!region;
  if (showRegion && region) t.region.src = region;
  else t.region.removeAttribute("src");
  t.region.hidden = !showRegion;
  t.placeholder.classList.toggle("has-region", showRegion);
  t.placeholder.setAttribute(
    "aria-label",
    showRegion
      ? `Image region where ${lower(t.name)} is strongest (its cell outlined); its icon is not ready yet`
      : `Icon of ${lower(t.name)} not ready yet`,
  );
  t.placeholder.title = showRegion ? "Image region: the image around this group's strongest cell, until its icon is ready" : "";
}

/**
 * Show a tile's stability (NaN: unknown, nothing shown).
 * @param {Tile} t
 * @param {number} v
 */
function showStability(t, v) {
  const text = stabilityText(v);
  t.stability.textContent = text;
  t.stability.hidden = !text;
  t.stability.title = text ? `stability ${text}: ${STABILITY_TEXT}` : "";
  t.bar.hidden = !text;
  t.bar.style.width = text ? `${(v * 100).toFixed(1)}%` : "";
  if (text) t.el.dataset.stability = text;
  else delete t.el.dataset.stability;
  t.el.setAttribute("aria-label", text ? `${t.name}, stability ${text}` : t.name);
}

/**
 * One tile per group of one layer: its icon (or a placeholder) over a strip in its colour.
 * The last layer's tiles are updated from the scene (`update`); an earlier layer's column
 * calls `show`.
 * @param {Document} doc
 * @param {UrlBag} urls
 * @param {string} [urlPrefix] key prefix of its icons in `urls` ("icon-" for the last layer)
 */
export function createTiles(doc, urls, urlPrefix = "icon-") {
  const el = h(doc, "div", {
    class: "ng-tiles",
    role: "group",
    "aria-label": "Neuron groups: hover or focus to isolate, click or Enter to pin",
  });
  /** @type {Tile[]} */
  let tiles = [];
  let builtKey = "";
  const regionPrefix = `region:${urlPrefix}`;

  /**
   * @param {GroupData} d
   * @param {string} layer
   * @param {boolean} named whether tiles name their layer (the multi-layer view)
   */
  function build(d, layer, named) {
    const focused = doc.activeElement;
    const refocus = focused instanceof HTMLElement && el.contains(focused) ? focused.dataset.group : null;
    tiles = d.rgb.map((rgb, j) => tileNode(doc, j, rgb, layer, named ? `${layer} group ${j}` : `Group ${j}`));
    el.replaceChildren(...tiles.map((t) => t.el));
    if (refocus != null) tiles[Number(refocus)]?.el.focus();
  }

  /**
   * Show a layer's groups, icons (or regions) and stability.
   * @param {TileLayer} layer
   * @param {boolean} named
   */
  function show({ layer, data, icons, regions, stability }, named) {
    const key = `${layer}|${named}|${data.rgb.map((c) => c.join(",")).join(";")}`;
    if (key !== builtKey || tiles.length !== data.n) {
      builtKey = key;
      build(data, layer, named);
    }
    tiles.forEach((t, j) => {
      const icon = urls.set(`${urlPrefix}${j}`, toBytes(icons[j]));
      // A region is kept only while its icon is pending.
      const region = urls.set(`${regionPrefix}${j}`, icon ? null : toBytes(regions[j]));
      showPicture(t, icon, region);
      showStability(t, stability.length === tiles.length ? stability[j] : NaN);
    });
    const stale = (/** @type {string} */ k, /** @type {string} */ prefix) =>
      k.startsWith(prefix) && Number(k.slice(prefix.length)) >= tiles.length;
    urls.revokeWhere((k) => stale(k, urlPrefix) || stale(k, regionPrefix));
  }

  return {
    el,
    show,
    /** @returns {HTMLElement[]} the tiles, in group order */
    nodes() {
      return tiles.map((t) => t.el);
    },
    /** @param {number} j */
    focus(j) {
      tiles[j]?.el.focus();
    },
    /** @param {Scene} s */
    update({ columns, multi }) {
      show(columns[columns.length - 1], multi);
    },
    /** Forget its icons' and regions' URLs (the column is gone). */
    dispose() {
      urls.revokeWhere((k) => k.startsWith(urlPrefix) || k.startsWith(regionPrefix));
    },
    /** @param {{ shown: number, pinned: number, shares?: Float32Array | null }} sel */
    highlight({ shown, pinned, shares }) {
      tiles.forEach((t, j) => {
        t.el.classList.toggle("is-selected", j === shown);
        t.el.classList.toggle("is-pinned", j === pinned);
        t.el.setAttribute("aria-pressed", String(j === pinned));
        if (shares) {
          t.el.style.opacity = String(fadeOpacity(shares[j]));
          t.el.dataset.share = shares[j].toFixed(3);
        } else {
          t.el.style.opacity = "";
          delete t.el.dataset.share;
        }
      });
    },
  };
}
