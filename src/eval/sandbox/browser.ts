/** The app's scoring sandbox: a module Web Worker (its chunk, with the JSON Schema validator, loads on first use). */
import { createWorkerSandbox, type SandboxOptions } from './client';
import type { SandboxMessage, ScoringSandbox } from './protocol';

export function createBrowserSandbox(opts: SandboxOptions = {}): ScoringSandbox {
  return createWorkerSandbox((h) => {
    const w = new Worker(new URL('./sandbox.worker.ts', import.meta.url), { type: 'module', name: 'slm-scoring' });
    w.onmessage = (e: MessageEvent<SandboxMessage>) => h.onMessage(e.data);
    w.onerror = (e) => {
      e.preventDefault();
      h.onError(e.message || 'the worker script could not be loaded');
    };
    w.onmessageerror = () => h.onError('a message could not be read');
    return { post: (req) => w.postMessage(req), terminate: () => w.terminate() };
  }, opts);
}
