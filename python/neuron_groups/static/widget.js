// Built from js/src/ by `npm run build` (esbuild): edit those files, not this one.

// js/src/data/values.js
function asArray(v) {
  return Array.isArray(v) ? v : [];
}
function asString(v) {
  return v == null ? "" : String(v);
}
function isRecord(v) {
  return !!v && typeof v === "object" && !Array.isArray(v);
}
function clamp01(v) {
  return v > 0 ? v < 1 ? v : 1 : 0;
}
function asUnit(v) {
  if (v == null || v === "" || typeof v === "boolean") return NaN;
  const x = Number(v);
  return Number.isFinite(x) ? clamp01(x) : NaN;
}

// js/src/data/contract.js
var GROUP_FIELDS = Object.freeze([
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
  "regions"
]);
var FIELDS = Object.freeze([
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
  "regions"
]);
var DATA_FIELDS = Object.freeze([
  "n_groups",
  "spatial",
  "spatial_shape",
  "attributions",
  "class_names",
  "group_colors"
]);
var isBusy = (status) => status === "loading" || status === "computing";
var TABLE_FIELDS = Object.freeze([
  "attributions",
  "tables",
  "rest",
  "disagreements",
  "attribution_method",
  "attribution_methods"
]);
var VARIANCE_FIELDS = Object.freeze(["explained_variance", "explained_variance_by_k"]);
var LAYER_FIELDS = Object.freeze(["earlier_layers", "flows", "layer_groups"]);
var GALLERY_FIELDS = Object.freeze([
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
  "stability"
]);
var FALLBACK_RGB = (
  /** @type {RGB} */
  Object.freeze([128, 128, 128])
);
function toRGB(value) {
  if (!Array.isArray(value) || value.length !== 3) return null;
  const ch = value.map(Number);
  if (!ch.every(Number.isFinite)) return null;
  return (
    /** @type {RGB} */
    ch.map((c) => Math.min(255, Math.max(0, Math.round(c))))
  );
}
function readState(model) {
  const get = (name) => model.get(name);
  const ints = (name) => asArray(get(name)).map(Number).filter((v) => Number.isInteger(v));
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
    predictions: asArray(get("predictions")).filter((p) => p && typeof p === "object").map((p) => ({ name: asString(p.name), probability: Number(p.probability) })),
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
    flows: asArray(get("flows")).filter(isRecord).map((f) => ({
      from: asString(f.from),
      to: asString(f.to),
      values: f.values,
      shape: asArray(f.shape).map(Number).filter((v) => Number.isInteger(v)),
      tables: asTables(f.tables),
      rest: f.rest,
      disagreements: f.disagreements
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
    regions: asArray(get("regions"))
  };
}
function asTables(v) {
  return isRecord(v) ? v : {};
}
function readEarlierLayer(e) {
  const ints = (v) => asArray(v).map(Number).filter((x) => Number.isInteger(x));
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
    regions: asArray(e.regions)
  };
}

// js/src/data/decode.js
function toBytes(value) {
  if (value == null) return null;
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) {
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  if (Object.prototype.toString.call(value) === "[object ArrayBuffer]") {
    return new Uint8Array(
      /** @type {ArrayBuffer} */
      value
    );
  }
  if (typeof value === "object" && "buffer" in value) {
    return toBytes(
      /** @type {any} */
      value.buffer
    );
  }
  return null;
}
function decodeFloat32(value) {
  const bytes = toBytes(value);
  if (!bytes || bytes.byteLength % 4 !== 0) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}
function decodeBase64(str) {
  let s = String(str ?? "");
  const comma = s.startsWith("data:") ? s.indexOf(",") : -1;
  if (comma >= 0) s = s.slice(comma + 1);
  s = s.replace(/\s+/g, "").replace(/-/g, "+").replace(/_/g, "/");
  while (s.length % 4) s += "=";
  const bin = atob(s);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new DataView(bytes.buffer);
}
function encodeBase64(bytes) {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 32768) {
    bin += String.fromCharCode.apply(null, Array.from(bytes.subarray(i, i + 32768)));
  }
  return btoa(bin);
}
function reviveBinary(value) {
  if (Array.isArray(value)) return value.map(reviveBinary);
  if (value && typeof value === "object") {
    if ("$base64" in value) return decodeBase64(
      /** @type {any} */
      value.$base64
    );
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reviveBinary(v)]));
  }
  return value;
}
function decodeGroups(shape, spatialBinary, colorList, nGroups) {
  let spatial = decodeFloat32(spatialBinary);
  const colors = asArray(colorList).map(toRGB);
  let n = 0;
  let h2 = 0;
  let w = 0;
  if (Array.isArray(shape) && shape.length === 3 && shape.every((v) => Number.isInteger(v) && v >= 0)) {
    [n, h2, w] = shape;
  }
  if (!spatial || n * h2 * w === 0 || spatial.length !== n * h2 * w) {
    spatial = null;
    n = Math.max(0, Number(nGroups) || 0) || colors.length;
    if (!(h2 > 0 && w > 0)) h2 = w = 0;
  }
  const rgb = [];
  for (let j = 0; j < n; j++) rgb.push(colors[j] ?? FALLBACK_RGB);
  return { n, h: h2, w, spatial, rgb };
}
function readGroupData(model) {
  const groups = decodeGroups(
    model.get("spatial_shape"),
    model.get("spatial"),
    model.get("group_colors"),
    model.get("n_groups")
  );
  const n = groups.n;
  const classNames = asArray(model.get("class_names")).map(asString);
  let attributions = decodeFloat32(model.get("attributions"));
  if (attributions && attributions.length !== classNames.length * n) attributions = null;
  let maxAbs = 0;
  if (attributions) {
    for (const v of attributions) if (Number.isFinite(v)) maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  return { ...groups, classNames, attributions, maxAbs };
}
function earlierColumns(earlier) {
  return earlier.map((e) => {
    const groups = decodeGroups(e.spatial_shape, e.spatial, e.group_colors, e.n_groups);
    return {
      layer: e.layer,
      key: e.layer,
      data: { ...groups, classNames: [], attributions: null, maxAbs: 0 },
      icons: e.icons,
      count: e.n_groups || groups.n,
      options: e.n_groups_options,
      explained: e.explained_variance,
      explainedByK: e.explained_variance_by_k,
      stability: e.stability,
      regions: e.regions
    };
  });
}

// js/src/components/dom.js
function h(doc, tag, props = {}, children = []) {
  const node = (
    /** @type {HTMLElementTagNameMap[K]} */
    doc.createElement(tag)
  );
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue;
    if (k === "class") node.className = String(v);
    else if (k === "text") node.textContent = String(v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c) node.append(c);
  return node;
}
var UrlBag = class {
  constructor() {
    this.urls = /* @__PURE__ */ new Map();
    this.bytes = /* @__PURE__ */ new Map();
  }
  /**
   * URL for `bytes` under `key`; the same URL when the bytes did not change.
   * @param {string} key
   * @param {Uint8Array | null} bytes PNG bytes; null/empty removes the URL
   * @param {string} [type] the bytes' media type (PNG unless told)
   * @returns {string | null}
   */
  set(key, bytes, type = "image/png") {
    const old = this.bytes.get(key);
    if (bytes && bytes.byteLength > 0 && old && sameBytes(old, bytes)) {
      return (
        /** @type {string} */
        this.urls.get(key)
      );
    }
    this.revoke(key);
    if (!bytes || bytes.byteLength === 0) return null;
    let url;
    if (typeof URL !== "undefined" && typeof URL.createObjectURL === "function") {
      url = URL.createObjectURL(new Blob([
        /** @type {BlobPart} */
        bytes
      ], { type }));
    } else {
      url = `data:${type};base64,${encodeBase64(bytes)}`;
    }
    this.urls.set(key, url);
    this.bytes.set(key, bytes.slice());
    return url;
  }
  /** @param {string} key */
  revoke(key) {
    const url = this.urls.get(key);
    if (url === void 0) return;
    this.urls.delete(key);
    this.bytes.delete(key);
    if (url.startsWith("blob:") && typeof URL.revokeObjectURL === "function") {
      URL.revokeObjectURL(url);
    }
  }
  /** @param {(key: string) => boolean} stale revoke the keys for which this is true */
  revokeWhere(stale) {
    for (const key of [...this.urls.keys()]) if (stale(key)) this.revoke(key);
  }
  revokeAll() {
    this.revokeWhere(() => true);
  }
};
function sameBytes(a, b) {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
function context2d(canvas) {
  try {
    return canvas.getContext ? canvas.getContext("2d") : null;
  } catch {
    return null;
  }
}
function putPixels(canvas, pixels, w, h2) {
  const ctx = context2d(canvas);
  if (!ctx || w === 0 || h2 === 0) return false;
  const image = ctx.createImageData(w, h2);
  image.data.set(pixels);
  ctx.putImageData(image, 0, 0);
  return true;
}
function blit(target, source) {
  const ctx = context2d(target);
  if (!ctx) return;
  ctx.clearRect(0, 0, target.width, target.height);
  if (source) ctx.drawImage(source, 0, 0);
}

// js/src/pure/pixels.js
function spotlightLevel(v) {
  return Math.min(1, 1.5 * Math.pow(v, 0.75));
}
function colorLayer(spatial, j, size, rgb, gain = 1) {
  const out = new Uint8ClampedArray(size * 4);
  const [r, g, b] = rgb;
  for (let p = 0; p < size; p++) {
    const v = clamp01(spatial[j * size + p] * gain);
    const o = p * 4;
    out[o] = r * v;
    out[o + 1] = g * v;
    out[o + 2] = b * v;
    out[o + 3] = 255;
  }
  return out;
}
function lighten(layers, size) {
  const out = new Uint8ClampedArray(size * 4);
  for (let p = 0; p < size; p++) out[p * 4 + 3] = 255;
  for (const layer of layers) {
    for (let p = 0; p < size; p++) {
      const o = p * 4;
      if (layer[o] > out[o]) out[o] = layer[o];
      if (layer[o + 1] > out[o + 1]) out[o + 1] = layer[o + 1];
      if (layer[o + 2] > out[o + 2]) out[o + 2] = layer[o + 2];
    }
  }
  return out;
}
function groupMapPixels(spatial, shape, colors) {
  const [n, h2, w] = [shape[0], shape[1], shape[2]];
  const size = h2 * w;
  if (spatial.length < n * size) {
    throw new RangeError(`spatial has ${spatial.length} values, shape [${n}, ${h2}, ${w}] needs ${n * size}`);
  }
  const layers = [];
  for (let j = 0; j < n; j++) {
    layers.push(colorLayer(spatial, j, size, toRGB(Array.from(colors[j] ?? [])) ?? FALLBACK_RGB));
  }
  return lighten(layers, size);
}
function groupPeak(spatial, j, size) {
  let peak = 0;
  for (let p = 0; p < size; p++) peak = Math.max(peak, clamp01(spatial[j * size + p]));
  return peak > 0 ? peak : 1;
}
function computeLayers(spatial, n, h2, w, rgb) {
  const size = h2 * w;
  const color = [];
  const gray = [];
  const shared = [];
  for (let j = 0; j < n; j++) {
    shared.push(colorLayer(spatial, j, size, rgb[j]));
    color.push(colorLayer(spatial, j, size, rgb[j], 1 / groupPeak(spatial, j, size)));
    const g = new Uint8ClampedArray(size * 4);
    for (let p = 0; p < size; p++) {
      const s = spotlightLevel(clamp01(spatial[j * size + p])) * 255;
      g[p * 4] = s;
      g[p * 4 + 1] = s;
      g[p * 4 + 2] = s;
      g[p * 4 + 3] = 255;
    }
    gray.push(g);
  }
  return { color, gray, composite: lighten(shared, size) };
}
function cellShares(spatial, n, h2, w, cell) {
  const size = h2 * w;
  const p = cell.row * w + cell.col;
  const shares = new Float32Array(n);
  let max = 0;
  for (let j = 0; j < n; j++) max = Math.max(max, clamp01(spatial[j * size + p]));
  if (max > 0) for (let j = 0; j < n; j++) shares[j] = clamp01(spatial[j * size + p]) / max;
  return shares;
}
function fadeOpacity(share) {
  return Math.round((0.15 + 0.85 * clamp01(share)) * 1e3) / 1e3;
}
function cellAt(x, y, rect, h2, w) {
  if (!(rect.width > 0 && rect.height > 0 && h2 > 0 && w > 0)) return null;
  const fx = (x - rect.left) / rect.width;
  const fy = (y - rect.top) / rect.height;
  if (fx < 0 || fy < 0 || fx >= 1 || fy >= 1) return null;
  return { row: Math.floor(fy * h2), col: Math.floor(fx * w) };
}

// js/src/app/bindings.js
var TILE_MOVES = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1, Home: -Infinity, End: Infinity };
function bindTiles({ on }, { parts: { flow, tiles } }, ctl) {
  const tileRef = (t) => ctl.refAt(t, ".ng-tile", flow.el);
  on(flow.el, "mouseover", (e) => {
    const r = tileRef(e.target);
    if (r) ctl.hover(r);
  });
  on(tiles.el, "mouseleave", () => ctl.hover(null));
  on(flow.el, "mouseleave", () => ctl.hover(null));
  on(flow.el, "click", (e) => {
    const r = tileRef(e.target);
    if (r) ctl.togglePin(r);
  });
  on(flow.el, "focusin", (e) => {
    const r = tileRef(e.target);
    if (r) ctl.hover(r);
  });
  on(flow.el, "focusout", (e) => {
    if (!tileRef(e.relatedTarget)) ctl.hover(null);
  });
  on(flow.el, "keydown", (e) => {
    const r = tileRef(e.target);
    if (!r || e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.key === "Enter" || e.key === " " || e.key === "Spacebar") {
      e.preventDefault();
      ctl.togglePin(r);
    } else if (ctl.multi()) {
      const to = ctl.moveFrom(r, e.key);
      if (!to) return;
      e.preventDefault();
      flow.focusTile(to.col, to.group);
    } else if (e.key in TILE_MOVES) {
      e.preventDefault();
      const n = ctl.groupCount();
      const d = TILE_MOVES[e.key];
      tiles.focus(d === Infinity ? n - 1 : d === -Infinity ? 0 : (r.group + d + n) % n);
    }
  });
}
function bindCurves({ on, onResize }, { parts: { flow } }, ctl) {
  on(flow.svg, "mousemove", (e) => {
    const path = e.target instanceof Element ? e.target.closest(".ng-curve") : null;
    flow.showTip(path, e.clientX, e.clientY);
  });
  on(flow.svg, "mouseleave", () => flow.showTip(null));
  on(flow.threshold, "input", () => flow.setThreshold(Number(flow.threshold.value)));
  on(flow.el, "change", (e) => {
    const select = e.target instanceof HTMLSelectElement && e.target.matches(".ng-layer-groups") ? e.target : null;
    if (select) ctl.chooseLayerGroups(select.dataset.layer ?? "", Number(select.value));
  });
  onResize(flow.el, () => flow.layout());
}
function bindTableAndPanels({ on }, { parts: { table, panels } }, ctl) {
  const tableRef = (t) => ctl.refAt(t, "[data-group]", table.table);
  on(table.table, "mouseover", (e) => ctl.hover(tableRef(e.target)));
  on(table.table, "mouseleave", () => ctl.hover(null));
  on(table.table, "click", (e) => {
    const r = tableRef(e.target);
    if (r) ctl.togglePin(r);
  });
  on(panels.el, "mouseenter", () => ctl.hover(null));
  on(panels.el, "mousemove", (e) => {
    const panel = e.target instanceof Element ? e.target.closest(".ng-panel") : null;
    if (!panel) return ctl.probe(null);
    const { h: rows, w: cols } = ctl.mapSize();
    ctl.probe(cellAt(e.clientX, e.clientY, panel.getBoundingClientRect(), rows, cols));
  });
  on(panels.el, "mouseleave", () => ctl.probe(null));
  on(panels.image, "load", () => panels.fitImage());
}
function bindKeys({ on }, { root }, ctl) {
  on(root, "keydown", (e) => {
    e.stopPropagation();
    if (e.key !== "Escape") return;
    const target = e.target;
    if (target instanceof HTMLInputElement && target.type === "text" && target.value) return;
    if (ctl.escape()) e.preventDefault();
  });
}
function bindControls({ on }, model, { parts: { groups, classes, status } }, ctl) {
  on(groups.input, "input", () => groups.preview());
  on(groups.input, "change", () => ctl.chooseGroups(groups.chosen()));
  on(groups.select, "change", () => ctl.chooseGroups(groups.chosen()));
  on(classes.input, "keydown", (e) => {
    const input = classes.input;
    if (e.key === "Enter") {
      e.preventDefault();
      ctl.addClass(input.value);
    } else if (e.key === "Escape" && input.value) {
      input.value = "";
    } else if (e.key === "Backspace" && !input.value) {
      ctl.removeClass(-1);
    }
  });
  on(classes.input, "input", (e) => {
    const picked = !("inputType" in e) || e.inputType === "insertReplacementText";
    if (picked) {
      if (readState(model).class_options.includes(classes.input.value)) ctl.addClass(classes.input.value);
    } else if (classes.input.hasAttribute("aria-invalid")) {
      classes.say("");
    }
  });
  on(classes.add, "click", () => ctl.addClass(classes.input.value));
  on(classes.chips, "click", (e) => {
    const btn = e.target instanceof Element ? e.target.closest(".ng-chip-remove") : null;
    const chip = btn?.closest(".ng-chip");
    if (chip instanceof HTMLElement) ctl.removeClass(Number(chip.dataset.index));
  });
  on(status.stop, "click", () => ctl.stop());
}
function bindQuality({ on }, { root, parts: { methods } }, ctl) {
  on(methods.el, "change", (e) => {
    if (e.target instanceof HTMLInputElement && e.target.checked) ctl.chooseMethod(e.target.value);
  });
  on(root, "click", (e) => {
    const point = e.target instanceof Element ? e.target.closest(".ng-ev-point.is-choosable") : null;
    const curve = point?.closest(".ng-ev-curve");
    if (point && curve instanceof SVGElement) {
      ctl.chooseLayerGroups(curve.dataset.layer ?? "", Number(point.getAttribute("data-k")));
    }
  });
}
function draggingFiles(e) {
  const types = e.dataTransfer?.types;
  return !!types && Array.from(types).includes("Files");
}
function bindImage({ on }, { root, parts: { image } }, ctl) {
  on(image.select, "change", () => ctl.chooseImage(image.select.value));
  on(image.upload, "click", () => image.file.click());
  on(image.file, "change", () => {
    const file = image.file.files?.[0];
    if (file) ctl.sendImageFile(file);
    image.file.value = "";
  });
  on(root, "dragover", (e) => {
    if (!draggingFiles(e) || !ctl.canSendImage()) return;
    e.preventDefault();
    e.stopPropagation();
    if (e.dataTransfer) e.dataTransfer.dropEffect = "copy";
    root.classList.add("is-dropping");
  });
  on(root, "dragleave", (e) => {
    if (!(e.relatedTarget instanceof Node && root.contains(e.relatedTarget))) root.classList.remove("is-dropping");
  });
  on(root, "drop", (e) => {
    root.classList.remove("is-dropping");
    const file = e.dataTransfer?.files?.[0];
    if (!file || !ctl.canSendImage()) return;
    e.preventDefault();
    e.stopPropagation();
    ctl.sendImageFile(file);
  });
}
function bindWidget(wiring, model, v, ctl) {
  bindTiles(wiring, v, ctl);
  bindCurves(wiring, v, ctl);
  bindTableAndPanels(wiring, v, ctl);
  bindKeys(wiring, v, ctl);
  bindControls(wiring, model, v, ctl);
  bindImage(wiring, v, ctl);
  bindQuality(wiring, v, ctl);
}

// js/src/data/tables.js
var METHODS = Object.freeze(["integrated", "linear", "ablation"]);
var METHOD_LABELS = Object.freeze({
  integrated: "Integrated gradients",
  linear: "Linear (article)",
  ablation: "Measured (ablation)"
});
var METHOD_TIPS = Object.freeze({
  integrated: "Integrated gradients: the gradient averaged along the path from zero activations to the image's, times the group's part; with the rest it adds up to the class's logit change.",
  linear: "The article's linear attribution: the gradient at the image's activations times the group's part (a first-order estimate).",
  ablation: "Measured effect: how much the class's logit drops when the group's part is removed from the activations."
});
var METHOD_CAPTIONS = Object.freeze({
  integrated: "integrated gradients",
  linear: "linear, as in the article",
  ablation: "measured by ablation"
});
var DISAGREEMENT_TEXT = "Linear attribution and the measured effect of removing this group disagree in sign here: the first-order estimate is unreliable for this cell.";
var REST_TEXT = "evidence the groups do not explain (integrated gradients: groups + rest = logit(image) - logit(zero activations))";
var methodLabel = (method) => (
  /** @type {Record<string, string>} */
  METHOD_LABELS[method] ?? method
);
function offeredMethods(tables, listed, size) {
  const present = Object.keys(tables);
  const order = listed.length > 0 ? listed : [...METHODS.filter((m) => present.includes(m)), ...present.filter((m) => !METHODS.includes(m))];
  return [...new Set(order)].filter((m) => present.includes(m) && decodeFloat32(tables[m])?.length === size);
}
function shownMethod(asked, offered) {
  return offered.includes(asked) ? asked : offered[0] ?? "";
}
function uint8Of(value, size) {
  const bytes = toBytes(value);
  return bytes && bytes.length === size && size > 0 ? bytes : null;
}
function float32Of(value, size) {
  const values = decodeFloat32(value);
  return values && values.length === size && size > 0 ? values : null;
}
function maxAbsOf(values) {
  let m = 0;
  if (values) {
    for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) m = Math.max(m, Math.abs(values[i]));
  }
  return m;
}
function readTable(state, data, previous = null) {
  const k = data.classNames.length;
  const n = data.n;
  const { tables, attribution_methods: listed, attribution_method: asked, attributions, rest, disagreements } = state;
  const source = [tables, listed.join("\n"), asked, attributions, rest, disagreements, k, n];
  if (previous && previous.source.every((v, i) => v === source[i])) return previous;
  const methods = offeredMethods(tables, listed, k * n);
  const method = shownMethod(asked, methods);
  const values = method ? float32Of(tables[method], k * n) : data.attributions;
  return {
    methods,
    method,
    k,
    n,
    values,
    maxAbs: method ? maxAbsOf(values) : data.maxAbs,
    rest: method === "integrated" ? float32Of(rest, k) : null,
    disagreements: uint8Of(disagreements, k * n),
    source
  };
}
var CLASSES_COLUMN = "classes";
function decodeFlow(entry, method = "") {
  const [nFrom, nTo] = entry.shape.length === 2 ? entry.shape : [0, 0];
  const size = nFrom * nTo;
  const tables = entry.tables ?? {};
  const values = method && float32Of(tables[method], size) || float32Of(entry.values, size);
  const disagreements = uint8Of(entry.disagreements, size);
  return { from: entry.from, to: entry.to, nFrom, nTo, values, disagreements };
}
function classFlow(table, layer) {
  const { n, k, values: rows, disagreements: marks } = table;
  const transpose = (a, out) => {
    for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) out[j * k + i] = a[i * n + j];
    return out;
  };
  const values = rows ? (
    /** @type {Float32Array} */
    transpose(rows, new Float32Array(n * k))
  ) : null;
  const disagreements = marks ? (
    /** @type {Uint8Array} */
    transpose(marks, new Uint8Array(n * k))
  ) : null;
  return { from: layer, to: CLASSES_COLUMN, nFrom: n, nTo: k, values, disagreements };
}
function columnFlows(names, entries, table) {
  const decoded = entries.map((e) => decodeFlow(e, table.method));
  return names.slice(0, -1).map((from, p) => {
    const to = names[p + 1];
    if (to === CLASSES_COLUMN) return classFlow(table, from);
    return decoded.find((f) => f.from === from && f.to === to) ?? null;
  });
}

