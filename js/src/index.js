/**
 * neuron-groups — the front end of `GroupWidget` and `GalleryWidget` (anywidget) and of the
 * standalone pages (`mountPage`). esbuild bundles this module and everything it imports into
 * the one ES module anywidget loads, `python/neuron_groups/static/widget.js` (with
 * `widget.css` beside it): `npm run build`, then commit both; a test fails while they differ
 * from a fresh build.
 *
 * Shows the "neuron groups" of one layer of a vision network for one image: the input image and
 * a colour-coded map of where each group fires, one feature-visualisation icon per group, and a
 * class x group attribution table. With several layers (`earlier_layers` not empty) it shows, as
 * the article's second figure does, one column of group tiles per layer, left to right, then the
 * classes, with curves between neighbouring columns whose width is the flow's size (normalized
 * per pair of layers) and whose colour is its sign; the table and the map stay the last layer's.
 * The layout and interactions follow the GroupWidget of Lucid and Distill's "The Building
 * Blocks of Interpretability" (Olah et al., 2018): spotlight of the hovered group over the
 * image, lighter-wins group map, reticle and fading when a cell is probed. This is a new
 * implementation (plain DOM, no framework); no code was copied.
 *
 * It uses no JupyterLab globals, so it runs in JupyterLab, Notebook 7, VS Code, Colab, and in a
 * standalone HTML page driven by `StaticModel`. Nothing at the top level of any module touches
 * the DOM: node imports the bundle to cross-check the pure functions against Python.
 *
 * Layout of js/src (imports only point down this list):
 *   index.js       this entry: the default export anywidget calls, and every public name
 *   page.js        StaticModel and mountPage (the standalone page's start-up)
 *   app/           render (widget or gallery), the widget's view (view.js: components in page
 *                  order, which traits each shows), controller (controller.js: the scene;
 *                  selection.js: hover, pin, probe; actions.js: what is sent to the kernel),
 *                  the DOM listeners (bindings.js), the gallery view (gallery.js), and
 *                  wiring.js, the one way both attach and remove listeners
 *   components/    one module per component: header (and error), status, controls, panels,
 *                  tiles, table, methods (the method switch), variance (the explained-variance
 *                  curve of a count control), flow (with flow-columns, flow-curves), gallery; each builds
 *                  its DOM, has `update(scene)` and, where it shows a group, `highlight(sel)`;
 *                  none listens to anything. dom.js: element, URL and canvas helpers.
 *   pure/          functions without DOM, unit-tested (and some cross-checked against Python):
 *                  colours, formatting, pixels, curves, what the controls offer, explained
 *                  variance (its words and its curve's geometry)
 *   data/          the contract with Python (FIELDS, GALLERY_FIELDS, the state's types,
 *                  readState), the decoding of binary traits, and the tables and flows in
 *                  the attribution method shown (tables.js)
 *   widget.css     the style, scoped under .neuron-groups: it imports styles/*.css
 */
import "./widget.css";
import { render } from "./app/render.js";

export { FIELDS, GALLERY_FIELDS, GROUP_FIELDS, readState, toRGB } from "./data/contract.js";
export { decodeBase64, decodeFloat32, earlierColumns, readGroupData, reviveBinary, toBytes } from "./data/decode.js";
export {
  CLASSES_COLUMN,
  classFlow,
  columnFlows,
  decodeFlow,
  DISAGREEMENT_TEXT,
  METHODS,
  offeredMethods,
  readTable,
  REST_TEXT,
  shownMethod,
} from "./data/tables.js";
export { attributionColor, cssColor, relativeLuminance, signColor, textColor } from "./pure/colors.js";
export { chipLabels, groupCounts, groupsMode, resolveClass } from "./pure/controls.js";
export {
  belowThreshold,
  CURVE_MAX_WIDTH,
  CURVE_MIN_WIDTH,
  curveD,
  curvePaths,
  DEFAULT_THRESHOLD,
  moveAcrossColumns,
  normalizeFlow,
} from "./pure/curves.js";
export { boxStyle, classesText, formatValue, regionText, shortImageName } from "./pure/format.js";
export {
  cellAt,
  cellShares,
  computeLayers,
  fadeOpacity,
  groupMapPixels,
  groupPeak,
  spotlightLevel,
} from "./pure/pixels.js";
export { explainedAt, explainedText, stabilityText, varianceCurve } from "./pure/variance.js";
export { mountPage, StaticModel } from "./page.js";

export default { render };
