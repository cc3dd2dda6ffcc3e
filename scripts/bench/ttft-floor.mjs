/**
 * The model's own TTFT growth (issue 14): what turn 8's first token costs over turn 1's in the bare
 * graph, with no app, cache or server code. One forward pass of the same new tokens after the same
 * number of kept positions as the app's turns 1 and 8 (prompt − reused tokens, from the local
 * conversation), past keys and values as zero tensors (attention costs the same whatever their
 * values), on onnxruntime-node, one thread, 7 interleaved pairs after one uncounted each.
 *
 * Why (measured 2026-11-30, 135M shape fp32): the same 37 new tokens took 116 ms after 42 kept
 * positions and 156 ms after 583 — 1.34× from attention over a longer context alone, where the
 * worker measured 1.37. A growth target of ≤ 1.3 there measures the model; `ttft_growth_over_floor`
 * (app growth ÷ this floor, same run) measures what the app adds.
 */
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { median } from '../../src/metrics/stats.ts';

const DTYPE_FILE = { fp32: 'model.onnx', q8: 'model_quantized.onnx', q4: 'model_q4.onnx' };

/** Milliseconds of one forward pass: `fresh` new tokens after `kept` positions. */
async function forward(session, layout, kept, fresh) {
  const L = kept + fresh;
  const i64 = (n, f) => new ort.Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(f(i))), [1, n]);
  const feeds = { input_ids: i64(fresh, (i) => 100 + ((i * 37) % 300)), attention_mask: i64(L, () => 1), position_ids: i64(fresh, (i) => kept + i) };
  for (const n of session.inputNames) {
    if (n.startsWith('past_key_values')) feeds[n] = new ort.Tensor('float32', new Float32Array(layout.kv * kept * layout.hd), [1, layout.kv, kept, layout.hd]);
  }
  const t0 = performance.now();
  await session.run(feeds);
  return performance.now() - t0;
}

/**
 * `{ ttft_growth_floor, floor_ms_turn1, floor_ms_turn8, … }` for the model folder `dir` as `dtype`,
 * given the app's per-turn prompt and reused token counts (ttft-growth.mjs); null fields where they are unknown.
 */
export async function ttftFloor({ dir, dtype, config, prompt, reused, pairs = 7, log = () => {} }) {
  const turn = (t) => (prompt?.[t] != null && reused?.[t] != null ? { kept: reused[t], fresh: prompt[t] - reused[t] } : null);
  const [a, b] = [turn(0), turn(7)];
  if (!a || !b || a.fresh <= 0 || b.fresh <= 0) return { ttft_growth_floor: null };
  const layout = { kv: config.num_key_value_heads ?? config.num_attention_heads, hd: config.head_dim ?? config.hidden_size / config.num_attention_heads };
  const session = await ort.InferenceSession.create(path.join(dir, 'onnx', DTYPE_FILE[dtype]), { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    await forward(session, layout, a.kept, a.fresh);
    await forward(session, layout, b.kept, b.fresh);
    const t1 = [];
    const t8 = [];
    for (let i = 0; i < pairs; i++) {
      t1.push(await forward(session, layout, a.kept, a.fresh));
      t8.push(await forward(session, layout, b.kept, b.fresh));
    }
    const [m1, m8] = [median(t1), median(t8)];
    const floor = m1 > 0 ? Math.round((m8 / m1) * 100) / 100 : null;
    log(`ttft floor (bare graph, ${dtype}): turn 1 ${a.fresh} new after ${a.kept} kept ${m1.toFixed(1)} ms, turn 8 ${b.fresh} new after ${b.kept} kept ${m8.toFixed(1)} ms: ${floor}`);
    return { ttft_growth_floor: floor, floor_ms_turn1: Math.round(m1 * 10) / 10, floor_ms_turn8: Math.round(m8 * 10) / 10, floor_tokens_turn1: a, floor_tokens_turn8: b };
  } finally {
    await session.release();
  }
}

/** growth ÷ floor, rounded; null where either is unknown. */
export const overFloor = (growth, floor) => (growth && floor ? Math.round((growth / floor) * 100) / 100 : null);
