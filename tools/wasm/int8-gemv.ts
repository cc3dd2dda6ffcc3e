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
 * - gemvS16: 128-bit SIMD as ONNX Runtime Web's shipped build has it: the weights widened to int16, the
 *   activation read pre-widened (x16, int16 [K]), `i32x4.dot_i16x8_s` (8 products an instruction).
 * - gemvRelaxed: relaxed SIMD's `i32x4.relaxed_dot_i8x16_i7x16_add_s` (16 products an instruction, VNNI's
 *   vpdpbusd where the CPU has it). Its second operand is exact only in 0..127, so the activation is read
 *   split, a = lo + 128·hi (lo = a & 127, hi = a >> 7): two dots, still exact.
 * - gemvRelaxed7: one dot on a 7-bit activation (lo only): what a kernel gets that quantizes activations to
 *   7 bits; not exact against an 8-bit MatMulInteger.
 * - stream: the same bytes read and summed, no products: the memory floor of a step.
 */

@inline function hsum(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

@inline function dot16(acc: v128, w: v128, x: v128): v128 {
  return i32x4.add(acc, i32x4.dot_i16x8_s(w, x));
}

export function gemvS16(w: usize, x16: usize, out: usize, N: i32, K: i32): void {
  const k = <usize>K;
  for (let n: i32 = 0; n < N; n++) {
    const r = w + <usize>n * k;
    let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
    for (let j: usize = 0; j < k; j += 32) {
      const v0 = v128.load(r + j), v1 = v128.load(r + j + 16), x = x16 + j * 2;
      a0 = dot16(a0, i16x8.extend_low_i8x16_s(v0), v128.load(x));
      a1 = dot16(a1, i16x8.extend_high_i8x16_s(v0), v128.load(x, 16));
      a2 = dot16(a2, i16x8.extend_low_i8x16_s(v1), v128.load(x, 32));
      a3 = dot16(a3, i16x8.extend_high_i8x16_s(v1), v128.load(x, 48));
    }
    store<i32>(out + (<usize>n << 2), hsum(i32x4.add(i32x4.add(a0, a1), i32x4.add(a2, a3))));
  }
}

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

/**
 * Grouped-query attention of one new position for the own-step probe (scripts/bench/own-step.mjs), f32: for each
 * of H query heads (head h reads KV head h ÷ (H ÷ KVH)), scores q·k × scale over positions 0..pos, softmax, and
 * the weighted sum of the values into out [H·hd]. keys/values: [pos+1][KVH·hd] rows; scores: pos+1 floats of
 * scratch; hd a multiple of 4. Measured (2026-12-04, 135M q8, 120 tokens): in scalar JavaScript the attention
 * grew to half of a step by position 126 (the step's GEMV share 0.48, own ÷ native 0.85 over the run).
 */
export function attend(q: usize, keys: usize, values: usize, out: usize, scores: usize, pos: i32, H: i32, KVH: i32, hd: i32, scale: f32): void {
  const rep = H / KVH, row = <usize>(KVH * hd) << 2, n = <usize>hd << 2;
  for (let h = 0; h < H; h++) {
    const qp = q + <usize>(h * hd) * 4, kv = <usize>((h / rep) * hd) << 2, op = out + <usize>(h * hd) * 4;
    let top: f32 = -Infinity;
    for (let s = 0; s <= pos; s++) {
      const kp = keys + <usize>s * row + kv;
      let acc = f32x4.splat(0);
      for (let i: usize = 0; i < n; i += 16) acc = f32x4.add(acc, f32x4.mul(v128.load(qp + i), v128.load(kp + i)));
      const sc = ((f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3))) * scale;
      store<f32>(scores + (<usize>s << 2), sc);
      if (sc > top) top = sc;
    }
    let sum: f32 = 0;
    for (let s = 0; s <= pos; s++) {
      const e = Mathf.exp(load<f32>(scores + (<usize>s << 2)) - top);
      store<f32>(scores + (<usize>s << 2), e);
      sum += e;
    }
    for (let i: usize = 0; i < n; i += 16) v128.store(op + i, f32x4.splat(0));
    for (let s = 0; s <= pos; s++) {
      const w = f32x4.splat(load<f32>(scores + (<usize>s << 2)) / sum), vp = values + <usize>s * row + kv;
      for (let i: usize = 0; i < n; i += 16) v128.store(op + i, f32x4.add(v128.load(op + i), f32x4.mul(w, v128.load(vp + i))));
    }
  }
}
