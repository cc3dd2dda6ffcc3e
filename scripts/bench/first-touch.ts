/**
 * The two readings docs/performance.md proposes for issue 12's targets that measure this VM rather
 * than the app (pure, unit-tested in tests/unit/bench-first-touch.test.ts):
 *
 * - `exFirstTouch`: warm load ÷ native warm load with each side's first-touch price taken out (the
 *   pages it touched for the first time, from the operating system's own count, times that runtime's
 *   price per GiB measured on this machine in the same run). This VM charges 0.9–1.9 s a GiB for a
 *   page's first touch against ~0.05 s touched again (measured over many sessions); a 135M q4 warm
 *   load touched 1,607 MB in the browser (its 200 MB file, the 540 MB fp32 rewrite, a ~970 MB
 *   WASM heap) against 223 MB natively in the 2026-12-02 bench: at that run's prices 1.8 s of the
 *   browser's 6.95 s, 0.2 s of native's 3.47.
 * - `overFastest`: each dtype's browser decode speed ÷ the fastest dtype of the same model, from
 *   paired ratios (A B A B in the same browser) against one reference dtype. The issue's "no dtype
 *   is a trap" is read against native, where the q8 WASM kernel (kernel_ratio 0.28–0.34 on this
 *   CPU) is the cause; the user's choice is between the dtypes of one model in one browser.
 * - `coldAnswerExtraMs`: what a first answer's cold speed costs the user, in time: the first 64-token
 *   answer after a cold load against the same answer at the steady speed. `ratio_cold` divides speeds;
 *   at toy size a 64-token answer lasts 25–250 ms, and on a first visit it runs while V8 still
 *   optimises ONNX Runtime's WASM (4 s for its largest decode function on this machine): a ratio of
 *   0.2 there is ~0.2 s, where the same ratio at the 135M shape was 2 s.
 * - `warmOverNativeAsRun`: a warm load ÷ native's warm load of the model as the browser runs it. ORT-web's
 *   WASM build has no 4-bit kernels (MatMulNBits dequantizes every weight on every call: 0.05–0.07 of
 *   native), so the app rewrites a q4 model's weights to fp32 at load (src/inference/q4-rewrite.ts) and
 *   creates an fp32 session: 4 bytes a weight to copy, pack and touch where native's q4 session has ~0.56.
 *   Against native's q4 load, the 135M q4 row measures that kernel gap again, as load time.
 */

const GIB = 1024 ** 3;

export interface WarmSide {
  /** The warm load, ms. */
  ms: number;
  /** Bytes it touched for the first time (peak resident memory − resident memory before), or null where unknown. */
  touchedBytes: number | null;
  /** That runtime's price for a first touch on this machine, ms a GiB, or null where unmeasured. */
  msPerGib: number | null;
}

/** The price part of one side's warm load, ms, or null where either figure is missing. */
export function firstTouchMs(side: WarmSide): number | null {
  if (side.touchedBytes === null || side.msPerGib === null) return null;
  return (Math.max(0, side.touchedBytes) / GIB) * side.msPerGib;
}

/**
 * browser ÷ native with each side's first-touch price taken out of its own time. Null where a figure
 * is missing, or where the price would leave a side with nothing (a price measured wrong, not a
 * ratio to report).
 */
export function exFirstTouch(browser: WarmSide, native: WarmSide): number | null {
  const b = firstTouchMs(browser);
  const n = firstTouchMs(native);
  if (b === null || n === null) return null;
  const bRest = browser.ms - b;
  const nRest = native.ms - n;
  if (bRest <= 0 || nRest <= 0) return null;
  return bRest / nRest;
}

/**
 * Every dtype's speed ÷ the fastest one's, from `paired[d]` = d ÷ `reference` (medians of pairs
 * run in the same browser). The reference itself is 1; dtypes without a pair are left out, so a
 * missing pair never reads as a trap.
 */
export function overFastest(reference: string, paired: Record<string, number | null | undefined>): Record<string, number> {
  const rel: Record<string, number> = { [reference]: 1 };
  for (const [d, r] of Object.entries(paired)) if (d !== reference && typeof r === 'number' && Number.isFinite(r) && r > 0) rel[d] = r;
  const fastest = Math.max(...Object.values(rel));
  return Object.fromEntries(Object.entries(rel).map(([d, r]) => [d, r / fastest]));
}

/** Tokens in the first answer the bench times after a cold load (browser.mjs harnessDecode(page, 64)). */
export const COLD_ANSWER_TOKENS = 64;

/** The first answer's extra time at `coldTps` over the same answer at `steadyTps` (ms; negative where the cold one was faster), or null. */
export function coldAnswerExtraMs(coldTps: number | null | undefined, steadyTps: number | null | undefined, tokens = COLD_ANSWER_TOKENS): number | null {
  if (!coldTps || !steadyTps || !(coldTps > 0) || !(steadyTps > 0) || !Number.isFinite(coldTps) || !Number.isFinite(steadyTps)) return null;
  // n tokens at a decode rate span n − 1 intervals (the rate is (n − 1) ÷ (last − first), native.mjs).
  return ((tokens - 1) * 1000) / coldTps - ((tokens - 1) * 1000) / steadyTps;
}

/** What warmOverNativeAsRun reads of a bench row. */
export interface AsRunRow {
  model: string;
  dtype: string;
  warm_load_ms?: number | null;
  native_warm_load_ms?: number | null;
  /** What the warm load's q4 rewrite made of the weights (null: none ran). */
  warm_load_parts?: { rewrite_to?: 'fp32' | 'int8' | null } | null;
}

/** The dtype whose native session the browser's session matches: fp32 for a q4 model rewritten to fp32, q8 for one rewritten to int8. */
const AS_RUN: Record<'fp32' | 'int8', string> = { fp32: 'fp32', int8: 'q8' };

/**
 * `row`'s warm load ÷ the native warm load of the same model in the dtype its session runs (a row of
 * `rows`); a row without a rewrite, or whose comparator was not measured, ÷ its own native figure. Null
 * where the figures are missing.
 */
export function warmOverNativeAsRun(row: AsRunRow, rows: readonly AsRunRow[]): number | null {
  const to = row.warm_load_parts?.rewrite_to ?? null;
  const as = to ? rows.find((r) => r.model === row.model && r.dtype === AS_RUN[to]) : undefined;
  const native = as?.native_warm_load_ms ?? row.native_warm_load_ms;
  if (!row.warm_load_ms || !native) return null;
  return row.warm_load_ms / native;
}
