/**
 * What a model × dtype × device needs in memory, estimated from sizes alone (before any byte of
 * weights is fetched), and whether the device can give it. Pure: the worker's preflight calls it
 * with the files' sizes (HEAD) and config.json; the tests call it unit by unit.
 *
 * The model (each term is a number the check can show the user):
 * - weights: the ONNX file(s) of the dtype (graph + external data).
 * - the weights in the WASM heap: once, plus one tensor's staging buffer. The worker hands ONNX
 *   Runtime Web the weights as external data of the file's own buffer (worker/external-weights.ts),
 *   which it reads tensor by tensor; the heap's excess over the weights is about the largest tensor
 *   (a staging buffer, inferred from the sizes) plus fixed costs. Measured (npm run
 *   bench:memory): the 652 MB fp32 SmolLM2-135M-shape scale model's heap 1.41 × the file, q8 1.27 ×
 *   (before, with the file handed over whole: 2.83 × and 2.60 ×, "3 copies"). The largest tensor is
 *   the embedding table (vocab × hidden); when the config does not say, half the weights.
 * - q4 on WASM: the 4-bit MatMul weights are rewritten at load (src/inference/q4-rewrite.ts) to fp32
 *   (4 bytes a weight) or, past the device's fp32 bound, int8 (1 byte; q4RewriteTarget and rewriteLimits, the rewrite's own rule), and JavaScript holds the new
 *   weights' buffer beside the file while the session is created. Without this term the estimate
 *   read 772 MiB where the 135M shape's q4 heap measured 879 MiB.
 * - KV cache at the context: layers × kv heads × head dim × positions × 2 (K and V) × bytes.
 * - ORT arena: activations and scratch, a fraction of the weights with a floor.
 */
import { q4RewriteTarget, rewriteLimits, type Dtype } from './dtypes';
import type { DeviceKind } from './environment';

export const MIB = 1024 * 1024;
export const GIB = 1024 * MIB;
/** wasm32 addresses at most 4 GiB of linear memory (ONNX Runtime Web's maximum). */
export const WASM32_LIMIT = 4 * GIB;
/** One .onnx file without external data is one protobuf message and one ArrayBuffer: 2 GiB at most. */
export const SINGLE_FILE_LIMIT = 2 * GIB;
/** Above this share of a limit the load is "close": a warning the user may override. */
export const CLOSE_FRACTION = 0.8;
/** Context the KV cache is sized for when the model allows more (the worker keeps one conversation). */
export const DEFAULT_CONTEXT = 4096;

/** Approximate bytes per parameter of each dtype's weights (q4: 4-bit blocks with fp32 scales, embeddings q8). */
export const BYTES_PER_PARAM: Record<Dtype, number> = { fp32: 4, fp16: 2, q8: 1, int8: 1, uint8: 1, q4: 0.6, q4f16: 0.55, bnb4: 0.6 };
/** From largest to smallest, for "a dtype that would fit". */
const SMALLER_FIRST: Dtype[] = ['fp32', 'fp16', 'q8', 'q4', 'q4f16'];

export interface KvShape {
  layers: number;
  kvHeads: number;
  headDim: number;
  maxPositions: number | null;
  vocab: number | null;
  hidden: number | null;
}

/** Bytes a 4-bit MatMul weight takes in a q4 file: 4 bits, an fp32 scale and a 4-bit zero point per block of 32. */
const Q4_PACKED_BYTES = 0.5 + 4 / 32 + 0.5 / 32;

/**
 * Weights of the MatMuls a q4 export makes 4-bit (every projection of every layer and the LM head),
 * from config.json; null when it does not give the sizes.
 */
export function matmulParams(config: Record<string, unknown>): number | null {
  const shape = kvShapeOf(config);
  const heads = num(config, ['num_attention_heads', 'n_head']);
  const inter = num(config, ['intermediate_size', 'n_inner', 'ffn_dim']);
  if (!shape?.hidden || !shape.vocab || !heads || !inter) return null;
  const h = shape.hidden;
  const attn = h * heads * shape.headDim * 2 + h * shape.kvHeads * shape.headDim * 2;
  return shape.layers * (attn + 3 * h * inter) + shape.vocab * h;
}

/**
 * What the q4 rewrite makes on WASM on a device reporting `deviceMemoryGiB` (null: not reported):
 * its target and the weight bytes it adds (null: not rewritten, or sizes unknown). `int8Step`: the load may decode on
 * the int8 step (dtypes.ts rewriteLimits: q4 then becomes int8).
 */
