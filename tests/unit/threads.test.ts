import { describe, expect, it } from 'vitest';
import { calibrationKey, defaultThreads, EARLY_BELOW_TPS, EARLY_MARGIN, FINAL_MARGIN, PAIRED_MARGIN, pairedDecision, pairTokens, PAIRED_MAX_BYTES, readCalibration, settledEarly, sideBySideFits, threadCandidates, type KeyValueStore } from '../../src/models/threads';

describe('threadCandidates', () => {
  it('not cross-origin isolated → [1] whatever the cores', () => {
    expect(threadCandidates(16, false)).toEqual([1]);
    expect(threadCandidates(1, false)).toEqual([1]);
  });

  it.each([
    [1, [1]],
    [2, [1, 2]],
    [3, [1, 2, 3]],
    [4, [1, 2, 4]],
    [6, [1, 2, 4, 6]],
    [8, [1, 2, 4, 8]],
    [12, [1, 2, 4, 8]],
    [16, [1, 2, 4, 8]],
    [64, [1, 2, 4, 8]],
  ])('%d cores → %j', (cores, expected) => {
    expect(threadCandidates(cores, true)).toEqual(expected);
  });

  it('0 or negative cores (unknown) → [1]', () => {
    expect(threadCandidates(0, true)).toEqual([1]);
    expect(threadCandidates(-4, true)).toEqual([1]);
  });

  it('is strictly increasing with no duplicates', () => {
    for (let c = 1; c <= 32; c++) {
      const xs = threadCandidates(c, true);
      for (let i = 1; i < xs.length; i++) expect(xs[i]).toBeGreaterThan(xs[i - 1] ?? Infinity);
      expect(xs.at(-1)).toBe(Math.min(8, c));
    }
  });
});

describe('defaultThreads', () => {
  it('not isolated → 1', () => {
    expect(defaultThreads(16, false)).toBe(1);
  });
  it.each([
    [1, 1],
    [2, 1],
    [3, 2],
    [4, 2],
    [6, 3],
    [8, 4],
    [16, 4],
    [0, 1],
  ])('%d cores → %d (min(4, ceil(cores / 2)))', (cores, n) => {
    expect(defaultThreads(cores, true)).toBe(n);
  });
});

describe('pairedDecision (A B A B pairs)', () => {
  const pairs = (...ratios: number[]) => ratios.map((r) => ({ fewer: 40, more: 40 * r }));

  it('no usable pair → keep the smaller count', () => {
    expect(pairedDecision([])).toEqual({ more: false, ratio: null, agree: 0, settled: true });
    expect(pairedDecision([{ fewer: 0, more: 50 }]).more).toBe(false);
  });

  it('takes the larger count when the median ratio reaches 1.05 and 3 of 4 pairs favour it', () => {
    const d = pairedDecision(pairs(1.25, 1.1, 1.18, 1.28));
    expect(d.more).toBe(true);
    expect(d.ratio).toBeCloseTo(1.215, 3);
    expect(d.agree).toBe(1);
    expect(pairedDecision(pairs(1.06, 1.07, 0.97, 1.08)).more).toBe(true);
  });

  it('noise cannot fake a gain: one lucky pair, or a median under the margin, keeps the smaller count', () => {
    // median 0.995: settled, the larger count is no faster
    expect(pairedDecision(pairs(1.6, 0.98, 1.01, 0.97))).toMatchObject({ more: false, settled: true });
    // a median gain under the margin, or one most pairs do not share: open, more pairs needed
    expect(pairedDecision(pairs(1.04, 1.03, 1.04, 1.02))).toMatchObject({ more: false, settled: false });
    expect(pairedDecision(pairs(1.3, 1.2, 0.99, 0.95))).toMatchObject({ more: false, settled: false });
  });

  it('after the last pair an open answer is decided by FINAL_MARGIN with most pairs agreeing', () => {
    expect(pairedDecision(pairs(1.04, 1.03, 1.04, 1.02), true)).toMatchObject({ more: true, settled: false });
    expect(pairedDecision(pairs(1.01, 1.015, 1.01, 1.012), true).more).toBe(false);
    // median 1.095, but only half the pairs favour the larger count
    expect(pairedDecision(pairs(1.3, 1.2, 0.99, 0.95), true).more).toBe(false);
    // settled answers do not change on the last call
    expect(pairedDecision(pairs(1.25, 1.1, 1.18, 1.28), true).more).toBe(true);
    expect(pairedDecision(pairs(0.66, 0.7, 0.64, 0.69), true).more).toBe(false);
  });

  it('a clearly slower larger count (busy machine) is not taken', () => {
    expect(pairedDecision(pairs(0.66, 0.7, 0.64, 0.69)).more).toBe(false);
  });

  it(`PAIRED_MARGIN and FINAL_MARGIN are within 5%: either choice is then within 5% of the better one`, () => {
    expect(PAIRED_MARGIN).toBeLessThanOrEqual(1 / 0.95);
    expect(FINAL_MARGIN).toBeLessThan(PAIRED_MARGIN);
  });

  it('answers last ~250 ms at the warm-up speed, 8..384 tokens', () => {
    expect(pairTokens(null)).toBe(32);
    expect(pairTokens(45)).toBe(11);
    expect(pairTokens(1000)).toBe(250);
    expect(pairTokens(2000)).toBe(384);
    expect(pairTokens(10)).toBe(8);
  });
});