// js/src/pure/controls.js
function groupsMode(options) {
  if (options.length < 2) return "text";
  const contiguous = options.every((v, i) => i === 0 || v === options[i - 1] + 1);
  return contiguous ? "range" : "select";
}
function groupCounts(options, current) {
  const all = new Set(options.filter((v) => Number.isInteger(v) && v > 0));
  if (current > 0) all.add(current);
  return [...all].sort((a, b) => a - b);
}
function chipLabels(classes, classNames, classOptions) {
  const aligned = classNames.length === classes.length;
  return classes.map((c, i) => {
    const row = aligned ? classNames[i] : void 0;
    if (typeof c === "number") return classOptions[c] ?? row ?? String(c);
    return row !== void 0 && row.toLowerCase() === c.toLowerCase() ? row : c;
  });
}
function resolveClass(text, options) {
  const q = text.trim().toLowerCase();
  if (!q) return null;
  const exact = options.find((o) => o.toLowerCase() === q);
  if (exact) return exact;
  const containing = options.filter((o) => o.toLowerCase().includes(q));
  if (containing.length === 1) return containing[0];
  return containing.find((o) => o.toLowerCase().startsWith(q)) ?? null;
}

// js/src/pure/colors.js
function cssColor(rgb) {
  return `rgb(${rgb[0]} ${rgb[1]} ${rgb[2]})`;
}
function relativeLuminance(rgb) {
  const lin = rgb.map((c) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
}
function textColor(rgb) {
  const lum = relativeLuminance(rgb);
  const onBlack = (lum + 0.05) / 0.05;
  const onWhite = 1.05 / (lum + 0.05);
  return onBlack >= onWhite ? "#000" : "#fff";
}
var POSITIVE_RGB = Object.freeze([33, 113, 181]);
var NEGATIVE_RGB = Object.freeze([230, 85, 13]);
var ZERO_RGB = Object.freeze([128, 128, 128]);
function attributionColor(v, maxAbs) {
  if (!Number.isFinite(v) || !(maxAbs > 0) || v === 0) return "transparent";
  const a = Math.round(Math.min(1, Math.abs(v) / maxAbs) * 0.8 * 1e3) / 1e3;
  const [r, g, b] = v > 0 ? POSITIVE_RGB : NEGATIVE_RGB;
  return `rgba(${r}, ${g}, ${b}, ${a})`;
}
function signColor(v) {
  const [r, g, b] = v > 0 ? POSITIVE_RGB : v < 0 ? NEGATIVE_RGB : ZERO_RGB;
  return `rgb(${r}, ${g}, ${b})`;
}

// js/src/pure/curves.js
function normalizeFlow(values) {
  let maxAbs = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  const fractions = new Float32Array(values.length);
  if (maxAbs > 0) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      fractions[i] = Number.isFinite(v) ? Math.abs(v) / maxAbs : 0;
    }
  }
  return { maxAbs, fractions };
}
var CURVE_MAX_WIDTH = 8;
var CURVE_MIN_WIDTH = 0.5;
function belowThreshold(fraction, threshold) {
  return !(fraction >= threshold) || fraction === 0;
}
function curveD(x0, y0, x1, y1) {
  const r = (v) => Math.round(v * 10) / 10;
  const xm = r((x0 + x1) / 2);
  return `M ${r(x0)} ${r(y0)} C ${xm} ${r(y0)}, ${xm} ${r(y1)}, ${r(x1)} ${r(y1)}`;
}
function curvePaths(flows, columns, threshold) {
  const curves = [];
  flows.forEach((flow, p) => {
    const left = columns[p];
    const right = columns[p + 1];
    if (!flow || !flow.values || !left || !right) return;
    const { values, nFrom, nTo } = flow;
    const marks = flow.disagreements?.length === values.length ? flow.disagreements : null;
    if (left.length !== nFrom || right.length !== nTo || values.length !== nFrom * nTo) return;
    const { fractions } = normalizeFlow(values);
    for (let a = 0; a < nFrom; a++) {
      for (let b = 0; b < nTo; b++) {
        const value = values[a * nTo + b];
        const fraction = fractions[a * nTo + b];
        curves.push({
          pair: p,
          from: a,
          to: b,
          value,
          fraction,
          width: Math.max(CURVE_MIN_WIDTH, CURVE_MAX_WIDTH * fraction),
          color: signColor(value),
          d: curveD(left[a].right, left[a].y, right[b].left, right[b].y),
          hidden: belowThreshold(fraction, threshold),
          disagrees: marks?.[a * nTo + b] === 1
        });
      }
    }
  });
  return curves;
}
function moveAcrossColumns(key, col, group, counts) {
  const n = counts[col] ?? 0;
  if (n === 0) return null;
  switch (key) {
    case "ArrowUp":
      return { col, group: (group - 1 + n) % n };
    case "ArrowDown":
      return { col, group: (group + 1) % n };
    case "Home":
      return { col, group: 0 };
    case "End":
      return { col, group: n - 1 };
    case "ArrowLeft":
    case "ArrowRight": {
      const step = key === "ArrowLeft" ? -1 : 1;
      for (let c = col + step; c >= 0 && c < counts.length; c += step) {
        if (counts[c] > 0) return { col: c, group: Math.min(group, counts[c] - 1) };
      }
      return { col, group };
    }
    default:
      return null;
  }
}
var DEFAULT_THRESHOLD = 0.1;

