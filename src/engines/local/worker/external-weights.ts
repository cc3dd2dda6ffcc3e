/**
 * Where a WASM worker prepares model bytes for ONNX Runtime Web: transformers.js creates every
 * session through `InferenceSession.create(bytes, options)`, the same class object this module
 * imports, so a wrapper around that static method sees the bytes after download or cache read and
 * before ONNX Runtime parses them. Two steps, one mechanism (external data):
 * - q4 weights become fp32 ones (int8 ones past the fp32 bound), all of them written into one buffer
 *   (src/inference/q4-rewrite.ts has the rewrite and its measured reason);
 * - large initializers become external data pointing back into the bytes transformers.js already
 *   holds (src/inference/external-data.ts has the measured reason: ONNX Runtime then copies each
 *   weight once, not the whole file three times).
 * It records what the creation cost, which a page-side sample cannot see (the worker answers
 * `measureUserAgentSpecificMemory()` only once it is idle again): its parts (preparing the bytes,
 * ONNX Runtime's create) and its memory (the heap after it, the bytes JavaScript held meanwhile).
 * Installed only in a worker that runs the WASM backend (WebGPU has fast 4-bit shaders and puts
 * the weights in GPU buffers; a worker serves one device for its whole life).
 */
import { externalizeInitializers, INLINE_WEIGHTS_PATH } from '../../../inference/external-data';
import { rewriteQ4, rewriteQ4Split } from '../../../inference/q4-rewrite';
import { readInt8Llama, type Int8Llama } from '../../../inference/int8-llama';
import { StepOnlySession } from '../../../inference/step-only-session';
import { Q4_REWRITE_LIMITS, rewriteLimits, type RewriteLimits } from '../../../models/dtypes';
import type { SessionMemory, SessionParts, WeightRewrite } from '../protocol';
import { deviceMemoryGiB } from '../../../models/environment';
import type { RewriteHelpers } from './rewrite-helpers';
import { heapGrowthsSince, wasmHeapBytes } from './wasm-memory';

/** Where the q4 rewrite's new weights are mounted (none of a hub model's own names: those are `*.onnx_data`). */
export const FP32_WEIGHTS_PATH = 'slm-q4-fp32-weights.bin';

type Create = (...args: unknown[]) => Promise<unknown>;
type ExternalData = { path: string; data: Uint8Array | string }[];

/** What the sessions created since the last `takeSessionRecord()` cost (the last session's rewrite and memory, the parts summed). */
export interface SessionRecord {
  weightRewrite: WeightRewrite | null;
  sessionParts: SessionParts | null;
  sessionMemory: SessionMemory | null;
}

let installed = false;
/** ONNX Runtime's own create, unwrapped (set on install). */
let originalCreate: Create | null = null;
/** Awaited once before the next session is created: the kernel primer settles or stops there (primer.ts, primer-helper.ts). */
let gate: (() => Promise<unknown>) | null = null;

/** A session for the kernel primer in the model worker: ONNX Runtime's create as it is (no rewrite, not in the load's record). */
export async function createPrimerSession(bytes: Uint8Array): Promise<import('onnxruntime-web/webgpu').InferenceSession> {
  if (!originalCreate) throw new Error('installExternalWeights() has not run');
  return (await originalCreate(bytes, { executionProviders: ['wasm'], logSeverityLevel: 3 })) as import('onnxruntime-web/webgpu').InferenceSession;
}

/** Helpers for the next session's q4 rewrite (rewrite-helpers.ts), closed once it is done. */
let helpers: RewriteHelpers | null = null;

/** The next session's q4 rewrite is split with `h`, which it closes after; the last call wins (an earlier set is closed). */
export function shareNextRewrite(h: RewriteHelpers | null): void {
  if (helpers && helpers !== h) helpers.close();
  helpers = h;
}

/** The model's config where the next session may be the int8 step's alone (load.ts); null: an ONNX Runtime session. */
let stepFirst: Record<string, unknown> | null = null;
/** What the int8 step made of the last such session's bytes: its weights (and the read's ms), or why not. */
let stepRead: { weights: Int8Llama; ms: number } | { reason: string } | null = null;

/**
 * The next session: where the int8 step can read the model's bytes (`config`: the model's config.json), no ONNX
 * Runtime session but a StepOnlySession (step-only-session.ts: the step runs prompts and tokens), the weights
 * kept for `takeStepRead()`; where it cannot, an ONNX Runtime session as always, the reason kept. null: as always.
 */
export function stepFirstNext(config: Record<string, unknown> | null): void {
  stepFirst = config;
  stepRead = null;
}

/** What `stepFirstNext` led to, once: the step's weights, why it could not read the model, or null (no such session). */
export function takeStepRead(): { weights: Int8Llama; ms: number } | { reason: string } | null {
  const r = stepRead;
  stepRead = null;
  stepFirst = null;
  return r;
}

/** The next session's q4 rewrite bounds (load.ts sets them: they depend on the load's int8 step); null: this device's. */
let nextLimits: RewriteLimits | null = null;

/** The next session's q4 rewrite runs under `limits` (dtypes.ts rewriteLimits); once. */
export function rewriteNextWith(limits: RewriteLimits | null): void {
  nextLimits = limits;
}

/** Told as each session's create begins (before the gate): where a load's read ends at the latest (load.ts). */
let createListener: (() => void) | null = null;

/** `l` is called as each session's create begins, until it is replaced or cleared (null). */
export function onCreateStart(l: (() => void) | null): void {
  createListener = l;
}

/** `g` runs (and is awaited) before the next session is created; the last call wins. */
export function gateNextCreate(g: () => Promise<unknown>): void {
  gate = g;
}

let record: SessionRecord = { weightRewrite: null, sessionParts: null, sessionMemory: null };

