/**
 * Greedy ids through the KV loop with each run's last logits row kept (the int8 step's tests): ids compared
 * between two engines mean something only up to the first near tie, where a last-bit difference in an f32 sum
 * may pick the other token. Node or browser-independent: it wraps the decoder's session.
 */
import type { KvDecoder, OrtTensorLike } from '../src/inference/kv-decoder';

/** A near tie: the best logit leads the second by less than this. */
export const NEAR_TIE = 0.01;

export function lead(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  let second = -Infinity;
  for (let i = 0; i < row.length; i++) if (i !== best && row[i]! > second) second = row[i]!;
  return row[best]! - second;
}

/** `n` greedy ids after `promptIds` (no end-of-sequence), and the logits each id was chosen from. */
export async function tracedGreedy(d: KvDecoder, promptIds: number[], n: number): Promise<{ ids: number[]; rows: Float32Array[] }> {
  const V = d.layout.vocab;
  const rows: Float32Array[] = [];
  const session = d.session as { run: (f: Record<string, OrtTensorLike>) => Promise<Record<string, OrtTensorLike>> };
  const run = session.run.bind(session);
  session.run = async (f) => {
    const out = await run(f);
    const all = out['logits']!.data as Float32Array;
    rows.push(all.slice(all.length - V));
    return out;
  };
  const ids: number[] = [];
  try {
    await d.generate({ promptIds, maxNewTokens: n, sampling: { doSample: false, temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1, minNewTokens: n }, eosTokenIds: [], onToken: (id) => ids.push(id), shouldStop: () => false });
  } finally {
    session.run = run;
  }
  return { ids, rows };
}

/** How many of `rows`' choices come before the first near tie (all of them when none). */
export function beforeFirstTie(rows: Float32Array[]): number {
  const i = rows.findIndex((r) => lead(r) < NEAR_TIE);
  return i === -1 ? rows.length : i;
}
