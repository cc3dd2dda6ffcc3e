/** Messages to and from the agreement worker: one union per direction, `kind` + request id. */
import type { DiffPart, Measures } from './agreement';

export type ToAgreementWorker = { kind: 'measure'; id: number; reference: string; candidate: string };

export type FromAgreementWorker =
  | { kind: 'measured'; id: number; measures: Measures; diff: DiffPart[] | null; ms: number }
  | { kind: 'failed'; id: number; error: string };

/**
 * Pairs whose word diff needs more LCS cells than this are measured in the worker. Measured with
 * scripts/bench/agreement.ts on this project's 2-core CI machine under load: 4M cells (two
 * 2,000-word answers) took 41 ms, so ~250k cells is ~2.5 ms — well inside a 16 ms frame.
 */
export const INLINE_CELLS = 250_000;
