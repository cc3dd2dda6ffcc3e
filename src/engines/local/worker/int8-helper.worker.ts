/// <reference lib="webworker" />
// The int8 step's helper thread in the browser (int8-step.ts spawnWorkerHelper): instantiates the step's kernel on
// the shared memory it is sent, says 'ready', then serves jobs (src/inference/int8-threads.ts) until ended.
import { serveJobs, type Int8HelperInit } from '../../../inference/int8-threads';

self.addEventListener(
  'message',
  (ev: MessageEvent<Int8HelperInit>) => {
    try {
      serveJobs(ev.data, () => self.postMessage('ready'));
    } catch (e) {
      self.postMessage(`the helper failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  },
  { once: true },
);
