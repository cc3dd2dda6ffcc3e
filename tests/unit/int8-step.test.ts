// The int8 step's kernels (tools/wasm/int8-step.ts, shipped as src/inference/int8-step.wasm.ts) one by one
// against plain definitions: ONNX's DynamicQuantizeLinear (round half to even, the range widened to hold 0),
// the exact int8 products less the zero point's share, the weight transpose in chunks of rows, RMSNorm.
import { describe, expect, it } from 'vitest';
import { base64ToBytes } from '../../src/lib/base64';
import { INT8_STEP_WASM } from '../../src/inference/int8-step.wasm';
import { INT8_STEP_SHARED_WASM } from '../../src/inference/int8-step-shared.wasm';
import type { Int8StepKernel } from '../../src/inference/int8-session';
import { INT8_STEP_RELAXED_WASM } from '../../src/inference/int8-step-relaxed.wasm';
import { INT8_STEP_RELAXED_SHARED_WASM } from '../../src/inference/int8-step-relaxed-shared.wasm';
import { relaxedVerdict } from '../../src/inference/int8-kernel';
import { compile, moduleText, targetOptions, TARGETS } from '../../tools/wasm/build.mjs';
import { relaxedAgreement } from '../relaxed-check';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

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
  it('quantize: DynamicQuantizeLinear exactly, ties to even included (16 values a pass, and a tail)', () => {
    const k = kernel();
    const r = rng(7);
    for (const K of [96, 100, 8]) {
      const x = Float32Array.from({ length: K }, () => (r() - 0.3) * 4);
      // Values on exact half steps of the scale: (hi − lo) = 255 · 2^-4, so v / scale = m + 0.5 exactly.
      const halves = Float32Array.from({ length: K }, (_, i) => (i === 0 ? -8 : i === 1 ? 255 / 16 - 8 : ((i % 50) + 0.5) / 16 - 4));
      // The range's ends in the tail only.
      const tail = Float32Array.from({ length: K }, (_, i) => (i === K - 1 ? 7 : i === K - 2 ? -3 : (r() - 0.5) * 2));
      for (const row of [x, halves, tail, new Float32Array(K)]) {
        new Float32Array(k.memory.buffer, 1024, K).set(row);
        k.quantizeTo(1024, K, 4096, 512);
        const want = quantizeRef(row);
        expect(Array.from(new Int16Array(k.memory.buffer, 4096, K)), `K ${K}`).toEqual(want.q);
        // Its scale and zero point, kept for projectRows.
        expect([new Float32Array(k.memory.buffer, 512, 1)[0], new Int32Array(k.memory.buffer, 516, 1)[0]]).toEqual([want.scale, want.zp]);
      }
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

  it("projectRange in two parts (two threads' split) gives projectRows' numbers, bit for bit", () => {
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
  });

  it('attendUnits: softmax attention within 2e-6 of float64, a block of rows = each row alone = any split of its (row, head) pairs, bit for bit', () => {
    const k = kernel();
    const r = rng(17);
    // 9 query heads on 3 KV heads (the 135M shape's grouping) at hd 64 (the 64-float path) and 20 (the 4-float one);
    // blocks ending at positions that are and are not a multiple of four.
    for (const [H, KVH, hd, pos0, M] of [[9, 3, 64, 0, 5], [9, 3, 64, 11, 16], [14, 2, 64, 29, 3], [4, 2, 20, 6, 7]] as const) {
      const P = pos0 + M, row = KVH * hd;
      const [Q, KEYS, VALUES, OUT, OUT2, OUT3, SC, SC2] = [65536, 200000, 400000, 600000, 700000, 800000, 900000, 950000];
      const q = Float32Array.from({ length: M * H * hd }, () => (r() - 0.5) * 2);
      const keys = Float32Array.from({ length: P * row }, () => (r() - 0.5) * 2);
      const values = Float32Array.from({ length: P * row }, () => r() - 0.5);
      new Float32Array(k.memory.buffer, Q, q.length).set(q);
      new Float32Array(k.memory.buffer, KEYS, keys.length).set(keys);
      new Float32Array(k.memory.buffer, VALUES, values.length).set(values);
      const scale = 1 / Math.sqrt(hd);
      k.attendUnits(Q, KEYS, VALUES, OUT, SC, pos0, H, KVH, hd, scale, 0, M * H);
      const whole = Array.from(new Float32Array(k.memory.buffer, OUT, M * H * hd));
      for (let m = 0; m < M; m++)
        for (let h = 0; h < H; h++) {
          const kv = Math.floor(h / (H / KVH)) * hd, qo = (m * H + h) * hd;
          const sc = Array.from({ length: pos0 + m + 1 }, (_, t) => { let d = 0; for (let i = 0; i < hd; i++) d += q[qo + i]! * keys[t * row + kv + i]!; return d * scale; });
          const top = Math.max(...sc), e = sc.map((v) => Math.exp(v - top)), sum = e.reduce((x, y) => x + y, 0);
          for (let i = 0; i < hd; i++) {
            let want = 0;
            for (let t = 0; t < e.length; t++) want += (e[t]! / sum) * values[t * row + kv + i]!;
            expect(Math.abs(whole[qo + i]! - want), `row ${m} head ${h} [${i}]`).toBeLessThan(2e-6);
          }
        }
      // Split where two threads would (any point), each part with its own scores: the same numbers.
      for (const mid of [1, Math.floor((M * H) / 2), M * H - 1]) {
        new Float32Array(k.memory.buffer, OUT2, M * H * hd).fill(NaN);
        k.attendUnits(Q, KEYS, VALUES, OUT2, SC2, pos0, H, KVH, hd, scale, mid, M * H);
        k.attendUnits(Q, KEYS, VALUES, OUT2, SC, pos0, H, KVH, hd, scale, 0, mid);
        expect(Array.from(new Float32Array(k.memory.buffer, OUT2, M * H * hd)), `split at ${mid}`).toEqual(whole);
      }
      // Each row alone (a token at a time): `attend` at its position gives its rows' numbers.
      for (let m = 0; m < M; m++) {
        k.attend(Q + m * H * hd * 4, KEYS, VALUES, OUT3, SC, pos0 + m, H, KVH, hd, scale);
        expect(Array.from(new Float32Array(k.memory.buffer, OUT3, H * hd)), `row ${m} alone`).toEqual(whole.slice(m * H * hd, (m + 1) * H * hd));
      }
    }
  });

  it("siluMul: the export's Sigmoid → Mul → Mul within 1e-6 of float64, over any range of elements; addRange: f32 sums; quantizeRowsRange: quantizeTo row by row", () => {
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
    const got = new Float32Array(k.memory.buffer, G, n);
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const want = (gate[i]! / (1 + Math.exp(-gate[i]!))) * up[i]!;
      // Relative, with an absolute floor for the products that underflow (a gate of -104: ~1e-43).
      worst = Math.max(worst, Math.abs(got[i]! - want) / (Math.abs(want) + 1e-30));
    }
    expect(worst, 'largest relative error').toBeLessThan(1e-6);
    // The residual adds: each an f32 sum, in two ranges (one with a tail of 3).
    const [A, B] = [65536 + 8 * n, 65536 + 12 * n];
    const xa = Float32Array.from({ length: 1003 }, () => (r() - 0.5) * 10), xb = Float32Array.from({ length: 1003 }, () => (r() - 0.5) * 1e-3);
    new Float32Array(k.memory.buffer, A, 1003).set(xa);
    new Float32Array(k.memory.buffer, B, 1003).set(xb);
    k.addRange(A, B, 500, 1003);
    k.addRange(A, B, 0, 500);
    expect(Array.from(new Float32Array(k.memory.buffer, A, 1003))).toEqual(Array.from(xa, (v, i) => Math.fround(v + xb[i]!)));
    // Rows quantized in two ranges = each row by quantizeTo.
    const [K, M, X, X16, QP, X16B, QPB] = [64, 7, 65536, 131072, 135168, 139264, 143360];
    new Float32Array(k.memory.buffer, X, K * M).set(Float32Array.from({ length: K * M }, () => (r() - 0.3) * 3));
    k.quantizeRowsRange(X, K, X16, QP, 3, M);
    k.quantizeRowsRange(X, K, X16, QP, 0, 3);
    for (let m = 0; m < M; m++) k.quantizeTo(X + m * K * 4, K, X16B + m * K * 2, QPB + m * 8);
    expect(Array.from(new Int16Array(k.memory.buffer, X16, K * M))).toEqual(Array.from(new Int16Array(k.memory.buffer, X16B, K * M)));
    expect(Array.from(new Int32Array(k.memory.buffer, QP, 2 * M))).toEqual(Array.from(new Int32Array(k.memory.buffer, QPB, 2 * M)));
  });

  it('rmsNorm: x / sqrt(mean(x²) + eps) · w in f32, the squares summed in four lanes; rmsNormRows: row by row', () => {
    const k = kernel();
    const n = 64;
    const r = rng(3);
    const fr = Math.fround;
    const w = Float32Array.from({ length: n }, () => r());
    new Float32Array(k.memory.buffer, 2048, n).set(w);
    const want = (x: Float32Array) => {
      const lane = [0, 0, 0, 0];
      for (let i = 0; i < n; i++) lane[i % 4] = fr(lane[i % 4]! + fr(x[i]! * x[i]!));
      const s = fr(fr(lane[0]! + lane[2]!) + fr(lane[1]! + lane[3]!));
      const inv = fr(1 / fr(Math.sqrt(fr(fr(s / n) + fr(1e-5)))));
      return Array.from(x, (v, i) => fr(fr(v * inv) * w[i]!));
    };
    const rows = Array.from({ length: 5 }, (_, m) => Float32Array.from({ length: n }, () => (r() * 4 - 2) * (m + 1)));
    rows.forEach((x, m) => new Float32Array(k.memory.buffer, 8192 + m * n * 4, n).set(x));
    k.rmsNorm(8192, 2048, 4096, n, 1e-5);
    expect(Array.from(new Float32Array(k.memory.buffer, 4096, n))).toEqual(want(rows[0]!));
    k.rmsNormRows(8192, 2048, 16384, n, 1e-5, 2, 5);
    k.rmsNormRows(8192, 2048, 16384, n, 1e-5, 0, 2);
    rows.forEach((x, m) => expect(Array.from(new Float32Array(k.memory.buffer, 16384 + m * n * 4, n)), `row ${m}`).toEqual(want(x)));
  });

  it("ropeRows: the export's rotate_half, a·c − b·s and b·c + a·s with each product and sum rounded to f32, on M rows of several heads", () => {
    const k = kernel();
    const r = rng(29);
    const fr = Math.fround;
    for (const [heads, hd, stride, M] of [[9, 64, 576, 3], [3, 64, 200, 2], [4, 32, 128, 5]] as const) {
      const half = hd / 2;
      const x = Float32Array.from({ length: M * stride }, () => (r() - 0.5) * 6);
      const cos = Float32Array.from({ length: M * half }, () => Math.cos(r() * 7));
      const sin = Float32Array.from({ length: M * half }, () => Math.sin(r() * 7));
      const [X, C, S] = [65536, 65536 + 4 * M * stride, 65536 + 4 * M * stride + 4 * M * half];
      new Float32Array(k.memory.buffer, X, x.length).set(x);
      new Float32Array(k.memory.buffer, C, cos.length).set(cos);
      new Float32Array(k.memory.buffer, S, sin.length).set(sin);
      k.ropeRows(X, stride, heads, hd, C, S, M);
      const want = Float32Array.from(x);
      for (let m = 0; m < M; m++)
        for (let h = 0; h < heads; h++)
          for (let j = 0; j < half; j++) {
            const o = m * stride + h * hd, a = x[o + j]!, b = x[o + j + half]!, c = cos[m * half + j]!, s = sin[m * half + j]!;
            want[o + j] = fr(a * c) - fr(b * s);
            want[o + j + half] = fr(b * c) + fr(a * s);
          }
      // Past the heads in each row: untouched.
      expect(Array.from(new Float32Array(k.memory.buffer, X, x.length)), `${heads} heads of ${hd}, ${M} rows`).toEqual(Array.from(want));
    }
  });

  it('the committed modules are what tools/wasm/int8-step.ts compiles to, plain and relaxed, own and shared memory (run `npm run wasm:build` after editing it)', async () => {
    const built = { INT8_STEP_WASM, INT8_STEP_SHARED_WASM, INT8_STEP_RELAXED_WASM, INT8_STEP_RELAXED_SHARED_WASM };
    const targets = TARGETS.filter((t) => t.source === 'int8-step.ts');
    expect(targets.map((t) => t.constant).sort()).toEqual(Object.keys(built).sort());
    for (const t of targets) {
      const { features, extra } = targetOptions(t);
      const wasm: Uint8Array = await compile('int8-step.ts', features, extra);
      const b64 = built[t.constant as keyof typeof built];
      expect(moduleText(wasm, 'int8-step.ts', t.shared ?? false, t.relaxed ?? false), t.constant).toContain(b64);
      // A shared build imports its memory and nothing else; the others import nothing (read where this Node compiles it).
      const bytes = base64ToBytes(b64);
      if (t.relaxed && !WebAssembly.validate(bytes)) continue;
      expect(WebAssembly.Module.imports(new WebAssembly.Module(bytes)), t.constant).toEqual(t.shared ? [{ module: 'env', name: 'memory', kind: 'memory' }] : []);
    }
  });

  it("relaxed SIMD's int8 dot: the plain build never claims it; where this Node validates the relaxed build, dotExact agrees with its sums; a Node started with the flag (Node 20: wrong sums) agrees too", () => {
    expect(kernel().dotExact()).toBe(0);
    const v = relaxedVerdict();
    if (WebAssembly.validate(base64ToBytes(INT8_STEP_RELAXED_WASM))) {
      const got = relaxedAgreement({ relaxed: INT8_STEP_RELAXED_WASM, plain: INT8_STEP_WASM });
      expect(got.equalLow).toBe(true);
      expect(got.dotExact === 1).toBe(got.equal);
      expect(v.build).toBe(got.equal ? 'relaxed' : 'simd');
    } else expect(v).toEqual({ build: 'simd', note: 'this browser has no relaxed SIMD' });
    // The same check in a Node that compiles relaxed SIMD (Node 20: behind a flag, with V8's pmaddubsw lowering).
    const check = fileURLToPath(new URL('../relaxed-check.ts', import.meta.url));
    const script = `import { relaxedAgreement } from ${JSON.stringify(check)}; console.log(JSON.stringify(relaxedAgreement(${JSON.stringify({ relaxed: INT8_STEP_RELAXED_WASM, plain: INT8_STEP_WASM })})));`;
    const out = JSON.parse(execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' })) as ReturnType<typeof relaxedAgreement>;
    // (Node 20's draft-era lowering is wrong even on 0..127, so `equalLow` is not asked of it: dotExact must still say no.)
    expect(out.dotExact === 1, `dotExact ${out.dotExact}, sums equal ${out.equal}`).toBe(out.equal);
  });
});
