/**
 * Test-only hooks, compiled in only where `__SLM_TEST_HOOKS__` is true (the e2e build sets it:
 * tests/e2e/global-setup.ts); production builds define it false and the bundler drops this code
 * (tests/e2e/fail-mem.test.ts checks a production bundle). The e2e tests call the hooks through
 * Playwright's `worker.evaluate` while the worker is idle, to make real failures happen later:
 * a destroyed WebGPU device, a WASM abort in the middle of an answer, an XGrammar abort, an answer
 * slow enough to stop.
 */
import { GrammarCache } from '../../../inference/grammar';
import { loadXGrammar } from '../../../inference/xgrammar';
import { errorText } from '../../../lib/errors';
import { ortDevice } from './device-loss';
import type { Transformers } from './ort-setup';

declare const self: DedicatedWorkerGlobalScope & { __slmTestHooks?: unknown };

let abortAfter: number | null = null;
let sleepPerTokenMs = 0;
/** Atomics.wait needs a shared Int32Array (the app is cross-origin isolated, so SharedArrayBuffer exists). */
const sleeper = typeof SharedArrayBuffer === 'function' ? new Int32Array(new SharedArrayBuffer(4)) : null;

/** Blocks this worker for `ms` without spinning a core (the e2e machines have two). */
function sleep(ms: number): void {
  if (sleeper) Atomics.wait(sleeper, 0, 0, ms);
  else for (const end = performance.now() + ms; performance.now() < end; );
}

/** Called by the runtime for every generated token (test builds only). */
export function testHookOnToken(count: number): void {
  if (sleepPerTokenMs > 0) sleep(sleepPerTokenMs);
  if (abortAfter !== null && count >= abortAfter) {
    abortAfter = null;
    // What Emscripten throws on abort() (an OOM in ONNX Runtime's allocator ends the same way).
    throw new WebAssembly.RuntimeError('Aborted(test hook: abort in the middle of an answer)');
  }
}

export function installTestHooks(): void {
  self.__slmTestHooks = {
    /** Calls destroy() on the GPUDevice ONNX Runtime runs on; resolves to whether there was one. */
    async destroyDevice(): Promise<boolean> {
      const t: Transformers = await import('@huggingface/transformers');
      const d = await ortDevice(t);
      d?.destroy();
      return d !== null;
    },
    /** The next answer aborts as ONNX Runtime would after `tokens` tokens. */
    abortAfterTokens(tokens: number): void {
      abortAfter = tokens;
    },
    /**
     * Every token of the following answers takes `ms` longer (0: back to full speed), so a test can
     * stop an answer mid-way however fast the model or busy the machine (a 300-token answer of the
     * pocket model lasts ~150 ms; CI once saw it end before the test's Escape reached the page).
     */
    sleepPerToken(ms: number): void {
      sleepPerTokenMs = ms;
    },
    /**
     * XGrammar's recovery here, with the worker's loader: a grammar cache over a small vocabulary
     * compiles a schema the WebAssembly aborts on (an unresolved $ref, which the request checks
     * refuse before any real compile), then JSON mode. Resolves to what each step gave.
     */
    async grammarRecovery(): Promise<{ error: string; restarts: number; allowed: number[]; freshInstance: boolean }> {
      const tokens = ['{', '}', '"', 'a', ':', ' ', ',', '<eos>'];
      const cache = new GrammarCache({ tokens, vocabType: 'raw', prependSpace: false, vocabSize: tokens.length, stopTokenIds: [7] }, { load: loadXGrammar });
      const before = await loadXGrammar();
      const error = await cache.constraint({ type: 'json_schema', name: 'x', schema: { $ref: '#/definitions/x' } }).then(() => '', (e: unknown) => errorText(e));
      const c = await cache.constraint({ type: 'json_object' });
      if (!c) throw new Error('no constraint for JSON mode');
      await c.prepare();
      const row = new Float32Array(tokens.length);
      c.apply(row);
      c.dispose();
      const after = await loadXGrammar();
      const restarts = cache.stats().restarts;
      cache.dispose();
      return { error, restarts, allowed: [...row.keys()].filter((i) => row[i] === 0), freshInstance: after !== before };
    },
  };
}
