// Over 300 lines: the loop, its plan of the session and its KV state (cut, detach) are one unit.
/**
 * A lean decode loop for decoder-only models with a KV cache, straight on the ONNX Runtime session
 * that transformers.js created: prefill once, then one `session.run` per token with the previous
 * step's `present.*` outputs as `past_key_values.*`, and the next token chosen by sampling.ts.
 *
 * Why (measured, docs/performance.md "The decode loop"): for the embedded models a decode step is
 * well under a millisecond of arithmetic, and in the browser transformers.js's generate() plus
 * ONNX Runtime's fresh output arrays cost more than that. This loop keeps its inputs in reused
 * buffers and lets ONNX Runtime write the outputs into reused buffers (output-pool.ts), so a step
 * is close to the session's own run time. It is used only where it is exact:
 *   - the session's inputs are `input_ids`, `attention_mask`, optionally `position_ids`, and
 *     `past_key_values.{i}.key|value` (float32, fixed heads and head size), its outputs `logits`
 *     and the matching `present.{i}.key|value`;
 *   - the model's generation_config asks for nothing this loop does not implement.
 * Everything else (WebGPU, fp16 caches, other layouts) goes through transformers.js's generate();
 * core.ts makes that choice and gives the reason.
 * Greedy output is token-for-token that of generate() (tests/kv-decoder-node.test.ts).
 *
 * It runs on onnxruntime-node too (the same session API), which is how the benchmark measures the
 * native baseline with the same loop.
 */
import { OutputPool } from './output-pool';
import { nextToken, type SamplingSettings, type StepConstraint } from './sampling';

/** What the KV decode loop did in one generation. */
export interface DecodeStats {
  /** session.run calls: one prefill plus one per further token. */
  steps: number;
  /** Outputs ONNX Runtime wrote into reused buffers / allocated itself. */
  pooledOutputs: number;
  allocatedOutputs: number;
  /**
   * Milliseconds inside `session.run` over the steps after the first (the first is the prefill's): what
   * ONNX Runtime took of the decode; the rest of a token's time is this loop's own (feeds, sampling, the
   * caller's onToken). The bench reads it on both runtimes (scripts/bench: `loop_us_per_token`).
   */
  decodeRunMs: number;
}

/** The KV state after a generation: `past` holds the keys and values of the first `length` tokens. */
export interface KvTensors {
  past: OrtTensorLike[];
  length: number;
}

export interface OrtTensorLike {
  readonly data: unknown;
  readonly dims: readonly number[];
  readonly type: string;
}

export interface ValueMetadata {
  readonly name: string;
  readonly isTensor?: boolean;
  readonly type?: string;
  readonly shape?: readonly (number | string)[];
}

export interface OrtSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata?: readonly ValueMetadata[];
  readonly outputMetadata?: readonly ValueMetadata[];
  run(feeds: Record<string, OrtTensorLike>): Promise<Record<string, OrtTensorLike>>;
  /** Its outputs change under later runs (int8-session.ts): a state the loop keeps is copied. */
  readonly outputsReused?: boolean;
}

export type MakeTensor = (type: 'int64' | 'float32', data: BigInt64Array | Float32Array, dims: number[]) => OrtTensorLike;

export interface KvLayout {
  layers: number;
  kvHeads: number;
  headDim: number;
  vocab: number;
  positionIds: boolean;
  /** past input name → present output name, in layer order, key before value. */
  cache: { past: string; present: string }[];
}

const PAST = /^past_key_values\.(\d+)\.(key|value)$/;

/** generation_config fields that change generation in ways this loop does not implement, with their "off" values. */
const UNSUPPORTED_GENERATION: Record<string, (v: unknown) => boolean> = {
  no_repeat_ngram_size: (v) => typeof v === 'number' && v > 0,
  bad_words_ids: (v) => Array.isArray(v) && v.length > 0,
  suppress_tokens: (v) => Array.isArray(v) && v.length > 0,
  begin_suppress_tokens: (v) => Array.isArray(v) && v.length > 0,
  forced_bos_token_id: (v) => typeof v === 'number',
  forced_eos_token_id: (v) => typeof v === 'number' || Array.isArray(v),
  guidance_scale: (v) => typeof v === 'number' && v > 1,
  num_beams: (v) => typeof v === 'number' && v > 1,
  min_length: (v) => typeof v === 'number' && v > 0,
  penalty_alpha: (v) => typeof v === 'number' && v > 0,
};

