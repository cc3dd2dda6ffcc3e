/**
 * AssemblyScript source of the benchmark's int8 GEMV probe (scripts/bench/relaxed-simd.mjs says what it
 * measures and why; tests/e2e/bench-kernel.test.ts checks every variant against exact integer sums in Chromium).
 *
 * out[n] = Σ_k w[n][k] · a[k], exactly, in int32: w int8 [N][K] row-major (a decode step's weight, K
 * contiguous), a uint8 [K] (DynamicQuantizeLinear's activation, as MatMulInteger takes it). K a multiple of 32.
 * One row at a time, 32 bytes an iteration into four accumulators: measured (2026-12-04, the 135M shape's step,
 * one thread) 5.8 ms against 10.5-11.3 for four rows a pass sharing each activation load (four weight
 * streams at once, and 8 accumulators for the relaxed build), whose loads the CPU could not keep up with.
 *
 * - gemvS16 (int8-step.ts's plain-build GEMV, `gemvWide`, re-exported; the app's relaxed build runs one dot on 8-bit activations where exact): 128-bit SIMD as ONNX Runtime Web's shipped build has it: the weights widened to int16, the
 *   activation read pre-widened (x16, int16 [K]), `i32x4.dot_i16x8_s` (8 products an instruction).
 * - gemvRelaxed: relaxed SIMD's `i32x4.relaxed_dot_i8x16_i7x16_add_s` (16 products an instruction, VNNI's
 *   vpdpbusd where the CPU has it). Its second operand is exact only in 0..127, so the activation is read
 *   split, a = lo + 128·hi (lo = a & 127, hi = a >> 7): two dots, still exact.
 * - gemvRelaxed7: one dot on a 7-bit activation (lo only): what a kernel gets that quantizes activations to
 *   7 bits; not exact against an 8-bit MatMulInteger.
 * - stream: the same bytes read and summed, no products: the memory floor of a step.
 */

import { hsum } from './int8-step';
export { gemvWide as gemvS16, attend } from './int8-step';

export function gemvRelaxed(w: usize, lo: usize, hi: usize, out: usize, N: i32, K: i32): void {
  const k = <usize>K;
  for (let n: i32 = 0; n < N; n++) {
    const r = w + <usize>n * k;
    let a0 = i32x4.splat(0), a1 = a0, b0 = a0, b1 = a0;
    for (let j: usize = 0; j < k; j += 32) {
      const v0 = v128.load(r + j), v1 = v128.load(r + j + 16);
      a0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v0, v128.load(lo + j), a0);
      b0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v0, v128.load(hi + j), b0);
      a1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v1, v128.load(lo + j, 16), a1);
      b1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v1, v128.load(hi + j, 16), b1);
    }
    store<i32>(out + (<usize>n << 2), hsum(i32x4.add(a0, a1)) + (hsum(i32x4.add(b0, b1)) << 7));
  }
}

export function gemvRelaxed7(w: usize, lo: usize, out: usize, N: i32, K: i32): void {
  const k = <usize>K;
  for (let n: i32 = 0; n < N; n++) {
    const r = w + <usize>n * k;
    let a0 = i32x4.splat(0), a1 = a0;
    for (let j: usize = 0; j < k; j += 32) {
      a0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(r + j), v128.load(lo + j), a0);
      a1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(r + j + 16), v128.load(lo + j, 16), a1);
    }
    store<i32>(out + (<usize>n << 2), hsum(i32x4.add(a0, a1)));
  }
}

/** The N·K bytes at w summed as i32 lanes (a result, so that the reads are kept): the step's memory floor. */
export function stream(w: usize, bytes: usize): i32 {
  let a = i32x4.splat(0), b = a, c = a, d = a;
  for (let j: usize = 0; j < bytes; j += 64) {
    a = i32x4.add(a, v128.load(w + j));
    b = i32x4.add(b, v128.load(w + j, 16));
    c = i32x4.add(c, v128.load(w + j, 32));
    d = i32x4.add(d, v128.load(w + j, 48));
  }
  return hsum(i32x4.add(i32x4.add(a, b), i32x4.add(c, d)));
}
