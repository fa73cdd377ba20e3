/**
 * The actions that ask the kernel for something: a group count (of the last layer or an
 * earlier one), the classes of the table, Stop, and a new image (an example or a file's bytes);
 * and the attribution method shown (saved, though drawn from data already present).
 * Trait changes are saved at once; the controls are re-rendered from the model right away, as
 * a refused value may come back without any change event.
 */
/** @import { Context } from "./selection.js" */
import { readState } from "../data/contract.js";
import { chipLabels, resolveClass } from "../pure/controls.js";
import { columnOf } from "./selection.js";

/** The traits the controls show (re-rendered after each choice). */
const CONTROL_FIELDS = ["n_groups", "n_groups_options", "classes", "class_options", "layer_groups"];

/**
 * The bytes of a file (Blob.arrayBuffer, or a FileReader where a host lacks it).
 * @param {Blob} file
 * @returns {Promise<ArrayBuffer>}
 */
function readBytes(file) {
  if (typeof file.arrayBuffer === "function") return file.arrayBuffer();
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(/** @type {ArrayBuffer} */ (reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsArrayBuffer(file);
  });
}

/** @param {Context} ctx */
export function createModelActions({ model, v, view, current, refresh, setPending, kernel }) {
  /** @param {string} name @param {any} value */
  function send(name, value) {
    model.set(name, value);
    model.save_changes();
  }

  /** Re-render the controls from the model now (a refused value may not emit any event). */
  const refreshControls = () => refresh(new Set(CONTROL_FIELDS));

  /** @param {number | undefined} n the count chosen in the groups control */
  function chooseGroups(n) {
    if (n != null && Number.isInteger(n) && n !== readState(model).n_groups) send("n_groups", n);
    refreshControls();
  }

  /** @returns {boolean} whether an image can be sent now */
  const canSendImage = () => kernel() && !view.pending;

  return {
    chooseGroups,
    canSendImage,
    /**
     * A layer's count chosen in its column: the last layer's is n_groups, an earlier one's is
     * sent as a new layer_groups list.
     * @param {string} layer
     * @param {number} n
     */
    chooseLayerGroups(layer, n) {
      const scene = current();
      const { columns, state } = scene;
      const i = columnOf(scene, layer);
      if (i < 0 || !Number.isInteger(n) || n < 1) return;
      if (i === columns.length - 1) {
        chooseGroups(n);
        return;
      }
      const counts = columns.map((c, k) => state.layer_groups[k] ?? c.count);
      if (counts[i] === n) return;
      counts[i] = n;
      send("layer_groups", counts);
      refreshControls();
    },
    /**
     * Add the class a typed text refers to (as its name).
     * @param {string} text
     * @returns {boolean} whether the text named a class
     */
    addClass(text) {
      const state = readState(model);
      const name = resolveClass(text, state.class_options);
      const picker = v.parts.classes;
      if (!name) {
        picker.say(text.trim() ? `No class matches “${text.trim()}”.` : "");
        if (!text.trim()) picker.input.removeAttribute("aria-invalid");
        return false;
      }
      picker.say("");
      picker.input.value = "";
      const labels = chipLabels(state.classes, state.class_names, state.class_options);
      if (!state.classes.includes(name) && !labels.includes(name)) {
        send("classes", [...state.classes, name]);
      }
      refreshControls();
      return true;
    },
    /** @param {number} i index in `classes` (-1: the last one) */
    removeClass(i) {
      const { classes } = readState(model);
      const at = i < 0 ? classes.length + i : i;
      if (at < 0 || at >= classes.length) return;
      send("classes", classes.filter((_, k) => k !== at));
      refreshControls();
      v.parts.classes.input.focus();
    },
    /**
     * Show the table and the flows in another attribution method: from data already present
     * (redrawn now, no kernel needed); the choice is saved as `attribution_method`.
     * @param {string} method
     */
    chooseMethod(method) {
      if (!method || !current().table.methods.includes(method)) return;
      if (method !== readState(model).attribution_method) send("attribution_method", method);
      refresh(new Set(["attribution_method"]));
    },
    stop() {
      model.send({ type: "stop" });
      view.stopping = true;
      refresh(new Set(["stopping"]));
    },
    /** @param {string} name an example image */
    chooseImage(name) {
      if (!name || !canSendImage()) return;
      v.parts.image.say("");
      model.send({ type: "image", name });
      setPending(true);
      refresh(new Set(["pending"]));
    },
    /**
     * Send an image file's bytes (upload or drop) as one binary buffer.
     * @param {Blob & { name?: string }} file
     * @returns {Promise<void>}
     */
    async sendImageFile(file) {
      if (!canSendImage()) return;
      v.parts.image.say("");
      setPending(true);
      refresh(new Set(["pending"]));
      try {
        const bytes = await readBytes(file);
        model.send({ type: "image", filename: file.name || "image" }, undefined, [bytes]);
      } catch (err) {
        setPending(false);
        v.parts.image.say(`Could not read ${file.name || "the file"}: ${err}`);
        refresh(new Set(["pending"]));
      }
    },
  };
}