/**
 * The record so far, cleared. A load calls it before its sessions are created too, so what a
 * failed load left (its rewrite, its parts) is never reported as the next load's.
 */
export function takeSessionRecord(): SessionRecord {
  const r = record;
  record = { weightRewrite: null, sessionParts: null, sessionMemory: null };
  return r;
}

export interface Prepared {
  /** The model to hand ONNX Runtime, and the files it refers to (besides any the model came with). */
  bytes: Uint8Array;
  externalData: { path: string; data: Uint8Array }[];
  externalTensors: number;
  externalBytes: number;
}

/**
 * `model` prepared for ONNX Runtime Web, or null to hand it over as it is (nothing large enough to
 * move out); `rewrite` is the q4 rewrite's record, null when the model had no MatMulNBits. Throws
 * on bytes the protobuf reader cannot parse. `limits`: the largest fp32 and int8 weight sets made at
 * load (why: src/models/dtypes.ts; the worker passes this device's, rewriteLimits()). `helpers`:
 * the rewrite's new weights are filled with them, one weights file a worker (rewrite-helpers.ts).
 */
export async function prepareForOrt(model: Uint8Array, limits: RewriteLimits = Q4_REWRITE_LIMITS, helpers: RewriteHelpers | null = null): Promise<{ prepared: Prepared | null; rewrite: WeightRewrite | null }> {
  const t0 = performance.now();
  const files = { modelFile: INLINE_WEIGHTS_PATH, weightsFile: FP32_WEIGHTS_PATH };
  const r = helpers ? await rewriteQ4Split(model, limits, files, helpers.groups, helpers.fill) : rewriteQ4(model, limits, files);
  const rewrite = r.converted || r.kept
    ? { converted: r.converted, kept: r.kept, fp32Bytes: r.fp32Bytes, fp32MaxBytes: limits.maxFp32Bytes, to: r.to, addedBytes: r.addedBytes, ms: performance.now() - t0, workers: r.converted ? Math.max(1, r.externalData.length - 1) : 0, helperFailure: helpers?.failure ?? null, skipped: r.skipped ?? (r.keptReasons.join('; ') || null) }
    : null;
  if (r.bytes) return { prepared: { bytes: r.bytes, externalData: r.externalData, externalTensors: r.externalTensors, externalBytes: r.externalBytes }, rewrite };
  const split = externalizeInitializers(model);
  return { prepared: split && { bytes: split.graph, externalData: [split.externalData], externalTensors: split.tensors, externalBytes: split.bytes }, rewrite };
}

export async function installExternalWeights(): Promise<void> {
  if (installed) return;
  const ort = await import('onnxruntime-web/webgpu');
  const cls = ort.InferenceSession as unknown as { create: Create };
  const original: Create = cls.create.bind(cls);
  originalCreate = original;
  cls.create = async (...args: unknown[]) => {
    createListener?.();
    if (gate) {
      const g = gate;
      gate = null;
      await g();
    }
    const [model, options, ...rest] = args;
    if (!(model instanceof Uint8Array)) return original(...args);
    const config = stepFirst;
    stepFirst = null;
    if (config) {
      const t = performance.now();
      const w = readInt8Llama(model, config);
      if (!('reason' in w)) {
        stepRead = { weights: w, ms: performance.now() - t };
        // Nothing of ONNX Runtime's is made: no rewrite (its helpers closed).
        helpers?.close();
        helpers = null;
        nextLimits = null;
        return new StepOnlySession(model, w.dims);
      }
      stepRead = { reason: w.reason };
    }
    const t0 = performance.now();
    const wallStart = performance.timeOrigin + t0;
    const h = helpers;
    helpers = null;
    const limits = nextLimits ?? rewriteLimits(deviceMemoryGiB());
    nextLimits = null;
    let p: Awaited<ReturnType<typeof prepareForOrt>>;
    try {
      p = await prepareForOrt(model, limits, h);
    } catch {
      // Bytes this reader cannot parse (a corrupt or truncated file): ONNX Runtime gets them as
      // they are and reports its own error, which the app names "corrupt model" (errors.ts).
      return original(...args);
    } finally {
      h?.close();
    }
    const t1 = performance.now();
    const prepared = p.prepared;
    // A model that ships its own external data (`model.onnx_data`) keeps it: ours is added beside.
    const opts = (options ?? {}) as { externalData?: ExternalData };
    const session = prepared ? await original(prepared.bytes, { ...opts, externalData: [...(opts.externalData ?? []), ...prepared.externalData] }, ...rest) : await original(...args);
    const createMs = performance.now() - t1;
    const sum = record.sessionParts ?? { prepareMs: 0, createMs: 0, externalFiles: 0 };
    // Buffers JavaScript held meanwhile: the file, the small graph, the fp32 weights (not the file twice).
    const held = prepared ? prepared.bytes.byteLength + prepared.externalData.reduce((s, e) => s + (e.data === model ? 0 : e.data.byteLength), 0) : 0;
    record = {
      weightRewrite: p.rewrite ?? record.weightRewrite,
      sessionParts: { prepareMs: sum.prepareMs + t1 - t0, createMs: sum.createMs + createMs, externalFiles: sum.externalFiles + (prepared?.externalData.length ?? 0) },
      sessionMemory: {
        externalTensors: prepared?.externalTensors ?? 0,
        externalBytes: prepared?.externalBytes ?? 0,
        heldBytes: model.byteLength + held,
        heapAfterCreateBytes: wasmHeapBytes(),
        heapGrowthsAt: [...(record.sessionMemory?.heapGrowthsAt ?? []), ...heapGrowthsSince(wallStart)],
      },
    };
    return session;
  };
  installed = true;
}
