// The bench's split of a decode token's time (scripts/bench/run-split.ts): ONNX Runtime's run and the loop's own.
import { describe, expect, it } from 'vitest';
import { runMsPerStep, runSplit } from '../../scripts/bench/run-split';

describe('runMsPerStep', () => {
  it("divides the decode runs' time by the steps after the prefill's", () => {
    expect(runMsPerStep({ steps: 129, decodeRunMs: 64, pooledOutputs: 0, allocatedOutputs: 0 })).toBe(0.5);
  });
  it('gives null without an account or without a decode step', () => {
    expect(runMsPerStep(null)).toBeNull();
    expect(runMsPerStep(undefined)).toBeNull();
    expect(runMsPerStep({ steps: 1, decodeRunMs: 3, pooledOutputs: 0, allocatedOutputs: 0 })).toBeNull();
    expect(runMsPerStep({ steps: 5, decodeRunMs: Number.NaN, pooledOutputs: 0, allocatedOutputs: 0 })).toBeNull();
  });
});

describe('runSplit', () => {
  it("reads the app's ratio against ONNX Runtime's own, and each side's time outside the run", () => {
    // Native: 2,000 tok/s (0.5 ms a token), 0.4 ms in the run; web: 1,000 tok/s (1 ms), 0.5 ms in the run.
    const s = runSplit({ decode_tps: 2000, kv_loop_tps: 2000, kv_loop_run_ms: 0.4 }, { decode_steady: 1000, run_ms_per_token_steady: 0.5 });
    expect(s).toEqual({
      run_ratio: 0.8,
      // ratio_steady 0.5 of a run ratio 0.8: the browser's loop loses beyond ONNX Runtime.
      ratio_vs_run: 0.63,
      native_loop_vs_best: 1,
      run_ms_per_token: { web: 0.5, native: 0.4 },
      loop_us_per_token: { web: 500, native: 100 },
    });
  });

  it("reads the app's loop against native's own KV loop when generate() was the faster baseline", () => {
    // Same loop, same runs on both sides: nothing lost by the app's loop, whatever native's generate() does.
    const s = runSplit({ decode_tps: 2500, kv_loop_tps: 2000, kv_loop_run_ms: 0.4 }, { decode_steady: 2000, run_ms_per_token_steady: 0.4 });
    expect(s).toMatchObject({ run_ratio: 1, ratio_vs_run: 1, native_loop_vs_best: 0.8, loop_us_per_token: { web: 100, native: 100 } });
    // The web loop slower outside its runs than native's: ratio_vs_run below 1 by that share.
    const slow = runSplit({ decode_tps: 2500, kv_loop_tps: 2000, kv_loop_run_ms: 0.4 }, { decode_steady: 1000, run_ms_per_token_steady: 0.4 });
    expect(slow).toMatchObject({ run_ratio: 1, ratio_vs_run: 0.5, loop_us_per_token: { web: 600, native: 100 } });
  });

  it('is empty where a side has no account', () => {
    expect(runSplit({ decode_tps: 2000, kv_loop_tps: null, kv_loop_run_ms: null }, { decode_steady: 1000, run_ms_per_token_steady: 0.5 })).toEqual({});
    expect(runSplit({ decode_tps: 2000, kv_loop_tps: 2000, kv_loop_run_ms: 0.4 }, { decode_steady: 1000, run_ms_per_token_steady: null })).toEqual({});
    expect(runSplit({ decode_tps: 2000, kv_loop_tps: 2000, kv_loop_run_ms: 0.4 }, { decode_steady: 0, run_ms_per_token_steady: 0.5 })).toEqual({});
  });
});
