import { describe, expect, it } from 'vitest';
import { hfGenerationConfig } from '../../src/inference/hf-generate';
import { DEFAULT_GENERATION, type GenerationParams } from '../../src/inference/params';
import { decodeSettings, modelSamplingDefaults, resolveSampling } from '../../src/inference/settings';

const p = (over: Partial<GenerationParams>): GenerationParams => ({ ...DEFAULT_GENERATION, ...over });

/** The app's settings as the generate() path hands them to transformers.js (the KV loop reads the typed settings). */
const generationConfig = (params: GenerationParams, room: number | null) => hfGenerationConfig(decodeSettings(params, room));

describe('decodeSettings → transformers.js config', () => {
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

describe('decodeSettings (typed)', () => {
  it('greedy turns the sampling knobs off; sampling carries them', () => {
    expect(decodeSettings(p({ greedy: true, temperature: 0.3, topK: 5, topP: 0.5, repetitionPenalty: 1.2 }), null)).toEqual({
      maxNewTokens: 128,
      sampling: { doSample: false, temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1.2, minNewTokens: 0 },
    });
    expect(decodeSettings(p({ greedy: false, temperature: 0.3, topK: 5, topP: 0.5 }), null).sampling).toEqual({
      doSample: true,
      temperature: 0.3,
      topK: 5,
      topP: 0.5,
      repetitionPenalty: 1,
      minNewTokens: 0,
    });
  });

  it('fixed length: min new tokens follows max down to the room left', () => {
    const s = decodeSettings(p({ maxNewTokens: 64, minNewTokens: 64 }), 20);
    expect(s.maxNewTokens).toBe(20);
    expect(s.sampling.minNewTokens).toBe(20);
  });
});

describe('server sampling: model defaults under request overrides', () => {
  it('reads only the sampling keys a generation_config sets', () => {
    expect(modelSamplingDefaults({ do_sample: true, temperature: 0.6, top_p: 0.8, eos_token_id: 2, max_length: 20 })).toEqual({ doSample: true, temperature: 0.6, topP: 0.8 });
    expect(modelSamplingDefaults(null)).toEqual({});
    expect(modelSamplingDefaults({ top_k: '5' })).toEqual({});
  });

  it('unset knobs are off; temperature 0 is greedy even when sampling is asked for', () => {
    expect(resolveSampling({}, 0)).toEqual({ doSample: false, temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1, minNewTokens: 0 });
    expect(resolveSampling({ doSample: true, temperature: 0 }, 3).doSample).toBe(false);
    expect(resolveSampling({ doSample: true, temperature: 0.5, topK: 7 }, 3)).toEqual({ doSample: true, temperature: 0.5, topK: 7, topP: 1, repetitionPenalty: 1, minNewTokens: 3 });
  });
});
