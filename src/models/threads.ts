/**
 * The WASM thread count. ONNX Runtime Web fixes its thread pool when a worker starts, so "auto"
 * is decided per model by measurement: the page loads the model with each candidate count, keeps
 * the fastest steady decode speed, and remembers it per (model, dtype, cores). On a spike here a
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

/**
 * How much faster a larger count must be to be taken. Each thread of ONNX Runtime's pool spins on
 * a core, and the page needs one for rendering; the calibration measures the worker alone, while
 * the page is idle. Measured on a 2-core machine (docs/performance.md): with 2 threads the app
 * decoded 40–55% below the bare worker (`ui_overhead` 0.67–1.25), with 1 thread 6–16% below; and
 * a second thread never beat one by more than noise for the embedded models (`thread_gain` 1.00),
 * yet noisy warm-ups picked it now and then with a 3% or 10% margin.
 */
export const THREAD_GAIN_MARGIN = 1.1;
/** For a count that takes every core. */
export const ALL_CORES_GAIN_MARGIN = 1.25;

/** The fastest count; a larger count must beat the best smaller one by the margin above. */
export function pickThreads(results: ThreadMeasurement[], hardwareConcurrency = Infinity): number {
  const sorted = [...results].sort((a, b) => a.threads - b.threads);
  let best = sorted[0];
  if (!best) return 1;
  for (const r of sorted.slice(1)) {
    const margin = r.threads >= hardwareConcurrency ? ALL_CORES_GAIN_MARGIN : THREAD_GAIN_MARGIN;
    if (r.decodeTps > best.decodeTps * margin) best = r;
  }
  return best.threads;
}

export function calibrationKey(modelKey: string, dtype: string, hardwareConcurrency: number): string {
  return `slm.threads.v1:${modelKey}:${dtype}:${hardwareConcurrency}`;
}

export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export function readCalibration(store: KeyValueStore, key: string): number | null {
  const v = Number(store.getItem(key));
  return Number.isInteger(v) && v > 0 ? v : null;
}
