/**
 * The scoring sandbox for Node-side runs and tests (worker_threads); the app uses
 * src/eval/sandbox/browser.ts. Same client, same core, same time limit and restart.
 */
import { Worker } from 'node:worker_threads';
import { createWorkerSandbox, type SandboxOptions } from '../../src/eval/sandbox/client';
import type { SandboxMessage, ScoringSandbox } from '../../src/eval/sandbox/protocol';
import { errorText } from '../../src/lib/errors';

export function createNodeSandbox(opts: SandboxOptions = {}): ScoringSandbox {
  return createWorkerSandbox((h) => {
    const w = new Worker(new URL('../../server/ts-thread.mjs', import.meta.url), { workerData: { entry: new URL('./thread.ts', import.meta.url).href } });
    w.unref(); // an idle sandbox does not keep the process alive
    w.on('message', (m: SandboxMessage) => h.onMessage(m));
    w.on('error', (e) => h.onError(errorText(e)));
    w.on('exit', (code) => h.onError(`the thread exited (code ${code})`));
    return { post: (req) => w.postMessage(req), terminate: () => void w.terminate() };
  }, opts);
}