export function q4Rewrite(config: Record<string, unknown>, deviceMemoryGiB: number | null = null, int8Step = false): { to: 'fp32' | 'int8'; bytes: number; packedBytes: number } | null {
  const n = matmulParams(config);
  if (n === null) return null;
  const to = q4RewriteTarget(n, rewriteLimits(deviceMemoryGiB, int8Step));
  return to && { to, bytes: n * (to === 'fp32' ? 4 : 1), packedBytes: Math.round(n * Q4_PACKED_BYTES) };
}

function num(config: Record<string, unknown>, keys: string[]): number | null {
  for (const k of keys) {
    const v = config[k];
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v;
  }
  return null;
}

/** The KV cache's shape from config.json (LLaMA/Qwen/GPT-2 names), or null when it does not say. */
export function kvShapeOf(config: Record<string, unknown>): KvShape | null {
  const layers = num(config, ['num_hidden_layers', 'n_layer', 'num_layers']);
  const heads = num(config, ['num_attention_heads', 'n_head']);
  const hidden = num(config, ['hidden_size', 'n_embd', 'd_model']);
  const kvHeads = num(config, ['num_key_value_heads']) ?? heads;
  const headDim = num(config, ['head_dim']) ?? (hidden !== null && heads !== null ? hidden / heads : null);
  if (layers === null || kvHeads === null || headDim === null) return null;
  return {
    layers,
    kvHeads,
    headDim,
    maxPositions: num(config, ['max_position_embeddings', 'n_positions', 'max_sequence_length', 'seq_length']),
    vocab: num(config, ['vocab_size']),
    hidden,
  };
}

/** K and V for every layer at `positions` tokens. fp16 KV only where the dtype computes in half precision. */
export function kvCacheBytes(shape: KvShape, positions: number, dtype: Dtype): number {
  const bytes = dtype === 'fp16' || dtype === 'q4f16' ? 2 : 4;
  return shape.layers * shape.kvHeads * shape.headDim * positions * 2 * bytes;
}

/** ORT's arena (activations, scratch): 10% of the weights, at least 16 MiB. */
export function arenaBytes(weightsBytes: number): number {
  return Math.max(16 * MIB, Math.round(weightsBytes * 0.1));
}

export interface FileSize {
  file: string;
  bytes: number | null;
}

export interface MemoryEstimate {
  dtype: Dtype;
  device: DeviceKind;
  /** Every ONNX file of the dtype (graph + external data). */
  weightsBytes: number;
  /** The largest single .onnx file that holds its weights inline (no external data), else 0. */
  inlineFileBytes: number;
  kvBytes: number;
  contextTokens: number;
  arenaBytes: number;
  /** WASM: the largest tensor, staged once more while ONNX Runtime reads it into place; 0 on WebGPU. */
  stagingBytes: number;
  /** The WASM heap at its peak (WASM: weights + staging + KV + arena; WebGPU: the CPU-side file copy). */
  wasmHeapBytes: number;
  /** Everything the device holds at the peak (heap + the page-side download buffer on WASM). */
  totalBytes: number;
  /** q4 on WASM: the rewrite's target and the weight bytes it adds (they replace the 4-bit ones in the heap). */
  rewrite: { to: 'fp32' | 'int8'; bytes: number } | null;
  /** Largest single GPU buffer: the embedding table (vocab × hidden × bytes per parameter). */
  largestTensorBytes: number | null;
  /** The device memory the estimate assumed (it decides the q4 rewrite's target); null or absent: not reported. */
  deviceMemoryGiB?: number | null;
  /** Whether the load may decode on the int8 step (it decides the q4 rewrite's target too); absent: no. */
  int8Step?: boolean;
}

