import { describe, expect, it } from 'vitest';
import { DEFAULT_GENERATION, type GenerationParams } from '../../src/engines/types';
import { generationConfig } from '../../src/engines/local/worker/runtime';

const p = (over: Partial<GenerationParams>): GenerationParams => ({ ...DEFAULT_GENERATION, ...over });

describe('generationConfig', () => {
  it('greedy → do_sample false and no sampling knobs', () => {
    const cfg = generationConfig(p({ greedy: true, maxNewTokens: 64, repetitionPenalty: 1.2 }), null);
    expect(cfg).toEqual({ max_new_tokens: 64, min_new_tokens: undefined, repetition_penalty: 1.2, do_sample: false });
    expect('temperature' in cfg).toBe(false);
    expect('top_p' in cfg).toBe(false);
    expect('top_k' in cfg).toBe(false);
  });

  it('sampling → temperature, top_p, top_k', () => {
    const cfg = generationConfig(p({ greedy: false, temperature: 0.8, topP: 0.95, topK: 50, maxNewTokens: 100 }), null);
    expect(cfg).toEqual({
      max_new_tokens: 100,
      min_new_tokens: undefined,
      repetition_penalty: 1,
      do_sample: true,
      temperature: 0.8,
      top_p: 0.95,
      top_k: 50,
    });
  });

  it('top_k 0 is passed as 0, which transformers.js treats as "off"', () => {
    const cfg = generationConfig(p({ greedy: false, topK: 0 }), null);
    expect(cfg.top_k).toBe(0);
    expect(cfg.do_sample).toBe(true);
  });

  it('never carries an explicit undefined (it would override the model defaults)', () => {
    for (const greedy of [true, false]) {
      const cfg = generationConfig(p({ greedy, minNewTokens: undefined }), null);
      expect(Object.values(cfg).every((v) => v !== undefined)).toBe(true);
      expect('min_new_tokens' in cfg).toBe(false);
    }
  });

  it('max_new_tokens is clamped to the room left in the context', () => {
    expect(generationConfig(p({ maxNewTokens: 128 }), 10).max_new_tokens).toBe(10);
    expect(generationConfig(p({ maxNewTokens: 128 }), 128).max_new_tokens).toBe(128);
    expect(generationConfig(p({ maxNewTokens: 128 }), 5000).max_new_tokens).toBe(128);
    expect(generationConfig(p({ maxNewTokens: 128 }), null).max_new_tokens).toBe(128);
  });

  it('max_new_tokens is at least 1 even with no room', () => {
    expect(generationConfig(p({ maxNewTokens: 128 }), 0).max_new_tokens).toBe(1);
    expect(generationConfig(p({ maxNewTokens: 128 }), -5).max_new_tokens).toBe(1);
  });

  it('min_new_tokens is passed through and clamped to max_new_tokens', () => {
    expect(generationConfig(p({ maxNewTokens: 128, minNewTokens: 50 }), null).min_new_tokens).toBe(50);
    expect(generationConfig(p({ maxNewTokens: 128, minNewTokens: 500 }), null).min_new_tokens).toBe(128);
    expect(generationConfig(p({ maxNewTokens: 128, minNewTokens: 50 }), 20)).toMatchObject({ max_new_tokens: 20, min_new_tokens: 20 });
    expect(generationConfig(p({ greedy: false, maxNewTokens: 64, minNewTokens: 64 }), null)).toMatchObject({ max_new_tokens: 64, min_new_tokens: 64, do_sample: true });
  });

  it('min_new_tokens 0 or absent → undefined', () => {
    expect(generationConfig(p({ minNewTokens: 0 }), null).min_new_tokens).toBeUndefined();
    expect(generationConfig(p({}), null).min_new_tokens).toBeUndefined();
  });

  it('carries the repetition penalty in both modes', () => {
    expect(generationConfig(p({ greedy: true, repetitionPenalty: 1.3 }), null).repetition_penalty).toBe(1.3);
    expect(generationConfig(p({ greedy: false, repetitionPenalty: 1.3 }), null).repetition_penalty).toBe(1.3);
  });
});
