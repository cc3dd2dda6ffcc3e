/**
 * The int8 rows' next lever, tried (issue 12): a decode step of our own. relaxed-simd.mjs found that a
 * plain-SIMD GEMV runs a step's int8 matmuls at native speed in the browser while ONNX Runtime Web's QGEMM
 * takes 4-5x as long (it repacks the weights every run). ORT-web takes no custom kernels, so using the GEMV
 * means running the whole step outside it. This probe does, for a q8 Llama export of tools/slm (the 135M
 * scale row): the GEMV (tools/wasm/int8-gemv.ts, plain SIMD, exact) for every projection and the LM head,
 * grouped-query attention over its own KV cache in WebAssembly SIMD (`attend`, the same module), and RMSNorm,
 * rotary positions, SiLU and ONNX's DynamicQuantizeLinear → MatMulInteger → Cast → Mul semantics in plain
 * JavaScript, f32 (Math.fround). The weights come from the model file (tools/slm/step_weights.py), served by
 * the bench host. Measured against onnxruntime-node on the same file, both one token a run at one thread,
 * greedy, in chunks of steps taken in turn: the tokens compared, each side's ms a step, their ratio paired. A measuring stick for an engine, not the engine:
 * prompt tokens go one at a time, one thread, tools/slm's Llama layout only (docs/performance.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as ort from 'onnxruntime-node';
import { MIRROR_ORG } from '../../tests/e2e/model-host.ts';
import { median } from '../../src/metrics/stats.ts';
import { python } from '../models-scale.ts';
import { compile } from '../../tools/wasm/build.mjs';
import { openHarness } from './browser.mjs';

const r2 = (x) => Math.round(x * 100) / 100;
const r4 = (x) => Math.round(x * 1e4) / 1e4;

/**
 * Runs in the page: the own step over `prompt`, then `globalThis.ownStep.run(n)` gives the next n greedy tokens
 * `{ tokens, ms, gemvMs, margins }` (a margin: the best logit over the second best). Room for `steps` of them.
 * Returns the prompt's greedy token and its margin.
 */
