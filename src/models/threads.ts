/**
 * The WASM thread count. ONNX Runtime Web fixes its thread pool when a worker starts, so "auto"
 * is decided per model by measurement: the page loads the model with two candidate counts at once
 * and compares them in alternating pairs (below), and remembers the winner per (model, dtype, cores). On a spike here a
 * second thread gave anywhere from 0.71x to 1.10x on tiny models, so core count alone is a guess.
 */
export type ThreadSetting = 'auto' | number;

/** Candidate counts: 1, 2, 4, … up to the cores the browser reports (at most 8). */
export function threadCandidates(hardwareConcurrency: number, crossOriginIsolated: boolean): number[] {
  if (!crossOriginIsolated) return [1];
  const max = Math.max(1, Math.min(8, hardwareConcurrency));
  const out = [1];
  for (let n = 2; n <= max; n *= 2) out.push(n);
  if (!out.includes(max)) out.push(max);
  return out;
}

/** The default before any measurement: ONNX Runtime's own rule, min(4, ceil(cores / 2)). */
export function defaultThreads(hardwareConcurrency: number, crossOriginIsolated: boolean): number {
  if (!crossOriginIsolated) return 1;
  return Math.max(1, Math.min(4, Math.ceil(hardwareConcurrency / 2)));
}

export interface ThreadMeasurement {
  threads: number;
  decodeTps: number;
}

/** v2: decided by paired measurement (v1's one-after-the-other picks are measured again). */
export function calibrationKey(modelKey: string, dtype: string, hardwareConcurrency: number): string {
  return `slm.threads.v2:${modelKey}:${dtype}:${hardwareConcurrency}`;
}

/**
 * Paired calibration (issue 12): both candidates loaded at once, each in its own worker (ONNX
 * Runtime Web fixes the thread pool per WASM instance: one session cannot switch counts), then
 * short greedy answers alternately, A B A B, so that what the machine does meanwhile (other tabs,
 * other processes: on a busy 2-core machine the speed drifted 2x within a minute) hits both sides of
 * each pair alike. One pair = one answer of each, decoded from the same prompt.
 */
export interface ThreadPair {
  /** Decode tokens/s of the smaller count's answer, and of the larger count's. */
  fewer: number;
  more: number;
}

/** Pairs per round; a round that leaves the answer open is followed by another, up to MAX_PAIRS. */
export const PAIRS = 4;
export const MAX_PAIRS = 12;
/**
 * The larger count is taken when the median of the pairs' speed ratios is at least this, and at
 * least 3 of 4 pairs favour it. Measured: the old rule (one warm-up after the other, 10–25%
 * margins) kept 1 thread where 2 were 1.10–1.28x faster (135M shape, `threads_auto_vs_best`
 * 0.78–0.85, and skipped the measurement over 64 MB) and took 2 where 1 was 1.5x faster (0.66,
 * busy machine). Paired ratios still scatter on a machine at load ~24 (q4 ÷ q8 at 135M, 4 pairs:
 * 0.91, 1.36, 1.12, 1.10), hence the median plus agreement, not one pair. Within the margin either
 * count is within 5% of the better one, which is what `threads_auto_vs_best` ≥ 0.95 asks; the
 * smaller count is kept there (it leaves a core to the page).
 */
export const PAIRED_MARGIN = 1.05;
export const PAIRED_AGREE = 0.75;
/**
 * After MAX_PAIRS pairs that never settled, the larger count is taken on a median of at least this
 * with most pairs favouring it. Why more rounds: four pairs cannot place a 10% gain when single
 * pairs scatter ±20%. Measured (2026-12-01, slm-reference fp32, 2 cores, the bench's own 8 pairs
 * of 2 ÷ 1 threads: 1.18, 0.85, 1.05, 1.05, 1.10, 1.22, 1.10, 1.27; median 1.10): the app's four
 * had kept 1 thread, `threads_auto_vs_best` 0.90–0.91 in that run.
 */
export const FINAL_MARGIN = 1.02;

/**
 * A slow model's round may end after EARLY_PAIRS pairs: when each of them favours the same count by
 * at least EARLY_MARGIN. At the sizes users load the answer is that clear and each answer is long
 * (2026-12-01, 2 cores, pairs of 8-token answers, 2 ÷ 1 threads: 135M q8 1.14–1.81, median 1.40;
 * 0.5B q4 1.35–1.81, every pair ≥ 1.25), so half a round saves ~2.8 s (135M) to ~6 s (0.5B) of a
 * first load. Not for models at EARLY_BELOW_TPS or faster: their round lasts ~2 s, and their short
 * answers scatter so that two pairs in a row crossed the margin 3 times in 32 (slm-reference q8, 64
 * pairs, median 1.04, 0.63–1.38). For a slow model near a tie a false early end costs little (the
 * counts are within a few % there); a 10% difference would need two pairs in a row 1.4x against it.
 */