function meta(list: readonly ValueMetadata[] | undefined, name: string): ValueMetadata | undefined {
  return list?.find((m) => m.name === name);
}

/** The loop's plan for `session`, or why the model must use transformers.js's generate(). */
export function planKvDecoder(session: OrtSessionLike, generationConfig: Record<string, unknown> = {}): { layout: KvLayout } | { reason: string } {
  for (const [key, active] of Object.entries(UNSUPPORTED_GENERATION)) {
    if (active(generationConfig[key])) return { reason: `the model's generation_config sets ${key}` };
  }
  const inputs = new Set(session.inputNames);
  if (!inputs.has('input_ids') || !inputs.has('attention_mask')) return { reason: 'the model has no input_ids/attention_mask inputs' };
  const layers = new Map<number, { key?: string; value?: string }>();
  for (const name of session.inputNames) {
    if (name === 'input_ids' || name === 'attention_mask' || name === 'position_ids') continue;
    const m = PAST.exec(name);
    if (!m) return { reason: `the model has an input this loop does not fill (${name})` };
    const layer = layers.get(Number(m[1])) ?? {};
    layer[m[2] as 'key' | 'value'] = name;
    layers.set(Number(m[1]), layer);
  }
  if (layers.size === 0) return { reason: 'the model has no KV cache inputs' };
  if (!session.inputMetadata || !session.outputMetadata) return { reason: 'this ONNX Runtime does not describe the model inputs' };
  const cache: KvLayout['cache'] = [];
  let kvHeads = 0;
  let headDim = 0;
  for (let i = 0; i < layers.size; i++) {
    const layer = layers.get(i);
    if (!layer?.key || !layer.value) return { reason: `the KV cache of layer ${i} is incomplete` };
    for (const past of [layer.key, layer.value]) {
      const present = past.replace('past_key_values.', 'present.');
      if (!session.outputNames.includes(present)) return { reason: `the model has no ${present} output` };
      const m = meta(session.inputMetadata, past);
      const shape = m?.shape ?? [];
      const [h, d] = [shape[1], shape[3]];
      if (m?.type !== 'float32') return { reason: `the KV cache is ${m?.type ?? 'of unknown type'}, not float32` };
      if (shape.length !== 4 || typeof h !== 'number' || typeof d !== 'number') return { reason: `${past} has no fixed head count and size` };
      if ((kvHeads && h !== kvHeads) || (headDim && d !== headDim)) return { reason: 'the KV cache shapes differ between layers' };
      kvHeads = h;
      headDim = d;
      cache.push({ past, present });
    }
  }
  const expectedOutputs = new Set(['logits', ...cache.map((c) => c.present)]);
  for (const name of session.outputNames) if (!expectedOutputs.has(name)) return { reason: `the model has an output this loop does not read (${name})` };
  const logits = meta(session.outputMetadata, 'logits');
  const vocab = logits?.shape?.[2];
  if (logits?.type !== 'float32' || typeof vocab !== 'number') return { reason: 'the logits are not float32 with a fixed vocabulary size' };
  return { layout: { layers: layers.size, kvHeads, headDim, vocab, positionIds: inputs.has('position_ids'), cache } };
}

function isSessionLike(x: unknown): x is OrtSessionLike {
  return typeof x === 'object' && x !== null && 'run' in x && typeof x.run === 'function' && 'inputNames' in x && Array.isArray(x.inputNames) && 'outputNames' in x && Array.isArray(x.outputNames);
}

/**
 * The loop for a transformers.js causal LM (`model.sessions.model`, `model.configs.generation_config`),
 * or why it must use generate(). One place for the browser worker, the reference server and the
 * benchmark's native baseline; `pooled` only where ONNX Runtime carries the output hook.
 */
