// The int8 step's helper thread in Node (int8-helper.ts): serves jobs until told to quit or ended.
import { parentPort, workerData } from 'node:worker_threads';
import { serveJobs, type Int8HelperInit } from '../src/inference/int8-threads';

const { init } = workerData as { init: Int8HelperInit };
serveJobs(init, () => parentPort?.postMessage('ready'));
