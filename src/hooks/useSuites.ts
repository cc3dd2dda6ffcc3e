/**
 * The suites a user can run: the bundled ones (public/suites/index.json, fetched on demand) and
 * the ones they imported (kept in IndexedDB). Importing validates the whole file first; a bad
 * file changes nothing and its error names the line and the field.
 */
import { useCallback, useEffect, useState } from 'react';
import type { EvalStore } from '../eval/store';
import type { Suite } from '../eval/suite';
import { appBase } from './urls';
import { errorText } from '../lib/errors';

export interface BundledSuite {
  file: string;
  id: string;
  name: string;
  description: string;
  cases: number;
  for: 'embedded' | 'general';
}

export type SuiteRef = { type: 'bundled'; file: string } | { type: 'imported'; id: string };

async function fetchJson(url: string): Promise<unknown> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${new URL(url).pathname}: HTTP ${r.status}`);
  return r.json();
}

export function useSuites(store: EvalStore | null) {
  const [bundled, setBundled] = useState<BundledSuite[]>([]);
  const [imported, setImported] = useState<Suite[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    fetchJson(new URL('suites/index.json', appBase()).href)
      .then((j) => live && setBundled((j as { suites: BundledSuite[] }).suites))
      .catch((e: unknown) => live && setError(`Could not read the bundled suites: ${errorText(e)}`));
    return () => {
      live = false;
    };
  }, []);

  useEffect(() => {
    if (store) void store.listSuites().then(setImported);
  }, [store]);

  /** Imports a JSONL / CSV / suite JSON file; returns the error text, or null when it worked. */
  const importFile = useCallback(
    async (file: File): Promise<{ suite: Suite | null; error: string | null }> => {
      try {
        if (file.size > 5 * 1024 * 1024) throw new Error(`${file.name} is ${(file.size / 1048576).toFixed(1)} MB; a suite file may be at most 5 MB.`);
        // The importer (papaparse) is loaded when first used, not with the page.
        const { importSuiteFile } = await import('../eval/import');
        const suite = importSuiteFile(file.name, await file.text());
        if (store) await store.saveSuite(suite);
        setImported((list) => [...list.filter((s) => s.id !== suite.id), suite]);
        return { suite, error: null };
      } catch (e) {
        const msg = errorText(e);
        return { suite: null, error: `${file.name}: ${msg}` };
      }
    },
    [store],
  );

  /** Keeps a suite that arrived another way (a share link) beside the imported ones. */
  const add = useCallback(
    async (suite: Suite) => {
      await store?.saveSuite(suite).catch(() => undefined);
      setImported((list) => [...list.filter((s) => s.id !== suite.id), suite]);
    },
    [store],
  );

  const removeImported = useCallback(
    async (id: string) => {
      await store?.deleteSuite(id);
      setImported((list) => list.filter((s) => s.id !== id));
    },
    [store],
  );

  const resolve = useCallback(
    async (ref: SuiteRef): Promise<Suite> => {
      if (ref.type === 'imported') {
        const s = imported.find((x) => x.id === ref.id);
        if (!s) throw new Error('That imported suite is gone.');
        return s;
      }
      const json = await fetchJson(new URL(`suites/${ref.file}`, appBase()).href);
      // The suite format (zod, JSON Schema bounds) loads when a suite is first run, not with the page.
      const { parseSuite } = await import('../eval/suite');
      return parseSuite(json);
    },
    [imported],
  );

  return { bundled, imported, error, importFile, add, removeImported, resolve };
}
