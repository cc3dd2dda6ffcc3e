/**
 * The embedded reference model, loaded with transformers.js on onnxruntime-node (CPU), and one
 * generation at a time on it: chat template → the generation core (src/inference/core.ts, the same
 * decode path as the browser worker) → incremental detokenization → stop strings → text deltas.
 * Callers (the HTTP layer) queue requests in front.
 */
import fs from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import * as transformers from '@huggingface/transformers';
import { AutoModelForCausalLM, AutoTokenizer, env } from '@huggingface/transformers';
import { z } from 'zod';
import { TokenGenerator, type CoreFinishReason } from '../src/inference/core';
import { spawnNodeHelper } from './int8-helper';
import { GrammarCache, GrammarError, vocabFromTokenizerJson } from '../src/inference/grammar';
import { isConstrained, type ResponseFormat } from '../src/inference/response-format';
import { readInt8Llama, type Int8Llama } from '../src/inference/int8-llama';
import { kvReuseBlocker, type KvCacheStats } from '../src/inference/kv-cache';
import { promptIds } from '../src/inference/prompt';
import { modelSamplingDefaults, resolveSampling, type DecodeSettings, type SamplingOverrides } from '../src/inference/settings';
import { IncrementalDecoder } from '../src/inference/streamer';
import { errorText } from '../src/lib/errors';
import type { Dtype } from '../src/models/dtypes';
import { weightsFile } from '../src/models/sources';
import { apiErrors } from './errors';
import { StopStringFilter } from './stop';
import { withUnsignedInt8, type SessionPrep } from './ort-node';
import { loadXGrammarNode } from './xgrammar-node';
import type { PromptMessage, Sampling } from './validation';

export { DTYPES, type Dtype } from '../src/models/dtypes';

type Tokenizer = Awaited<ReturnType<typeof AutoTokenizer.from_pretrained>>;
type Model = Awaited<ReturnType<typeof AutoModelForCausalLM.from_pretrained>>;

export interface PreparedPrompt {
  readonly ids: readonly number[];
  readonly promptTokens: number;
}

export interface GenerationSettings {
  maxTokens: number | null;
  minTokens: number;
  sampling: Sampling;
  stop: readonly string[];
  /** JSON object / JSON Schema: decoding follows its grammar (compiled by `prepareFormat` first). */
  responseFormat?: ResponseFormat;
}

export type ModelFinish = CoreFinishReason;

export interface GenerationOutcome {
  text: string;
  finishReason: ModelFinish;
  /** Generated tokens, excluding a final end-of-sequence token. */
  completionTokens: number;
  /** Server clock (performance.now()). */
  startedAt: number;
  firstTokenAt: number | null;
  lastTokenAt: number | null;
  /** Prompt tokens taken from the prefix cache (the rest were prefilled). */
  cachedTokens: number;
  /** JSON output: whether the structure was complete (false: "incomplete JSON"); null for text. */
  jsonComplete: boolean | null;
}

/** What the HTTP layer needs from a model; one call to `generate` at a time. */
export interface ChatModel {
  readonly id: string;
  readonly dtype: Dtype;
  /** Unix seconds (the model folder's modification time). */
  readonly created: number;
  readonly maxContext: number | null;
  /** Renders and tokenizes the conversation; throws ApiError 400 when it does not fit. */
  prepare(messages: readonly PromptMessage[]): PreparedPrompt;
  /** Compiles (or finds in the cache) the grammar of a JSON format; throws ApiError 400 when it cannot be compiled. */
  prepareFormat(format: ResponseFormat): Promise<void>;
  /** Generates; `onText` gets each text delta as soon as it is final. Ends early when `signal` fires. */
  generate(prompt: PreparedPrompt, settings: GenerationSettings, onText: (text: string) => void, signal: AbortSignal): Promise<GenerationOutcome>;
  /** The prefix cache's statistics; null when it is off. */
  kvCacheStats(): KvCacheStats | null;
  /** Why the prefix cache is off, when it is. */
  readonly kvCacheOff: string | null;
  dispose(): Promise<void>;
}

