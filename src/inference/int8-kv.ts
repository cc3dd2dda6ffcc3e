/**
 * The int8 step's KV state (int8-session.ts): the keys and values of every layer in the kernel's own memory,
 * [position][KV heads · head size] a layer (the rows `attend` reads, tools/wasm/int8-step.ts), after a strip of
 * scratch for the attention's scores, at a capacity that doubles as a conversation grows.
 *
 * What the session hands out as `present.*` are views of it (`StateTensor`), in ONNX Runtime's shape: the loop
 * feeds them back as the next run's `past_key_values.*` (recognised: nothing is copied), and reads one (`data`,
 * a copy in ONNX Runtime's layout) only to keep a state. A view holds until a run rewrites positions it covers
 * (the `epoch` changes: a prompt run, or a past that is not the state's own); reading it later throws.
 */
import type { MakeTensor, OrtTensorLike } from './kv-decoder';

const PAGE = 65536;
const align = (n: number) => Math.ceil(n / 16) * 16;

export interface KvDims {
  layers: number;
  kvHeads: number;
  headDim: number;
}

/** `memory` grown to at least `bytes`. */
export function growTo(memory: WebAssembly.Memory, bytes: number): void {
  const have = memory.buffer.byteLength;
  if (bytes > have) memory.grow(Math.ceil((bytes - have) / PAGE));
}

/** A `present.*` output: a view of the step's KV state (`slot`: layer · 2 + 0 for keys, 1 for values). */
export class StateTensor implements OrtTensorLike {
  readonly type = 'float32';
  private copy: Float32Array | null = null;
  constructor(
    private readonly owner: Int8KvState,
    readonly slot: number,
    readonly dims: readonly number[],
    readonly epoch: number,
  ) {}

  get length(): number {
    return this.dims[2] ?? 0;
  }

  /** The state as ONNX Runtime lays it out, [1, KV heads, positions, head size] (copied once). */
  get data(): Float32Array {
    this.copy ??= this.owner.read(this);
    return this.copy;
  }
}

export class Int8KvState {
  private capacity = 0;
  /** Positions the state holds; `epoch` changes whenever positions already handed out are rewritten. */
  private length = 0;
  private epoch = 0;
  private readonly row: number;
  /** `past_key_values.{l}.key|value` and `present.…` by slot (layer · 2 + 0 keys, 1 values): not made again each token. */
  private readonly pastNames: string[];
  private readonly presentNames: string[];

  constructor(
    private readonly memory: WebAssembly.Memory,
    /** Where the state begins in the kernel's memory (after the weights). */
    private readonly base: number,
    private readonly d: KvDims,
    private readonly makeTensor: MakeTensor,
  ) {
    this.row = d.kvHeads * d.headDim;
    const names = Array.from({ length: 2 * d.layers }, (_, s) => `${Math.floor(s / 2)}.${s % 2 ? 'value' : 'key'}`);
    this.pastNames = names.map((n) => `past_key_values.${n}`);
    this.presentNames = names.map((n) => `present.${n}`);
  }

  /** Where the attention's scores go (capacity + 4 floats: the kernel writes exps four at a time past the last). */
  get scores(): number {
    return this.base;
  }

  /** A second thread's scores (int8-threads.ts: the heads are split between two threads). */
  get scores2(): number {
    return this.base + 4 * (this.capacity + 4);
  }

  /** Byte offset of position 0 of `slot`'s rows at `capacity` (after two threads' scores). */
  slotAt(slot: number, capacity = this.capacity): number {
    return this.base + align(8 * (capacity + 4)) + slot * capacity * this.row * 4;
  }

  /** Room for `positions` (and `extra` bytes from the base meanwhile: a load's staging): the rows moved to the larger layout. */
  reserve(positions: number, extra = 0): void {
    if (positions <= this.capacity && extra === 0) return;
    const old = this.capacity;
    const cap = positions <= old ? old : Math.max(positions, 2 * old);
    const slots = 2 * this.d.layers;
    growTo(this.memory, Math.max(this.slotAt(slots, cap), this.base + extra));
    if (cap === old) return;
    const bytes = new Uint8Array(this.memory.buffer);
    const used = this.length * this.row * 4;
    // Last slot first: every row moves up, never onto one not yet moved.
    for (let s = slots - 1; s >= 0 && used > 0; s--) bytes.copyWithin(this.slotAt(s, cap), this.slotAt(s, old), this.slotAt(s, old) + used);
    this.capacity = cap;
  }

  /** `t`'s positions in ONNX Runtime's layout; throws if the state has moved on since it was handed out. */
  read(t: StateTensor): Float32Array {
    if (t.epoch !== this.epoch || t.length > this.length) throw new Error('A KV state of the int8 step was read after later runs rewrote it.');
    const { kvHeads: KVH, headDim: hd } = this.d;
    const row = this.row;
    const src = new Float32Array(this.memory.buffer, this.slotAt(t.slot), t.length * row);
    const out = new Float32Array(KVH * t.length * hd);
    for (let h = 0; h < KVH; h++) for (let p = 0; p < t.length; p++) out.set(src.subarray(p * row + h * hd, p * row + h * hd + hd), (h * t.length + p) * hd);
    return out;
  }

  /** ONNX Runtime's layout (`data` of [1, KV heads, positions, head size]) into `slot`'s rows. */
  write(slot: number, data: Float32Array, positions: number): void {
    const { kvHeads: KVH, headDim: hd } = this.d;
    const row = this.row;
    const dst = new Float32Array(this.memory.buffer, this.slotAt(slot), positions * row);
    for (let h = 0; h < KVH; h++) for (let p = 0; p < positions; p++) dst.set(data.subarray((h * positions + p) * hd, (h * positions + p + 1) * hd), p * row + h * hd);
  }

  /** The state now holds `length` positions written anew: views handed out before are stale. */
  rewritten(length: number): void {
    this.length = length;
    this.epoch++;
  }

  /** `count` positions appended (the views handed out before stay valid for the positions they cover). */
  appended(count = 1): void {
    this.length += count;
  }

  /** A run's outputs: `logits`, and a view of each layer's keys and values. */
  outputs(logits: OrtTensorLike): Record<string, OrtTensorLike> {
    const out: Record<string, OrtTensorLike> = { logits };
    const dims = [1, this.d.kvHeads, this.length, this.d.headDim];
    this.presentNames.forEach((name, slot) => (out[name] = new StateTensor(this, slot, dims, this.epoch)));
    return out;
  }

  /** Whether `feeds` continue the state as it is (its own last outputs, `past` positions). */
  continues(feeds: Record<string, OrtTensorLike>, past: number): boolean {
    if (past !== this.length) return false;
    return this.pastNames.every((name) => {
      const t = feeds[name];
      return t instanceof StateTensor && t.epoch === this.epoch && t.length === past;
    });
  }
}
