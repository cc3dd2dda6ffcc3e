/**
 * Where the int8 rows' kernel time goes (issue 12), measured: the kernel floor in ONNX Runtime Web, or WASM's?
 * A 135M q8 step's weight matmuls take 3.5x native's time in ORT-web (`kernel_ratio` 0.29), and its npm build has
 * no relaxed-SIMD instruction (docs/performance.md). A GEMV of our own (tools/wasm/int8-gemv.ts) runs the same
 * work — the step's exact weight shapes, in the model's order, 1 byte a weight, one activation row — in the same
 * browser at one thread, in four builds: plain 128-bit SIMD (the instructions ORT-web's build has), relaxed SIMD
 * exact on 8-bit activations (two dots), relaxed SIMD on 7-bit activations (one dot), and a bare read of the
 * same bytes (the memory floor). Beside them, the model's own kernel graph (kernel.mjs) in ORT-web and
 * onnxruntime-node at one thread. Each build's output is first checked against exact integer sums in the
 * page; a build that disagrees is reported in `wrong`, not timed. The GEMV is a measuring stick, not an engine:
 * ORT-web takes no custom kernels, so the app cannot run it inside a session (docs/performance.md says what
 * would).
 */
import { median } from '../../src/metrics/stats.ts';
import { compile } from '../../tools/wasm/build.mjs';

const r2 = (x) => Math.round(x * 100) / 100;
const r3 = (x) => Math.round(x * 1000) / 1000;

/**
 * One decode step's weight matmuls as [K, N] in the model's order (a Llama/Qwen2 decoder from its config.json:
 * per layer q, k, v, o, gate, up, down; then the tied LM head), as tools/slm/kernel_graph.py keeps them.
 */
export function stepShapes(config) {
  const h = config.hidden_size;
  const hd = config.head_dim ?? h / config.num_attention_heads;
  const q = config.num_attention_heads * hd;
  const kv = config.num_key_value_heads * hd;
  const inter = config.intermediate_size;
  const layer = [[h, q], [h, kv], [h, kv], [q, h], [h, inter], [h, inter], [inter, h]];
  return [...Array.from({ length: config.num_hidden_layers }, () => layer).flat(), [h, config.vocab_size]];
}

/** Runs in the page: see the module comment. Returns each variant's ms a step by round, or why not. */
async function pageProbe({ b64, shapes, warmupMs, runs, rounds }) {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  if (!WebAssembly.validate(bytes)) return { supported: false };
  const { instance } = await WebAssembly.instantiate(bytes, {});
  const e = instance.exports;
  const maxK = Math.max(...shapes.map(([k]) => k));
  const maxN = Math.max(...shapes.map(([, n]) => n));
  const offsets = [];
  let at = 64 * 1024;
  for (const [k, n] of shapes) {
    offsets.push(at);
    at += k * n;
  }
  const X16 = at, LO = X16 + 2 * maxK, HI = LO + maxK, OUT = HI + maxK, END = OUT + 4 * maxN;
  e.memory.grow(Math.ceil(END / 65536) - e.memory.buffer.byteLength / 65536);
  const mem = () => e.memory.buffer;
  for (let p = offsets[0]; p < X16; p += 65536) crypto.getRandomValues(new Uint8Array(mem(), p, Math.min(65536, X16 - p)));
  const a = new Uint8Array(maxK);
  crypto.getRandomValues(a);
  const x16 = new Int16Array(mem(), X16, maxK), lo = new Uint8Array(mem(), LO, maxK), hi = new Uint8Array(mem(), HI, maxK);
  for (let k = 0; k < maxK; k++) {
    x16[k] = a[k];
    lo[k] = a[k] & 127;
    hi[k] = a[k] >> 7;
  }
  const variants = {
    s16: (w, n, k) => e.gemvS16(w, X16, OUT, n, k),
    relaxed: (w, n, k) => e.gemvRelaxed(w, LO, HI, OUT, n, k),
    relaxed7: (w, n, k) => e.gemvRelaxed7(w, LO, OUT, n, k),
    // The sum is written where row 0 goes, so that the exactness check below reads it.
    stream: (w, n, k) => {
      new Int32Array(mem(), OUT, 1)[0] = e.stream(w, n * k);
    },
  };
  // Exactness: the first 8 and last 4 rows of every distinct shape, against plain integer sums (relaxed7's on a & 127).
  const wrong = {};
  const seen = new Set();
  shapes.forEach(([k, n], i) => {
    if (seen.has(`${k}x${n}`)) return;
    seen.add(`${k}x${n}`);
    const w8 = new Int8Array(mem(), offsets[i], k * n);
    for (const [name, run] of Object.entries(variants)) {
      run(offsets[i], n, k);
      const out = new Int32Array(mem(), OUT, n);
      if (name === 'stream') {
        // The bare read adds the bytes up as int32 words (four lanes a vector, wrapping): their sum, in int32.
        const words = new Int32Array(mem(), offsets[i], (k * n) / 4);
        let want = 0;
        for (const x of words) want = (want + x) | 0;
        if (out[0] !== want) wrong.stream ??= `${k}x${n}: ${out[0]}, not ${want}`;
        continue;
      }
      for (const row of [0, 1, 2, 3, 4, 5, 6, 7, n - 4, n - 3, n - 2, n - 1]) {
        let want = 0;
        for (let j = 0; j < k; j++) want += w8[row * k + j] * (name === 'relaxed7' ? a[j] & 127 : a[j]);
        if (out[row] !== want) wrong[name] ??= `${k}x${n} row ${row}: ${out[row]}, not ${want}`;
      }
    }
  });
  const step = (run) => {
    for (let i = 0; i < shapes.length; i++) run(offsets[i], shapes[i][1], shapes[i][0]);
  };
  const ms = {};
  const names = Object.keys(variants).filter((n) => !wrong[n]);
  for (const name of names) {
    ms[name] = [];
    const until = performance.now() + warmupMs;
    while (performance.now() < until) step(variants[name]);
  }
  for (let r = 0; r < rounds; r++) {
    // The order turns each round, so no variant always runs first (or right after the largest).
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + r) % names.length];
      const t = [];
      for (let j = 0; j < runs; j++) {
        const t0 = performance.now();
        step(variants[name]);
        t.push(performance.now() - t0);
      }
      t.sort((x, y) => x - y);
      ms[name].push(t[t.length >> 1]);
    }
  }
  return { supported: true, weight_mb: (X16 - offsets[0]) / 1e6, ms, wrong };
}

