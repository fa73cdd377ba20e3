/**
 * The controls row: the groups control (a slider, a select or text), the class picker with
 * its chips, and the image picker. None of them listens to anything (`app/bindings.js` does).
 *
 * DOM hooks (stable; browser and unit tests rely on them):
 *   .ng-groups-control[data-mode]  "range": .ng-groups-input (range over n_groups_options,
 *                                  contiguous) + .ng-groups-value (the count); "select":
 *                                  .ng-groups-select (exactly the offered counts, e.g. a page's
 *                                  cached ones); "text": one count, .ng-groups-value "6 groups";
 *                                  then .ng-explained (components/variance.js)
 *   .ng-class-input, .ng-class-add, .ng-chip[data-class][data-index] (> .ng-chip-remove only
 *                                  where classes can be changed), .ng-class-hint
 *   .ng-image-picker               hidden without a kernel (standalone page, disconnected):
 *     .ng-image-select (examples; sends {type: "image", name}), .ng-image-upload (button) and
 *     .ng-image-file (input type=file, hidden; sends {type: "image", filename} + the bytes as one
 *     buffer, as does a file dropped on the root, which has class is-dropping meanwhile),
 *     .ng-image-message; the root shows is-computing / data-status "computing" until the kernel
 *     answers
 */
/** @import { Scene } from "./scene.js" */
import { isBusy } from "../data/contract.js";
import { chipLabels, groupCounts, groupsMode } from "../pure/controls.js";
import { h } from "./dom.js";
import { createVarianceCurve } from "./variance.js";

/**
 * The groups control: a slider (contiguous counts), a select (scattered counts) or text (one).
 * @param {Document} doc
 * @param {string} uid
 */
export function createGroupsControl(doc, uid) {
  const label = h(doc, "label", { for: `${uid}-groups`, text: "Groups" });
  const input = h(doc, "input", {
    class: "ng-groups-input",
    id: `${uid}-groups`,
    type: "range",
    min: 0,
    max: 0,
    step: 1,
  });
  const select = h(doc, "select", { class: "ng-groups-select", id: `${uid}-groups-select` });
  const value = h(doc, "output", { class: "ng-groups-value", for: `${uid}-groups` });
  const curve = createVarianceCurve(doc);
  const el = h(doc, "div", { class: "ng-groups-control" }, [label, input, select, value, curve.el]);
  /** @type {number[]} */
  let counts = [];
  let selectKey = "";
  return {
    el,
    input,
    select,
    curve: curve.svg,
    /** @returns {number | undefined} the count the control points at */
    chosen() {
      return el.dataset.mode === "select" ? Number(select.value) : counts[Number(input.value)];
    },
    /** Show the count under the slider while it is dragged (nothing is sent yet). */
    preview() {
      const n = counts[Number(input.value)];
      if (n != null) value.textContent = String(n);
    },
    /** @param {Scene} s */
    update({ state, data, connected, multi }) {
      const n = state.n_groups || data.n;
      counts = groupCounts(state.n_groups_options, n);
      const mode = groupsMode(counts);
      el.dataset.mode = mode;
      // The multi-layer view has a count control on each layer's column instead.
      el.hidden = counts.length === 0 || multi;
      label.hidden = mode === "text";
      label.htmlFor = mode === "select" ? select.id : input.id;
      input.hidden = mode !== "range";
      input.max = String(Math.max(0, counts.length - 1));
      input.value = String(Math.max(0, counts.indexOf(n)));
      input.disabled = mode !== "range" || !connected;
      input.setAttribute("aria-valuetext", `${n} groups`);
      select.hidden = mode !== "select";
      const key = counts.join();
      if (key !== selectKey) {
        selectKey = key;
        select.replaceChildren(...counts.map((c) => h(doc, "option", { value: c, text: c })));
      }
      select.value = String(n);
      select.disabled = mode !== "select" || !connected;
      value.hidden = mode === "select";
      value.textContent = mode === "text" ? `${n} group${n === 1 ? "" : "s"}` : String(n);
      curve.update({
        layer: state.layer,
        // The share sent belongs to the groups shown: not yet to a count just chosen.
        explained: data.n === n ? state.explained_variance : NaN,
        byK: state.explained_variance_by_k,
        count: n,
        choosable: connected && mode !== "text" ? counts : [],
      });
    },
  };
}

