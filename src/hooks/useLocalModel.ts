/**
 * Lifecycle of the local model: probes the worker environment once, then loads models on demand.
 * Every load gets a fresh worker (ONNX Runtime fixes its build and thread pool per worker, and
 * terminating a worker frees all of a model's memory). "auto" threads are measured, not guessed.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { LocalEngine, LocalEngineError } from '../engines/local/LocalEngine';
import type { DeviceKind, EngineError, LoadedInfo, LoadRequest, WorkerEnvironment } from '../engines/local/protocol';
import type { LoadMemory, LoadMetrics } from '../metrics/timing';
import { chooseDevice } from '../models/device';
import { applyLoadEvent, initialProgress, loadMetricsOf, type LoadProgress } from '../engines/local/load-progress';
import { sourceLabel } from '../models/sources';
import { deviceMemoryGiB } from '../models/environment';
import { calibrationKey, defaultThreads, pairedDecision, readCalibration, sideBySideFits, threadCandidates, type ThreadMeasurement } from '../models/threads';
import { measurePairs } from '../engines/local/thread-pairs';
import { prepareIfStored } from '../engines/local/prepare';
import { median } from '../metrics/stats';
import type { ModelSelection } from '../state/settings';
import { appBase, ortBase } from './urls';
import { DEFAULT_WARMUP } from '../engines/local/LocalEngine';
import { requestPersistence } from '../models/cache';
import { errorText } from '../lib/errors';
import { measurePageMemory, type PageMemory } from '../engines/local/page-memory';
import { dtypeSpeedsKey, readDtypeSpeeds, recordDtypeSpeed, type DtypeSpeeds } from '../models/dtype-speeds';
import { localStore } from '../lib/local-storage';

export type LocalModelState =
  | { status: 'idle' }
  | { status: 'loading'; progress: LoadProgress; label: string; note: string | null }
  | {
      status: 'ready';
      info: LoadedInfo;
      load: LoadMetrics;
      deviceReason: string;
      threadsReason: string;
      calibration: ThreadMeasurement[];
      /** Answer to navigator.storage.persist(), asked once a load stored its files (undefined: not asked yet). */
      persisted?: boolean | null;
    }
  | { status: 'error'; error: EngineError; selection: ModelSelection | null };

/** What a retry after an error may change: accept the memory warning, or switch to WASM (a lost WebGPU device). */
export interface RetryChange {
  allowTightMemory?: boolean;
  device?: 'wasm';
}

function toEngineError(e: unknown): EngineError {
  if (e instanceof LocalEngineError) return e.error;
  return { code: 'internal', message: errorText(e) };
}

/**
 * `expected`: the model the settings select. When it is stored in this browser (a returning user's
 * next Load), the spare worker readies ONNX Runtime for it before the click (LocalEngine.prepare).
 */