/**
 * The probe for one model `config`, in a fresh page of `browser`: `{ supported, matmuls, weight_mb, s16_ms, relaxed_ms,
 * relaxed7_ms, stream_ms (each a median a round), relaxed_over_s16, relaxed7_over_s16, s16_over_stream, wrong }`
 * (ratios: s16's time ÷ the other's, paired by round, medians; over 1 = the other is faster). Shapes need K a
 * multiple of 32 and N even (every scale shape's are).
 */
export async function relaxedSimdProbe({ browser, config, warmupMs = 1500, runs = 20, rounds = 3 }) {
  const shapes = stepShapes(config);
  const odd = shapes.find(([k, n]) => k % 32 || n % 2);
  if (odd) throw new Error(`the int8 GEMV probe takes K a multiple of 32 and N even, not ${odd[0]}x${odd[1]}`);
  const wasm = await compile('int8-gemv.ts', 'simd,relaxed-simd');
  const page = await browser.newPage();
  try {
    await page.goto('about:blank');
    const res = await page.evaluate(pageProbe, { b64: Buffer.from(wasm).toString('base64'), shapes, warmupMs, runs, rounds });
    if (!res.supported) return { supported: false };
    const ms = (name) => (res.ms[name] ?? []).map(r3);
    const overS16 = (name) => (res.ms[name] && res.ms.s16 ? r2(median(res.ms.s16.map((s, i) => s / res.ms[name][i]))) : null);
    return {
      supported: true,
      matmuls: shapes.length,
      weight_mb: r2(res.weight_mb),
      s16_ms: ms('s16'),
      relaxed_ms: ms('relaxed'),
      relaxed7_ms: ms('relaxed7'),
      stream_ms: ms('stream'),
      relaxed_over_s16: overS16('relaxed'),
      relaxed7_over_s16: overS16('relaxed7'),
      s16_over_stream: overS16('stream') === null ? null : r2(1 / overS16('stream')),
      wrong: res.wrong,
    };
  } finally {
    await page.close();
  }
}

/**
 * The probe for a scale row's model, beside the model's own kernel graph in ORT-web and onnxruntime-node at the
 * probe's one thread (`kernelAt1`: kernel.mjs's kernelRatio, paired between those two; the probe runs right
 * after, in a page of its own): `{ int8_gemv: { …probe, ort_web_1t_ms, native_1t_ms, kernel_ratio_1t,
 * gemv_kernel_ratio_1t, ort_web_over_gemv, relaxed_over_native } }`. `gemv_kernel_ratio_1t` = native ÷ the
 * plain-SIMD GEMV: what `kernel_ratio` reads with a kernel made for one row and the instructions ORT-web's build
 * has; `ort_web_over_gemv` > 1: ORT-web's kernel takes that many times the GEMV's time on the same bytes.
 */
export async function int8GemvFields({ browser, config, kernelAt1 }) {
  const kernel = await kernelAt1();
  const probe = await relaxedSimdProbe({ browser, config });
  const mid = (v) => (v?.length ? median(v) : null);
  const web = mid(kernel.kernel_web_ms);
  const node = mid(kernel.kernel_node_ms);
  const s16 = mid(probe.s16_ms);
  const relaxed = mid(probe.relaxed_ms);
  return {
    int8_gemv: {
      ...probe,
      ort_web_1t_ms: web === null ? null : r3(web),
      native_1t_ms: node === null ? null : r3(node),
      kernel_ratio_1t: kernel.kernel_ratio == null ? null : r2(kernel.kernel_ratio),
      gemv_kernel_ratio_1t: node && s16 ? r2(node / s16) : null,
      ort_web_over_gemv: web && s16 ? r2(web / s16) : null,
      relaxed_over_native: node && relaxed ? r2(node / relaxed) : null,
    },
  };
}
