/**
 * The switch between the attribution methods the state carries (a segmented control of
 * radio buttons above the table): it changes the table and the flows at once, from data
 * already present. Hidden when there is one method or none (an older state).
 *
 * DOM hooks (stable; browser and unit tests rely on them):
 *   .ng-method-switch[role=radiogroup]  data-method (the method shown)
 *     label.ng-method[data-method] (title: what the method is; class is-checked) >
 *       input.ng-method-input[type=radio][value=method], span (its name)
 */
/** @import { Scene } from "./scene.js" */
import { METHOD_TIPS, methodLabel } from "../data/tables.js";
import { h } from "./dom.js";

/**
 * @param {Document} doc
 * @param {string} uid
 */
export function createMethodSwitch(doc, uid) {
  const options = h(doc, "span", { class: "ng-method-options" });
  const el = h(
    doc,
    "div",
    { class: "ng-method-switch", role: "radiogroup", "aria-label": "Attribution method of the table and the flows", hidden: true },
    [h(doc, "span", { class: "ng-method-title", "aria-hidden": "true", text: "Attribution" }), options],
  );
  let builtKey = "";
  /** @type {HTMLInputElement[]} */
  let inputs = [];

  /** @param {string[]} methods */
  function build(methods) {
    inputs = methods.map((m) =>
      h(doc, "input", { class: "ng-method-input", type: "radio", name: `${uid}-method`, value: m }),
    );
    options.replaceChildren(
      ...methods.map((m, i) =>
        h(
          doc,
          "label",
          { class: "ng-method", "data-method": m, title: /** @type {Record<string, string>} */ (METHOD_TIPS)[m] ?? m },
          [inputs[i], h(doc, "span", { text: methodLabel(m) })],
        ),
      ),
    );
  }

  return {
    el,
    /** @param {Scene} s */
    update({ table }) {
      const key = table.methods.join("\n");
      if (key !== builtKey) {
        builtKey = key;
        build(table.methods);
      }
      el.hidden = table.methods.length < 2;
      el.dataset.method = table.method;
      for (const input of inputs) {
        input.checked = input.value === table.method;
        input.parentElement?.classList.toggle("is-checked", input.checked);
      }
    },
  };
}
