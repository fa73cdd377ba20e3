/**
 * What every component of the widget is given: the `Scene` (`update(scene)`) and the
 * `Selection` (`highlight(selection)`). Types only.
 */
/** @import { State } from "../data/contract.js" */
/** @import { GroupData, LayerColumn } from "../data/decode.js" */
/** @import { Table } from "../data/tables.js" */
/** @import { Cell } from "../pure/pixels.js" */

/**
 * What the components show: the model's state, its decoded group data, and two facts about
 * the view.
 * @typedef {object} Scene
 * @property {State} state
 * @property {GroupData} data
 * @property {Table} table        the class x group table shown (in the method shown)
 * @property {boolean} connected  something can recompute (false in an exported notebook)
 * @property {boolean} stopping   Stop was pressed and the kernel is still optimising
 * @property {boolean} multi      the multi-layer view (earlier_layers is not empty)
 * @property {LayerColumn[]} columns  one per layer, input to output (the last layer's last;
 *                                the only one in the single-layer view)
 * @property {boolean} kernel     a kernel can take an image (false in a standalone page)
 * @property {boolean} pending    an image was sent and the kernel has not answered yet
 */

/**
 * A group of one layer: the layer's name and the group's index in it.
 * @typedef {{ layer: string, group: number }} Ref
 */

/**
 * Which group is shown and which cell is probed (view state, applied without recomputation).
 * @typedef {object} Selection
 * @property {number} shown   hovered group, else pinned group, else -1
 * @property {number} pinned  selected_group when valid, else -1
 * @property {Cell | null} cell  probed cell (inside the map) or null
 * @property {Float32Array | null} shares  each group's share of the probed cell
 * @property {Ref | null} shownRef   the shown group, of any layer
 * @property {Ref | null} pinnedRef  the pinned group (selected_layer, selected_group)
 */

export {};
