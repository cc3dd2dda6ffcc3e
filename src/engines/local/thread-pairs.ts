/**
 * The paired thread measurement (src/models/threads.ts has the rule and its reasons): two loaded
 * engines of the same model with different thread counts answer the same short greedy prompt
 * alternately, A B A B; each answer's decode speed is read on the worker's clock.
 */
import { DEFAULT_GENERATION } from '../../inference/params';
import { MAX_PAIRS, pairedDecision, PAIRS, pairTokens, settledEarly, type ThreadPair } from '../../models/threads';
import { rate } from '../../metrics/timing';
import type { ChatEngine } from '../types';

const PROMPT = [{ role: 'user' as const, content: 'Count from one to twenty, in words.' }];

async function decodeTps(e: ChatEngine, tokens: number): Promise<number> {
  const r = await e.generate({
    messages: PROMPT,
    params: { ...DEFAULT_GENERATION, greedy: true, maxNewTokens: tokens, minNewTokens: tokens },
    // The whole prompt every time: both sides of a pair do the same work.
    kvReuse: false,
  });
  const m = r.metrics;
  // The display rule hides rates over windows under 50 ms (metrics/timing.ts); a pair still needs a
  // number, so fall back to first token → end on the page clock, the same formula for both sides.
  return m.engineDecodeTps ?? m.decodeTps ?? rate(m.outputTokens - 1, m.ttftMs === null ? null : m.e2eMs - m.ttftMs) ?? 0;
}

/**
 * Rounds of `PAIRS` pairs of answers, `fewer` first in each, until the pairs settle the question
 * (pairedDecision) or MAX_PAIRS were run; a slow model's first round ends after EARLY_PAIRS pairs
 * that agree clearly (settledEarly). `warmupTps` sizes the answers (~250 ms each).
 */
export async function measurePairs(fewer: ChatEngine, more: ChatEngine, warmupTps: number | null): Promise<ThreadPair[]> {
  const tokens = pairTokens(warmupTps);
  const pairs: ThreadPair[] = [];
  do {
    for (let i = 0; i < PAIRS; i++) {
      const a = await decodeTps(fewer, tokens);
      const b = await decodeTps(more, tokens);
      pairs.push({ fewer: a, more: b });
      if (settledEarly(pairs, warmupTps)) return pairs;
    }
  } while (pairs.length < MAX_PAIRS && !pairedDecision(pairs).settled);
  return pairs;
}
