import { describe, expect, it } from 'vitest';
import { stepShapes } from '../../scripts/bench/relaxed-simd.mjs';

describe("the int8 GEMV probe's step shapes", () => {
  it("SmolLM2-135M's config gives the 211 weight matmuls of the q8 export, 134.5 M weights a step", () => {
    const shapes = stepShapes({ hidden_size: 576, intermediate_size: 1536, num_attention_heads: 9, num_key_value_heads: 3, num_hidden_layers: 30, vocab_size: 49152, head_dim: 64 });
    // tools/slm's q8 export of the 135M shape: 60 × 576x576, 60 × 576x192, 60 × 576x1536, 30 × 1536x576, 1 × 576x49152 (counted 2026-12-04).
    const count = (k: number, n: number) => shapes.filter(([a, b]) => a === k && b === n).length;
    expect([count(576, 576), count(576, 192), count(576, 1536), count(1536, 576), count(576, 49152)]).toEqual([60, 60, 60, 30, 1]);
    expect(shapes).toHaveLength(211);
    expect(shapes.reduce((s, [k, n]) => s + k * n, 0)).toBe(134_479_872);
    // The LM head last, after the last layer's down projection.
    expect(shapes.at(-2)).toEqual([1536, 576]);
    expect(shapes.at(-1)).toEqual([576, 49152]);
  });

  it("a config without head_dim takes hidden ÷ heads (Qwen2.5-0.5B: 14 heads of 64, 2 KV heads)", () => {
    const shapes = stepShapes({ hidden_size: 896, intermediate_size: 4864, num_attention_heads: 14, num_key_value_heads: 2, num_hidden_layers: 24, vocab_size: 151936 });
    expect(shapes.slice(0, 7)).toEqual([[896, 896], [896, 128], [896, 128], [896, 896], [896, 4864], [896, 4864], [4864, 896]]);
    expect(shapes).toHaveLength(24 * 7 + 1);
  });
});
