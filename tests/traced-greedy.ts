/**
 * Greedy ids through the KV loop with each run's last logits row kept (the int8 step's tests): ids compared
 * between two engines mean something only up to the first near tie, where a last-bit difference in an f32 sum
 * may pick the other token. Node or browser-independent: it wraps the decoder's session.
 */
import type { KvDecoder, OrtSessionLike, OrtTensorLike } from '../src/inference/kv-decoder';

/** A near tie: the best logit leads the second by less than this. */
export const NEAR_TIE = 0.01;

export function lead(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  let second = -Infinity;
  for (let i = 0; i < row.length; i++) if (i !== best && row[i]! > second) second = row[i]!;
  return row[best]! - second;
}

/**
 * `n` greedy ids after `promptIds`, and the logits each id was chosen from. `eos`: end-of-sequence ids, kept out
 * of the choice (and of the rows, as -Infinity) so a run goes on for all `n`; none by default.
 */
export async function tracedGreedy(d: KvDecoder, promptIds: number[], n: number, eos: number[] = []): Promise<{ ids: number[]; rows: Float32Array[] }> {
  const V = d.layout.vocab;
  const rows: Float32Array[] = [];
  const session = d.session as { run: (f: Record<string, OrtTensorLike>) => Promise<Record<string, OrtTensorLike>> };
  const run = session.run.bind(session);
  session.run = async (f) => {
    const out = await run(f);
    const all = out['logits']!.data as Float32Array;
    const row = all.slice(all.length - V);
    for (const e of eos) row[e] = -Infinity;
    rows.push(row);
    return out;
  };
  const ids: number[] = [];
  try {
    await d.generate({ promptIds, maxNewTokens: n, sampling: { doSample: false, temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1, minNewTokens: n }, eosTokenIds: eos, onToken: (id) => ids.push(id), shouldStop: () => false });
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

type TensorCtor = new (type: 'int64', data: BigInt64Array, dims: number[]) => OrtTensorLike;

/**
 * `s` with every prompt run as one-token runs, each row with its own activation scale: the int8 step's reference
 * (int8-session.ts runs prompts so), where ONNX Runtime's own prompt run quantizes all the rows with one scale.
 * The logits of the last row only, as the step returns them.
 */
export function rowByRow(s: OrtSessionLike & { release?: () => Promise<void> }): OrtSessionLike & { release(): Promise<void>; runs: number } {
  const wrapper = {
    inputNames: s.inputNames,
    outputNames: s.outputNames,
    inputMetadata: s.inputMetadata,
    outputMetadata: s.outputMetadata,
    runs: 0,
    release: async () => s.release?.(),
    async run(feeds: Record<string, OrtTensorLike>): Promise<Record<string, OrtTensorLike>> {
      const ids = feeds['input_ids']!;
      const data = ids.data as BigInt64Array;
      if (data.length === 1) {
        wrapper.runs++;
        return s.run(feeds);
      }
      const T = ids.constructor as TensorCtor;
      const past = feeds['past_key_values.0.key']!.dims[2] ?? 0;
      let f = feeds;
      let out: Record<string, OrtTensorLike> = {};
      for (let i = 0; i < data.length; i++) {
        const next: Record<string, OrtTensorLike> = { ...f, input_ids: new T('int64', data.subarray(i, i + 1), [1, 1]), attention_mask: new T('int64', new BigInt64Array(past + i + 1).fill(1n), [1, past + i + 1]) };
        if (feeds['position_ids']) next['position_ids'] = new T('int64', BigInt64Array.of(BigInt(past + i)), [1, 1]);
        out = await s.run(next);
        wrapper.runs++;
        f = { ...next };
        for (const name of Object.keys(out)) if (name.startsWith('present.')) f[name.replace('present.', 'past_key_values.')] = out[name]!;
      }
      return out;
    },
  };
  return wrapper;
}
