import { describe, expect, it } from 'vitest';
import {
  GIB,
  MIB,
  arenaBytes,
  checkFit,
  dtypeThatFits,
  estimateForDtype,
  estimateMemory,
  fitMessage,
  int8StepMemoryBlocker,
  kvCacheBytes,
  kvShapeOf,
  matmulParams,
  q4Rewrite,
  type DeviceLimits,
} from '../../src/models/memory';
import { Q4_REWRITE_LIMITS, q4RewriteTarget, rewriteLimits } from '../../src/models/dtypes';

// Qwen2.5-0.5B's shape (config.json of onnx-community/Qwen2.5-0.5B-Instruct).
const QWEN = { num_hidden_layers: 24, num_attention_heads: 14, num_key_value_heads: 2, hidden_size: 896, max_position_embeddings: 32768, vocab_size: 151936 };
const NO_LIMITS: DeviceLimits = { deviceMemoryGiB: null, gpuMaxBufferSize: null, gpuMaxStorageBufferBindingSize: null };

describe('kvShapeOf', () => {
  it('reads LLaMA/Qwen names, with head_dim from hidden / heads when absent', () => {
    expect(kvShapeOf(QWEN)).toEqual({ layers: 24, kvHeads: 2, headDim: 64, maxPositions: 32768, vocab: 151936, hidden: 896 });
  });
  it('reads GPT-2 names; kv heads default to the attention heads', () => {
    expect(kvShapeOf({ n_layer: 12, n_head: 12, n_embd: 768, n_positions: 1024 })).toMatchObject({ layers: 12, kvHeads: 12, headDim: 64, maxPositions: 1024 });
  });
  it('an explicit head_dim wins; a config without layers gives null', () => {
    expect(kvShapeOf({ num_hidden_layers: 4, num_attention_heads: 4, num_key_value_heads: 2, hidden_size: 128, head_dim: 32 })?.headDim).toBe(32);
    expect(kvShapeOf({ hidden_size: 128 })).toBeNull();
  });
});

describe('kvCacheBytes and arena', () => {
  it('layers × kv heads × head dim × positions × 2 × bytes (fp32 KV, fp16 for half-precision dtypes)', () => {
    const shape = kvShapeOf(QWEN)!;
    expect(kvCacheBytes(shape, 4096, 'fp32')).toBe(24 * 2 * 64 * 4096 * 2 * 4);
    expect(kvCacheBytes(shape, 4096, 'q4')).toBe(24 * 2 * 64 * 4096 * 2 * 4);
    expect(kvCacheBytes(shape, 4096, 'fp16')).toBe(24 * 2 * 64 * 4096 * 2 * 2);
  });
  it('arena: 10% of the weights with a 16 MiB floor', () => {
    expect(arenaBytes(1000)).toBe(16 * MIB);
    expect(arenaBytes(1000 * MIB)).toBe(100 * MIB);
  });
});

describe('estimateMemory', () => {
  it('sums every onnx file; WASM heap = weights + the largest tensor staged + KV + arena; context capped at 4096', () => {
    const e = estimateMemory({ files: [{ file: 'config.json', bytes: 700 }, { file: 'onnx/model.onnx', bytes: 2000 * MIB }], config: QWEN, dtype: 'fp32', device: 'wasm' })!;
    expect(e.weightsBytes).toBe(2000 * MIB);
    expect(e.inlineFileBytes).toBe(2000 * MIB);
    expect(e.contextTokens).toBe(4096);
    expect(e.kvBytes).toBe(24 * 2 * 64 * 4096 * 2 * 4);
    expect(e.stagingBytes).toBe(151936 * 896 * 4);
    expect(e.wasmHeapBytes).toBe(2000 * MIB + e.stagingBytes + e.kvBytes + 200 * MIB);
    expect(e.totalBytes).toBe(e.wasmHeapBytes + e.weightsBytes);
    expect(e.largestTensorBytes).toBe(151936 * 896 * 4);
  });
  it('external data: no single-file limit; the context is the model maximum when smaller', () => {
    const e = estimateMemory({
      files: [{ file: 'onnx/model.onnx', bytes: MIB }, { file: 'onnx/model.onnx_data', bytes: 3 * GIB }],
      config: { ...QWEN, max_position_embeddings: 512 },
      dtype: 'fp32',
      device: 'wasm',
    })!;
    expect(e.inlineFileBytes).toBe(0);
    expect(e.contextTokens).toBe(512);
  });
  it('null when a weights size is unknown', () => {
    expect(estimateMemory({ files: [{ file: 'onnx/model.onnx', bytes: null }], config: QWEN, dtype: 'fp32', device: 'wasm' })).toBeNull();
  });
});

