/** The browser's scoring sandbox worker (see protocol.ts): one request at a time, answered by id. */
import { handleSandboxRequest } from './core';
import type { SandboxMessage, SandboxRequest } from './protocol';

declare const self: DedicatedWorkerGlobalScope;

const post = (m: SandboxMessage) => self.postMessage(m);
self.onmessage = (e: MessageEvent<SandboxRequest>) => post(handleSandboxRequest(e.data));
post({ kind: 'ready' });
