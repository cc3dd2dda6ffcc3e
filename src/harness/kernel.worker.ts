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

declare const self: DedicatedWorkerGlobalScope;

export type ToKernelWorker =
  | { kind: 'open'; id: number; url: string; threads: number; ortBase: string }
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
  | { kind: 'opened'; id: number; sessionMs: number }
  | { kind: 'ran'; id: number; ms: number[] }
  | { kind: 'failed'; id: number; error: string };

type Ort = typeof import('onnxruntime-web/webgpu');
let open: { ort: Ort; session: Awaited<ReturnType<Ort['InferenceSession']['create']>> } | null = null;

async function openSession(url: string, threads: number, ortBase: string): Promise<number> {
  await setupTransformers('wasm', threads, ortBase);
  await installExternalWeights();
  const ort = await import('onnxruntime-web/webgpu');
  const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  open = { ort, session };
  return performance.now() - t0;
}

async function timeRuns(warmups: number, runs: number, rows: number, warmupMs: number): Promise<number[]> {
  if (!open) throw new Error('no kernel session is open');
  const { ort, session } = open;
  const feeds: Record<string, InstanceType<Ort['Tensor']>> = {};
  for (const name of session.inputNames) {
    const k = Number(name.slice(2));
    feeds[name] = new ort.Tensor('float32', Float32Array.from({ length: rows * k }, (_, i) => Math.sin(i) * 0.5), [1, rows, k]);
  }
  const warmStart = performance.now();
  for (let i = 0; i < warmups || performance.now() - warmStart < warmupMs; i++) await session.run(feeds);
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await session.run(feeds);
    ms.push(performance.now() - t);
  }
  return ms;
}

self.onmessage = async (ev: MessageEvent<ToKernelWorker>) => {
  const m = ev.data;
  try {
    switch (m.kind) {
      case 'open':
        self.postMessage({ kind: 'opened', id: m.id, sessionMs: await openSession(m.url, m.threads, m.ortBase) } satisfies FromKernelWorker);
        break;
      case 'run':
        self.postMessage({ kind: 'ran', id: m.id, ms: await timeRuns(m.warmups, m.runs, m.rows, m.warmupMs) } satisfies FromKernelWorker);
        break;
    }
  } catch (e) {
    self.postMessage({ kind: 'failed', id: m.id, error: errorText(e) } satisfies FromKernelWorker);
  }
};
