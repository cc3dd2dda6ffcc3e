// @vitest-environment node
// The ONNX Runtime Web patch (scripts/vite-ort-output-pool.ts) and the pool that uses it
// (src/inference/output-pool.ts). The browser tests check the two together
// (tests/e2e/parity-browser.test.ts: pooled outputs in a real decode).
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ORT_BUNDLE, ortOutputPool, patchOrtOutputs } from '../../scripts/vite-ort-output-pool';
import { OutputPool, outputHookAvailable } from '../../src/inference/output-pool';

const DIST = path.resolve('node_modules/onnxruntime-web/dist');
type Hooked = { __slmOrtOutput?: (c: unknown, n: number) => unknown; __slmOrtOutputPatched?: boolean };
const g = globalThis as Hooked;

afterEach(() => {
  delete g.__slmOrtOutputPatched;
  delete g.__slmOrtOutput;
});

describe('the ONNX Runtime Web patch', () => {
  it('finds its one statement in the bundle transformers.js imports, and in the WASM bundle', () => {
    for (const file of ['ort.webgpu.min.mjs', 'ort.wasm.min.mjs', 'ort.webgpu.bundle.min.mjs']) {
      const id = path.join(DIST, file);
      expect(ORT_BUNDLE.test(id)).toBe(true);
      const { code } = patchOrtOutputs(fs.readFileSync(id, 'utf8'), id);
      expect(code.startsWith('globalThis.__slmOrtOutputPatched=true;')).toBe(true);
      expect(code.match(/globalThis\.__slmOrtOutput\?\.\(/g)).toHaveLength(1);
    }
  });

  it('the patched statement falls back to a fresh array when the hook answers nothing', () => {
    const src = 'function f(P,j,s,C){let U=un(P),L=new U(j);new Uint8Array(L.buffer,L.byteOffset,L.byteLength).set(s.subarray(C,C+L.byteLength));return L}';
    const { code } = patchOrtOutputs(src, 'ort.test.min.mjs');
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- evaluating the patched snippet is the test
    const f = new Function(`const un=()=>Float32Array;${code};return f;`)() as (P: string, j: number, s: Uint8Array, C: number) => Float32Array;
    const heap = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);
    expect(Array.from(f('float32', 2, heap, 4))).toEqual([2, 3]);
    const mine = new Float32Array(8);
    g.__slmOrtOutput = (_c, n) => mine.subarray(0, n);
    const out = f('float32', 3, heap, 0);
    expect(out.buffer).toBe(mine.buffer);
    expect(Array.from(mine.subarray(0, 3))).toEqual([1, 2, 3]);
    expect(g.__slmOrtOutputPatched).toBe(true);
  });

  it('fails the build, naming the file, when ONNX Runtime changed the statement', () => {
    expect(() => patchOrtOutputs('let a=1;', '/x/onnxruntime-web/dist/ort.webgpu.min.mjs')).toThrow(/expected exactly one output-copy statement in .*ort\.webgpu\.min\.mjs, found 0/);
  });

  it('the plugin leaves other modules, the Emscripten glue and the WebGL bundle alone', () => {
    const plugin = ortOutputPool();
    const transform = plugin.transform as (code: string, id: string) => unknown;
    expect(transform('let a=1', '/app/src/main.ts')).toBeNull();
    expect(transform('_OrtRun(', path.join(DIST, 'ort-wasm-simd-threaded.mjs'))).toBeNull();
    expect(transform(fs.readFileSync(path.join(DIST, 'ort.webgl.min.mjs'), 'utf8'), path.join(DIST, 'ort.webgl.min.mjs'))).toBeNull();
  });
});

describe('OutputPool', () => {
  const run = (pool: OutputPool, sizes: number[], ctor: unknown = Float32Array) =>
    pool.run(async () => sizes.map((n) => g.__slmOrtOutput?.(ctor, n)));

  it('hands out two alternating sets, in output order, and counts what it could not serve', async () => {
    g.__slmOrtOutputPatched = true;
    expect(outputHookAvailable()).toBe(true);
    const pool = new OutputPool(2);
    pool.reserve(0, 4);
    pool.reserve(1, 16);
    const a = (await run(pool, [4, 10])) as Float32Array[];
    const b = (await run(pool, [3, 12])) as Float32Array[];
    const c = (await run(pool, [4, 16])) as Float32Array[];
    expect(a.map((x) => x.length)).toEqual([4, 10]);
    expect(b.map((x) => x.length)).toEqual([3, 12]);
    expect(a[0]!.buffer).not.toBe(b[0]!.buffer);
    expect(c[0]!.buffer).toBe(a[0]!.buffer);
    expect(c[1]!.buffer).toBe(a[1]!.buffer);
    // too big for the slot, or not float32: ONNX Runtime allocates
    const d = await run(pool, [5, 10]);
    const e = await run(pool, [1, 1], Int32Array);
    expect(d[0]).toBeUndefined();
    expect(d[1]).toBeInstanceOf(Float32Array);
    expect(e).toEqual([undefined, undefined]);
    expect(pool.pooled).toBe(7);
    expect(pool.allocated).toBe(3);
    expect(pool.bytes).toBe(2 * 4 * (4 + 16));
  });

  it('removes the hook after each run, even when the run fails', async () => {
    const pool = new OutputPool(1);
    await expect(pool.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(g.__slmOrtOutput).toBeUndefined();
    expect(outputHookAvailable()).toBe(false);
  });
});
