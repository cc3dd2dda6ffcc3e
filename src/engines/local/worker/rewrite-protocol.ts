/**
 * The model worker ↔ q4 rewrite helper messages (rewrite-helpers.ts, rewrite.worker.ts): one
 * message type per direction, `kind` and request id, as the page ↔ model worker protocol.
 */
import type { Q4Weights, RewriteTo } from '../../../inference/q4-dequant';

/** A node's 4-bit weights as sent: its own copies of the bytes (they are transferred). */
export interface RewriteJob {
  K: number;
  N: number;
  blockSize: number;
  scales: Float32Array;
  zeroPoints: Uint8Array | null;
  b: Uint8Array;
}

export type ToRewriteHelper = { kind: 'fill'; id: number; to: RewriteTo; jobs: RewriteJob[] };

export type FromRewriteHelper =
  | { kind: 'filled'; id: number; data: Uint8Array; scales: Float32Array[]; ms: number }
  | { kind: 'failed'; id: number; error: string };

/** The job as the arithmetic takes it. */
export function asWeights(j: RewriteJob): Q4Weights {
  return { K: j.K, N: j.N, blockSize: j.blockSize, scales: j.scales, zeroPoints: j.zeroPoints, b: { data: j.b } };
}
