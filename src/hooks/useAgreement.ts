/**
 * The session's agreement: every exchange answered by the local and the hosted pane gets a
 * verdict (hosted = reference). Short pairs are measured inline; pairs whose word diff needs more
 * than INLINE_CELLS LCS cells go to a worker (measured: two 2,000-word answers cost ~40 ms on a
 * loaded 2-core machine, more than a frame). The optional judge is one more request to the
 * hosted engine per exchange; when it fails the other measures decide and the verdict says so.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Agreement, DiffPart, JudgeOutcome, Measures } from '../compare/agreement';
import { INLINE_CELLS, type FromAgreementWorker, type ToAgreementWorker } from '../compare/agreement-protocol';
import type { ExchangeFacts, SessionEntry, VerdictRecord } from '../compare/agreement-tally';
import { runCost, type Price } from '../compare/pricing';
import type { Exchange } from '../compare/strip';
import type { ChatEngine, GenerationParams } from '../engines/types';
import { errorText } from '../lib/errors';

export interface AgreementEntry extends ExchangeFacts {
  id: number;
  measures: Measures | null;
  diff: DiffPart[] | null;
  /** Where the measures were computed, and how long they took (ms). */
  measuredIn: 'page' | 'worker' | null;
  measureMs: number | null;
  judge: JudgeOutcome | 'pending' | null;
  /** Null while measuring or judging. */
  agreement: Agreement | null;
  /** The agreement's compact record (what share links carry); null with it. */
  verdict: VerdictRecord | null;
}

type Work = typeof import('./agreement-work');
let work: Promise<Work> | null = null;
/** The measures and the judge, loaded with the first exchange that has both answers. */
const loadWork = () => (work ??= import('./agreement-work'));

const JUDGE_PARAMS: Partial<GenerationParams> = { greedy: true, maxNewTokens: 128 };

function settle(w: Work, e: AgreementEntry): AgreementEntry {
  const pair = { reference: e.hosted, candidate: e.local, referenceError: e.hostedError, candidateError: e.localError };
  const agreement = e.hostedError || e.localError ? w.agreementOf(pair) : !e.measures || e.judge === 'pending' ? null : w.decide(e.measures, e.judge);
  return { ...e, agreement, verdict: agreement ? w.verdictRecord(agreement) : null };
}

export function toSessionEntry(e: AgreementEntry): SessionEntry | null {
  if (!e.verdict) return null;
  const { id: _i, measures: _m, diff: _d, measuredIn: _w, measureMs: _t, judge: _j, agreement: _a, verdict, ...rest } = e;
  return { ...rest, verdict };
}

