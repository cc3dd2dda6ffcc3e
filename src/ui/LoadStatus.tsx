/** Load progress (per file, with bytes), the ready summary with load metrics, or a clear error. */
import type { LocalModelState, RetryChange } from '../hooks/useLocalModel';
import type { CacheReport, DeviceKind, PrimerReport, WeightRewrite } from '../engines/local/protocol';
import { fmtBytes, fmtLoadMemory, fmtMs, fmtTps } from '../metrics/format';
import type { LoadMemory } from '../metrics/timing';
import { loadedBytes, overallFraction } from '../engines/local/load-progress';

const PHASE: Record<string, string> = {
  preflight: 'Checking the model files…',
  download: 'Downloading…',
  session: 'Creating the inference session…',
  warmup: 'Warming up…',
};

/** A progress bar with its value for assistive technology (null: size not known yet). */
export function ProgressBar({ fraction, label, className }: { fraction: number | null; label: string; className?: string }) {
  const pct = fraction === null ? 0 : Math.round(Math.min(1, Math.max(0, fraction)) * 100);
  return (
    <div className={`bar ${className ?? ''}`} role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={fraction === null ? undefined : pct} aria-valuetext={fraction === null ? 'size not known yet' : `${pct}%`}>
      <div style={{ width: `${pct}%` }} />
    </div>
  );
}

const SOURCE: Record<CacheReport['source'], string> = { cache: '(cache)', network: '(downloaded)', mixed: '(partly from the cache)' };

/** Whether the files are kept in this browser, why not, and what was resumed or repaired. */
function CacheRow({ cache, persisted }: { cache: CacheReport; persisted: boolean | null | undefined }) {
  const kept =
    cache.stored === null
      ? 'Not kept: this load asked for no caching.'
      : cache.stored
        ? `Stored in this browser${persisted === undefined ? '.' : persisted ? '; persistent storage granted.' : persisted === false ? '; persistent storage not granted (the browser may evict it when space runs low).' : '.'}`
        : cache.reason;
  return (
    <tr>
      <th>Cache</th>
      <td data-testid="load-cache" data-stored={String(cache.stored)}>
        {kept}
        {cache.notes.length > 0 && (
          <ul className="small" data-testid="load-cache-notes">
            {cache.notes.map((n) => (
              <li key={n}>{n}</li>
            ))}
          </ul>
        )}
      </td>
    </tr>
  );
}

/** The kernel primer's line (worker/primer.ts): what ran beside the read, or why nothing did. */
export function primerSummary(p: PrimerReport): string {
  if (p.skipped) return `not run: ${p.skipped}`;
  const end = p.settled ? 'until its speed settled' : "until the model's session began";
  const where = p.worker === 'own' ? 'in a worker of its own beside the download' : 'beside the read from the cache';
  return `${p.runs} steps of slm-pocket in ${fmtMs(p.runMs)} ${where}, ${end} (ONNX Runtime's code optimised before the warm-up)`;
}

/** The Load status's q4 row: what the 4-bit MatMuls became, what that took and on how many workers; or why they stayed 4-bit. */
export function rewriteSummary(w: WeightRewrite): string {
  if (!w.converted) return `kept 4-bit: ${w.skipped ?? 'not convertible'}`;
  const as = w.to === 'int8' ? `int8 (as fp32 they would take ${fmtBytes(w.fp32Bytes)}, over the ${fmtBytes(w.fp32MaxBytes)} allowed on this device)` : 'fp32';
  const on = w.workers > 1 ? ` on ${w.workers} workers` : '';
  const helper = w.helperFailure ? `; a helper failed, its part done here: ${w.helperFailure}` : '';
  return `${w.converted} 4-bit MatMuls run as ${as} (WASM has no fast 4-bit kernel; ${fmtMs(w.ms)} at load${on}${helper})`;
}

/** The measured memory beside the file size (docs/metrics.md "Memory"). */
export function MemoryLine({ m }: { m: LoadMemory }) {
  return (
    <span data-testid="load-memory" data-page-bytes={m.pageBytes ?? ''} data-wasm-bytes={m.wasmHeapBytes ?? ''} data-weights-bytes={m.weightsBytes ?? ''}>
      {fmtLoadMemory(m)}
      {m.note && <span className="small muted"> — {m.note}</span>}
    </span>
  );
}

const CRASHES = new Set(['worker-crashed', 'device-lost']);

/**
 * `compact`: once ready, the details fold into their one-line summary (phones). `onRetry`: the actions an error offers.
 * `prepared`: the device the next Load's worker has ONNX Runtime set up for already (useLocalModel: the selected model is stored here).
 */
