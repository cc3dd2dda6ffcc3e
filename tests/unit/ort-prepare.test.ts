// @vitest-environment node
// The worker's model preparation (src/engines/local/worker/external-weights.ts) against ONNX Runtime
// Web's own WASM (its Node build): a model whose initializers were made external data gives the
// same output as the original bytes.
import path from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it, vi } from 'vitest';
import { gateNextCreate, installExternalWeights, onCreateStart, prepareForOrt, takeSessionRecord } from '../../src/engines/local/worker/external-weights';
import { Writer } from '../../src/lib/protobuf';

// The wrapper patches the browser bundle's InferenceSession; in Node the same classes come from
// ORT-web's Node build (the same WASM), which the browser bundle cannot load here.
vi.mock('onnxruntime-web/webgpu', async () => await import('onnxruntime-web'));

ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = path.resolve('node_modules/onnxruntime-web/dist') + '/';

// y = x + w, w a float[2048] initializer of 8 KiB (over the external threshold).
const w = Float32Array.from({ length: 2048 }, (_, i) => Math.sin(i));
const value = (name: string) =>
  new Writer().string(1, name).bytes(2, new Writer().bytes(1, new Writer().int(1, 1).bytes(2, new Writer().bytes(1, new Writer().int(1, 2048)))));
const init = new Writer().int(1, 2048).int(2, 1).string(8, 'w').bytes(9, new Uint8Array(w.buffer));
const graph = new Writer().bytes(1, new Writer().string(1, 'x').string(1, 'w').string(2, 'y').string(4, 'Add')).string(2, 'g')
  .bytes(5, init).bytes(11, value('x')).bytes(12, value('y'));
const model = new Writer().int(1, 8).bytes(8, new Writer().string(1, '').int(2, 13)).bytes(7, graph).finish();

describe('preparing models for ONNX Runtime Web', () => {
  it('external initializers: the same numbers as the inline model', async () => {
    const p = (await prepareForOrt(model)).prepared!;
    expect(p.externalData).toHaveLength(1);
    const x = new ort.Tensor('float32', Float32Array.from({ length: 2048 }, (_, i) => i / 7), [2048]);
    const run = async (s: ort.InferenceSession) => [...((await s.run({ x }))['y']!.data as Float32Array)];
    const [a, b] = await Promise.all([ort.InferenceSession.create(model), ort.InferenceSession.create(p.bytes, { externalData: p.externalData })]);
    expect(await run(b)).toEqual(await run(a));
    await Promise.all([a.release(), b.release()]);
  });
});

describe("the worker's InferenceSession.create wrapper (external-weights.ts)", () => {
  it('records each session it created once: parts and memory, then nothing until the next', async () => {
    await installExternalWeights();
    takeSessionRecord();
    const s = await ort.InferenceSession.create(model);
    const r = takeSessionRecord();
    expect(r.weightRewrite).toBeNull();
    expect(r.sessionParts).toMatchObject({ externalFiles: 1 });
    expect(r.sessionParts!.createMs).toBeGreaterThan(0);
    expect(r.sessionMemory).toMatchObject({ externalTensors: 1, externalBytes: 8192 });
    // Held: the file and the small graph handed to ONNX Runtime (not the file twice).
    expect(r.sessionMemory!.heldBytes).toBeGreaterThan(model.length);
    expect(r.sessionMemory!.heldBytes).toBeLessThan(model.length + 1024);
    expect(takeSessionRecord()).toEqual({ weightRewrite: null, sessionParts: null, sessionMemory: null });
    // A creation that fails (bytes no reader can parse) records nothing.
    await expect(ort.InferenceSession.create(Uint8Array.from([0xff, 0xff, 0xff]))).rejects.toThrow();
    expect(takeSessionRecord()).toEqual({ weightRewrite: null, sessionParts: null, sessionMemory: null });
    await s.release();
  });

  it("tells the load as each create begins, before the primer's gate (where the load's read ends), until cleared", async () => {
    await installExternalWeights();
    const seen: string[] = [];
    onCreateStart(() => seen.push('create begins'));
    gateNextCreate(async () => void seen.push('gate'));
    const a = await ort.InferenceSession.create(model);
    expect(seen).toEqual(['create begins', 'gate']);
    // Every create, not only the next: a model of several sessions ends its read at the first.
    const b = await ort.InferenceSession.create(model);
    expect(seen).toEqual(['create begins', 'gate', 'create begins']);
    onCreateStart(null);
    const c = await ort.InferenceSession.create(model);
    expect(seen).toHaveLength(3);
    takeSessionRecord();
    await Promise.all([a.release(), b.release(), c.release()]);
  });
});
