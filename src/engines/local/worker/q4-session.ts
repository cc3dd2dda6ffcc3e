/**
 * Where a WASM worker prepares model bytes for ONNX Runtime Web: transformers.js creates every
 * session through `InferenceSession.create(bytes, options)`, the same class object this module
 * imports, so a wrapper around that static method sees the bytes after download or cache read and
 * before ONNX Runtime parses them. Two steps, both measured (docs/scale-models.md, "Speed at scale"):
 * - q4 weights become fp32 ones (src/inference/q4-rewrite.ts has the rewrite and its reason);
 * - large initializers become external data pointing back into the bytes, handed over as
 *   `externalData` (src/inference/external-initializers.ts: ORT copies them once instead of three
 *   times into a fresh WASM heap).
 * Installed only in a worker that runs the WASM backend (WebGPU has fast 4-bit shaders; a worker
 * serves one device for its whole life).
 */
import { externalizeModel } from '../../../inference/external-initializers';
import { rewriteQ4 } from '../../../inference/q4-rewrite';
import { Q4_FP32_MAX_BYTES } from '../../../models/dtypes';
import type { SessionParts, WeightRewrite } from '../protocol';

/** The largest fp32 weight set made at load (why: src/models/dtypes.ts). */
export const MAX_FP32_BYTES = Q4_FP32_MAX_BYTES;

/** Names the prepared files are mounted under (none of a hub model's own: those are `*.onnx_data`). */
const FILES = { modelFile: 'slm-playground-initializers.bin', weightsFile: 'slm-playground-q4-fp32.bin' };

type Create = (...args: unknown[]) => Promise<unknown>;
type ExternalData = { path: string; data: Uint8Array | string }[];

let installed = false;
let last: WeightRewrite | null = null;
let parts: SessionParts | null = null;

/** Where the sessions created since the last call spent their time (null: none was created). */
export function takeSessionParts(): SessionParts | null {
  const p = parts;
  parts = null;
  return p;
}

async function timedCreate(create: () => Promise<unknown>, prepareMs: number, externalFiles: number): Promise<unknown> {
  const t0 = performance.now();
  const session = await create();
  const p = parts ?? { prepareMs: 0, createMs: 0, externalFiles: 0 };
  parts = { prepareMs: p.prepareMs + prepareMs, createMs: p.createMs + performance.now() - t0, externalFiles: p.externalFiles + externalFiles };
  return session;
}

/** The rewrite of the last session created since `takeRewrite()` was last called (null: none had MatMulNBits). */
export function takeRewrite(): WeightRewrite | null {
  const r = last;
  last = null;
  return r;
}

/** The model to hand ONNX Runtime and the files it refers to, or null to hand it `model` as it is. */
export function prepareForOrt(model: Uint8Array): { bytes: Uint8Array; externalData: ExternalData } | null {
  const t0 = performance.now();
  const r = rewriteQ4(model, MAX_FP32_BYTES, FILES);
  if (r.converted || r.kept) {
    last = { converted: r.converted, kept: r.kept, fp32Bytes: r.fp32Bytes, ms: performance.now() - t0, skipped: r.skipped ?? (r.keptReasons.join('; ') || null) };
  }
  if (r.bytes) return { bytes: r.bytes, externalData: r.externalData };
  const e = externalizeModel(model, FILES.modelFile);
  return e.bytes ? { bytes: e.bytes, externalData: [{ path: FILES.modelFile, data: model }] } : null;
}

export async function installQ4Rewrite(): Promise<void> {
  if (installed) return;
  const ort = await import('onnxruntime-web/webgpu');
  const cls = ort.InferenceSession as unknown as { create: Create };
  const original: Create = cls.create.bind(cls);
  cls.create = async (...args: unknown[]) => {
    const [model, options, ...rest] = args;
    if (!(model instanceof Uint8Array)) return timedCreate(() => original(...args), 0, 0);
    const t0 = performance.now();
    let p: ReturnType<typeof prepareForOrt>;
    try {
      p = prepareForOrt(model);
    } catch {
      // Bytes this reader cannot parse (a corrupt or truncated file): ONNX Runtime gets them as
      // they are and reports its own error, which the app names "corrupt model" (errors.ts).
      return original(...args);
    }
    const prepareMs = performance.now() - t0;
    if (!p) return timedCreate(() => original(...args), prepareMs, 0);
    const o = (options ?? {}) as { externalData?: ExternalData };
    const prepared = p;
    return timedCreate(() => original(prepared.bytes, { ...o, externalData: [...(o.externalData ?? []), ...prepared.externalData] }, ...rest), prepareMs, prepared.externalData.length);
  };
  installed = true;
}
