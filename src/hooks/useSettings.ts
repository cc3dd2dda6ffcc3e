import { useCallback, useEffect, useState } from 'react';
import { localStore } from '../lib/local-storage';
import { parseSettings, serializeSettings, SETTINGS_KEY, type Settings } from '../state/settings';

const storage = localStore;

/** Settings persisted in localStorage (validated on read; see state/settings.ts). */
export function useSettings() {
  const [settings, setSettings] = useState<Settings>(() => parseSettings(storage()?.getItem(SETTINGS_KEY) ?? null));
  useEffect(() => {
    try {
      storage()?.setItem(SETTINGS_KEY, serializeSettings(settings));
    } catch {
      // Storage full or blocked: settings still work for this session.
    }
  }, [settings]);
  const update = useCallback((patch: Partial<Settings>) => setSettings((s) => ({ ...s, ...patch })), []);
  return { settings, update };
}
