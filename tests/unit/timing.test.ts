import { describe, expect, it } from 'vitest';
import { fmtPrefill, fmtTps, RATE_TOO_SHORT, tpsTitle } from '../../src/metrics/format';
import { computeRunMetrics, decodeRate, MIN_DECODE_INTERVALS, MIN_DECODE_WINDOW_MS, rate, type RunContext, type RunMetricsInput } from '../../src/metrics/timing';

describe('fmtPrefill', () => {
  it('says how many prompt tokens were prefilled and reused, or unknown', () => {
    expect(fmtPrefill({ inputTokens: 226, reusedInputTokens: 212 })).toBe('prefill 14 new · 212 reused');
    expect(fmtPrefill({ inputTokens: 40, reusedInputTokens: 0 })).toBe('prefill 40 new · 0 reused');
    expect(fmtPrefill({ inputTokens: 40, reusedInputTokens: null })).toBe('unknown');
    expect(fmtPrefill({ inputTokens: 40 })).toBe('unknown');
  });
});

describe('rate', () => {
  it('is tokens per second', () => {
    expect(rate(10, 1000)).toBe(10);
    expect(rate(1, 250)).toBe(4);
    expect(rate(3, 2000)).toBeCloseTo(1.5, 12);
  });

  it.each([
    ['null duration', 5, null],
    ['zero duration', 5, 0],
    ['negative duration', 5, -10],
    ['NaN duration', 5, Number.NaN],
    ['infinite duration', 5, Number.POSITIVE_INFINITY],
    ['zero tokens', 0, 100],
    ['negative tokens', -1, 100],
  ] as const)('is null for %s', (_label, tokens, ms) => {
    expect(rate(tokens, ms)).toBeNull();
  });
});

describe('decodeRate', () => {
  it('excludes the first token: (n − 1) / (last − first)', () => {
    expect(decodeRate(11, 1000, 2000)).toBe(10);
    expect(decodeRate(6, 0, 50)).toBe(100);
  });

  it('is null over an interval too short to mean anything (one rule: MIN_DECODE_WINDOW_MS, MIN_DECODE_INTERVALS)', () => {
    // Measured: a 3-token answer in 2 ms read "19048 tok/s"; a 15-token local answer in ~4 ms "3684 tok/s".
    expect(decodeRate(3, 0, 0.105)).toBeNull();
    expect(decodeRate(15, 100, 103.8)).toBeNull();
    expect(decodeRate(15, 0, MIN_DECODE_WINDOW_MS - 1)).toBeNull();
    expect(decodeRate(MIN_DECODE_INTERVALS, 0, 1000)).toBeNull();
    expect(decodeRate(MIN_DECODE_INTERVALS + 1, 0, 1000)).toBe(MIN_DECODE_INTERVALS);
    expect(decodeRate(15, 0, MIN_DECODE_WINDOW_MS)).toBe((14 * 1000) / MIN_DECODE_WINDOW_MS);
    expect(tpsTitle(null)).toBe(RATE_TOO_SHORT);
    expect(tpsTitle(12)).toBeUndefined();
    expect(fmtTps(null)).toBe('—');
  });

  it('is null with fewer than two tokens', () => {
    expect(decodeRate(1, 100, 200)).toBeNull();
    expect(decodeRate(0, 100, 200)).toBeNull();
  });

  it('is null when first or last is missing', () => {
    expect(decodeRate(10, null, 200)).toBeNull();
    expect(decodeRate(10, 100, null)).toBeNull();
    expect(decodeRate(10, null, null)).toBeNull();
  });

  it('is null for a zero or negative span', () => {
    expect(decodeRate(10, 500, 500)).toBeNull();
    expect(decodeRate(10, 600, 500)).toBeNull();
  });
});

const context: RunContext = {
  engine: 'local',
  model: 'org/model',
  device: 'wasm',
  dtype: 'q8',
  threads: 4,
  crossOriginIsolated: true,
};

function input(over: Partial<RunMetricsInput> = {}): RunMetricsInput {
  return {
    context,
    // Main-thread clock and engine clock deliberately far apart: mixing them would show.
    clock: { requestStart: 100, firstChunkAt: 350, lastChunkAt: 1350, end: 1400 },
    engineClock: { generateStart: 5000, firstTokenAt: 5200, lastTokenAt: 6100 },
    inputTokens: 50,
    outputTokens: 21,
    tokenCountSource: 'tokenizer',
    ...over,
  };
}