export function LoadStatus({ state, compact = false, onRetry, prepared = null }: { state: LocalModelState; compact?: boolean; onRetry?: (change: RetryChange) => void; prepared?: DeviceKind | null }) {
  if (state.status === 'idle') {
    return (
      <p className="muted" data-testid="load-status" data-runtime={prepared ? 'prepared' : undefined}>
        No model loaded.{prepared && ` ONNX Runtime is set up for ${prepared.toUpperCase()} already: the next Load starts with the model's files.`}
      </p>
    );
  }
  if (state.status === 'error') {
    const code = state.error.code;
    return (
      <div className="error-box" role="alert" data-testid="load-error" data-code={code}>
        <strong>{CRASHES.has(code) ? 'The model stopped.' : code === 'memory-tight' ? 'The model may not fit in memory.' : 'Could not load the model.'}</strong> {state.error.message}
        {onRetry && state.selection && code === 'memory-tight' && (
          <button type="button" data-testid="load-anyway" onClick={() => onRetry({ allowTightMemory: true })}>
            Load anyway
          </button>
        )}
        {onRetry && state.selection && code === 'device-lost' && (
          <button type="button" data-testid="load-wasm" onClick={() => onRetry({ device: 'wasm' })}>
            Load {state.selection.source.modelId} on WASM
          </button>
        )}
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
        <ProgressBar fraction={frac} label="Total download" />
        <p className="small muted">
          {fmtBytes(loadedBytes(p))} of {p.totalBytes === null ? 'unknown size' : fmtBytes(p.totalBytes)}
        </p>
        <ul className="files" data-testid="file-progress">
          {p.files.map((f) => (
            <li key={f.file}>
              <span className="mono">{f.file}</span>
              <ProgressBar className="small-bar" label={`Download of ${f.file}`} fraction={f.done ? 1 : f.total ? f.loaded / f.total : null} />
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
    <details className="load-ready" data-testid="load-status" data-ready="true" open={!compact}>
      <summary>
        <strong>{info.modelId}</strong> ready on <strong>{info.device.toUpperCase()}</strong> · {info.dtype} · {info.threads} thread
        {info.threads === 1 ? '' : 's'} · {info.crossOriginIsolated ? 'cross-origin isolated' : 'not isolated'}
      </summary>
      <table className="metrics" data-testid="load-metrics">
        <tbody>
          <tr>
            <th>Download</th>
            <td>
              {fmtMs(load.downloadMs)} · {fmtBytes(load.downloadBytes)} <span data-testid="load-source">{SOURCE[info.cache.source]}</span>
            </td>
          </tr>
          <CacheRow cache={info.cache} persisted={state.persisted} />
          <tr>
            <th>Session creation</th>
            <td>{fmtMs(load.sessionCreateMs)}</td>
          </tr>
          {info.primer && (
            <tr>
              <th>Kernel primer</th>
              <td data-testid="kernel-primer">{primerSummary(info.primer)}</td>
            </tr>
          )}
          <tr>
            <th>Warm-up</th>
            <td>
              {load.warmupTokens ? `${fmtMs(load.warmupMs)} · ${load.warmupTokens} tokens · ends at ${fmtTps(info.warmupDecodeTps)}${info.primer?.settled && info.warmupPlan ? ` · ${fmtMs(info.warmupPlan.minDecodeMs)} decode floor (kernels primed)` : ''}` : 'skipped'}
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
            <th>Decode steps</th>
            <td data-testid="decode-engine" title={info.decodeEngineReason ?? undefined}>
              {info.int8Step
                ? `int8 step of our own (${info.int8Step.kernel === 'relaxed' ? 'relaxed-SIMD int8 dot' : `WebAssembly SIMD${info.int8Step.kernelNote ? `: ${info.int8Step.kernelNote}` : ''}`}, ${info.int8Step.threads} thread${info.int8Step.threads === 1 ? '' : 's'}${info.int8Step.threadNote ? `: ${info.int8Step.threadNote}` : ''}; prompts row by row, KV reuse exact${info.int8Step.onnxRuntimeSession ? '' : '; no ONNX Runtime session'}) · ready in ${fmtMs(info.int8Step.loadMs)} · ${fmtBytes(info.int8Step.memoryBytes)}`
                : `ONNX Runtime${info.decodeEngineReason ? ` (${info.decodeEngineReason})` : ''}`}
            </td>
          </tr>
          {info.weightRewrite && (
            <tr>
              <th>q4 weights</th>
              <td data-testid="weight-rewrite" title={info.weightRewrite.skipped ?? undefined}>
                {rewriteSummary(info.weightRewrite)}
              </td>
            </tr>
          )}
          <tr>
            <th>Ready after</th>
            <td>
              {fmtMs(load.totalMs)}
              {info.runtimePrepared && (
                <span className="small muted" data-testid="runtime-prepared">
                  {' '}
                  · ONNX Runtime was set up before Load (this model is stored here)
                </span>
              )}
            </td>
          </tr>
          {load.memory && (
            <tr>
              <th>Memory</th>
              <td>
                <MemoryLine m={load.memory} />
                {info.memoryFit === 'close' && <span className="small muted"> (loaded despite the memory warning)</span>}
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <p className="small muted">
        {state.deviceReason} {state.threadsReason}
        {state.calibration.length > 0 && ` (${state.calibration.map((c) => `${c.threads}: ${fmtTps(c.decodeTps)}`).join(', ')})`}
      </p>
    </details>
  );
}
