/** Choosing a model: source (bundled, Hugging Face, custom host), dtype, device, threads. */
import { useMemo, useState } from 'react';
import type { DeviceKind, WorkerEnvironment } from '../engines/local/protocol';
import { estimatedBytes, type CatalogEntry } from '../models/catalog';
import { chooseDevice, fmtParams, recommend } from '../models/device';
import { dtypeAdvice, measured, MAX_SAMPLES, type DtypeSpeeds } from '../models/dtype-speeds';
import { DTYPES, isDtype, normalizeHost, sourceError, sourceLabel, type Dtype, type ModelSource } from '../models/sources';
import { fmtBytes, fmtTps } from '../metrics/format';
import type { ModelSelection } from '../state/settings';
import { TabPanel, Tabs } from './Tabs';

type SourceType = ModelSource['type'];
const SOURCE_TABS: [SourceType, string][] = [
  ['bundled', 'Embedded'],
  ['hub', 'Hugging Face'],
  ['mirror', 'Custom host'],
];

interface Props {
  catalog: CatalogEntry[];
  selection: ModelSelection;
  env: WorkerEnvironment | null;
  busy: boolean;
  loaded: boolean;
  onLoad: (sel: ModelSelection, knownBytes: number | null) => void;
  onUnload: () => void;
  /** Decode speeds measured on this device per dtype of a model (its source label), for one device. */
  dtypeSpeeds: (label: string, device: DeviceKind) => DtypeSpeeds;
}