describe('checkFit', () => {
  const wasm = (bytes: number, cfg: Record<string, unknown> = QWEN) => estimateMemory({ files: [{ file: 'onnx/model.onnx', bytes }], config: cfg, dtype: 'fp32', device: 'wasm' })!;
  const external = (bytes: number) => estimateMemory({ files: [{ file: 'onnx/model.onnx', bytes: MIB }, { file: 'onnx/model.onnx_data', bytes }], config: QWEN, dtype: 'fp32', device: 'wasm' })!;
  it('a small model fits', () => {
    expect(checkFit(wasm(100 * MIB), NO_LIMITS)).toEqual({ verdict: 'fits', reasons: [] });
  });
  it('WASM: over 4 GB of heap is too big, with the numbers', () => {
    const fit = checkFit(external(3200 * MIB), NO_LIMITS);
    expect(fit.verdict).toBe('too-big');
    expect(fit.reasons.join(' ')).toMatch(/WASM memory \(3,201 MB weights \+ 519 MB for the largest tensor while loading \+ 96 MB KV cache at 4096 tokens \+ 320 MB arena.*needs 4,136 MB, the limit is 4,096 MB/);
    // Without the vocabulary size the largest tensor is taken as half the weights.
    const { vocab_size: _, ...noVocab } = QWEN;
    expect(estimateMemory({ files: [{ file: 'onnx/model.onnx', bytes: 100 * MIB }], config: noVocab, dtype: 'fp32', device: 'wasm' })!.stagingBytes).toBe(50 * MIB);
  });
  it('one inline file over 2 GB is too big even on WebGPU', () => {
    const e = estimateMemory({ files: [{ file: 'onnx/model.onnx', bytes: 2.5 * GIB }], config: QWEN, dtype: 'fp32', device: 'webgpu' })!;
    expect(checkFit(e, NO_LIMITS).reasons[0]).toMatch(/2 GB ArrayBuffer/);
  });
  it('close: between 80% and 100% of a limit', () => {
    expect(checkFit(external(2500 * MIB), NO_LIMITS)).toMatchObject({ verdict: 'close', reasons: [expect.stringMatching(/^WASM memory/)] });
    expect(checkFit(wasm(1800 * MIB), NO_LIMITS)).toMatchObject({ verdict: 'close', reasons: [expect.stringMatching(/^One \.onnx file/)] });
    expect(checkFit(wasm(1100 * MIB), NO_LIMITS).verdict).toBe('fits');
  });
  it('deviceMemory under 8 GB refuses; at 8 (the cap) it only warns', () => {
    const e = wasm(900 * MIB);
    expect(checkFit(e, { ...NO_LIMITS, deviceMemoryGiB: 2 }).verdict).toBe('too-big');
    expect(checkFit(e, { ...NO_LIMITS, deviceMemoryGiB: 8 }).verdict).toBe('fits');
    expect(checkFit(wasm(1700 * MIB), { ...NO_LIMITS, deviceMemoryGiB: 8 }).reasons.join(' ')).toMatch(/at least 8 GB/);
  });
  it("WebGPU: the embedding table against the adapter's buffer limits", () => {
    const e = estimateMemory({ files: [{ file: 'onnx/model.onnx', bytes: 1000 * MIB }], config: QWEN, dtype: 'fp32', device: 'webgpu' })!;
    expect(checkFit(e, { ...NO_LIMITS, gpuMaxStorageBufferBindingSize: 128 * MIB, gpuMaxBufferSize: 256 * MIB }).verdict).toBe('too-big');
    expect(checkFit(e, { ...NO_LIMITS, gpuMaxStorageBufferBindingSize: 2 * GIB, gpuMaxBufferSize: 2 * GIB }).verdict).toBe('fits');
  });
});

describe('the int8 step\'s memory (q8 on WASM): in ONNX Runtime\'s place, so only its own wasm32 bound refuses it', () => {
  const q8 = (bytes: number) => estimateMemory({ files: [{ file: 'onnx/model_quantized.onnx', bytes }], config: QWEN, dtype: 'q8', device: 'wasm' })!;
  it('no second copy counted: a model the device holds runs on the step', () => {
    expect(int8StepMemoryBlocker(q8(170 * MIB))).toBeNull();
    expect(int8StepMemoryBlocker(q8(600 * MIB))).toBeNull();
  });
  it('a step memory past wasm32\'s 4 GB is refused by itself', () => {
    const e = estimateMemory({ files: [{ file: 'onnx/model_quantized.onnx', bytes: MIB }, { file: 'onnx/model_quantized.onnx_data', bytes: 4200 * MIB }], config: QWEN, dtype: 'q8', device: 'wasm' })!;
    expect(int8StepMemoryBlocker(e)).toMatch(/WebAssembly memory of its own \(wasm32 addresses 4 GB\)/);
  });
});

describe('dtypeThatFits and the message', () => {
  it('offers the largest smaller dtype that fits, among those offered', () => {
    const e = estimateMemory({ files: [{ file: 'onnx/model.onnx', bytes: 3000 * MIB }], config: QWEN, dtype: 'fp32', device: 'wasm' })!;
    expect(dtypeThatFits(e, QWEN, NO_LIMITS, ['fp32', 'fp16', 'q8', 'q4'])).toBe('fp16');
    expect(dtypeThatFits(e, QWEN, NO_LIMITS, ['fp32', 'q4'])).toBe('q4');
    expect(dtypeThatFits(e, QWEN, NO_LIMITS, ['fp32'])).toBeNull();
    const msg = fitMessage('big/model', e, checkFit(e, NO_LIMITS), 'fp16');
    expect(msg).toMatch(/^big\/model as fp32 is too big for WASM on this device; nothing was downloaded\. .*fp16 would fit \(about 1,500 MB of weights\)\.$/);
  });
});

describe('q4 on WASM: the load-time rewrite of its 4-bit MatMuls', () => {
  // SmolLM2-135M's shape, and Qwen2.5-0.5B's with its MLP size.
  const SMOL = { num_hidden_layers: 30, num_attention_heads: 9, num_key_value_heads: 3, hidden_size: 576, intermediate_size: 1536, vocab_size: 49152 };
  const QWEN_MLP = { ...QWEN, intermediate_size: 4864 };

  it('counts the projections of every layer and the LM head; fp32 within its bound, int8 past it', () => {
    expect(matmulParams(SMOL)).toBe(30 * (576 * 576 * 2 + 576 * 192 * 2 + 3 * 576 * 1536) + 49152 * 576);
    expect(matmulParams(QWEN)).toBeNull(); // no intermediate_size
    expect(q4Rewrite(SMOL)).toMatchObject({ to: 'fp32', bytes: matmulParams(SMOL)! * 4 });
    const q = q4Rewrite(QWEN_MLP)!;
    expect(q.to).toBe('int8');
    expect(q.bytes).toBe(matmulParams(QWEN_MLP)!);
    expect(q.bytes / 1e6).toBeGreaterThan(400);
    expect(q.bytes / 1e6).toBeLessThan(500);
  });

  it('the heap holds the rewritten weights instead of the packed ones (the 135M shape: about its fp32 file), JavaScript their buffer too', () => {
    const file = 200 * 1e6; // the 135M shape's model_q4.onnx
    const e = estimateMemory({ files: [{ file: 'onnx/model_q4.onnx', bytes: file }], config: SMOL, dtype: 'q4', device: 'wasm' })!;
    const plain = estimateMemory({ files: [{ file: 'onnx/model_q4.onnx', bytes: file }], config: SMOL, dtype: 'q4', device: 'webgpu' })!;
    expect(plain.rewrite).toBeNull();
    const n = matmulParams(SMOL)!;
    expect(e.rewrite).toEqual({ to: 'fp32', bytes: n * 4 });
    // weights in the heap ≈ the 652 MB fp32 file of the same model
    const heapWeights = e.wasmHeapBytes - e.stagingBytes - e.kvBytes - e.arenaBytes;
    expect(heapWeights / 1e6).toBeGreaterThan(640);
    expect(heapWeights / 1e6).toBeLessThan(680);
    expect(e.totalBytes).toBe(e.wasmHeapBytes + file + n * 4);
    expect(checkFit(e, NO_LIMITS).verdict).toBe('fits');
    // A q8 or fp32 file is not rewritten.
    expect(estimateMemory({ files: [{ file: 'onnx/model.onnx', bytes: 652e6 }], config: SMOL, dtype: 'fp32', device: 'wasm' })!.rewrite).toBeNull();
  });

  it('on a device that reports 4 GiB or less, the 135M shape runs int8 (a third of the heap), as estimated and as rewritten; 8 GiB or unknown: fp32 as before', () => {
    const n = matmulParams(SMOL)!;
    expect(rewriteLimits(null)).toEqual(Q4_REWRITE_LIMITS);
    expect(rewriteLimits(8).maxFp32Bytes).toBe(GIB);
    expect(rewriteLimits(4).maxFp32Bytes).toBe(GIB / 2);
    expect(rewriteLimits(0.5).maxFp32Bytes).toBe(GIB / 16);
    expect(q4RewriteTarget(n, rewriteLimits(8))).toBe('fp32');
    expect(q4RewriteTarget(n, rewriteLimits(4))).toBe('int8'); // 538 MB of fp32 over 512 MiB
    expect(q4RewriteTarget(matmulParams(QWEN_MLP)!, rewriteLimits(8))).toBe('int8');
    expect(q4Rewrite(SMOL, 4)).toMatchObject({ to: 'int8', bytes: n });
    const file = 200 * 1e6;
    const at = (gib: number | null) => estimateMemory({ files: [{ file: 'onnx/model_q4.onnx', bytes: file }], config: SMOL, dtype: 'q4', device: 'wasm', deviceMemoryGiB: gib })!;
    expect(at(null).rewrite).toEqual({ to: 'fp32', bytes: n * 4 });
    expect(at(8).rewrite).toEqual({ to: 'fp32', bytes: n * 4 });
    const phone = at(4);
    expect(phone.rewrite).toEqual({ to: 'int8', bytes: n });
    expect(phone.wasmHeapBytes).toBeLessThan(at(8).wasmHeapBytes - 3 * n + 1);
    // The int8 step on q4 made int8: its int8 matrices besides the file's embedding, under wasm32's bound.
    expect(int8StepMemoryBlocker(phone)).toBeNull();
    // Another dtype's estimate for the same device keeps the device's bound.
    expect(estimateForDtype(estimateMemory({ files: [{ file: 'onnx/model.onnx', bytes: 652e6 }], config: SMOL, dtype: 'fp32', device: 'wasm', deviceMemoryGiB: 4 })!, SMOL, 'q4').rewrite?.to).toBe('int8');
  });

  it('where the int8 step may run the load (WASM, not turned off), q4 becomes int8 on every device: no fp32 target, the int8 bound kept', () => {
    const n = matmulParams(SMOL)!;
    for (const gib of [null, 8, 4]) {
      expect(rewriteLimits(gib, true)).toEqual({ ...rewriteLimits(gib), maxFp32Bytes: 0 });
      expect(q4RewriteTarget(n, rewriteLimits(gib, true))).toBe('int8');
    }
    expect(q4Rewrite(SMOL, null, true)).toMatchObject({ to: 'int8', bytes: n });
    expect(q4Rewrite(SMOL, null, false)).toMatchObject({ to: 'fp32' });
    // Past the int8 bound the 4-bit kernel stays, step or not.
    expect(q4RewriteTarget(Q4_REWRITE_LIMITS.maxInt8Bytes + 1, rewriteLimits(null, true))).toBeNull();
    const file = 200 * 1e6;
    const e = estimateMemory({ files: [{ file: 'onnx/model_q4.onnx', bytes: file }], config: SMOL, dtype: 'q4', device: 'wasm', int8Step: true })!;
    expect([e.rewrite, e.int8Step]).toEqual([{ to: 'int8', bytes: n }, true]);
    // The heap holds a quarter of what the fp32 target made it hold.
    const fp32 = estimateMemory({ files: [{ file: 'onnx/model_q4.onnx', bytes: file }], config: SMOL, dtype: 'q4', device: 'wasm' })!;
    expect(fp32.wasmHeapBytes - e.wasmHeapBytes).toBe(3 * n);
    // Another dtype's estimate keeps the step's rule.
    expect(estimateForDtype(estimateMemory({ files: [{ file: 'onnx/model.onnx', bytes: 652e6 }], config: SMOL, dtype: 'fp32', device: 'wasm', int8Step: true })!, SMOL, 'q4').rewrite?.to).toBe('int8');
    expect(estimateForDtype(estimateMemory({ files: [{ file: 'onnx/model.onnx', bytes: 652e6 }], config: SMOL, dtype: 'fp32', device: 'wasm' })!, SMOL, 'q4').rewrite?.to).toBe('fp32');
  });

  it('names the rewrite in the WASM limit message', () => {
    const big = { ...QWEN_MLP, num_hidden_layers: 80 };
    const e = estimateMemory({ files: [{ file: 'onnx/model_q4.onnx', bytes: MIB }, { file: 'onnx/model_q4.onnx_data', bytes: 2.5 * GIB }], config: big, dtype: 'q4', device: 'wasm' })!;
    expect(e.rewrite?.to).toBe('int8');
    const fit = checkFit(e, NO_LIMITS);
    expect(fit.verdict).not.toBe('fits');
    expect(fit.reasons.join(' ')).toMatch(/4-bit MatMuls run as [\d,]+ MB of int8/);
  });
});
