/** Load progress (per file, with bytes), the ready summary with load metrics, or a clear error. */
import type { LocalModelState } from '../hooks/useLocalModel';
import { fmtBytes, fmtMs, fmtTps } from '../metrics/format';
import { loadedBytes, overallFraction } from '../engines/local/load-progress';

const PHASE: Record<string, string> = {
  preflight: 'Checking the model files…',
  download: 'Downloading…',
  session: 'Creating the inference session…',
  warmup: 'Warming up…',
};

export function LoadStatus({ state }: { state: LocalModelState }) {
  if (state.status === 'idle') return <p className="muted" data-testid="load-status">No model loaded.</p>;
  if (state.status === 'error') {
    return (
      <div className="error-box" role="alert" data-testid="load-error" data-code={state.error.code}>
        <strong>Could not load the model.</strong> {state.error.message}
        {state.error.detail && (
          <details>
            <summary>Details</summary>
            <pre>{state.error.detail}</pre>
          </details>
        )}
      </div>
    );
  }
  if (state.status === 'loading') {
    const p = state.progress;
    const frac = overallFraction(p);
    return (
      <div data-testid="load-status" data-phase={p.phase}>
        <p>
          <strong>{state.label}</strong> — {PHASE[p.phase]} {state.note && <span className="muted small">{state.note}</span>}
        </p>
        <div className="bar" aria-label="Total download">
          <div style={{ width: `${Math.round((frac ?? 0) * 100)}%` }} />
        </div>
        <p className="small muted">
          {fmtBytes(loadedBytes(p))} of {p.totalBytes === null ? 'unknown size' : fmtBytes(p.totalBytes)}
        </p>
        <ul className="files" data-testid="file-progress">
          {p.files.map((f) => (
            <li key={f.file}>
              <span className="mono">{f.file}</span>
              <div className="bar small-bar">
                <div style={{ width: `${f.done ? 100 : f.total ? Math.round((f.loaded / f.total) * 100) : 0}%` }} />
              </div>
              <span className="small muted">
                {fmtBytes(f.done ? (f.total ?? f.loaded) : f.loaded)} / {fmtBytes(f.total)}
              </span>
            </li>
          ))}
        </ul>
      </div>
    );
  }
  const { info, load } = state;
  return (
    <div data-testid="load-status" data-ready="true">
      <p>
        <strong>{info.modelId}</strong> ready on <strong>{info.device.toUpperCase()}</strong> · {info.dtype} · {info.threads} thread
        {info.threads === 1 ? '' : 's'} · {info.crossOriginIsolated ? 'cross-origin isolated' : 'not isolated'}
      </p>
      <table className="metrics" data-testid="load-metrics">
        <tbody>
          <tr>
            <th>Download</th>
            <td>
              {fmtMs(load.downloadMs)} · {fmtBytes(load.downloadBytes)}
              {load.fromCache ? ' (cache)' : ''}
            </td>
          </tr>
          <tr>
            <th>Session creation</th>
            <td>{fmtMs(load.sessionCreateMs)}</td>
          </tr>
          <tr>
            <th>Warm-up</th>
            <td>
              {load.warmupTokens ? `${fmtMs(load.warmupMs)} · ${load.warmupTokens} tokens · ends at ${fmtTps(info.warmupDecodeTps)}` : 'skipped'}
            </td>
          </tr>
          <tr>
            <th>Decode loop</th>
            <td data-testid="decode-loop" title={info.decodeLoopReason ?? undefined}>
              {info.decodeLoop === 'kv-loop'
                ? `worker KV loop${info.outputPool ? ', reused output buffers' : ''}`
                : `transformers.js generate()${info.decodeLoopReason ? ` (${info.decodeLoopReason})` : ''}`}
            </td>
          </tr>
          <tr>
            <th>Ready after</th>
            <td>{fmtMs(load.totalMs)}</td>
          </tr>
        </tbody>
      </table>
      <p className="small muted">
        {state.deviceReason} {state.threadsReason}
        {state.calibration.length > 0 && ` (${state.calibration.map((c) => `${c.threads}: ${fmtTps(c.decodeTps)}`).join(', ')})`}
      </p>
    </div>
  );
}
