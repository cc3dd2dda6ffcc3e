/**
 * A decode token's time split, by the KV loop's own account on both runtimes (src/inference/kv-decoder.ts
 * `DecodeStats.decodeRunMs`): ONNX Runtime's run of the step, and the rest, the loop's own (feeds, sampling,
 * streaming; in the browser also the page's delivery). Read in the same runs as the row's ratio, so it costs
 * the bench no time. Pure: tests/unit/bench-run-split.test.ts.
 */
import type { DecodeStats } from '../../src/inference/kv-decoder';

/** ONNX Runtime's ms a decode step: its runs after the prefill's, or null where the loop gave no account. */
export function runMsPerStep(stats: DecodeStats | null | undefined): number | null {
  return stats && stats.steps > 1 && Number.isFinite(stats.decodeRunMs) ? stats.decodeRunMs / (stats.steps - 1) : null;
}

export interface SplitFields {
  /** Native ÷ web ms a step inside `session.run`: ONNX Runtime's own ratio as the app's loop drives it. */
  run_ratio: number;
  /**
   * (web steady tokens/s ÷ native's KV-loop tokens/s) ÷ run_ratio: what the app's loop keeps of what ONNX Runtime
   * Web allows it (1: the loop costs no larger share of a token than natively). Against native's own KV loop, not
   * its faster path: the run split is the loop's account, and generate() keeps none.
   */
  ratio_vs_run: number;
  /** Native's KV loop ÷ native's best path (generate() where that was faster): the native side's own loop gap. */
  native_loop_vs_best: number;
  run_ms_per_token: { web: number; native: number };
  /** A token's time outside `session.run`, µs. */
  loop_us_per_token: { web: number; native: number };
}

/**
 * `auto`: the browser's steady figures (decode_steady tokens/s, run_ms_per_token_steady); `nativeBest`: native's
 * (decode_tps, the KV loop's kv_loop_tps and kv_loop_run_ms). Empty where either side has no account.
 */
export function runSplit(
  nativeBest: { decode_tps: number; kv_loop_tps?: number | null; kv_loop_run_ms?: number | null },
  auto: { decode_steady: number; run_ms_per_token_steady?: number | null },
): SplitFields | Record<string, never> {
  const webRun = auto.run_ms_per_token_steady ?? 0;
  const nativeRun = nativeBest.kv_loop_run_ms ?? 0;
  const loopTps = nativeBest.kv_loop_tps ?? 0;
  if (!(webRun > 0) || !(nativeRun > 0) || !(loopTps > 0) || !(auto.decode_steady > 0) || !(nativeBest.decode_tps > 0)) return {};
  const runRatio = nativeRun / webRun;
  // Against the same loop natively. Measured reason (2026-12-04, 135M q8, 2 threads): generate() measured first
  // ran 100.9 tok/s and the KV loop after it 78.8, and either path measured first was the faster one
  // (loop first: 71.5 / 67.9 against generate() 67.0 / 61.7), so ratio_steady ÷ run_ratio read 0.78 for a
  // loop that loses nothing; native.mjs now interleaves the two paths' runs.
  const ratioLoop = auto.decode_steady / loopTps;
  const r2 = (x: number) => Math.round(x * 100) / 100;
  const r4 = (x: number) => Math.round(x * 10_000) / 10_000;
  const us = (ms: number) => Math.round(ms * 1000);
  return {
    run_ratio: r2(runRatio),
    ratio_vs_run: r2(ratioLoop / runRatio),
    native_loop_vs_best: r2(loopTps / nativeBest.decode_tps),
    run_ms_per_token: { web: r4(webRun), native: r4(nativeRun) },
    loop_us_per_token: { web: us(1000 / auto.decode_steady - webRun), native: us(1000 / loopTps - nativeRun) },
  };
}
