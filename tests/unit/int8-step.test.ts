// The int8 step's kernels (tools/wasm/int8-step.ts, shipped as src/inference/int8-step.wasm.ts) one by one
// against plain definitions: ONNX's DynamicQuantizeLinear (round half to even, the range widened to hold 0),
// the exact int8 products less the zero point's share, the weight transpose in chunks of rows, RMSNorm.
import { describe, expect, it } from 'vitest';
import { base64ToBytes } from '../../src/lib/base64';
import { INT8_STEP_WASM } from '../../src/inference/int8-step.wasm';
import { INT8_STEP_SHARED_WASM } from '../../src/inference/int8-step-shared.wasm';
import type { Int8StepKernel } from '../../src/inference/int8-session';
import { compile, moduleText, SHARED } from '../../tools/wasm/build.mjs';

function kernel(): Int8StepKernel {
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(base64ToBytes(INT8_STEP_WASM)), {});
  const k = exports as unknown as Int8StepKernel;
  k.memory.grow(64);
  return k;
}

/** A deterministic generator (xorshift), so every run tests the same numbers. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

const rhe = (x: number) => {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

/** DynamicQuantizeLinear in f32, one value at a time. */
function quantizeRef(x: Float32Array): { q: number[]; scale: number; zp: number } {
  const fr = Math.fround;
  let lo = 0;
  let hi = 0;
  for (const v of x) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const scale = hi === lo ? 1 : fr(fr(hi - lo) / 255);
  const zp = Math.max(0, Math.min(255, rhe(fr(0 - fr(lo / scale)))));
  return { q: Array.from(x, (v) => Math.max(0, Math.min(255, rhe(fr(v / scale)) + zp))), scale, zp };
}

