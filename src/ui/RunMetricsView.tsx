/** The numbers for one answer, as defined once in metrics/timing.ts (see docs/metrics.md). */
import { fmtBytes, fmtMs, fmtPrefill, fmtTps, RATE_TOO_SHORT } from '../metrics/format';
import type { RunMetrics } from '../metrics/timing';

/** Label, formatted value and explanation of each number of a run: one place for every view of it. */
export function metricCells(m: RunMetrics): [label: string, value: string, title: string][] {
  return [
    ['TTFT', fmtMs(m.ttftMs), 'Time to first token: send → first text received by the page (shown at the next frame)'],
    ['Prefill', fmtTps(m.prefillTps), 'Prefilled input tokens ÷ time to the first token, inside the engine'],
    ['Prompt', `${fmtPrefill(m)}${m.prefillNote ? ` — ${m.prefillNote}` : ''}`, 'Prompt tokens run through the model / taken from the KV cache kept from earlier turns ("unknown": the endpoint does not say), and why fewer were reused than were kept'],
    ['Decode', fmtTps(m.decodeTps), `(output tokens − 1) ÷ (last − first token), as received by the page${m.decodeTps === null ? `. ${RATE_TOO_SHORT}` : ''}`],
    ['Decode (engine)', fmtTps(m.engineDecodeTps), `Same, on the engine clock (no message passing)${m.engineDecodeTps === null ? `. ${RATE_TOO_SHORT}` : ''}`],
    ['End to end', fmtMs(m.e2eMs), 'Send → final chunk'],
    ['Tokens in/out', `${m.inputTokens} / ${m.outputTokens}${m.tokenCountSource === 'estimated' ? ' (est.)' : ''}`, `Counted by ${m.tokenCountSource}`],
    ['Device', `${m.device}${m.dtype ? ` · ${m.dtype}` : ''}${m.threads ? ` · ${m.threads}T` : ''}`, 'Where it ran'],
    ['Isolated', m.crossOriginIsolated === null ? '—' : m.crossOriginIsolated ? 'yes' : 'no', 'Cross-origin isolated page (needed for threads)'],
    ...(m.memoryPeakBytes === undefined || m.memoryPeakBytes === null
      ? []
      : [['Memory peak', fmtBytes(m.memoryPeakBytes), "The model worker's WASM memory after this answer: its peak since the load (WASM memory never shrinks)"] as [string, string, string]]),
  ];
}

export function RunMetricsView({ m }: { m: RunMetrics }) {
  const cells = metricCells(m);
  // The times unrounded, for scripts (the benchmark pairs the app's TTFT with a bare fetch's to 0.1 ms).
  const exact: Record<string, number | null> = { TTFT: m.ttftMs, 'End to end': m.e2eMs };
  return (
    <dl className="run-metrics" data-testid="run-metrics">
      {cells.map(([k, v, title]) => (
        <div key={k} title={title}>
          <dt>{k}</dt>
          <dd data-metric={k} data-ms={exact[k] ?? undefined}>
            {v}
          </dd>
        </div>
      ))}
    </dl>
  );
}
