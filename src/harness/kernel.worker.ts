/// <reference lib="webworker" />
/**
 * The benchmark's kernel floor (issue 12, `kernel_ratio`): runs a bare ONNX graph of one decode
 * step's weight matmuls (tools/slm/kernel_graph.py) in ONNX Runtime Web with the model worker's own
 * setup (ort-setup.ts: the plain WASM build, the same thread count; the session preparation installed (external-weights.ts), so q4
 * graphs run the kernels the app runs) and times `runs` runs after `warmups`.
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
}

export type KernelReply = { ok: true; ms: number[]; sessionMs: number } | { ok: false; error: string };

/**
 * ONNX Runtime's Emscripten factory (`wasmPaths.mjs`) as a Blob URL, as transformers.js loads it for
 * the model worker (its `ensureWasmLoaded`, run before the first session it creates; this worker
 * creates its session itself). Measured reason (2026-11-30): imported from its http URL, a session
 * with 2 threads never finished creating (0% CPU, no error; the 135M and 0.5B kernel graphs alike,
 * 1 thread fine), which is why every `kernel_ratio` at 2 threads was missing; from the Blob URL it
 * is created in 0.6–0.8 s and runs.
 */
async function factoryAsBlob(wasm: { wasmPaths?: unknown }): Promise<void> {
  const paths = wasm.wasmPaths as { mjs?: string; wasm?: string } | undefined;
  if (!paths?.mjs || paths.mjs.startsWith('blob:')) return;
  const code = await (await fetch(paths.mjs)).text();
  wasm.wasmPaths = { ...paths, mjs: URL.createObjectURL(new Blob([code], { type: 'text/javascript' })) };
}

self.onmessage = async (ev: MessageEvent<KernelRequest>) => {
  const { url, threads, ortBase, warmups, runs } = ev.data;
  try {
    await setupTransformers('wasm', threads, ortBase);
    await installExternalWeights();
    const ort = await import('onnxruntime-web/webgpu');
    await factoryAsBlob(ort.env.wasm);
    const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
    const t0 = performance.now();
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
    const sessionMs = performance.now() - t0;
    const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
    for (const name of session.inputNames) {
      const k = Number(name.slice(2));
      feeds[name] = new ort.Tensor('float32', Float32Array.from({ length: k }, (_, i) => Math.sin(i) * 0.5), [1, 1, k]);
    }
    const ms: number[] = [];
    for (let i = 0; i < warmups + runs; i++) {
      const t = performance.now();
      await session.run(feeds);
      if (i >= warmups) ms.push(performance.now() - t);
    }
    await session.release();
    self.postMessage({ ok: true, ms, sessionMs } satisfies KernelReply);
  } catch (e) {
    self.postMessage({ ok: false, error: errorText(e) } satisfies KernelReply);
  }
};
