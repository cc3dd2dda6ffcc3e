/**
 * Test-only hooks, compiled in only where `__SLM_TEST_HOOKS__` is true (the e2e build sets it:
 * tests/e2e/global-setup.ts); production builds define it false and the bundler drops this code
 * (tests/e2e/fail-mem.test.ts checks a production bundle). The e2e tests call the hooks through
 * Playwright's `worker.evaluate` while the worker is idle, to make real failures happen later:
 * a destroyed WebGPU device, a WASM abort in the middle of an answer.
 */
import { ortDevice } from './device-loss';
import type { Transformers } from './ort-setup';

declare const self: DedicatedWorkerGlobalScope & { __slmTestHooks?: unknown };

let abortAfter: number | null = null;

/** Called by the runtime for every generated token (test builds only). */
export function testHookOnToken(count: number): void {
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
  };
}