async function pageOpen({ b64, url, man, cfg, prompt, steps }) {
  const { instance } = await WebAssembly.instantiate(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)), {});
  const e = instance.exports;
  const BASE = 65536;
  const h = cfg.hidden_size, H = cfg.num_attention_heads, KVH = cfg.num_key_value_heads, hd = cfg.head_dim ?? h / H;
  const inter = cfg.intermediate_size, V = cfg.vocab_size, L = man.layers.length;
  const maxT = prompt.length + steps + 1, kvRow = KVH * hd;
  // After the weights: the GEMV's activation and output, then the attention's q, output, scores and each layer's K and V.
  const X16 = BASE + Math.ceil(man.bytes / 16) * 16, OUT = X16 + 2 * Math.max(h, inter, H * hd), Q = OUT + 4 * V;
  const ATT = Q + 4 * H * hd, SCORES = ATT + 4 * H * hd, KV = SCORES + 4 * Math.ceil(maxT / 4) * 4, END = KV + 2 * L * maxT * kvRow * 4;
  e.memory.grow(Math.ceil(END / 65536) - e.memory.buffer.byteLength / 65536);
  const res = await fetch(url);
  if (!res.ok) throw new Error(`step weights: HTTP ${res.status}`);
  new Uint8Array(e.memory.buffer, BASE, man.bytes).set(new Uint8Array(await res.arrayBuffer()));
  const M = e.memory.buffer;
  const f32 = (off, n) => new Float32Array(M, BASE + off, n);
  const x16 = new Int16Array(M, X16, (OUT - X16) / 2), acc = new Int32Array(M, OUT, V);
  const fr = Math.fround;
  // Round half to even, as ONNX's quantizers do.
  const rhe = (x) => {
    const r = Math.round(x);
    return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
  };
  let gemvMs = 0;
  // DynamicQuantizeLinear (uint8, one scale for the row) → MatMulInteger → Cast → Mul(A_scale · W_scale), ORT's order.
  function mm(x, m, y) {
    const { K, N } = m;
    let lo = 0, hi = 0;
    for (let i = 0; i < K; i++) {
      if (x[i] < lo) lo = x[i];
      if (x[i] > hi) hi = x[i];
    }
    const scale = hi === lo ? 1 : fr(fr(hi - lo) / 255);
    const zp = rhe(Math.max(0, Math.min(255, fr(0 - fr(lo / scale)))));
    for (let i = 0; i < K; i++) x16[i] = Math.max(0, Math.min(255, rhe(fr(x[i] / scale)) + zp));
    const t0 = performance.now();
    e.gemvS16(BASE + m.w, X16, OUT, N, K);
    gemvMs += performance.now() - t0;
    const ws = f32(m.scale, N), rs = new Int32Array(M, BASE + m.rowsum, N);
    for (let n = 0; n < N; n++) y[n] = fr(fr(acc[n] - zp * rs[n]) * fr(scale * ws[n]));
  }
  const eps = cfg.rms_norm_eps;
  function rms(x, wOff, y) {
    const w = f32(wOff, h);
    let s = 0;
    for (let i = 0; i < h; i++) s = fr(s + fr(x[i] * x[i]));
    const inv = fr(1 / fr(Math.sqrt(fr(fr(s / h) + eps))));
    for (let i = 0; i < h; i++) y[i] = fr(fr(x[i] * inv) * w[i]);
  }
  const invFreq = Float32Array.from(man.inv_freq);
  function rope(v, heads, pos) {
    const half = hd / 2;
    for (let j = 0; j < half; j++) {
      const f = fr(pos * invFreq[j]), c = fr(Math.cos(f)), s = fr(Math.sin(f));
      for (let k = 0; k < heads; k++) {
        const o = k * hd, a = v[o + j], b = v[o + j + half];
        v[o + j] = fr(fr(a * c) - fr(b * s));
        v[o + j + half] = fr(fr(b * c) + fr(a * s));
      }
    }
  }
  const qScale = fr(1 / Math.sqrt(hd)), layerKv = maxT * kvRow * 4;
  const keyAt = (l) => KV + 2 * l * layerKv, valueAt = (l) => keyAt(l) + layerKv;
  const keys = man.layers.map((_, l) => new Float32Array(M, keyAt(l), maxT * kvRow)), values = man.layers.map((_, l) => new Float32Array(M, valueAt(l), maxT * kvRow));
  const x = new Float32Array(h), t = new Float32Array(h), q = new Float32Array(M, Q, H * hd), k = new Float32Array(kvRow), v = new Float32Array(kvRow);
  const att = new Float32Array(M, ATT, H * hd), o = new Float32Array(h), g = new Float32Array(inter), u = new Float32Array(inter), d = new Float32Array(h);
  const logits = new Float32Array(V), emb = f32(man.embed, V * h);
  // In WebAssembly SIMD (tools/wasm/int8-gemv.ts `attend`): in scalar JavaScript it was half a step by position 126.
  const attend = (l, pos) => e.attend(Q, keyAt(l), valueAt(l), ATT, SCORES, pos, H, KVH, hd, qScale);
  function step(token, pos) {
    x.set(emb.subarray(token * h, token * h + h));
    for (let l = 0; l < L; l++) {
      const ly = man.layers[l];
      rms(x, ly.ln1, t);
      mm(t, ly.q, q);
      mm(t, ly.k, k);
      mm(t, ly.v, v);
      rope(q, H, pos);
      rope(k, KVH, pos);
      keys[l].set(k, pos * kvRow);
      values[l].set(v, pos * kvRow);
      attend(l, pos);
      mm(att, ly.o, o);
      for (let i = 0; i < h; i++) x[i] = fr(x[i] + o[i]);
      rms(x, ly.ln2, t);
      mm(t, ly.gate, g);
      mm(t, ly.up, u);
      for (let i = 0; i < inter; i++) g[i] = fr(fr(g[i] * fr(1 / fr(1 + fr(Math.exp(-g[i]))))) * u[i]);
      mm(g, ly.down, d);
      for (let i = 0; i < h; i++) x[i] = fr(x[i] + d[i]);
    }
    rms(x, man.norm, t);
    mm(t, man.head, logits);
    let best = 0;
    for (let i = 1; i < V; i++) if (logits[i] > logits[best]) best = i;
    let second = -Infinity;
    for (let i = 0; i < V; i++) if (i !== best && logits[i] > second) second = logits[i];
    margins.push(logits[best] - second);
    return best;
  }
  let pos = 0, next = 0;
  const margins = [];
  for (const token of prompt) next = step(token, pos++);
  margins.splice(0, margins.length - 1);
  // The next `n` greedy tokens, from where the last call stopped (the side's own sequence).
  globalThis.ownStep = {
    first: next,
    run(n) {
      const tokens = [], ms = [], gemv = [], from = margins.length;
      for (let s = 0; s < n; s++) {
        gemvMs = 0;
        const t0 = performance.now();
        next = step(next, pos++);
        ms.push(performance.now() - t0);
        gemv.push(gemvMs);
        tokens.push(next);
      }
      return { tokens, ms, gemvMs: gemv, margins: margins.slice(from) };
    },
  };
  return { first: next, margin: margins[0] };
}

