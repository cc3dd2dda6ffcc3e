/**
 * AssemblyScript source of the app's int8 decode step (src/inference/int8-session.ts), compiled into
 * src/inference/int8-step.wasm.ts by `npm run wasm:build` (tests/unit/int8-step.test.ts checks the two agree).
 * Built twice over (build.mjs): plain 128-bit SIMD, which every browser with WebAssembly SIMD runs, and with relaxed
 * SIMD (`ASC_FEATURE_RELAXED_SIMD` below), whose `i32x4.relaxed_dot_i8x16_i7x16_add_s` is one AVX-VNNI `vpdpbusd`
 * (16 products and the add) in V8 on x86-64 CPUs that have it. That build feeds the 8-bit activations (0..255) into
 * the instruction's 7-bit operand, which the relaxed-SIMD spec leaves implementation-defined above 127: exact where
 * the engine multiplies them as unsigned bytes without saturating (VNNI does; V8's pmaddubsw fallback saturates;
 * ARM's sdot reads them signed), so the step uses it only where `dotExact` proves it (int8-session.ts). Measured
 * (2026-12-04, Chromium 156, AVX-VNNI, one thread): the prompt GEMM 94 G products a second against 31 plain.
 *
 * Why a kernel of our own (measured, docs/performance.md "The int8 kernels"): ONNX Runtime Web's WASM QGEMM has
 * no packed-B path, so every MatMulInteger run widens and interleaves the whole weight matrix again; at one
 * token a run that is as much work as the multiply. On the 135M shape's step (one thread, 2026-12-04) its int8
 * matmuls took 27-28 ms against 5.7-7.6 ms for `gemvS16` below on the same bytes and instruction set.
 *
 * The arithmetic is ONNX's DynamicQuantizeLinear → MatMulInteger → Cast → Mul, as the exporter's graph runs it:
 * - `quantize`: one scale and zero point for the row (its range widened to hold 0), each value
 *   nearest(x ÷ scale) + zero point (f32 nearest: round half to even, as ONNX does), clamped to 0..255;
 * - `gemvS16`: out[n] = Σ_k w[n][k] · a[k] exactly in int32 (w int8 [N][K], the weight transposed so each
 *   output's K bytes are contiguous; a the quantized row pre-widened to int16). K a multiple of 32;
 * - `project`: the two above's result as f32: (Σ − zp · rowsum[n]) · (scale · wscale[n]).
 */

// The f32 parts of a block (SiLU, the residual adds, rotary, RMSNorm, attention) live in int8-step-f32.ts.
export { siluMul, addRange, ropeRows, rmsNorm, rmsNormRows, attend, attendUnits } from './int8-step-f32';

/** The last `quantize`'s scale and zero point (read by `project`). */
let qScale: f32 = 1;
let qZero: i32 = 0;

/**
 * The activations' layout: plain, int16 [K] (widened once, for `i32x4.dot_i16x8_s`); relaxed, the bytes [K] at the
 * start of the same K int16 slot (the step's JavaScript lays out rows alike for both).
 */
