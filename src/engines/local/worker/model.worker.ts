/// <reference lib="webworker" />
/**
 * Worker entry: receives typed ToWorker messages, runs them on the ModelRuntime and answers with
 * typed FromWorker messages. Anything that is not a ToWorker message is ignored.
 */
import { isToWorker, type FromWorker, type ToWorker } from '../protocol';
import { EngineFailure } from './errors';
import { probeEnvironment } from './environment';
import { ModelRuntime } from './runtime';
import { prepareRuntime } from './ort-setup';
import { errorText } from '../../../lib/errors';
import { installTestHooks } from './test-hooks';
import { trackWasmMemories } from './wasm-memory';

declare const self: DedicatedWorkerGlobalScope;
/** True only in the e2e build (vite.config.ts `define`); production bundles drop the hooks. */
declare const __SLM_TEST_HOOKS__: boolean;

// Before ONNX Runtime creates its heap (at the first session): the worker measures it.
trackWasmMemories();
// Held until this worker ends, however it ends: the page learns of its death when it is granted
// the same lock (LocalEngine.watchLife). Requested before any message is handled.
if (self.name.startsWith('slm-model:') && navigator.locks) void navigator.locks.request(self.name, () => new Promise<never>(() => undefined));
if (__SLM_TEST_HOOKS__) installTestHooks();

const post = (msg: FromWorker) => self.postMessage(msg);
const runtime = new ModelRuntime(post);

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.kind) {
    case 'probe':
      post({ kind: 'probed', id: msg.id, env: await probeEnvironment() });
      return;
    case 'prepare':
      await prepareRuntime(msg.device, msg.ortBase);
      post({ kind: 'ack', id: msg.id });
      return;
    case 'load':
      await runtime.load(msg.id, msg.request);
      return;
    case 'generate':
      await runtime.generate(msg.id, msg.options);
      return;
    case 'interrupt':
      runtime.interrupt(msg.target);
      post({ kind: 'ack', id: msg.id });
      return;
    case 'unload':
      await runtime.unload();
      post({ kind: 'ack', id: msg.id });
      return;
  }
}

self.onmessage = (event: MessageEvent<unknown>) => {
  const msg = event.data;
  if (!isToWorker(msg)) return;
  handle(msg).catch((e: unknown) => {
    const error =
      e instanceof EngineFailure
        ? e.error
        : { code: 'internal' as const, message: errorText(e), detail: e instanceof Error ? e.stack : undefined };
    post({ kind: 'error', id: msg.id, error });
  });
};