// js/src/app/selection.js
function refIn({ columns }, layer, j) {
  const column = layer === "" ? columns[columns.length - 1] : columns.find((c) => c.layer === layer);
  return column && Number.isInteger(j) && j >= 0 && j < column.data.n ? { layer: column.layer, group: j } : null;
}
function columnOf({ columns }, layer) {
  return columns.findIndex((c) => c.layer === layer);
}
var isLast = ({ state }, r) => !!r && r.layer === state.layer;
var same = (a, b) => a === null ? b === null : !!b && a.layer === b.layer && a.group === b.group;
function selectionOf(scene, view) {
  const { spatial, n, h: rows, w: cols } = scene.data;
  const pinnedRef = view.pinned;
  const shownRef = view.hovered ?? pinnedRef;
  const cell = view.probe;
  const probing = !!(cell && spatial && cell.row < rows && cell.col < cols);
  return {
    shown: shownRef && isLast(scene, shownRef) ? shownRef.group : -1,
    pinned: pinnedRef && isLast(scene, pinnedRef) ? pinnedRef.group : -1,
    cell: probing ? cell : null,
    shares: probing && cell && spatial ? cellShares(spatial, n, rows, cols, cell) : null,
    shownRef,
    pinnedRef
  };
}
function createSelectionActions({ model, view, current, highlight }) {
  function pin(r) {
    const layer = r && !isLast(current(), r) ? r.layer : "";
    const group = r ? r.group : -1;
    const oldLayer = asString(model.get("selected_layer"));
    const changed = oldLayer !== layer || Number(model.get("selected_group")) !== group;
    if (!changed) return;
    if (oldLayer !== layer) model.set("selected_layer", layer);
    model.set("selected_group", group);
    model.save_changes();
  }
  return {
    /**
     * The group a tile or table element shows (closest [data-group] inside `scope`), or null.
     * @param {EventTarget | null} target
     * @param {string} selector
     * @param {Element} scope
     * @returns {Ref | null}
     */
    refAt(target, selector, scope) {
      if (!(target instanceof Element)) return null;
      const node = (
        /** @type {HTMLElement | null} */
        target.closest(selector)
      );
      if (!node || !scope.contains(node)) return null;
      const layer = node.dataset.layer;
      const scene = current();
      return refIn(scene, layer && layer !== scene.state.layer ? layer : "", Number(node.dataset.group));
    },
    /** @param {Ref | null} r group, null none */
    hover(r) {
      if (same(view.hovered, r)) return;
      view.hovered = r;
      highlight();
    },
    /** @param {Ref} r */
    togglePin(r) {
      pin(same(view.pinned, r) ? null : r);
      highlight();
    },
    /** Escape: unpin (and clear the hover); true when something was unpinned. */
    escape() {
      view.hovered = null;
      const unpin = view.pinned !== null;
      if (unpin) pin(null);
      highlight();
      return unpin;
    },
    /** @param {Cell | null} cell */
    probe(cell) {
      const old = view.probe;
      if (old === cell || old && cell && old.row === cell.row && old.col === cell.col) return;
      view.probe = cell;
      highlight();
    },
    /**
     * Where the focus goes from a group for a key (multi-layer view), or null.
     * @param {Ref} r
     * @param {string} key
     * @returns {{ col: number, group: number } | null}
     */
    moveFrom(r, key) {
      const scene = current();
      return moveAcrossColumns(key, columnOf(scene, r.layer), r.group, scene.columns.map((c) => c.data.n));
    }
  };
}

// js/src/app/actions.js
var CONTROL_FIELDS = ["n_groups", "n_groups_options", "classes", "class_options", "layer_groups"];
function readBytes(file) {
  if (typeof file.arrayBuffer === "function") return file.arrayBuffer();
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(
      /** @type {ArrayBuffer} */
      reader.result
    );
    reader.onerror = () => reject(reader.error);
    reader.readAsArrayBuffer(file);
  });
}
function createModelActions({ model, v, view, current, refresh, setPending, kernel }) {
  function send(name, value) {
    model.set(name, value);
    model.save_changes();
  }
  const refreshControls = () => refresh(new Set(CONTROL_FIELDS));
  function chooseGroups(n) {
    if (n != null && Number.isInteger(n) && n !== readState(model).n_groups) send("n_groups", n);
    refreshControls();
  }
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
      refresh(/* @__PURE__ */ new Set(["attribution_method"]));
    },
    stop() {
      model.send({ type: "stop" });
      view.stopping = true;
      refresh(/* @__PURE__ */ new Set(["stopping"]));
    },
    /** @param {string} name an example image */
    chooseImage(name) {
      if (!name || !canSendImage()) return;
      v.parts.image.say("");
      model.send({ type: "image", name });
      setPending(true);
      refresh(/* @__PURE__ */ new Set(["pending"]));
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
      refresh(/* @__PURE__ */ new Set(["pending"]));
      try {
        const bytes = await readBytes(file);
        model.send({ type: "image", filename: file.name || "image" }, void 0, [bytes]);
      } catch (err) {
        setPending(false);
        v.parts.image.say(`Could not read ${file.name || "the file"}: ${err}`);
        refresh(/* @__PURE__ */ new Set(["pending"]));
      }
    }
  };
}

// js/src/pure/variance.js
var CURVE_WIDTH = 120;
var CURVE_HEIGHT = 36;
var PAD = 4;
function explainedText(v) {
  return Number.isFinite(v) ? `${Math.round(v * 100)}% explained` : "";
}
function explainedAt(explained, byK, count) {
  if (Number.isFinite(explained)) return explained;
  const v = byK[count - 1];
  return Number.isFinite(v) ? v : NaN;
}
function stabilityText(v) {
  return Number.isFinite(v) ? v.toFixed(2) : "";
}
var STABILITY_TEXT = "mean cosine of this group's channel direction with its match in 5 refits on resampled positions; 1 = always found again";
var SPLIT_HALF_TEXT = "split-half stability: mean cosine of this group's channel direction with its match when the groups are fitted again on each half of the images; 1 = always found again";
function varianceCurve(byK, count) {
  const known = byK.filter(Number.isFinite);
  if (known.length === 0) return { points: [], d: "", current: null };
  const lo = Math.min(...known);
  const hi = Math.max(...known);
  const r = (v) => Math.round(v * 10) / 10;
  const xOf = (k) => byK.length > 1 ? PAD + (k - 1) / (byK.length - 1) * (CURVE_WIDTH - 2 * PAD) : CURVE_WIDTH / 2;
  const yOf = (v) => hi > lo ? CURVE_HEIGHT - PAD - (v - lo) / (hi - lo) * (CURVE_HEIGHT - 2 * PAD) : CURVE_HEIGHT / 2;
  const points = [];
  let d = "";
  let joined = false;
  byK.forEach((value, i) => {
    if (!Number.isFinite(value)) {
      joined = false;
      return;
    }
    const p = { k: i + 1, value, x: r(xOf(i + 1)), y: r(yOf(value)) };
    points.push(p);
    d += `${d ? " " : ""}${joined ? "L" : "M"} ${p.x} ${p.y}`;
    joined = true;
  });
  return { points, d, current: points.find((p) => p.k === count) ?? null };
}

