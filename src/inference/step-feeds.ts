/**
 * One decode step's inputs at a fixed context, for timing the model's whole graph bare (the bench's
 * graph floor, `graph_ratio`: scripts/bench/kernel.mjs): the same feeds in ONNX Runtime Web and in
 * onnxruntime-node, built from the loop's own plan of the session (kv-decoder.ts `planKvDecoder`),
 * so the bare run feeds exactly what the app's loop feeds at that position. Pure.
 */
import type { KvLayout, MakeTensor, OrtTensorLike } from './kv-decoder';
import { OutputPool } from './output-pool';

/**
 * The past length the graph floor runs at: the bench's decode answers are 128 tokens after a prompt
 * of ~20 (native.mjs BENCH_PROMPT through the chat template), so a step sees ~84 past positions on
 * average; a fixed 80 keeps both runtimes on the same work.
 */
export const GRAPH_STEP_PAST = 80;

/** The feeds of one decode step after `past` positions: token 1 at position `past`, a KV cache of small deterministic values. */
export function decodeStepFeeds(layout: KvLayout, past: number, makeTensor: MakeTensor): Record<string, OrtTensorLike> {
  if (!Number.isInteger(past) || past < 0) throw new Error(`a step's past length must be a whole number ≥ 0, not ${past}`);
  const feeds: Record<string, OrtTensorLike> = {
    input_ids: makeTensor('int64', BigInt64Array.of(1n), [1, 1]),
    attention_mask: makeTensor('int64', new BigInt64Array(past + 1).fill(1n), [1, past + 1]),
  };
  if (layout.positionIds) feeds['position_ids'] = makeTensor('int64', BigInt64Array.of(BigInt(past)), [1, 1]);
  const size = layout.kvHeads * past * layout.headDim;
  // One array for every layer's key and value: ONNX Runtime copies inputs in, it does not keep them.
  const kv = Float32Array.from({ length: size }, (_, i) => Math.sin(i) * 0.1);
  for (const c of layout.cache) feeds[c.past] = makeTensor('float32', kv, [1, layout.kvHeads, past, layout.headDim]);
  return feeds;
}

/**
 * The reused output buffers the app's loop gives ONNX Runtime Web (kv-decoder.ts, output-pool.ts) for a
 * step after `past` positions: each present and the logits, in the session's output order. Measured
 * reason (2026-12-03, slm-pocket fp32, 1 thread): a plain `session.run` of the step in ORT-web took
 * 0.91–0.97 ms, against 0.45 ms a token in the app's loop, which writes its outputs into reused buffers
 * (a fresh output buffer's first touch is dear on this VM); without them the bare step is no floor.
 */
export function stepOutputPool(outputNames: readonly string[], layout: KvLayout, past: number): OutputPool {
  const pool = new OutputPool(outputNames.length);
  const present = new Set(layout.cache.map((c) => c.present));
  outputNames.forEach((name, slot) => {
    if (name === 'logits') pool.reserve(slot, layout.vocab);
    else if (present.has(name)) pool.reserve(slot, layout.kvHeads * (past + 1) * layout.headDim);
  });
  return pool;
}
