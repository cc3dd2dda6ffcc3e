import type { OfflineState } from '../hooks/useOffline';

/** "offline" when the browser has no network; otherwise whether the app would work without one. */
export function OfflineBadge({ state }: { state: OfflineState }) {
  const { online, cache } = state;
  const ready = cache?.offlineReady === true;
  if (!online) {
    return (
      <span className="badge warn" data-testid="offline-badge" data-online="false" data-ready={ready} title="Hosted endpoints cannot be reached. The app, ONNX Runtime and models loaded before keep working.">
        offline{ready ? ' (app cached)' : ''}
      </span>
    );
  }
  if (!cache) return null;
  const failed = cache.failed.length ? ` Could not cache: ${cache.failed.join(', ')}.` : '';
  return (
    <span
      className={`badge ${ready ? 'ok' : 'muted'}`}
      data-testid="offline-badge"
      data-online="true"
      data-ready={ready}
      title={`${cache.cached} of ${cache.total} app files cached. Models, the WebGPU runtime and the hosted client are cached when first used.${failed}`}
    >
      {ready ? 'works offline' : `caching for offline ${cache.cached}/${cache.total}`}
    </span>
  );
}
