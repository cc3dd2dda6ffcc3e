/** The main area while the Suites tab is open: progress, report, matrix and exports of one run. */
import { useEffect, useMemo, useState } from 'react';
import { type RunRecord } from '../../eval/results';
import { buildResultsTable } from '../../eval/results-table';
import { etaMs, type Progress } from '../../hooks/useEvalRuns';
import { fmtMs } from '../../metrics/format';
import { download } from '../download';
import { suiteAgreement } from '../../eval/agreement';
import { AgreementReport } from './AgreementReport';
import { ProgressBar } from '../LoadStatus';
import { EvalReport } from './EvalReport';
import { ResultsMatrix } from './ResultsMatrix';

/** The exporters (papaparse for CSV) are loaded on first use, not with the page. */
async function exportAs(kind: 'json' | 'csv' | 'md', record: RunRecord): Promise<string> {
  const m = await import('../../eval/export');
  return kind === 'json' ? m.toJson(record) : kind === 'csv' ? m.toCsv(record) : m.toMarkdown(record);
}

const fileBase = (r: RunRecord) => `slm-results-${r.suite.id}-${new Date(r.createdAt).toISOString().slice(0, 19).replace(/[:T]/g, '-')}`;

function useNow(active: boolean): number {
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(performance.now()), 1000);
    return () => clearInterval(t);
  }, [active]);
  return now;
}

export function SuiteView({ record, progress, error, onClose }: { record: RunRecord | null; progress: Progress | null; error: string | null; onClose: () => void }) {
  const table = useMemo(() => (record ? buildResultsTable(record) : null), [record]);
  const agreement = useMemo(() => (record && table ? suiteAgreement(record, table) : null), [record, table]);
  const running = useMemo(() => new Set(progress?.running ?? []), [progress]);
  const now = useNow(progress !== null);
  const [copied, setCopied] = useState(false);
  if (!record || !table) {
    return (
      <section className="suite-view" data-testid="suite-view">
        {error && <p className="error-box" data-testid="suite-error">{error}</p>}
        <p className="muted">Choose a suite and the engines on the left and press Run, or open a saved run. Results fill the matrix as they arrive and are saved in this browser cell by cell.</p>
      </section>
    );
  }
  const eta = progress ? etaMs(progress, now) : null;
  return (
    <section className="suite-view" data-testid="suite-view" data-run={record.id} data-status={progress ? 'running' : record.status}>
      <header className="row">
        <h2>{record.name}</h2>
        <div className="row" role="group" aria-label="Export">
          <button type="button" className="small" onClick={() => void exportAs('json', record).then((t) => download(`${fileBase(record)}.json`, t))} data-testid="export-json">JSON</button>
          <button type="button" className="small" onClick={() => void exportAs('csv', record).then((t) => download(`${fileBase(record)}.csv`, t, 'text/csv'))} data-testid="export-csv">CSV</button>
          <button type="button" className="small" onClick={() => void exportAs('md', record).then((t) => download(`${fileBase(record)}.md`, t, 'text/markdown'))} data-testid="export-md">Markdown</button>
          <button
            type="button"
            className="small"
            onClick={() =>
              void exportAs('md', record)
                .then((t) => navigator.clipboard.writeText(t))
                .then(
                  () => setCopied(true),
                  () => setCopied(false),
                )
            }
          >
            {copied ? 'Copied' : 'Copy Markdown'}
          </button>
          {!progress && <button type="button" className="small" onClick={onClose} aria-label="Close the report">Close</button>}
        </div>
      </header>
      {error && <p className="error-box" data-testid="suite-error">{error}</p>}
      {progress && (
        <div className="progress" data-testid="suite-progress" data-done={progress.done} data-total={progress.total}>
          <ProgressBar fraction={progress.done / Math.max(1, progress.total)} label="Suite run" />
          <span className="small">
            {progress.done} / {progress.total} cells{eta !== null ? ` · about ${fmtMs(eta)} left` : ''}
          </span>
        </div>
      )}
      <EvalReport record={record} table={table} />
      {agreement && <AgreementReport a={agreement} name={record.name} />}
      <ResultsMatrix table={table} running={running} different={agreement?.different ?? null} />
    </section>
  );
}
