// Starts a TypeScript worker thread: Node 20 does not read .ts, so the thread registers tsx first
// (an `--import tsx` in execArgv does not reach a worker's entry module).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
