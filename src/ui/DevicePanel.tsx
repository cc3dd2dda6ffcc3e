/** What this browser offers the model: WebGPU adapter, isolation, threads, storage. */
import type { WorkerEnvironment } from '../engines/local/protocol';
import { fmtBytes } from '../metrics/format';
import type { StorageInfo } from '../models/cache';
import { isSoftwareAdapter, type Recommendation } from '../models/device';
import { defaultThreads } from '../models/threads';

interface Props {
  env: WorkerEnvironment | null;
  storage: StorageInfo | null;
  recommendation: Recommendation | null;
  modelLabel: string | null;
}

export function DevicePanel({ env, storage, recommendation, modelLabel }: Props) {
  if (!env) return <section className="panel">Probing the device…</section>;
  const g = env.webgpu;
  return (
    <section className="panel" aria-label="Device" data-testid="device-panel">
      <table className="metrics">
        <tbody>
          <tr>
            <th>Cross-origin isolated</th>
            <td data-testid="coi">{env.crossOriginIsolated ? 'yes (SharedArrayBuffer, WASM threads)' : 'no: WASM runs on one thread'}</td>
          </tr>
          <tr>
            <th>Logical cores</th>
            <td data-testid="cores">{env.hardwareConcurrency}</td>
          </tr>
          <tr>
            <th>Default WASM threads</th>
            <td>{defaultThreads(env.hardwareConcurrency, env.crossOriginIsolated)} (Auto measures per model)</td>
          </tr>
          <tr>
            <th>WebGPU</th>
            <td data-testid="webgpu">
              {g
                ? `${g.vendor || 'unknown vendor'} ${g.architecture} ${g.description}${isSoftwareAdapter(env) ? ' — software fallback adapter' : ''}`
                : env.webgpuUnavailableReason}
            </td>
          </tr>
          {g && (
            <>
              <tr>
                <th>Features</th>
                <td className="small mono">{g.features.join(', ') || '(none)'}</td>
              </tr>
              <tr>
                <th>Max buffer / binding</th>
                <td>
                  {fmtBytes(g.maxBufferSize)} / {fmtBytes(g.maxStorageBufferBindingSize)}
                </td>
              </tr>
            </>
          )}
          <tr>
            <th>Storage</th>
            <td>
              {storage?.usage == null ? 'unknown' : `${fmtBytes(storage.usage)} used of ${fmtBytes(storage.quota)}`}
              {storage?.persisted ? ' (persistent)' : ''}
            </td>
          </tr>
        </tbody>
      </table>
      {recommendation && modelLabel && (
        <p data-testid="device-recommendation">
          For <strong>{modelLabel}</strong>: {recommendation.device.toUpperCase()} with {recommendation.dtype}. {recommendation.reason}
        </p>
      )}
    </section>
  );
}