// js/src/components/variance.js
var SVG_NS = "http://www.w3.org/2000/svg";
var EXPLAINED_TIP = "Share of the layer's activations the groups explain (1 - |a - R|² / |a|², R: the groups' reconstruction); the curve: by number of groups, the current one marked";
function svgNode(doc, tag, attrs) {
  const node = (
    /** @type {SVGElement} */
    doc.createElementNS(SVG_NS, tag)
  );
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}
function createVarianceCurve(doc) {
  const svg = (
    /** @type {SVGSVGElement} */
    svgNode(doc, "svg", {
      class: "ng-ev-curve",
      viewBox: `0 0 ${CURVE_WIDTH} ${CURVE_HEIGHT}`,
      width: CURVE_WIDTH,
      height: CURVE_HEIGHT,
      role: "img"
    })
  );
  const line = svgNode(doc, "path", { class: "ng-ev-line", fill: "none" });
  const dots = svgNode(doc, "g", { class: "ng-ev-points" });
  const current = svgNode(doc, "circle", { class: "ng-ev-current", r: 3.5 });
  svg.append(line, dots, current);
  const text = h(doc, "span", { class: "ng-ev-text" });
  const el = h(doc, "span", { class: "ng-explained", title: EXPLAINED_TIP, hidden: true }, [svg, text]);
  let builtKey = "";
  function draw({ byK, count, choosable }) {
    const { points, d, current: at } = varianceCurve(byK, count);
    svg.toggleAttribute("hidden", points.length === 0);
    line.setAttribute("d", d);
    dots.replaceChildren(
      ...points.map((p) => {
        const dot = svgNode(doc, "circle", { class: "ng-ev-point", cx: p.x, cy: p.y, r: 2.5, "data-k": p.k });
        dot.classList.toggle("is-choosable", p.k !== count && choosable.includes(p.k));
        const title = svgNode(doc, "title", {});
        title.textContent = `${p.k} group${p.k === 1 ? "" : "s"}: ${explainedText(p.value)}`;
        dot.append(title);
        return dot;
      })
    );
    current.toggleAttribute("hidden", !at);
    current.setAttribute("cx", String(at?.x ?? 0));
    current.setAttribute("cy", String(at?.y ?? 0));
    current.setAttribute("data-k", String(count));
    const summary = points.map((p) => `${p.k}: ${Math.round(p.value * 100)}%`).join(", ");
    svg.setAttribute("aria-label", `Explained variance by number of groups (${summary}); now ${count}`);
  }
  return {
    el,
    svg,
    /** @param {VarianceView} v */
    update(v) {
      const value = explainedAt(v.explained, v.byK, v.count);
      text.textContent = explainedText(value);
      el.hidden = !text.textContent && !v.byK.some(Number.isFinite);
      el.dataset.layer = v.layer;
      svg.dataset.layer = v.layer;
      if (Number.isFinite(value)) el.dataset.value = String(value);
      else delete el.dataset.value;
      const key = JSON.stringify([v.byK.map((x) => Number.isFinite(x) ? x : null), v.count, v.choosable]);
      if (key === builtKey) return;
      builtKey = key;
      draw(v);
    }
  };
}

// js/src/components/controls.js
function createGroupsControl(doc, uid) {
  const label = h(doc, "label", { for: `${uid}-groups`, text: "Groups" });
  const input = h(doc, "input", {
    class: "ng-groups-input",
    id: `${uid}-groups`,
    type: "range",
    min: 0,
    max: 0,
    step: 1
  });
  const select = h(doc, "select", { class: "ng-groups-select", id: `${uid}-groups-select` });
  const value = h(doc, "output", { class: "ng-groups-value", for: `${uid}-groups` });
  const curve = createVarianceCurve(doc);
  const el = h(doc, "div", { class: "ng-groups-control" }, [label, input, select, value, curve.el]);
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
        choosable: connected && mode !== "text" ? counts : []
      });
    }
  };
}
function createClassPicker(doc, uid) {
  const chips = h(doc, "ul", { class: "ng-chips", "aria-label": "Chosen classes" });
  const hint = h(doc, "span", { class: "ng-class-hint", text: "top 5 predicted" });
  const input = h(doc, "input", {
    class: "ng-class-input",
    id: `${uid}-class`,
    type: "text",
    list: `${uid}-classes`,
    placeholder: "Add a class…",
    autocomplete: "off",
    spellcheck: "false"
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
    message
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
      const editable = state.class_options.length > 0 && connected;
      entry.hidden = !editable;
      const labels = chipLabels(state.classes, state.class_names, state.class_options);
      const items = labels.map((name, i) => {
        const remove = editable ? h(doc, "button", {
          class: "ng-chip-remove",
          type: "button",
          "aria-label": `Remove ${name}`,
          title: `Remove ${name}`,
          text: "×"
        }) : null;
        const chip = h(doc, "li", { class: "ng-chip", "data-class": name, "data-index": i }, [
          h(doc, "span", { class: "ng-chip-label", text: name }),
          remove
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
    }
  };
}
function createImagePicker(doc, uid) {
  const select = h(doc, "select", { class: "ng-image-select", id: `${uid}-image` });
  const upload = h(doc, "button", { class: "ng-image-upload", type: "button", text: "Upload…" });
  const file = h(doc, "input", {
    class: "ng-image-file",
    type: "file",
    accept: "image/*",
    hidden: true,
    "aria-label": "Upload an image"
  });
  const message = h(doc, "span", { class: "ng-image-message", "aria-live": "polite" });
  const el = h(doc, "div", { class: "ng-image-picker", hidden: true }, [
    h(doc, "label", { for: select.id, text: "Image" }),
    select,
    upload,
    file,
    message
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
          ...state.image_options.map((o) => h(doc, "option", { value: o, text: o }))
        );
      }
      select.value = "";
      select.hidden = state.image_options.length === 0;
      const busy = pending || isBusy(state.status);
      select.disabled = busy;
      upload.disabled = busy;
    }
  };
}

// js/src/components/tiles.js
var lower = (name) => `${name.charAt(0).toLowerCase()}${name.slice(1)}`;
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
      title: `${name}: hover to isolate, click to pin`
    },
    [img, placeholder, strip]
  );
  node.style.setProperty("--ng-group-color", cssColor(rgb));
  return { el: node, img, placeholder, region, stability, bar, name };
}
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
    showRegion ? `Image region where ${lower(t.name)} is strongest (its cell outlined); its icon is not ready yet` : `Icon of ${lower(t.name)} not ready yet`
  );
  t.placeholder.title = showRegion ? "Image region: the image around this group's strongest cell, until its icon is ready" : "";
}
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
function createTiles(doc, urls, urlPrefix = "icon-") {
  const el = h(doc, "div", {
    class: "ng-tiles",
    role: "group",
    "aria-label": "Neuron groups: hover or focus to isolate, click or Enter to pin"
  });
  let tiles = [];
  let builtKey = "";
  const regionPrefix = `region:${urlPrefix}`;
  function build(d, layer, named) {
    const focused = doc.activeElement;
    const refocus = focused instanceof HTMLElement && el.contains(focused) ? focused.dataset.group : null;
    tiles = d.rgb.map((rgb, j) => tileNode(doc, j, rgb, layer, named ? `${layer} group ${j}` : `Group ${j}`));
    el.replaceChildren(...tiles.map((t) => t.el));
    if (refocus != null) tiles[Number(refocus)]?.el.focus();
  }
  function show({ layer, data, icons, regions, stability }, named) {
    const key = `${layer}|${named}|${data.rgb.map((c) => c.join(",")).join(";")}`;
    if (key !== builtKey || tiles.length !== data.n) {
      builtKey = key;
      build(data, layer, named);
    }
    tiles.forEach((t, j) => {
      const icon = urls.set(`${urlPrefix}${j}`, toBytes(icons[j]));
      const region = urls.set(`${regionPrefix}${j}`, icon ? null : toBytes(regions[j]));
      showPicture(t, icon, region);
      showStability(t, stability.length === tiles.length ? stability[j] : NaN);
    });
    const stale = (k, prefix) => k.startsWith(prefix) && Number(k.slice(prefix.length)) >= tiles.length;
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
    }
  };
}

// js/src/components/flow-columns.js
function countControl(doc, layer, count, options, enabled) {
  const counts = groupCounts(options, count);
  if (counts.length < 2) {
    return h(doc, "span", { class: "ng-layer-count", text: `${count} group${count === 1 ? "" : "s"}` });
  }
  const select = h(
    doc,
    "select",
    { class: "ng-layer-groups", "data-layer": layer, "aria-label": `Groups at ${layer}`, disabled: !enabled },
    counts.map((c) => h(doc, "option", { value: c, text: `${c} groups` }))
  );
  select.value = String(count);
  return select;
}
function classesColumn(doc, classNames) {
  const classNodes = classNames.map(
    (name, i) => h(doc, "div", { class: "ng-class-node", "data-class": name, "data-row": i, title: name, text: name })
  );
  const head = h(doc, "div", { class: "ng-column-head" }, [h(doc, "span", { class: "ng-column-name", text: "Classes" })]);
  const node = h(doc, "div", { class: "ng-column ng-column-classes", "data-layer": CLASSES_COLUMN }, [
    head,
    h(doc, "div", { class: "ng-class-nodes" }, classNodes)
  ]);
  return { layer: CLASSES_COLUMN, el: node, head, tiles: null, classNodes, curve: null, enabled: false };
}
function createColumns(doc, urls, lastTiles) {
  const el = h(doc, "div", { class: "ng-columns" });
  let views = [];
  let builtKey = "";
  let names = [];
  function layerColumn(column, last, enabled) {
    const tiles = last ? lastTiles : createTiles(doc, urls, `icon:${column.layer}:`);
    const curve = createVarianceCurve(doc);
    const head = h(doc, "div", { class: "ng-column-head" }, [
      h(doc, "span", { class: "ng-column-name", text: column.layer }),
      countControl(doc, column.layer, column.count, column.options, enabled),
      curve.el
    ]);
    const node = h(doc, "div", { class: "ng-column", "data-layer": column.layer }, [head, tiles.el]);
    return { layer: column.layer, el: node, head, tiles, classNodes: [], curve, enabled };
  }
  const nodesOf = (view) => view.tiles ? view.tiles.nodes() : view.classNodes;
  function disposeTiles() {
    for (const v of views) if (v.tiles && v.tiles !== lastTiles) v.tiles.dispose();
  }
  return {
    el,
    /** @returns {boolean} whether there are no columns (the single-layer view) */
    empty() {
      return views.length === 0;
    },
    /** @returns {string[]} each column's layer name, the classes column last */
    names() {
      return names.slice();
    },
    /** @param {number} col @param {number} group */
    focusTile(col, group) {
      views[col]?.tiles?.focus(group);
    },
    /** @param {number} col @param {number} i @returns {string | undefined} a class node's class */
    label(col, i) {
      return nodesOf(views[col])[i]?.dataset.class;
    },
    /**
     * Node boxes relative to the diagram (all zeros where nothing is laid out).
     * @param {HTMLElement} diagram
     * @returns {NodeBox[][]}
     */
    measure(diagram) {
      const base = diagram.getBoundingClientRect();
      const x0 = base.left - diagram.scrollLeft;
      const y0 = base.top - diagram.scrollTop;
      return views.map(
        (view) => nodesOf(view).map((node) => {
          const r = node.getBoundingClientRect();
          return { left: r.left - x0, right: r.right - x0, y: r.top + r.height / 2 - y0 };
        })
      );
    },
    /**
     * Build the columns again when the layers, their counts or the classes changed.
     * @param {Scene} s
     * @returns {boolean} whether they were rebuilt
     */
    build({ columns, data, kernel }) {
      const key = JSON.stringify([
        columns.map((c) => [c.layer, c.count, c.options, c.data.n]),
        data.classNames,
        kernel
      ]);
      if (key === builtKey) return false;
      builtKey = key;
      disposeTiles();
      views = columns.map((c, i) => layerColumn(c, i === columns.length - 1, kernel));
      views.push(classesColumn(doc, data.classNames));
      names = views.map((v) => v.layer);
      el.replaceChildren(...views.map((v) => v.el));
      return true;
    },
    /**
     * Show each layer's groups, icons and explained variance in its column.
     * @param {Scene} s
     */
    show({ columns }) {
      columns.forEach((c, i) => {
        const { tiles, curve, enabled } = views[i];
        tiles?.show(c, true);
        curve?.update({
          layer: c.layer,
          // The share sent belongs to the groups shown: not yet to a count just chosen.
          explained: c.data.n === c.count ? c.explained : NaN,
          byK: c.explainedByK,
          count: c.count,
          choosable: enabled ? groupCounts(c.options, c.count) : []
        });
      });
    },
    /** Remove every column (back to the single-layer view). */
    clear() {
      disposeTiles();
      views = [];
      names = [];
      builtKey = "";
      el.replaceChildren();
    },
    /**
     * @param {Selection} sel
     * @param {number} col column of the shown group, -1 none
     */
    highlight(sel, col) {
      views.forEach((v, i) => {
        if (!v.tiles || v.tiles === lastTiles) return;
        const shown = sel.shownRef && sel.shownRef.layer === v.layer ? sel.shownRef.group : -1;
        const pinned = sel.pinnedRef && sel.pinnedRef.layer === v.layer ? sel.pinnedRef.group : -1;
        v.tiles.highlight({ shown, pinned });
        v.el.classList.toggle("has-selection", i === col);
      });
    }
  };
}

