/**
 * The int8 step's second thread in Node (src/inference/int8-threads.ts): a worker thread on the step's shared
 * memory, for the reference server's --int8-step and the tests, so that Node runs the browser's step as the
 * browser runs it. Unref'd: an idle helper never keeps a process alive.
 */
import { Worker } from 'node:worker_threads';
import type { Int8Helper, Int8HelperInit } from '../src/inference/int8-threads';

export function spawnNodeHelper(init: Int8HelperInit): Int8Helper {
  const w = new Worker(new URL('./ts-thread.mjs', import.meta.url), { workerData: { entry: new URL('./int8-helper-thread.ts', import.meta.url).href, init } });
  w.unref();
  const ready = new Promise<void>((resolve, reject) => {
    w.once('message', (m: unknown) => (m === 'ready' ? resolve() : reject(new Error(`the helper said ${String(m)}`))));
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`the helper exited (${code})`)));
  });
  return { ready, terminate: () => void w.terminate() };
}
