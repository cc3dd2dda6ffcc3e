/**
 * A suite run's agreement with the hosted answers: the decision sentence, agreement per category
 * with 95% intervals, and the disagreements with a word diff (computed when opened).
 */
import { useMemo, useState } from 'react';
import { diffAnswers, lcsCells } from '../../compare/agreement';
import { INLINE_CELLS } from '../../compare/agreement-protocol';
import { intervalText, percent } from '../../compare/agreement-tally';
import { suiteAgreementMarkdown, type SuiteAgreement, type SuiteAgreementRow } from '../../eval/agreement';
import { download } from '../download';
import { WordDiff } from '../AgreementView';

function Diff({ row }: { row: SuiteAgreementRow }) {
  // Suite answers are short; a pair past a frame's worth of LCS cells is diffed only on request.
  const [force, setForce] = useState(false);
  const big = lcsCells(row.hosted, row.local) > INLINE_CELLS;
  const diff = useMemo(() => (!big || force ? diffAnswers(row.hosted, row.local) : null), [row, big, force]);
  if (big && !force) return <button className="small" onClick={() => setForce(true)}>Show the word diff (long answers: may take a moment)</button>;
  return <WordDiff diff={diff} />;
}

export function AgreementReport({ a, name }: { a: SuiteAgreement; name: string }) {
  const [open, setOpen] = useState<string | null>(null);
  if (a.rows.length === 0) return null;
  return (
    <section className="report" aria-labelledby="suite-agreement-h" data-testid="suite-agreement">
      <h3 id="suite-agreement-h">
        Agreement of {a.local.label} with {a.hosted.label}
      </h3>
      <p className="small muted">The hosted answers are taken as the references; cases with only a prompt are scored this way.</p>
      <p data-testid="suite-agreement-decision">{a.decision.sentence}</p>
      <p data-testid="suite-agreement-total">
        Agreed on {a.agreed} of {a.judged} cases{a.judged ? ` (${percent(a.agreed / a.judged)}, 95% interval ${intervalText(a.interval)})` : ''}
        {a.noVerdict ? `; ${a.noVerdict} without a verdict (an engine failed)` : ''}.
      </p>
      <table className="totals" aria-label="Agreement per category">
        <thead>
          <tr>
            <th scope="col">Category</th>
            <th scope="col">Agreed</th>
            <th scope="col">95% interval</th>
          </tr>
        </thead>
        <tbody>
          {a.perCategory.map((c) => (
            <tr key={c.category} data-testid="suite-agreement-category" data-category={c.category}>
              <th scope="row">{c.category}</th>
              <td>{c.judged ? `${c.agreed} / ${c.judged} (${percent(c.agreed / c.judged)})` : '—'}</td>
              <td>{intervalText(c.interval)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {a.disagreements.length > 0 && (
        <>
          <h4>Disagreements ({a.disagreements.length})</h4>
          <ul className="runs" data-testid="suite-agreement-disagreements">
            {a.disagreements.map((r) => (
              <li key={r.caseId}>
                <span>
                  <strong>{r.caseId}</strong> · {r.category} — {r.agreement.reason}
                </span>
                <button className="small" aria-expanded={open === r.caseId} onClick={() => setOpen(open === r.caseId ? null : r.caseId)}>
                  {open === r.caseId ? 'Hide the diff' : 'Show the diff'}
                </button>
                {open === r.caseId && <Diff row={r} />}
              </li>
            ))}
          </ul>
        </>
      )}
      <button className="small" onClick={() => download(`agreement-${name.replace(/[^a-z0-9-]+/giu, '-')}.md`, suiteAgreementMarkdown(a, `${name}: agreement with the hosted answers`), 'text/markdown')}>
        Download the decision (Markdown)
      </button>
    </section>
  );
}