export interface LoadOptions {
  modelsDir: string;
  modelId: string;
  dtype: Dtype;
  /** ONNX Runtime intra-op threads; undefined: its default (all cores). */
  threads?: number;
  /** Memory cap of the prefix cache in MiB; 0 turns it off. Default 256. */
  kvCacheMb?: number;
  /** q8 and q4 on the browser's int8 step (int8-session.ts) instead of native ONNX Runtime: the browser's tokens. */
  int8Step?: boolean;
}

/** The int8 step's weights from the model's own file (`--int8-step`), or an error that says why it cannot run. */
function int8StepWeightsOf(dir: string, dtype: Dtype): Int8Llama {
  if (dtype !== 'q8' && dtype !== 'q4') throw new Error(`--int8-step runs q8 and q4 models, not ${dtype}.`);
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const w = readInt8Llama(new Uint8Array(fs.readFileSync(path.join(dir, weightsFile(dtype)))), config);
  if ('reason' in w) throw new Error(`--int8-step: ${w.reason}`);
  return w;
}

/**
 * The prefix cache holds up to this many KV states (conversations' last turns), least recently
 * used out first, within the memory cap. Every generation runs one at a time (the FIFO queue in
 * front), and a stored state is never written again (kv-cache.ts), so conversations that share a
 * prefix share its keys and values and nothing else.
 */
const KV_CACHE_ENTRIES = 64;

/** Dtypes whose models multiply by int8 weights (MatMulInteger), made uint8 at load (server/ort-node.ts). */
const INT8_WEIGHT_DTYPES: readonly Dtype[] = ['q8', 'int8'];

const ids = z.union([z.number().int(), z.array(z.number().int())]).transform((v) => (Array.isArray(v) ? v : [v]));
const configSchema = z.object({ max_position_embeddings: z.number().int().positive().optional(), vocab_size: z.number().int().positive().optional(), eos_token_id: ids.optional() }).loose();
const generationConfigSchema = z.object({ eos_token_id: ids.optional() }).loose();

function readJson<T>(file: string, schema: z.ZodType<T>): T | null {
  if (!fs.existsSync(file)) return null;
  return schema.parse(JSON.parse(fs.readFileSync(file, 'utf8')));
}

export function modelFolderExists(modelsDir: string, modelId: string): boolean {
  return fs.existsSync(path.join(modelsDir, modelId, 'config.json'));
}

/**
 * Which model to serve: the requested one if its folder exists; `slm-reference` falls back to
 * `slm-pocket` (the reference model may not have been built yet), with a log line saying so.
 */
export function resolveModelId(modelsDir: string, requested: string, log: (line: string) => void): string {
  if (modelFolderExists(modelsDir, requested)) return requested;
  if (requested === 'slm-reference' && modelFolderExists(modelsDir, 'slm-pocket')) {
    log(`model slm-reference not found in ${modelsDir}; serving slm-pocket instead (build slm-reference or pass --model)`);
    return 'slm-pocket';
  }
  throw new Error(`Model folder not found: ${path.join(modelsDir, requested)} (expected config.json, tokenizer and onnx/ there).`);
}

/**
 * The model's sessions on onnxruntime-node (CPU) as the server runs them, from transformers.js's
 * `env.localModelPath`: a q8 or int8 model's MatMulInteger weights made uint8 (server/ort-node.ts),
 * so its answers are the browser's on any CPU. Tests that compare with the server load through here.
 */
export async function loadCausalLM(modelId: string, dtype: Dtype, threads?: number): Promise<{ model: Model; int8Weights: SessionPrep[] }> {
  const load = () => AutoModelForCausalLM.from_pretrained(modelId, { dtype, device: 'cpu', ...(threads ? { session_options: { intraOpNumThreads: threads } } : {}) });
  // Only these dtypes have MatMulInteger weights that can be int8 (q4 is MatMulNBits, uint8 is already unsigned).
  if (!INT8_WEIGHT_DTYPES.includes(dtype)) return { model: await load(), int8Weights: [] };
  const { value, preps } = await withUnsignedInt8(load);
  return { model: value, int8Weights: preps };
}

