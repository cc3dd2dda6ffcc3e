/**
 * What the Share tab and an opened link do to the app: build a share from the current setup
 * (and the last exchange), apply a shared setup (keeping the viewer's own), run it (apply, then
 * load the shared model), and restore the viewer's setup. Event handlers only, no effects.
 */
import { useCallback, useState } from 'react';
import type { LoadedInfo, WorkerEnvironment } from '../engines/local/protocol';
import type { EndpointSettings } from '../engines/hosted/presets';
import type { LoadMetrics } from '../metrics/timing';
import type { ShareState, ShareSuiteRef } from '../share/schema';
import type { SessionEntry } from '../compare/agreement-tally';
import type { RunRecord } from '../eval/results';
import type { BundledSuite } from './useSuites';
import type { HostedSettings } from '../state/hosted-settings';
import { clearBackup, readBackup, saveBackup } from '../state/share-backup';
import type { ModelSelection, Settings } from '../state/settings';
import type { Exchange } from '../compare/strip';
import type { MadeLink } from './useShare';
import type { PromptDraft } from '../state/prompt-draft';
import { localStore } from '../lib/local-storage';

const store = localStore;

interface Deps {
  settings: Settings;
  update: (patch: Partial<Settings>) => void;
  hosted: { settings: HostedSettings; update: (endpoint: EndpointSettings, enabled: boolean) => void };
  /** The prompt box's text: read when a link is made, set when a shared setup is applied. */
  draft: PromptDraft;
  env: WorkerEnvironment | null;
  loaded: { info: LoadedInfo; load: LoadMetrics } | null;
  loadModel: (sel: ModelSelection) => void;
  makeLink: (s: ShareState) => Promise<MadeLink>;
  /** The suite run open on the Suites tab, the bundled suites, and how to open a shared suite there. */
  suite: { record: RunRecord | null; bundled: BundledSuite[]; open: (ref: ShareSuiteRef) => void };
  /** The session's agreement verdicts, which a link with results carries. */
  session: { entries: SessionEntry[]; loadMs: number | null };
}

export function useShareFlow(d: Deps) {
  const [exchange, setExchange] = useState<Exchange | null>(null);
  const [applied, setApplied] = useState(false);
  const [canRestore, setCanRestore] = useState(() => readBackup(store()) !== null);

  const make = async (withResults: boolean, suite: 'none' | 'suite' | 'suite-results' = 'none', withSession = false): Promise<MadeLink> => {
    // Loaded on the first link made, not with the page (it brings the results table and the agreement scores).
    const { deviceOf, sessionOf, setupState, snapshotOf, suiteRefOf, suiteSnapshotOf } = await import('../share/state');
    const current = (prompt: string, withSuite: boolean): ShareState =>
      setupState({
        local: d.settings.selection,
        hosted: d.hosted.settings.enabled ? d.hosted.settings.endpoint : null,
        generation: d.settings.generation,
        systemPrompt: d.settings.systemPrompt,
        prompt,
        suite: withSuite && d.suite.record ? suiteRefOf(d.suite.record, d.suite.bundled) : null,
      });
    const rec = d.suite.record;
    const session = withSession ? sessionOf(d.session.entries, d.session.loadMs) : null;
    const suiteSnapshot =
      suite === 'suite-results' && rec && rec.cells.length > 0 && d.env ? suiteSnapshotOf(rec, deviceOf(d.env, d.loaded?.info ?? null), new Date()) : null;
    if (withResults && exchange && d.env) {
      const snapshot = snapshotOf({ exchange, env: d.env, loaded: d.loaded?.info ?? null, load: d.loaded?.load ?? null, now: new Date() });
      return d.makeLink({ ...current(exchange.prompt, suite !== 'none'), snapshot, suiteSnapshot, session });
    }
    return d.makeLink({ ...current(d.draft.get(), suite !== 'none'), suiteSnapshot, session });
  };

  const apply = (s: ShareState) => {
    saveBackup({ settings: d.settings, hosted: d.hosted.settings }, store());
    setCanRestore(readBackup(store()) !== null);
    d.update({ selection: s.local, generation: s.generation, systemPrompt: s.systemPrompt });
    if (s.hosted) d.hosted.update(s.hosted, true);
    else d.hosted.update(d.hosted.settings.endpoint, false);
    d.draft.set(s.prompt);
    setApplied(true);
  };

  const run = (s: ShareState) => {
    apply(s);
    d.loadModel(s.local);
    if (s.suite) d.suite.open(s.suite);
  };

  const restore = () => {
    const b = readBackup(store());
    if (b) {
      d.update(b.settings);
      d.hosted.update(b.hosted.endpoint, b.hosted.enabled ?? false);
    }
    clearBackup(store());
    setCanRestore(false);
    setApplied(false);
  };

  const onExchange = useCallback((e: Exchange) => setExchange(e), []);

  return { exchange, onExchange, make, apply, run, restore, applied, canRestore };
}
