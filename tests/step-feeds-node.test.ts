// @vitest-environment node
// The graph floor's feeds (src/inference/step-feeds.ts) on a real model in onnxruntime-node: one
// decode step at a fixed past length is the step the app's loop would run there (its position and
// mask), so the bare run times the same work as a decode step.
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { KvDecoder, planKvDecoder, type MakeTensor, type OrtSessionLike } from '../src/inference/kv-decoder';
import { decodeStepFeeds, GRAPH_STEP_PAST, stepOutputPool } from '../src/inference/step-feeds';

const FILE = path.resolve('public/models/slm-pocket/onnx/model.onnx');
const make: MakeTensor = (type, data, dims) => new ort.Tensor(type, data, dims);

async function open() {
  const session = (await ort.InferenceSession.create(FILE)) as unknown as OrtSessionLike;
  const plan = planKvDecoder(session);
  if ('reason' in plan) throw new Error(plan.reason);
  return { session, layout: plan.layout };
}

describe('decodeStepFeeds', () => {
  it('feeds one decode step after the past length: the cache grows by one, one row of logits', async () => {
    const { session, layout } = await open();
    const out = await session.run(decodeStepFeeds(layout, GRAPH_STEP_PAST, make));
    expect(out['logits']?.dims).toEqual([1, 1, layout.vocab]);
    for (const c of layout.cache) expect(out[c.present]?.dims).toEqual([1, layout.kvHeads, GRAPH_STEP_PAST + 1, layout.headDim]);
    const logits = out['logits']?.data as Float32Array;
    expect(logits.every(Number.isFinite)).toBe(true);
  });

  it("is the loop's step at that position: with the loop's own cache in it, the logits of the whole sequence's last token", async () => {
    const { session, layout } = await open();
    const prompt = Array.from({ length: GRAPH_STEP_PAST }, (_, i) => (i * 13 + 5) % layout.vocab);
    const decoder = new KvDecoder(session, layout, make, false);
    const r = await decoder.generate({ promptIds: prompt, maxNewTokens: 1, sampling: { doSample: false, temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1, minNewTokens: 0 }, eosTokenIds: [], onToken: () => undefined, shouldStop: () => false });
    expect(r.final.length).toBe(GRAPH_STEP_PAST);
    const feeds = decodeStepFeeds(layout, GRAPH_STEP_PAST, make);
    layout.cache.forEach((c, i) => (feeds[c.past] = r.final.past[i]!));
    const step = (await session.run(feeds))['logits']?.data as Float32Array;
    // The same 81 tokens in one pass without a cache: its last row.
    const n = GRAPH_STEP_PAST + 1;
    const whole: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from([...prompt, 1], BigInt), [1, n]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]),
    };
    if (layout.positionIds) whole['position_ids'] = new ort.Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(i)), [1, n]);
    for (const c of layout.cache) whole[c.past] = new ort.Tensor('float32', new Float32Array(0), [1, layout.kvHeads, 0, layout.headDim]);
    const all = (await session.run(whole))['logits']?.data as Float32Array;
    const row = all.subarray(all.length - layout.vocab);
    let worst = 0;
    for (let i = 0; i < layout.vocab; i++) worst = Math.max(worst, Math.abs(step[i]! - row[i]!));
    expect(worst).toBeLessThan(1e-3);
  });

  it('refuses a past length that is not a whole number', async () => {
    const { layout } = await open();
    expect(() => decodeStepFeeds(layout, -1, make)).toThrow(/whole number/);
    expect(() => decodeStepFeeds(layout, 2.5, make)).toThrow(/whole number/);
  });

  it("reserves the app's reused buffers for the step's outputs: every present at past + 1 positions and the logits, in output order", async () => {
    const { session, layout } = await open();
    const pool = stepOutputPool(session.outputNames, layout, GRAPH_STEP_PAST);
    const kv = layout.kvHeads * (GRAPH_STEP_PAST + 1) * layout.headDim;
    const want = session.outputNames.map((n) => (n === 'logits' ? layout.vocab : kv));
    const hook = globalThis as { __slmOrtOutput?: (ctor: unknown, elements: number) => ArrayBufferView | undefined };
    // What ONNX Runtime Web's patched run asks, output by output: each fits; one element more than reserved does not.
    const got = await pool.run(async () => want.map((n) => hook.__slmOrtOutput?.(Float32Array, n)?.byteLength));
    expect(got).toEqual(want.map((n) => n * 4));
    const over = await pool.run(async () => want.map((n) => hook.__slmOrtOutput?.(Float32Array, n + 1)));
    expect(over.every((b) => b === undefined)).toBe(true);
    expect(pool.bytes).toBe(2 * 4 * want.reduce((a, b) => a + b, 0));
  });
});
