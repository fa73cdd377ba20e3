/**
 * What the controls offer: the group counts (a slider, a choice or plain text) and the class
 * chips and the class a typed text names.
 */

/**
 * How the groups control offers counts: a slider over a contiguous range, a choice among
 * scattered counts (a page's cached ones), or plain text when there is one count.
 * @param {number[]} options the offered counts, ascending
 * @returns {"range" | "select" | "text"}
 */
export function groupsMode(options) {
  if (options.length < 2) return "text";
  const contiguous = options.every((v, i) => i === 0 || v === options[i - 1] + 1);
  return contiguous ? "range" : "select";
}

/**
 * The counts the groups control offers: n_groups_options, plus the current count if it is
 * missing, ascending and without repeats.
 * @param {number[]} options
 * @param {number} current
 * @returns {number[]}
 */
export function groupCounts(options, current) {
  const all = new Set(options.filter((v) => Number.isInteger(v) && v > 0));
  if (current > 0) all.add(current);
  return [...all].sort((a, b) => a - b);
}

/**
 * The text of each class chip: the name of the table row it asked for. classes[i] is the row
 * class_names[i] after a computation; while a change is pending they may not line up, so a
 * name is shown as written (or as its row spells it) and an index by its class option (or by
 * its row when there are no options, as in a standalone page).
 * @param {Array<string | number>} classes
 * @param {string[]} classNames
 * @param {string[]} classOptions
 * @returns {string[]}
 */
export function chipLabels(classes, classNames, classOptions) {
  const aligned = classNames.length === classes.length;
  return classes.map((c, i) => {
    const row = aligned ? classNames[i] : undefined;
    if (typeof c === "number") return classOptions[c] ?? row ?? String(c);
    return row !== undefined && row.toLowerCase() === c.toLowerCase() ? row : c;
  });
}

/**
 * The class option a typed text refers to: exact (case-insensitive), else the only option
 * containing it, else the first option starting with it.
 * @param {string} text
 * @param {string[]} options
 * @returns {string | null}
 */
export function resolveClass(text, options) {
  const q = text.trim().toLowerCase();
  if (!q) return null;
  const exact = options.find((o) => o.toLowerCase() === q);
  if (exact) return exact;
  const containing = options.filter((o) => o.toLowerCase().includes(q));
  if (containing.length === 1) return containing[0];
  return containing.find((o) => o.toLowerCase().startsWith(q)) ?? null;
}
