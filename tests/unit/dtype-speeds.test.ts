import { describe, expect, it } from 'vitest';
import {
  ADVICE_MARGIN,
  MAX_SAMPLES,
  addSpeed,
  dtypeAdvice,
  dtypeSpeedsKey,
  measured,
  parseDtypeSpeeds,
  readDtypeSpeeds,
  recordDtypeSpeed,
} from '../../src/models/dtype-speeds';
import type { KeyValueStore } from '../../src/models/threads';

function memoryStore(): KeyValueStore & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v) };
}

describe('dtype speeds', () => {
  it('keys by model, device and cores', () => {
    expect(dtypeSpeedsKey('smollm2-135m', 'wasm', 2)).toBe('slm.dtype-speeds.v1:smollm2-135m:wasm:2');
    expect(dtypeSpeedsKey('a', 'wasm', 2)).not.toBe(dtypeSpeedsKey('a', 'webgpu', 2));
    expect(dtypeSpeedsKey('a', 'wasm', 2)).not.toBe(dtypeSpeedsKey('a', 'wasm', 8));
  });

  it('keeps the last MAX_SAMPLES usable figures per dtype', () => {
    let s = {};
    for (let i = 1; i <= MAX_SAMPLES + 2; i++) s = addSpeed(s, 'q8', i);
    s = addSpeed(s, 'q8', null);
    s = addSpeed(s, 'q8', Number.NaN);
    s = addSpeed(s, 'q8', -3);
    s = addSpeed(s, 'q8', 0);
    expect(s).toEqual({ q8: [3, 4, 5, 6, 7] });
  });

  it('parses what it wrote and drops malformed entries one by one', () => {
    expect(parseDtypeSpeeds(JSON.stringify({ q4: [47.7, 46], q8: [42.8] }))).toEqual({ q4: [47.7, 46], q8: [42.8] });
    expect(parseDtypeSpeeds(JSON.stringify({ q4: [47.7, 'x', null, -1], bogus: [1], q8: 'fast', fp32: [] }))).toEqual({ q4: [47.7] });
    for (const raw of [null, '', '{', '[1,2]', 'null', '42']) expect(parseDtypeSpeeds(raw)).toEqual({});
  });

  it('lists measured dtypes fastest first by their median, only those offered', () => {
    const s = { q8: [40, 44, 42.8], q4: [47.7], fp32: [45, 10, 46] };
    expect(measured(s, ['q4', 'q8', 'fp32'])).toEqual([
      { dtype: 'q4', tps: 47.7, samples: 1 },
      { dtype: 'fp32', tps: 45, samples: 3 },
      { dtype: 'q8', tps: 42.8, samples: 3 },
    ]);
    expect(measured(s, ['q8']).map((m) => m.dtype)).toEqual(['q8']);
  });

  it('advises another dtype only past the margin, and only against a measured choice', () => {
    // The twenty-eighth session's 135M figures: q4 (run as fp32) 47.7, q8 42.8 tok/s: 1.11x, inside the margin.
    expect(dtypeAdvice({ q4: [47.7], q8: [42.8] }, 'q8', ['q4', 'q8'])).toBeNull();
    const a = dtypeAdvice({ q4: [56], q8: [42.8] }, 'q8', ['q4', 'q8']);
    expect(a?.faster).toBe('q4');
    expect(a?.ratio).toBeCloseTo(56 / 42.8, 6);
    expect(dtypeAdvice({ q4: [42.8 * ADVICE_MARGIN], q8: [42.8] }, 'q8', ['q4', 'q8'])?.faster).toBe('q4');
    expect(dtypeAdvice({ q4: [42.8 * ADVICE_MARGIN - 0.01], q8: [42.8] }, 'q8', ['q4', 'q8'])).toBeNull();
    // The chosen dtype is the fastest, is not measured yet, or the faster one is not offered.
    expect(dtypeAdvice({ q4: [20], q8: [42.8] }, 'q8', ['q4', 'q8'])).toBeNull();
    expect(dtypeAdvice({ q4: [90] }, 'q8', ['q4', 'q8'])).toBeNull();
    expect(dtypeAdvice({ q4: [90], q8: [42.8] }, 'q8', ['q8', 'fp32'])).toBeNull();
  });

  it('records through a store, and a store that refuses or throws loses nothing else', () => {
    const store = memoryStore();
    const key = dtypeSpeedsKey('m', 'wasm', 2);
    expect(recordDtypeSpeed(store, key, 'q8', 42.8)).toBe(true);
    expect(recordDtypeSpeed(store, key, 'q4', 47.7)).toBe(true);
    expect(recordDtypeSpeed(store, key, 'q4', null)).toBe(true);
    expect(readDtypeSpeeds(store, key)).toEqual({ q8: [42.8], q4: [47.7] });
    store.data.set(key, 'not json');
    expect(readDtypeSpeeds(store, key)).toEqual({});
    expect(recordDtypeSpeed(store, key, 'q8', 41)).toBe(true);
    expect(readDtypeSpeeds(store, key)).toEqual({ q8: [41] });

    const full: KeyValueStore = { getItem: () => null, setItem: () => { throw new DOMException('full', 'QuotaExceededError'); } };
    expect(recordDtypeSpeed(full, key, 'q8', 41)).toBe(false);
    const broken: KeyValueStore = { getItem: () => { throw new Error('SecurityError'); }, setItem: () => {} };
    expect(readDtypeSpeeds(broken, key)).toEqual({});
    expect(recordDtypeSpeed(null, key, 'q8', 41)).toBe(false);
    expect(readDtypeSpeeds(null, key)).toEqual({});
  });
});