export const EARLY_PAIRS = 2;
export const EARLY_MARGIN = 1.25;
export const EARLY_BELOW_TPS = 32;

/** Whether the first EARLY_PAIRS pairs already answer the question (above); `warmupTps`: the smaller count's warm-up speed. */
export function settledEarly(pairs: readonly ThreadPair[], warmupTps: number | null): boolean {
  if (warmupTps === null || !(warmupTps < EARLY_BELOW_TPS)) return false;
  if (pairs.length !== EARLY_PAIRS || pairs.some((p) => !(p.fewer > 0 && p.more > 0))) return false;
  const ratios = pairs.map((p) => p.more / p.fewer);
  return ratios.every((r) => r >= EARLY_MARGIN) || ratios.every((r) => r <= 1 / EARLY_MARGIN);
}

export interface PairedDecision {
  more: boolean;
  /** Median of more ÷ fewer over the pairs (null: no usable pair). */
  ratio: number | null;
  /** Share of the pairs where the larger count was faster. */
  agree: number;
  /**
   * Whether the pairs answer the question: the larger count clearly faster (PAIRED_MARGIN and
   * PAIRED_AGREE), or no faster by the median. In between (a median gain under the margin, or a
   * gain most pairs do not share) more pairs are needed, up to MAX_PAIRS.
   */
  settled: boolean;
}

/** The rule above; `last`: no more pairs will come, so an open answer is decided by FINAL_MARGIN. */
export function pairedDecision(pairs: readonly ThreadPair[], last = false): PairedDecision {
  const ratios = pairs.filter((p) => p.fewer > 0 && p.more > 0).map((p) => p.more / p.fewer).sort((a, b) => a - b);
  if (!ratios.length) return { more: false, ratio: null, agree: 0, settled: true };
  const mid = ratios.length >> 1;
  const ratio = ratios.length % 2 ? ratios[mid]! : (ratios[mid - 1]! + ratios[mid]!) / 2;
  const agree = ratios.filter((r) => r > 1).length / ratios.length;
  if (ratio >= PAIRED_MARGIN && agree >= PAIRED_AGREE) return { more: true, ratio, agree, settled: true };
  if (ratio <= 1) return { more: false, ratio, agree, settled: true };
  return { more: last && ratio >= FINAL_MARGIN && agree > 0.5, ratio, agree, settled: false };
}

/**
 * Tokens per calibration answer: ~250 ms of decoding at the warm-up's speed, 8..384. The cap was
 * 128: a toy model's 74-token answers then lasted 39–89 ms (measured), under the 50 ms below which
 * the metrics hide a decode rate, and the 1-thread side read as 0 tok/s in every pair.
 */
export function pairTokens(warmupTps: number | null): number {
  if (warmupTps === null || !(warmupTps > 0)) return 32;
  return Math.max(8, Math.min(384, Math.round(warmupTps / 4)));
}

/**
 * Above this download size "auto" threads are not measured: the paired measurement holds two copies
 * of the model (a q4 model's weights also grow 7x as fp32 in WASM). The Load status says so.
 */
export const PAIRED_MAX_BYTES = 1024 * 1024 * 1024;
/**
 * One loaded copy's peak memory over its download (page and workers). Measured (2026-12-01, whole
 * bench, `memory_over_file`): 2.33 (135M q8), 2.53 (fp32), 2.88 (0.5B q4); a q4 model on a device
 * under 8 GiB gets the int8 form (dtypes.ts rewriteLimits), about the same. 8.44 for 135M q4's fp32
 * form, which only devices reporting 8 GiB get.
 */
export const COPY_PEAK_OVER_FILE = 3;
/** The share of a device's reported memory two copies may take (checkFit's "close" line for one). */
export const SIDE_BY_SIDE_SHARE = 0.5;

/**
 * Whether Auto may load a second copy of a `downloadBytes` model beside the first to measure threads,
 * on a device reporting `deviceMemoryGiB` (null: it does not say). Browsers cap the report at 8, so
 * 8 means "at least 8" and only the download bound applies; below it, two copies' peak must fit the
 * share. Why: on a 4 GB phone two copies of a 0.5B q4 model (862 MB download, ~2.4 GB each) are
 * more than the device has, and a tab that runs out is killed with everything on the page.
 */
export function sideBySideFits(downloadBytes: number | null, deviceMemoryGiB: number | null): boolean {
  const bytes = downloadBytes ?? 0;
  if (bytes > PAIRED_MAX_BYTES) return false;
  if (deviceMemoryGiB === null || !(deviceMemoryGiB > 0) || deviceMemoryGiB >= 8) return true;
  return 2 * COPY_PEAK_OVER_FILE * bytes <= SIDE_BY_SIDE_SHARE * deviceMemoryGiB * 1024 * 1024 * 1024;
}

export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export function readCalibration(store: KeyValueStore, key: string): number | null {
  const v = Number(store.getItem(key));
  return Number.isInteger(v) && v > 0 ? v : null;
}