// js/src/pure/format.js
function formatValue(v) {
  if (!Number.isFinite(v)) return "–";
  const s = v.toFixed(3);
  return /^-0\.0+$/.test(s) ? s.slice(1) : s;
}
function shortImageName(path) {
  const name = String(path).split(/[\\/]/).pop() || String(path);
  return name.length > 24 ? `${name.slice(0, 11)}…${name.slice(-12)}` : name;
}
function regionText(r) {
  return `${r.image} · cell (${r.y}, ${r.x}) · value ${formatValue(r.value)}`;
}
function classesText(g) {
  const classes = asArray(g.classes);
  if (classes.length === 0) return "";
  return `Pushes ${classes.map((c) => `${c.name} (${formatValue(c.value)})`).join(", ")}`;
}
function boxStyle(box) {
  const [top, left, bottom, right] = asArray(box).map((v) => clamp01(Number(v)));
  const pct = (v) => `${(v * 100).toFixed(2)}%`;
  return { top: pct(top), left: pct(left), width: pct(right - left), height: pct(bottom - top) };
}

// js/src/components/flow-curves.js
var SVG_NS2 = "http://www.w3.org/2000/svg";
function curveElement(doc, c, { names, label }) {
  const path = (
    /** @type {SVGPathElement} */
    doc.createElementNS(SVG_NS2, "path")
  );
  const toClass = names[c.pair + 1] === CLASSES_COLUMN;
  const from = `${names[c.pair]} group ${c.from}`;
  const to = toClass ? `“${label(c.pair + 1, c.to) ?? c.to}”` : `${names[c.pair + 1]} group ${c.to}`;
  const title = (
    /** @type {SVGTitleElement} */
    doc.createElementNS(SVG_NS2, "title")
  );
  const why = c.disagrees ? "\n" + DISAGREEMENT_TEXT : "";
  title.textContent = `${from} → ${to}: ${formatValue(c.value)}` + why;
  path.append(title);
  path.setAttribute("class", c.disagrees ? "ng-curve is-disagreeing" : "ng-curve");
  if (c.disagrees) path.dataset.disagrees = "true";
  path.setAttribute("fill", "none");
  path.setAttribute("stroke", c.color);
  path.setAttribute("stroke-width", String(Math.round(c.width * 100) / 100));
  Object.assign(path.dataset, {
    pair: String(c.pair),
    fromLayer: names[c.pair],
    from: String(c.from),
    toLayer: names[c.pair + 1],
    to: String(c.to),
    value: String(c.value),
    fraction: c.fraction.toFixed(3)
  });
  return path;
}
function createCurves(doc, el, uid) {
  const svg = (
    /** @type {SVGSVGElement} */
    doc.createElementNS(SVG_NS2, "svg")
  );
  svg.setAttribute("class", "ng-curves");
  svg.setAttribute("aria-hidden", "true");
  const tip = h(doc, "div", { class: "ng-flow-tip", role: "tooltip", hidden: true });
  const threshold = h(doc, "input", {
    class: "ng-threshold",
    id: `${uid}-threshold`,
    type: "range",
    min: 0,
    max: 1,
    step: 0.05,
    value: DEFAULT_THRESHOLD
  });
  const thresholdValue = h(doc, "output", { class: "ng-threshold-value", for: threshold.id });
  const controls = h(doc, "div", { class: "ng-flow-controls", hidden: true }, [
    h(doc, "label", { for: threshold.id, text: "Hide curves under" }),
    threshold,
    thresholdValue
  ]);
  let curves = [];
  let paths = [];
  let cut = DEFAULT_THRESHOLD;
  let focus = null;
  function applyClasses() {
    curves.forEach((c, i) => {
      const hidden = belowThreshold(c.fraction, cut);
      const touches = !!focus && (c.pair === focus.col && c.from === focus.group || c.pair + 1 === focus.col && c.to === focus.group);
      const path = paths[i];
      path.classList.toggle("is-hidden", hidden);
      path.classList.toggle("is-emphasized", touches);
      path.classList.toggle("is-faded", !!focus && !touches);
    });
    el.classList.toggle("has-focus", !!focus);
    const shown = paths.filter((p) => !p.classList.contains("is-hidden")).length;
    el.dataset.curves = String(shown);
    thresholdValue.textContent = `${Math.round(cut * 100)}% of the largest (${shown} of ${paths.length} shown)`;
  }
  return {
    svg,
    tip,
    controls,
    threshold,
    /**
     * Recompute the curves from the flows and the nodes' places; (re)build the paths only when
     * the curves themselves changed.
     * @param {CurveLayout} at
     */
    draw(at) {
      const next = curvePaths(at.flows, at.boxes, cut);
      const same2 = next.length === curves.length && next.every((c, i) => {
        const o = curves[i];
        return c.pair === o.pair && c.from === o.from && c.to === o.to && c.value === o.value && c.disagrees === o.disagrees;
      });
      curves = next;
      if (!same2) {
        paths = curves.map((c) => curveElement(doc, c, at));
        svg.replaceChildren(...paths);
      }
      curves.forEach((c, i) => paths[i].setAttribute("d", c.d));
      svg.setAttribute("width", String(el.scrollWidth || 0));
      svg.setAttribute("height", String(el.scrollHeight || 0));
      applyClasses();
    },
    /** No columns: no curves. */
    clear() {
      curves = [];
      paths = [];
      svg.replaceChildren();
    },
    /** The columns were rebuilt: the next draw makes new paths. */
    forget() {
      paths = [];
      curves = [];
    },
    /** @param {number} t 0..1 */
    setThreshold(t) {
      cut = clamp01(t);
      applyClasses();
    },
    /**
     * Emphasize the curves of a group (null: none).
     * @param {{ col: number, group: number } | null} group
     * @param {boolean} drawn whether there are columns (else nothing to restyle)
     */
    setFocus(group, drawn) {
      focus = group;
      if (drawn) applyClasses();
    },
    /**
     * Show the value of a curve next to the pointer (null hides it).
     * @param {Element | null} path
     * @param {number} [x] clientX
     * @param {number} [y] clientY
     */
    showTip(path, x = 0, y = 0) {
      const i = path ? paths.indexOf(
        /** @type {SVGPathElement} */
        path
      ) : -1;
      for (const p of paths) p.classList.toggle("is-hovered", p === path);
      if (i < 0) {
        tip.hidden = true;
        return;
      }
      tip.textContent = paths[i].querySelector("title")?.textContent ?? "";
      const base = el.getBoundingClientRect();
      tip.style.left = `${Math.round(x - base.left + 12)}px`;
      tip.style.top = `${Math.max(0, Math.round(y - base.top - 30))}px`;
      tip.hidden = false;
    }
  };
}

// js/src/components/flow.js
function createFlow(doc, urls, lastTiles, uid) {
  const el = h(doc, "div", { class: "ng-flow is-single" });
  const curves = createCurves(doc, el, uid);
  const columns = createColumns(doc, urls, lastTiles);
  el.append(curves.svg, columns.el, curves.tip, lastTiles.el);
  let flows = [];
  function layout() {
    if (columns.empty()) {
      curves.clear();
      return;
    }
    curves.draw({ flows, boxes: columns.measure(el), names: columns.names(), label: columns.label });
  }
  function showSingle() {
    if (columns.empty()) return;
    columns.clear();
    flows = [];
    el.append(lastTiles.el);
    layout();
  }
  return {
    el,
    controls: curves.controls,
    threshold: curves.threshold,
    svg: curves.svg,
    focusTile: columns.focusTile,
    setThreshold: curves.setThreshold,
    showTip: curves.showTip,
    layout,
    /** @param {Scene} s */
    update(s) {
      el.classList.toggle("is-single", !s.multi);
      curves.svg.style.display = s.multi ? "" : "none";
      curves.controls.hidden = !s.multi;
      if (!s.multi) {
        showSingle();
        return;
      }
      if (columns.build(s)) curves.forget();
      columns.show(s);
      flows = columnFlows(columns.names(), s.state.flows, s.table);
      layout();
    },
    /**
     * @param {Selection} sel
     * @param {number} col column of the shown group, -1 none
     */
    highlight(sel, col) {
      columns.highlight(sel, col);
      curves.setFocus(sel.shownRef && col >= 0 ? { col, group: sel.shownRef.group } : null, !columns.empty());
    }
  };
}

// js/src/components/header.js
function createHeader(doc) {
  const title = h(doc, "div", { class: "ng-title" });
  const meta = h(doc, "div", { class: "ng-meta" });
  const predictions = h(doc, "div", { class: "ng-predictions" });
  const el = h(doc, "div", { class: "ng-header" }, [title, meta, predictions]);
  return {
    el,
    /** @param {Scene} s */
    update({ state, columns, multi }) {
      title.textContent = state.title;
      title.hidden = !state.title;
      const layers = multi ? columns.map((c) => c.layer).join(" → ") : state.layer;
      const parts = [state.model_name, layers].filter(Boolean);
      meta.textContent = parts.join(" · ");
      meta.hidden = parts.length === 0;
      const preds = state.predictions.map(
        ({ name, probability }) => Number.isFinite(probability) ? `${name} (${(probability * 100).toFixed(1)}%)` : name
      );
      predictions.textContent = preds.length ? `Predicted: ${preds.join(", ")}` : "";
      predictions.hidden = preds.length === 0;
    }
  };
}
function createErrorBanner(doc) {
  const el = h(doc, "div", { class: "ng-error", role: "alert", hidden: true });
  return {
    el,
    /** @param {{ state: { error: string } }} s a Scene, or any state with an `error` */
    update({ state }) {
      el.textContent = state.error;
      el.hidden = !state.error;
    }
  };
}

// js/src/components/methods.js
function createMethodSwitch(doc, uid) {
  const options = h(doc, "span", { class: "ng-method-options" });
  const el = h(
    doc,
    "div",
    { class: "ng-method-switch", role: "radiogroup", "aria-label": "Attribution method of the table and the flows", hidden: true },
    [h(doc, "span", { class: "ng-method-title", "aria-hidden": "true", text: "Attribution" }), options]
  );
  let builtKey = "";
  let inputs = [];
  function build(methods) {
    inputs = methods.map(
      (m) => h(doc, "input", { class: "ng-method-input", type: "radio", name: `${uid}-method`, value: m })
    );
    options.replaceChildren(
      ...methods.map(
        (m, i) => h(
          doc,
          "label",
          { class: "ng-method", "data-method": m, title: (
            /** @type {Record<string, string>} */
            METHOD_TIPS[m] ?? m
          ) },
          [inputs[i], h(doc, "span", { text: methodLabel(m) })]
        )
      )
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
    }
  };
}

