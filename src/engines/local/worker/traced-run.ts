/**
 * One generation in the worker, through the core, with what the page's metrics need: when it
 * started, when each token came, the finish reason. Real answers and the warm-up take exactly this
 * path (see warmup.ts: code the warm-up never ran would be de-optimised on the first real answer).
 */
import type { DecodeStats } from '../../../inference/kv-decoder';
import type { CoreFinishReason, PrefillReport, TokenGenerator } from '../../../inference/core';
import type { StepConstraint } from '../../../inference/sampling';
import type { DecodeSettings } from '../../../inference/settings';

const now = () => performance.now();

/** How often the KV loop lets an `interrupt` message in when there is no shared-memory flag (ms). */
const MESSAGE_POLL_MS = 25;

/**
 * A stop request: set by the `interrupt` message or, without a message round trip, by shared memory;
 * the warm-up also gives it a deadline.
 */
export class StopSignal {
  requested = false;
  private readonly flag: Int32Array | null;
  constructor(
    buffer: SharedArrayBuffer | null,
    private readonly deadline = Infinity,
  ) {
    this.flag = buffer ? new Int32Array(buffer) : null;
  }
  check(): boolean {
    if (!this.requested && ((this.flag !== null && Atomics.load(this.flag, 0) !== 0) || now() > this.deadline)) this.requested = true;
    return this.requested;
  }
  /** Without shared memory a stop arrives as a message: the decode loop must let messages in. */
  get needsMessages(): boolean {
    return this.flag === null;
  }
}

export interface GenerationTrace {
  /** Generated ids, without a final end-of-sequence token. */
  ids: number[];
  finishReason: CoreFinishReason;
  generateStart: number;
  firstTokenAt: number | null;
  lastTokenAt: number | null;
  /** Time of every generated token, engine clock. */
  times: number[];
  decodeStats: DecodeStats | null;
  prefill: PrefillReport;
  /** With a grammar: whether the structure was complete; null without one. */
  grammarComplete: boolean | null;
}

export async function tracedRun(
  gen: TokenGenerator,
  promptIds: readonly number[],
  settings: DecodeSettings,
  stop: StopSignal,
  onToken: ((id: number) => void) | null,
  reuse = true,
  constraint: StepConstraint | null = null,
): Promise<GenerationTrace> {
  const generateStart = now();
  const times: number[] = [];
  const r = await gen.generate(promptIds, settings, {
    onToken: (id) => {
      times.push(now());
      onToken?.(id);
    },
    shouldStop: () => (stop.check() ? 'abort' : null),
    ...(stop.needsMessages ? { yieldEveryMs: MESSAGE_POLL_MS } : {}),
  }, { reuse, constraint });
  return {
    ids: r.ids,
    finishReason: r.finishReason,
    generateStart,
    firstTokenAt: times[0] ?? null,
    lastTokenAt: times.at(-1) ?? null,
    times,
    decodeStats: r.decodeStats,
    prefill: r.prefill,
    grammarComplete: r.grammarComplete,
  };
}