describe('computeRunMetrics', () => {
  it('computes every figure from the right clock', () => {
    const m = computeRunMetrics(input());
    expect(m.ttftMs).toBe(250);
    expect(m.e2eMs).toBe(1300);
    // 50 input tokens over 200 ms of engine time.
    expect(m.prefillTps).toBe(250);
    // 20 tokens over 1000 ms on the main thread.
    expect(m.decodeTps).toBe(20);
    // 20 tokens over 900 ms on the engine clock.
    expect(m.engineDecodeTps).toBeCloseTo(20000 / 900, 10);
    expect(m.inputTokens).toBe(50);
    expect(m.outputTokens).toBe(21);
    expect(m.tokenCountSource).toBe('tokenizer');
  });

  it('carries the run context through', () => {
    const m = computeRunMetrics(input());
    expect(m).toMatchObject(context);
  });

  it('hosted engine: no engine clock → prefill and engine decode are null', () => {
    const m = computeRunMetrics(input({ engineClock: null, tokenCountSource: 'usage', context: { ...context, engine: 'hosted', threads: null } }));
    expect(m.prefillTps).toBeNull();
    expect(m.engineDecodeTps).toBeNull();
    expect(m.decodeTps).toBe(20);
    expect(m.ttftMs).toBe(250);
    expect(m.engine).toBe('hosted');
    expect(m.tokenCountSource).toBe('usage');
  });

  it('no first chunk → ttft and decode are null, e2e still measured', () => {
    const m = computeRunMetrics(
      input({ clock: { requestStart: 100, firstChunkAt: null, lastChunkAt: null, end: 900 }, outputTokens: 0, engineClock: { generateStart: 0, firstTokenAt: null, lastTokenAt: null } }),
    );
    expect(m.ttftMs).toBeNull();
    expect(m.decodeTps).toBeNull();
    expect(m.engineDecodeTps).toBeNull();
    expect(m.prefillTps).toBeNull();
    expect(m.e2eMs).toBe(800);
  });

  it('a single output token → no decode rate on either clock, prefill still measured', () => {
    const m = computeRunMetrics(
      input({ outputTokens: 1, clock: { requestStart: 0, firstChunkAt: 40, lastChunkAt: 40, end: 45 }, engineClock: { generateStart: 10, firstTokenAt: 30, lastTokenAt: 30 } }),
    );
    expect(m.decodeTps).toBeNull();
    expect(m.engineDecodeTps).toBeNull();
    expect(m.prefillTps).toBe(2500);
    expect(m.ttftMs).toBe(40);
  });

  it('zero tokens → no rates', () => {
    const m = computeRunMetrics(input({ inputTokens: 0, outputTokens: 0 }));
    expect(m.prefillTps).toBeNull();
    expect(m.decodeTps).toBeNull();
    expect(m.engineDecodeTps).toBeNull();
  });

  it('zero-duration spans give null rather than Infinity', () => {
    const m = computeRunMetrics(
      input({ clock: { requestStart: 0, firstChunkAt: 10, lastChunkAt: 10, end: 10 }, engineClock: { generateStart: 7, firstTokenAt: 7, lastTokenAt: 7 } }),
    );
    expect(m.ttftMs).toBe(10);
    expect(m.prefillTps).toBeNull();
    expect(m.decodeTps).toBeNull();
    expect(m.engineDecodeTps).toBeNull();
  });

  it('engine clock without a first token → prefill null even if the page saw chunks', () => {
    const m = computeRunMetrics(input({ engineClock: { generateStart: 5000, firstTokenAt: null, lastTokenAt: null } }));
    expect(m.prefillTps).toBeNull();
    expect(m.engineDecodeTps).toBeNull();
    expect(m.decodeTps).toBe(20);
  });

  it('ttft of 0 is kept (not mistaken for missing)', () => {
    const m = computeRunMetrics(input({ clock: { requestStart: 100, firstChunkAt: 100, lastChunkAt: 600, end: 600 } }));
    expect(m.ttftMs).toBe(0);
    expect(m.decodeTps).toBe(40);
  });
});