describe('settledEarly (a slow model, two pairs)', () => {
  const pairs = (...ratios: number[]) => ratios.map((r) => ({ fewer: 10, more: 10 * r }));

  it('two pairs that each favour the same count by EARLY_MARGIN settle it, and pairedDecision agrees', () => {
    expect(settledEarly(pairs(1.3, 1.26), 10)).toBe(true);
    expect(pairedDecision(pairs(1.3, 1.26), true)).toMatchObject({ more: true, settled: true });
    expect(settledEarly(pairs(0.7, 0.79), 10)).toBe(true);
    expect(pairedDecision(pairs(0.7, 0.79), true)).toMatchObject({ more: false, settled: true });
  });

  it('one pair under the margin, or pairs that disagree, leave the round to go on', () => {
    expect(settledEarly(pairs(1.3, 1.2), 10)).toBe(false);
    expect(settledEarly(pairs(1.4, 0.7), 10)).toBe(false);
    expect(settledEarly(pairs(0.7, 0.85), 10)).toBe(false);
  });

  it('only after exactly EARLY_PAIRS usable pairs, and only for a model slower than EARLY_BELOW_TPS', () => {
    expect(settledEarly(pairs(1.5), 10)).toBe(false);
    expect(settledEarly(pairs(1.5, 1.5, 1.5), 10)).toBe(false);
    expect(settledEarly([{ fewer: 0, more: 15 }, { fewer: 10, more: 15 }], 10)).toBe(false);
    expect(settledEarly(pairs(1.5, 1.5), EARLY_BELOW_TPS)).toBe(false);
    expect(settledEarly(pairs(1.5, 1.5), null)).toBe(false);
    expect(settledEarly(pairs(1.5, 1.5), EARLY_BELOW_TPS - 1)).toBe(true);
  });

  it('its margin is wide: a 10% difference needs two pairs in a row ~1.4x against it', () => {
    expect(EARLY_MARGIN / 0.9).toBeGreaterThan(1.35);
    expect(1.1 / (1 / EARLY_MARGIN)).toBeGreaterThan(1.35);
  });
});

describe('calibrationKey', () => {
  it('includes model, dtype and cores', () => {
    expect(calibrationKey('qwen2.5-0.5b', 'q8', 8)).toBe('slm.threads.v2:qwen2.5-0.5b:q8:8');
    expect(calibrationKey('a', 'q8', 8)).not.toBe(calibrationKey('a', 'q8', 4));
    expect(calibrationKey('a', 'q8', 8)).not.toBe(calibrationKey('a', 'q4', 8));
  });
});

class MemoryStore implements KeyValueStore {
  readonly map = new Map<string, string>();
  getItem(key: string): string | null {
    return this.map.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.map.set(key, value);
  }
}

describe('readCalibration', () => {
  it('missing → null', () => {
    expect(readCalibration(new MemoryStore(), 'k')).toBeNull();
  });

  it('reads back a stored count', () => {
    const store = new MemoryStore();
    const key = calibrationKey('m', 'q8', 8);
    store.setItem(key, String(4));
    expect(readCalibration(store, key)).toBe(4);
    expect(readCalibration(store, calibrationKey('m', 'q8', 16))).toBeNull();
  });

  it.each(['', 'abc', '0', '-2', '2.5', 'NaN', 'Infinity', 'null', 'undefined', '[4]x', '{}', 'true'])('junk %j → null', (value) => {
    const store = new MemoryStore();
    store.setItem('k', value);
    expect(readCalibration(store, 'k')).toBeNull();
  });
});

describe('sideBySideFits (two copies for the paired measurement)', () => {
  const MB = 1e6;
  it('keeps the download bound wherever the device says 8 GB or nothing', () => {
    expect(sideBySideFits(862 * MB, null)).toBe(true);
    expect(sideBySideFits(862 * MB, 8)).toBe(true);
    expect(sideBySideFits(PAIRED_MAX_BYTES + 1, null)).toBe(false);
    expect(sideBySideFits(PAIRED_MAX_BYTES + 1, 8)).toBe(false);
    expect(sideBySideFits(null, 4)).toBe(true);
  });

  it('refuses two copies a phone cannot hold: 0.5B q4 (862 MB) and 135M fp32 (652 MB) on 4 GB; 135M q8 (250 MB) fits', () => {
    expect(sideBySideFits(862 * MB, 4)).toBe(false);
    expect(sideBySideFits(652 * MB, 4)).toBe(false);
    expect(sideBySideFits(250 * MB, 4)).toBe(true);
    // 2 × 3 × file ≤ half the device: 4 GiB → at most 357,913,941 bytes.
    expect(sideBySideFits(357_913_941, 4)).toBe(true);
    expect(sideBySideFits(357_913_942, 4)).toBe(false);
    expect(sideBySideFits(250 * MB, 2)).toBe(false);
  });
});
