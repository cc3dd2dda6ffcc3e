/**
 * The agreement worker's message handler, run in Node with `self` standing in for the worker
 * global: a measure request gets the same measures and diff as the pure module, with its time.
 */
import { describe, expect, it } from 'vitest';
import { diffAnswers, measureAgreement } from '../../src/compare/agreement';
import type { FromAgreementWorker, ToAgreementWorker } from '../../src/compare/agreement-protocol';
import { answerPair } from '../../scripts/bench/agreement';

describe('agreement worker', () => {
  it('answers a measure request with the pure module\'s measures and diff, for two 2,000-word answers', async () => {
    const posted: FromAgreementWorker[] = [];
    const scope = { postMessage: (m: FromAgreementWorker) => posted.push(m), onmessage: null as null | ((ev: { data: ToAgreementWorker }) => void) };
    (globalThis as unknown as { self: typeof scope }).self = scope;
    await import('../../src/compare/agreement.worker');
    const [a, b] = answerPair();
    scope.onmessage!({ data: { kind: 'measure', id: 7, reference: a, candidate: b } });
    expect(posted).toHaveLength(1);
    const m = posted[0]!;
    if (m.kind !== 'measured') throw new Error(`expected measured, got ${m.kind}`);
    expect(m.id).toBe(7);
    expect(m.measures).toEqual(measureAgreement(a, b));
    expect(m.diff).toEqual(diffAnswers(a, b));
    expect(m.ms).toBeGreaterThan(0);
    expect(m.measures.rougeL!).toBeGreaterThan(0.8);
    delete (globalThis as { self?: unknown }).self;
  });
});
