/**
 * Reused output buffers for ONNX Runtime Web, through the hook that scripts/vite-ort-output-pool.ts
 * patches into its `InferenceSession.run` (see there for the measured reason).
 *
 * Two sets of buffers, one per session output, used alternately: the outputs of step t are the KV
 * inputs of step t+1, which ONNX Runtime copies into WASM memory before it runs, so step t+1 can
 * write its own outputs into the other set and step t+2 may overwrite the first again. A buffer that
 * is too small for an output (a long prefill's logits), or of another element type, is simply not
 * used: ONNX Runtime allocates as usual.
 */

type TypedArrayCtor = new (length: number) => ArrayBufferView;
type OutputHook = (ctor: TypedArrayCtor, elements: number) => ArrayBufferView | undefined;

interface HookGlobal {
  __slmOrtOutput?: OutputHook | undefined;
  __slmOrtOutputPatched?: boolean;
}

const hookGlobal = globalThis as HookGlobal;

/** Whether the ONNX Runtime Web loaded in this realm carries the output hook (a Vite build or dev server). */
export function outputHookAvailable(): boolean {
  return hookGlobal.__slmOrtOutputPatched === true;
}

export class OutputPool {
  private readonly sets: [Array<Float32Array | null>, Array<Float32Array | null>];
  private current: 0 | 1 = 0;
  /** Outputs copied into a pooled buffer / allocated by ONNX Runtime, since construction. */
  pooled = 0;
  allocated = 0;

  constructor(private readonly slots: number) {
    this.sets = [new Array<Float32Array | null>(slots).fill(null), new Array<Float32Array | null>(slots).fill(null)];
  }

  /** Makes slot `slot` (the session's output index) hold at least `elements` floats in both sets. */
  reserve(slot: number, elements: number): void {
    if (slot < 0 || slot >= this.slots) throw new RangeError(`output slot ${slot} out of range 0..${this.slots - 1}`);
    for (const set of this.sets) {
      const b = set[slot];
      if (!b || b.length < elements) set[slot] = new Float32Array(elements);
    }
  }

  /** Bytes held by both sets. */
  get bytes(): number {
    let n = 0;
    for (const set of this.sets) for (const b of set) n += b?.byteLength ?? 0;
    return n;
  }

  /**
   * Runs `fn` (one `session.run`) with the hook pointing at the current set, then switches sets.
   * Outputs arrive at the hook in the session's output order.
   */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const set = this.sets[this.current];
    let i = 0;
    hookGlobal.__slmOrtOutput = (ctor, elements) => {
      const b = set[i++];
      if (b && ctor === Float32Array && elements <= b.length) {
        this.pooled++;
        return b.subarray(0, elements);
      }
      this.allocated++;
      return undefined;
    };
    try {
      return await fn();
    } finally {
      hookGlobal.__slmOrtOutput = undefined;
      this.current = this.current === 0 ? 1 : 0;
    }
  }
}
