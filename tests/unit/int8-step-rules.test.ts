// Which loads decode on the int8 step (worker/int8-step.ts) and when the KV cache is kept (kv-cache.ts): q4 joins
// the step wherever its rewrite made it int8 (every WASM load with the step on: dtypes.ts rewriteLimits), and the
// dtype rule against reuse stands where ONNX Runtime computes in int8, q4's rewrite to int8 included.
import { describe, expect, it } from 'vitest';
import { int8StepBlocker } from '../../src/engines/local/worker/int8-step';
import { kvReuseBlocker } from '../../src/inference/kv-cache';

describe('int8StepBlocker', () => {
  it('q8 on WASM runs on the step; q4 where its weights become int8; why not, otherwise', () => {
    expect(int8StepBlocker({ device: 'wasm', dtype: 'q8' }, null)).toBeNull();
    expect(int8StepBlocker({ device: 'wasm', dtype: 'q4' }, 'int8')).toBeNull();
    expect(int8StepBlocker({ device: 'wasm', dtype: 'q4' }, 'fp32')).toMatch(/exact fp32 matmuls/);
    expect(int8StepBlocker({ device: 'wasm', dtype: 'q4' }, null)).toMatch(/keeps its 4-bit kernel/);
    expect(int8StepBlocker({ device: 'wasm', dtype: 'q8', int8Step: false }, null)).toMatch(/turned off/);
    expect(int8StepBlocker({ device: 'webgpu', dtype: 'q8' }, null)).toMatch(/runs on WASM/);
    expect(int8StepBlocker({ device: 'wasm', dtype: 'fp32' }, null)).toMatch(/not fp32/);
  });
});

describe('kvReuseBlocker', () => {
  it('dynamically quantized runs keep no states; q4 too where it is computed in int8; fp32 and exact q4 do', () => {
    for (const d of ['q8', 'int8', 'uint8'] as const) expect(kvReuseBlocker(d)).toMatch(/no KV cache/);
    expect(kvReuseBlocker('q4')).toBeNull();
    expect(kvReuseBlocker('q4', true)).toMatch(/q4 computed in int8 here: no KV cache/);
    expect(kvReuseBlocker('fp32')).toBeNull();
    expect(kvReuseBlocker('fp32', true)).toBeNull();
  });
});
