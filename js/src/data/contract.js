/**
 * The contract with Python: the names of the synced traits (`FIELDS` == `display/state.py`'s
 * `ViewState`, `GALLERY_FIELDS` == `display/gallery.py`'s `GalleryState`; pytests check both),
 * the types of their values, and `readState`, which brings each value to its type.
 *
 * A new field: add it to `ViewState` (Python), to `FIELDS` and `State` here, read it in
 * `readState`, then name it in `app/view.js`'s `dependencies` beside the component that shows it.
 */
import { asArray, asString, asUnit, clamp01, isRecord } from "./values.js";

/**
 * The traits that change with the number of groups (a standalone page's "variants" carry
 * these per cached count).
 */
export const GROUP_FIELDS = Object.freeze([
  "n_groups",
  "spatial",
  "spatial_shape",
  "icons",
  "icon_size",
  "attributions",
  "class_names",
  "group_colors",
  "tables",
  "rest",
  "disagreements",
  "explained_variance",
  "stability",
  "regions",
]);

/** Every synced trait the front end reads (== the Python ViewState traits). */
export const FIELDS = Object.freeze([
  "image",
  "spatial",
  "spatial_shape",
  "icons",
  "icon_size",
  "attributions",
  "class_names",
  "class_options",
  "predictions",
  "group_colors",
  "n_groups_options",
  "layer",
  "model_name",
  "title",
  "progress_text",
  "error",
  "status",
  "progress",
  "n_groups",
  "classes",
  "selected_group",
  "earlier_layers",
  "flows",
  "layer_groups",
  "selected_layer",
  "image_options",
  "attribution_method",
  "attribution_methods",
  "tables",
  "rest",
  "disagreements",
  "explained_variance",
  "explained_variance_by_k",
  "stability",
  "regions",
]);

/** The traits the decoded group data (GroupData) is read from. */
export const DATA_FIELDS = Object.freeze([
  "n_groups",
  "spatial",
  "spatial_shape",
  "attributions",
  "class_names",
  "group_colors",
]);

/**
 * Binary trait as it arrives: DataView (anywidget), ArrayBuffer or any typed array.
 * @typedef {DataView | ArrayBuffer | ArrayBufferView | null | undefined} Binary
 */

/** @typedef {[number, number, number]} RGB  a colour, 0..255 per channel */

/** @typedef {"loading" | "computing" | "optimizing" | "ready" | "stopped" | "error"} Status */

/**
 * Whether the kernel is still producing the view (loading the model, or computing groups).
 * @param {string} status
 */
export const isBusy = (status) => status === "loading" || status === "computing";

/** @typedef {{ name: string, probability: number }} Prediction */

/**
 * The synced state, one property per name in FIELDS (kernel -> front end unless noted).
 * @typedef {object} State
 * @property {Binary} image                PNG of the input image
 * @property {Binary} spatial              float32 little-endian (n, h, w) maps in [0, 1]
 * @property {number[]} spatial_shape      [n, h, w]
 * @property {Binary[]} icons              PNG per group; empty while pending
 * @property {number} icon_size            icon side in px
 * @property {Binary} attributions         float32 little-endian (k, n) class x group effects
 * @property {string[]} class_names        the k table rows
 * @property {string[]} class_options      every class name (the picker); [] = no picker
 * @property {Prediction[]} predictions    top 5
 * @property {RGB[]} group_colors          one colour per group
 * @property {number[]} n_groups_options   the counts the groups control offers
 * @property {string} layer
 * @property {string} model_name
 * @property {string} title
 * @property {string} progress_text
 * @property {string} error
 * @property {Status | string} status
 * @property {number} progress             0..1
 * @property {number} n_groups             both ways
 * @property {Array<string | number>} classes  both ways; [] = top 5; ints are class indices
 * @property {number} selected_group       both ways; pinned group, -1 none
 * @property {EarlierLayer[]} earlier_layers  layers before the last, input to output; [] in the
 *                                         single-layer view
 * @property {FlowEntry[]} flows           one per neighbouring pair, input to output; []
 *                                         single-layer; the last pair's `to` is `layer`
 * @property {number[]} layer_groups       both ways; group count per layer, input to output
 *                                         ([] single-layer); the last entry is n_groups
 * @property {string} selected_layer       both ways; layer of the pinned group, "" = the last
 * @property {string[]} image_options      example image names the image picker offers
 * @property {string} attribution_method   both ways; the method the table and the flows show:
 *                                         "integrated" | "linear" | "ablation" ("" = not sent)
 * @property {string[]} attribution_methods  the methods present, in order of preference (the
 *                                         switch offers these)
 * @property {Record<string, Binary>} tables  method -> float32 little-endian (k, n); {} in an
 *                                         older state (then `attributions` is the only table)
 * @property {Binary} rest                 float32 (k,): integrated gradients' rest per class
 *                                         row (evidence the groups do not explain); b'' none
 * @property {Binary} disagreements        uint8 (k, n): 1 where the linear attribution's sign
 *                                         disagrees with the measured effect on a strong cell
 * @property {number} explained_variance   share of the layer's activations the groups
 *                                         explain, [0, 1]; NaN unknown
 * @property {number[]} explained_variance_by_k  entry k-1 for k groups ([] until measured;
 *                                         NaN where unknown)
 * @property {number[]} stability          per group, [0, 1] ([] until measured; NaN unknown)
 * @property {Binary[]} regions            PNG per group: the image around its strongest cell
 *                                         (outlined), shown while its icon is pending
 */

