import { describe, expect, it } from 'vitest';
import { dequantize } from '../../src/inference/q4-dequant';
import { createInt8Quantizer } from '../../src/inference/q4-int8';
import { Q4_INT8_WASM } from '../../src/inference/q4-int8.wasm';
import { pack } from './q4-fixtures';
import { compile, moduleText } from '../../tools/wasm/build.mjs';

const code = (k: number, n: number) => (k * 7 + n * 3) % 16;
const zp = (n: number, b: number) => (n + 2 * b + 5) % 16;
const scale = (n: number, b: number) => 0.01 * (1 + n) + 0.001 * b;

/** The int8 quantizer's definition, one weight at a time (Math.round, clamp), with nothing of its speed-ups. */
function plainInt8(K: number, N: number, bs: number, c: (k: number, n: number) => number, z: ((n: number, b: number) => number) | null, sc: (n: number, b: number) => number) {
  const Wq = new Int8Array(K * N);
  const s = new Float32Array(N);
  for (let n = 0; n < N; n++) {
    const v = (k: number) => (c(k, n) - (z ? z(n, Math.floor(k / bs)) : 8)) * Math.fround(sc(n, Math.floor(k / bs)));
    let amax = 0;
    for (let k = 0; k < K; k++) amax = Math.max(amax, Math.abs(v(k)));
    s[n] = amax > 0 ? Math.fround(amax / 127) : 1;
    for (let k = 0; k < K; k++) Wq[k * N + n] = Math.max(-127, Math.min(127, Math.round(Math.fround(v(k)) / s[n]!)));
  }
  return { Wq, s };
}

/** Random codes, zero points and scales (a fixed seed per shape). */
function randomWeights(K: number, N: number, bs: number) {
  const nb = Math.ceil(K / bs);
  let x = K * 7919 + N + bs;
  const rnd = () => (x = (x * 1103515245 + 12345) >>> 0) >>> 16;
  const codes = Array.from({ length: K * N }, () => rnd() % 16);
  const zps = Array.from({ length: N * nb }, () => rnd() % 16);
  const scs = Array.from({ length: N * nb }, () => (1 + (rnd() % 997)) / 3e4);
  return { c: (k: number, n: number) => codes[k * N + n]!, z: (n: number, b: number) => zps[n * nb + b]!, sc: (n: number, b: number) => scs[n * nb + b]! };
}

