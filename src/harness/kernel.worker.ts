/// <reference lib="webworker" />
/**
 * The benchmark's kernel floor (issue 12, `kernel_ratio`): runs a bare ONNX graph of one decode
 * step's weight matmuls (tools/slm/kernel_graph.py; or a prefill's, `rows` > 1) in ONNX Runtime Web with the model worker's own
 * setup (ort-setup.ts: the plain WASM build, the same thread count; the session preparation installed (external-weights.ts), so q4
 * graphs run the kernels the app runs). `open` creates the session once; each `run` times `runs` runs after `warmups` (and at
 * least `warmupMs` of them) at its own row count, on that session.
 *
 * One session for all of a row's rounds, not one per call (2026-12-02): the 135M shape's fp32 graph is ~540 MB, and its
 * twelve halves (decode and prefill, three rounds, both runtimes) each fetched and created it: the kernel phase took
 * 2.4 min of a 135M fp32 row (and 2.5 of 0.5B's), ~40 s of it timed runs.
 */
import { setupTransformers } from '../engines/local/worker/ort-setup';
import { installExternalWeights } from '../engines/local/worker/external-weights';
import { errorText } from '../lib/errors';
import { planKvDecoder } from '../inference/kv-decoder';
import { decodeStepFeeds, GRAPH_STEP_PAST, stepOutputPool } from '../inference/step-feeds';
import { outputHookAvailable } from '../inference/output-pool';

declare const self: DedicatedWorkerGlobalScope;

/** What the kernel worker opens: a kernel graph (tools/slm/kernel_graph.py) or a model's whole graph, run one decode step at a time. */
export type GraphKind = 'kernel' | 'step';

export type ToKernelWorker =
  | {
      kind: 'open';
      id: number;
      url: string;
      threads: number;
      ortBase: string;
      /** 'kernel': a kernel graph (inputs x_K); 'step': a model's whole graph, one decode step at `GRAPH_STEP_PAST` (step-feeds.ts). */
      graph: GraphKind;
    }
  | {
      kind: 'run';
      id: number;
      warmups: number;
      runs: number;
      /** Rows of each input: 1 for a decode step, a prompt's length for its prefill. */
      rows: number;
      /** Warm up for at least this long too (ms): V8 optimises ORT's WASM as it runs (kernel.mjs says what too short a warm-up read). */
      warmupMs: number;
    };

export type FromKernelWorker =
  | { kind: 'opened'; id: number; sessionMs: number; pooled: boolean }
  | { kind: 'ran'; id: number; ms: number[] }
  | { kind: 'failed'; id: number; error: string };

type Ort = typeof import('onnxruntime-web/webgpu');
type Session = Awaited<ReturnType<Ort['InferenceSession']['create']>>;
type Feeds = Record<string, InstanceType<Ort['Tensor']>>;
/** The open graph: `prepare(rows)` builds a run's feeds once and gives the run. */
let open: { session: Session; prepare: (rows: number) => () => Promise<unknown>; pooled: boolean } | null = null;

/** A kernel graph's run: each input `x_K` gets `rows` rows of K values. */
function kernelRun(ort: Ort, session: Session, rows: number): () => Promise<unknown> {
  const feeds: Feeds = {};
  for (const name of session.inputNames) {
    const k = Number(name.slice(2));
    feeds[name] = new ort.Tensor('float32', Float32Array.from({ length: rows * k }, (_, i) => Math.sin(i) * 0.5), [1, rows, k]);
  }
  return () => session.run(feeds);
}

/**
 * A model graph's decode step (its plan as the app's loop makes it), feeds built once, outputs written into
 * the app's reused buffers where this ONNX Runtime carries the hook (step-feeds.ts says why): one row only.
 */
function stepRun(ort: Ort, session: Session): { prepare: (rows: number) => () => Promise<unknown>; pooled: boolean } {
  const plan = planKvDecoder(session);
  if ('reason' in plan) throw new Error(`the model does not fit the decode loop: ${plan.reason}`);
  const feeds = decodeStepFeeds(plan.layout, GRAPH_STEP_PAST, (type, data, dims) => new ort.Tensor(type, data, dims)) as Feeds;
  const pool = outputHookAvailable() ? stepOutputPool(session.outputNames, plan.layout, GRAPH_STEP_PAST) : null;
  return {
    pooled: pool !== null,
    prepare: (rows) => {
      if (rows !== 1) throw new Error(`a model's step graph runs one row, not ${rows}`);
      const run = () => session.run(feeds);
      return pool ? () => pool.run(run) : run;
    },
  };
}

async function openSession(url: string, threads: number, ortBase: string, graph: GraphKind): Promise<{ sessionMs: number; pooled: boolean }> {
  await setupTransformers('wasm', threads, ortBase);
  await installExternalWeights();
  const ort = await import('onnxruntime-web/webgpu');
  const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const ms = performance.now() - t0;
  try {
    open = { session, ...(graph === 'step' ? stepRun(ort, session) : { pooled: false, prepare: (rows: number) => kernelRun(ort, session, rows) }) };
  } catch (e) {
    await session.release();
    throw e;
  }
  return { sessionMs: ms, pooled: open.pooled };
}

async function timeRuns(warmups: number, runs: number, rows: number, warmupMs: number): Promise<number[]> {
  if (!open) throw new Error('no kernel session is open');
  const run = open.prepare(rows);
  const warmStart = performance.now();
  for (let i = 0; i < warmups || performance.now() - warmStart < warmupMs; i++) await run();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await run();
    ms.push(performance.now() - t);
  }
  return ms;
}

self.onmessage = async (ev: MessageEvent<ToKernelWorker>) => {
  const m = ev.data;
  try {
    switch (m.kind) {
      case 'open':
        self.postMessage({ kind: 'opened', id: m.id, ...(await openSession(m.url, m.threads, m.ortBase, m.graph)) } satisfies FromKernelWorker);
        break;
      case 'run':
        self.postMessage({ kind: 'ran', id: m.id, ms: await timeRuns(m.warmups, m.runs, m.rows, m.warmupMs) } satisfies FromKernelWorker);
        break;
    }
  } catch (e) {
    self.postMessage({ kind: 'failed', id: m.id, error: errorText(e) } satisfies FromKernelWorker);
  }
};