/**
 * One layer before the last, as sent in `earlier_layers`.
 * @typedef {object} EarlierLayer
 * @property {string} layer
 * @property {number} n_groups
 * @property {number[]} n_groups_options
 * @property {Binary} spatial              float32 little-endian (n, h, w) maps in [0, 1]
 * @property {number[]} spatial_shape      [n, h, w]
 * @property {Binary[]} icons              PNG per group; empty while pending
 * @property {RGB[]} group_colors
 * @property {number} explained_variance   as the state's, for this layer
 * @property {number[]} explained_variance_by_k
 * @property {number[]} stability
 * @property {Binary[]} regions
 */

/**
 * The flow between two neighbouring layers, as sent in `flows`.
 * @typedef {object} FlowEntry
 * @property {string} from
 * @property {string} to
 * @property {Binary} values               float32 little-endian (n_from, n_to)
 * @property {number[]} shape              [n_from, n_to]
 * @property {Record<string, Binary>} tables  method -> float32 (n_from, n_to); {} when absent
 *                                         (then `values` is the only one)
 * @property {Binary} rest                 float32 (n_to,): integrated gradients' rest
 * @property {Binary} disagreements        uint8 (n_from, n_to): 1 where linear and measured
 *                                         disagree in sign
 */

/**
 * The subset of the anywidget model API this widget uses.
 * @typedef {object} WidgetModel
 * @property {(name: string) => any} get
 * @property {(name: string, value: any) => void} set
 * @property {(event: string, cb: (...args: any[]) => void) => void} on
 * @property {(event?: string | null, cb?: ((...args: any[]) => void) | null) => void} off
 * @property {() => void} save_changes
 * @property {(msg: any, callbacks?: any, buffers?: any[]) => void} send
 * @property {boolean} [offline]  true for a standalone page's StaticModel: no kernel behind it
 */

/** The traits the table (and the flow to the classes) is decoded from, besides DATA_FIELDS. */
export const TABLE_FIELDS = Object.freeze([
  "attributions",
  "tables",
  "rest",
  "disagreements",
  "attribution_method",
  "attribution_methods",
]);

/** The traits a count control's explained-variance curve shows. */
export const VARIANCE_FIELDS = Object.freeze(["explained_variance", "explained_variance_by_k"]);

/** The traits the multi-layer diagram is drawn from (besides the last layer's DATA_FIELDS). */
export const LAYER_FIELDS = Object.freeze(["earlier_layers", "flows", "layer_groups"]);

/** Every synced trait the gallery reads (== the Python GalleryState traits). */
export const GALLERY_FIELDS = Object.freeze([
  "view",
  "title",
  "model_name",
  "layer",
  "n_images",
  "gallery",
  "group_colors",
  "icons",
  "icon_size",
  "status",
  "progress",
  "progress_text",
  "error",
  "selected_group",
  "explained_variance",
  "stability",
]);

/**
 * One region of a group, as sent in `gallery[j].regions`.
 * @typedef {object} GalleryRegion
 * @property {string} image     the image's name or path
 * @property {number} index     its position among the images read
 * @property {number} y         the cell's row at the layer
 * @property {number} x         the cell's column
 * @property {number} value     the group's code at the cell
 * @property {Binary} crop      JPEG of the image around the cell (empty when none)
 * @property {number[]} box     [top, left, bottom, right]: the cell in the crop, fractions
 */

/**
 * One group of the gallery, as sent in `gallery`.
 * @typedef {object} GalleryGroup
 * @property {number} usage     share of the summed codes over the dataset, 0..1
 * @property {Array<{ name: string, value: number }>} classes  pushed most, largest first
 * @property {GalleryRegion[]} regions  strongest first
 */

