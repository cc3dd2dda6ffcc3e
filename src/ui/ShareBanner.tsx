// Over 300 lines: one banner for the three things a link carries (setup, an exchange snapshot, a suite snapshot), each beside the viewer's own.
/**
 * An opened share link: what it would set up (saying plainly if it names a hosted endpoint), the
 * sharer's numbers when it carries a snapshot, and — once the viewer has run the same prompt —
 * their numbers beside the sharer's. Everything from the link is rendered as text, never HTML.
 */
import type { Exchange } from '../compare/strip';
import type { Incoming } from '../hooks/useShare';
import { fmtBytes, fmtLoadMemory, fmtMs, fmtTps } from '../metrics/format';
import type { RunMetrics } from '../metrics/timing';
import { metricCells } from './RunMetricsView';
import { sourceLabel } from '../models/sources';
import type { ShareState, ShareSuiteTotals } from '../share/schema';
import { PRESETS } from '../engines/hosted/presets';
import { type RunRecord } from '../eval/results';
import { buildResultsTable } from '../eval/results-table';
import { suiteTotalsOf } from '../share/state';
import { ShareSession } from './ShareSession';

interface Props {
  incoming: Incoming;
  /** The viewer's last finished exchange, for "yours vs the sharer's". */
  mine: Exchange | null;
  /** The suite run open in the viewer's app, for "yours vs the sharer's" on a shared suite. */
  mineSuite: RunRecord | null;
  applied: boolean;
  canRestore: boolean;
  onApply: (s: ShareState) => void;
  onRun: (s: ShareState) => void;
  onRestore: () => void;
  onDismiss: () => void;
}

/** The rows shown for the sharer (and the viewer), formatted exactly as under each answer. */
const ROWS = ['TTFT', 'Prefill', 'Decode', 'End to end', 'Tokens in/out', 'Memory peak', 'Device'];
const value = (m: RunMetrics | null, label: string) => (m ? (metricCells(m).find(([k]) => k === label)?.[1] ?? '—') : '—');

function Setup({ s }: { s: ShareState }) {
  const g = s.generation;
  return (
    <dl className="share-setup" data-testid="share-setup">
      <dt>In-browser model</dt>
      <dd data-testid="share-local">
        {sourceLabel(s.local.source)} · {s.local.dtype} · device {s.local.device} · threads {String(s.local.threads)}
        {s.local.warmup ? '' : ' · no warm-up'}
      </dd>
      <dt>Hosted model</dt>
      <dd data-testid="share-hosted">
        {s.hosted ? (
          <>
            <strong>This link names a hosted endpoint: </strong>
            <span className="mono">{s.hosted.baseUrl}</span> ({PRESETS[s.hosted.presetId].label}
            {s.hosted.model ? `, model ${s.hosted.model}` : ''}). Nothing has been sent there. If you use this setup and press Send, your prompt
            goes to that server (with a key only if you enter one for it).
          </>
        ) : (
          'none'
        )}
      </dd>
      <dt>Generation</dt>
      <dd>
        {g.greedy ? 'greedy' : `temperature ${g.temperature}, top-p ${g.topP}, top-k ${g.topK}`} · max {g.maxNewTokens} tokens
        {g.repetitionPenalty !== 1 ? ` · repetition penalty ${g.repetitionPenalty}` : ''}
      </dd>
      {g.responseFormat && g.responseFormat.type !== 'text' && (
        <>
          <dt>Output format</dt>
          <dd data-testid="share-format">
            {g.responseFormat.type === 'json_object' ? 'JSON (any object)' : <>JSON Schema “{g.responseFormat.name}”: <span className="mono">{JSON.stringify(g.responseFormat.schema).slice(0, 300)}</span></>}
          </dd>
        </>
      )}
      {s.systemPrompt && (
        <>
          <dt>System prompt</dt>
          <dd className="pre">{s.systemPrompt}</dd>
        </>
      )}
      <dt>Prompt</dt>
      <dd className="pre" data-testid="share-prompt">
        {s.prompt || '—'}
      </dd>
      {s.suite && (
        <>
          <dt>Suite</dt>
          <dd data-testid="share-suite">
            {s.suite.kind === 'bundled'
              ? `${s.suite.name} (${s.suite.cases} cases, bundled with the app)`
              : `${s.suite.suite.name} (${s.suite.suite.cases.length} cases, carried in the link)`}
          </dd>
        </>
      )}
    </dl>
  );
}

