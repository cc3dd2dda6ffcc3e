// The one generation-parameter schema (src/inference/params.ts): every rule, with its message, in
// the schema the settings store, share links, the UI and the worker all use.
import { describe, expect, it } from 'vitest';
import { DEFAULT_GENERATION, LIMITS, PARAM_MESSAGES, generationParamsSchema, validateGenerationParams, type GenerationParams } from '../../src/inference/params';
import { DEFAULT_SETTINGS, parseSettings } from '../../src/state/settings';

const p = (over: Partial<GenerationParams>): GenerationParams => ({ ...DEFAULT_GENERATION, ...over });

describe('generation-parameter schema', () => {
  it('min new tokens may not exceed max new tokens (fixed length: equal is fine)', () => {
    expect(validateGenerationParams(p({ maxNewTokens: 64, minNewTokens: 64 }))).toEqual([]);
    expect(validateGenerationParams(p({ maxNewTokens: 64, minNewTokens: 65 }))).toEqual([PARAM_MESSAGES.minNewTokens]);
    expect(validateGenerationParams(p({ maxNewTokens: 64, minNewTokens: -1 }))).toEqual([PARAM_MESSAGES.minNewTokens]);
    expect(validateGenerationParams(p({ maxNewTokens: 64, minNewTokens: 1.5 }))).toEqual([PARAM_MESSAGES.minNewTokens]);
  });

  it('top-k has an upper limit, with its own message', () => {
    expect(validateGenerationParams(p({ topK: LIMITS.topK }))).toEqual([]);
    expect(validateGenerationParams(p({ topK: LIMITS.topK + 1 }))).toEqual([PARAM_MESSAGES.topKMax]);
    expect(PARAM_MESSAGES.topKMax).toContain(String(LIMITS.topK));
  });

  it('one message per bad field, in field order, min ≤ max included', () => {
    expect(validateGenerationParams({ maxNewTokens: 0, temperature: 9, topP: 1, topK: 200_000, repetitionPenalty: 1, greedy: true, minNewTokens: 5 })).toEqual([
      PARAM_MESSAGES.maxNewTokens,
      PARAM_MESSAGES.temperature,
      PARAM_MESSAGES.topKMax,
      PARAM_MESSAGES.minNewTokens,
    ]);
  });

  it('rejects what is not a settings object, field by field', () => {
    expect(validateGenerationParams({ ...DEFAULT_GENERATION, greedy: 'yes' })).toEqual([PARAM_MESSAGES.greedy]);
    expect(validateGenerationParams({ ...DEFAULT_GENERATION, maxNewTokens: '12' })).toEqual([PARAM_MESSAGES.maxNewTokens]);
    expect(generationParamsSchema.safeParse(null).success).toBe(false);
  });

  it('the settings store falls back to the defaults for stored settings that break a rule', () => {
    const stored = (generation: unknown) => JSON.stringify({ ...DEFAULT_SETTINGS, generation });
    expect(parseSettings(stored(p({ maxNewTokens: 10, minNewTokens: 20 }))).generation).toEqual(DEFAULT_GENERATION);
    expect(parseSettings(stored(p({ topK: 1_000_000 }))).generation).toEqual(DEFAULT_GENERATION);
    expect(parseSettings(stored(p({ maxNewTokens: 10, minNewTokens: 10 }))).generation).toEqual(p({ maxNewTokens: 10, minNewTokens: 10 }));
  });

  it('a share link or result file (strict) keeps the rules and refuses unknown keys', () => {
    const strict = generationParamsSchema.strict();
    expect(strict.safeParse(p({ maxNewTokens: 10, minNewTokens: 20 })).success).toBe(false);
    expect(strict.safeParse({ ...DEFAULT_GENERATION, extra: 1 }).success).toBe(false);
    expect(strict.safeParse(DEFAULT_GENERATION).success).toBe(true);
  });
});