// js/src/components/panels.js
function groupCanvases(doc, d, probe) {
  if (!d.spatial || !context2d(probe)) return null;
  const layers = computeLayers(d.spatial, d.n, d.h, d.w, d.rgb);
  const out = { color: [], gray: [] };
  for (let j = 0; j < d.n; j++) {
    for (
      const kind of
      /** @type {const} */
      ["color", "gray"]
    ) {
      const c = doc.createElement("canvas");
      c.width = d.w;
      c.height = d.h;
      putPixels(c, layers[kind][j], d.w, d.h);
      out[kind].push(c);
    }
  }
  return { layers, canvases: out };
}
function resize(c, w, h2) {
  if (c.width !== w) c.width = w;
  if (c.height !== h2) c.height = h2;
}
function placeReticles(reticles, cell, rows, cols) {
  for (const r of reticles) {
    r.hidden = !cell;
    if (!cell) continue;
    r.style.left = `${cell.col / cols * 100}%`;
    r.style.top = `${cell.row / rows * 100}%`;
    r.style.width = `${100 / cols}%`;
    r.style.height = `${100 / rows}%`;
    r.dataset.row = String(cell.row);
    r.dataset.col = String(cell.col);
  }
}
function createPanels(doc, urls) {
  const image = h(doc, "img", { class: "ng-image", alt: "Input image", draggable: "false" });
  const spotlight = h(doc, "canvas", {
    class: "ng-spotlight",
    role: "img",
    "aria-label": "Spotlight: where the selected group is present in the image",
    hidden: true
  });
  const map = h(doc, "canvas", {
    class: "ng-map",
    role: "img",
    "aria-label": "Group map: each cell is coloured by the groups present there"
  });
  const mapGroup = h(doc, "canvas", {
    class: "ng-map-group",
    role: "img",
    "aria-label": "Map of the selected group",
    hidden: true
  });
  const reticles = [0, 1].map(() => h(doc, "div", { class: "ng-reticle", hidden: true }));
  const imagePanel = h(doc, "div", { class: "ng-panel ng-panel-image" }, [image, spotlight, reticles[0]]);
  const mapPanel = h(doc, "div", { class: "ng-panel ng-panel-map" }, [map, mapGroup, reticles[1]]);
  const el = h(doc, "div", { class: "ng-panels" }, [imagePanel, mapPanel]);
  let canvases = { color: [], gray: [] };
  let drawn = null;
  let earlier = [];
  const earlierCanvases = /* @__PURE__ */ new Map();
  function draw(d) {
    drawn = d;
    canvases = { color: [], gray: [] };
    for (const c of [map, mapGroup, spotlight]) {
      c.width = d.w || 1;
      c.height = d.h || 1;
    }
    const ctx = context2d(map);
    if (!ctx) return;
    if (!d.spatial) {
      ctx.fillStyle = "#000";
      ctx.fillRect(0, 0, map.width, map.height);
      return;
    }
    const drawnGroups = (
      /** @type {NonNullable<ReturnType<typeof groupCanvases>>} */
      groupCanvases(doc, d, map)
    );
    putPixels(map, drawnGroups.layers.composite, d.w, d.h);
    canvases = drawnGroups.canvases;
  }
  function layerCanvases(ref) {
    const column = ref ? earlier.find((c) => c.layer === ref.layer) : void 0;
    if (!column) return drawn ? { canvases, w: drawn.w || 1, h: drawn.h || 1 } : null;
    let cached = earlierCanvases.get(column.layer);
    if (!cached || cached.data !== column.data) {
      cached = { data: column.data, canvases: groupCanvases(doc, column.data, map)?.canvases ?? { color: [], gray: [] } };
      earlierCanvases.set(column.layer, cached);
    }
    return { canvases: cached.canvases, w: column.data.w || 1, h: column.data.h || 1 };
  }
  return {
    el,
    image,
    /** Both panels (and so the map) take the image's aspect ratio once it has loaded. */
    fitImage() {
      const { naturalWidth: w, naturalHeight: h2 } = image;
      const ratio = w > 0 && h2 > 0 ? `${w} / ${h2}` : "";
      imagePanel.style.aspectRatio = ratio;
      mapPanel.style.aspectRatio = ratio;
    },
    /** @param {Scene} s */
    update({ state, data, columns }) {
      const url = urls.set("image", toBytes(state.image));
      if (url) image.src = url;
      else image.removeAttribute("src");
      image.hidden = !url;
      image.alt = `Input image${state.title ? `: ${state.title}` : ""}`;
      if (data !== drawn) draw(data);
      earlier = columns.slice(0, -1);
      for (const layer of [...earlierCanvases.keys()]) {
        if (!earlier.some((c) => c.layer === layer)) earlierCanvases.delete(layer);
      }
    },
    /** @param {Selection} sel */
    highlight({ shown: lastShown, cell, shownRef }) {
      const isEarlier = !!shownRef && earlier.some((c) => c.layer === shownRef.layer);
      const shown = isEarlier && shownRef ? shownRef.group : lastShown;
      if (shown >= 0) {
        const source = layerCanvases(isEarlier ? shownRef : null);
        if (source) {
          resize(spotlight, source.w, source.h);
          resize(mapGroup, source.w, source.h);
          blit(spotlight, source.canvases.gray[shown]);
          blit(mapGroup, source.canvases.color[shown]);
        }
        const name = isEarlier && shownRef ? `${shownRef.layer} group ${shown}` : `group ${shown}`;
        spotlight.setAttribute("aria-label", `Spotlight: where ${name} is present in the image`);
        mapGroup.setAttribute("aria-label", `Map of ${name}: where it is present`);
      }
      spotlight.hidden = shown < 0;
      mapGroup.hidden = shown < 0;
      map.hidden = shown >= 0;
      spotlight.dataset.layer = shown >= 0 && shownRef ? shownRef.layer : "";
      placeReticles(reticles, cell, drawn?.h ?? 0, drawn?.w ?? 0);
    }
  };
}

// js/src/components/status.js
var STATUS_MESSAGES = {
  loading: "Loading the model (the first time in this kernel)…",
  computing: "Computing neuron groups…",
  stopped: "Icon optimisation stopped; icons show their last state."
};
function createStatus(doc) {
  const line = h(doc, "div", { class: "ng-status", role: "status", hidden: true });
  const bar = h(doc, "progress", {
    class: "ng-progress-bar",
    max: 1,
    value: 0,
    "aria-label": "Icon optimisation progress"
  });
  const text = h(doc, "span", { class: "ng-progress-text" });
  const stop = h(doc, "button", { class: "ng-stop", type: "button", text: "Stop" });
  const progress = h(doc, "div", { class: "ng-progress", hidden: true }, [bar, text, stop]);
  return {
    nodes: [line, progress],
    stop,
    /** @param {Scene} s */
    update({ state, stopping, pending }) {
      progress.hidden = state.status !== "optimizing" || pending;
      const pct = `${Math.round(state.progress * 100)}%`;
      bar.value = state.progress;
      bar.setAttribute("aria-valuetext", pct);
      text.textContent = state.progress_text || `Icons: ${pct}`;
      stop.disabled = stopping;
      stop.textContent = stopping ? "Stopping…" : "Stop";
      const msg = STATUS_MESSAGES[pending ? "computing" : state.status] ?? "";
      line.textContent = msg;
      line.hidden = !msg;
    }
  };
}

// js/src/components/table.js
var CAPTION = "Effect of neuron groups on output classes";
function tableCaption(method) {
  if (!method) return CAPTION;
  const captions = (
    /** @type {Record<string, string>} */
    METHOD_CAPTIONS
  );
  return `${CAPTION} (${captions[method] ?? method})`;
}
function valueCell(doc, v, j, name, maxAbs, disagrees) {
  const finite = Number.isFinite(v);
  const said = finite ? `Effect of group ${j} on "${name}": ${Number(v.toPrecision(7))}` : `No attribution for group ${j} on "${name}"`;
  const td = h(doc, "td", {
    "data-group": j,
    "data-class": name,
    "data-value": finite ? String(v) : null,
    "data-disagrees": disagrees ? "true" : null,
    title: disagrees ? said + "\n" + DISAGREEMENT_TEXT : said,
    "aria-label": disagrees ? `${formatValue(v)}, disagreement: ${DISAGREEMENT_TEXT}` : null,
    text: formatValue(v)
  });
  td.classList.add(v > 0 ? "is-positive" : v < 0 ? "is-negative" : "is-zero");
  td.classList.toggle("has-disagreement", disagrees);
  td.style.background = attributionColor(v, maxAbs);
  return td;
}
function createTable(doc) {
  const thead = h(doc, "thead");
  const tbody = h(doc, "tbody");
  const caption = h(doc, "caption", { text: CAPTION });
  const table = h(doc, "table", { class: "ng-table" }, [caption, thead, tbody]);
  const el = h(doc, "div", { class: "ng-table-wrap" }, [table]);
  let columns = [];
  let built = null;
  function header(d, n) {
    const head = h(doc, "tr", {}, [h(doc, "th", { class: "ng-corner", scope: "col", text: "Class" })]);
    for (let j = 0; j < n; j++) {
      const swatch = h(doc, "span", { class: "ng-swatch", "aria-hidden": "true" });
      swatch.style.background = cssColor(d.rgb[j]);
      const th = h(
        doc,
        "th",
        { scope: "col", "data-group": j, "aria-label": `Group ${j}`, title: `Group ${j}: hover to isolate, click to pin` },
        [swatch, h(doc, "span", { class: "ng-col-label", text: String(j) })]
      );
      head.append(th);
      columns.push([th]);
    }
    return head;
  }
  function build(d, t) {
    const { n, classNames } = d;
    const { values, maxAbs, rest, disagreements } = t;
    columns = [];
    caption.textContent = tableCaption(t.method);
    table.dataset.method = t.method;
    const head = header(d, n);
    if (rest) head.append(h(doc, "th", { class: "ng-rest-head", scope: "col", title: REST_TEXT, text: "rest" }));
    thead.replaceChildren(head);
    const rows = classNames.map((name, i) => {
      const tr = h(doc, "tr", {}, [h(doc, "th", { class: "ng-class-name", scope: "row", text: name })]);
      for (let j = 0; j < n; j++) {
        const td = valueCell(doc, values ? values[i * n + j] : NaN, j, name, maxAbs, disagreements?.[i * n + j] === 1);
        tr.append(td);
        columns[j].push(td);
      }
      if (rest) {
        const v = rest[i];
        const title = `Rest for "${name}": ${Number.isFinite(v) ? Number(v.toPrecision(7)) : "–"}, ${REST_TEXT}`;
        tr.append(h(doc, "td", { class: "ng-rest", "data-row": i, "data-value": Number.isFinite(v) ? String(v) : null, title, text: formatValue(v) }));
      }
      return tr;
    });
    if (rows.length === 0) {
      rows.push(
        h(doc, "tr", {}, [h(doc, "td", { class: "ng-empty", colspan: n + 1, text: "No classes to show yet." })])
      );
    }
    tbody.replaceChildren(...rows);
  }
  return {
    el,
    table,
    /** @param {Scene} s */
    update({ data, table: t }) {
      if (built && built[0] === data && built[1] === t) return;
      built = [data, t];
      build(data, t);
    },
    /** @param {Selection} sel */
    highlight({ shown, pinned, shares }) {
      columns.forEach((cells, j) => {
        const opacity = shares ? String(fadeOpacity(shares[j])) : "";
        for (const c of cells) {
          c.classList.toggle("is-selected", j === shown);
          c.classList.toggle("is-pinned", j === pinned);
          c.style.opacity = opacity;
        }
      });
    }
  };
}