function Snapshot({ s, mine }: { s: ShareState; mine: Exchange | null }) {
  const snap = s.snapshot;
  if (!snap) return null;
  const d = snap.device;
  const comparable = mine && mine.prompt === snap.prompt ? mine : null;
  return (
    <div data-testid="share-snapshot">
      <h3>The sharer's run</h3>
      <p className="small muted" data-testid="share-device">
        {new Date(snap.takenAt).toLocaleString()} · {d.backend ?? 'no local model'}
        {d.threads ? ` · ${d.threads} thread${d.threads === 1 ? '' : 's'}` : ''} · {d.crossOriginIsolated ? 'cross-origin isolated' : 'not isolated'} ·{' '}
        {d.hardwareConcurrency} cores · {d.adapter ?? 'no WebGPU adapter'} · {d.userAgent}
      </p>
      {snap.load && (
        <p className="small" data-testid="share-load">
          Model load: {fmtMs(snap.load.totalMs)} ({fmtBytes(snap.load.downloadBytes)}, warm-up {fmtMs(snap.load.warmupMs)})
          {snap.load.memory && (
            <>
              {' · memory: '}
              <span data-testid="share-load-memory">{fmtLoadMemory(snap.load.memory)}</span>
              {snap.load.memory.note && <span className="muted"> — {snap.load.memory.note}</span>}
            </>
          )}
        </p>
      )}
      <div className="scroll-x" tabIndex={0} role="region" aria-label="The sharer's numbers">
      <table className="metrics" data-testid="share-metrics">
        <thead>
          <tr>
            <td />
            {snap.answers.map((a) => (
              <th key={a.pane} colSpan={comparable ? 2 : 1}>
                {a.pane === 'local' ? 'In browser' : 'Hosted'}: {a.label}
              </th>
            ))}
          </tr>
          {comparable && (
            <tr>
              <td />
              {snap.answers.map((a) => [<th key={`${a.pane}-s`}>sharer</th>, <th key={`${a.pane}-y`}>yours</th>])}
            </tr>
          )}
        </thead>
        <tbody>
          {ROWS.map((label) => (
            <tr key={label}>
              <th>{label}</th>
              {snap.answers.map((a) => {
                const yours = comparable?.answers.find((x) => x.paneId === a.pane);
                return [
                  <td key={`${a.pane}-s`} data-testid={`share-${a.pane}-${label}`}>
                    {a.error ? 'error' : value(a.metrics, label)}
                  </td>,
                  comparable && (
                    <td key={`${a.pane}-y`} data-testid={`mine-${a.pane}-${label}`}>
                      {yours ? (yours.error ? 'error' : value(yours.metrics, label)) : '—'}
                    </td>
                  ),
                ];
              })}
            </tr>
          ))}
        </tbody>
      </table>
      </div>
      {snap.answers.map((a) => (
        <details key={a.pane}>
          <summary>
            {a.pane === 'local' ? 'In-browser' : 'Hosted'} answer ({a.finishReason})
          </summary>
          <p className="pre" data-testid={`share-${a.pane}-output`}>
            {a.error ?? a.output}
          </p>
        </details>
      ))}
    </div>
  );
}

const pct = (p: number, n: number) => (n > 0 ? `${Math.round((100 * p) / n)}% (${p}/${n})` : '—');

