/**
 * Online/offline state for the header badge, and whether the app is ready to work offline: on
 * start it asks the service worker to finish precaching (ONNX Runtime, suites) and reports back.
 */
import { useEffect, useState } from 'react';
import type { SwReply } from '../pwa/messages';
import { askServiceWorker } from '../pwa/register';

export interface OfflineState {
  online: boolean;
  /** null: no service worker (dev server, unsupported browser) or it has not answered yet. */
  cache: SwReply | null;
}

export function useOffline(): OfflineState {
  const [online, setOnline] = useState(() => navigator.onLine);
  const [cache, setCache] = useState<SwReply | null>(null);

  useEffect(() => {
    const on = () => setOnline(true);
    const off = () => setOnline(false);
    window.addEventListener('online', on);
    window.addEventListener('offline', off);
    return () => {
      window.removeEventListener('online', on);
      window.removeEventListener('offline', off);
    };
  }, []);

  useEffect(() => {
    let live = true;
    void askServiceWorker({ kind: 'precache' }).then((r) => live && setCache(r));
    return () => {
      live = false;
    };
  }, []);

  return { online, cache };
}
