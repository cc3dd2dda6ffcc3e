/**
 * Decode speeds measured per dtype on this device, so that the Load panel can say when another
 * dtype of the same model decoded clearly faster here (issue 12: "no dtype is a trap"). Which dtype
 * is fastest in the browser is not the native order: on the 135M shape here q4 runs at fp32's speed
 * (its 4-bit weights become fp32 at load) and q8's int8 kernels reach 0.77 of it (the whole bench of
 * the twenty-eighth session: 47.7 against 42.8 tok/s, 1.30x paired), while natively q8 is the
 * faster of the two. ONNX Runtime Web's WebAssembly int8 GEMM repacks the weights into 16-bit panels on
 * every run (its WASM kernel has no prepacked path: 4.7x the time of a plain-SIMD GEMV on the same bytes,
 * docs/performance.md, twenty-ninth session), where native packs them once: the order depends on the
 * runtime and the device.
 *
 * One figure per load: the paired thread measurement's speed for the count kept, else the warm-up's
 * (the median of its last three answers); only loads whose thread count Auto chose (or on WebGPU), so
 * that every dtype is compared at its own best count. Figures of different loads are measured at different
 * times, not side by side, so the advice needs a margin that a quiet machine's drift does not reach
 * (paired q4 ÷ q8 ratios scattered 0.91–1.36 on a machine at load ~24, docs/performance.md).
 */
import type { KeyValueStore } from './threads';
import { isDtype, type Dtype } from './dtypes';
import { median } from '../metrics/stats';

/** Samples kept per dtype (the most recent); the figure shown is their median. */
export const MAX_SAMPLES = 5;
/** Another dtype is advised when its median is at least this many times the chosen dtype's. */
export const ADVICE_MARGIN = 1.2;

export type DtypeSpeeds = Partial<Record<Dtype, number[]>>;

/** Per model (its source label), the device that runs it, and the core count, like the thread calibration. */
export function dtypeSpeedsKey(modelLabel: string, device: string, hardwareConcurrency: number): string {
  return `slm.dtype-speeds.v1:${modelLabel}:${device}:${hardwareConcurrency}`;
}

const usable = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x > 0;

/** Parses a stored record; anything malformed is dropped (never thrown), entry by entry. */
export function parseDtypeSpeeds(raw: string | null): DtypeSpeeds {
  if (!raw) return {};
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return {};
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
  const out: DtypeSpeeds = {};
  for (const [k, samples] of Object.entries(v)) {
    if (!isDtype(k) || !Array.isArray(samples)) continue;
    const kept = samples.filter(usable).slice(-MAX_SAMPLES);
    if (kept.length) out[k] = kept;
  }
  return out;
}

/** The record with one more sample for `dtype` (the oldest dropped past MAX_SAMPLES); unusable figures are ignored. */
export function addSpeed(speeds: DtypeSpeeds, dtype: Dtype, tps: number | null): DtypeSpeeds {
  if (!usable(tps)) return speeds;
  return { ...speeds, [dtype]: [...(speeds[dtype] ?? []), tps].slice(-MAX_SAMPLES) };
}

export interface MeasuredDtype {
  dtype: Dtype;
  /** Median decode tokens/s of the samples. */
  tps: number;
  samples: number;
}

/** The measured dtypes among `offered`, fastest first. */
export function measured(speeds: DtypeSpeeds, offered: readonly Dtype[]): MeasuredDtype[] {
  return offered
    .flatMap((dtype) => {
      const s = speeds[dtype] ?? [];
      const tps = median(s);
      return tps === null ? [] : [{ dtype, tps, samples: s.length }];
    })
    .sort((a, b) => b.tps - a.tps);
}

export interface DtypeAdvice {
  faster: Dtype;
  /** The faster dtype's median ÷ the chosen dtype's. */
  ratio: number;
}

/** The fastest measured dtype when it beat the chosen one (also measured) by ADVICE_MARGIN; else null. */
export function dtypeAdvice(speeds: DtypeSpeeds, chosen: Dtype, offered: readonly Dtype[]): DtypeAdvice | null {
  const m = measured(speeds, offered);
  const mine = m.find((x) => x.dtype === chosen);
  const best = m[0];
  if (!mine || !best || best.dtype === chosen) return null;
  const ratio = best.tps / mine.tps;
  return ratio >= ADVICE_MARGIN ? { faster: best.dtype, ratio } : null;
}

/** Reads the record; a store that throws (storage disabled) reads as empty. */
export function readDtypeSpeeds(store: KeyValueStore | null, key: string): DtypeSpeeds {
  try {
    return parseDtypeSpeeds(store?.getItem(key) ?? null);
  } catch {
    return {};
  }
}

/** Adds a sample and writes the record back; false when the store refused (quota, storage disabled). */
export function recordDtypeSpeed(store: KeyValueStore | null, key: string, dtype: Dtype, tps: number | null): boolean {
  if (!store) return false;
  if (!usable(tps)) return true; // nothing to add: the record stays as it is, unwritten
  try {
    store.setItem(key, JSON.stringify(addSpeed(readDtypeSpeeds(store, key), dtype, tps)));
    return true;
  } catch {
    return false;
  }
}