describe('int8 step kernels', () => {
  it('quantize: DynamicQuantizeLinear exactly, ties to even included', () => {
    const k = kernel();
    const K = 96;
    const r = rng(7);
    const x = Float32Array.from({ length: K }, () => (r() - 0.3) * 4);
    // Values on exact half steps of the scale: (hi − lo) = 255 · 2^-4, so v / scale = m + 0.5 exactly.
    const halves = Float32Array.from({ length: K }, (_, i) => (i === 0 ? -8 : i === 1 ? 255 / 16 - 8 : ((i % 50) + 0.5) / 16 - 4));
    for (const row of [x, halves, new Float32Array(K)]) {
      new Float32Array(k.memory.buffer, 1024, K).set(row);
      k.quantizeTo(1024, K, 4096, 512);
      const want = quantizeRef(row);
      expect(Array.from(new Int16Array(k.memory.buffer, 4096, K))).toEqual(want.q);
      // Its scale and zero point, kept for projectRows.
      expect([new Float32Array(k.memory.buffer, 512, 1)[0], new Int32Array(k.memory.buffer, 516, 1)[0]]).toEqual([want.scale, want.zp]);
    }
  });

  it('transpose (in chunks of rows), row sums and projectRows of one row: exact int8 sums, less the zero point, scaled', () => {
    const k = kernel();
    const [K, N] = [64, 40];
    const r = rng(11);
    const W = Int8Array.from({ length: K * N }, () => Math.floor(r() * 255) - 127);
    const wscale = Float32Array.from({ length: N }, () => 0.001 + r() * 0.01);
    const x = Float32Array.from({ length: K }, () => r() * 2 - 0.5);
    const [SRC, DST, SCALE, SUMS, ACC, Y, X, X16] = [65536, 131072, 196608, 200704, 204800, 208896, 212992, 217088];
    // Three chunks of rows, as a load passes a big weight through its staging area.
    for (const [k0, kc] of [[0, 24], [24, 24], [48, 16]] as const) {
      new Int8Array(k.memory.buffer, SRC, kc * N).set(W.subarray(k0 * N, (k0 + kc) * N));
      k.transpose(SRC, DST, K, N, k0, kc);
    }
    const Wt = new Int8Array(k.memory.buffer, DST, N * K);
    for (let n = 0; n < N; n++) for (let j = 0; j < K; j++) expect(Wt[n * K + j]).toBe(W[j * N + n]);
    k.rowSums(DST, SUMS, N, K);
    const sums = new Int32Array(k.memory.buffer, SUMS, N);
    for (let n = 0; n < N; n++) expect(sums[n]).toBe(Array.from({ length: K }, (_, j) => W[j * N + n]!).reduce((a, b) => a + b, 0));
    new Float32Array(k.memory.buffer, SCALE, N).set(wscale);
    new Float32Array(k.memory.buffer, X, K).set(x);
    k.quantizeTo(X, K, X16, 1024);
    k.projectRows(DST, X16, SCALE, SUMS, ACC, Y, N, K, 1, 1024);
    const { q, scale, zp } = quantizeRef(x);
    const y = new Float32Array(k.memory.buffer, Y, N);
    const fr = Math.fround;
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let j = 0; j < K; j++) acc += W[j * N + n]! * (q[j]! - zp);
      expect(y[n]).toBe(fr(fr(acc) * fr(scale * wscale[n]!)));
    }
  });

  it('projectRows of a block: each row with its own scale and zero point, the same numbers as that row alone (4-row passes, the rest, an odd N)', () => {
    const k = kernel();
    const r = rng(5);
    for (const [K, N, M] of [[64, 41, 9], [96, 40, 4], [32, 7, 3], [64, 2, 16]] as const) {
      const W = Int8Array.from({ length: K * N }, () => Math.floor(r() * 255) - 127);
      const wscale = Float32Array.from({ length: N }, () => 0.001 + r() * 0.01);
      const [WT, SCALE, SUMS, ACC, Y, X, X16, QP, Y1] = [65536, 131072, 135168, 139264, 159744, 180224, 200704, 221184, 225280];
      new Int8Array(k.memory.buffer, WT, K * N).set(W);
      new Float32Array(k.memory.buffer, SCALE, N).set(wscale);
      k.rowSums(WT, SUMS, N, K);
      // Rows of different ranges: a shared scale would change their numbers.
      const rows = Array.from({ length: M }, (_, m) => Float32Array.from({ length: K }, () => (r() - 0.4) * (m + 1)));
      for (let m = 0; m < M; m++) {
        new Float32Array(k.memory.buffer, X + m * K * 4, K).set(rows[m]!);
        k.quantizeTo(X + m * K * 4, K, X16 + m * K * 2, QP + m * 8);
      }
      k.projectRows(WT, X16, SCALE, SUMS, ACC, Y, N, K, M, QP);
      const block = new Float32Array(k.memory.buffer, Y, M * N).slice();
      const fr = Math.fround;
      for (let m = 0; m < M; m++) {
        const { q, scale, zp } = quantizeRef(rows[m]!);
        for (let n = 0; n < N; n++) {
          let acc = 0;
          for (let j = 0; j < K; j++) acc += W[n * K + j]! * (q[j]! - zp);
          expect(block[m * N + n], `row ${m} of ${M}, output ${n} of ${N}`).toBe(fr(fr(acc) * fr(scale * wscale[n]!)));
        }
        // The row alone gives the same floats, bit for bit.
        k.quantizeTo(X + m * K * 4, K, X16, QP);
        k.projectRows(WT, X16, SCALE, SUMS, ACC, Y1, N, K, 1, QP);
        expect(Array.from(new Float32Array(k.memory.buffer, Y1, N))).toEqual(Array.from(block.subarray(m * N, (m + 1) * N)));
      }
    }
  });

  it("projectRange and attendHeads in two parts (two threads' split) give projectRows' and attend's numbers, bit for bit", () => {
    const k = kernel();
    const r = rng(11);
    const [WT, SCALE, SUMS, ACC, Y, X, X16, QP, Y2] = [65536, 131072, 135168, 139264, 159744, 180224, 200704, 221184, 225280];
    for (const [K, N, M, mid] of [[64, 41, 9, 20], [96, 40, 4, 20], [64, 66, 1, 32], [32, 7, 3, 3], [64, 130, 16, 64]] as const) {
      new Int8Array(k.memory.buffer, WT, K * N).set(Int8Array.from({ length: K * N }, () => Math.floor(r() * 255) - 127));
      new Float32Array(k.memory.buffer, SCALE, N).set(Float32Array.from({ length: N }, () => 0.001 + r() * 0.01));
      k.rowSums(WT, SUMS, N, K);
      for (let m = 0; m < M; m++) {
        new Float32Array(k.memory.buffer, X + m * K * 4, K).set(Float32Array.from({ length: K }, () => (r() - 0.4) * (m + 1)));
        k.quantizeTo(X + m * K * 4, K, X16 + m * K * 2, QP + m * 8);
      }
      k.projectRows(WT, X16, SCALE, SUMS, ACC, Y, N, K, M, QP);
      new Float32Array(k.memory.buffer, Y2, M * N).fill(NaN);
      k.projectRange(WT, X16, SCALE, SUMS, ACC, Y2, N, K, M, QP, mid, N);
      k.projectRange(WT, X16, SCALE, SUMS, ACC, Y2, N, K, M, QP, 0, mid);
      expect(Array.from(new Float32Array(k.memory.buffer, Y2, M * N)), `${K} × ${N}, ${M} rows, split at ${mid}`).toEqual(Array.from(new Float32Array(k.memory.buffer, Y, M * N)));
    }
    // Attention: 9 query heads on 3 KV heads (the 135M shape's grouping), 13 positions, split 4 | 5.
    const [H, KVH, hd, pos] = [9, 3, 16, 12];
    const [Q, KEYS, VALUES, OUT, OUT2, SC, SC2] = [65536, 70000, 80000, 90000, 95000, 100000, 101000];
    new Float32Array(k.memory.buffer, Q, H * hd).set(Float32Array.from({ length: H * hd }, () => r() - 0.5));
    new Float32Array(k.memory.buffer, KEYS, (pos + 1) * KVH * hd).set(Float32Array.from({ length: (pos + 1) * KVH * hd }, () => r() - 0.5));
    new Float32Array(k.memory.buffer, VALUES, (pos + 1) * KVH * hd).set(Float32Array.from({ length: (pos + 1) * KVH * hd }, () => r() - 0.5));
    k.attend(Q, KEYS, VALUES, OUT, SC, pos, H, KVH, hd, 0.25);
    k.attendHeads(Q, KEYS, VALUES, OUT2, SC2, pos, H, KVH, hd, 0.25, 4, H);
    k.attendHeads(Q, KEYS, VALUES, OUT2, SC, pos, H, KVH, hd, 0.25, 0, 4);
    const whole = Array.from(new Float32Array(k.memory.buffer, OUT, H * hd));
    expect(whole.every((v) => Number.isFinite(v) && v !== 0)).toBe(true);
    expect(Array.from(new Float32Array(k.memory.buffer, OUT2, H * hd))).toEqual(whole);
  });

  it("siluMul: the export's Sigmoid → Mul → Mul in f32 (exp in f64, rounded), over any range of elements; quantizeRowsRange: quantizeTo row by row", () => {
    const k = kernel();
    const r = rng(23);
    const n = 100_000;
    const [G, U] = [65536, 65536 + 4 * n];
    const gate = Float32Array.from({ length: n }, (_, i) => (i < 8 ? [0, -0, 88.7, -88.7, 104, -104, 1e-30, -1e-30][i]! : (r() - 0.5) * 40));
    const up = Float32Array.from({ length: n }, () => (r() - 0.5) * 4);
    new Float32Array(k.memory.buffer, G, n).set(gate);
    new Float32Array(k.memory.buffer, U, n).set(up);
    k.siluMul(G, U, 5000, n);
    k.siluMul(G, U, 0, 5000);
    const fr = Math.fround;
    const want = Array.from(gate, (a, i) => fr(fr(a * fr(1 / fr(1 + fr(Math.exp(-a))))) * up[i]!));
    expect(Array.from(new Float32Array(k.memory.buffer, G, n))).toEqual(want);
    // Rows quantized in two ranges = each row by quantizeTo.
    const [K, M, X, X16, QP, X16B, QPB] = [64, 7, 65536, 131072, 135168, 139264, 143360];
    new Float32Array(k.memory.buffer, X, K * M).set(Float32Array.from({ length: K * M }, () => (r() - 0.3) * 3));
    k.quantizeRowsRange(X, K, X16, QP, 3, M);
    k.quantizeRowsRange(X, K, X16, QP, 0, 3);
    for (let m = 0; m < M; m++) k.quantizeTo(X + m * K * 4, K, X16B + m * K * 2, QPB + m * 8);
    expect(Array.from(new Int16Array(k.memory.buffer, X16, K * M))).toEqual(Array.from(new Int16Array(k.memory.buffer, X16B, K * M)));
    expect(Array.from(new Int32Array(k.memory.buffer, QP, 2 * M))).toEqual(Array.from(new Int32Array(k.memory.buffer, QPB, 2 * M)));
  });

  it('rmsNorm: x / sqrt(mean(x²) + eps) · w in f32', () => {
    const k = kernel();
    const n = 64;
    const r = rng(3);
    const x = Float32Array.from({ length: n }, () => r() * 4 - 2);
    const w = Float32Array.from({ length: n }, () => r());
    new Float32Array(k.memory.buffer, 1024, n).set(x);
    new Float32Array(k.memory.buffer, 2048, n).set(w);
    k.rmsNorm(1024, 2048, 4096, n, 1e-5);
    const fr = Math.fround;
    let s = 0;
    for (const v of x) s = fr(s + fr(v * v));
    const inv = fr(1 / fr(Math.sqrt(fr(fr(s / n) + fr(1e-5)))));
    expect(Array.from(new Float32Array(k.memory.buffer, 4096, n))).toEqual(Array.from(x, (v, i) => fr(fr(v * inv) * w[i]!)));
  });

  it('the committed module is what tools/wasm/int8-step.ts compiles to (run `npm run wasm:build` after editing it)', async () => {
    const wasm: Uint8Array = await compile('int8-step.ts');
    expect(moduleText(wasm, 'int8-step.ts')).toContain(INT8_STEP_WASM);
    // The shared build for a second thread, from the same source.
    const shared: Uint8Array = await compile('int8-step.ts', 'simd,threads', SHARED);
    expect(moduleText(shared, 'int8-step.ts', true)).toContain(INT8_STEP_SHARED_WASM);
    expect(WebAssembly.Module.imports(new WebAssembly.Module(base64ToBytes(INT8_STEP_SHARED_WASM)))).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
  });
});
