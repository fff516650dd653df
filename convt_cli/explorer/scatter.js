/* The scatter of a transposed convolution, as the engine's literal scatter does it, and PyTorch's rules for
   the parameters: the explorer's second implementation, checked against the engine in a real browser. */
"use strict";
const convtScatter = (function () {
  const prod = (a) => a.reduce((p, v) => p * v, 1);

  function unravel(flat, shape) {
    const idx = new Array(shape.length);
    for (let d = shape.length - 1; d >= 0; d--) { idx[d] = flat % shape[d]; flat = Math.floor(flat / shape[d]); }
    return idx;
  }
  function ravel(idx, shape) { let f = 0; for (let d = 0; d < shape.length; d++) f = f * shape[d] + idx[d]; return f; }
  function* ndindex(shape) { const n = prod(shape); for (let f = 0; f < n; f++) yield unravel(f, shape); }

  // ------------------------------------------------------------------------------ the scatter
  /* x: {shape: [C_in, ...S], data}, w: {shape: [C_in, C_out/groups, ...k], data}; output channel co.
     Every input position (row-major) adds value × kernel at origin = index·stride, tap j at origin + j·dilation;
     the first maxSteps positions are recorded as steps. The output is the canvas cropped by padding (+ bias). */
  function scatter(x, w, p, groups, bias, co, maxSteps) {
    const S = x.shape.slice(1), K = w.shape.slice(2), cin = x.shape[0], cog = w.shape[1], cig = cin / groups;
    const g = Math.floor(co / cog), chans = [];
    for (let c = g * cig; c < (g + 1) * cig; c++) chans.push(c);
    const full = S.map((n, d) => (n - 1) * p.stride[d] + p.dilation[d] * (K[d] - 1) + 1);
    const out = full.map((f, d) => f - 2 * p.padding[d] + p.output_padding[d]);
    const extent = full.map((f, d) => Math.max(f, p.padding[d] + out[d]));
    const canvas = new Array(prod(extent)).fill(0), counts = new Array(prod(extent)).fill(0);
    const steps = [], nS = prod(S), nK = prod(K);
    for (let s = 0; s < nS; s++) {
      const index = unravel(s, S), origin = index.map((i, d) => i * p.stride[d]), writes = [];
      for (let t = 0; t < nK; t++) {
        const tap = unravel(t, K), pos = origin.map((o, d) => o + tap[d] * p.dilation[d]), q = ravel(pos, extent);
        const terms = chans.map((c) => [x.data[c * nS + s], w.data[(c * cog + co % cog) * nK + t]]);
        let contribution = 0;
        for (const [a, b] of terms) contribution += a * b;
        const before = canvas[q];
        canvas[q] += contribution;
        if (s < maxSteps) writes.push({pos, tap, terms, c: contribution, before, after: canvas[q], ov: counts[q] > 0});
        counts[q] += 1;
      }
      if (s < maxSteps) steps.push({index, value: chans.map((c) => x.data[c * nS + s]), origin, writes});
    }
    const output = [];
    for (const o of ndindex(out)) output.push(canvas[ravel(o.map((v, d) => v + p.padding[d]), extent)] + (bias || 0));
    return {co, inChannels: chans, total: nS, steps, canvas, counts, extent, out, output};
  }

  // ------------------------------------------------------------------------------ PyTorch's rules
  function ruleError(S, K, p) {
    const nd = S.length, names = {1: ["width"], 2: ["height", "width"], 3: ["depth", "height", "width"]}[nd];
    for (let d = 0; d < nd; d++) {
      if (p.output_padding[d] >= p.stride[d] && p.output_padding[d] >= p.dilation[d]) {
        const part = (key) => names.map((n, i) => `${key}_${n}: ${p[key][i]}`).join(" ");
        return "output padding must be smaller than either stride or dilation, but got " +
          `${part("output_padding")} ${part("stride")} ${part("dilation")}`;
      }
    }
    const out = S.map((n, d) => (n - 1) * p.stride[d] - 2 * p.padding[d] + p.dilation[d] * (K[d] - 1) +
      p.output_padding[d] + 1);
    if (out.some((o) => o <= 0)) {
      return `Given input size per channel: (${S.join(" x ")}). Calculated output size per channel: ` +
        `(${out.join(" x ")}). Output size is too small`;
    }
    return null;
  }

  return {prod, unravel, ravel, ndindex, scatter, ruleError};
})();
