/**
 * Suite runs: start, stop, resume, reopen, delete, import and export. Owns the IndexedDB store
 * and one AbortController per run. Every finished cell is written to the store before the run
 * goes on (see eval/runner.ts), so a reload shows it and Resume runs only what is missing.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Price } from '../compare/pricing';
import type { ChatEngine, GenerationParams } from '../engines/types';
import { liveFor, mismatch } from '../eval/engines';
import type { CellResult, EngineColumn, EngineLoad, RunRecord } from '../eval/results';
import { RESULTS_FORMAT, RESULTS_VERSION } from '../eval/results-format';
import type { RunnerEngine } from '../eval/runner';
import type { ScoringSandbox } from '../eval/sandbox/protocol';
import type { EvalStore, RunSummary } from '../eval/store';
import type { Suite } from '../eval/suite';
import { errorText } from '../lib/errors';

export interface LiveEngine {
  column: EngineColumn;
  engine: ChatEngine;
  load: EngineLoad['load'];
}

export interface Progress {
  runId: string;
  done: number;
  total: number;
  /** Cells finished by this session of the run, and when it started (for the ETA). */
  finishedNow: number;
  startedAt: number;
  running: string[];
}

export interface StartOptions {
  suite: Suite;
  engines: LiveEngine[];
  judge: LiveEngine | null;
  params: GenerationParams;
  prices: Record<string, Price>;
  hostedConcurrency: number;
}

