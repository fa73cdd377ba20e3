/**
 * The tiles of one layer: one per group, its icon (or a placeholder) over a strip in its
 * colour. The last layer's tiles are the widget's `tiles`; the multi-layer diagram makes one
 * more per earlier layer.
 *
 * DOM hooks (stable; browser and unit tests rely on them):
 *   .ng-tile[data-group="j"]       role=button, tabindex=0, aria-pressed (pinned?);
 *                                  classes is-selected (hovered or pinned), is-pinned;
 *                                  style.opacity + data-share while a cell is probed;
 *                                  data-layer in the multi-layer view
 *     .ng-icon (<img>) / .ng-icon-placeholder (icon not ready), .ng-tile-strip (group colour,
 *                                  text colour by contrast)
 */
/** @import { Binary, RGB } from "../data/contract.js" */
/** @import { GroupData } from "../data/decode.js" */
/** @import { UrlBag } from "./dom.js" */
/** @import { Scene } from "./scene.js" */
import { toBytes } from "../data/decode.js";
import { cssColor, textColor } from "../pure/colors.js";
import { fadeOpacity } from "../pure/pixels.js";
import { h } from "./dom.js";

/**
 * One tile: the group's icon (hidden until it arrives), a placeholder, its strip.
 * @param {Document} doc
 * @param {number} j
 * @param {RGB} rgb
 * @param {string} layer the layer's name (data-layer)
 * @param {string} name how the tile names its group: "Group 3" or "mixed4a group 3"
 */
function tileNode(doc, j, rgb, layer, name) {
  const img = h(doc, "img", {
    class: "ng-icon",
    alt: `Feature visualisation of ${name.charAt(0).toLowerCase()}${name.slice(1)}`,
    draggable: "false",
    hidden: true,
  });
  const placeholder = h(doc, "div", {
    class: "ng-icon ng-icon-placeholder",
    role: "img",
    "aria-label": `Icon of ${name.charAt(0).toLowerCase()}${name.slice(1)} not ready yet`,
  });
  const strip = h(doc, "div", { class: "ng-tile-strip" }, [
    h(doc, "span", { class: "ng-tile-label", text: String(j) }),
  ]);
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
  return { el: node, img, placeholder };
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
  /** @type {Array<{ el: HTMLElement, img: HTMLImageElement, placeholder: HTMLElement }>} */
  let tiles = [];
  let builtKey = "";

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
   * Show a layer's groups and icons.
   * @param {GroupData} data
   * @param {Binary[]} icons
   * @param {string} layer
   * @param {boolean} named
   */
  function show(data, icons, layer, named) {
    const key = `${layer}|${named}|${data.rgb.map((c) => c.join(",")).join(";")}`;
    if (key !== builtKey || tiles.length !== data.n) {
      builtKey = key;
      build(data, layer, named);
    }
    tiles.forEach((t, j) => {
      const url = urls.set(`${urlPrefix}${j}`, toBytes(icons[j]));
      if (url) t.img.src = url;
      else t.img.removeAttribute("src");
      t.img.hidden = !url;
      t.placeholder.hidden = !!url;
      t.el.classList.toggle("is-loading", !url);
    });
    urls.revokeWhere((k) => k.startsWith(urlPrefix) && Number(k.slice(urlPrefix.length)) >= tiles.length);
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
    update({ state, data, multi }) {
      show(data, state.icons, state.layer, multi);
    },
    /** Forget its icons' URLs (the column is gone). */
    dispose() {
      urls.revokeWhere((k) => k.startsWith(urlPrefix));
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
