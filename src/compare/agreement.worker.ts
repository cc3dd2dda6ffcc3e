/** Measures one pair of answers off the main thread (long answers: the word diff's LCS table). */
import { diffAnswers, measureAgreement } from './agreement';
import type { FromAgreementWorker, ToAgreementWorker } from './agreement-protocol';
import { errorText } from '../lib/errors';

const post = (m: FromAgreementWorker) => self.postMessage(m);

self.onmessage = (ev: MessageEvent<ToAgreementWorker>) => {
  const m = ev.data;
  switch (m.kind) {
    case 'measure': {
      try {
        const t0 = performance.now();
        const measures = measureAgreement(m.reference, m.candidate);
        const diff = diffAnswers(m.reference, m.candidate);
        post({ kind: 'measured', id: m.id, measures, diff, ms: performance.now() - t0 });
      } catch (e) {
        post({ kind: 'failed', id: m.id, error: errorText(e) });
      }
      break;
    }
  }
};
