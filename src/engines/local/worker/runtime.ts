/**
 * The model runtime inside the worker: load (load.ts: preflight → download → session → warm-up),
 * then protocol glue: each `generate` message is templated, checked and handed to the generation core
 * (src/inference/core.ts), its tokens batched to the page; interrupt, unload. It owns at most one
 * model at a time and refuses overlapping work with a typed `busy` error instead of queueing it.
 */
import { answerRoom, contextNotice, fitContext } from '../../../inference/context';
import { GrammarCache, vocabFromTokenizerJson } from '../../../inference/grammar';
import { validateGenerationParams } from '../../../inference/params';
import { prefillNote } from '../../../inference/prefill-reason';
import { promptIds } from '../../../inference/prompt';
import { isConstrained } from '../../../inference/response-format';
import { decodeSettings } from '../../../inference/settings';
import { BatchingStream, IncrementalDecoder } from '../../../inference/streamer';
import { loadXGrammar } from '../../../inference/xgrammar';
import { errorText } from '../../../lib/errors';
import { sourceError } from '../../../models/sources';
import type { ChatMessage } from '../../types';
import type { FromWorker, GenerateOptions, LoadRequest } from '../protocol';
import { classifyGenerateError, EngineFailure, fail } from './errors';
import { loadModel, type Loaded } from './load';
import { wasmHeapBytes } from './wasm-memory';
import { testHookOnToken } from './test-hooks';
import { StopSignal, tracedRun } from './traced-run';

/** True only in the e2e build (vite.config.ts `define`). */
declare const __SLM_TEST_HOOKS__: boolean;

type Post = (msg: FromWorker) => void;

const now = () => performance.now();

export class ModelRuntime {
  private current: Loaded | null = null;
  private active: { id: number; stop: StopSignal } | null = null;
  private loading = false;

  constructor(private readonly post: Post) {}

  async load(id: number, req: LoadRequest): Promise<void> {
    if (this.loading || this.active) fail('busy', 'The engine is busy; stop the current generation or wait for the load to finish.');
    const problem = sourceError(req.source);
    if (problem) fail('invalid-request', problem);
    this.loading = true;
    try {
      await this.disposeCurrent();
      this.current = await loadModel(id, req, this.post, { template: (m, msgs) => this.template(m, msgs), stream: (m, sink, ms) => this.stream(m, sink, ms) });
      this.post({ kind: 'loaded', id, info: this.current.info });
    } finally {
      this.loading = false;
    }
  }

  /** Generated ids → batched text deltas for `sink` (the page's `tokens` messages). */
  private stream(m: Loaded, sink: (text: string, count: number) => void, flushIntervalMs: number): BatchingStream {
    const decoder = new IncrementalDecoder((ids) => m.tokenizer.decode(ids, { skip_special_tokens: true }));
    return new BatchingStream(decoder, sink, flushIntervalMs, now);
  }

  private template(m: Loaded, messages: ChatMessage[]): number[] {
    if (!m.tokenizer.chat_template) {
      fail('unsupported-model', `${m.info.modelId} has no chat template in tokenizer_config.json, so it cannot hold a conversation.`);
    }
    try {
      return promptIds(m.tokenizer.apply_chat_template(messages, { add_generation_prompt: true, return_dict: true }));
    } catch (e) {
      return fail('invalid-request', `The model's chat template rejected this conversation: ${errorText(e)}`);
    }
  }

  async generate(id: number, options: GenerateOptions): Promise<void> {
    const m = this.current;
    if (!m) fail('not-loaded', 'No model is loaded. Load one first.');
    if (this.loading || this.active) fail('busy', 'The engine is already generating; stop it first.');
    const problems = validateGenerationParams(options.params);
    if (problems.length) fail('invalid-request', problems.join(' '));
    if (options.messages.length === 0) fail('invalid-request', 'The conversation is empty.');
    const ctx = m.info.maxContext;
    // The context policy (src/inference/context.ts): the oldest turns are left out, with a notice.
    const fit = ctx === null ? null : fitContext(options.messages, (msgs) => this.template(m, msgs), ctx, answerRoom(ctx, options.params.maxNewTokens));
    if (fit && !fit.ok) fail('context-too-long', fit.message);
    const prompt = fit ? fit.ids : this.template(m, options.messages);
    const dropped = fit ? fit.dropped : 0;
    const inputTokens = prompt.length;
    const stop = new StopSignal(options.interruptFlag);
    this.active = { id, stop };
    const format = options.params.responseFormat;
    let constraint: Awaited<ReturnType<GrammarCache['constraint']>> = null;
    try {
      if (isConstrained(format)) constraint = await this.grammarsOf(m).constraint(format);
      const batch = this.stream(m, (text, count) => this.post({ kind: 'tokens', id, text, count }), options.flushIntervalMs);
      const settings = decodeSettings(options.params, ctx === null ? null : ctx - inputTokens);
      let tokens = 0;
      const onToken = (tok: number) => {
        if (__SLM_TEST_HOOKS__) testHookOnToken(++tokens);
        batch.add(tok);
      };
      const trace = await tracedRun(m.generator, prompt, settings, stop, onToken, options.kvReuse ?? true, constraint);
      batch.flush();
      const text = trace.ids.length ? m.tokenizer.decode(trace.ids, { skip_special_tokens: true }) : '';
      const note = prefillNote(trace.prefill, m.last, options.messages);
      if (options.kvReuse ?? true) m.last = { messages: options.messages, answer: text, stopped: trace.finishReason === 'abort' };
      this.post({
        kind: 'done',
        id,
        result: {
          finishReason: trace.finishReason,
          text,
          inputTokens,
          outputTokens: trace.ids.length,
          outputTokenIds: trace.ids,
          generateStart: trace.generateStart,
          firstTokenAt: trace.firstTokenAt,
          lastTokenAt: trace.lastTokenAt,
          decodeStats: trace.decodeStats,
          reusedInputTokens: trace.prefill.reused,
          prefillNote: note,
          jsonComplete: trace.grammarComplete,
          wasmHeapBytes: wasmHeapBytes(),
          droppedMessages: dropped,
          contextNote: ctx === null ? null : contextNotice(dropped, ctx),
        },
      });
    } catch (e) {
      throw new EngineFailure(classifyGenerateError(e));
    } finally {
      constraint?.dispose();
      this.active = null;
    }
  }

  /** The loaded tokenizer's grammar cache (compiled once per schema, here in the worker). */
  private grammarsOf(m: Loaded): GrammarCache {
    m.grammars ??= new GrammarCache(vocabFromTokenizerJson(m.tokenizer._tokenizerJSON, { vocabSize: m.vocabSize, stopTokenIds: m.info.eosTokenIds }), { load: loadXGrammar });
    return m.grammars;
  }

  /** Stops generation `target` at its next token. Returns whether it was running. */
  interrupt(target: number): boolean {
    if (this.active && this.active.id === target) {
      this.active.stop.requested = true;
      return true;
    }
    return false;
  }

  async unload(): Promise<void> {
    if (this.active) this.active.stop.requested = true;
    await this.disposeCurrent();
  }

  private async disposeCurrent(): Promise<void> {
    const m = this.current;
    this.current = null;
    if (!m) return;
    m.generator.dispose();
    m.grammars?.dispose();
    await m.model.dispose();
  }
}
