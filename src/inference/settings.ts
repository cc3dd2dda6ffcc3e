/**
 * What one generation runs with, typed from end to end: the app's settings (params.ts) and an
 * OpenAI request's (the reference server) both become `DecodeSettings` here, and the core
 * (core.ts) is the only place that turns them into transformers.js's snake_case config.
 */
import type { GenerationParams } from './params';
import type { SamplingSettings } from './sampling';

export interface DecodeSettings {
  /** At least 1. */
  maxNewTokens: number;
  /** `minNewTokens` ≤ maxNewTokens; equal to it: fixed length (end-of-sequence ignored throughout). */
  sampling: SamplingSettings;
  /**
   * Seed of transformers.js's random generator for this generation (both loops draw from it):
   * a number, null for a fresh seed from the system, absent to draw from Math.random (KV loop)
   * and transformers.js's generator as it stands (generate()).
   */
  seed?: number | null;
}

export const GREEDY: SamplingSettings = { doSample: false, temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1, minNewTokens: 0 };

/**
 * The app's settings → decode settings. `room`: tokens left in the context after the prompt
 * (null: unknown); max new tokens is clamped to it and is at least 1; min new tokens to max.
 * Greedy ignores temperature, top-k and top-p.
 */
export function decodeSettings(p: GenerationParams, room: number | null): DecodeSettings {
  const maxNewTokens = room === null ? p.maxNewTokens : Math.max(1, Math.min(p.maxNewTokens, room));
  const minNewTokens = p.minNewTokens ? Math.min(p.minNewTokens, maxNewTokens) : 0;
  const base = { repetitionPenalty: p.repetitionPenalty, minNewTokens };
  const sampling: SamplingSettings = p.greedy
    ? { ...GREEDY, ...base }
    : { doSample: true, temperature: p.temperature, topK: p.topK, topP: p.topP, ...base };
  return { maxNewTokens, sampling };
}

/** Sampling settings where each may be left to the model's generation_config (undefined). */
export interface SamplingOverrides {
  doSample?: boolean;
  temperature?: number;
  topK?: number;
  topP?: number;
  repetitionPenalty?: number;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** The sampling defaults a model's generation_config.json sets (the keys it leaves out stay undefined). */
export function modelSamplingDefaults(generationConfig: unknown): SamplingOverrides {
  if (typeof generationConfig !== 'object' || generationConfig === null) return {};
  const g: Record<string, unknown> = { ...generationConfig };
  const out: SamplingOverrides = {};
  if (typeof g['do_sample'] === 'boolean') out.doSample = g['do_sample'];
  const t = num(g['temperature']);
  const k = num(g['top_k']);
  const p = num(g['top_p']);
  const r = num(g['repetition_penalty']);
  if (t !== undefined) out.temperature = t;
  if (k !== undefined) out.topK = k;
  if (p !== undefined) out.topP = p;
  if (r !== undefined) out.repetitionPenalty = r;
  return out;
}

/**
 * Overrides (a request's over the model's defaults, merged by the caller) → settings. What is
 * still unset takes the "off" value: temperature 1, top-k 0, top-p 1, no penalty; sampling only
 * when asked for with a temperature above 0.
 */
export function resolveSampling(o: SamplingOverrides, minNewTokens: number): SamplingSettings {
  const temperature = o.temperature ?? 1;
  return {
    doSample: o.doSample === true && temperature > 0,
    temperature,
    topK: o.topK ?? 0,
    topP: o.topP ?? 1,
    repetitionPenalty: o.repetitionPenalty ?? 1,
    minNewTokens,
  };
}