/** Colour of a group whose colour has not arrived (or is malformed). */
export const FALLBACK_RGB = /** @type {RGB} */ (Object.freeze([128, 128, 128]));

/**
 * A colour as sent ([r, g, b], 0..255), rounded and clamped; null when it is not one.
 * @param {unknown} value
 * @returns {RGB | null}
 */
export function toRGB(value) {
  if (!Array.isArray(value) || value.length !== 3) return null;
  const ch = value.map(Number);
  if (!ch.every(Number.isFinite)) return null;
  return /** @type {RGB} */ (ch.map((c) => Math.min(255, Math.max(0, Math.round(c)))));
}

/**
 * The synced state of a model, each value checked and brought to its type (binary values are
 * passed through; they are decoded where they are used).
 * @param {{ get: (name: string) => any }} model
 * @returns {State}
 */
export function readState(model) {
  const get = (/** @type {string} */ name) => model.get(name);
  const ints = (/** @type {string} */ name) =>
    asArray(get(name))
      .map(Number)
      .filter((v) => Number.isInteger(v));
  const selected = Number(get("selected_group"));
  return {
    image: get("image"),
    spatial: get("spatial"),
    spatial_shape: ints("spatial_shape"),
    icons: asArray(get("icons")),
    icon_size: Number(get("icon_size")) || 80,
    attributions: get("attributions"),
    class_names: asArray(get("class_names")).map(asString),
    class_options: asArray(get("class_options")).map(asString),
    predictions: asArray(get("predictions"))
      .filter((p) => p && typeof p === "object")
      .map((p) => ({ name: asString(p.name), probability: Number(p.probability) })),
    group_colors: asArray(get("group_colors")).map((c) => toRGB(c) ?? FALLBACK_RGB),
    n_groups_options: ints("n_groups_options").filter((v) => v > 0),
    layer: asString(get("layer")),
    model_name: asString(get("model_name")),
    title: asString(get("title")),
    progress_text: asString(get("progress_text")),
    error: asString(get("error")),
    status: asString(get("status")) || "ready",
    progress: clamp01(Number(get("progress"))),
    n_groups: Math.max(0, Math.trunc(Number(get("n_groups")) || 0)),
    classes: asArray(get("classes")).filter((c) => typeof c === "string" || Number.isInteger(c)),
    selected_group: Number.isInteger(selected) ? selected : -1,
    earlier_layers: asArray(get("earlier_layers")).filter(isRecord).map(readEarlierLayer),
    flows: asArray(get("flows"))
      .filter(isRecord)
      .map((f) => ({
        from: asString(f.from),
        to: asString(f.to),
        values: f.values,
        shape: asArray(f.shape).map(Number).filter((v) => Number.isInteger(v)),
        tables: asTables(f.tables),
        rest: f.rest,
        disagreements: f.disagreements,
      })),
    layer_groups: ints("layer_groups"),
    selected_layer: asString(get("selected_layer")),
    image_options: asArray(get("image_options")).map(asString),
    attribution_method: asString(get("attribution_method")),
    attribution_methods: asArray(get("attribution_methods")).map(asString),
    tables: asTables(get("tables")),
    rest: get("rest"),
    disagreements: get("disagreements"),
    explained_variance: asUnit(get("explained_variance")),
    explained_variance_by_k: asArray(get("explained_variance_by_k")).map(asUnit),
    stability: asArray(get("stability")).map(asUnit),
    regions: asArray(get("regions")),
  };
}

/**
 * A `tables` value as sent: method -> bytes ({} when it is not an object).
 * @param {unknown} v
 * @returns {Record<string, Binary>}
 */
function asTables(v) {
  return isRecord(v) ? v : {};
}

/**
 * One entry of `earlier_layers`, each value brought to its type.
 * @param {Record<string, any>} e
 * @returns {EarlierLayer}
 */
function readEarlierLayer(e) {
  const ints = (/** @type {unknown} */ v) =>
    asArray(v)
      .map(Number)
      .filter((x) => Number.isInteger(x));
  return {
    layer: asString(e.layer),
    n_groups: Math.max(0, Math.trunc(Number(e.n_groups)) || 0),
    n_groups_options: ints(e.n_groups_options).filter((x) => x > 0),
    spatial: e.spatial,
    spatial_shape: ints(e.spatial_shape),
    icons: asArray(e.icons),
    group_colors: asArray(e.group_colors).map((c) => toRGB(c) ?? FALLBACK_RGB),
    explained_variance: asUnit(e.explained_variance),
    explained_variance_by_k: asArray(e.explained_variance_by_k).map(asUnit),
    stability: asArray(e.stability).map(asUnit),
    regions: asArray(e.regions),
  };
}
