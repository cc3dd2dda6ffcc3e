/**
 * agreement_ms: time to compute every non-judge agreement measure (exact, normalized, JSON,
 * numbers, token F1, ROUGE-L) for two 2,000-token answers, and agreement_diff_ms: the word diff
 * the strip shows for them; in Node (the same pure code the page runs). 2,000 words per answer, more than 2,000 tokens' worth of text, so the
 * figure errs high; the second answer is the first with every 10th word changed and a paragraph
 * moved (a realistic "same answer, reworded" pair, which is where the diff costs most).
 * Median of 15 runs after 3 warm-ups. Run alone: npx tsx scripts/bench/agreement.ts
 */
import { diffAnswers, measureAgreement } from '../../src/compare/agreement';
import { median } from '../../src/metrics/stats';

export function answerPair(wordsPerAnswer = 2000): [string, string] {
  const vocab = 'the a model answer local hosted token number value 1,000 Paris is of and to in that with for on as by it'.split(' ');
  const a = Array.from({ length: wordsPerAnswer }, (_, i) => `${vocab[(i * 7 + ((i * i) % 13)) % vocab.length]}${i % 17 === 0 ? '.' : ''}`);
  const b = a.map((w, i) => (i % 10 === 3 ? `changed${i}` : w));
  const moved = b.splice(400, 100);
  b.splice(1500, 0, ...moved);
  return [a.join(' '), b.join(' ')];
}

function timeMs(f: () => unknown, runs: number): number {
  for (let i = 0; i < 3; i++) f();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    f();
    times.push(performance.now() - t0);
  }
  return Math.round((median(times) ?? 0) * 100) / 100;
}

/** agreement_ms: the measures (what the verdict needs); agreement_diff_ms: the word diff the strip shows (an LCS table). */
export function measureAgreementMs(runs = 15): { agreement_ms: number; agreement_diff_ms: number } {
  const [a, b] = answerPair();
  return { agreement_ms: timeMs(() => measureAgreement(a, b), runs), agreement_diff_ms: timeMs(() => diffAnswers(a, b), runs) };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(measureAgreementMs()));
