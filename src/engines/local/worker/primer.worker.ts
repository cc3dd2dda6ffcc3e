/// <reference lib="webworker" />
/**
 * The kernel primer's worker (primer.ts says what it is for; primer-helper.ts starts it): ONNX
 * Runtime's plain WASM build on one thread, from the same .wasm the model worker runs, so V8 shares
 * the compiled module and the code it optimises here between the two workers.
 */
import { errorText } from '../../../lib/errors';
import { setupTransformers } from './ort-setup';
import { KernelPrimer, ownWorkerNotRun, PRIMER_LIMITS } from './primer';
import type { FromPrimerHelper, ToPrimerHelper } from './primer-protocol';

declare const self: DedicatedWorkerGlobalScope;

let primer: KernelPrimer | null = null;
let stopped = false;

const reply = (m: FromPrimerHelper) => self.postMessage(m);

async function start(id: number, modelUrl: string, ortBase: string): Promise<void> {
  try {
    // One thread: the model worker's threads are not up yet, and the cores it will use are its own.
    await setupTransformers('wasm', 1, ortBase);
    const ort = await import('onnxruntime-web/webgpu');
    if (stopped) return reply({ kind: 'ended', id, report: ownWorkerNotRun(0, "the model's session began first") });
    primer = new KernelPrimer(ort, modelUrl, (bytes) => ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], logSeverityLevel: 3 }), PRIMER_LIMITS);
    reply({ kind: 'ended', id, report: await primer.ended });
  } catch (e) {
    reply({ kind: 'ended', id, report: ownWorkerNotRun(0, `it failed: ${errorText(e)}`) });
  }
}

self.onmessage = (ev: MessageEvent<ToPrimerHelper>) => {
  const m = ev.data;
  switch (m.kind) {
    case 'start':
      void start(m.id, m.modelUrl, m.ortBase);
      break;
    case 'stop':
      stopped = true;
      void primer?.stop();
      break;
  }
};
