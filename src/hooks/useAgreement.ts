/**
 * The session's agreement: every exchange answered by the local and the hosted pane gets a
 * verdict (hosted = reference). Short pairs are measured inline; pairs whose word diff needs more
 * than INLINE_CELLS LCS cells go to a worker (measured: two 2,000-word answers cost ~40 ms on a
 * loaded 2-core machine, more than a frame). The optional judge is one more request to the
 * hosted engine per exchange; when it fails the other measures decide and the verdict says so.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { agreementOf, decide, diffAnswers, lcsCells, measureAgreement, type Agreement, type DiffPart, type JudgeOutcome, type Measures } from '../compare/agreement';
import { buildAgreementJudgeMessages, parseAgreementJudge } from '../compare/agreement-judge';
import { INLINE_CELLS, type FromAgreementWorker, type ToAgreementWorker } from '../compare/agreement-protocol';
import { tallySession, verdictRecord, type ExchangeFacts, type SessionEntry, type Tally } from '../compare/agreement-tally';
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
}

const JUDGE_PARAMS: Partial<GenerationParams> = { greedy: true, maxNewTokens: 128 };

function settle(e: AgreementEntry): AgreementEntry {
  const pair = { reference: e.hosted, candidate: e.local, referenceError: e.hostedError, candidateError: e.localError };
  if (e.hostedError || e.localError) return { ...e, agreement: agreementOf(pair) };
  if (!e.measures || e.judge === 'pending') return { ...e, agreement: null };
  return { ...e, agreement: decide(e.measures, e.judge) };
}

export function toSessionEntry(e: AgreementEntry): SessionEntry | null {
  if (!e.agreement) return null;
  const { id: _i, measures: _m, diff: _d, measuredIn: _w, measureMs: _t, judge: _j, agreement, ...rest } = e;
  return { ...rest, verdict: verdictRecord(agreement) };
}

export function useAgreement(judgeEngine: ChatEngine | null, params: GenerationParams, prices: Record<string, Price>) {
  const [entries, setEntries] = useState<AgreementEntry[]>([]);
  const [judgeOn, setJudgeOn] = useState(false);
  const nextId = useRef(1);
  const worker = useRef<Worker | null>(null);
  const aborts = useRef(new Set<AbortController>());

  useEffect(
    () => () => {
      worker.current?.terminate();
      for (const a of aborts.current) a.abort();
    },
    [],
  );

  const patch = useCallback((id: number, f: (e: AgreementEntry) => AgreementEntry) => {
    setEntries((all) => all.map((e) => (e.id === id ? settle(f(e)) : e)));
  }, []);

  const measureOff = useCallback(
    (id: number, reference: string, candidate: string) => {
      if (!worker.current) {
        const w = new Worker(new URL('../compare/agreement.worker.ts', import.meta.url), { type: 'module', name: 'slm-agreement' });
        w.onmessage = (ev: MessageEvent<FromAgreementWorker>) => {
          const m = ev.data;
          switch (m.kind) {
            case 'measured':
              patch(m.id, (e) => ({ ...e, measures: m.measures, diff: m.diff, measuredIn: 'worker', measureMs: m.ms }));
              break;
            case 'failed':
              // The worker could not measure: the page does it (a slow frame beats no verdict).
              patch(m.id, (e) => ({ ...e, measures: measureAgreement(e.hosted, e.local), diff: null, measuredIn: 'page', measureMs: null }));
              break;
          }
        };
        worker.current = w;
      }
      const msg: ToAgreementWorker = { kind: 'measure', id, reference, candidate };
      worker.current.postMessage(msg);
    },
    [patch],
  );

  const add = useCallback(
    (x: Exchange) => {
      const local = x.answers.find((a) => a.paneId === 'local');
      const hosted = x.answers.find((a) => a.paneId === 'hosted');
      if (!local || !hosted) return;
      const id = nextId.current++;
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
        judge: ok && judgeOn && judgeEngine ? 'pending' : null,
        agreement: null,
      };
      if (ok && lcsCells(hosted.output, local.output) <= INLINE_CELLS) {
        const t0 = performance.now();
        entry = { ...entry, measures: measureAgreement(hosted.output, local.output), diff: diffAnswers(hosted.output, local.output), measuredIn: 'page' };
        entry.measureMs = performance.now() - t0;
      } else if (ok) measureOff(id, hosted.output, local.output);
      setEntries((all) => [...all, settle(entry)]);
      if (entry.judge === 'pending' && judgeEngine) {
        const ac = new AbortController();
        aborts.current.add(ac);
        judgeEngine
          .generate({ messages: buildAgreementJudgeMessages(x.prompt, hosted.output, local.output), params: { ...params, ...JUDGE_PARAMS }, signal: ac.signal })
          .then(
            (r): JudgeOutcome => (r.finishReason === 'abort' ? { status: 'failed', error: 'stopped' } : parseAgreementJudge(r.text)),
            (e: unknown): JudgeOutcome => ({ status: 'failed', error: `the judge request failed: ${errorText(e)}` }),
          )
          .then((judge) => {
            aborts.current.delete(ac);
            patch(id, (e) => ({ ...e, judge }));
          });
      }
    },
    [prices, judgeOn, judgeEngine, params, measureOff, patch],
  );

  const clear = useCallback(() => {
    for (const a of aborts.current) a.abort();
    aborts.current.clear();
    setEntries([]);
  }, []);

  const session = useMemo(() => entries.map(toSessionEntry).filter((e): e is SessionEntry => e !== null), [entries]);
  const tally: Tally = useMemo(() => tallySession(session), [session]);
  const pending = entries.filter((e) => e.agreement === null).length;

  return { entries, session, tally, pending, judgeOn, setJudgeOn, judgeAvailable: judgeEngine !== null, add, clear };
}

export type AgreementState = ReturnType<typeof useAgreement>;
