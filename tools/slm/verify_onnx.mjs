// Numerical checks of an exported model folder with onnxruntime-node (no transformers.js):
//  1. KV cache: prefill(all) == prefill(prefix, past_len 0) + decode steps with past (fp32)
//  2. left padding: a left-padded batch (attention_mask + position_ids = cumsum-1) == unpadded single runs
//  3. q4 packing: model_q4.onnx (MatMulNBits) == model_q4_reference.onnx (MatMul on numpy-dequantized weights),
//     when the reference file exists (quantize.py --debug)
//  4. q8 / q4 vs fp32: max |logit diff| and argmax agreement over all positions
// usage: node tools/slm/verify_onnx.mjs public/models/slm-pocket [--json out.json]
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';

const dir = process.argv[2] ?? 'public/models/slm-pocket';
const jsonOut = process.argv.indexOf('--json') > 0 ? process.argv[process.argv.indexOf('--json') + 1] : null;
const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
const L = cfg.num_hidden_layers, KV = cfg.num_key_value_heads, HD = cfg.head_dim, V = cfg.vocab_size;
const parity = JSON.parse(fs.readFileSync(path.join(dir, 'parity.json'), 'utf8'));

const i64 = (arr, dims) => new ort.Tensor('int64', BigInt64Array.from(arr.map((x) => BigInt(x))), dims);
const emptyPast = (B) => {
  const f = {};
  for (let i = 0; i < L; i++) for (const k of ['key', 'value']) f[`past_key_values.${i}.${k}`] = new ort.Tensor('float32', new Float32Array(0), [B, KV, 0, HD]);
  return f;
};

async function run(sess, ids2d, mask2d, pos2d, past) {
  const B = ids2d.length, S = ids2d[0].length, T = mask2d[0].length;
  const feeds = { input_ids: i64(ids2d.flat(), [B, S]), attention_mask: i64(mask2d.flat(), [B, T]), position_ids: i64(pos2d.flat(), [B, S]), ...(past ?? emptyPast(B)) };
  const out = await sess.run(feeds);
  const present = {};
  for (let i = 0; i < L; i++) for (const k of ['key', 'value']) present[`past_key_values.${i}.${k}`] = out[`present.${i}.${k}`];
  return { logits: out.logits, present };
}
const row = (logits, b, s) => { const [, S, VV] = logits.dims; return logits.data.subarray((b * S + s) * VV, (b * S + s + 1) * VV); };
const maxDiff = (a, b) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i])); return m; };
const argmax = (a) => { let j = 0; for (let i = 1; i < a.length; i++) if (a[i] > a[j]) j = i; return j; };
const range = (a, b) => Array.from({ length: b - a }, (_, i) => a + i);

const opts = { executionProviders: ['cpu'], graphOptimizationLevel: 'all' };
const fp32 = await ort.InferenceSession.create(path.join(dir, 'onnx/model.onnx'), opts);
const report = { model: dir, checks: {} };
const seqA = [...parity.cases[0].input_ids, ...parity.cases[0].output_ids];
const seqB = parity.cases[1].input_ids;

// 1. KV cache consistency
{
  const n = seqA.length, k = Math.max(2, n - 5);
  const full = await run(fp32, [seqA], [seqA.map(() => 1)], [range(0, n)]);
  let r = await run(fp32, [seqA.slice(0, k)], [range(0, k).map(() => 1)], [range(0, k)]);
  let m = maxDiff(row(full.logits, 0, k - 1), row(r.logits, 0, k - 1));
  for (let t = k; t < n; t++) {
    r = await run(fp32, [[seqA[t]]], [range(0, t + 1).map(() => 1)], [[t]], r.present);
    m = Math.max(m, maxDiff(row(full.logits, 0, t), row(r.logits, 0, 0)));
  }
  report.checks.kv_cache_max_abs_diff = m;
  if (!(m < 1e-3)) throw new Error(`KV cache mismatch ${m}`);
}
// 2. left padding in a batch
{
  const la = seqA.length, lb = seqB.length, T = Math.max(la, lb);
  const pad = cfg.pad_token_id;
  const ids = [seqA, seqB].map((s) => [...Array(T - s.length).fill(pad), ...s]);
  const mask = [seqA, seqB].map((s) => [...Array(T - s.length).fill(0), ...s.map(() => 1)]);
  const pos = mask.map((mrow) => { let c = -1; return mrow.map((x) => { c += x; return x ? c : 1; }); });
  const batch = await run(fp32, ids, mask, pos);
  let m = 0;
  for (const [b, s] of [[0, seqA], [1, seqB]]) {
    const single = await run(fp32, [s], [s.map(() => 1)], [range(0, s.length)]);
    for (let t = 0; t < s.length; t++) m = Math.max(m, maxDiff(row(single.logits, 0, t), row(batch.logits, b, T - s.length + t)));
  }
  report.checks.left_padding_max_abs_diff = m;
  if (!(m < 1e-3)) throw new Error(`left padding mismatch ${m}`);
}
// 3/4. quantized variants
const full = await run(fp32, [seqA], [seqA.map(() => 1)], [range(0, seqA.length)]);
for (const [name, file] of [['q8', 'model_quantized.onnx'], ['q4', 'model_q4.onnx']]) {
  const p = path.join(dir, 'onnx', file);
  if (!fs.existsSync(p)) continue;
  const sess = await ort.InferenceSession.create(p, opts);
  const r = await run(sess, [seqA], [seqA.map(() => 1)], [range(0, seqA.length)]);
  let m = 0, agree = 0;
  for (let t = 0; t < seqA.length; t++) {
    m = Math.max(m, maxDiff(row(full.logits, 0, t), row(r.logits, 0, t)));
    agree += argmax(row(full.logits, 0, t)) === argmax(row(r.logits, 0, t)) ? 1 : 0;
  }
  report.checks[`${name}_vs_fp32`] = { max_abs_logit_diff: m, argmax_agreement: agree / seqA.length };
  if (name === 'q4') {
    const refp = path.join(dir, 'onnx', 'model_q4_reference.onnx');
    if (fs.existsSync(refp)) {
      const rs = await ort.InferenceSession.create(refp, opts);
      const rr = await run(rs, [seqA], [seqA.map(() => 1)], [range(0, seqA.length)]);
      const d = maxDiff(r.logits.data, rr.logits.data);
      report.checks.q4_matmulnbits_vs_numpy_dequant_max_abs_diff = d;
      if (!(d < 1e-3)) throw new Error(`MatMulNBits packing mismatch ${d}`);
    }
  }
}
console.log(JSON.stringify(report, null, 1));
if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(report, null, 1));
