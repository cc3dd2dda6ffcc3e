/**
 * The hosted endpoint: settings (persisted, without the key), the key ring (memory by default,
 * localStorage only when the user opts in), and the HostedEngine built from them.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { HostedEngine } from '../engines/hosted/HostedEngine';
import { HostedError } from '../engines/hosted/errors';
import { browserKeyStorage, endpointOrigin, KeyRing } from '../engines/hosted/keys';
import type { EndpointSettings } from '../engines/hosted/presets';
import { DEFAULT_HOSTED, HOSTED_KEY, parseHostedSettings, type HostedSettings } from '../state/hosted-settings';
import { errorText } from '../lib/errors';

function load(): HostedSettings {
  try {
    return parseHostedSettings(localStorage.getItem(HOSTED_KEY));
  } catch {
    return DEFAULT_HOSTED;
  }
}

function describe(e: unknown): string {
  if (e instanceof HostedError) return e.message;
  return errorText(e);
}

export function useHostedEndpoint() {
  const [settings, setSettings] = useState<HostedSettings>(load);
  const keyRing = useMemo(() => new KeyRing(browserKeyStorage()), []);
  const [models, setModels] = useState<string[]>([]);
  const [keyVersion, setKeyVersion] = useState(0);

  useEffect(() => {
    try {
      localStorage.setItem(HOSTED_KEY, JSON.stringify(settings));
    } catch {
      // storage blocked: settings last for this visit
    }
  }, [settings]);

  // First visit: take part automatically when the project's reference server answers (npm start).
  useEffect(() => {
    if (settings.enabled !== null || settings.endpoint.presetId !== 'reference') return;
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 1500);
    const health = new URL('/health', settings.endpoint.baseUrl).href;
    fetch(health, { signal: ac.signal })
      .then((r) => r.ok && setSettings((s) => (s.enabled === null ? { ...s, enabled: true } : s)))
      .catch(() => undefined)
      .finally(() => clearTimeout(timer));
    return () => ac.abort();
  }, [settings.enabled, settings.endpoint]);

  // The engine follows the settings and the key. Building it needs no network; bad settings
  // (an unfinished URL, a missing key) become the error shown in the Hosted tab.
  const built = useMemo((): { engine: HostedEngine | null; error: string | null } => {
    void keyVersion;
    if (!settings.enabled) return { engine: null, error: null };
    try {
      let key = null;
      try {
        key = keyRing.get(settings.endpoint.baseUrl);
      } catch {
        key = null;
      }
      return { engine: new HostedEngine({ endpoint: settings.endpoint, key }), error: null };
    } catch (e) {
      return { engine: null, error: describe(e) };
    }
  }, [settings, keyRing, keyVersion]);
  const engine = built.engine;
  // An enabled hosted pane loads the SDK now, so the first send does not wait for it.
  useEffect(() => {
    engine?.preload();
  }, [engine]);
  const [listError, setListError] = useState<string | null>(null);
  const error = built.error ?? listError;

  const update = useCallback((endpoint: EndpointSettings, enabled: boolean) => setSettings({ endpoint, enabled }), []);

  const setKey = useCallback(
    (secret: string, remember: boolean): string | null => {
      try {
        if (secret.trim()) keyRing.set(settings.endpoint.baseUrl, secret, { remember });
        else keyRing.forget(settings.endpoint.baseUrl);
        setKeyVersion((v) => v + 1);
        return null;
      } catch (e) {
        return describe(e);
      }
    },
    [keyRing, settings.endpoint.baseUrl],
  );

  const listModels = useCallback(async () => {
    if (!engine) return;
    try {
      setModels(await engine.listModels());
      setListError(null);
    } catch (e) {
      setListError(describe(e));
    }
  }, [engine]);

  let keyOrigin: string | null = null;
  try {
    keyOrigin = endpointOrigin(settings.endpoint.baseUrl);
  } catch {
    keyOrigin = null;
  }
  let hasKey = false;
  let remembered = false;
  try {
    hasKey = keyRing.get(settings.endpoint.baseUrl) !== null;
    remembered = keyRing.isRemembered(settings.endpoint.baseUrl);
  } catch {
    // invalid URL: the settings form shows that error
  }

  return { settings, update, engine, error, models, listModels, setKey, keyOrigin, hasKey, remembered, keyVersion };
}