function SuiteSnapshot({ s, mine }: { s: ShareState; mine: RunRecord | null }) {
  const snap = s.suiteSnapshot;
  if (!snap) return null;
  const d = snap.device;
  const yours = mine && mine.suite.id === snap.suiteId && mine.cells.length > 0 ? buildResultsTable(mine) : null;
  const rows: [string, (t: ShareSuiteTotals) => string][] = [
    ['Accuracy', (t) => pct(t.passed, t.scored)],
    ['Latency p50', (t) => fmtMs(t.e2eP50)],
    ['Latency p95', (t) => fmtMs(t.e2eP95)],
    ['TTFT p50', (t) => fmtMs(t.ttftP50)],
    ['Decode', (t) => fmtTps(t.decodeTps)],
    ['Tokens in/out', (t) => `${t.inputTokens} / ${t.outputTokens}`],
    ['Memory peak', (t) => fmtBytes(t.memoryPeakBytes)],
    ['Errors', (t) => String(t.errors)],
  ];
  const mineTotals = (kind: 'local' | 'hosted') => {
    const j = yours ? yours.head.engines.findIndex((e) => e.kind === kind) : -1;
    const e = yours?.head.engines[j];
    const t = yours?.totals[j];
    return e && t ? suiteTotalsOf(e, t) : null;
  };
  return (
    <div data-testid="share-suite-snapshot">
      <h3>The sharer's suite run</h3>
      <p className="small muted" data-testid="share-suite-device">
        {new Date(snap.takenAt).toLocaleString()} · {d.backend ?? 'no local model'}
        {d.threads ? ` · ${d.threads} thread${d.threads === 1 ? '' : 's'}` : ''} · {d.hardwareConcurrency} cores · {d.userAgent}
      </p>
      <div className="scroll-x" tabIndex={0} role="region" aria-label="The sharer's suite numbers">
      <table className="metrics" data-testid="share-suite-metrics">
        <thead>
          <tr>
            <td />
            {snap.engines.map((e, j) => (
              <th key={j} colSpan={yours ? 2 : 1}>
                {e.kind === 'local' ? 'In browser' : 'Hosted'}: {e.label}
              </th>
            ))}
          </tr>
          {yours && (
            <tr>
              <td />
              {snap.engines.map((_, j) => [<th key={`${j}-s`}>sharer</th>, <th key={`${j}-y`}>yours</th>])}
            </tr>
          )}
        </thead>
        <tbody>
          {rows.map(([label, f]) => (
            <tr key={label}>
              <th>{label}</th>
              {snap.engines.map((e, j) => {
                const m = mineTotals(e.kind);
                return [
                  <td key={`${j}-s`} data-testid={`share-suite-${e.kind}-${label}`}>
                    {f(e)}
                  </td>,
                  yours && (
                    <td key={`${j}-y`} data-testid={`mine-suite-${e.kind}-${label}`}>
                      {m ? f(m) : '—'}
                    </td>
                  ),
                ];
              })}
            </tr>
          ))}
        </tbody>
      </table>
      </div>
    </div>
  );
}

export function ShareBanner({ incoming, mine, mineSuite, applied, canRestore, onApply, onRun, onRestore, onDismiss }: Props) {
  if (incoming.status === 'none') return null;
  if (incoming.status === 'reading')
    return (
      <section className="panel share" data-testid="share-banner" aria-label="Shared link">
        Reading the shared link…
      </section>
    );
  if (incoming.status === 'error')
    return (
      <section className="panel share" data-testid="share-banner" aria-label="Shared link">
        <p className="error" role="alert" aria-live="assertive" data-testid="share-error">
          {incoming.message}
        </p>
        <p className="small muted">Nothing from it was applied; your own setup is unchanged.</p>
        <button type="button" onClick={onDismiss} data-testid="share-dismiss">
          Close
        </button>
      </section>
    );
  const s = incoming.share;
  return (
    <section className="panel share" data-testid="share-banner" aria-label="Shared setup">
      <h2>Shared {incoming.from === 'file' ? 'file' : 'link'}</h2>
      <Setup s={s} />
      <Snapshot s={s} mine={mine} />
      <SuiteSnapshot s={s} mine={mineSuite} />
      <ShareSession s={s} />
      <div className="row">
        <button type="button" className="primary" onClick={() => onRun(s)} data-testid="share-run">
          Run it on my device
        </button>
        <button type="button" onClick={() => onApply(s)} data-testid="share-apply">
          Use this setup
        </button>
        {canRestore && (
          <button type="button" onClick={onRestore} data-testid="share-restore">
            Back to my own setup
          </button>
        )}
        <button type="button" className="link" onClick={onDismiss} data-testid="share-dismiss">
          Close
        </button>
      </div>
      {applied && (
        <p className="small muted" data-testid="share-applied">
          Setup applied (your own was kept: "Back to my own setup" restores it). The model loads with "Run it on my device"; then press Send.
          {s.generation.responseFormat?.type === 'json_schema' && (
            <span data-testid="share-applied-schema"> The link's JSON Schema is now in the Generation tab's editor; a draft of your own that it replaced is kept there ("Restore my draft").</span>
          )}
        </p>
      )}
    </section>
  );
}
