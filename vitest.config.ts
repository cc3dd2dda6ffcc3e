import { defineConfig } from 'vitest/config';

/**
 * Four projects: fast unit tests (pure modules), model tests (real ONNX models in onnxruntime-node
 * through transformers.js), hosted tests (the reference server and the hosted engine over real
 * HTTP) and end-to-end tests (the built app in headless Chromium).
 * `npm test` runs all of them; e2e builds the app once in its global setup.
 */
export default defineConfig({
  test: {
    reporters: ['default', './tests/summary-reporter.ts'],
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
          name: 'hosted',
          include: ['tests/server/**/*.test.ts', 'tests/hosted/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
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
