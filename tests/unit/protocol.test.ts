import { describe, expect, it } from 'vitest';
import { isFromWorker, isTerminal, isToWorker, type FromWorker, type ToWorker } from '../../src/engines/local/protocol';
import { DEFAULT_GENERATION } from '../../src/engines/types';

const toWorker: ToWorker[] = [
  { kind: 'probe', id: 1 },
  {
    kind: 'load',
    id: 2,
    request: {
      source: { type: 'hub', modelId: 'gpt2', revision: 'main' },
      dtype: 'q8',
      device: 'wasm',
      threads: 1,
      appBase: 'http://localhost:5173/',
      ortBase: 'http://localhost:5173/ort/',
      warmup: null,
      useBrowserCache: true,
    },
  },
  {
    kind: 'generate',
    id: 3,
    options: { messages: [{ role: 'user', content: 'hi' }], params: DEFAULT_GENERATION, interruptFlag: null, flushIntervalMs: 16 },
  },
  { kind: 'interrupt', id: 4, target: 3 },
  { kind: 'unload', id: 6 },
];

const fromWorker: FromWorker[] = [
  {
    kind: 'probed',
    id: 1,
    env: { crossOriginIsolated: false, hardwareConcurrency: 4, webgpu: null, webgpuUnavailableReason: 'none', userAgent: 'x' },
  },
  { kind: 'plan', id: 2, files: [{ file: 'config.json', url: 'http://x/config.json', bytes: 10 }], totalBytes: 10 },
  { kind: 'progress', id: 2, file: 'onnx/model.onnx', loaded: 5, total: 10 },
  { kind: 'file-done', id: 2, file: 'onnx/model.onnx' },
  { kind: 'phase', id: 2, phase: 'session' },
  {
    kind: 'loaded',
    id: 2,
    info: {
      modelId: 'gpt2',
      device: 'wasm',
      dtype: 'q8',
      threads: 1,
      crossOriginIsolated: false,
      ortBuild: 'plain',
      runtimePrepared: false,
      downloadMs: 1,
      downloadBytes: 1,
      fromCache: false,
      cache: { source: 'network', stored: true, reason: null, notes: [] },
      sessionCreateMs: 1,
      warmupMs: 0,
      warmupTokens: 0,
      warmupDecodeTps: null,
      maxContext: 1024,
      eosTokenIds: [50256],
      decodeLoop: 'kv-loop',
      decodeLoopReason: null,
      decodeEngine: 'int8-step',
      decodeEngineReason: null,
      int8Step: { loadMs: 180, memoryBytes: 300e6, onnxRuntimeSession: false, threads: 2, threadNote: null, kernel: 'relaxed', kernelNote: null },
      outputPool: true,
      weightRewrite: null,
      memoryEstimate: null,
      memoryFit: null,
      weightsBytes: 1,
      wasmHeapBytes: 16 * 1024 * 1024,
      sessionParts: { prepareMs: 40, createMs: 900, externalFiles: 1 },
      warmupPlan: { prefillPasses: 0, maxTokens: 1024, maxMs: 6000, minTokens: 48, minDecodeMs: 500 },
      primer: { worker: 'own', ms: 520, runMs: 241, runs: 102, tokens: 144, settled: true, skipped: null },
      sessionMemory: { externalTensors: 3, externalBytes: 1000, heldBytes: 1200, heapAfterCreateBytes: 17 * 1024 * 1024, heapGrowthsAt: [1_796_000_000_000.5] },
    },
  },
  { kind: 'tokens', id: 3, text: 'Hello', count: 2 },
  {
    kind: 'done',
    id: 3,
    result: {
      finishReason: 'stop',
      text: 'Hello',
      inputTokens: 4,
      outputTokens: 2,
      outputTokenIds: [1, 2],
      generateStart: 0,
      firstTokenAt: 1,
      lastTokenAt: 2,
      decodeStats: { steps: 2, pooledOutputs: 18, allocatedOutputs: 1, decodeRunMs: 0.4 }, reusedInputTokens: 0, prefillNote: null,
      jsonComplete: null,
      wasmHeapBytes: null,
      droppedMessages: 2,
      contextNote: 'The oldest 2 messages were left out.',
    },
  },
  { kind: 'ack', id: 4 },
  { kind: 'error', id: 5, error: { code: 'busy', message: 'busy' } },
  { kind: 'crashed', id: 0, error: { code: 'device-lost', message: 'The WebGPU device was lost.' } },
];

const junk: unknown[] = [
  null,
  undefined,
  0,
  42,
  true,
  'probe',
  '{"kind":"probe","id":1}',
  [],
  ['probe', 1],
  {},
  { kind: 'probe' },
  { id: 1 },
  { kind: 'nope', id: 1 },
  { kind: 'PROBE', id: 1 },
  { kind: 'probe', id: '1' },
  { kind: 'probe', id: null },
  { kind: 'done', id: '7' },
  { kind: 5, id: 1 },
  { kind: null, id: 1 },
  { kind: 'toString', id: 1 },
  { kind: 'constructor', id: 1 },
];

describe('isToWorker', () => {
  it.each(toWorker.map((m) => [m.kind, m] as const))('accepts a valid %s message', (_kind, msg) => {
    expect(isToWorker(msg)).toBe(true);
  });

  it('covers every ToWorker kind in this test', () => {
    expect(new Set(toWorker.map((m) => m.kind)).size).toBe(5);
  });

  it.each(junk.map((j) => [JSON.stringify(j) ?? String(j), j] as const))('rejects junk %s', (_label, value) => {
    expect(isToWorker(value)).toBe(false);
  });

  it.each(fromWorker.map((m) => [m.kind, m] as const))('rejects the page-bound kind %s', (_kind, msg) => {
    expect(isToWorker(msg)).toBe(false);
  });
});

describe('isFromWorker', () => {
  it.each(fromWorker.map((m) => [m.kind, m] as const))('accepts a valid %s message', (_kind, msg) => {
    expect(isFromWorker(msg)).toBe(true);
  });

  it('covers every FromWorker kind in this test', () => {
    expect(new Set(fromWorker.map((m) => m.kind)).size).toBe(11);
  });

  it.each(junk.map((j) => [JSON.stringify(j) ?? String(j), j] as const))('rejects junk %s', (_label, value) => {
    expect(isFromWorker(value)).toBe(false);
  });

  it.each(toWorker.map((m) => [m.kind, m] as const))('rejects the worker-bound kind %s', (_kind, msg) => {
    expect(isFromWorker(msg)).toBe(false);
  });

  it('accepts a message that went through structured cloning', () => {
    for (const m of fromWorker) expect(isFromWorker(structuredClone(m))).toBe(true);
  });
});

describe('isTerminal', () => {
  const expected: Record<FromWorker['kind'], boolean> = {
    probed: true,
    loaded: true,
    done: true,
    ack: true,
    error: true,
    crashed: true,
    plan: false,
    progress: false,
    'file-done': false,
    phase: false,
    tokens: false,
  };

  it.each(fromWorker.map((m) => [m.kind, m] as const))('%s', (kind, msg) => {
    expect(isTerminal(msg)).toBe(expected[kind]);
  });

  it('exactly six kinds end a request', () => {
    expect(fromWorker.filter(isTerminal).map((m) => m.kind).sort()).toEqual(['ack', 'crashed', 'done', 'error', 'loaded', 'probed']);
  });
});