export function quantize(x: usize, K: i32, x16: usize): void {
  // Four lanes at a time (the same min, max, division and rounding as one at a time, so the same bytes): measured
  // (2026-12-04, Node, 135M shape, 280-token prompt) the scalar loop took 83-134 ms of a 1.37 s prompt.
  const k4 = K & ~15;
  let lo4 = f32x4.splat(0), hi4 = lo4;
  for (let i = 0; i < k4; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    lo4 = f32x4.min(lo4, v);
    hi4 = f32x4.max(hi4, v);
  }
  let lo = min(min(f32x4.extract_lane(lo4, 0), f32x4.extract_lane(lo4, 1)), min(f32x4.extract_lane(lo4, 2), f32x4.extract_lane(lo4, 3)));
  let hi = max(max(f32x4.extract_lane(hi4, 0), f32x4.extract_lane(hi4, 1)), max(f32x4.extract_lane(hi4, 2), f32x4.extract_lane(hi4, 3)));
  for (let i = k4; i < K; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const scale: f32 = hi == lo ? 1 : (hi - lo) / 255;
  const zp = <i32>min<f32>(255, max<f32>(0, nearest<f32>(0 - lo / scale)));
  const sv = f32x4.splat(scale), zv = i32x4.splat(zp);
  for (let i = 0; i < k4; i += 16) {
    const p = x + (<usize>i << 2);
    const w0 = i16x8.narrow_i32x4_s(quantize4(v128.load(p), sv, zv), quantize4(v128.load(p, 16), sv, zv));
    const w1 = i16x8.narrow_i32x4_s(quantize4(v128.load(p, 32), sv, zv), quantize4(v128.load(p, 48), sv, zv));
    if (ASC_FEATURE_RELAXED_SIMD) v128.store(x16 + <usize>i, i8x16.narrow_i16x8_u(w0, w1));
    else {
      v128.store(x16 + (<usize>i << 1), w0);
      v128.store(x16 + (<usize>i << 1), w1, 16);
    }
  }
  for (let i = k4; i < K; i++) {
    const q = <i32>nearest<f32>(load<f32>(x + (<usize>i << 2)) / scale) + zp;
    const c = q < 0 ? 0 : q > 255 ? 255 : q;
    if (ASC_FEATURE_RELAXED_SIMD) store<u8>(x16 + <usize>i, <u8>c);
    else store<i16>(x16 + (<usize>i << 1), <i16>c);
  }
  qScale = scale;
  qZero = zp;
}

/** Four values quantized: nearest(v ÷ scale) + zero point, clamped to 0..255, as `quantize` one at a time. */
// @ts-ignore: decorator
@inline function quantize4(v: v128, sv: v128, zv: v128): v128 {
  const q = i32x4.add(i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.div(v, sv))), zv);
  return i32x4.min_s(i32x4.splat(255), i32x4.max_s(i32x4.splat(0), q));
}