/** Sizes → estimate. `null` when a weights file's size is unknown (the host sent no Content-Length). */
export function estimateMemory(opts: {
  files: FileSize[];
  config: Record<string, unknown>;
  dtype: Dtype;
  device: DeviceKind;
  contextTokens?: number;
  /** navigator.deviceMemory (GiB), which decides what q4 weights become on WASM. */
  deviceMemoryGiB?: number | null;
  /** Whether the load may decode on the int8 step (WASM, not turned off): q4 weights then become int8. */
  int8Step?: boolean;
}): MemoryEstimate | null {
  const onnx = opts.files.filter((f) => f.file.startsWith('onnx/'));
  if (onnx.length === 0 || onnx.some((f) => f.bytes === null)) return null;
  const weightsBytes = onnx.reduce((s, f) => s + (f.bytes ?? 0), 0);
  const external = onnx.some((f) => !f.file.endsWith('.onnx'));
  const inlineFileBytes = external ? 0 : Math.max(...onnx.map((f) => f.bytes ?? 0));
  const shape = kvShapeOf(opts.config);
  const contextTokens = opts.contextTokens ?? Math.min(shape?.maxPositions ?? DEFAULT_CONTEXT, DEFAULT_CONTEXT);
  const kvBytes = shape ? kvCacheBytes(shape, contextTokens, opts.dtype) : 0;
  const arena = arenaBytes(weightsBytes);
  const largestTensorBytes = shape?.vocab && shape.hidden ? Math.round(shape.vocab * shape.hidden * BYTES_PER_PARAM[opts.dtype]) : null;
  const stagingBytes = opts.device === 'wasm' ? Math.min(weightsBytes, largestTensorBytes ?? Math.round(weightsBytes / 2)) : 0;
  const q4 = opts.device === 'wasm' && opts.dtype === 'q4' ? q4Rewrite(opts.config, opts.deviceMemoryGiB ?? null, opts.int8Step ?? false) : null;
  const rewrite = q4 && q4.packedBytes < weightsBytes ? { to: q4.to, bytes: q4.bytes } : null;
  // The heap holds the rewritten weights instead of the packed ones; JavaScript holds their buffer too.
  const heapWeights = rewrite && q4 ? weightsBytes - q4.packedBytes + rewrite.bytes : weightsBytes;
  const wasmHeapBytes = opts.device === 'wasm' ? heapWeights + stagingBytes + kvBytes + arena : weightsBytes;
  return {
    dtype: opts.dtype,
    device: opts.device,
    weightsBytes,
    inlineFileBytes,
    kvBytes,
    contextTokens,
    arenaBytes: arena,
    stagingBytes,
    wasmHeapBytes,
    // The downloaded file is also held once outside the heap until the session exists.
    totalBytes: wasmHeapBytes + weightsBytes + (rewrite?.bytes ?? 0) + (opts.device === 'webgpu' ? kvBytes + arena : 0),
    largestTensorBytes,
    rewrite,
    deviceMemoryGiB: opts.deviceMemoryGiB ?? null,
    int8Step: opts.int8Step ?? false,
  };
}

/** What the device can give; null where it does not say. */
export interface DeviceLimits {
  /** navigator.deviceMemory in GiB (coarse: rounded, and capped at 8 by browsers). */
  deviceMemoryGiB: number | null;
  gpuMaxBufferSize: number | null;
  gpuMaxStorageBufferBindingSize: number | null;
}

export type FitVerdict = 'fits' | 'close' | 'too-big';

export interface FitCheck {
  verdict: FitVerdict;
  /** Each limit that is passed or approached, as a sentence with its numbers. */
  reasons: string[];
}

const mb = (n: number) => `${Math.round(n / MIB).toLocaleString('en-US')} MB`;

/** Compares an estimate with the device's limits. */
export function checkFit(e: MemoryEstimate, limits: DeviceLimits): FitCheck {
  const over: string[] = [];
  const close: string[] = [];
  const test = (need: number, limit: number, what: string) => {
    if (need > limit) over.push(`${what}: needs ${mb(need)}, the limit is ${mb(limit)}.`);
    else if (need > CLOSE_FRACTION * limit) close.push(`${what}: needs ${mb(need)} of at most ${mb(limit)}.`);
  };
  if (e.inlineFileBytes > 0) test(e.inlineFileBytes, SINGLE_FILE_LIMIT, 'One .onnx file without external data (a single 2 GB ArrayBuffer and protobuf)');
  if (e.device === 'wasm') {
    test(e.wasmHeapBytes, WASM32_LIMIT, `WASM memory (${mb(e.weightsBytes)} weights${e.rewrite ? `, their 4-bit MatMuls run as ${mb(e.rewrite.bytes)} of ${e.rewrite.to},` : ''} + ${mb(e.stagingBytes)} for the largest tensor while loading + ${mb(e.kvBytes)} KV cache at ${e.contextTokens} tokens + ${mb(e.arenaBytes)} arena; wasm32 addresses 4 GB)`);
  } else {
    if (e.largestTensorBytes !== null && limits.gpuMaxStorageBufferBindingSize !== null) {
      test(e.largestTensorBytes, limits.gpuMaxStorageBufferBindingSize, "The embedding table in one GPU buffer (the adapter's maxStorageBufferBindingSize)");
    }
    if (e.largestTensorBytes !== null && limits.gpuMaxBufferSize !== null) {
      test(e.largestTensorBytes, limits.gpuMaxBufferSize, "The embedding table in one GPU buffer (the adapter's maxBufferSize)");
    }
  }
  if (limits.deviceMemoryGiB !== null) {
    const device = limits.deviceMemoryGiB * GIB;
    // Browsers cap deviceMemory at 8: at 8 the device may have more, so only warn.
    if (limits.deviceMemoryGiB < 8 && e.totalBytes > device) over.push(`Device memory: needs ${mb(e.totalBytes)}, this device reports ${limits.deviceMemoryGiB} GB.`);
    else if (e.totalBytes > 0.5 * device) close.push(`Device memory: needs ${mb(e.totalBytes)}, this device reports ${limits.deviceMemoryGiB >= 8 ? 'at least ' : ''}${limits.deviceMemoryGiB} GB.`);
  }
  if (over.length) return { verdict: 'too-big', reasons: over };
  if (close.length) return { verdict: 'close', reasons: close };
  return { verdict: 'fits', reasons: [] };
}

