import { describe, expect, it } from 'vitest';
import { calibrationKey, defaultThreads, pickThreads, readCalibration, threadCandidates, type KeyValueStore } from '../../src/models/threads';

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

describe('pickThreads', () => {
  it('no results → 1', () => {
    expect(pickThreads([])).toBe(1);
  });

  it('a single result → its count', () => {
    expect(pickThreads([{ threads: 4, decodeTps: 10 }])).toBe(4);
  });

  it('takes a clearly faster larger count', () => {
    expect(pickThreads([{ threads: 1, decodeTps: 100 }, { threads: 2, decodeTps: 150 }])).toBe(2);
  });

  it('a larger count must beat the best by more than 10%', () => {
    expect(pickThreads([{ threads: 1, decodeTps: 100 }, { threads: 2, decodeTps: 109.9 }])).toBe(1);
    expect(pickThreads([{ threads: 1, decodeTps: 100 }, { threads: 2, decodeTps: 110.5 }])).toBe(2);
  });

  it('a count that takes every core must beat the best by more than 25%', () => {
    const r = (two: number) => [{ threads: 1, decodeTps: 100 }, { threads: 2, decodeTps: two }];
    expect(pickThreads(r(120), 2)).toBe(1);
    expect(pickThreads(r(126), 2)).toBe(2);
    // with cores to spare, 10% is enough
    expect(pickThreads(r(120), 8)).toBe(2);
  });

  it('ties prefer fewer threads', () => {
    expect(pickThreads([{ threads: 4, decodeTps: 50 }, { threads: 2, decodeTps: 50 }, { threads: 1, decodeTps: 50 }])).toBe(1);
  });

  it('a slower larger count is not taken', () => {
    expect(pickThreads([{ threads: 1, decodeTps: 100 }, { threads: 2, decodeTps: 71 }])).toBe(1);
  });

  it('sorts its input by thread count first', () => {
    expect(pickThreads([{ threads: 8, decodeTps: 100 }, { threads: 1, decodeTps: 101 }, { threads: 4, decodeTps: 60 }])).toBe(1);
    expect(pickThreads([{ threads: 4, decodeTps: 200 }, { threads: 1, decodeTps: 100 }, { threads: 2, decodeTps: 150 }])).toBe(4);
  });

  it('compares against the best so far, not the previous count', () => {
    // 2 beats 1 by > 10%; 4 is faster than 2 but by < 10%; 8 beats 2 by > 10%.
    expect(pickThreads([{ threads: 1, decodeTps: 100 }, { threads: 2, decodeTps: 120 }, { threads: 4, decodeTps: 130 }])).toBe(2);
    expect(
      pickThreads([{ threads: 1, decodeTps: 100 }, { threads: 2, decodeTps: 120 }, { threads: 4, decodeTps: 130 }, { threads: 8, decodeTps: 133 }]),
    ).toBe(8);
  });

  it('does not mutate its input', () => {
    const input = [{ threads: 4, decodeTps: 1 }, { threads: 1, decodeTps: 2 }];
    pickThreads(input);
    expect(input.map((r) => r.threads)).toEqual([4, 1]);
  });
});

describe('calibrationKey', () => {
  it('includes model, dtype and cores', () => {
    expect(calibrationKey('qwen2.5-0.5b', 'q8', 8)).toBe('slm.threads.v1:qwen2.5-0.5b:q8:8');
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
