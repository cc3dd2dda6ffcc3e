/// <reference lib="webworker" />
/**
 * The benchmark's kernel floor (issue 12, `kernel_ratio`): runs a bare ONNX graph of one decode
 * step's weight matmuls (tools/slm/kernel_graph.py; or a prefill's, `rows` > 1) in ONNX Runtime Web with the model worker's own
 * setup (ort-setup.ts: the plain WASM build, the same thread count; the session preparation installed (external-weights.ts), so q4
 * graphs run the kernels the app runs) and times `runs` runs after `warmups` (and at least `warmupMs` of them).
 */
import { setupTransformers } from '../engines/local/worker/ort-setup';
import { installExternalWeights } from '../engines/local/worker/external-weights';
import { errorText } from '../lib/errors';

declare const self: DedicatedWorkerGlobalScope;

export interface KernelRequest {
  url: string;
  threads: number;
  ortBase: string;
  warmups: number;
  runs: number;
  /** Rows of each input: 1 for a decode step, a prompt's length for its prefill. */
  rows: number;
  /** Warm up for at least this long too (ms): V8 optimises ORT's WASM as it runs (kernel.mjs says what too short a warm-up read). */
  warmupMs: number;
}

export type KernelReply = { ok: true; ms: number[]; sessionMs: number } | { ok: false; error: string };

self.onmessage = async (ev: MessageEvent<KernelRequest>) => {
  const { url, threads, ortBase, warmups, runs, rows, warmupMs } = ev.data;
  try {
    await setupTransformers('wasm', threads, ortBase);
    await installExternalWeights();
    const ort = await import('onnxruntime-web/webgpu');
    const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
    const t0 = performance.now();
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
    const sessionMs = performance.now() - t0;
    const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
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
    await session.release();
    self.postMessage({ ok: true, ms, sessionMs } satisfies KernelReply);
  } catch (e) {
    self.postMessage({ ok: false, error: errorText(e) } satisfies KernelReply);
  }
};