export function ModelPanel({ catalog, selection, env, busy, loaded, onLoad, onUnload, dtypeSpeeds }: Props) {
  const [type, setType] = useState<SourceType>(selection.source.type);
  const [bundledId, setBundledId] = useState(selection.source.type === 'bundled' ? selection.source.modelId : 'slm-pocket');
  const [hubId, setHubId] = useState(selection.source.type === 'hub' ? selection.source.modelId : 'onnx-community/Qwen2.5-0.5B-Instruct');
  const [mirrorId, setMirrorId] = useState(selection.source.type === 'mirror' ? selection.source.modelId : '');
  const [host, setHost] = useState(selection.source.type === 'mirror' ? selection.source.host : '');
  const [revision, setRevision] = useState(selection.source.type === 'bundled' ? 'main' : selection.source.revision);
  const [dtype, setDtype] = useState<Dtype>(selection.dtype);
  const [device, setDevice] = useState(selection.device);
  const [threads, setThreads] = useState(selection.threads);
  const [warmup, setWarmup] = useState(selection.warmup);
  const [error, setError] = useState<string | null>(null);

  const source: ModelSource = useMemo(() => {
    if (type === 'bundled') return { type, modelId: bundledId };
    if (type === 'hub') return { type, modelId: hubId.trim(), revision: revision.trim() || 'main' };
    const h = normalizeHost(host);
    return { type, modelId: mirrorId.trim(), revision: revision.trim() || 'main', host: h.ok ? h.host : host.trim() };
  }, [type, bundledId, hubId, mirrorId, host, revision]);

  const entry = catalog.find((c) => c.source.type === type && c.source.modelId === source.modelId);
  const rec = entry && env ? recommend(entry, env) : null;
  const devChoice = env ? chooseDevice(device, dtype, env) : null;
  const size = entry ? estimatedBytes(entry, dtype) : null;
  const offered = entry?.dtypes ?? DTYPES;
  const speeds = devChoice ? dtypeSpeeds(sourceLabel(source), devChoice.device) : {};
  const seen = measured(speeds, offered);
  const advice = dtypeAdvice(speeds, dtype, offered);

  const submit = () => {
    const h = normalizeHost(host);
    const problem = type === 'mirror' && !h.ok ? h.error : sourceError(source);
    if (problem) {
      setError(problem);
      return;
    }
    setError(null);
    onLoad({ source, dtype, device, threads, warmup }, size?.bytes ?? null);
  };

  const pick = (c: CatalogEntry) => {
    setType(c.source.type);
    if (c.source.type === 'bundled') setBundledId(c.source.modelId);
    if (c.source.type === 'hub') setHubId(c.source.modelId);
    if (env) {
      const r = recommend(c, env);
      setDtype(r.dtype);
    } else setDtype(c.preferred.wasm);
  };

  return (
    <section className="panel" aria-label="Model">
      <Tabs id="source" label="Model source" tabs={SOURCE_TABS} selected={type} onSelect={setType} testId={(t) => `source-${t}`} />
      <TabPanel id="source" tab={type}>
      {type === 'bundled' && (
        <div className="field">
          <label htmlFor="bundled-model">Embedded model (works offline)</label>
          <select id="bundled-model" value={bundledId} onChange={(e) => setBundledId(e.target.value)} data-testid="bundled-model">
            {catalog.filter((c) => c.embedded).map((c) => (
              <option key={c.key} value={c.source.modelId}>
                {c.label}
              </option>
            ))}
          </select>
        </div>
      )}
      {type === 'hub' && (
        <>
          <div className="field">
            <label htmlFor="hub-id">Model id on huggingface.co</label>
            <input id="hub-id" value={hubId} onChange={(e) => setHubId(e.target.value)} placeholder="org/name" spellCheck={false} data-testid="hub-id" />
          </div>
          <details className="catalog">
            <summary>Browser-ready models</summary>
            <ul>
              {catalog.filter((c) => !c.embedded).map((c) => (
                <li key={c.key}>
                  <button className="link" onClick={() => pick(c)}>
                    {c.label}
                  </button>{' '}
                  <span className="muted">
                    {fmtParams(c.params)} · {c.dtypes.map((d) => `${d} ≈${fmtBytes(estimatedBytes(c, d).bytes)}`).join(' · ')}
                  </span>
                  <div className="muted small">{c.notes}</div>
                </li>
              ))}
            </ul>
          </details>
        </>
      )}
      {type === 'mirror' && (
        <>
          <div className="field">
            <label htmlFor="mirror-host">Model host (laid out like the hub: {'{host}/{model}/resolve/{revision}/{file}'})</label>
            <input id="mirror-host" value={host} onChange={(e) => setHost(e.target.value)} placeholder="https://models.example.com/" spellCheck={false} data-testid="mirror-host" />
          </div>
          <div className="field">
            <label htmlFor="mirror-id">Model id on that host</label>
            <input id="mirror-id" value={mirrorId} onChange={(e) => setMirrorId(e.target.value)} placeholder="org/name" spellCheck={false} data-testid="mirror-id" />
          </div>
        </>
      )}
      {type !== 'bundled' && (
        <div className="field">
          <label htmlFor="revision">Revision</label>
          <input id="revision" value={revision} onChange={(e) => setRevision(e.target.value)} spellCheck={false} />
        </div>
      )}
      </TabPanel>

      <div className="row">
        <div className="field">
          <label htmlFor="dtype">Weights (dtype)</label>
          <select id="dtype" value={dtype} onChange={(e) => isDtype(e.target.value) && setDtype(e.target.value)} data-testid="dtype">
            {(entry?.dtypes ?? DTYPES).map((d) => (
              <option key={d} value={d}>
                {d}
                {entry ? ` (${estimatedBytes(entry, d).exact ? '' : '≈'}${fmtBytes(estimatedBytes(entry, d).bytes)})` : ''}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="device">Device</label>
          <select id="device" value={device} onChange={(e) => setDevice(e.target.value === 'webgpu' ? 'webgpu' : e.target.value === 'wasm' ? 'wasm' : 'auto')} data-testid="device">
            <option value="auto">Auto</option>
            <option value="webgpu">WebGPU</option>
            <option value="wasm">WASM (CPU)</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="threads">WASM threads</label>
          <select id="threads" value={String(threads)} onChange={(e) => setThreads(e.target.value === 'auto' ? 'auto' : Number(e.target.value))} data-testid="threads">
            <option value="auto">Auto (measured)</option>
            {Array.from({ length: Math.max(1, Math.min(16, env?.hardwareConcurrency ?? 4)) }, (_, i) => i + 1).map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </div>
      </div>
      <label className="check">
        <input type="checkbox" checked={warmup} onChange={(e) => setWarmup(e.target.checked)} /> Warm up before ready (first answer at full speed)
      </label>
      {devChoice && <p className="muted small" data-testid="device-reason">Device: {devChoice.device.toUpperCase()} — {devChoice.reason}</p>}
      {rec && (
        <p className="muted small" data-testid="recommendation">
          Recommended: {rec.device.toUpperCase()} {rec.dtype} — {rec.reason}
          {(rec.dtype !== dtype || (device !== 'auto' && rec.device !== device)) && (
            <>
              {' '}
              <button className="link" onClick={() => { setDtype(rec.dtype); setDevice('auto'); }}>
                Use it
              </button>
            </>
          )}
        </p>
      )}
      {devChoice && seen.length > 0 && (
        <p className="muted small" data-testid="dtype-speeds">
          Decode measured on this device ({devChoice.device.toUpperCase()}): {seen.map((m) => `${m.dtype} ${fmtTps(m.tps)}`).join(' · ')} — one figure a load, the median
          of the last {MAX_SAMPLES}.
          {advice && (
            <>
              {' '}
              <strong data-testid="dtype-advice">
                {advice.faster} decoded {advice.ratio.toFixed(2)}x as fast as {dtype} here
              </strong>{' '}
              (loads at different times, not side by side).{' '}
              <button className="link" onClick={() => setDtype(advice.faster)}>
                Use {advice.faster}
              </button>
            </>
          )}
        </p>
      )}
      {error && (
        <p className="error" role="alert" data-testid="model-input-error">
          {error}
        </p>
      )}
      <div className="row">
        <button className="primary" onClick={submit} disabled={busy || !env} data-testid="load">
          {busy ? 'Loading…' : loaded ? 'Load again' : 'Load model'}
        </button>
        <button onClick={onUnload} disabled={!loaded && !busy} data-testid="unload">
          Unload
        </button>
      </div>
    </section>
  );
}