describe('q4 → int8 in WebAssembly', () => {
  it.each([40, 41])('K = %i: one symmetric scale per output column, every weight within half a step, the largest at ±127', (K) => {
    const N = 70, bs = 16;
    const { B, scales, zps } = pack(K, N, bs, code, zp, scale);
    const p = { K, N, blockSize: bs, scales, zeroPoints: zps, b: { data: B } };
    const W = dequantize(p);
    const Wq = new Int8Array(3 + K * N).fill(99);
    const s = new Float32Array(N);
    createInt8Quantizer()(p, Wq, 3, s);
    expect([...Wq.subarray(0, 3)]).toEqual([99, 99, 99]);
    for (let n = 0; n < N; n++) {
      let amax = 0;
      for (let k = 0; k < K; k++) amax = Math.max(amax, Math.abs(W[k * N + n]!));
      expect(s[n]).toBeCloseTo(amax / 127, 7);
      let top = 0;
      for (let k = 0; k < K; k++) {
        const q = Wq[3 + k * N + n]!;
        expect(Math.abs(q * s[n]! - W[k * N + n]!)).toBeLessThanOrEqual(s[n]! / 2 + 1e-6);
        top = Math.max(top, Math.abs(q));
      }
      expect(top).toBe(127);
    }
  });

  it.each([
    [64, 128, 32, 0, true, undefined], // whole groups of 16 columns
    [96, 132, 32, 4, true, undefined], // a last call with 4 real columns of 16
    [41, 70, 16, 3, true, undefined], // unaligned destination, odd K (a partial last block), 3 blocks a column
    [48, 64, 16, 0, false, undefined], // no zero points (8)
    [1024, 40, 32, 0, true, undefined], // 32 blocks a column: two whole groups of 16
    [640, 48, 64, 0, true, undefined], // block 64: two 16-byte chunks a block; 10 blocks (a partial group)
    [512, 36, 128, 1, true, undefined], // block 128
    [96, 300, 32, 0, true, 16 * 1024], // a budget of 16 kB: 80 columns a call, 4 calls, the last of 60
  ])('K %i, N %i, block %i, at %i, zero points %s, budget %s: the plain per-weight definition byte for byte', (K, N, bs, at, withZp, budget) => {
    const { c, z, sc } = randomWeights(K, N, bs);
    const { B, scales, zps: packedZps } = pack(K, N, bs, c, withZp ? z : () => 0, sc);
    const Wq = new Int8Array(at + K * N + 5).fill(99);
    const s = new Float32Array(N);
    createInt8Quantizer(budget)({ K, N, blockSize: bs, scales, zeroPoints: withZp ? packedZps : null, b: { data: B } }, Wq, at, s);
    const ref = plainInt8(K, N, bs, c, withZp ? z : null, sc);
    expect([...Wq.subarray(0, at)]).toEqual(new Array(at).fill(99));
    expect([...Wq.subarray(at + K * N)]).toEqual(new Array(5).fill(99));
    expect([...Wq.subarray(at, at + K * N)]).toEqual([...ref.Wq]);
    expect([...s]).toEqual([...ref.s]);
  });

  it('exact half-integer quotients round up, as Math.round does (2.5 → 3, −2.5 → −2, −126.5 → −126)', () => {
    // Block 0 (code 0, zero point 8, scale 127 × s / 8) makes the column's largest |W| exactly 127 × s,
    // so its scale is s. Column 0: s = 1, block 1's scale 0.5, so W = (code − 8) / 2, every odd code a tie.
    // Columns 1–15: s = 75/256, block 1 all code 7 with scale 126.5 × s: W / s = −126.5, a tie
    // that 1/s in f64 alone (no 2^-30) would round to −127 (found by search; most s do not).
    const K = 32, N = 16, bs = 16;
    const s1 = 75 / 256;
    const c = (k: number, n: number) => (k < 16 ? 0 : n === 0 ? k - 16 : 7);
    const sc = (n: number, b: number) => (n === 0 ? (b === 0 ? 127 / 8 : 0.5) : b === 0 ? (127 * s1) / 8 : 126.5 * s1);
    const { B, scales, zps } = pack(K, N, bs, c, () => 8, sc);
    const Wq = new Int8Array(K * N);
    const s = new Float32Array(N);
    createInt8Quantizer()({ K, N, blockSize: bs, scales, zeroPoints: zps, b: { data: B } }, Wq, 0, s);
    expect([s[0], s[1]]).toEqual([1, s1]);
    const column0 = Array.from({ length: 16 }, (_, j) => Wq[(16 + j) * N]);
    expect(column0).toEqual([-4, -3, -3, -2, -2, -1, -1, 0, 0, 1, 1, 2, 2, 3, 3, 4]);
    expect(column0).toEqual(Array.from({ length: 16 }, (_, j) => Math.round((j - 8) / 2) || 0));
    expect([Wq[1], Wq[16 * N + 1], Wq[31 * N + 15]]).toEqual([-127, -126, -126]);
    expect(Wq.subarray(0, K * N)).toEqual(plainInt8(K, N, bs, c, () => 8, sc).Wq);
  });

  it("a column's scale reads only its own blocks: not the padding past K, not a NaN in the next column's scales", () => {
    const K = 40, N = 2, bs = 16; // 3 blocks, the last with 8 codes of 16
    // Every real code is 9 (|code − 8| = 1); the padding (code 0 from pack) would give 8.
    const { B, scales, zps } = pack(K, N, bs, () => 9, () => 8, (n) => (n === 0 ? 0.5 : Number.NaN));
    const Wq = new Int8Array(K * N);
    const s = new Float32Array(N);
    createInt8Quantizer()({ K, N, blockSize: bs, scales, zeroPoints: zps, b: { data: B } }, Wq, 0, s);
    expect(s[0]).toBe(Math.fround(0.5 / 127));
    expect(Array.from({ length: K }, (_, k) => Wq[k * N])).toEqual(new Array(K).fill(127));
  });

  it('refuses a block size the kernel does not take, saying which', () => {
    const p = { K: 24, N: 16, blockSize: 24, scales: new Float32Array(16), zeroPoints: null, b: { data: new Uint8Array(16 * 12) } };
    expect(() => createInt8Quantizer()(p, new Int8Array(24 * 16), 0, new Float32Array(16))).toThrow(/block size 24 is not a power of two/);
  });

  it('the committed module is what tools/wasm/q4-int8.ts compiles to (run `npm run wasm:build` after editing it)', async () => {
    const wasm: Uint8Array = await compile();
    expect(moduleText(wasm)).toContain(Q4_INT8_WASM);
    expect(Buffer.from(Q4_INT8_WASM, 'base64').equals(Buffer.from(wasm))).toBe(true);
  }, 60_000);
});