export function kvDecoderFor(
  model: { sessions: Record<string, unknown>; configs?: Record<string, unknown> },
  makeTensor: MakeTensor,
  pooled: boolean,
): { decoder: KvDecoder; reason: null } | { decoder: null; reason: string } {
  const session = model.sessions['model'];
  if (!isSessionLike(session)) return { decoder: null, reason: 'the model has no single decoder session' };
  const generation = model.configs?.['generation_config'];
  const plan = planKvDecoder(session, typeof generation === 'object' && generation !== null ? { ...generation } : {});
  if ('reason' in plan) return { decoder: null, reason: plan.reason };
  return { decoder: new KvDecoder(session, plan.layout, makeTensor, pooled), reason: null };
}

export interface DecodeRequest {
  /** The prompt's token ids (the chat template applied). */
  promptIds: readonly number[];
  maxNewTokens: number;
  sampling: SamplingSettings;
  eosTokenIds: readonly number[];
  /** Called with every generated token (end-of-sequence included), right after it is chosen. */
  onToken: (id: number) => void;
  /** Asked after every token, like a stopping criterion; true ends generation. */
  shouldStop: () => boolean;
  random?: () => number;
  /** A state holding the first `start.length` prompt tokens (kv-cache.ts): only the rest is prefilled. */
  start?: KvTensors;
  /**
   * Where a stop can only arrive as a message (a page that is not cross-origin isolated has no
   * shared memory), the loop lets the event loop run this often (ms): every `session.run` of the
   * WASM build completes in microtasks, so without this a Stop would wait for the last token.
   */
  yieldEveryMs?: number;
  /** A grammar the output must follow: forbidden tokens masked before each choice; generation ends when it is complete. */
  constraint?: StepConstraint | null;
}

/** A macrotask turn: queued messages (an `interrupt`) are handled before it resolves. */
export function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(null);
  });
}

/** Above this many bytes of reused buffers, let ONNX Runtime allocate instead (big models on WASM). */
const MAX_POOL_BYTES = 256 * 1024 * 1024;

export class KvDecoder {
  private readonly pool: OutputPool | null;
  private readonly logitsSlot: number;
  private readonly presentSlots: number[];
  private ids = new BigInt64Array(0);
  private ones = new BigInt64Array(0);
  private positions = new BigInt64Array(0);
  private tokens = new Int32Array(0);
  private readonly seen: Uint8Array;
  private readonly empty: OrtTensorLike;

  constructor(
    readonly session: OrtSessionLike,
    readonly layout: KvLayout,
    readonly makeTensor: MakeTensor,
    pooled: boolean,
  ) {
    this.pool = pooled ? new OutputPool(session.outputNames.length) : null;
    this.logitsSlot = session.outputNames.indexOf('logits');
    this.presentSlots = layout.cache.map((c) => session.outputNames.indexOf(c.present));
    this.seen = new Uint8Array(layout.vocab);
    this.empty = makeTensor('float32', new Float32Array(0), [1, layout.kvHeads, 0, layout.headDim]);
  }

  get pooling(): boolean {
    return this.pool !== null;
  }

  private ensure(total: number): void {
    if (this.ones.length < total) {
      const cap = Math.max(256, 2 ** Math.ceil(Math.log2(total)));
      this.ids = new BigInt64Array(cap);
      this.ones = new BigInt64Array(cap).fill(1n);
      this.positions = new BigInt64Array(cap);
      this.tokens = new Int32Array(cap);
    }
    const pool = this.pool;
    if (!pool) return;
    const cap = this.ones.length;
    const kv = this.layout.kvHeads * this.layout.headDim * cap;
    if (2 * 4 * (kv * this.presentSlots.length + this.layout.vocab) > MAX_POOL_BYTES) return;
    for (const slot of this.presentSlots) pool.reserve(slot, kv);
    pool.reserve(this.logitsSlot, this.layout.vocab);
  }

  /** Bytes held by a state's tensors. */
  static bytes(past: readonly OrtTensorLike[]): number {
    let n = 0;
    for (const t of past) if (t.data instanceof Float32Array) n += t.data.byteLength;
    return n;
  }

