/**
 * The Suites tab's wiring: which engines can take part now (the loaded in-browser model, the
 * enabled hosted endpoint), the suites, and the runs. Components get plain props and callbacks.
 */
import { useCallback, useState } from 'react';
import type { Price } from '../compare/pricing';
import type { HostedEngine } from '../engines/hosted/HostedEngine';
import type { LocalEngine } from '../engines/local/LocalEngine';
import type { GenerationParams } from '../engines/types';
import { columnsFor, hostedColumn, localColumn, type ConstraintMode } from '../eval/engines';
import type { LoadMetrics } from '../metrics/timing';
import { useEvalRuns, type LiveEngine } from './useEvalRuns';
import { useSuites, type SuiteRef } from './useSuites';
import type { RunRecord } from '../eval/results';
import type { ShareSuiteRef } from '../share/schema';
import { errorText } from '../lib/errors';

export interface EngineChoice {
  id: string;
  label: string;
  /** Why it cannot take part now (not loaded, not enabled); null when it can. */
  unavailable: string | null;
}

export interface SuiteRunnerDeps {
  local: { engine: LocalEngine | null; info: { modelId: string; dtype: string; device: string } | null; load: LoadMetrics | null };
  hosted: { engine: HostedEngine | null; enabled: boolean; baseUrl: string };
  params: GenerationParams;
  prices: Record<string, Price>;
}

function withoutFormat(p: GenerationParams): GenerationParams {
  const { responseFormat: _unused, ...rest } = p;
  return rest;
}

export function useSuiteRunner(d: SuiteRunnerDeps) {
  const runs = useEvalRuns();
  const suites = useSuites(runs.store);
  const [compared, setCompared] = useState<RunRecord | null>(null);
  /** The suite chosen on the Suites tab: "b:<file>" (bundled) or "i:<id>" (imported). */
  const [selected, setSelected] = useState('b:slm-skills-20.json');

  /** Opens a suite named by a share link: a bundled one by file, a carried one kept as imported. */
  const openShared = useCallback(
    (ref: ShareSuiteRef) => {
      if (ref.kind === 'bundled') setSelected(`b:${ref.file}`);
      else {
        void suites.add(ref.suite);
        setSelected(`i:${ref.suite.id}`);
      }
    },
    [suites],
  );

  /**
   * The engines that can take part, built when a run starts: a hosted endpoint with no model named
   * is asked for its first model first, so the results name the model that answered.
   */
  const liveEngines = useCallback(async (withHosted: boolean): Promise<LiveEngine[]> => {
    const out: LiveEngine[] = [];
    if (d.local.engine && d.local.info) out.push({ column: localColumn(d.local.info, d.local.engine.label), engine: d.local.engine, load: d.local.load });
    const h = d.hosted.engine;
    if (withHosted && d.hosted.enabled && h) {
      const model = await h.resolveModel(undefined);
      out.push({ column: hostedColumn(model, h.label, d.hosted.baseUrl), engine: h, load: null });
    }
    return out;
  }, [d.local.engine, d.local.info, d.local.load, d.hosted.enabled, d.hosted.engine, d.hosted.baseUrl]);

  const choices: EngineChoice[] = [
    { id: 'local', label: d.local.engine ? `In browser: ${d.local.engine.label}` : 'In-browser model', unavailable: d.local.engine ? null : 'load a model on the Model tab' },
    {
      id: 'hosted',
      label: d.hosted.engine ? `Hosted: ${d.hosted.engine.label}` : 'Hosted model',
      unavailable: d.hosted.enabled && d.hosted.engine ? null : 'enable an endpoint on the Hosted tab',
    },
  ];

  const engines = useCallback(async (withHosted: boolean): Promise<LiveEngine[] | null> => {
    try {
      return await liveEngines(withHosted);
    } catch (e) {
      runs.fail(`The hosted endpoint: ${errorText(e)}`);
      return null;
    }
  }, [liveEngines, runs]);

  const run = useCallback(
    async (ref: SuiteRef, engineIds: string[], judgeId: string | null, concurrency: number, mode: ConstraintMode = 'free') => {
      let suite;
      try {
        suite = await suites.resolve(ref);
      } catch (e) {
        runs.fail(`Could not read the suite: ${errorText(e)}`);
        return;
      }
      const live = await engines(engineIds.includes('hosted') || judgeId === 'hosted');
      if (!live) return;
      setCompared(null);
      runs.start({
        suite,
        engines: columnsFor(
          live.filter((l) => engineIds.includes(l.column.id)),
          mode,
        ),
        judge: live.find((l) => l.column.id === judgeId) ?? null,
        // A suite's output format is per case (its response schema, on constrained columns): the Generation tab's is not used.
        params: withoutFormat(d.params),
        prices: d.prices,
        hostedConcurrency: concurrency,
      });
    },
    [suites, runs, engines, d.params, d.prices],
  );

  const resume = useCallback(
    async (id: string, concurrency: number) => {
      if (!runs.store) return;
      const rec = await runs.store.loadRun(id);
      const live = rec ? await engines(rec.engines.some((e) => e.kind === 'hosted')) : null;
      if (!rec || !live) return;
      // The judge that judged the run's first cells judges the rest, when it is here now.
      const judgeId = rec.cells.find((c) => c.judge)?.judge?.engineId;
      setCompared(null);
      runs.resume(rec, live, live.find((l) => l.column.id === judgeId) ?? null, concurrency);
    },
    [runs, engines],
  );

  const compare = useCallback(
    async (id: string) => {
      if (!runs.store || !runs.record) return;
      const [other, { compareRuns }] = await Promise.all([runs.store.loadRun(id), import('../eval/report')]);
      if (other) setCompared(compareRuns(runs.record, other));
    },
    [runs],
  );

  const open = useCallback(
    (id: string) => {
      setCompared(null);
      void runs.open(id);
    },
    [runs],
  );

  return { runs, suites, choices, run, resume, compare, open, selected, setSelected, openShared, shown: compared ?? runs.record, closeShown: () => (compared ? setCompared(null) : runs.close()) };
}
