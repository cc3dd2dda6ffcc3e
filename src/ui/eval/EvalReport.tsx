/** The report: can the small model do this job? Accuracy with a 95% interval, latency, cost, break-even. */
import { lazy, Suspense } from 'react';
import { tradeOffs } from '../../eval/report';
import type { RunRecord } from '../../eval/results';
import type { Accuracy, ResultsTable } from '../../eval/results-table';
import { fmtBytes, fmtMs, fmtTps, tpsTitle } from '../../metrics/format';
import { StructureReport } from './StructureReport';

const EvalCharts = lazy(() => import('./EvalCharts'));

const pct = (v: number | null) => (v === null ? '—' : `${Math.round(v * 100)}%`);
export function fmtAcc(a: Accuracy): string {
  if (a.accuracy === null) return '—';
  return `${pct(a.accuracy)} (${a.passed}/${a.scored}; 95% CI ${pct(a.ci?.low ?? null)}–${pct(a.ci?.high ?? null)})`;
}
const usd = (v: number | null) => (v === null ? 'no price' : v === 0 ? '$0' : v < 0.01 ? `$${v.toFixed(5)}` : `$${v.toFixed(3)}`);

export function EvalReport({ record, table }: { record: RunRecord; table: ResultsTable }) {
  const trade = tradeOffs(record, table);
  return (
    <section className="report" data-testid="eval-report">
      <div className="scroll-x" tabIndex={0} role="region" aria-label="Totals per engine">
      <table className="totals" data-testid="report-totals">
        <thead>
          <tr>
            <th>Engine</th>
            <th>Accuracy</th>
            <th>Latency p50 / p95</th>
            <th>TTFT p50</th>
            <th>Decode</th>
            <th>Tokens in / out</th>
            <th title="Local engines: the model worker's WASM memory at its peak (the load's, or after an answer; it never shrinks)">Memory peak</th>
            <th>Cost</th>
            <th>Errors</th>
          </tr>
        </thead>
        <tbody>
          {table.totals.map((t, j) => (
            <tr key={t.engineId} data-testid="report-row" data-engine={t.engineId}>
              <td>{table.head.engines[j]?.label}</td>
              <td data-testid="report-accuracy" data-passed={t.passed} data-scored={t.scored}>{fmtAcc(t)}</td>
              <td>{fmtMs(t.e2e.p50)} / {fmtMs(t.e2e.p95)}</td>
              <td>{fmtMs(t.ttft.p50)}</td>
              <td title={tpsTitle(t.decodeTps)}>{fmtTps(t.decodeTps)}</td>
              <td>{t.inputTokens} / {t.outputTokens}</td>
              <td data-testid="report-memory" data-bytes={t.memoryPeakBytes ?? ''}>{fmtBytes(t.memoryPeakBytes)}</td>
              <td>{usd(t.costUsd)}</td>
              <td>{t.errors}</td>
            </tr>
          ))}
        </tbody>
      </table>
      </div>
      <StructureReport table={table} />
      {table.categories.length > 1 && (
        <div className="scroll-x" tabIndex={0} role="region" aria-label="Accuracy per category">
        <table className="totals" data-testid="report-categories">
          <thead>
            <tr>
              <th>Category</th>
              {table.head.engines.map((e) => (
                <th key={e.id}>{e.label}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {table.categories.map((c) => (
              <tr key={c}>
                <td>{c}</td>
                {table.totals.map((t) => {
                  const a = t.perCategory[c];
                  return <td key={t.engineId}>{a && a.accuracy !== null ? `${pct(a.accuracy)} (${a.passed}/${a.scored})` : '—'}</td>;
                })}
              </tr>
            ))}
          </tbody>
        </table>
        </div>
      )}
      {trade.map((t) => (
        <p key={`${t.local.id}-${t.hosted.id}`} className="tradeoff" data-testid="report-tradeoff">
          <strong>{t.local.label}</strong> vs <strong>{t.hosted.label}</strong>:{' '}
          {t.accuracyDelta === null ? 'accuracy not comparable yet' : `${t.accuracyDelta >= 0 ? '+' : ''}${Math.round(t.accuracyDelta * 100)} points of accuracy`}
          {'; '}per request {fmtMs(t.localP50)} local vs {fmtMs(t.hostedP50)} hosted (p50, warm).{' '}
          Cold start: {t.localLoadMs === null ? 'not recorded' : `${fmtMs(t.localLoadMs)} to load${t.localDownloadBytes ? ` (${fmtBytes(t.localDownloadBytes)})` : ''}`}.{' '}
          {t.breakEvenRequests !== null
            ? `After ${t.breakEvenRequests} request${t.breakEvenRequests === 1 ? '' : 's'}, local has paid back its load time.`
            : t.localLoadMs === null
              ? ''
              : 'Local is not faster per request, so it never pays back its load time in time.'}{' '}
          Hosted costs {usd(t.hostedCostPer1k)} per 1,000 such requests; local $0.
        </p>
      ))}
      <Suspense fallback={<p className="muted small">Loading charts…</p>}>
        <EvalCharts record={record} table={table} />
      </Suspense>
    </section>
  );
}
