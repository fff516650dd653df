/* convt explorer: one self-contained page drawing a transposed convolution (PyTorch's ConvTranspose1d/2d/3d).
   The page data (#convt-data) holds convt's step records; a change of parameter recomputes them with
   convtScatter.scatter (scatter.js, inlined before this file). Nothing is ever fetched. */
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("convt-data").textContent);
  const L = D.labels;
  const $ = (id) => document.getElementById(id);
  const {prod, unravel, ravel, ndindex, scatter, ruleError} = convtScatter;
  const PARAMS = ["stride", "padding", "output_padding", "dilation"];

  // ------------------------------------------------------------------------------ numbers
  function fmt(v) {
    if (!Number.isFinite(v)) return Number.isNaN(v) ? "nan" : (v > 0 ? "inf" : "-inf");
    if (state.integer && Number.isInteger(v)) return String(v);
    if (v === 0) return "0";
    let text = v.toFixed(D.precision);
    if (text.includes(".")) text = text.replace(/0+$/, "").replace(/\.$/, "");
    return text === "-0" ? "0" : text;
  }
  const factor = (v) => { const s = fmt(v); return s.startsWith("-") ? `(${s})` : s; };
  const productText = (terms) => terms.map(([a, b]) => `${factor(a)}×${factor(b)}`).join("+");
  const exact = (v) => String(v);

  // ------------------------------------------------------------------------------ state
  const state = {
    x: D.x, w: D.w, params: JSON.parse(JSON.stringify(D.params)), groups: D.groups, bias: D.bias,
    integer: D.integer, co: D.traces[0].co, frame: 0, view: D.view || "scatter", playing: null, error: null,
    traces: new Map(D.traces.map((tr) => [tr.co, tr])), focus: null,
  };
  const nd = D.x.shape.length - 1;
  const S = () => state.x.shape.slice(1), K = () => state.w.shape.slice(2);
  const trace = () => {
    if (!state.traces.has(state.co)) {
      state.traces.set(state.co, scatter(state.x, state.w, state.params, state.groups, state.bias, state.co,
        D.maxSteps));
    }
    return state.traces.get(state.co);
  };

  // Resize an array along its spatial axes (the last nd): values kept where the indices exist, new cells
  // filled with small integers (input 0..9, kernel -1..2) so a larger size has something to draw.
  function resize(arr, spatial, fill) {
    const lead = arr.shape.slice(0, arr.shape.length - nd), old = arr.shape.slice(lead.length);
    const shape = lead.concat(spatial), data = [];
    for (const idx of ndindex(shape)) {
      const sp = idx.slice(lead.length);
      if (sp.every((v, d) => v < old[d])) data.push(arr.data[ravel(idx.slice(0, lead.length).concat(sp), arr.shape)]);
      else data.push(fill(idx));
    }
    return {shape, data};
  }

  // ------------------------------------------------------------------------------ grids
  /* An n-d grid as tables: 1-d one row, 2-d one table, 3-d one table per depth slice. cell(idx) gives
     {text, value, cls, title}; every cell carries data-grid, data-index, data-value and data-exact. */
  function grid(name, shape, cell, opts = {}) {
    const wrap = document.createElement("div");
    wrap.className = "grid-wrap";
    const sp = shape.length === 1 ? [1, 1, shape[0]] : shape.length === 2 ? [1, shape[0], shape[1]] : shape;
    for (let z = 0; z < sp[0]; z++) {
      if (shape.length === 3) {
        const cap = document.createElement("div");
        cap.className = "slice"; cap.textContent = L.depth.replace("{z}", z);
        wrap.appendChild(cap);
      }
      const table = document.createElement("table");
      table.className = "grid " + name;
      if (opts.colLabels) {
        const tr = table.insertRow();
        tr.className = "axis";
        if (shape.length > 1 && opts.rowLabels) tr.insertCell().className = "axis";
        for (const lab of opts.colLabels) { const th = tr.insertCell(); th.className = "axis"; th.textContent = lab; }
      }
      for (let r = 0; r < sp[1]; r++) {
        const tr = table.insertRow();
        if (shape.length > 1 && opts.rowLabels) {
          const th = tr.insertCell(); th.className = "axis"; th.textContent = opts.rowLabels[r];
        }
        for (let c = 0; c < sp[2]; c++) {
          const idx = shape.length === 1 ? [c] : shape.length === 2 ? [r, c] : [z, r, c];
          const info = cell(idx), td = tr.insertCell();
          td.dataset.grid = name; td.dataset.index = idx.join(",");
          if (info.value !== undefined) { td.dataset.value = fmt(info.value); td.dataset.exact = exact(info.value); }
          td.textContent = info.text !== undefined ? info.text : fmt(info.value);
          td.className = "cell " + (info.cls || "");
          if (opts.focusable) td.tabIndex = 0;
          if (info.title) td.title = info.title;
        }
      }
      wrap.appendChild(table);
    }
    return wrap;
  }

  function panel(title, body, note) {
    const sec = document.createElement("section");
    sec.className = "panel";
    const h = document.createElement("h2"); h.textContent = title; sec.appendChild(h);
    sec.appendChild(body);
    if (note) { const p = document.createElement("p"); p.className = "note"; p.textContent = note; sec.appendChild(p); }
    return sec;
  }

  function axisLabels(extent, d, tr) {
    const labels = [];
    for (let c = 0; c < extent[d]; c++) {
      const o = c - state.params.padding[d];
      if (o < 0 || o >= tr.out[d]) labels.push("✂");
      else labels.push(o >= tr.out[d] - state.params.output_padding[d] ? `${o}*` : String(o));
    }
    return labels;
  }
  const outLabels = (tr, d) => Array.from({length: tr.out[d]}, (_, o) =>
    o >= tr.out[d] - state.params.output_padding[d] ? `${o}*` : String(o));
  const labelsFor = (labels) => ({colLabels: labels[labels.length - 1], rowLabels: labels.length > 1 ?
    labels[labels.length - 2] : null});

  // ------------------------------------------------------------------------------ views
  function frames() {
    const tr = trace();
    return state.view === "gather" ? prod(tr.out) : tr.steps.length + 1;
  }

  function drawInputs(stage, tr, current) {
    const nS = prod(S()), xs = state.x, cur = current ? current.index.join(",") : null;
    for (const c of tr.inChannels) {
      const title = tr.inChannels.length > 1 || D.channels ? L.input_channel.replace("{c}", c) : L.input;
      stage.appendChild(panel(title, grid("input", S(), (idx) => {
        const v = xs.data[c * nS + ravel(idx, S())];
        return {value: v, cls: idx.join(",") === cur ? "now" : "", channel: c};
      }, {focusable: true})));
    }
    const nK = prod(K()), cog = state.w.shape[1];
    for (const c of tr.inChannels) {
      const title = tr.inChannels.length > 1 || D.channels ? L.kernel_channel.replace("{c}", c) : L.kernel;
      stage.appendChild(panel(title, grid("kernel", K(), (idx) => {
        const v = state.w.data[(c * cog + state.co % cog) * nK + ravel(idx, K())];
        return {value: v, cls: current ? "now-k" : ""};
      }, {focusable: true})));
    }
  }

  function drawScatter(stage, tr) {
    const f = state.frame, last = f >= tr.steps.length, step = last ? null : tr.steps[f];
    drawInputs(stage, tr, step);
    const values = new Array(prod(tr.extent)).fill(0), shown = new Map();
    if (last) tr.canvas.forEach((v, i) => { values[i] = v; });
    else {
      for (let s = 0; s <= f; s++) for (const wr of tr.steps[s].writes) values[ravel(wr.pos, tr.extent)] = wr.after;
      for (const wr of step.writes) shown.set(wr.pos.join(","), wr);
    }
    const labels = tr.extent.map((_, d) => axisLabels(tr.extent, d, tr));
    const cropped = (idx) => idx.some((v, d) => labels[d][v] === "✂");
    const opCell = (idx) => idx.some((v, d) => labels[d][v].endsWith("*"));
    const title = last ? L.full_canvas.replace("{total}", tr.total) :
      L.canvas_after.replace("{n}", f + 1).replace("{value}", step.value.map(fmt).join(", "))
        .replace("{pos}", step.index.join(","));
    stage.appendChild(panel(title, grid("canvas", tr.extent, (idx) => {
      const wr = shown.get(idx.join(",")), v = values[ravel(idx, tr.extent)];
      let cls = cropped(idx) ? "crop" : opCell(idx) ? "op" : "";
      let text;
      if (wr) {
        cls += wr.ov ? " acc" : " write";
        text = (wr.ov ? fmt(wr.before) + "+" : "") + productText(wr.terms);
      }
      return {value: v, text, cls};
    }, labelsFor(labels)), tr.steps.length < tr.total && last ?
      L.skipped.replace("{n}", tr.steps.length).replace("{total}", tr.total) : null));
  }

  function drawGather(stage, tr) {
    const p = state.params, Sx = S(), Kx = K(), cur = unravel(Math.min(state.frame, prod(tr.out) - 1), tr.out);
    const pb = Kx.map((k, d) => p.dilation[d] * (k - 1) - p.padding[d]);
    const P = tr.out.map((o, d) => o + p.dilation[d] * (Kx[d] - 1));
    const window = new Set();
    for (const tap of ndindex(Kx)) window.add(cur.map((o, d) => o + tap[d] * p.dilation[d]).join(","));
    const nS = prod(Sx);
    for (const c of tr.inChannels) {
      stage.appendChild(panel(L.padded.replace("{c}", c), grid("padded", P, (q) => {
        const z = q.map((v, d) => v - pb[d]);
        const el = z.every((v, d) => v >= 0 && v % p.stride[d] === 0 && v / p.stride[d] < Sx[d]);
        const inside = z.every((v, d) => v >= 0 && v <= (Sx[d] - 1) * p.stride[d]);
        const v = el ? state.x.data[c * nS + ravel(z.map((u, d) => u / p.stride[d]), Sx)] : 0;
        return {value: v, cls: (el ? "el" : inside ? "ins" : "pad") + (window.has(q.join(",")) ? " now" : "")};
      }), L.gather_note.replace("{pb}", pb.join(",")).replace("{s}", p.stride.join(","))));
    }
    const nK = prod(Kx), cog = state.w.shape[1];
    for (const c of tr.inChannels) {
      stage.appendChild(panel(L.rotated.replace("{c}", c), grid("rotated", Kx, (j) => {
        const src = j.map((v, d) => Kx[d] - 1 - v);
        return {value: state.w.data[(c * cog + state.co % cog) * nK + ravel(src, Kx)], cls: "now-k"};
      })));
    }
    state.focus = {grid: "output", index: cur};
  }

  const MATRIX_MAX = 2048;
  function drawMatrix(stage, tr) {
    const p = state.params, Sx = S(), Kx = K(), nS = prod(Sx), nO = prod(tr.out), nK = prod(Kx);
    const cols = tr.inChannels.length * nS;
    if (cols * nO > MATRIX_MAX) {
      stage.appendChild(panel(L.matrix, document.createTextNode(L.matrix_big.replace("{n}", cols * nO)
        .replace("{max}", MATRIX_MAX))));
      return;
    }
    drawInputs(stage, tr, null);
    const table = document.createElement("table"), cog = state.w.shape[1];
    table.className = "grid matrix";
    const head = table.insertRow();
    head.insertCell().className = "axis";
    for (const c of tr.inChannels) for (const i of ndindex(Sx)) {
      const th = head.insertCell(); th.className = "axis"; th.textContent = `x${tr.inChannels.length > 1 ? c + ":" : ""}${i}`;
    }
    const row = state.focus && state.focus.grid === "output" ? state.focus.index.join(",") : null;
    for (const o of ndindex(tr.out)) {
      const tr2 = table.insertRow(), th = tr2.insertCell();
      th.className = "axis"; th.textContent = `y${o}`;
      if (o.join(",") === row) tr2.className = "row-now";
      for (const c of tr.inChannels) for (const i of ndindex(Sx)) {
        const tap = o.map((v, d) => v + p.padding[d] - i[d] * p.stride[d]);
        const ok = tap.every((v, d) => v >= 0 && v % p.dilation[d] === 0 && v / p.dilation[d] < Kx[d]);
        const td = tr2.insertCell();
        const v = ok ? state.w.data[(c * cog + state.co % cog) * nK + ravel(tap.map((v2, d) => v2 / p.dilation[d]), Kx)] : 0;
        td.className = "cell" + (ok ? " nz" : " zero");
        td.textContent = ok ? fmt(v) : "·";
      }
    }
    stage.appendChild(panel(L.matrix_title.replace("{r}", nO).replace("{c}", cols), table, L.matrix_note));
  }

  function drawOutput(stage, tr) {
    const labels = tr.out.map((_, d) => outLabels(tr, d));
    stage.appendChild(panel(state.bias !== null ? L.output_bias.replace("{b}", fmt(state.bias)) : L.output,
      grid("output", tr.out, (idx) => ({value: tr.output[ravel(idx, tr.out)],
        cls: idx.some((v, d) => labels[d][v].endsWith("*")) ? "op" : ""}), {focusable: true, ...labelsFor(labels)})));
  }

  // ------------------------------------------------------------------------------ highlights and sums
  function contributions(o) {
    const p = state.params, Sx = S(), Kx = K(), q = o.map((v, d) => v + p.padding[d]), pairs = [];
    for (const tap of ndindex(Kx)) {
      const r = q.map((v, d) => v - tap[d] * p.dilation[d]);
      if (r.every((v, d) => v >= 0 && v % p.stride[d] === 0 && v / p.stride[d] < Sx[d])) {
        pairs.push({input: r.map((v, d) => v / p.stride[d]), tap});
      }
    }
    return {q, pairs};
  }

  function explainOutput(o) {
    const tr = trace(), {q, pairs} = contributions(o), nS = prod(S()), nK = prod(K()), cog = state.w.shape[1];
    const lines = [], marks = [["canvas", q], ["output", o]];
    let total = 0;
    for (const c of tr.inChannels) {
      const parts = [];
      let sum = 0;
      for (const {input, tap} of pairs) {
        const a = state.x.data[c * nS + ravel(input, S())], b = state.w.data[(c * cog + state.co % cog) * nK + ravel(tap, K())];
        parts.push(`${factor(a)}×${factor(b)}`);
        sum += a * b;
        marks.push(["input", input], ["kernel", tap]);
      }
      total += sum;
      const head = tr.inChannels.length > 1 ? L.channel_sum.replace("{c}", c) + " " : "";
      lines.push(head + (parts.length ? `${parts.join(" + ")} = ${fmt(sum)}` : L.no_pairs));
    }
    const value = tr.output[ravel(o, tr.out)];
    const pairText = pairs.map(({input, tap}) => `x[${input}]·w[${tap}]`).join(" + ") || "0";
    let text = `y[${o}] = ${pairText}\n` + lines.join("\n");
    if (tr.inChannels.length > 1) text += `\n${L.sum_channels} = ${fmt(total)}`;
    if (state.bias !== null) text += `\n+ bias ${fmt(state.bias)}`;
    text += `\n= ${fmt(value)}`;
    return {text, marks};
  }

  function explain(cell) {
    const g = cell.dataset.grid, idx = cell.dataset.index.split(",").map(Number), p = state.params;
    const tr = trace(), marks = [];
    let text = "";
    if (g === "output" || g === "canvas") {
      const o = g === "output" ? idx : idx.map((v, d) => v - p.padding[d]);
      if (o.some((v, d) => v < 0 || v >= tr.out[d])) {
        text = L.cropped_cell;
        marks.push(["canvas", idx]);
      } else {
        const r = explainOutput(o);
        text = r.text; marks.push(...r.marks);
        state.focus = {grid: "output", index: o};
      }
    } else if (g === "input") {
      const cells = [];
      for (const tap of ndindex(K())) {
        const q = idx.map((v, d) => v * p.stride[d] + tap[d] * p.dilation[d]);
        marks.push(["canvas", q]);
        const o = q.map((v, d) => v - p.padding[d]);
        if (o.every((v, d) => v >= 0 && v < tr.out[d])) { marks.push(["output", o]); cells.push(`y[${o}]`); }
      }
      marks.push(["input", idx]);
      text = L.footprint.replace("{i}", idx).replace("{cells}", cells.join(", ") || "—");
    } else if (g === "kernel") {
      const cells = [];
      for (const i of ndindex(S())) {
        const q = i.map((v, d) => v * p.stride[d] + idx[d] * p.dilation[d]);
        marks.push(["canvas", q], ["input", i]);
        const o = q.map((v, d) => v - p.padding[d]);
        if (o.every((v, d) => v >= 0 && v < tr.out[d])) { marks.push(["output", o]); cells.push(`y[${o}]`); }
      }
      marks.push(["kernel", idx]);
      text = L.tap_writes.replace("{j}", idx).replace("{cells}", cells.join(", ") || "—");
    } else return;
    for (const el of document.querySelectorAll(".hl")) el.classList.remove("hl");
    for (const [name, index] of marks) {
      for (const el of document.querySelectorAll(`[data-grid="${name}"][data-index="${index.join(",")}"]`)) {
        el.classList.add("hl");
      }
    }
    $("explain").textContent = text;
    if (state.view === "matrix" && state.focus) {
      for (const row of document.querySelectorAll(".matrix tr")) row.classList.remove("row-now");
      const rows = document.querySelectorAll(".matrix tr");
      const n = ravel(state.focus.index, tr.out) + 1;
      if (rows[n]) rows[n].classList.add("row-now");
    }
  }

  // ------------------------------------------------------------------------------ drawing
  function signature() {
    const p = state.params, k = K(), per = (v) => (v.every((u) => u === v[0]) ? String(v[0]) : `(${v.join(", ")})`);
    const cin = state.x.shape[0], cout = state.w.shape[1] * state.groups;
    const parts = [`${cin}→${cout}`, `kernel_size=${per(k)}`, ...PARAMS.map((n) => `${n}=${per(p[n])}`)];
    if (state.groups !== 1) parts.push(`groups=${state.groups}`);
    return `ConvTranspose${nd}d(${parts.join(", ")})`;
  }

  function draw() {
    const stage = $("stage");
    stage.textContent = "";
    if (state.error) {
      $("error").textContent = state.error; $("error").hidden = false;
      $("signature").textContent = signature(); $("shape").textContent = "";
      $("explain").textContent = "";
      return;
    }
    $("error").hidden = true;
    const tr = trace(), n = frames();
    state.frame = Math.min(state.frame, n - 1);
    const slider = $("step");
    slider.max = String(n - 1); slider.value = String(state.frame);
    $("step-label").textContent = state.view === "gather"
      ? L.gather_step.replace("{n}", state.frame + 1).replace("{total}", n)
      : state.frame >= tr.steps.length ? L.result_step : L.step_of.replace("{n}", state.frame + 1).replace("{total}", tr.total);
    $("signature").textContent = signature();
    $("shape").textContent = L.shapes.replace("{x}", S().join("×")).replace("{k}", K().join("×"))
      .replace("{o}", tr.out.join("×"));
    if (state.view === "scatter") drawScatter(stage, tr);
    else if (state.view === "gather") drawGather(stage, tr);
    else drawMatrix(stage, tr);
    drawOutput(stage, tr);
    if (state.view === "gather" || (state.view === "matrix" && state.focus)) {
      const cell = document.querySelector(`[data-grid="output"][data-index="${state.focus.index.join(",")}"]`);
      if (cell) explain(cell);
    } else if (state.view === "scatter" && state.frame < tr.steps.length) {
      const st = tr.steps[state.frame];
      $("explain").textContent = L.step_text.replace("{n}", state.frame + 1).replace("{pos}", st.index)
        .replace("{value}", st.value.map(fmt).join(", ")).replace("{origin}", st.origin);
    } else $("explain").textContent = L.hover_hint;
  }

  // ------------------------------------------------------------------------------ controls
  const VALID = {stride: [1, 8], padding: [0, 8], output_padding: [0, 7], dilation: [1, 4], kernel_size: [1, 7],
    input_size: [1, 16]};

  function buildControls() {
    const box = $("params");
    const current = {kernel_size: K(), input_size: S(), ...state.params};
    for (const name of [...PARAMS, "kernel_size", "input_size"]) {
      const label = document.createElement("label");
      label.className = "param";
      const span = document.createElement("span"); span.textContent = name; label.appendChild(span);
      for (let d = 0; d < nd; d++) {
        const sel = document.createElement("select");
        sel.name = name; sel.dataset.dim = String(d);
        sel.setAttribute("aria-label", `${name}${nd > 1 ? ` [${d}]` : ""}`);
        const [lo, hi0] = VALID[name], hi = Math.max(hi0, current[name][d]);
        for (let v = lo; v <= hi; v++) { const o = document.createElement("option"); o.value = o.textContent = String(v); sel.appendChild(o); }
        sel.value = String(current[name][d]);
        sel.addEventListener("change", onParam);
        label.appendChild(sel);
      }
      box.appendChild(label);
    }
    limitOptions();
  }

  // output_padding must be smaller than stride or dilation: larger choices are disabled.
  function limitOptions() {
    for (const sel of document.querySelectorAll('select[name="output_padding"]')) {
      const d = Number(sel.dataset.dim), bound = Math.max(state.params.stride[d], state.params.dilation[d]);
      for (const o of sel.options) o.disabled = Number(o.value) >= bound && o.value !== sel.value;
    }
  }

  function readControls() {
    const get = (name) => Array.from(document.querySelectorAll(`select[name="${name}"]`)).map((s) => Number(s.value));
    return {params: Object.fromEntries(PARAMS.map((n) => [n, get(n)])), kernel_size: get("kernel_size"),
      input_size: get("input_size")};
  }

  /* Apply a configuration: parameters, and optionally new input/kernel values (the test hook's way in).
     Everything is recomputed by scatter(); an invalid combination shows PyTorch's rule instead. */
  function apply(cfg) {
    const v = cfg.params;
    if (cfg.x) state.x = cfg.x; else if (cfg.input_size) state.x = resize(state.x, cfg.input_size, (i) => (i.reduce((a, b) => a + b, 0) * 3 + 1) % 10);
    if (cfg.w) state.w = cfg.w; else if (cfg.kernel_size) state.w = resize(state.w, cfg.kernel_size, (i) => (i.reduce((a, b) => a + b, 0) % 4) - 1);
    if (cfg.bias !== undefined) state.bias = cfg.bias;
    if (cfg.groups !== undefined) state.groups = cfg.groups;
    if (cfg.co !== undefined) state.co = cfg.co;
    if (cfg.integer !== undefined) state.integer = cfg.integer;
    state.params = v;
    syncControls();
    state.traces = new Map();
    state.error = ruleError(S(), K(), v);
    state.focus = null;
    limitOptions();
    draw();
  }

  // The controls show the configuration in force (a value outside a control's range becomes an option).
  function syncControls() {
    const current = {kernel_size: K(), input_size: S(), ...state.params};
    for (const sel of document.querySelectorAll("#params select")) {
      const v = String(current[sel.name][Number(sel.dataset.dim)]);
      if (!Array.from(sel.options).some((o) => o.value === v)) {
        const o = document.createElement("option"); o.value = o.textContent = v; sel.appendChild(o);
      }
      sel.value = v;
    }
  }

  function onParam() { const c = readControls(); apply({params: c.params, input_size: c.input_size, kernel_size: c.kernel_size}); }

  function go(f) { state.frame = Math.max(0, Math.min(frames() - 1, f)); state.focus = state.view === "gather" ? null : state.focus; draw(); }

  function play(on) {
    if (state.playing) { clearInterval(state.playing); state.playing = null; }
    if (on && !state.error) {
      if (state.frame >= frames() - 1) go(0);  // from the end, play starts again
      state.playing = setInterval(() => {
        go(state.frame + 1);
        if (state.error || state.frame >= frames() - 1) play(false);
      }, 900);
    }
    $("play").textContent = state.playing ? L.pause : L.play;
    $("play").setAttribute("aria-pressed", state.playing ? "true" : "false");
  }

  function init() {
    document.documentElement.lang = D.lang === "zh" ? "zh" : "en";
    for (const el of document.querySelectorAll("[data-label]")) el.textContent = L[el.dataset.label];
    if (D.note) { $("note").textContent = D.note; $("note").hidden = false; }
    buildControls();
    const chan = $("out_channel"), cout = state.w.shape[1] * state.groups;
    for (let c = 0; c < cout; c++) { const o = document.createElement("option"); o.value = o.textContent = String(c); chan.appendChild(o); }
    chan.value = String(state.co);
    $("channel-box").hidden = cout === 1;
    $("view").value = state.view;
    chan.addEventListener("change", () => { state.co = Number(chan.value); state.focus = null; draw(); });
    $("view").addEventListener("change", (e) => { state.view = e.target.value; state.frame = 0; state.focus = null; draw(); });
    $("prev").addEventListener("click", () => go(state.frame - 1));
    $("next").addEventListener("click", () => go(state.frame + 1));
    $("play").addEventListener("click", () => play(!state.playing));
    $("step").addEventListener("input", (e) => go(Number(e.target.value)));
    $("theme").addEventListener("click", () => {
      const root = document.documentElement, dark = root.dataset.theme ? root.dataset.theme === "dark"
        : matchMedia("(prefers-color-scheme: dark)").matches;
      root.dataset.theme = dark ? "light" : "dark";
    });
    const stage = $("stage");
    for (const type of ["mouseover", "focusin", "click"]) {
      stage.addEventListener(type, (e) => {
        const cell = e.target.closest && e.target.closest("[data-grid]");
        if (cell && ["input", "kernel", "canvas", "output"].includes(cell.dataset.grid)) explain(cell);
      });
    }
    document.addEventListener("keydown", (e) => {
      if (e.target.closest && e.target.closest("select, input, button")) return;
      if (e.key === "ArrowRight") { go(state.frame + 1); e.preventDefault(); }
      if (e.key === "ArrowLeft") { go(state.frame - 1); e.preventDefault(); }
    });
    draw();
  }

  // For black-box tests and notebooks: the page's own entry points (no second computation).
  window.convtExplorer = {
    apply: (cfg) => { apply(cfg); return state.error; },
    scatter,
    embedded: () => D.traces,
    state: () => ({params: state.params, x: state.x, w: state.w, co: state.co, frame: state.frame, error: state.error}),
  };
  init();
})();