export class ReferenceModel implements ChatModel {
  private constructor(
    readonly id: string,
    readonly dtype: Dtype,
    readonly created: number,
    readonly maxContext: number | null,
    private readonly tokenizer: Tokenizer,
    private readonly model: Model,
    /** The generation core on this model (the KV loop where the session fits it, as in the browser). */
    private readonly generator: TokenGenerator,
    /** The model's generation_config sampling settings, which a request's own settings override (as in generate()). */
    private readonly defaults: SamplingOverrides,
    readonly kvCacheOff: string | null,
    /** Compiled grammars of this tokenizer (JSON output), keyed by schema. */
    readonly grammars: GrammarCache,
    /** What loading did to the sessions' int8 weights (server/ort-node.ts); empty for models without any. */
    readonly int8Weights: readonly SessionPrep[],
  ) {}

  static async load(opts: LoadOptions): Promise<ReferenceModel> {
    const dir = path.join(opts.modelsDir, opts.modelId);
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = path.resolve(opts.modelsDir) + path.sep;
    const config = readJson(path.join(dir, 'config.json'), configSchema);
    if (!config) throw new Error(`${dir}/config.json is missing.`);
    const genConfig = readJson(path.join(dir, 'generation_config.json'), generationConfigSchema);
    const tokenizer = await AutoTokenizer.from_pretrained(opts.modelId);
    if (!tokenizer.chat_template) throw new Error(`${opts.modelId} has no chat template in tokenizer_config.json; it cannot serve chat completions.`);
    const { model, int8Weights } = await loadCausalLM(opts.modelId, opts.dtype, opts.threads);
    const eos = [...new Set([...(genConfig?.eos_token_id ?? []), ...(config.eos_token_id ?? [])])];
    const created = Math.floor(fs.statSync(dir).mtimeMs / 1000);
    // The same decode loop as the browser worker: ~25% faster than generate() here (834 vs 657
    // tok/s for slm-reference), greedy-identical, and it applies top_p.
    const mb = opts.kvCacheMb ?? 256;
    const int8 = opts.int8Step ? int8StepWeightsOf(dir, opts.dtype) : null;
    // On the int8 step reuse is exact for every dtype (its prompts run row by row).
    const off = mb === 0 ? 'turned off (--kv-cache-mb 0)' : int8 ? null : kvReuseBlocker(opts.dtype);
    const cache = off ? {} : { cache: { maxBytes: mb * 1024 * 1024, maxEntries: KV_CACHE_ENTRIES } };
    // The browser's rule: at 2 threads or more the step has a helper thread (int8-threads.ts; the same numbers as one).
    const int8Helper = (opts.threads ?? availableParallelism()) >= 2 ? spawnNodeHelper : null;
    const generator = new TokenGenerator(transformers, model, { device: 'cpu', eosTokenIds: eos, pooled: false, ...cache, cacheOffReason: off, ...(int8 ? { int8, int8Helper } : {}) });
    if (int8 && generator.engine !== 'int8-step') throw new Error(`--int8-step: ${generator.engineReason ?? 'the step did not start'}`);
    const defaults = modelSamplingDefaults(model.configs['generation_config']);
    const vocab = vocabFromTokenizerJson(tokenizer._tokenizerJSON, { vocabSize: config.vocab_size ?? null, stopTokenIds: eos });
    const grammars = new GrammarCache(vocab, { load: loadXGrammarNode });
    return new ReferenceModel(opts.modelId, opts.dtype, created, config.max_position_embeddings ?? null, tokenizer, model, generator, defaults, off, grammars, int8Weights);
  }

  prepare(messages: readonly PromptMessage[]): PreparedPrompt {
    let ids: number[];
    try {
      ids = promptIds(this.tokenizer.apply_chat_template([...messages], { add_generation_prompt: true, return_dict: true }));
    } catch (e) {
      throw apiErrors.badRequest(`The model's chat template rejected these messages: ${errorText(e)}`, 'messages', 'invalid_value');
    }
    const promptTokens = ids.length;
    if (this.maxContext !== null && promptTokens >= this.maxContext) {
      throw apiErrors.badRequest(
        `This model's maximum context length is ${this.maxContext} tokens. However, your messages resulted in ${promptTokens} tokens. Shorten the messages.`,
        'messages',
        'context_length_exceeded',
      );
    }
    return { ids, promptTokens };
  }

