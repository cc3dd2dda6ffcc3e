/**
 * The one list of weight dtypes: transformers.js's names, and the file suffix each is stored
 * under (`onnx/model{suffix}.onnx`). Used by the sources, the catalog, the settings and the
 * reference server alike.
 */

export const DTYPES = ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4'] as const;
export type Dtype = (typeof DTYPES)[number];

/** transformers.js's file name suffix per dtype: `onnx/model{suffix}.onnx`. */
export const DTYPE_SUFFIX: Record<Dtype, string> = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
};

/** Dtypes whose weights or activations are half precision: WebGPU needs `shader-f16` for them. */
export const F16_DTYPES: readonly Dtype[] = ['fp16', 'q4f16'];

export function isDtype(value: string): value is Dtype {
  return (DTYPES as readonly string[]).includes(value);
}

/** Every dtype except those listed: a catalog entry's offer, written once. */
export function dtypesExcept(...missing: Dtype[]): Dtype[] {
  return DTYPES.filter((d) => !missing.includes(d));
}

/**
 * The most fp32 weight bytes a q4 model may grow to when its 4-bit MatMuls are rewritten as fp32
 * ones at load on WASM (src/inference/q4-rewrite.ts, src/engines/local/worker/external-weights.ts).
 * wasm32 memory ends at 4 GiB, and while a session is created ONNX Runtime holds the model bytes
 * and its own copy of every initializer (~2x). A SmolLM2-135M-shape model adds 540 MB; a
 * Qwen2.5-0.5B-shape one would add 1.98 GB, so it gets the int8 form below instead.
 */
export const Q4_FP32_MAX_BYTES = 1024 * 1024 * 1024;

/**
 * Past Q4_FP32_MAX_BYTES, the most int8 weight bytes (one a weight) the same rewrite may make
 * instead (MatMulInteger, the q8 kernels): a Qwen2.5-0.5B-shape model adds 358 MB, a 1.2B one about
 * 1 GB. Beyond it the 4-bit kernel stays (one buffer of that size is also what JavaScript holds
 * while the session is created).
 */
export const Q4_INT8_MAX_BYTES = 1536 * 1024 * 1024;

/** The most weight bytes the q4 rewrite may add, per target (a target whose bound is 0 is off). */
export interface RewriteLimits {
  /** fp32 MatMul weights (4 bytes a weight): exact, and the fastest kernels. */
  maxFp32Bytes: number;
  /** int8 MatMulInteger weights (1 byte a weight), where fp32 would pass its bound. */
  maxInt8Bytes: number;
}

/** The app's bounds where the device does not say its memory (the worker's rewrite and the memory estimate both use them). */
export const Q4_REWRITE_LIMITS: RewriteLimits = { maxFp32Bytes: Q4_FP32_MAX_BYTES, maxInt8Bytes: Q4_INT8_MAX_BYTES };

/**
 * fp32 weights may take at most 1/FP32_DEVICE_SHARE of the memory the device reports
 * (navigator.deviceMemory, GiB: 8 at most, 4 on most phones), else the q4 MatMuls become int8.
 * fp32 is exact (the 4-bit model's own numbers, token for token), int8 is not; but int8 was not
 * slower where measured: on the SmolLM2-135M shape (bare worker, 2 threads, old and new build
 * alternated, 2 warm loads each, 5 × 128 tokens after each) int8 decoded 49.4–51.2 tok/s against
 * fp32's 46.3–52.0, with a WASM heap of 307–442 MB against 969 MB and session creation 1.0–1.2 s
 * against 1.3–1.4 s. So fp32 where memory is plenty (8 GiB: the 1 GiB bound as before), int8
 * where the extra ~400 MB of a 135M model is what a 4 GiB phone's tab cannot spare (its bound: 512 MiB).
 */
export const FP32_DEVICE_SHARE = 8;

/**
 * The bounds for a device that reports `deviceMemoryGiB` (null: it does not say; the app's bounds). `int8Step`: the
 * load may decode on the int8 step of our own (src/inference/int8-session.ts: WASM, not turned off), which runs
 * q4's weights once they are int8: then q4 always becomes int8 (no fp32 target). Measured (whole bench, 2026-12-04,
 * the SmolLM2-135M shape, 2 threads): q4 as exact fp32 MatMuls decoded at 52.6 tok/s, q8 on the step at 142.4,
 * with a third of the memory (680 MB against 3,709 peak); q4 as int8 on the step computes what q8 does on weights
 * that came as 4 bits. What it gives up: fp32's exactness (its tokens are native q4's only up to a near tie, as q8's
 * are native q8's). Where the step is then not used (its layout not recognised, the device's memory), int8 on ONNX
 * Runtime decodes about as fast as fp32 did (49.4–51.2 against 46.3–52.0 tok/s, FP32_DEVICE_SHARE) in a third of the memory.
 */
export function rewriteLimits(deviceMemoryGiB: number | null, int8Step = false): RewriteLimits {
  const base = deviceMemoryGiB === null || !(deviceMemoryGiB > 0)
    ? Q4_REWRITE_LIMITS
    : { maxFp32Bytes: Math.min(Q4_FP32_MAX_BYTES, (deviceMemoryGiB * 1024 * 1024 * 1024) / FP32_DEVICE_SHARE), maxInt8Bytes: Q4_INT8_MAX_BYTES };
  return int8Step ? { ...base, maxFp32Bytes: 0 } : base;
}

/** What `weights` 4-bit MatMul weights become: fp32 where they fit its bound, else int8 where they fit that one, else nothing. */
export function q4RewriteTarget(weights: number, limits: RewriteLimits = Q4_REWRITE_LIMITS): 'fp32' | 'int8' | null {
  return weights * 4 <= limits.maxFp32Bytes ? 'fp32' : weights <= limits.maxInt8Bytes ? 'int8' : null;
}
