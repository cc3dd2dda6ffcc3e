/** Models kept in the browser cache, with sizes; delete one or all. */
import { useState } from 'react';
import type { CachedModel, StorageInfo } from '../models/cache';
import { fmtBytes } from '../metrics/format';

interface Props {
  models: CachedModel[] | null;
  storage: StorageInfo | null;
  error: string | null;
  onRefresh: () => void;
  onDelete: (m: CachedModel) => Promise<void>;
  onDeleteAll: () => Promise<void>;
}

export function CachePanel({ models, storage, error, onRefresh, onDelete, onDeleteAll }: Props) {
  const [busy, setBusy] = useState(false);
  const run = async (f: () => Promise<void>) => {
    setBusy(true);
    try {
      await f();
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="panel" aria-label="Cache" data-testid="cache-panel">
      <p className="small muted">
        Loaded models stay in this browser (Cache Storage) so the next load needs no network.
        {storage?.usage != null && ` This site uses ${fmtBytes(storage.usage)} of ${fmtBytes(storage.quota)}.`}
        {storage?.persisted === true && ' Persistent storage granted: the browser will not evict these under pressure.'}
        {storage?.persisted === false && ' Persistent storage not granted: the browser may evict these when space runs low.'}
      </p>
      {storage?.usage != null && storage.quota != null && models && models.length > 0 && (
        <p className="small" data-testid="cache-free-space">
          Free space for a model that does not fit: {fmtBytes(Math.max(0, storage.quota - storage.usage))} free now; deleting a model below frees its size.
        </p>
      )}
      {error && <p className="error">{error}</p>}
      {models === null ? (
        <p className="muted">Reading the cache…</p>
      ) : models.length === 0 ? (
        <p className="muted" data-testid="cache-empty">No downloaded models in the cache.</p>
      ) : (
        <table className="metrics" data-testid="cache-list">
          <tbody>
            {models.map((m) => (
              <tr key={m.key}>
                <td>
                  <div className="mono small">{m.modelId}</div>
                  <div className="muted small">
                    {m.host}
                    {m.revision && ` @ ${m.revision}`} · {m.files.length} files
                    {m.files.some((f) => f.complete === false) && (
                      <span data-testid="cache-incomplete"> · {m.files.filter((f) => f.complete === false).length} incomplete (a cut download; the next Load continues it)</span>
                    )}
                  </div>
                </td>
                <td>{fmtBytes(m.bytes)}</td>
                <td>
                  <button disabled={busy} onClick={() => void run(() => onDelete(m))}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="row">
        <button onClick={onRefresh} disabled={busy}>
          Refresh
        </button>
        <button className="danger" disabled={busy || !models?.length} onClick={() => void run(onDeleteAll)}>
          Delete all
        </button>
      </div>
    </section>
  );
}
