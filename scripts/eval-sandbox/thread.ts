/** The Node scoring sandbox's thread: the same core as the browser's Web Worker. */
import { parentPort } from 'node:worker_threads';
import { handleSandboxRequest } from '../../src/eval/sandbox/core';
import type { SandboxMessage, SandboxRequest } from '../../src/eval/sandbox/protocol';

const port = parentPort;
if (!port) throw new Error('thread.ts runs as a worker thread');
const post = (m: SandboxMessage) => port.postMessage(m);
port.on('message', (req: SandboxRequest) => post(handleSandboxRequest(req)));
post({ kind: 'ready' });
