/**
 * The adapters to transformers.js's generate(), for models the KV loop does not fit (WebGPU, other
 * layouts): typed settings → its config, a stopping criterion that reports each new token and asks
 * the caller whether to stop, and the top-p processor it lacks.
 * transformers.js is passed in (the worker imports it lazily, on the ONNX Runtime build it set up;
 * Node imports it statically), so this module only imports its types.
 */
import type * as HF from '@huggingface/transformers';
import { constraintProcessor, needsNucleus, nucleusProcessor } from './logits';
import type { StepConstraint } from './sampling';
import type { DecodeSettings } from './settings';

/** The parts of transformers.js the core uses; `typeof import('@huggingface/transformers')` fits. */
export interface TransformersLib {
  Tensor: typeof HF.Tensor;
  StoppingCriteria: typeof HF.StoppingCriteria;
  LogitsProcessor: typeof HF.LogitsProcessor;
  LogitsProcessorList: typeof HF.LogitsProcessorList;
  random: { seed(n?: number): void; random(): number };
  DynamicCache: typeof HF.DynamicCache;
}

/** A loaded transformers.js causal language model: its ONNX sessions, its configs, generate(). */
export type CausalLM = Pick<HF.PreTrainedModel, 'sessions' | 'configs' | 'generate' | 'generation_config'>;

/** generate()'s generation settings. Only keys that are set: an explicit undefined would override the model's defaults. */
export interface HfGenerationConfig {
  max_new_tokens: number;
  min_new_tokens?: number;
  repetition_penalty: number;
  do_sample: boolean;
  temperature?: number;
  top_k?: number;
  top_p?: number;
}

/**
 * Typed settings → transformers.js config. Greedy carries no sampling knobs; top_k 0 means "off"
 * there too; top_p is passed for the record, but it is the processor below that applies it.
 */
export function hfGenerationConfig(s: DecodeSettings): HfGenerationConfig {
  const p = s.sampling;
  const out: HfGenerationConfig = { max_new_tokens: s.maxNewTokens, repetition_penalty: p.repetitionPenalty, do_sample: p.doSample };
  if (p.minNewTokens > 0) out.min_new_tokens = Math.min(p.minNewTokens, s.maxNewTokens);
  if (!p.doSample) return out;
  return { ...out, temperature: p.temperature, top_k: p.topK, top_p: p.topP };
}

export interface HfRun {
  promptIds: readonly number[];
  settings: DecodeSettings;
  /** Every generated token, end-of-sequence included, as generate() streams it. */
  onToken: (id: number) => void;
  /** Asked after every token; true ends generation. */
  shouldStop: () => boolean;
  /** A cache holding a prefix of the prompt, which generate() extends in place; null: none. */
  past?: HF.DynamicCache | null;
  /** Whether to return the final cache (kept for the next turn) instead of letting generate() free it. */
  keepCache?: boolean;
  /** A grammar the output must follow (grammar.ts): a logits processor masks what it forbids. */
  constraint?: StepConstraint | null;
}

/** The cache generate() ended with, when asked for (generate() then leaves it alive). */
function finalCache(out: unknown): HF.DynamicCache | null {
  if (typeof out !== 'object' || out === null || !('past_key_values' in out)) return null;
  const c: unknown = out.past_key_values;
  return isDynamicCache(c) ? c : null;
}

function isDynamicCache(x: unknown): x is HF.DynamicCache {
  return typeof x === 'object' && x !== null && 'get_seq_length' in x && typeof x.get_seq_length === 'function';
}

/** Runs generate() on `model` with the adapters. */
export async function runGenerate(lib: TransformersLib, model: CausalLM, run: HfRun): Promise<HF.DynamicCache | null> {
  const n = run.promptIds.length;
  const input_ids = new lib.Tensor('int64', BigInt64Array.from(run.promptIds, (id) => BigInt(id)), [1, n]);
  const attention_mask = new lib.Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]);
  const { onToken, shouldStop } = run;
  const constraint = run.constraint ?? null;
  // generate() calls processors synchronously, XGrammar fills a mask asynchronously: each step's
  // mask is started right after the token is accepted (in the stopping criterion) and is ready
  // long before the next step's logits (the model's run awaits far more than the mask's few
  // microtask turns); GrammarConstraint.apply refuses a mask that is not the current step's.
  if (constraint) await constraint.prepare();

  // One stopping criterion both reports each new token and asks the caller: generate() calls its
  // criteria once per generated token, all of them (a list does not short-circuit), right after
  // appending the token, never for the prompt. (A BaseStreamer would also see the prompt, and
  // transformers.js types `streamer` as a TextStreamer, which needs a tokenizer it never uses here.)
  class ReportAndStop extends lib.StoppingCriteria {
    override _call(inputIds: number[][]): boolean[] {
      const last = inputIds[0]?.at(-1);
      if (last !== undefined) {
        constraint?.accept(Number(last));
        onToken(Number(last));
      }
      const stop = shouldStop() || (constraint?.terminated ?? false);
      if (constraint && !stop) void constraint.prepare()?.catch(() => {});
      return inputIds.map(() => stop);
    }
  }
  const config = hfGenerationConfig(run.settings);
  const logits_processor = new lib.LogitsProcessorList();
  const p = run.settings.sampling;
  // The grammar first: top-p then chooses among the allowed tokens, as in the KV loop.
  if (constraint) logits_processor.push(constraintProcessor(lib.LogitsProcessor, constraint));
  if (needsNucleus(p)) logits_processor.push(nucleusProcessor(lib.LogitsProcessor, p.topK, p.topP));
  const out: unknown = await model.generate({
    input_ids,
    attention_mask,
    ...config,
    stopping_criteria: [new ReportAndStop()],
    logits_processor,
    // transformers.js 4.3 takes the whole prompt with a cache of its prefix and runs only the rest
    // (prepare_inputs_for_generation slices input_ids past the cache's length).
    ...(run.past ? { past_key_values: run.past } : {}),
    ...(run.keepCache ? { return_dict_in_generate: true } : {}),
  });
  return run.keepCache ? finalCache(out) : null;
}