function newId(): string {
  return typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : `run-${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

const message = (e: unknown) => errorText(e);

/** Remaining time from the pace of this session: elapsed ÷ finished × remaining. */
export function etaMs(p: Progress, now: number): number | null {
  if (p.finishedNow === 0) return null;
  return ((now - p.startedAt) / p.finishedNow) * (p.total - p.done);
}

export function useEvalRuns() {
  const [store, setStore] = useState<EvalStore | null>(null);
  const [storeError, setStoreError] = useState<string | null>(null);
  const [runs, setRuns] = useState<RunSummary[]>([]);
  const [record, setRecord] = useState<RunRecord | null>(null);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [error, setError] = useState<string | null>(null);
  const abort = useRef<AbortController | null>(null);

  useEffect(() => {
    let opened: EvalStore | null = null;
    // The store (idb) and the runner load after first paint: the page does not need them to start.
    import('../eval/store')
      .then(({ EvalStore }) => EvalStore.open())
      .then((s) => {
        opened = s;
        setStore(s);
        return s.listRuns().then(setRuns);
      })
      .catch((e: unknown) => setStoreError(`Results cannot be saved in this browser (IndexedDB: ${message(e)}); a run still works but is lost on reload.`));
    return () => opened?.close();
  }, []);

  const refresh = useCallback(async () => {
    if (store) setRuns(await store.listRuns());
  }, [store]);

  const execute = useCallback(
    async (rec: RunRecord, live: LiveEngine[], judge: LiveEngine | null, hostedConcurrency: number) => {
      const ac = new AbortController();
      abort.current = ac;
      let current: RunRecord = { ...rec, status: 'running', updatedAt: Date.now() };
      setRecord(current);
      setError(null);
      const total = rec.suite.cases.length * rec.engines.length;
      const doneBefore = rec.cells.filter((c) => c.status === 'done').length;
      setProgress({ runId: rec.id, done: doneBefore, total, finishedNow: 0, startedAt: performance.now(), running: [] });
      // One scoring worker per run: it starts on the first regex/json-schema case, ends with the run.
      let sandbox: ScoringSandbox | null = null;
      try {
        // Loaded with the first run, like the runner below (the page does not need them to start).
        sandbox = (await import('../eval/sandbox/browser')).createBrowserSandbox();
        const { cells: _c, ...meta } = current;
        void _c;
        await store?.saveRun(meta);
        void refresh();
        const onCell = async (cell: CellResult) => {
          await store?.putCell(rec.id, cell);
          current = { ...current, cells: [...current.cells.filter((c) => c.caseId !== cell.caseId || c.engineId !== cell.engineId), cell] };
          setRecord(current);
          setProgress((p) =>
            p && {
              ...p,
              done: current.cells.filter((c) => c.status === 'done' || c.status === 'error').length,
              finishedNow: p.finishedNow + 1,
              running: p.running.filter((r) => r !== `${cell.caseId}\u0000${cell.engineId}`),
            },
          );
        };
        const runners: RunnerEngine[] = live.map((l) => ({ column: l.column, engine: l.engine }));
        const { runSuite } = await import('../eval/runner');
        const summary = await runSuite({
          record: current,
          engines: runners,
          judge: judge ? { column: judge.column, engine: judge.engine } : null,
          hostedConcurrency,
          sandbox,
          signal: ac.signal,
          onCell,
          onStart: (caseId, engineId) => setProgress((p) => p && { ...p, running: [...p.running, `${caseId}\u0000${engineId}`] }),
        });
        const complete = current.cells.filter((c) => c.status === 'done').length === total;
        current = { ...current, status: summary.stopped || !complete ? 'stopped' : 'done', updatedAt: Date.now() };
      } catch (e) {
        current = { ...current, status: 'stopped', updatedAt: Date.now() };
        setError(`The run stopped: ${message(e)}`);
      } finally {
        sandbox?.dispose();
        abort.current = null;
        setRecord(current);
        setProgress(null);
        const { cells: _c, ...meta } = current;
        void _c;
        await store?.saveRun(meta).catch(() => undefined);
        void refresh();
      }
    },
    [store, refresh],
  );

  const start = useCallback(
    (o: StartOptions) => {
      if (abort.current) return;
      if (o.engines.length === 0) {
        setError('Choose at least one engine: load a model on the Model tab or enable a hosted endpoint.');
        return;
      }
      const now = Date.now();
      const rec: RunRecord = {
        format: RESULTS_FORMAT,
        version: RESULTS_VERSION,
        id: newId(),
        name: `${o.suite.name} — ${new Date(now).toLocaleString()}`,
        createdAt: now,
        updatedAt: now,
        status: 'running',
        suite: o.suite,
        engines: o.engines.map((e) => e.column),
        params: o.params,
        prices: o.prices,
        loads: o.engines.map((e) => ({ engineId: e.column.id, load: e.load })),
        cells: [],
      };
      void execute(rec, o.engines, o.judge, o.hostedConcurrency);
    },
    [execute],
  );

  /** Continues `rec` with the engines set up now; refuses when they are not the run's engines. */
  const resume = useCallback(
    (rec: RunRecord, available: LiveEngine[], judge: LiveEngine | null, hostedConcurrency: number) => {
      if (abort.current) return;
      const live: LiveEngine[] = [];
      for (const col of rec.engines) {
        const now = liveFor(col, available);
        const why = mismatch(col, now?.column ?? null);
        if (why) {
          setError(why);
          return;
        }
        if (now) live.push(now);
      }
      void execute(rec, live, judge, hostedConcurrency);
    },
    [execute],
  );

  const stop = useCallback(() => abort.current?.abort(), []);

  const open = useCallback(
    async (id: string) => {
      if (!store) return;
      try {
        setRecord(await store.loadRun(id));
        setError(null);
      } catch (e) {
        setError(`Could not open that run: ${message(e)}`);
      }
    },
    [store],
  );

  const remove = useCallback(
    async (id: string) => {
      if (progress?.runId === id) return;
      await store?.deleteRun(id);
      setRecord((r) => (r?.id === id ? null : r));
      void refresh();
    },
    [store, refresh, progress],
  );

  /** Imports a results JSON file; a run with the same id already here is kept, the import gets a new id. */
  const importResults = useCallback(
    async (file: File): Promise<string | null> => {
      try {
        if (file.size > 50 * 1024 * 1024) throw new Error(`the file is ${(file.size / 1048576).toFixed(1)} MB; at most 50 MB.`);
        let json: unknown;
        try {
          json = JSON.parse(await file.text());
        } catch (e) {
          throw new Error(`not valid JSON (${message(e)}).`);
        }
        const { parseRunRecord } = await import('../eval/results');
        let rec = parseRunRecord(json);
        if (rec.status === 'running') rec = { ...rec, status: 'stopped' };
        if (runs.some((r) => r.id === rec.id)) rec = { ...rec, id: newId(), name: `${rec.name} (imported)` };
        await store?.saveRecord(rec);
        setRecord(rec);
        setError(null);
        void refresh();
        return null;
      } catch (e) {
        return `${file.name}: ${message(e)}`;
      }
    },
    [store, runs, refresh],
  );

  return { store, storeError, runs, record, progress, error, start, resume, stop, open, remove, importResults, close: () => setRecord(null), fail: setError };
}
