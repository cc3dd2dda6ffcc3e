/**
 * Agreement of the local answer with the hosted one: the last turn's verdict (which measure
 * decided it, every measure's figure, a word diff), the session tally with the disagreements to
 * reopen, and the decision sentence with its Markdown export.
 */
import { useState } from 'react';
import { SIMILARITY_THRESHOLD, type DiffPart } from '../compare/agreement';
import { decisionMarkdown, measureName, percent, sessionDecision, tallySentence, tallySession } from '../compare/agreement-tally';
import type { AgreementEntry, AgreementState } from '../hooks/useAgreement';
import { download } from './download';
import { fmtMs } from '../metrics/format';

const yesNo = (x: boolean | null) => (x === null ? 'n/a' : x ? 'yes' : 'no');
const fig = (x: number | null) => (x === null ? '—' : x.toFixed(2));

export function WordDiff({ diff }: { diff: DiffPart[] | null }) {
  if (!diff) return <p className="small muted">The answers are too long for a word diff; the measures above still count.</p>;
  return (
    <>
      <p className="small muted" id="diff-legend">
        Word diff: <del>struck</del> only in the hosted answer, <ins>underlined</ins> only in the local answer.
      </p>
      <p className="diff pre" aria-describedby="diff-legend" data-testid="agreement-diff">
        {diff.map((d, i) =>
          d.op === 'same' ? (
            <span key={i}>{d.text} </span>
          ) : d.op === 'ref' ? (
            <del key={i}>
              {d.text}{' '}
            </del>
          ) : (
            <ins key={i}>
              {d.text}{' '}
            </ins>
          ),
        )}
      </p>
    </>
  );
}

export function VerdictView({ entry }: { entry: AgreementEntry }) {
  const a = entry.agreement;
  const m = entry.measures;
  const j = entry.judge;
  return (
    <div className="verdict-box" data-testid="agreement">
      <p aria-live="polite" data-testid="agreement-verdict" className={a?.verdict === 'agree' ? 'good' : a?.verdict === 'disagree' ? 'bad' : ''}>
        {a === null ? (entry.judge === 'pending' ? 'Measuring… (waiting for the judge)' : 'Measuring…') : a.verdict === null ? a.reason : <>
              <strong>{a.verdict === 'agree' ? 'Agrees' : 'Differs'}</strong> — decided by <span data-testid="agreement-decided-by">{a.decidedBy}</span>: {a.reason.replace(/^[a-z]+ \([a-z]+\): /u, '')}
            </>}
      </p>
      {m && (
        <dl className="run-metrics" aria-label="Agreement measures">
          <div><dt>exact</dt><dd>{yesNo(m.exact)}</dd></div>
          <div><dt>normalized</dt><dd>{yesNo(m.normalized)}</dd></div>
          <div><dt>JSON</dt><dd>{m.json ? `${yesNo(m.json.agree)} (${m.json.detail})` : 'n/a'}</dd></div>
          <div><dt>numbers</dt><dd>{m.numbers ? `${yesNo(m.numbers.agree)} (${m.numbers.detail})` : 'n/a'}</dd></div>
          <div><dt>token F1</dt><dd data-testid="agreement-f1">{fig(m.tokenF1)}</dd></div>
          <div><dt>ROUGE-L</dt><dd data-testid="agreement-rouge">{fig(m.rougeL)}</dd></div>
          <div><dt>judge</dt><dd data-testid="agreement-judge">{j === null ? 'off' : j === 'pending' ? 'asking…' : j.status === 'done' ? `${j.same ? 'same' : 'different'}${j.reason ? ` — ${j.reason}` : ''}` : `judge failed: ${j.error}`}</dd></div>
          <div><dt>measured</dt><dd>{entry.measuredIn === 'worker' ? 'in a worker' : 'on the page'}{entry.measureMs !== null ? `, ${fmtMs(entry.measureMs)}` : ''}</dd></div>
        </dl>
      )}
      {m && <WordDiff diff={entry.diff} />}
    </div>
  );
}

export function AgreementView({ state, loadMs }: { state: AgreementState; loadMs: number | null }) {
  const [open, setOpen] = useState<number | null>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const last = state.entries[state.entries.length - 1];
  if (!last && !state.judgeAvailable) return null;
  const t = tallySession(state.session);
  const d = sessionDecision(state.session, loadMs);
  const disagreements = state.entries.filter((e) => e.agreement?.verdict === 'disagree');
  const reopened = state.entries.find((e) => e.id === open) ?? null;
  const markdown = () =>
    decisionMarkdown(
      'Local vs hosted: agreement on this session',
      d,
      t,
      disagreements.map((e) => ({ label: `#${e.id}`, prompt: e.prompt, local: e.local, hosted: e.hosted, reason: e.agreement?.reason ?? '' })),
    );
  return (
    <section className="agreement" aria-labelledby="agreement-h">
      <h2 id="agreement-h">Agreement with the hosted answer</h2>
      <label className="check small">
        <input type="checkbox" checked={state.judgeOn} disabled={!state.judgeAvailable} onChange={(e) => state.setJudgeOn(e.target.checked)} data-testid="agreement-judge-toggle" />
        Also ask the hosted model to judge (one more request per prompt; fixed rubric: same facts, numbers and conclusion)
      </label>
      {last && (
        <>
          <h3>Last turn</h3>
          <VerdictView entry={last} />
          <h3>This session</h3>
          <p data-testid="agreement-tally">{tallySentence(t)}{state.pending ? ` (${state.pending} still measuring)` : ''}</p>
          {t.judged > 0 && (
            <table className="metrics accuracy" aria-label="Agreement per measure">
              <thead>
                <tr><th scope="col">Measure</th><th scope="col">Agreed</th><th scope="col">Of</th></tr>
              </thead>
              <tbody>
                {t.perMeasure.map((pm) => (
                  <tr key={pm.id}>
                    <th scope="row">{pm.id === 'similarity' ? `Similarity (ROUGE-L ≥ ${SIMILARITY_THRESHOLD})` : measureName(pm.id)}</th>
                    <td>{pm.agreed}</td>
                    <td>{pm.applicable}{pm.applicable ? ` (${percent(pm.agreed / pm.applicable)})` : ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {disagreements.length > 0 && (
            <>
              <h3>Disagreements ({disagreements.length})</h3>
              <ul className="runs" data-testid="agreement-disagreements">
                {disagreements.map((e) => (
                  <li key={e.id}>
                    <span>#{e.id} {e.prompt.length > 120 ? `${e.prompt.slice(0, 120)}…` : e.prompt}</span>
                    <button className="small" aria-expanded={open === e.id} onClick={() => setOpen(open === e.id ? null : e.id)}>
                      {open === e.id ? 'Close' : 'Reopen'}
                    </button>
                    {reopened && reopened.id === e.id && <VerdictView entry={reopened} />}
                  </li>
                ))}
              </ul>
            </>
          )}
          <h3>Decision</h3>
          <p data-testid="agreement-decision">{d.sentence}</p>
          <div className="row">
            <button
              className="small"
              onClick={() =>
                void navigator.clipboard.writeText(d.sentence).then(
                  () => setCopied('Copied.'),
                  () => setCopied('The browser refused the clipboard: select the sentence and copy it by hand.'),
                )
              }
            >
              Copy the sentence
            </button>
            <button className="small" onClick={() => download('agreement.md', markdown(), 'text/markdown')} data-testid="agreement-markdown">
              Download Markdown
            </button>
            <button className="small" onClick={state.clear}>
              Clear the tally
            </button>
            <span role="status" className="small muted">{copied}</span>
          </div>
        </>
      )}
    </section>
  );
}