export function useLocalModel(expected: ModelSelection | null = null) {
  const [env, setEnv] = useState<WorkerEnvironment | null>(null);
  const [state, setState] = useState<LocalModelState>({ status: 'idle' });
  const [engine, setEngine] = useState<LocalEngine | null>(null);
  const spare = useRef<LocalEngine | null>(null);
  /** Bumped when a new spare worker is made (after an unload), so that it is prepared too. */
  const [spareGen, setSpareGen] = useState(0);
  /** The spare worker asked to prepare (once each), and the device its ONNX Runtime is ready for. */
  const askedSpare = useRef<LocalEngine | null>(null);
  const [runtimePrepared, setRuntimePrepared] = useState<DeviceKind | null>(null);
  const generation = useRef(0);
  const last = useRef<{ sel: ModelSelection; knownBytes: number | null } | null>(null);
  /** The page's footprint before any model (measured once the probe worker answered; see page-memory.ts). */
  const baseline = useRef<Promise<PageMemory & { at: number }> | null>(null);

  useEffect(() => {
    const probe = new LocalEngine();
    spare.current = probe;
    // A cleanup (unmount, or StrictMode's dev double-run) disposes the probe: ignore its result then.
    let live = true;
    probe.probe().then(
      (env) => {
        if (!live) return;
        setEnv(env);
        baseline.current ??= measurePageMemory().then((m) => ({ ...m, at: performance.now() }));
      },
      (e: unknown) => live && setState({ status: 'error', error: toEngineError(e), selection: null }),
    );
    return () => {
      live = false;
      probe.dispose();
      spare.current?.dispose();
      spare.current = null;
    };
  }, []);

  const expectedKey = expected ? JSON.stringify([expected.source, expected.dtype, expected.device]) : null;
  useEffect(() => {
    const s = spare.current;
    if (!env || !expected || !s || askedSpare.current === s) return;
    let live = true;
    const target = { source: expected.source, dtype: expected.dtype, device: chooseDevice(expected.device, expected.dtype, env).device };
    const still = () => live && spare.current === s && askedSpare.current !== s;
    void prepareIfStored(s, target, { appBase: appBase(), ortBase: ortBase() }, still).then((asked) => {
      if (!asked) return;
      askedSpare.current = s;
      void asked.done.then((ok) => ok && spare.current === s && setRuntimePrepared(target.device));
    });
    return () => {
      live = false;
    };
    // expectedKey stands for `expected`: a new object with the same selection changes nothing.
  }, [env, expectedKey, spareGen]);

  /** A worker that has not loaded anything yet (the probe worker is reused once). */
  const freshEngine = () => {
    const e = spare.current ?? new LocalEngine();
    spare.current = null;
    setRuntimePrepared(null);
    return e;
  };

  const load = useCallback(
    async (sel: ModelSelection, knownBytes: number | null, allowTightMemory = false) => {
      if (!env) return;
      last.current = { sel, knownBytes };
      const myGen = ++generation.current;
      engine?.dispose();
      setEngine(null);
      const started = performance.now();
      const choice = chooseDevice(sel.device, sel.dtype, env);
      const label = sourceLabel(sel.source);
      let progress = initialProgress;
      setState({ status: 'loading', progress, label, note: choice.reason });
      const request = (threads: number): LoadRequest => ({
        source: sel.source,
        dtype: sel.dtype,
        device: choice.device,
        threads,
        appBase: appBase(),
        ortBase: ortBase(),
        warmup: sel.warmup ? DEFAULT_WARMUP : null,
        useBrowserCache: true,
        allowTightMemory,
      });
      const loadOne = async (threads: number, note: string | null) => {
        const e = freshEngine();
        progress = initialProgress;
        const info = await e
          .load(request(threads), (ev) => {
            progress = applyLoadEvent(progress, ev);
            if (generation.current === myGen) setState({ status: 'loading', progress, label, note });
          })
          .catch((err: unknown) => {
            e.dispose();
            throw err;
          });
        return { e, info };
      };

      try {
        const key = calibrationKey(label, sel.dtype, env.hardwareConcurrency);
        const candidates = choice.device === 'wasm' ? threadCandidates(env.hardwareConcurrency, env.crossOriginIsolated) : [1];
        const store = localStore();
        const stored = store ? readCalibration(store, key) : null;
        const memGiB = deviceMemoryGiB();
        let threadsReason: string;
        let calibration: ThreadMeasurement[] = [];
        let result: { e: LocalEngine; info: LoadedInfo };
        if (choice.device === 'webgpu') {
          result = await loadOne(1, choice.reason);
          threadsReason = 'WebGPU: the GPU does the math; one WASM thread drives it.';
        } else if (sel.threads !== 'auto') {
          const n = env.crossOriginIsolated ? sel.threads : 1;
          result = await loadOne(n, choice.reason);
          threadsReason = env.crossOriginIsolated ? `${n} thread(s), set by you.` : 'One thread: the page is not cross-origin isolated.';
        } else if (stored !== null) {
          result = await loadOne(stored, choice.reason);
          threadsReason = `${stored} thread(s): the fastest when last measured for this model on this device.`;
        } else if (candidates.length > 1 && sel.warmup && sideBySideFits(knownBytes, memGiB)) {
          // Paired measurement (models/threads.ts): the best count so far and the next candidate,
          // both loaded, answer alternately; the loser's worker is disposed at once.
          let best = await loadOne(candidates[0]!, `Measuring the best thread count: loading with ${candidates[0]} thread(s)`);
          const tps = new Map<number, number>();
          const notes: string[] = [];
          for (const n of candidates.slice(1)) {
            let other: { e: LocalEngine; info: LoadedInfo };
            try {
              other = await loadOne(n, `Measuring the best thread count: a second copy with ${n} threads`);
            } catch (err) {
              best.e.dispose();
              throw err;
            }
            setState({ status: 'loading', progress, label, note: `Measuring the best thread count: ${best.info.threads} vs ${n} threads, answers in turn` });
            const pairs = await measurePairs(best.e, other.e, best.info.warmupDecodeTps).catch((err: unknown) => {
              best.e.dispose();
              other.e.dispose();
              throw err;
            });
            const d = pairedDecision(pairs, true);
            tps.set(best.info.threads, median(pairs.map((p) => p.fewer)) ?? 0);
            tps.set(n, median(pairs.map((p) => p.more)) ?? 0);
            notes.push(`${n} vs ${best.info.threads}: ${d.ratio === null ? '—' : `${d.ratio.toFixed(2)}x`} (${Math.round(d.agree * pairs.length)}/${pairs.length} pairs faster)`);
            const [keep, drop] = d.more ? [other, best] : [best, other];
            drop.e.dispose();
            best = keep;
          }
          result = best;
          calibration = [...tps].map(([threads, decodeTps]) => ({ threads, decodeTps }));
          store?.setItem(key, String(result.info.threads));
          threadsReason = `${result.info.threads} thread(s): measured in alternating pairs, ${notes.join('; ')}.`;
        } else {
          const n = defaultThreads(env.hardwareConcurrency, env.crossOriginIsolated);
          result = await loadOne(n, choice.reason);
          threadsReason = env.crossOriginIsolated
            ? `${n} thread(s): ONNX Runtime's default for ${env.hardwareConcurrency} cores (not measured: ${candidates.length <= 1 ? 'one candidate' : !sel.warmup ? 'the warm-up is off' : `two copies of a ${Math.round((knownBytes ?? 0) / 1e6)} MB model are too many to measure side by side${memGiB !== null && memGiB < 8 ? ` on a device reporting ${memGiB} GB` : ''}`}).`
            : 'One thread: the page is not cross-origin isolated.';
          calibration = [];
        }
        if (generation.current !== myGen) {
          result.e.dispose();
          return;
        }
        const { info } = result;
        // A worker that dies later (out of memory, a lost WebGPU device) ends this model: say what happened.
        result.e.onCrash = (error) => {
          if (generation.current !== myGen) return;
          generation.current++;
          setEngine(null);
          setState({ status: 'error', error, selection: sel });
        };
        setEngine(result.e);
        // This load's decode speed for the Load panel's dtype comparison (models/dtype-speeds.ts): the
        // paired measurement's figure for the count kept, else the warm-up's. Only at the count Auto
        // picks (or on WebGPU): a dtype held to a count set by hand would be compared at a handicap.
        if (sel.threads === 'auto' || info.device === 'webgpu') {
          const kept = calibration.find((c) => c.threads === info.threads)?.decodeTps ?? info.warmupDecodeTps;
          recordDtypeSpeed(store, dtypeSpeedsKey(label, info.device, env.hardwareConcurrency), info.dtype, kept);
        }
        const totalMs = performance.now() - started;
        const memory: LoadMemory = { weightsBytes: info.weightsBytes, wasmHeapBytes: info.wasmHeapBytes, pageBytes: null, baselineBytes: null, note: 'Measuring the page’s memory…' };
        const ready = (m: LoadMemory): LocalModelState => ({ status: 'ready', info, deviceReason: choice.reason, threadsReason, calibration, load: loadMetricsOf(info, totalMs, m) });
        setState(ready(memory));
        // Chromium answers at its next garbage collection (up to ~20 s): the figure fills in when it comes.
        void Promise.all([baseline.current ?? Promise.resolve(null), measurePageMemory()]).then(([before, after]) => {
          if (generation.current !== myGen) return;
          // A baseline that Chromium took after this load began would count part of the model as "before".
          const late = before !== null && before.bytes !== null && before.at > started;
          const baselineBytes = late ? null : (before?.bytes ?? null);
          const note = after.note ?? before?.note ?? (late ? 'The page’s memory before the load was not measured in time (the load started first).' : null);
          setState(ready({ ...memory, pageBytes: after.bytes, baselineBytes, note }));
        });
        // Stored models should survive storage pressure: ask once they are in the cache, and say the answer.
        if (info.cache.stored) {
          void requestPersistence().then((persisted) => setState((s) => (s.status === 'ready' && s.info === info ? { ...s, persisted } : s)));
        }
      } catch (e) {
        if (generation.current === myGen) setState({ status: 'error', error: toEngineError(e), selection: sel });
      }
    },
    [env, engine],
  );

  const unload = useCallback(() => {
    generation.current++;
    engine?.dispose();
    setEngine(null);
    setState({ status: 'idle' });
    // The next Load starts in a worker that is up (and prepared, for a stored model), as after the page opened.
    if (!spare.current) {
      spare.current = new LocalEngine();
      setSpareGen((g) => g + 1);
    }
  }, [engine]);

  /** Loads the last selection again after an error, with the change the error offered. */
  const retry = useCallback(
    (change: RetryChange) => {
      const l = last.current;
      if (!l) return;
      const sel = change.device ? { ...l.sel, device: change.device } : l.sel;
      void load(sel, l.knownBytes, change.allowTightMemory ?? false);
    },
    [load],
  );

  /** Decode speeds measured here per dtype of a model (its source label) on a device. */
  const dtypeSpeeds = useCallback(
    (label: string, device: DeviceKind): DtypeSpeeds => (env ? readDtypeSpeeds(localStore(), dtypeSpeedsKey(label, device, env.hardwareConcurrency)) : {}),
    [env],
  );

  return { env, state, engine, load, unload, retry, runtimePrepared, dtypeSpeeds };
}