/**
 * The int8 step (src/inference/int8-session.ts, q8 on WASM, q4 made int8) holds the weights in a WebAssembly memory of
 * its own (the int8 matrices, its KV state) and the f32 embedding in JavaScript: about the file again (measured on the
 * CI shape's q8 export: 0.3 × the file in its memory, the rest the embedding). Where it reads the model, ONNX Runtime
 * makes no session (step-only-session.ts), so the load's estimate (ONNX Runtime's heap and the file held beside it)
 * bounds it from above; what is left to refuse is a memory of its own past what wasm32 addresses. Why not, or null.
 */
export function int8StepMemoryBlocker(e: MemoryEstimate): string | null {
  // q4 made int8: the step's int8 matrices (the rewrite's bytes) besides the file's f32 embedding; a bound from above.
  const step = e.weightsBytes + (e.rewrite?.to === 'int8' ? e.rewrite.bytes : 0) + e.kvBytes;
  if (step > WASM32_LIMIT) return `the int8 step would need ${mb(step)} of WebAssembly memory of its own (wasm32 addresses 4 GB)`;
  return null;
}

/** Rescales an estimate's weights to another dtype (same parameter count); KV and arena follow. */
export function estimateForDtype(e: MemoryEstimate, config: Record<string, unknown>, dtype: Dtype): MemoryEstimate {
  const scale = BYTES_PER_PARAM[dtype] / BYTES_PER_PARAM[e.dtype];
  const files = [{ file: 'onnx/model.onnx', bytes: Math.round(e.weightsBytes * scale) }];
  const out = estimateMemory({ files, config, dtype, device: e.device, contextTokens: e.contextTokens, deviceMemoryGiB: e.deviceMemoryGiB ?? null, int8Step: e.int8Step ?? false });
  if (!out) throw new Error('unreachable: sizes are known');
  // External data stays external in the other dtype's files; inline stays inline.
  return e.inlineFileBytes === 0 ? { ...out, inlineFileBytes: 0 } : out;
}

/** A smaller dtype that would fit, among those offered, or null. */
export function dtypeThatFits(e: MemoryEstimate, config: Record<string, unknown>, limits: DeviceLimits, offered: readonly Dtype[]): Dtype | null {
  const start = SMALLER_FIRST.indexOf(e.dtype);
  for (const d of SMALLER_FIRST.slice(start + 1)) {
    if (!offered.includes(d)) continue;
    if (checkFit(estimateForDtype(e, config, d), limits).verdict === 'fits') return d;
  }
  return null;
}

/** The sentence the user reads: what was refused or is close, with the numbers and what would fit. */
export function fitMessage(modelId: string, e: MemoryEstimate, fit: FitCheck, better: Dtype | null): string {
  const head =
    fit.verdict === 'too-big'
      ? `${modelId} as ${e.dtype} is too big for ${e.device.toUpperCase()} on this device; nothing was downloaded.`
      : `${modelId} as ${e.dtype} may not fit in memory on ${e.device.toUpperCase()}.`;
  const tail = better
    ? ` ${better} would fit (about ${mb(estimateForDtype(e, {}, better).weightsBytes)} of weights).`
    : e.device === 'webgpu'
      ? ' Try WASM or a smaller model.'
      : ' Choose a smaller model.';
  return `${head} ${fit.reasons.join(' ')}${tail}`;
}
