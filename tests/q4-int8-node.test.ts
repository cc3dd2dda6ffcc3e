// @vitest-environment node
// The q4 rewrite's int8 form (src/inference/q4-rewrite.ts: past the fp32 bound, a 4-bit MatMul becomes
// DynamicQuantizeLinear → MatMulInteger → Cast → Mul on the requantized weights), run by onnxruntime-node
// on the embedded models' real trained q4 files: the greedy answers to every parity prompt must be the
// q4 model's own (MatMulNBits) answers, and the first step's logits close to them (int8 weights and
// activations quantized per call, as a q8 model's: close, not equal). A transposed weight, a wrong
// scale or zero point, or a broken Cast would change the answers at once.
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { rewriteQ4 } from '../src/inference/q4-rewrite';

const MODELS_DIR = path.resolve('public/models');
const MODELS = ['slm-pocket', 'slm-reference'].filter((m) => fs.existsSync(path.join(MODELS_DIR, m, 'onnx/model_q4.onnx')));

interface Parity { max_new_tokens: number; eos_token_id: number[]; cases: { input_ids: number[] }[] }

/** Greedy ids without a KV cache (the whole sequence each step: these models are tiny). */
async function greedy(s: ort.InferenceSession, prompt: number[], max: number, eos: number[], layers: { kv: number; hd: number }): Promise<{ ids: number[]; first: Float32Array }> {
  const ids = [...prompt];
  let first: Float32Array | null = null;
  for (let step = 0; step < max; step++) {
    const L = ids.length;
    const i64 = (f: (i: number) => number) => new ort.Tensor('int64', BigInt64Array.from({ length: L }, (_, i) => BigInt(f(i))), [1, L]);
    const feeds: Record<string, ort.Tensor> = { input_ids: i64((i) => ids[i]!), attention_mask: i64(() => 1), position_ids: i64((i) => i) };
    for (const n of s.inputNames) if (n.startsWith('past_key_values')) feeds[n] = new ort.Tensor('float32', new Float32Array(0), [1, layers.kv, 0, layers.hd]);
    const logits = (await s.run(feeds))['logits']!;
    const V = logits.dims[2]!;
    const row = (logits.data as Float32Array).slice((L - 1) * V, L * V);
    first ??= row;
    let best = 0;
    for (let v = 1; v < V; v++) if (row[v]! > row[best]!) best = v;
    ids.push(best);
    if (eos.includes(best)) break;
  }
  return { ids: ids.slice(prompt.length), first: first! };
}

describe('q4 → int8 rewrite on the embedded models (onnxruntime-node)', () => {
  it.each(MODELS)('%s: the int8 form answers every parity prompt as the q4 model does', async (name) => {
    const dir = path.join(MODELS_DIR, name);
    const bytes = new Uint8Array(fs.readFileSync(path.join(dir, 'onnx/model_q4.onnx')));
    const r = rewriteQ4(bytes, { maxFp32Bytes: 0, maxInt8Bytes: Infinity });
    expect(r.to).toBe('int8');
    expect(r.kept).toBe(0);
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { num_hidden_layers: number; num_key_value_heads: number; hidden_size: number; num_attention_heads: number; intermediate_size: number };
    expect(r.converted, '7 projections a layer').toBe(7 * cfg.num_hidden_layers + (r.converted % 7));
    const layers = { kv: cfg.num_key_value_heads, hd: cfg.hidden_size / cfg.num_attention_heads };
    const parity = JSON.parse(fs.readFileSync(path.join(dir, 'parity.json'), 'utf8')) as Parity;
    const [q4, i8] = await Promise.all([ort.InferenceSession.create(bytes), ort.InferenceSession.create(r.bytes!)]);
    try {
      for (const c of parity.cases) {
        const [a, b] = [await greedy(q4, c.input_ids, parity.max_new_tokens, parity.eos_token_id, layers), await greedy(i8, c.input_ids, parity.max_new_tokens, parity.eos_token_id, layers)];
        expect(b.ids, `answer to ${JSON.stringify(c.input_ids)}`).toEqual(a.ids);
        let dot = 0, na = 0, nb = 0;
        for (let v = 0; v < a.first.length; v++) {
          dot += a.first[v]! * b.first[v]!;
          na += a.first[v]! ** 2;
          nb += b.first[v]! ** 2;
        }
        // Measured: 0.986 (slm-reference) and 0.993 (slm-pocket) at the lowest case; a transposed weight or a
        // wrong scale gives answers that differ at once and a cosine far below this.
        expect(dot / Math.sqrt(na * nb), 'first-step logits, cosine').toBeGreaterThan(0.97);
      }
    } finally {
      await Promise.all([q4.release(), i8.release()]);
    }
  });
});
