// @vitest-environment node
// The reference server's int8 → uint8 weights (src/inference/int8-unsigned.ts, applied by
// server/ort-node.ts to every session of a q8 load) on real kernels: onnxruntime-node then gives
// exact integer products and the browser's answers on any CPU. Checked against exact integers and
// against ONNX Runtime Web's WASM backend in Node (the kernels the browser worker runs).
// Without it, on an x86 CPU without VNNI (measured on an AMD EPYC), the saturating case below read
// 32,767-bounded pair sums and one of slm-pocket's 7 parity answers differed from the browser's.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { afterAll, describe, expect, it } from 'vitest';
import { withUnsignedInt8 } from '../server/ort-node';
import { greedyIds, type Parity } from './ort-greedy';
import { mmiExact, mmiModel, type MmiOptions } from './unit/int8-fixtures';

ortWeb.env.wasm.numThreads = 1;
const WASM = { executionProviders: ['wasm'] };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'int8-unsigned-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A session as the server creates it: from the file's path, inside a q8 load. */
async function serverSession(file: string) {
  const { value, preps } = await withUnsignedInt8(() => ortNode.InferenceSession.create(file));
  return { session: value, preps };
}

describe('onnxruntime-node with uint8 weights gives exact products', () => {
  // Every activation 255 and every weight 127: each pair of products sums to 64,770, twice what a
  // saturating 16-bit lane holds. Mixed signs and zero points in the second case.
  const M = 3, K = 64, N = 8;
  const cases: [string, MmiOptions, (i: number) => number][] = [
    ['all at the extremes', { w: () => 127, zp: null }, () => 255],
    ['mixed signs, per-column zero points', { w: (k, n) => ((k * 53 + n * 29) % 256) - 128, zp: (n) => (n * 7) % 5 - 2 }, (i) => (i * 97) % 256],
  ];
  it.each(cases)('%s: the server session and WASM both give the exact int32 result', async (_, o, fill) => {
    const model = mmiModel(M, K, N, o);
    const file = path.join(tmp, `mmi-${o.zp ? 'zp' : 'nozp'}.onnx`);
    fs.writeFileSync(file, model);
    const a = Uint8Array.from({ length: M * K }, (_, i) => fill(i));
    const want = [...mmiExact(a, M, K, N, o)];
    const { session, preps } = await serverSession(file);
    expect(preps).toMatchObject([{ converted: 1, kept: 0 }]);
    const got = (await session.run({ a: new ortNode.Tensor('uint8', a, [M, K]) }))['y']!;
    expect([...(got.data as Int32Array)]).toEqual(want);
    const web = await ortWeb.InferenceSession.create(model, WASM);
    expect([...((await web.run({ a: new ortWeb.Tensor('uint8', a, [M, K]) }))['y']!.data as Int32Array)]).toEqual(want);
    await Promise.all([session.release(), web.release()]);
  });
});

describe('the embedded q8 models on the server equal the browser (WASM)', () => {
  it.each(['slm-pocket', 'slm-reference'])('%s: every parity prompt, greedy, the same answer; first-step logits within 0.3', async (name) => {
    const dir = path.join('public/models', name);
    const file = path.join(dir, 'onnx/model_quantized.onnx');
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { num_key_value_heads: number; hidden_size: number; num_attention_heads: number };
    const parity = JSON.parse(fs.readFileSync(path.join(dir, 'parity.json'), 'utf8')) as Parity;
    const kv = cfg.num_key_value_heads, hd = cfg.hidden_size / cfg.num_attention_heads;
    const { session, preps } = await serverSession(file);
    expect(preps[0]!.converted).toBeGreaterThan(0);
    const web = await ortWeb.InferenceSession.create(new Uint8Array(fs.readFileSync(file)), WASM);
    try {
      for (const c of parity.cases) {
        const a = await greedyIds(ortWeb, web, c.input_ids, parity, kv, hd);
        const b = await greedyIds(ortNode, session, c.input_ids, parity, kv, hd);
        expect(b.ids, `answer to ${JSON.stringify(c.input_ids)}`).toEqual(a.ids);
        // Measured (AMD EPYC, AVX2): 2e-6 (slm-pocket) and 0.11 (slm-reference) with uint8 weights, the
        // float parts (norms, the activations' quantization) rounding apart; 2.9 and 1.05 with int8 ones.
        let d = 0;
        for (let v = 0; v < a.first.length; v++) d = Math.max(d, Math.abs(a.first[v]! - b.first[v]!));
        expect(d, 'first-step logits, largest difference').toBeLessThan(0.3);
      }
    } finally {
      await Promise.all([session.release(), web.release()]);
    }
  });
});
