/**
 * Top-p (and top-k before it) for transformers.js's generate(). transformers.js 4.3 builds no
 * TopP/TopK warper (both are commented out of `_get_logits_processor`); its multinomial sampler
 * applies top-k itself but never top-p, so without this the WebGPU path silently ignored the
 * user's top-p. This processor runs after its temperature warper (custom processors are appended
 * last) and sets every token outside `candidates()` — the very set the KV loop draws from — to
 * −∞, so both loops sample from the same distribution.
 */
import type { LogitsProcessor as HfLogitsProcessor, Tensor as HfTensor } from '@huggingface/transformers';
import { candidates, type StepConstraint } from './sampling';

/**
 * In place, on each row of `data` (rows of `vocab` logits, temperature already applied): every
 * token outside the top-k, then outside the smallest set whose probability reaches top-p, to −∞.
 */
export function maskToNucleus(data: Float32Array, vocab: number, topK: number, topP: number): void {
  for (let start = 0; start + vocab <= data.length; start += vocab) {
    const row = data.subarray(start, start + vocab);
    const keep = new Uint8Array(vocab);
    for (const id of candidates(row, { temperature: 1, topK, topP }).ids) keep[id] = 1;
    for (let i = 0; i < vocab; i++) if (!keep[i]) row[i] = -Infinity;
  }
}

/** Whether settings need the processor (sampling with top-p below 1). */
export function needsNucleus(s: { doSample: boolean; topP: number }): boolean {
  return s.doSample && s.topP > 0 && s.topP < 1;
}

type ProcessorBase = typeof HfLogitsProcessor;

/** A transformers.js LogitsProcessor (subclass of the library's own class) applying `maskToNucleus`. */
export function nucleusProcessor(Base: ProcessorBase, topK: number, topP: number): HfLogitsProcessor {
  class NucleusLogitsProcessor extends Base {
    override _call(_inputIds: bigint[][], logits: HfTensor): HfTensor {
      const data = logits.data;
      const vocab = logits.dims.at(-1) ?? 0;
      if (data instanceof Float32Array && vocab > 0) maskToNucleus(data, vocab, topK, topP);
      return logits;
    }
  }
  return new NucleusLogitsProcessor();
}

/** A transformers.js LogitsProcessor applying a grammar's mask (grammar.ts) to each row, in place. */
export function constraintProcessor(Base: ProcessorBase, constraint: StepConstraint): HfLogitsProcessor {
  class GrammarLogitsProcessor extends Base {
    override _call(_inputIds: bigint[][], logits: HfTensor): HfTensor {
      const data = logits.data;
      if (!(data instanceof Float32Array)) throw new Error(`The grammar mask needs float32 logits, not ${logits.type}.`);
      constraint.apply(data);
      return logits;
    }
  }
  return new GrammarLogitsProcessor();
}