// js/src/app/view.js
var instanceCounter = 0;
function createView(doc, urls) {
  const uid = `ng-${++instanceCounter}-${Math.random().toString(36).slice(2, 7)}`;
  const tiles = createTiles(doc, urls);
  const parts = {
    header: createHeader(doc),
    error: createErrorBanner(doc),
    groups: createGroupsControl(doc, uid),
    classes: createClassPicker(doc, uid),
    image: createImagePicker(doc, uid),
    status: createStatus(doc),
    panels: createPanels(doc, urls),
    tiles,
    flow: createFlow(doc, urls, tiles, uid),
    methods: createMethodSwitch(doc, uid),
    table: createTable(doc)
  };
  const hint = h(doc, "div", { class: "ng-hint", text: "Hover a group to isolate it; click to pin." });
  const root = h(
    doc,
    "div",
    { class: "neuron-groups", "data-lm-suppress-shortcuts": "true", "data-selected": -1, "data-pinned": -1 },
    [
      parts.header.el,
      parts.error.el,
      h(doc, "div", { class: "ng-controls" }, [parts.groups.el, parts.classes.el, parts.image.el]),
      ...parts.status.nodes,
      parts.panels.el,
      hint,
      parts.flow.controls,
      parts.flow.el,
      parts.methods.el,
      parts.table.el
    ]
  );
  const frame = {
    el: root,
    /** @param {Scene} s */
    update({ state, multi, pending }) {
      const computing = isBusy(state.status) || pending;
      root.dataset.status = pending ? "computing" : state.status;
      root.classList.toggle("is-computing", computing);
      root.classList.toggle("is-multi", multi);
      root.setAttribute("aria-busy", String(computing));
      root.style.setProperty("--ng-icon-size", `${Math.max(16, state.icon_size)}px`);
      const label = state.title || [state.model_name, state.layer].filter(Boolean).join(" ") || "input image";
      root.setAttribute("aria-label", `Neuron groups of ${label}`);
      hint.textContent = multi ? "Hover a group of any layer to isolate it and its curves; click to pin. Arrow keys move between groups and layers." : "Hover a group to isolate it; click to pin.";
    },
    /** @param {Selection} sel */
    highlight({ shown, pinned, cell, shownRef, pinnedRef }) {
      root.dataset.selected = String(shownRef ? shownRef.group : shown);
      root.dataset.pinned = String(pinnedRef ? pinnedRef.group : pinned);
      root.dataset.selectedLayer = shownRef ? shownRef.layer : "";
      root.dataset.pinnedLayer = pinnedRef ? pinnedRef.layer : "";
      root.classList.toggle("has-selection", !!shownRef || shown >= 0);
      root.classList.toggle("is-probing", !!cell);
    }
  };
  return { root, parts, frame };
}
var TILE_FIELDS = ["icons", "icon_size", "stability", "regions"];
function dependencies({ parts, frame }) {
  return [
    [frame, ["status", "title", "model_name", "layer", "icon_size", "earlier_layers", "pending"]],
    [parts.header, ["title", "model_name", "layer", "predictions", "earlier_layers"]],
    [parts.error, ["error"]],
    [parts.groups, [...DATA_FIELDS, ...VARIANCE_FIELDS, "n_groups_options", "layer", "connection", "earlier_layers"]],
    [parts.classes, ["classes", "class_options", "class_names", "connection"]],
    [parts.image, ["image_options", "status", "connection", "pending"]],
    [parts.status, ["status", "progress", "progress_text", "stopping", "pending"]],
    [parts.panels, [...DATA_FIELDS, ...LAYER_FIELDS, "image", "title"]],
    [parts.flow, [...DATA_FIELDS, ...LAYER_FIELDS, ...TABLE_FIELDS, ...VARIANCE_FIELDS, ...TILE_FIELDS, "layer", "n_groups_options", "connection"]],
    [parts.tiles, [...DATA_FIELDS, ...TILE_FIELDS, "layer", "earlier_layers"]],
    [parts.methods, [...DATA_FIELDS, ...TABLE_FIELDS]],
    [parts.table, [...DATA_FIELDS, ...TABLE_FIELDS]]
  ];
}

// js/src/app/controller.js
var PENDING_TIMEOUT_MS = 3e4;
function nextScene(model, state, previous, changed, facts) {
  const data = !previous || DATA_FIELDS.some((f) => changed.has(f)) ? readGroupData(model) : previous.data;
  const earlier = !previous || changed.has("earlier_layers") ? earlierColumns(state.earlier_layers) : previous.columns.slice(0, -1);
  const last = {
    layer: state.layer,
    key: "",
    data,
    icons: state.icons,
    count: state.n_groups || data.n,
    options: state.n_groups_options,
    explained: state.explained_variance,
    explainedByK: state.explained_variance_by_k,
    stability: state.stability,
    regions: state.regions
  };
  const table = readTable(state, data, previous?.table);
  return { state, data, table, multi: earlier.length > 0, columns: [...earlier, last], ...facts };
}
function createController(model, el, v) {
  const deps = dependencies(v);
  let scene = null;
  const current = () => (
    /** @type {Scene} */
    scene
  );
  const view = {
    hovered: null,
    probe: null,
    stopping: false,
    pending: false,
    get pinned() {
      return refIn(current(), asString(model.get("selected_layer")), Number(model.get("selected_group")));
    }
  };
  const connected = () => !el.closest(".jupyter-widgets-disconnected");
  const kernel = () => connected() && model.offline !== true;
  function highlight() {
    const sel = selectionOf(current(), view);
    v.frame.highlight(sel);
    v.parts.panels.highlight(sel);
    v.parts.tiles.highlight(sel);
    v.parts.table.highlight(sel);
    v.parts.flow.highlight(sel, sel.shownRef ? columnOf(current(), sel.shownRef.layer) : -1);
  }
  function refresh(changed, fromModel = false) {
    const state = readState(model);
    const first = scene === null;
    if (state.status !== "optimizing") view.stopping = false;
    if (view.pending && fromModel) {
      setPending(false);
      changed = /* @__PURE__ */ new Set([...changed, "pending"]);
    }
    const facts = { connected: connected(), kernel: kernel(), stopping: view.stopping, pending: view.pending };
    scene = nextScene(model, state, scene, changed, facts);
    for (const [part, fields] of deps) {
      if (first || fields.some((f) => changed.has(f))) part.update(scene);
    }
    if (view.hovered && !refIn(scene, view.hovered.layer, view.hovered.group)) view.hovered = null;
    highlight();
  }
  let pendingTimer;
  function setPending(on) {
    view.pending = on;
    clearTimeout(pendingTimer);
    pendingTimer = on ? setTimeout(() => {
      if (view.pending) {
        view.pending = false;
        refresh(/* @__PURE__ */ new Set(["pending"]));
      }
    }, PENDING_TIMEOUT_MS) : void 0;
  }
  const ctx = { model, v, view, current, refresh, highlight, setPending, kernel };
  return {
    refresh,
    ...createSelectionActions(ctx),
    ...createModelActions(ctx),
    /** @returns {{ h: number, w: number }} the map's size in cells */
    mapSize() {
      const { h: rows, w: cols } = current().data;
      return { h: rows, w: cols };
    },
    /** @returns {boolean} whether the multi-layer view is shown */
    multi() {
      return current().multi;
    },
    /** @returns {number} groups of the last layer shown now */
    groupCount() {
      return current().data.n;
    },
    dispose() {
      clearTimeout(pendingTimer);
    }
  };
}

