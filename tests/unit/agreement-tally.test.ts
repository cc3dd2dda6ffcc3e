import { describe, expect, it } from 'vitest';
import { agreementOf } from '../../src/compare/agreement';
import { decision, decisionMarkdown, sessionDecision, tallySentence, tallySession, usd, verdictRecord, type SessionEntry } from '../../src/compare/agreement-tally';
import { wilsonInterval } from '../../src/metrics/stats';

function entry(ref: string, cand: string, over: Partial<SessionEntry> = {}): SessionEntry {
  const base = { prompt: `p:${ref}`, local: cand, hosted: ref, localError: null, hostedError: null, localTtftMs: 10, hostedTtftMs: 200, localE2eMs: 100, hostedE2eMs: 400, hostedCostUsd: 0.0015, ...over };
  return { ...base, verdict: verdictRecord(agreementOf({ reference: base.hosted, candidate: base.local, referenceError: base.hostedError, candidateError: base.localError })) };
}

describe('the session tally', () => {
  // 14 agree, 6 disagree, 18 local-first: the example.
  const entries = [
    ...Array.from({ length: 14 }, (_, i) => entry(`${i + 1},000`, `${i + 1}000`, i < 12 ? {} : { localTtftMs: 300 })),
    ...Array.from({ length: 6 }, (_, i) => entry(`${i}`, `${i + 100}`)),
  ];

  it('counts agreements with the Wilson interval, local firsts, cost and the disagreements to reopen', () => {
    const t = tallySession(entries);
    expect(t).toMatchObject({ total: 20, judged: 20, agreed: 14, noVerdict: 0, localFirst: 18, costUnknown: 0, disagreements: [14, 15, 16, 17, 18, 19] });
    expect(t.hostedCostUsd).toBeCloseTo(0.03, 10);
    expect(t.interval).toEqual(wilsonInterval(14, 20));
    expect(tallySentence(t)).toBe('Local agreed with hosted on 14 of 20 prompts (70%, 95% interval 48–85%), answered first on 18, cost $0 against $0.03.');
    expect(t.perMeasure.find((m) => m.id === 'numbers')).toEqual({ id: 'numbers', agreed: 14, applicable: 20 });
    expect(t.perMeasure.find((m) => m.id === 'exact')).toEqual({ id: 'exact', agreed: 0, applicable: 20 });
    expect(t.perMeasure.find((m) => m.id === 'judge')).toEqual({ id: 'judge', agreed: 0, applicable: 0 });
  });

  it('a hosted error has no verdict and is said so; an unknown price is counted apart', () => {
    const t = tallySession([entry('a', 'a'), entry('', 'b', { hostedError: 'rejected (401)', hostedCostUsd: null }), entry('x y', 'x y', { hostedCostUsd: null })]);
    expect(t).toMatchObject({ total: 3, judged: 2, agreed: 2, noVerdict: 1, costUnknown: 1 });
    expect(tallySentence(t)).toBe('Local agreed with hosted on 2 of 2 prompts (100%, 95% interval 34–100%), answered first on 3, cost $0 against $0.0015 (+1 at an unknown price); 1 without a verdict (an engine failed).');
    expect(tallySentence(tallySession([]))).toBe('No prompts answered by both yet.');
  });

  it('usd formats cents and fractions of a cent', () => {
    expect([usd(0), usd(0.03), usd(1.5), usd(0.0042), usd(0.000123)]).toEqual(['$0', '$0.03', '$1.50', '$0.0042', '$0.00012']);
  });
});

describe('the decision sentence', () => {
  it('says agreement with its interval, speed at the median, cost per 1,000 and the payback point', () => {
    const d = decision({ agreed: 14, judged: 20, localE2eMs: [100, 120, 80], hostedE2eMs: [400, 380, 500], hostedCostPerRequestUsd: 0.0015, loadMs: 9000 });
    // medians 100 vs 400 → 4×; 9000 / (400 − 100) = 30 requests.
    expect(d.sentence).toBe('On this job the local model agrees with the hosted one on 70% [48–85%, 14 of 20], answers 4.0 times sooner at the median, costs $0 against $1.50 per 1,000 requests, and has paid back its load after 30 requests.');
    expect(d).toMatchObject({ speedup: 4, paysBackAfter: 30 });
  });

  it('slower, unknown price, unknown load and nothing answered are each said plainly', () => {
    const d = decision({ agreed: 1, judged: 2, localE2eMs: [800], hostedE2eMs: [400], hostedCostPerRequestUsd: null, loadMs: 5000 });
    expect(d.sentence).toContain('answers 2.0 times slower at the median');
    expect(d.sentence).toContain('an unknown hosted price');
    expect(d.sentence).toContain('never pays back its load time on speed');
    expect(decision({ agreed: 0, judged: 0, localE2eMs: [], hostedE2eMs: [], hostedCostPerRequestUsd: 0, loadMs: null }).sentence).toBe(
      'On this job the local model agrees with the hosted one on no pair yet (nothing answered by both), has no timing to compare, costs $0 against $0 per 1,000 requests, and its load time is unknown here.',
    );
  });

  it('from a session, and as Markdown with the tally per measure and the disagreements (table-safe)', () => {
    const entries = [entry('1,000', '1000'), entry('The sky is blue.', 'Grass | is *green*')];
    const d = sessionDecision(entries, 600);
    expect(d.sentence).toContain('50% [9–91%, 1 of 2]');
    expect(d.paysBackAfter).toBe(2);
    const t = tallySession(entries);
    const md = decisionMarkdown('Session <b>', d, t, t.disagreements.map((i) => ({ label: `#${i + 1}`, prompt: entries[i]!.prompt, local: entries[i]!.local, hosted: entries[i]!.hosted, reason: entries[i]!.verdict.reason })));
    expect(md).toContain('# Session \\<b\\>');
    expect(md).toContain(d.sentence);
    expect(md).toContain('| Numbers (same values) | 1 | 1 | 100% |');
    expect(md).toContain('| **Verdict** | 1 | 2 | 50% (95% 9–91%) |');
    expect(md).toContain('## Disagreements (1)');
    expect(md).toContain('| #2 | p:The sky is blue. | Grass \\| is \\*green\\* | The sky is blue. | disagree (similarity): ROUGE-L 0.25 \\< 0.6 |');
  });
});
