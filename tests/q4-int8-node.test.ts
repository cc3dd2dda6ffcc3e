// @vitest-environment node
// The q4 rewrite's int8 form (src/inference/q4-rewrite.ts: past the fp32 bound, a 4-bit MatMul becomes
// DynamicQuantizeLinear → MatMulInteger → Cast → Mul on the requantized weights), run in Node by ONNX
// Runtime Web's WASM backend (the kernels the browser worker runs them with) on the embedded models'
// real trained q4 files: the greedy answers to every parity prompt must be the q4 model's own
// (MatMulNBits) answers, and the first step's logits close to them (int8 weights and activations
// quantized per call, as a q8 model's: close, not equal). A transposed weight, a wrong scale or zero
// point, or a broken Cast would change the answers at once.
// Not onnxruntime-node: its u8 × s8 kernel saturates on x86 CPUs without VNNI, so there the int8
// form's answers depend on the CPU (src/inference/int8-unsigned.ts; measured on an AMD EPYC: one of
// slm-pocket's 7 answers cut short). WASM's integer products are exact on every CPU.
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { rewriteQ4 } from '../src/inference/q4-rewrite';
import { greedyIds, type Parity } from './ort-greedy';

const MODELS_DIR = path.resolve('public/models');
const MODELS = ['slm-pocket', 'slm-reference'].filter((m) => fs.existsSync(path.join(MODELS_DIR, m, 'onnx/model_q4.onnx')));

ort.env.wasm.numThreads = 1;

describe('q4 → int8 rewrite on the embedded models (ONNX Runtime Web, WASM)', () => {
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
    const wasm = { executionProviders: ['wasm'] };
    const [q4, i8] = [await ort.InferenceSession.create(bytes, wasm), await ort.InferenceSession.create(r.bytes!, wasm)];
    try {
      for (const c of parity.cases) {
        const [a, b] = [await greedyIds(ort, q4, c.input_ids, parity, layers.kv, layers.hd), await greedyIds(ort, i8, c.input_ids, parity, layers.kv, layers.hd)];
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
