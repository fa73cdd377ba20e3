/**
 * The gallery of shared groups: one row per group (its icon tile, usage and the classes it
 * pushes, then its strongest regions, each a crop with its cell boxed in the group's colour).
 *
 * DOM hooks (stable; browser and unit tests rely on them):
 *   .ng-gallery[role=list] > .ng-gallery-group[data-group] (is-selected, is-pinned)
 *     .ng-gallery-head > .ng-tile[data-group] (as in tiles.js), .ng-gallery-usage,
 *                                  .ng-gallery-stability (split-half; hidden when unknown),
 *                                  .ng-gallery-classes (hidden when none)
 *     .ng-gallery-regions > .ng-region[data-group][data-index] (is-hovered): .ng-region-crop,
 *                                  .ng-region-cell (the cell's box), .ng-region-caption
 */
/** @import { Binary, GalleryGroup, GalleryRegion, RGB } from "../data/contract.js" */
/** @import { UrlBag } from "./dom.js" */
import { FALLBACK_RGB, toRGB } from "../data/contract.js";
import { toBytes } from "../data/decode.js";
import { asArray } from "../data/values.js";
import { cssColor, textColor } from "../pure/colors.js";
import { boxStyle, classesText, formatValue, regionText } from "../pure/format.js";
import { SPLIT_HALF_TEXT, stabilityText } from "../pure/variance.js";
import { h } from "./dom.js";

/**
 * One region: its crop with the cell boxed in the group's colour, and its value.
 * @param {Document} doc
 * @param {UrlBag} urls
 * @param {GalleryRegion} r
 * @param {number} j
 * @param {number} i
 * @param {RGB} rgb
 */
function regionNode(doc, urls, r, j, i, rgb) {
  const url = urls.set(`crop-${j}-${i}`, toBytes(r.crop), "image/jpeg");
  const crop = url
    ? h(doc, "img", { class: "ng-region-crop", src: url, alt: `Region of ${r.image}`, draggable: "false" })
    : h(doc, "div", { class: "ng-region-crop ng-icon-placeholder", role: "img", "aria-label": "No crop" });
  const cell = h(doc, "div", { class: "ng-region-cell" });
  Object.assign(cell.style, boxStyle(r.box));
  cell.style.borderColor = cssColor(rgb);
  const caption = h(doc, "div", { class: "ng-region-caption", text: formatValue(r.value) });
  return h(
    doc,
    "div",
    {
      class: "ng-region",
      "data-group": j,
      "data-index": i,
      tabindex: 0,
      role: "img",
      "aria-label": regionText(r),
      title: regionText(r),
    },
    [h(doc, "div", { class: "ng-region-frame" }, [crop, cell]), caption],
  );
}

/**
 * The gallery: one row per group (its icon tile, usage and classes, then its regions).
 * @param {Document} doc
 * @param {UrlBag} urls
 */
export function createGallery(doc, urls) {
  const el = h(doc, "div", {
    class: "ng-gallery",
    role: "list",
    "aria-label": "Shared neuron groups: hover a region to read it, click a group to pin it",
  });
  /** @type {Array<{ row: HTMLElement, head: HTMLElement, img: HTMLImageElement, placeholder: HTMLElement }>} */
  let rows = [];
  let builtKey = "";

  /**
   * @param {GalleryGroup} g
   * @param {number} j
   * @param {RGB} rgb
   * @param {number} stability split-half, NaN unknown
   */
  function groupRow(g, j, rgb, stability) {
    const img = h(doc, "img", { class: "ng-icon", alt: `Feature visualisation of group ${j}`, hidden: true });
    const placeholder = h(doc, "div", {
      class: "ng-icon ng-icon-placeholder",
      role: "img",
      "aria-label": `Icon of group ${j} not ready yet`,
    });
    const strip = h(doc, "div", { class: "ng-tile-strip" }, [h(doc, "span", { class: "ng-tile-label", text: String(j) })]);
    strip.style.background = cssColor(rgb);
    strip.style.color = textColor(rgb);
    const head = h(
      doc,
      "div",
      {
        class: "ng-tile",
        "data-group": j,
        role: "button",
        tabindex: 0,
        "aria-pressed": "false",
        "aria-label": `Group ${j}`,
        title: `Group ${j}: click to pin`,
      },
      [img, placeholder, strip],
    );
    head.style.setProperty("--ng-group-color", cssColor(rgb));
    const usage = h(doc, "div", { class: "ng-gallery-usage", text: `${(g.usage * 100).toFixed(1)}% of use` });
    const said = stabilityText(stability);
    const steady = h(doc, "div", {
      class: "ng-gallery-stability",
      text: said ? `stability ${said}` : "",
      title: said ? `stability ${said}: ${SPLIT_HALF_TEXT}` : null,
      hidden: !said,
    });
    const classes = h(doc, "div", { class: "ng-gallery-classes", text: classesText(g) });
    classes.hidden = !classes.textContent;
    const regions = h(
      doc,
      "div",
      { class: "ng-gallery-regions" },
      asArray(g.regions).map((r, i) => regionNode(doc, urls, r, j, i, rgb)),
    );
    const row = h(doc, "div", { class: "ng-gallery-group", role: "listitem", "data-group": j }, [
      h(doc, "div", { class: "ng-gallery-head" }, [head, h(doc, "div", { class: "ng-gallery-about" }, [usage, steady, classes])]),
      regions,
    ]);
    row.style.setProperty("--ng-group-color", cssColor(rgb));
    return { row, head, img, placeholder };
  }

  return {
    el,
    /**
     * @param {GalleryGroup[]} groups
     * @param {RGB[]} colors
     * @param {Binary[]} icons
     * @param {number[]} [stability] split-half, per group (NaN unknown)
     */
    update(groups, colors, icons, stability = []) {
      // Rebuilt only when the groups change (the crops are many); icons update in place.
      const steady = groups.map((_, j) => (stability.length === groups.length ? stability[j] : NaN));
      const key = JSON.stringify([
        groups.length,
        colors,
        groups.map((g) => [g.usage, g.classes, asArray(g.regions).length]),
        steady.map((v) => (Number.isFinite(v) ? v : null)),
      ]);
      if (key !== builtKey || rows.length !== groups.length) {
        builtKey = key;
        urls.revokeWhere((k) => k.startsWith("crop-"));
        rows = groups.map((g, j) => groupRow(g, j, toRGB(colors[j]) ?? FALLBACK_RGB, steady[j]));
        el.replaceChildren(...rows.map((r) => r.row));
      }
      rows.forEach((r, j) => {
        const url = urls.set(`gallery-icon-${j}`, toBytes(icons[j]));
        if (url) r.img.src = url;
        else r.img.removeAttribute("src");
        r.img.hidden = !url;
        r.placeholder.hidden = !!url;
        r.head.classList.toggle("is-loading", !url);
      });
    },
    /** @param {{ shown: number, pinned: number, region: HTMLElement | null }} sel */
    highlight({ shown, pinned, region }) {
      rows.forEach((r, j) => {
        r.row.classList.toggle("is-selected", j === shown);
        r.row.classList.toggle("is-pinned", j === pinned);
        r.head.classList.toggle("is-selected", j === shown);
        r.head.classList.toggle("is-pinned", j === pinned);
        r.head.setAttribute("aria-pressed", String(j === pinned));
      });
      for (const node of el.querySelectorAll(".ng-region.is-hovered")) {
        if (node !== region) node.classList.remove("is-hovered");
      }
      region?.classList.add("is-hovered");
    },
  };
}
