import { describe, expect, it } from 'vitest';
import { DEFAULT_GENERATION, validateGenerationParams, type GenerationParams } from '../../src/engines/types';

const MSG = {
  max: 'Max new tokens must be a whole number from 1 to 32768.',
  temp: 'Temperature must be above 0 and at most 5 (use greedy for 0).',
  topP: 'Top-p must be above 0 and at most 1.',
  topK: 'Top-k must be a whole number ≥ 0 (0 turns it off).',
  rep: 'Repetition penalty must be from 1 (off) to 3.',
};

const p = (over: Partial<GenerationParams>): GenerationParams => ({ ...DEFAULT_GENERATION, ...over });

describe('validateGenerationParams', () => {
  it('DEFAULT_GENERATION is valid', () => {
    expect(validateGenerationParams(DEFAULT_GENERATION)).toEqual([]);
  });

  it('the defaults are what the UI documents', () => {
    expect(DEFAULT_GENERATION).toEqual({ maxNewTokens: 128, temperature: 0.7, topP: 0.9, topK: 40, repetitionPenalty: 1.0, greedy: true });
  });

  it.each([
    ['lowest bounds', { maxNewTokens: 1, temperature: 0.01, topP: 0.01, topK: 0, repetitionPenalty: 1 }],
    ['highest bounds', { maxNewTokens: 32768, temperature: 5, topP: 1, topK: 100000, repetitionPenalty: 3 }],
    ['sampling on', { greedy: false }],
  ])('accepts %s', (_label, over) => {
    expect(validateGenerationParams(p(over))).toEqual([]);
  });

  it.each([0, -1, 1.5, 32769, Number.NaN, Number.POSITIVE_INFINITY])('maxNewTokens %d → its message only', (v) => {
    expect(validateGenerationParams(p({ maxNewTokens: v }))).toEqual([MSG.max]);
  });

  it.each([0, -0.5, 5.01, Number.NaN, Number.POSITIVE_INFINITY])('temperature %d → its message only', (v) => {
    expect(validateGenerationParams(p({ temperature: v }))).toEqual([MSG.temp]);
  });

  it.each([0, -0.1, 1.0001, Number.NaN])('topP %d → its message only', (v) => {
    expect(validateGenerationParams(p({ topP: v }))).toEqual([MSG.topP]);
  });

  it.each([-1, 2.5, Number.NaN, Number.POSITIVE_INFINITY])('topK %d → its message only', (v) => {
    expect(validateGenerationParams(p({ topK: v }))).toEqual([MSG.topK]);
  });

  it.each([0, 0.99, 3.01, Number.NaN])('repetitionPenalty %d → its message only', (v) => {
    expect(validateGenerationParams(p({ repetitionPenalty: v }))).toEqual([MSG.rep]);
  });

  it('reports every bad field, in field order', () => {
    expect(validateGenerationParams({ maxNewTokens: 0, temperature: 0, topP: 2, topK: -1, repetitionPenalty: 0, greedy: false })).toEqual([
      MSG.max,
      MSG.temp,
      MSG.topP,
      MSG.topK,
      MSG.rep,
    ]);
  });

  it('validates the sampling knobs even when greedy', () => {
    expect(validateGenerationParams(p({ greedy: true, temperature: 0 }))).toEqual([MSG.temp]);
  });
});
