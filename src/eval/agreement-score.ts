/**
 * Agreement scores in the results table: a case with only a prompt (scorer "agreement") has each
 * local engine's answer scored against the first hosted engine's (the reference). Structural
 * types, so results.ts can use this without a cycle.
 */
import { agreementOf, type Agreement } from '../compare/agreement';
import type { ScoreResult } from './scorers';
import type { SuiteCase } from './suite';

export interface PairCell {
  status: 'done' | 'error';
  output: string;
  error?: string;
  score: ScoreResult | null;
}

// Keyed by the local cell object (cells are never mutated), checked against the hosted cell it was
// measured with: the table is rebuilt on every finished cell, and each pair is measured once.
const agreements = new WeakMap<PairCell, { hosted: PairCell; agreement: Agreement }>();

/** The agreement of a local cell with a hosted cell (the reference), measured once per pair. */
export function pairAgreement(local: PairCell, hosted: PairCell): Agreement {
  const hit = agreements.get(local);
  if (hit && hit.hosted === hosted) return hit.agreement;
  const agreement = agreementOf({
    reference: hosted.output,
    candidate: local.output,
    referenceError: hosted.status === 'error' ? (hosted.error ?? 'error') : null,
    candidateError: local.status === 'error' ? (local.error ?? 'error') : null,
  });
  agreements.set(local, { hosted, agreement });
  return agreement;
}

/**
 * Scores agreement cases in place (rows are the table's own copies). No hosted answer, or a hosted
 * error: the local cell stays unscored. The record keeps the raw cells; the score is derived.
 */
export function scoreAgreementCells<C extends PairCell>(engines: readonly { kind: 'local' | 'hosted' }[], body: { case: SuiteCase; cells: (C | null)[] }[]): void {
  const hosted = engines.findIndex((e) => e.kind === 'hosted');
  if (hosted < 0) return;
  for (const row of body) {
    if (row.case.scorer.type !== 'agreement') continue;
    const h = row.cells[hosted];
    if (!h || h.status !== 'done') continue;
    engines.forEach((e, j) => {
      const l = row.cells[j];
      if (e.kind !== 'local' || !l || l.status !== 'done' || l.score) return;
      const a = pairAgreement(l, h);
      row.cells[j] = { ...l, score: { pass: a.verdict === 'agree', score: a.verdict === 'agree' ? 1 : 0, detail: `vs hosted: ${a.reason}` } };
    });
  }
}