  async prepareFormat(format: ResponseFormat): Promise<void> {
    if (!isConstrained(format)) return;
    try {
      await this.grammars.compile(format);
    } catch (e) {
      if (e instanceof GrammarError) throw apiErrors.badRequest(`Invalid 'response_format': ${e.message}`, 'response_format', 'invalid_value');
      throw e;
    }
  }

  async generate(prompt: PreparedPrompt, settings: GenerationSettings, onText: (text: string) => void, signal: AbortSignal): Promise<GenerationOutcome> {
    const startedAt = performance.now();
    const out: GenerationOutcome = { text: '', finishReason: 'length', completionTokens: 0, startedAt, firstTokenAt: null, lastTokenAt: null, cachedTokens: 0, jsonComplete: null };
    if (signal.aborted) return { ...out, finishReason: 'abort' };
    const constraint = await this.grammars.constraint(settings.responseFormat);
    try {
      return await this.run(prompt, settings, onText, signal, out, constraint);
    } finally {
      constraint?.dispose();
    }
  }

  private async run(
    prompt: PreparedPrompt,
    settings: GenerationSettings,
    onText: (text: string) => void,
    signal: AbortSignal,
    out: GenerationOutcome,
    constraint: Awaited<ReturnType<GrammarCache['constraint']>>,
  ): Promise<GenerationOutcome> {
    const room = this.maxContext === null ? null : this.maxContext - prompt.promptTokens;
    const maxNew = Math.max(1, Math.min(settings.maxTokens ?? room ?? 256, room ?? Infinity));
    const decoder = new IncrementalDecoder((tokenIds) => this.tokenizer.decode(tokenIds, { skip_special_tokens: true }));
    const stops = new StopStringFilter(settings.stop);
    let stopHit = false;
    const emit = (text: string) => {
      if (!text) return;
      out.text += text;
      onText(text);
    };
    const decode: DecodeSettings = {
      maxNewTokens: maxNew,
      sampling: resolveSampling({ ...this.defaults, ...samplingOverrides(settings.sampling) }, Math.min(settings.minTokens, maxNew)),
      seed: settings.sampling.seed,
    };
    const result = await this.generator.generate(prompt.ids, decode, {
      onToken: (id) => {
        const at = performance.now();
        out.firstTokenAt ??= at;
        out.lastTokenAt = at;
        out.completionTokens += 1;
        const step = stops.push(decoder.push(id));
        emit(step.text);
        if (step.stopped) stopHit = true;
      },
      shouldStop: () => (stopHit ? 'stop' : signal.aborted ? 'abort' : null),
    }, { constraint });
    emit(stops.flush());
    out.finishReason = result.finishReason;
    out.cachedTokens = result.prefill.reused;
    out.jsonComplete = result.grammarComplete;
    return out;
  }

  kvCacheStats(): KvCacheStats | null {
    return this.generator.cacheStats();
  }

  async dispose(): Promise<void> {
    this.generator.dispose();
    this.grammars.dispose();
    await this.model.dispose();
  }
}

/**
 * A request's sampling settings (OpenAI's fields) as overrides of the model's generation_config.
 * No temperature and no top_p/top_k: the model's own generation_config decides (greedy for the
 * embedded models); temperature 0: greedy; top_k 0 or -1: off.
 */
export function samplingOverrides(s: Sampling): SamplingOverrides {
  const out: SamplingOverrides = {};
  if (s.repetitionPenalty !== null) out.repetitionPenalty = s.repetitionPenalty;
  const wantsSampling = s.temperature !== null || s.topP !== null || s.topK !== null;
  if (!wantsSampling) return out;
  if (s.temperature === 0) return { ...out, doSample: false };
  out.doSample = true;
  out.temperature = s.temperature ?? 1;
  if (s.topP !== null) out.topP = s.topP;
  out.topK = s.topK !== null && s.topK > 0 ? s.topK : 0;
  return out;
}