export function useAgreement(judgeEngine: ChatEngine | null, params: GenerationParams, prices: Record<string, Price>) {
  const [entries, setEntries] = useState<AgreementEntry[]>([]);
  const [judgeOn, setJudgeOn] = useState(false);
  const nextId = useRef(1);
  /** Bumped by clear(): an exchange still waiting for the measures' module is then dropped. */
  const epoch = useRef(0);
  const worker = useRef<Worker | null>(null);
  const aborts = useRef(new Set<AbortController>());

  useEffect(
    () => () => {
      worker.current?.terminate();
      for (const a of aborts.current) a.abort();
    },
    [],
  );

  const patch = useCallback((w: Work, id: number, f: (e: AgreementEntry) => AgreementEntry) => {
    setEntries((all) => all.map((e) => (e.id === id ? settle(w, f(e)) : e)));
  }, []);

  const measureOff = useCallback(
    (w: Work, id: number, reference: string, candidate: string) => {
      if (!worker.current) {
        const wk = new Worker(new URL('../compare/agreement.worker.ts', import.meta.url), { type: 'module', name: 'slm-agreement' });
        wk.onmessage = (ev: MessageEvent<FromAgreementWorker>) => {
          const m = ev.data;
          switch (m.kind) {
            case 'measured':
              patch(w, m.id, (e) => ({ ...e, measures: m.measures, diff: m.diff, measuredIn: 'worker', measureMs: m.ms }));
              break;
            case 'failed':
              // The worker could not measure: the page does it (a slow frame beats no verdict).
              patch(w, m.id, (e) => ({ ...e, measures: w.measureAgreement(e.hosted, e.local), diff: null, measuredIn: 'page', measureMs: null }));
              break;
          }
        };
        worker.current = wk;
      }
      const msg: ToAgreementWorker = { kind: 'measure', id, reference, candidate };
      worker.current.postMessage(msg);
    },
    [patch],
  );

  const measure = useCallback(
    (w: Work, id: number, x: Exchange, local: Exchange['answers'][number], hosted: Exchange['answers'][number], judgeEngine: ChatEngine | null) => {
      const ok = !local.error && !hosted.error;
      let entry: AgreementEntry = {
        id,
        prompt: x.prompt,
        local: local.output,
        hosted: hosted.output,
        localError: local.error,
        hostedError: hosted.error,
        localTtftMs: local.metrics?.ttftMs ?? null,
        hostedTtftMs: hosted.metrics?.ttftMs ?? null,
        localE2eMs: local.metrics?.e2eMs ?? null,
        hostedE2eMs: hosted.metrics?.e2eMs ?? null,
        hostedCostUsd: hosted.metrics ? runCost(hosted.metrics, prices) : null,
        measures: null,
        diff: null,
        measuredIn: null,
        measureMs: null,
        judge: ok && judgeEngine ? 'pending' : null,
        agreement: null,
        verdict: null,
      };
      if (ok && w.lcsCells(hosted.output, local.output) <= INLINE_CELLS) {
        const t0 = performance.now();
        entry = { ...entry, measures: w.measureAgreement(hosted.output, local.output), diff: w.diffAnswers(hosted.output, local.output), measuredIn: 'page' };
        entry.measureMs = performance.now() - t0;
      } else if (ok) measureOff(w, id, hosted.output, local.output);
      setEntries((all) => [...all, settle(w, entry)]);
      if (entry.judge === 'pending' && judgeEngine) {
        const ac = new AbortController();
        aborts.current.add(ac);
        judgeEngine
          .generate({ messages: w.buildAgreementJudgeMessages(x.prompt, hosted.output, local.output), params: { ...params, ...JUDGE_PARAMS }, signal: ac.signal })
          .then(
            (r): JudgeOutcome => (r.finishReason === 'abort' ? { status: 'failed', error: 'stopped' } : w.parseAgreementJudge(r.text)),
            (e: unknown): JudgeOutcome => ({ status: 'failed', error: `the judge request failed: ${errorText(e)}` }),
          )
          .then((judge) => {
            aborts.current.delete(ac);
            patch(w, id, (e) => ({ ...e, judge }));
          });
      }
    },
    [prices, params, measureOff, patch],
  );

  const add = useCallback(
    (x: Exchange) => {
      const local = x.answers.find((a) => a.paneId === 'local');
      const hosted = x.answers.find((a) => a.paneId === 'hosted');
      if (!local || !hosted) return;
      const id = nextId.current++;
      const judging = judgeOn && judgeEngine ? judgeEngine : null;
      const at = epoch.current;
      void loadWork().then((w) => at === epoch.current && measure(w, id, x, local, hosted, judging));
    },
    [judgeOn, judgeEngine, measure],
  );

  const clear = useCallback(() => {
    epoch.current++;
    for (const a of aborts.current) a.abort();
    aborts.current.clear();
    setEntries([]);
  }, []);

  const session = useMemo(() => entries.map(toSessionEntry).filter((e): e is SessionEntry => e !== null), [entries]);
  const pending = entries.filter((e) => e.agreement === null).length;

  return { entries, session, pending, judgeOn, setJudgeOn, judgeAvailable: judgeEngine !== null, add, clear };
}

export type AgreementState = ReturnType<typeof useAgreement>;
