/** The results matrix: a row per case, a column per engine; each cell its answer, verdict and timings. */
import { memo, useState } from 'react';
import type { ResultsTable } from '../../eval/results-table';
import { fmtMs } from '../../metrics/format';

const lastUser = (msgs: { role: string; content: string }[]) => [...msgs].reverse().find((m) => m.role === 'user')?.content ?? '';
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}…` : s);

interface Props {
  table: ResultsTable;
  running: Set<string>;
  /** Case ids where the local answer differs from the hosted one; null without both engines. */
  different?: ReadonlySet<string> | null;
}

export const ResultsMatrix = memo(function ResultsMatrix({ table, running, different = null }: Props) {
  const [onlyDifferent, setOnlyDifferent] = useState(false);
  const rows = different && onlyDifferent ? table.body.filter((r) => different.has(r.case.id)) : table.body;
  return (
    <div>
      {different && (
        <fieldset className="row small">
          <legend>Show</legend>
          <label className="check">
            <input type="radio" name="matrix-filter" checked={!onlyDifferent} onChange={() => setOnlyDifferent(false)} data-testid="matrix-filter-all" />
            All cases ({table.body.length})
          </label>
          <label className="check">
            <input type="radio" name="matrix-filter" checked={onlyDifferent} onChange={() => setOnlyDifferent(true)} data-testid="matrix-filter-different" />
            Different: local disagrees with hosted ({different.size})
          </label>
        </fieldset>
      )}
      <div className="matrix-wrap" tabIndex={0} role="region" aria-label="Results matrix">
      <table className="matrix" data-testid="results-matrix">
        <thead>
          <tr>
            <th>Case</th>
            <th>Expected</th>
            {table.head.engines.map((e) => (
              <th key={e.id} data-testid="matrix-engine">{e.label}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.case.id} data-testid="matrix-row" data-case={row.case.id}>
              <td>
                <div className="small muted">{row.case.id} · {row.case.category}</div>
                <div title={lastUser(row.case.messages)}>{clip(lastUser(row.case.messages), 160)}</div>
              </td>
              <td className="small">{row.case.scorer.type === 'judge' ? <em>judge: {clip(row.case.scorer.rubric, 80)}</em> : row.case.scorer.type === 'agreement' ? <em>the hosted answer</em> : clip(row.case.expected ?? '—', 80)}<div className="muted">{row.case.scorer.type}</div></td>
              {row.cells.map((cell, j) => {
                const engineId = table.head.engines[j]?.id ?? '';
                if (!cell) {
                  const busy = running.has(`${row.case.id}\u0000${engineId}`);
                  return <td key={engineId} className="cell pending" data-testid="matrix-cell" data-state={busy ? 'running' : 'pending'}>{busy ? 'running…' : '—'}</td>;
                }
                const state = cell.status === 'error' ? 'error' : cell.score ? (cell.score.pass ? 'pass' : 'fail') : 'unscored';
                return (
                  <td key={engineId} className={`cell ${state}`} data-testid="matrix-cell" data-state={state}>
                    <div className="verdict">{state === 'pass' ? '✓ pass' : state === 'fail' ? '✗ fail' : state === 'error' ? 'error' : 'not scored'}{cell.score && cell.score.score !== (cell.score.pass ? 1 : 0) ? ` (${cell.score.score.toFixed(2)})` : ''}</div>
                    {/* Model output is shown as text, never as HTML. */}
                    <pre className="output" data-testid="cell-output">{clip(cell.output, 400)}</pre>
                    {cell.error && <div className="error-text small">{cell.error}</div>}
                    {cell.score && <div className="small muted">{cell.score.detail}</div>}
                    {cell.metrics && (
                      <div className="small muted">
                        {fmtMs(cell.metrics.e2eMs)} · TTFT {fmtMs(cell.metrics.ttftMs)} · {cell.metrics.outputTokens} tok{cell.attempts > 1 ? ` · ${cell.attempts} attempts` : ''}
                      </div>
                    )}
                    {cell.judge && (
                      <details className="small">
                        <summary>judge's prompt and verdict</summary>
                        {cell.judge.messages.map((m, i) => (
                          <pre key={i} className="output">{`[${m.role}] ${m.content}`}</pre>
                        ))}
                        <pre className="output">{cell.judge.verdict}</pre>
                      </details>
                    )}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      </div>
    </div>
  );
});
