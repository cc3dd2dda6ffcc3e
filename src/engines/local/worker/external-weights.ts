/**
 * Where a WASM worker's sessions get their weights as external data (src/inference/external-data.ts
 * has the rewrite and the measured reason). Like q4-session.ts, a wrapper around ONNX Runtime Web's
 * `InferenceSession.create(bytes, options)`, the call transformers.js creates every session with;
 * installed before the q4 wrapper, so a rewritten q4 model is split too. It also records what the
 * creation cost in memory (the heap after it, the bytes JavaScript held meanwhile), which a page-side
 * sample cannot see: the worker answers `measureUserAgentSpecificMemory()` only once it is idle again.
 * WASM only: on WebGPU the weights go to GPU buffers and this path is not measured.
 */
import { externalizeInitializers } from '../../../inference/external-data';
import type { SessionMemory } from '../protocol';
import { wasmHeapBytes } from './wasm-memory';

type Create = (...args: unknown[]) => Promise<unknown>;

let installed = false;
let last: SessionMemory | null = null;

/** The memory record of the last session created since the last call (null: none, or not installed). */
export function takeSessionMemory(): SessionMemory | null {
  const r = last;
  last = null;
  return r;
}

export async function installExternalWeights(): Promise<void> {
  if (installed) return;
  const ort = await import('onnxruntime-web/webgpu');
  const cls = ort.InferenceSession as unknown as { create: Create };
  const original: Create = cls.create.bind(cls);
  cls.create = async (...args: unknown[]) => {
    const [model, options, ...rest] = args;
    if (!(model instanceof Uint8Array)) return original(...args);
    const opts = (options ?? {}) as { externalData?: unknown[] };
    // A model that comes with its own external data files is left as it is.
    const split = opts.externalData?.length ? null : externalizeInitializers(model);
    const session = split ? await original(split.graph, { ...opts, externalData: [split.externalData] }, ...rest) : await original(...args);
    last = {
      externalTensors: split?.tensors ?? 0,
      externalBytes: split?.bytes ?? 0,
      heldBytes: model.byteLength + (split?.graph.byteLength ?? 0),
      heapAfterCreateBytes: wasmHeapBytes(),
    };
    return session;
  };
  installed = true;
}
