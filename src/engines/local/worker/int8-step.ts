/**
 * Whether a load decodes with the int8 step of our own (src/inference/int8-session.ts) and with which weights:
 * a q8 model on WASM, read from the bytes ONNX Runtime Web's session was created from (external-weights.ts keeps
 * them for this), if int8-llama.ts recognises the layout. Otherwise the reason, shown in the Load panel.
 */
import type { Int8Llama } from '../../../inference/int8-llama';
import { readInt8Llama } from '../../../inference/int8-llama';
import type { LoadRequest } from '../protocol';

/** Why this load cannot use the int8 step, or null when it may (its model bytes are then kept). */
export function int8StepBlocker(req: Pick<LoadRequest, 'device' | 'dtype' | 'int8Step'>): string | null {
  if (req.int8Step === false) return 'the int8 step was turned off for this load';
  if (req.device !== 'wasm') return 'the int8 step runs on WASM';
  if (req.dtype !== 'q8' && req.dtype !== 'int8') return `the int8 step runs 8-bit (q8) models, not ${req.dtype}`;
  return null;
}

/** The step's weights from the kept bytes, or why there are none. */
export function int8StepWeights(blocker: string | null, bytes: Uint8Array | null, config: Record<string, unknown>): Int8Llama | { reason: string } {
  if (blocker) return { reason: blocker };
  if (!bytes) return { reason: 'the model file did not reach this worker as one buffer' };
  return readInt8Llama(bytes, config);
}
