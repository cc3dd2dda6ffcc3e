/**
 * Where q4 weights become fp32 ones in a WASM worker (src/inference/q4-rewrite.ts has the rewrite
 * and the measured reason): transformers.js creates every session through ONNX Runtime Web's
 * `InferenceSession.create(bytes, options)`, the same class object this module imports, so a
 * wrapper around that static method sees the model bytes after download or cache read and before
 * ONNX Runtime parses them. Installed only in a worker that runs the WASM backend (WebGPU has fast
 * 4-bit shaders; a worker serves one device for its whole life).
 */
import { rewriteQ4 } from '../../../inference/q4-rewrite';
import { Q4_FP32_MAX_BYTES } from '../../../models/dtypes';
import type { WeightRewrite } from '../protocol';

/** The largest fp32 weight set made at load (why: src/models/dtypes.ts). */
export const MAX_FP32_BYTES = Q4_FP32_MAX_BYTES;

type Create = (...args: unknown[]) => Promise<unknown>;

let installed = false;
let last: WeightRewrite | null = null;

/** The rewrite of the last session created since `takeRewrite()` was last called (null: none had MatMulNBits). */
export function takeRewrite(): WeightRewrite | null {
  const r = last;
  last = null;
  return r;
}

export async function installQ4Rewrite(): Promise<void> {
  if (installed) return;
  const ort = await import('onnxruntime-web/webgpu');
  const cls = ort.InferenceSession as unknown as { create: Create };
  const original: Create = cls.create.bind(cls);
  cls.create = async (...args: unknown[]) => {
    const [model, ...rest] = args;
    if (model instanceof Uint8Array) {
      const t0 = performance.now();
      let r: ReturnType<typeof rewriteQ4>;
      try {
        r = rewriteQ4(model, MAX_FP32_BYTES);
      } catch {
        // Bytes this reader cannot parse (a corrupt or truncated file): ONNX Runtime gets them as
        // they are and reports its own error, which the app names "corrupt model" (errors.ts).
        return original(...args);
      }
      if (r.converted || r.kept) {
        last = { converted: r.converted, kept: r.kept, fp32Bytes: r.fp32Bytes, ms: performance.now() - t0, skipped: r.skipped ?? (r.keptReasons.join('; ') || null) };
      }
      if (r.bytes) return original(r.bytes, ...rest);
    }
    return original(...args);
  };
  installed = true;
}
