/**
 * onnxruntime-node as the reference server runs it. transformers.js creates every session through
 * `InferenceSession.create(pathOrBytes, options)` of the onnxruntime-node it requires, the class
 * object this module requires too, so a wrapper around that static method sees each model before
 * ONNX Runtime parses it (the browser worker does the same with ONNX Runtime Web:
 * src/engines/local/worker/external-weights.ts). Within `withUnsignedInt8` it makes MatMulInteger's
 * int8 weights uint8 (src/inference/int8-unsigned.ts has the measured reason: ONNX Runtime's u8 × s8
 * kernel saturates on x86 CPUs without VNNI, so the server's q8 answers differed from the browser's
 * by CPU). transformers.js (4.x) hands Node a file path; the wrapper then reads the file and hands
 * over the rewritten bytes, or the path as it was when nothing changed. Outside such a load (other
 * dtypes, other callers in the process) it passes everything through untouched.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { unsignedInt8Weights } from '../src/inference/int8-unsigned';

/** What the wrapper did to one session's model. */
export interface SessionPrep {
  /** MatMulInteger nodes whose weights became uint8, and those left int8 (with why). */
  converted: number;
  kept: number;
  keptReasons: string[];
  ms: number;
}

type Create = (...args: unknown[]) => Promise<unknown>;

let installed = false;
/** The preps of the load in progress; null outside `withUnsignedInt8`. */
let active: SessionPrep[] | null = null;

function install(): void {
  if (installed) return;
  installed = true;
  // Resolved from transformers.js's own folder: the copy it requires, whatever the install's layout.
  const fromTransformers = createRequire(createRequire(import.meta.url).resolve('@huggingface/transformers'));
  const ort = fromTransformers('onnxruntime-node') as { InferenceSession: { create: Create } };
  const cls = ort.InferenceSession;
  const original: Create = cls.create.bind(cls);
  cls.create = async (...args: unknown[]) => {
    const [model, ...rest] = args;
    const preps = active;
    if (!preps || !(model instanceof Uint8Array || typeof model === 'string')) return original(...args);
    const t0 = performance.now();
    let r: ReturnType<typeof unsignedInt8Weights>;
    try {
      r = unsignedInt8Weights(typeof model === 'string' ? new Uint8Array(fs.readFileSync(model)) : model);
    } catch {
      // A file that cannot be read or parsed: ONNX Runtime gets it as it was and says what is wrong.
      return original(...args);
    }
    if (r.converted || r.kept) preps.push({ converted: r.converted, kept: r.kept, keptReasons: r.keptReasons, ms: performance.now() - t0 });
    return original(r.bytes ?? model, ...rest);
  };
}

/**
 * Runs `load` (one model's sessions, created one load at a time) with its int8 MatMul weights made
 * uint8; returns what it made and what was done to each session.
 */
export async function withUnsignedInt8<T>(load: () => Promise<T>): Promise<{ value: T; preps: SessionPrep[] }> {
  install();
  if (active) throw new Error('withUnsignedInt8: another load is in progress');
  const preps: SessionPrep[] = [];
  active = preps;
  try {
    return { value: await load(), preps };
  } finally {
    active = null;
  }
}