/**
 * Chips of the chosen classes (removable where classes can change) and the class picker.
 * @param {Document} doc
 * @param {string} uid
 */
export function createClassPicker(doc, uid) {
  const chips = h(doc, "ul", { class: "ng-chips", "aria-label": "Chosen classes" });
  const hint = h(doc, "span", { class: "ng-class-hint", text: "top 5 predicted" });
  const input = h(doc, "input", {
    class: "ng-class-input",
    id: `${uid}-class`,
    type: "text",
    list: `${uid}-classes`,
    placeholder: "Add a class…",
    autocomplete: "off",
    spellcheck: "false",
  });
  const add = h(doc, "button", { class: "ng-class-add", type: "button", text: "Add" });
  const entry = h(doc, "span", { class: "ng-class-entry" }, [input, add]);
  const datalist = h(doc, "datalist", { id: `${uid}-classes` });
  const message = h(doc, "span", { class: "ng-class-message", "aria-live": "polite" });
  const el = h(doc, "div", { class: "ng-classes-control" }, [
    h(doc, "label", { for: input.id, text: "Classes" }),
    chips,
    hint,
    entry,
    datalist,
    message,
  ]);
  let optionsKey = "";
  return {
    el,
    input,
    add,
    chips,
    /** @param {string} text "" clears the message */
    say(text) {
      message.textContent = text;
      if (text) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    },
    /** @param {Scene} s */
    update({ state, connected }) {
      // No options (e.g. a standalone page, with no kernel to recompute): classes are read-only.
      const editable = state.class_options.length > 0 && connected;
      entry.hidden = !editable;
      const labels = chipLabels(state.classes, state.class_names, state.class_options);
      const items = labels.map((name, i) => {
        const remove = editable
          ? h(doc, "button", {
              class: "ng-chip-remove",
              type: "button",
              "aria-label": `Remove ${name}`,
              title: `Remove ${name}`,
              text: "×",
            })
          : null;
        const chip = h(doc, "li", { class: "ng-chip", "data-class": name, "data-index": i }, [
          h(doc, "span", { class: "ng-chip-label", text: name }),
          remove,
        ]);
        chip.classList.toggle("is-removable", editable);
        return chip;
      });
      chips.replaceChildren(...items);
      chips.hidden = items.length === 0;
      hint.hidden = items.length > 0;
      const key = state.class_options.join("\n");
      if (key !== optionsKey) {
        optionsKey = key;
        datalist.replaceChildren(...state.class_options.map((o) => h(doc, "option", { value: o })));
      }
    },
  };
}

/**
 * Choose an example image, or upload one (a drop on the widget does the same). Hidden where no
 * kernel can recompute (a standalone page, an exported notebook).
 * @param {Document} doc
 * @param {string} uid
 */
export function createImagePicker(doc, uid) {
  const select = h(doc, "select", { class: "ng-image-select", id: `${uid}-image` });
  const upload = h(doc, "button", { class: "ng-image-upload", type: "button", text: "Upload…" });
  const file = h(doc, "input", {
    class: "ng-image-file",
    type: "file",
    accept: "image/*",
    hidden: true,
    "aria-label": "Upload an image",
  });
  const message = h(doc, "span", { class: "ng-image-message", "aria-live": "polite" });
  const el = h(doc, "div", { class: "ng-image-picker", hidden: true }, [
    h(doc, "label", { for: select.id, text: "Image" }),
    select,
    upload,
    file,
    message,
  ]);
  let optionsKey = "";
  return {
    el,
    select,
    upload,
    file,
    /** @param {string} text what went wrong before anything was sent ("" clears it) */
    say(text) {
      message.textContent = text;
    },
    /** @param {Scene} s */
    update({ state, kernel, pending }) {
      el.hidden = !kernel;
      const key = state.image_options.join("\n");
      if (key !== optionsKey) {
        optionsKey = key;
        select.replaceChildren(
          h(doc, "option", { value: "", text: "Example image…" }),
          ...state.image_options.map((o) => h(doc, "option", { value: o, text: o })),
        );
      }
      select.value = "";
      select.hidden = state.image_options.length === 0;
      const busy = pending || isBusy(state.status);
      select.disabled = busy;
      upload.disabled = busy;
    },
  };
}