  /**
   * `past` (holding `from` positions) cut to its first `to`: a copy, as the tensors are
   * [batch 1, kv heads, positions, head size] and each head's rows are contiguous.
   */
  truncate(past: readonly OrtTensorLike[], from: number, to: number): OrtTensorLike[] {
    const { kvHeads: H, headDim: D } = this.layout;
    return past.map((t) => {
      const src = t.data;
      if (!(src instanceof Float32Array) || src.length !== H * from * D) throw new Error(`A kept KV tensor has ${String(t.dims)}, not [1, ${H}, ${from}, ${D}].`);
      const out = new Float32Array(H * to * D);
      for (let h = 0; h < H; h++) out.set(src.subarray(h * from * D, h * from * D + to * D), h * to * D);
      return this.makeTensor('float32', out, [1, H, to, D]);
    });
  }

  /** `past` in buffers of its own: pooled outputs are overwritten two runs later (output-pool.ts). */
  private detach(past: readonly OrtTensorLike[]): OrtTensorLike[] {
    return past.map((t) => (t.data instanceof Float32Array ? this.makeTensor('float32', new Float32Array(t.data), [...t.dims]) : t));
  }

  async generate(req: DecodeRequest): Promise<DecodeStats & { final: KvTensors }> {
    const { layout } = this;
    const V = layout.vocab;
    const n0 = req.promptIds.length;
    if (n0 === 0) throw new Error('The prompt is empty.');
    const total = n0 + Math.max(1, req.maxNewTokens);
    this.ensure(total);
    const pooled0 = this.pool?.pooled ?? 0;
    const allocated0 = this.pool?.allocated ?? 0;
    const tokens = this.tokens;
    for (let i = 0; i < n0; i++) tokens[i] = req.promptIds[i] ?? 0;
    let count = n0;
    const start = req.start && req.start.length > 0 && req.start.length < n0 ? req.start : null;
    let past: OrtTensorLike[] = start ? [...start.past] : layout.cache.map(() => this.empty);
    let pos = start?.length ?? 0;
    let step = req.promptIds.slice(pos);
    let generated = 0;
    let steps = 0;
    let decodeRunMs = 0;
    let lastYield = performance.now();
    for (;;) {
      const n = step.length;
      for (let i = 0; i < n; i++) {
        this.ids[i] = BigInt(step[i] ?? 0);
        this.positions[i] = BigInt(pos + i);
      }
      const feeds: Record<string, OrtTensorLike> = {
        input_ids: this.makeTensor('int64', this.ids.subarray(0, n), [1, n]),
        attention_mask: this.makeTensor('int64', this.ones.subarray(0, pos + n), [1, pos + n]),
      };
      if (layout.positionIds) feeds['position_ids'] = this.makeTensor('int64', this.positions.subarray(0, n), [1, n]);
      layout.cache.forEach((c, i) => (feeds[c.past] = past[i] ?? this.empty));
      const run = () => this.session.run(feeds);
      const t0 = performance.now();
      const out = this.pool ? await this.pool.run(run) : await run();
      if (steps > 0) decodeRunMs += performance.now() - t0;
      steps++;
      pos += n;
      past = layout.cache.map((c) => {
        const t = out[c.present];
        if (!t) throw new Error(`The model returned no ${c.present}.`);
        return t;
      });
      const all = out['logits']?.data;
      // Every position's logits (ONNX Runtime) or the last one's only (the int8 step): the last row either way.
      if (!(all instanceof Float32Array) || (all.length !== n * V && all.length !== V)) throw new Error('The model returned no float32 logits for the last position.');
      const row = all.subarray(all.length - V);
      const constraint = req.constraint ?? null;
      // A number unless a grammar's mask had to be filled: no await (no microtask turn) otherwise.
      const next = nextToken(row, req.sampling, tokens, count, generated, req.eosTokenIds, this.seen, req.random, constraint);
      const id = typeof next === 'number' ? next : await next;
      tokens[count++] = id;
      generated++;
      req.onToken(id);
      if (req.yieldEveryMs !== undefined && performance.now() - lastYield >= req.yieldEveryMs) {
        await nextTask();
        lastYield = performance.now();
      }
      if (generated >= req.maxNewTokens || req.eosTokenIds.includes(id) || constraint?.terminated || req.shouldStop()) break;
      step = [id];
    }
    return {
      final: { past: this.pool || this.session.outputsReused ? this.detach(past) : past, length: pos },
      steps,
      decodeRunMs,
      pooledOutputs: (this.pool?.pooled ?? 0) - pooled0,
      allocatedOutputs: (this.pool?.allocated ?? 0) - allocated0,
    };
  }
}
