/**
 * The model worker ↔ q4 rewrite helper messages (rewrite-helpers.ts, rewrite.worker.ts): one
 * message type per direction, `kind` and request id, as the page ↔ model worker protocol.
 */
import type { Q4Weights, RewriteTo } from '../../../inference/q4-dequant';

/** `jobs`: the group's nodes, each with its own copies of the bytes (they are transferred). */
export type ToRewriteHelper = { kind: 'fill'; id: number; to: RewriteTo; jobs: Q4Weights[] };

export type FromRewriteHelper =
  | { kind: 'filled'; id: number; data: Uint8Array; scales: Float32Array[] }
  | { kind: 'failed'; id: number; error: string };