/**
 * onnxruntime-node on the model file, one token a run (the own step's quantization: a row a run), greedy, at
 * `threads`: after `prompt`, `{ first, margin, run(n), release() }` as the page's side.
 */
async function openNative({ file, cfg, prompt, threads }) {
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: threads, interOpNumThreads: 1 });
  const L = cfg.num_hidden_layers, KVH = cfg.num_key_value_heads, hd = cfg.head_dim ?? cfg.hidden_size / cfg.num_attention_heads;
  let past = {};
  for (let l = 0; l < L; l++) for (const kv of ['key', 'value']) past[`past_key_values.${l}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [1, KVH, 0, hd]);
  let pos = 0;
  const step = async (token) => {
    const ids = (v, n = 1) => new ort.Tensor('int64', new BigInt64Array(n).fill(BigInt(v)), [1, n]);
    const r = await session.run({ input_ids: ids(token), attention_mask: ids(1, pos + 1), position_ids: ids(pos), ...past });
    past = {};
    for (let l = 0; l < L; l++) for (const kv of ['key', 'value']) past[`past_key_values.${l}.${kv}`] = r[`present.${l}.${kv}`];
    pos++;
    const lg = r.logits.data;
    let best = 0;
    for (let i = 1; i < lg.length; i++) if (lg[i] > lg[best]) best = i;
    let second = -Infinity;
    for (let i = 0; i < lg.length; i++) if (i !== best && lg[i] > second) second = lg[i];
    return { best, margin: lg[best] - second };
  };
  let last;
  try {
    for (const token of prompt) last = await step(token);
  } catch (e) {
    await session.release();
    throw e;
  }
  let next = last.best;
  return {
    first: next,
    margin: last.margin,
    async run(n) {
      const tokens = [], ms = [], margins = [];
      for (let s = 0; s < n; s++) {
        const t0 = performance.now();
        const r = await step(next);
        ms.push(performance.now() - t0);
        next = r.best;
        tokens.push(next);
        margins.push(r.margin);
      }
      return { tokens, ms, margins };
    },
    release: () => session.release(),
  };
}

/** Greedy steps a side runs before the other takes its turn (own-step chunks, taken in turn). */
const OWN_STEP_CHUNK = 6;

/** Token ids every model's vocabulary has (the CI shape's too): a fixed prompt, so runs compare. */
export const OWN_STEP_PROMPT = [1, 100, 200, 300, 400, 500];

/**
 * `model` ({ name, dir }, a tools/slm q8 Llama export with `onnx/model_quantized.onnx`), served by `host` from `root`
 * (kernel.mjs startBenchHost): `{ own_step_tps, native_1t_tps, own_over_native_1t, own_gemv_share, same_tokens,
 * first_difference, margin_at_difference, native_margin_min, tokens, own_ms, native_ms, own_over_native_1t_chunks }`
 * over `steps` generated tokens after OWN_STEP_PROMPT (ms: medians past the first 2; the ratio paired by chunk).
 */
export async function ownStep({ browser, base, host, root, model, steps = 24 }) {
  const cfg = JSON.parse(fs.readFileSync(path.join(model.dir, 'config.json'), 'utf8'));
  const file = path.join(model.dir, 'onnx', 'model_quantized.onnx');
  const dir = path.join(root, MIRROR_ORG, `own-step-${model.name}`);
  fs.mkdirSync(dir, { recursive: true });
  const out = path.join(dir, 'step.bin');
  try {
    const r = spawnSync(python(), ['tools/slm/step_weights.py', file, path.join(model.dir, 'config.json'), out], { encoding: 'utf8', maxBuffer: 1 << 24 });
    // Its own refusals start "step_weights.py: "; anything else is the tail of a traceback or the spawn's error.
    if (r.status !== 0) throw new Error((r.stderr ?? '').trim().split('\n').at(-1) || `step_weights.py did not run: ${r.error?.message}`);
    const man = JSON.parse(r.stdout);
    const wasm = await compile('int8-gemv.ts', 'simd,relaxed-simd');
    const { context, page } = await openHarness(browser, base);
    const native = await openNative({ file, cfg, prompt: OWN_STEP_PROMPT, threads: 1 });
    // Both sides' greedy runs, in chunks taken in turn (A B, B A, …): native's one-thread speed swung 62-115 tok/s
    // between sittings minutes apart (2026-12-04), so only a ratio of chunks side by side places the two.
    const own = { tokens: [], ms: [], gemvMs: [], margins: [] };
    const nat = { tokens: [], ms: [], margins: [] };
    const ratios = [];
    try {
      const url = `${host.url}${MIRROR_ORG}/own-step-${model.name}/resolve/main/step.bin`;
      const opened = await page.evaluate(pageOpen, { b64: Buffer.from(wasm).toString('base64'), url, man, cfg, prompt: OWN_STEP_PROMPT, steps });
      own.tokens.push(opened.first);
      own.margins.push(opened.margin);
      nat.tokens.push(native.first);
      nat.margins.push(native.margin);
      const chunks = Math.max(2, Math.round(steps / OWN_STEP_CHUNK));
      for (let c = 0; c < chunks; c++) {
        const n = Math.round(((c + 1) * steps) / chunks) - Math.round((c * steps) / chunks);
        const halves = {
          own: async () => page.evaluate((k) => globalThis.ownStep.run(k), n),
          native: async () => native.run(n),
        };
        const got = {};
        for (const side of c % 2 ? ['native', 'own'] : ['own', 'native']) got[side] = await halves[side]();
        for (const k of Object.keys(own)) own[k].push(...got.own[k]);
        for (const k of Object.keys(nat)) nat[k].push(...got.native[k]);
        // The first chunk's first 2 steps are warm-up on both sides.
        const skip = c === 0 ? 2 : 0;
        ratios.push(median(got.native.ms.slice(skip)) / median(got.own.ms.slice(skip)));
      }
    } finally {
      await native.release();
      await context.close();
    }
    const ownMs = median(own.ms.slice(2));
    const nativeMs = median(nat.ms.slice(2));
    return {
      own_step_tps: r2(1000 / ownMs),
      native_1t_tps: r2(1000 / nativeMs),
      // Paired: the median over chunks of native's ms ÷ own's in the same chunk pair.
      own_over_native_1t: r2(median(ratios)),
      own_over_native_1t_chunks: ratios.map(r2),
      // The GEMV's part of an own step (the rest: attention in WebAssembly SIMD; activations quantized, norms, rotary and SiLU in JavaScript).
      own_gemv_share: r2(median(own.gemvMs.slice(2)) / ownMs),
      same_tokens: own.tokens.length === nat.tokens.length && own.tokens.every((t, i) => t === nat.tokens[i]),
      // The first generated token where the two differ (null: none), each side's lead of its best logit over the
      // second there (a near tie that float reassociation tipped reads as a few thousandths), and how many were compared.
      ...(() => {
        const i = own.tokens.findIndex((t, j) => t !== nat.tokens[j]);
        if (i === -1) return { first_difference: null };
        return { first_difference: i, margin_at_difference: { own: r4(own.margins[i]), native: r4(nat.margins[i]) } };
      })(),
      // The smallest lead of native's best logit up to the first difference (all the run without one): how near a tie it came.
      native_margin_min: r4(Math.min(...nat.margins.slice(0, own.tokens.findIndex((t, j) => t !== nat.tokens[j]) + 1 || undefined))),
      tokens: own.tokens.length,
      own_ms: r2(ownMs),
      native_ms: r2(nativeMs),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
