import { defineConfig } from 'vitest/config';

/**
 * Three projects: fast unit tests (pure modules), model tests (real ONNX models in onnxruntime-node
 * through transformers.js) and end-to-end tests (the built app in headless Chromium).
 * `npm test` runs all three; e2e builds the app once in its global setup.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts', 'tests/unit/**/*.test.tsx'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'model',
          include: ['tests/*-node.test.ts', 'tests/models-*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['tests/e2e/global-setup.ts'],
          testTimeout: 240_000,
          hookTimeout: 240_000,
          fileParallelism: false,
          maxWorkers: 1,
        },
      },
    ],
  },
});