// @ts-ignore: decorator
@inline export function hsum(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

// @ts-ignore: decorator
@inline function dot16(acc: v128, w: v128, x: v128): v128 {
  return i32x4.add(acc, i32x4.dot_i16x8_s(w, x));
}

// @ts-ignore: decorator
@inline function dot8(acc: v128, w: v128, x: v128): v128 {
  return i32x4.relaxed_dot_i8x16_i7x16_add_s(w, x, acc);
}

/**
 * 1 where this engine's `i32x4.relaxed_dot_i8x16_i7x16_add_s` multiplies every int8 weight by every 8-bit activation
 * exactly (as signed × unsigned bytes, no saturation), 0 where not, and 0 in the plain build. Each lane of
 * dot(splat w, splat a) must be 4·w·a: a signed reading of a ≥ 128, or a 16-bit saturation of the pair sums (|2·w·a|
 * up to 65,280), shows. V8 lowers the instruction under one CPU-feature test in both of its compilers.
 */
export function dotExact(): i32 {
  if (!ASC_FEATURE_RELAXED_SIMD) return 0;
  for (let w: i32 = -128; w < 128; w++) {
    const wv = i8x16.splat(<i8>w);
    for (let a: i32 = 0; a < 256; a++) {
      const r = dot8(i32x4.splat(a), wv, i8x16.splat(<i8>a));
      const want = a + 4 * w * a;
      if (!i32x4.all_true(i32x4.eq(r, i32x4.splat(want)))) return 0;
    }
  }
  return 1;
}

/**
 * One output row at a time, 32 bytes an iteration into four accumulators: measured (2026-12-04, the 135M shape's
 * step, one thread) 5.8 ms against 10.5-11.3 for four rows a pass sharing each activation load. The relaxed build:
 * two accumulators of one dot each on the activation's bytes.
 */
export function gemvS16(w: usize, x16: usize, out: usize, N: i32, K: i32): void {
  if (!ASC_FEATURE_RELAXED_SIMD) {
    gemvWide(w, x16, out, N, K);
    return;
  }
  const k = <usize>K;
  for (let n: i32 = 0; n < N; n++) {
    const r = w + <usize>n * k;
    let a0 = i32x4.splat(0), a1 = a0;
    for (let j: usize = 0; j < k; j += 32) {
      a0 = dot8(a0, v128.load(r + j), v128.load(x16 + j));
      a1 = dot8(a1, v128.load(r + j, 16), v128.load(x16 + j, 16));
    }
    store<i32>(out + (<usize>n << 2), hsum(i32x4.add(a0, a1)));
  }
}

/** `gemvS16` of the plain build in either build (the benchmark's GEMV probe, int8-gemv.ts, measures it). */
export function gemvWide(w: usize, x16: usize, out: usize, N: i32, K: i32): void {
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

/** y[n] = f32(Σ_k w[n][k]·a[k] − zp·rowsum[n]) · f32(scale · wscale[n]) over the last `quantize`d row; acc: N int32 of scratch. */
export function project(w: usize, x16: usize, wscale: usize, rowsum: usize, acc: usize, y: usize, N: i32, K: i32): void {
  gemvS16(w, x16, acc, N, K);
  const scale = qScale, zp = qZero;
  for (let n = 0; n < N; n++) {
    const o = <usize>n << 2;
    const s = <f32>(load<i32>(acc + o) - zp * load<i32>(rowsum + o));
    store<f32>(y + o, s * (scale * load<f32>(wscale + o)));
  }
}

/** `quantize` into x16, with its scale and zero point stored at qp (f32, i32) for `projectRows`. */
export function quantizeTo(x: usize, K: i32, x16: usize, qp: usize): void {
  quantize(x, K, x16);
  store<f32>(qp, qScale);
  store<i32>(qp, qZero, 4);
}

/** `quantizeTo` of rows r0 .. r1 of [rows][K] floats at x (two threads split a block's rows this way). */
export function quantizeRowsRange(x: usize, K: i32, x16: usize, qp: usize, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) quantizeTo(x + <usize>(r * K) * 4, K, x16 + <usize>(r * K) * 2, qp + (<usize>r << 3));
}

/**
 * A prompt's rows at once: out[m][n] = Σ_k w[n][k] · a_m[k] exactly in int32, for M rows a_m (`quantize`'s layout,
 * a row every 2K bytes at x16), four rows and two outputs a pass, so each weight load and widening serves eight sums (the one-row GEMV
 * widens every weight byte for one); rows past a multiple of four, and a last odd output, by the same sums one
 * row at a time. The sums are the ones `gemvS16` makes, so a row's result does not depend on its neighbours.
 */
export function gemmS16(w: usize, x16: usize, out: usize, N: i32, K: i32, M: i32): void {
  gemmS16Strided(w, x16, out, N, K, M, N);
}

/** `gemmS16` of N outputs whose rows in `out` are `stride` int32 apart (a part of a wider matrix's outputs). */
function gemmS16Strided(w: usize, x16: usize, out: usize, N: i32, K: i32, M: i32, stride: i32): void {
  const k = <usize>K, n2 = N & ~1, xs = k * 2, os = <usize>stride << 2;
  let m0: i32 = 0;
  for (; m0 + 4 <= M; m0 += 4) {
    const x0 = x16 + <usize>m0 * xs, x1 = x0 + xs, x2 = x1 + xs, x3 = x2 + xs;
    const o0 = out + <usize>m0 * os;
    for (let n: i32 = 0; n < n2; n += 2) {
      const r0 = w + <usize>n * k, r1 = r0 + k;
      let a00 = i32x4.splat(0), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
      if (ASC_FEATURE_RELAXED_SIMD) for (let j: usize = 0; j < k; j += 16) {
        const v0 = v128.load(r0 + j), v1 = v128.load(r1 + j);
        let x = v128.load(x0 + j);
        a00 = dot8(a00, v0, x);
        a10 = dot8(a10, v1, x);
        x = v128.load(x1 + j);
        a01 = dot8(a01, v0, x);
        a11 = dot8(a11, v1, x);
        x = v128.load(x2 + j);
        a02 = dot8(a02, v0, x);
        a12 = dot8(a12, v1, x);
        x = v128.load(x3 + j);
        a03 = dot8(a03, v0, x);
        a13 = dot8(a13, v1, x);
      }
      else for (let j: usize = 0; j < k; j += 16) {
        const v0 = v128.load(r0 + j), v1 = v128.load(r1 + j);
        const l0 = i16x8.extend_low_i8x16_s(v0), h0 = i16x8.extend_high_i8x16_s(v0);
        const l1 = i16x8.extend_low_i8x16_s(v1), h1 = i16x8.extend_high_i8x16_s(v1);
        const jj = j * 2;
        let xl = v128.load(x0 + jj), xh = v128.load(x0 + jj, 16);
        a00 = dot16(dot16(a00, l0, xl), h0, xh);
        a10 = dot16(dot16(a10, l1, xl), h1, xh);
        xl = v128.load(x1 + jj);
        xh = v128.load(x1 + jj, 16);
        a01 = dot16(dot16(a01, l0, xl), h0, xh);
        a11 = dot16(dot16(a11, l1, xl), h1, xh);
        xl = v128.load(x2 + jj);
        xh = v128.load(x2 + jj, 16);
        a02 = dot16(dot16(a02, l0, xl), h0, xh);
        a12 = dot16(dot16(a12, l1, xl), h1, xh);
        xl = v128.load(x3 + jj);
        xh = v128.load(x3 + jj, 16);
        a03 = dot16(dot16(a03, l0, xl), h0, xh);
        a13 = dot16(dot16(a13, l1, xl), h1, xh);
      }
      const o = o0 + (<usize>n << 2);
      store<i32>(o, hsum(a00));
      store<i32>(o, hsum(a10), 4);
      store<i32>(o + os, hsum(a01));
      store<i32>(o + os, hsum(a11), 4);
      store<i32>(o + 2 * os, hsum(a02));
      store<i32>(o + 2 * os, hsum(a12), 4);
      store<i32>(o + 3 * os, hsum(a03));
      store<i32>(o + 3 * os, hsum(a13), 4);
    }
    if (n2 < N) for (let m = 0; m < 4; m++) gemvS16(w + <usize>n2 * k, x16 + <usize>(m0 + m) * xs, out + <usize>(m0 + m) * os + (<usize>n2 << 2), 1, K);
  }
  for (; m0 < M; m0++) gemvS16(w, x16 + <usize>m0 * xs, out + <usize>m0 * os, N, K);
}

/**
 * `project` for M rows quantized by `quantizeTo` (int16 [M][K] at x16, scale and zero point [M] at qp):
 * y[m][n] = f32(Σ_k w[n][k]·a_m[k] − zp_m·rowsum[n]) · f32(scale_m · wscale[n]); acc: M × N int32 of scratch.
 */
export function projectRows(w: usize, x16: usize, wscale: usize, rowsum: usize, acc: usize, y: usize, N: i32, K: i32, M: i32, qp: usize): void {
  projectRange(w, x16, wscale, rowsum, acc, y, N, K, M, qp, 0, N);
}

/**
 * `projectRows` of outputs n0 .. n1 only (y and acc keep their [M][N] layout): two threads sharing the memory
 * split a matrix's outputs this way (int8-threads.ts). Each output's numbers are those of the whole run.
 */
export function projectRange(w: usize, x16: usize, wscale: usize, rowsum: usize, acc: usize, y: usize, N: i32, K: i32, M: i32, qp: usize, n0: i32, n1: i32): void {
  const c = <usize>n0 << 2;
  if (M == 1) gemvS16(w + <usize>n0 * <usize>K, x16, acc + c, n1 - n0, K);
  else gemmS16Strided(w + <usize>n0 * <usize>K, x16, acc + c, n1 - n0, K, M, N);
  for (let m = 0; m < M; m++) {
    const scale = load<f32>(qp + (<usize>m << 3)), zp = load<i32>(qp + (<usize>m << 3), 4);
    const row = <usize>(m * N) << 2;
    for (let n = n0; n < n1; n++) {
      const o = <usize>n << 2;
      const s = <f32>(load<i32>(acc + row + o) - zp * load<i32>(rowsum + o));
      store<f32>(y + row + o, s * (scale * load<f32>(wscale + o)));
    }
  }
}

/**
 * Rows k0 .. k0 + kc of a weight as the file stores it (int8 [K][N], MatMulInteger's B; `src` holds just those
 * rows) into the layout `gemvS16` reads (int8 [N][K] at `dst`), in tiles of 16 × 16: a load passes a weight
 * through in chunks of rows, so no staging copy of a whole LM head is needed.
 */
export function transpose(src: usize, dst: usize, K: i32, N: i32, k0: i32, kc: i32): void {
  const k = <usize>K;
  for (let n0 = 0; n0 < N; n0 += 16) {
    const n1 = min(n0 + 16, N);
    for (let j = 0; j < kc; j++) {
      const s = src + <usize>j * <usize>N, d = dst + <usize>(k0 + j);
      for (let n = n0; n < n1; n++) store<i8>(d + <usize>n * k, load<i8>(s + <usize>n));
    }
  }
}

/** Each output's sum of weights (int8 [N][K] at `w`), for the activation's zero point. */
export function rowSums(w: usize, rowsum: usize, N: i32, K: i32): void {
  for (let n = 0; n < N; n++) {
    const r = w + <usize>n * <usize>K;
    let a = i32x4.splat(0);
    for (let j: usize = 0; j < <usize>K; j += 16) {
      const v = v128.load(r + j);
      a = i32x4.add(a, i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(v)));
    }
    store<i32>(rowsum + (<usize>n << 2), hsum(a));
  }
}
