/// <reference lib="webworker" />
/** A q4 rewrite helper: fills one group of the rewrite's new weights (rewrite-helpers.ts has why). */
import { fillGroup } from '../../../inference/q4-dequant';
import { errorText } from '../../../lib/errors';
import type { FromRewriteHelper, ToRewriteHelper } from './rewrite-protocol';

declare const self: DedicatedWorkerGlobalScope;

self.onmessage = (ev: MessageEvent<ToRewriteHelper>) => {
  const m = ev.data;
  switch (m.kind) {
    case 'fill': {
      let reply: FromRewriteHelper;
      try {
        reply = { kind: 'filled', id: m.id, ...fillGroup(m.jobs, m.to) };
      } catch (e) {
        reply = { kind: 'failed', id: m.id, error: errorText(e) };
      }
      // The filled buffers move, not copied (hundreds of MB at the 0.5B shape).
      self.postMessage(reply, reply.kind === 'filled' ? [reply.data.buffer, ...reply.scales.map((s) => s.buffer)] : []);
      break;
    }
  }
};
