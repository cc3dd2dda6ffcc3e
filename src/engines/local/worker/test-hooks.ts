/**
 * Test-only hooks, compiled in only where `__SLM_TEST_HOOKS__` is true (the e2e build sets it:
 * tests/e2e/global-setup.ts); production builds define it false and the bundler drops this
 * module (tests/e2e/test-hooks-bundle.test.ts checks the bundle). The e2e tests call them through
 * Playwright's `worker.evaluate` to make real failures happen: a destroyed WebGPU device.
 */
import { ortDevice } from './device-loss';
import type { Transformers } from './ort-setup';

declare const self: DedicatedWorkerGlobalScope & { __slmTestHooks?: unknown };

export function installTestHooks(): void {
  self.__slmTestHooks = {
    /** Calls destroy() on the GPUDevice ONNX Runtime runs on; resolves to whether there was one. */
    async destroyDevice(): Promise<boolean> {
      const t: Transformers = await import('@huggingface/transformers');
      const d = await ortDevice(t);
      d?.destroy();
      return d !== null;
    },
  };
}