// js/src/components/gallery.js
function regionNode(doc, urls, r, j, i, rgb) {
  const url = urls.set(`crop-${j}-${i}`, toBytes(r.crop), "image/jpeg");
  const crop = url ? h(doc, "img", { class: "ng-region-crop", src: url, alt: `Region of ${r.image}`, draggable: "false" }) : h(doc, "div", { class: "ng-region-crop ng-icon-placeholder", role: "img", "aria-label": "No crop" });
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
      title: regionText(r)
    },
    [h(doc, "div", { class: "ng-region-frame" }, [crop, cell]), caption]
  );
}
function createGallery(doc, urls) {
  const el = h(doc, "div", {
    class: "ng-gallery",
    role: "list",
    "aria-label": "Shared neuron groups: hover a region to read it, click a group to pin it"
  });
  let rows = [];
  let builtKey = "";
  function groupRow(g, j, rgb, stability) {
    const img = h(doc, "img", { class: "ng-icon", alt: `Feature visualisation of group ${j}`, hidden: true });
    const placeholder = h(doc, "div", {
      class: "ng-icon ng-icon-placeholder",
      role: "img",
      "aria-label": `Icon of group ${j} not ready yet`
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
        title: `Group ${j}: click to pin`
      },
      [img, placeholder, strip]
    );
    head.style.setProperty("--ng-group-color", cssColor(rgb));
    const usage = h(doc, "div", { class: "ng-gallery-usage", text: `${(g.usage * 100).toFixed(1)}% of use` });
    const said = stabilityText(stability);
    const steady = h(doc, "div", {
      class: "ng-gallery-stability",
      text: said ? `stability ${said}` : "",
      title: said ? `stability ${said}: ${SPLIT_HALF_TEXT}` : null,
      hidden: !said
    });
    const classes = h(doc, "div", { class: "ng-gallery-classes", text: classesText(g) });
    classes.hidden = !classes.textContent;
    const regions = h(
      doc,
      "div",
      { class: "ng-gallery-regions" },
      asArray(g.regions).map((r, i) => regionNode(doc, urls, r, j, i, rgb))
    );
    const row = h(doc, "div", { class: "ng-gallery-group", role: "listitem", "data-group": j }, [
      h(doc, "div", { class: "ng-gallery-head" }, [head, h(doc, "div", { class: "ng-gallery-about" }, [usage, steady, classes])]),
      regions
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
      const steady = groups.map((_, j) => stability.length === groups.length ? stability[j] : NaN);
      const key = JSON.stringify([
        groups.length,
        colors,
        groups.map((g) => [g.usage, g.classes, asArray(g.regions).length]),
        steady.map((v) => Number.isFinite(v) ? v : null)
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
    }
  };
}

// js/src/app/wiring.js
function createWiring() {
  const aborter = new AbortController();
  const undo = [];
  return {
    /**
     * @template {keyof HTMLElementEventMap} K
     * @param {EventTarget} target
     * @param {K} type
     * @param {(e: HTMLElementEventMap[K]) => void} fn
     */
    on(target, type, fn) {
      target.addEventListener(
        type,
        /** @type {EventListener} */
        fn,
        { signal: aborter.signal }
      );
    },
    /**
     * Call `fn(name)` on each change of one of `fields`.
     * @param {WidgetModel} model
     * @param {readonly string[]} fields
     * @param {(name: string) => void} fn
     */
    onModel(model, fields, fn) {
      for (const name of fields) {
        const event = `change:${name}`;
        const cb = () => fn(name);
        model.on(event, cb);
        undo.push(() => model.off(event, cb));
      }
    },
    /**
     * Call `fn` when the class of `el` or of an ancestor changes (the host marks a lost
     * connection there).
     * @param {HTMLElement} el
     * @param {() => void} fn
     */
    onHostClass(el, fn) {
      const observer = new MutationObserver(fn);
      for (let node = (
        /** @type {Element | null} */
        el
      ); node; node = node.parentElement) {
        observer.observe(node, { attributes: true, attributeFilter: ["class"] });
      }
      undo.push(() => observer.disconnect());
    },
    /**
     * Call `fn` when `el` is resized (where the host has a ResizeObserver).
     * @param {Element} el
     * @param {() => void} fn
     */
    onResize(el, fn) {
      if (typeof ResizeObserver === "undefined") return;
      const observer = new ResizeObserver(fn);
      observer.observe(el);
      undo.push(() => observer.disconnect());
    },
    /** @param {() => void} fn called on dispose */
    onDispose(fn) {
      undo.push(fn);
    },
    /** @returns {boolean} whether dispose was called */
    disposed() {
      return aborter.signal.aborted;
    },
    /** Remove every listener and observer. */
    dispose() {
      for (const fn of undo.splice(0)) fn();
      aborter.abort();
    }
  };
}
function coalesce(wiring, fn) {
  let pending = /* @__PURE__ */ new Set();
  return (name) => {
    if (pending.size === 0) {
      queueMicrotask(() => {
        const changed = pending;
        pending = /* @__PURE__ */ new Set();
        if (!wiring.disposed()) fn(changed);
      });
    }
    pending.add(name);
  };
}

// js/src/app/gallery.js
var EXPLAINED_TIP2 = "Share of the layer's activations over all the images that the groups explain (1 - |a - R|² / |a|², R: the groups' reconstruction)";
function createGalleryView(doc, urls) {
  const title = h(doc, "div", { class: "ng-title" });
  const meta = h(doc, "div", { class: "ng-meta" });
  const explained = h(doc, "div", { class: "ng-gallery-explained", title: EXPLAINED_TIP2, hidden: true });
  const error = createErrorBanner(doc);
  const bar = h(doc, "progress", { class: "ng-progress-bar", max: 1, value: 0, "aria-label": "Gallery progress" });
  const text = h(doc, "span", { class: "ng-progress-text" });
  const stop = h(doc, "button", { class: "ng-stop", type: "button", text: "Stop" });
  const progress = h(doc, "div", { class: "ng-progress", hidden: true }, [bar, text, stop]);
  const detail = h(doc, "div", { class: "ng-gallery-detail", "aria-live": "polite", text: "Hover a region to read it." });
  const gallery = createGallery(doc, urls);
  const root = h(
    doc,
    "div",
    { class: "neuron-groups ng-gallery-view", "data-lm-suppress-shortcuts": "true", "data-selected": -1, "data-pinned": -1 },
    [h(doc, "div", { class: "ng-header" }, [title, meta, explained]), error.el, progress, detail, gallery.el]
  );
  return { root, title, meta, explained, error, progress, bar, text, stop, detail, gallery };
}
function createGalleryController(model, g) {
  const offline = model.offline === true;
  let hovered = -1;
  let region = null;
  const pinned = () => {
    const p = Number(model.get("selected_group"));
    return Number.isInteger(p) ? p : -1;
  };
  const groups = () => (
    /** @type {GalleryGroup[]} */
    asArray(model.get("gallery"))
  );
  function highlight() {
    const pin = pinned();
    const shown = hovered >= 0 ? hovered : pin;
    g.root.dataset.selected = String(shown);
    g.root.dataset.pinned = String(pin);
    g.gallery.highlight({ shown, pinned: pin, region });
  }
  return {
    /** Redraw from the model. */
    refresh() {
      const status = asString(model.get("status"));
      g.title.textContent = asString(model.get("title"));
      g.title.hidden = !g.title.textContent;
      const n = Number(model.get("n_images")) || 0;
      g.meta.textContent = [asString(model.get("model_name")), asString(model.get("layer")), `${groups().length} groups over ${n} images`].filter(Boolean).join(" · ");
      const share = asUnit(model.get("explained_variance"));
      g.explained.textContent = Number.isFinite(share) ? `The groups explain ${Math.round(share * 100)}% of the layer over the images` : "";
      g.explained.hidden = !g.explained.textContent;
      g.error.update({ state: { error: asString(model.get("error")) } });
      g.progress.hidden = offline || !(status === "optimizing" || status === "computing");
      const value = Number(model.get("progress")) || 0;
      g.bar.value = value;
      g.bar.setAttribute("aria-valuetext", `${Math.round(value * 100)}%`);
      g.text.textContent = asString(model.get("progress_text"));
      g.root.dataset.status = status;
      g.root.style.setProperty("--ng-icon-size", `${Math.max(16, Number(model.get("icon_size")) || 80)}px`);
      const stability = asArray(model.get("stability")).map(asUnit);
      g.gallery.update(groups(), asArray(model.get("group_colors")), asArray(model.get("icons")), stability);
      highlight();
    },
    /**
     * Show a group (-1: none) and a region (null: none; the detail line keeps the last read).
     * @param {number} j
     * @param {HTMLElement | null} node
     */
    hover(j, node) {
      hovered = j;
      region = node;
      if (node) {
        const r = groups()[Number(node.dataset.group)]?.regions?.[Number(node.dataset.index)];
        if (r) g.detail.textContent = regionText(r);
      }
      highlight();
    },
    /** @param {number} j */
    togglePin(j) {
      model.set("selected_group", pinned() === j ? -1 : j);
      model.save_changes();
    },
    stop() {
      g.stop.disabled = true;
      g.stop.textContent = "Stopping…";
      model.send({ type: "stop" });
    }
  };
}
var regionAt = (t) => t instanceof Element ? (
  /** @type {HTMLElement | null} */
  t.closest(".ng-region")
) : null;
var groupAt = (t) => {
  const row = t instanceof Element ? t.closest(".ng-gallery-group") : null;
  return row instanceof HTMLElement ? Number(row.dataset.group) : -1;
};
function bindGallery({ on }, g, ctl) {
  on(g.gallery.el, "mouseover", (e) => ctl.hover(groupAt(e.target), regionAt(e.target)));
  on(g.gallery.el, "mouseleave", () => ctl.hover(-1, null));
  on(g.gallery.el, "focusin", (e) => ctl.hover(groupAt(e.target), regionAt(e.target)));
  on(g.gallery.el, "click", (e) => {
    const j = groupAt(e.target);
    if (j >= 0 && e.target instanceof Element && e.target.closest(".ng-tile, .ng-region")) ctl.togglePin(j);
  });
  on(g.gallery.el, "keydown", (e) => {
    const j = groupAt(e.target);
    if (j >= 0 && (e.key === "Enter" || e.key === " ")) {
      e.preventDefault();
      ctl.togglePin(j);
    }
  });
  on(g.stop, "click", () => ctl.stop());
}
function renderGallery({ model, el }) {
  const doc = el.ownerDocument || document;
  const urls = new UrlBag();
  const g = createGalleryView(doc, urls);
  const ctl = createGalleryController(model, g);
  const wiring = createWiring();
  bindGallery(wiring, g, ctl);
  wiring.onModel(model, GALLERY_FIELDS, () => ctl.refresh());
  el.append(g.root);
  ctl.refresh();
  return function cleanup() {
    wiring.dispose();
    urls.revokeAll();
    g.root.remove();
  };
}

// js/src/app/render.js
function renderWidget({ model, el }) {
  const doc = el.ownerDocument || document;
  const urls = new UrlBag();
  const v = createView(doc, urls);
  const ctl = createController(model, el, v);
  const wiring = createWiring();
  bindWidget(wiring, model, v, ctl);
  const schedule = coalesce(wiring, (changed) => ctl.refresh(changed, true));
  wiring.onModel(model, FIELDS, schedule);
  wiring.onHostClass(el, () => schedule("connection"));
  wiring.onDispose(() => ctl.dispose());
  el.append(v.root);
  ctl.refresh(new Set(FIELDS));
  return function cleanup() {
    wiring.dispose();
    urls.revokeAll();
    v.root.remove();
  };
}
function render({ model, el }) {
  if (model.get("view") === "gallery") return renderGallery({ model, el });
  return renderWidget({ model, el });
}

// js/src/page.js
var StaticModel = class {
  /**
   * @param {Record<string, any>} [state]
   * @param {Record<string, Record<string, any>>} [variants]
   * @param {{ offline?: boolean }} [options] offline: no kernel stands behind it (a standalone
   *        page), so nothing that needs one (the image picker) is offered
   */
  constructor(state = {}, variants = {}, options = {}) {
    this.state = { ...state };
    this.offline = !!options.offline;
    this.variants = variants || {};
    this.listeners = /* @__PURE__ */ new Map();
    this.sent = [];
    this.buffers = [];
    this.saves = 0;
    this.variantError = "";
  }
  /** @param {string} name */
  get(name) {
    return this.state[name];
  }
  /**
   * @param {string} name
   * @param {any} value
   */
  set(name, value) {
    if (name === "n_groups" && Object.keys(this.variants).length > 0) {
      const variant = this.variants[String(value)];
      if (variant) {
        for (const [k, v] of Object.entries(variant)) if (k !== "n_groups") this.setOne(k, v);
        if (this.variantError && this.state.error === this.variantError) this.setOne("error", "");
        this.variantError = "";
      } else {
        const counts = Object.keys(this.variants).join(", ");
        this.variantError = `No precomputed groups for n_groups=${value} in this page (available: ${counts}).`;
        this.setOne("error", this.variantError);
        return;
      }
    }
    this.setOne(name, value);
  }
  /**
   * @private
   * @param {string} name
   * @param {any} value
   */
  setOne(name, value) {
    const old = this.state[name];
    if (old === value) return;
    this.state[name] = value;
    this.emit(`change:${name}`, this, value);
    this.emit("change", this);
  }
  /**
   * @param {string} events one or more space-separated event names
   * @param {(...args: any[]) => void} cb
   */
  on(events, cb) {
    for (const event of String(events).split(/\s+/).filter(Boolean)) {
      if (!this.listeners.has(event)) this.listeners.set(event, /* @__PURE__ */ new Set());
      const set = (
        /** @type {Set<(...args: any[]) => void>} */
        this.listeners.get(event)
      );
      set.add(cb);
    }
  }
  /**
   * Remove listeners: all (no arguments), of one event, or one callback (of one/all events).
   * @param {string | null} [events]
   * @param {((...args: any[]) => void) | null} [cb]
   */
  off(events, cb) {
    const names = events ? String(events).split(/\s+/).filter(Boolean) : [...this.listeners.keys()];
    for (const event of names) {
      const set = this.listeners.get(event);
      if (!set) continue;
      if (cb) set.delete(cb);
      else set.clear();
      if (set.size === 0) this.listeners.delete(event);
    }
  }
  /**
   * Fire an event (e.g. "msg:custom" for a page that simulates kernel messages).
   * @param {string} event
   * @param {...any} args
   */
  emit(event, ...args) {
    for (const cb of [...this.listeners.get(event) ?? []]) cb(...args);
  }
  /** @returns {number} number of listeners registered (for leak checks) */
  listenerCount() {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }
  save_changes() {
    this.saves += 1;
  }
  /**
   * Record a message (and its binary buffers, in `buffers`).
   * @param {any} msg
   * @param {any} [_callbacks]
   * @param {any[]} [buffers]
   */
  send(msg, _callbacks, buffers) {
    this.sent.push(msg);
    this.buffers.push(buffers ?? []);
  }
};
function mountPage(root, data) {
  try {
    if (!data || typeof data.state !== "object" || data.state === null) {
      throw new TypeError("the page has no widget state");
    }
    const state = reviveBinary(data.state);
    const variants = reviveBinary(data.variants ?? {});
    const current = String(state.n_groups);
    if (Object.keys(variants).length > 0 && !(current in variants)) {
      variants[current] = Object.fromEntries(GROUP_FIELDS.map((k) => [k, state[k]]));
    }
    const model = new StaticModel(state, variants, { offline: true });
    const cleanup = render({ model, el: root });
    root.dataset.ready = "true";
    return { model, cleanup };
  } catch (err) {
    const doc = root.ownerDocument;
    const message = doc.createElement("p");
    message.className = "ng-page-error";
    message.textContent = `The neuron groups could not be shown: ${err}`;
    root.replaceChildren(message);
    throw err;
  }
}

// js/src/index.js
var src_default = { render };
export {
  CLASSES_COLUMN,
  CURVE_MAX_WIDTH,
  CURVE_MIN_WIDTH,
  DEFAULT_THRESHOLD,
  DISAGREEMENT_TEXT,
  FIELDS,
  GALLERY_FIELDS,
  GROUP_FIELDS,
  METHODS,
  REST_TEXT,
  StaticModel,
  attributionColor,
  belowThreshold,
  boxStyle,
  cellAt,
  cellShares,
  chipLabels,
  classFlow,
  classesText,
  columnFlows,
  computeLayers,
  cssColor,
  curveD,
  curvePaths,
  decodeBase64,
  decodeFloat32,
  decodeFlow,
  src_default as default,
  earlierColumns,
  explainedAt,
  explainedText,
  fadeOpacity,
  formatValue,
  groupCounts,
  groupMapPixels,
  groupPeak,
  groupsMode,
  mountPage,
  moveAcrossColumns,
  normalizeFlow,
  offeredMethods,
  readGroupData,
  readState,
  readTable,
  regionText,
  relativeLuminance,
  resolveClass,
  reviveBinary,
  shortImageName,
  shownMethod,
  signColor,
  spotlightLevel,
  stabilityText,
  textColor,
  toBytes,
  toRGB,
  varianceCurve
};
