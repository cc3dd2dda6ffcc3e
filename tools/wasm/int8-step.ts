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
  const sv = f32x4.splat(scale), zv = i32x4.splat(zp), z = i32x4.splat(0), top = i32x4.splat(255);
  for (let i = 0; i < k4; i += 16) {
    const p = x + (<usize>i << 2);
    const q0 = i32x4.min_s(top, i32x4.max_s(z, i32x4.add(i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.div(v128.load(p), sv))), zv)));
    const q1 = i32x4.min_s(top, i32x4.max_s(z, i32x4.add(i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.div(v128.load(p, 16), sv))), zv)));
    const q2 = i32x4.min_s(top, i32x4.max_s(z, i32x4.add(i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.div(v128.load(p, 32), sv))), zv)));
    const q3 = i32x4.min_s(top, i32x4.max_s(z, i32x4.add(i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.div(v128.load(p, 48), sv))), zv)));
    const w0 = i16x8.narrow_i32x4_s(q0, q1), w1 = i16x8.narrow_i32x4_s(q2, q3);
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
 * SiLU(gate) · up over elements i0 .. i1, in place in g, as the export's Sigmoid → Mul → Mul in f32, each step
 * rounded to f32, exp by `exp4` (within ~1e-7 relative; measured 2026-12-04, Node, 135M shape, 280-token prompt:
 * exp in f64, as before, took 33 ms of 830). i0 a multiple of 4; the last group's lanes past i1 are not stored.
 */
export function siluMul(g: usize, u: usize, i0: i32, i1: i32): void {
  const one = f32x4.splat(1);
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i << 2;
    const a = v128.load(g + o);
    const sig = f32x4.div(one, f32x4.add(one, exp4(f32x4.neg(a))));
    v128.store(g + o, f32x4.mul(f32x4.mul(a, sig), v128.load(u + o)));
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    const a = load<f32>(g + o);
    const sig: f32 = 1 / (1 + f32x4.extract_lane(exp4(f32x4.splat(-a)), 0));
    store<f32>(g + o, (a * sig) * load<f32>(u + o));
  }
}

/** x[i] += y[i] for elements i0 .. i1 (the residual stream's adds), four at a time: each sum as f32 addition. */
export function addRange(x: usize, y: usize, i0: i32, i1: i32): void {
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i << 2;
    v128.store(x + o, f32x4.add(v128.load(x + o), v128.load(y + o)));
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    store<f32>(x + o, load<f32>(x + o) + load<f32>(y + o));
  }
}

/**
 * Rotary positions, in place, on `heads` heads of M rows (row r at x + r·stride floats, its angles' cos and sin at
 * cos/sin + r·hd/2 floats): each head's halves rotated as the export's rotate_half, a·c − b·s and b·c + a·s, each
 * product and sum rounded to f32 (what the step's JavaScript computed, four pairs at a time). hd a multiple of 8.
 */
export function ropeRows(x: usize, stride: i32, heads: i32, hd: i32, cos: usize, sin: usize, M: i32): void {
  const half = <usize>(hd >> 1) << 2;
  for (let r = 0; r < M; r++) {
    const row = x + <usize>(r * stride) * 4, c0 = cos + <usize>r * half, s0 = sin + <usize>r * half;
    for (let h = 0; h < heads; h++) {
      const p = row + <usize>(h * hd) * 4;
      for (let j: usize = 0; j < half; j += 16) {
        const a = v128.load(p + j), b = v128.load(p + half + j), c = v128.load(c0 + j), s = v128.load(s0 + j);
        v128.store(p + j, f32x4.sub(f32x4.mul(a, c), f32x4.mul(b, s)));
        v128.store(p + half + j, f32x4.add(f32x4.mul(b, c), f32x4.mul(a, s)));
      }
    }
  }
}

/**
 * A prompt's rows at once: out[m][n] = Σ_k w[n][k] · a_m[k] exactly in int32, for M rows a_m (int16 [M][K] at
 * x16), four rows and two outputs a pass, so each weight load and widening serves eight sums (the one-row GEMV
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

/**
 * RMSNorm: y = x · (1 / sqrt(mean(x²) + eps)) · w over n floats (n a multiple of 4), the squares summed in four
 * lanes, then (l0 + l2) + (l1 + l3).
 */
export function rmsNorm(x: usize, w: usize, y: usize, n: i32, eps: f32): void {
  const k = <usize>n << 2;
  let s4 = f32x4.splat(0);
  for (let i: usize = 0; i < k; i += 16) {
    const v = v128.load(x + i);
    s4 = f32x4.add(s4, f32x4.mul(v, v));
  }
  const s = (f32x4.extract_lane(s4, 0) + f32x4.extract_lane(s4, 2)) + (f32x4.extract_lane(s4, 1) + f32x4.extract_lane(s4, 3));
  const inv = f32x4.splat(1 / sqrt<f32>(s / <f32>n + eps));
  for (let i: usize = 0; i < k; i += 16) v128.store(y + i, f32x4.mul(f32x4.mul(v128.load(x + i), inv), v128.load(w + i)));
}

/** `rmsNorm` of rows r0 .. r1 of [rows][n] floats at x into y (two threads split a block's rows this way). */
export function rmsNormRows(x: usize, w: usize, y: usize, n: i32, eps: f32, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) rmsNorm(x + <usize>(r * n) * 4, w, y + <usize>(r * n) * 4, n, eps);
}

/**
 * exp(x) of four floats: x = n·ln 2 + r, |r| ≤ ln 2 / 2, e^r by Cephes' degree-5 polynomial, times 2^n through the
 * exponent bits (relative error ~1e-7). x is held to -87.3 .. 88.7: below, the result is 2^-126's neighbourhood, not
 * 0, which a softmax's sum or a sigmoid does not see; above, ~3.3e38 where f32 overflows, so 1 / (1 + e) is ~3e-39. Measured (2026-12-04, 135M shape, 280-token prompt):
 * scalar Mathf.exp per score was ~a third of the attention's time.
 */
// @ts-ignore: decorator
@inline function exp4(v: v128): v128 {
  const x0 = f32x4.min(f32x4.max(v, f32x4.splat(-87.3)), f32x4.splat(88.7));
  const n = f32x4.nearest(f32x4.mul(x0, f32x4.splat(1.44269504)));
  const x = f32x4.sub(f32x4.sub(x0, f32x4.mul(n, f32x4.splat(0.693359375))), f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let y = f32x4.splat(1.9875691500e-4);
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(1.3981999507e-3));
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(8.3334519073e-3));
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(4.1665795894e-2));
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(1.6666665459e-1));
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(5.0000001201e-1));
  y = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(y, x), x), x), f32x4.splat(1));
  return f32x4.mul(y, i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23));
}

/**
 * Grouped-query attention of one new position for the int8 decode step (and the bench's own-step probe), f32: for each
 * of H query heads (head h reads KV head h ÷ (H ÷ KVH)), scores q·k × scale over positions 0..pos, softmax, and
 * the weighted sum of the values into out [H·hd]. keys/values: [pos+1][KVH·hd] rows; scores: pos+4 floats of
 * scratch; hd a multiple of 4. Measured (2026-12-04, 135M q8, 120 tokens): in scalar JavaScript the attention
 * grew to half of a step by position 126 (the step's GEMV share 0.48, own ÷ native 0.85 over the run).
 */
export function attend(q: usize, keys: usize, values: usize, out: usize, scores: usize, pos: i32, H: i32, KVH: i32, hd: i32, scale: f32): void {
  attendUnits(q, keys, values, out, scores, pos, H, KVH, hd, scale, 0, H);
}

/**
 * `attend` of a block of rows, row r at position pos0 + r (its q and out rows H·hd floats apart), unit u = r·H + h
 * for u0 ≤ u < u1: two threads split a block's (row, head) pairs this way, each with its own `scores`. A unit's
 * numbers depend only on its position and the state, not on the block or the split: a prompt run in two parts, or
 * a token at a time, gives the same. Four keys a pass (one horizontal sum for four scores), exp four at a time, the
 * values' weighted sum 16 floats at a time in registers, divided by the sum once at the end.
 */
export function attendUnits(q: usize, keys: usize, values: usize, out: usize, scores: usize, pos0: i32, H: i32, KVH: i32, hd: i32, scale: f32, u0: i32, u1: i32): void {
  const rep = H / KVH, row = <usize>(KVH * hd) << 2, n = <usize>hd << 2, qs = <usize>(H * hd) << 2;
  const sv = f32x4.splat(scale);
  for (let u = u0; u < u1; u++) {
    const r = u / H, h = u % H, pos = pos0 + r, count = pos + 1;
    const qp = q + <usize>r * qs + <usize>(h * hd) * 4, kv = <usize>((h / rep) * hd) << 2, op = out + <usize>r * qs + <usize>(h * hd) * 4;
    let top = f32x4.splat(-Infinity);
    let s = 0;
    for (; s + 4 <= count; s += 4) {
      const k0 = keys + <usize>s * row + kv, k1 = k0 + row, k2 = k1 + row, k3 = k2 + row;
      let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
      for (let i: usize = 0; i < n; i += 16) {
        const qv = v128.load(qp + i);
        a0 = f32x4.add(a0, f32x4.mul(qv, v128.load(k0 + i)));
        a1 = f32x4.add(a1, f32x4.mul(qv, v128.load(k1 + i)));
        a2 = f32x4.add(a2, f32x4.mul(qv, v128.load(k2 + i)));
        a3 = f32x4.add(a3, f32x4.mul(qv, v128.load(k3 + i)));
      }
      // [Σa0, Σa1, Σa2, Σa3], each as (l0 + l2) + (l1 + l3).
      const b01 = f32x4.add(v128.shuffle<f32>(a0, a1, 0, 1, 4, 5), v128.shuffle<f32>(a0, a1, 2, 3, 6, 7));
      const b23 = f32x4.add(v128.shuffle<f32>(a2, a3, 0, 1, 4, 5), v128.shuffle<f32>(a2, a3, 2, 3, 6, 7));
      const sc = f32x4.mul(f32x4.add(v128.shuffle<f32>(b01, b23, 0, 2, 4, 6), v128.shuffle<f32>(b01, b23, 1, 3, 5, 7)), sv);
      v128.store(scores + (<usize>s << 2), sc);
      top = f32x4.max(top, sc);
    }
    let mx = max(max(f32x4.extract_lane(top, 0), f32x4.extract_lane(top, 1)), max(f32x4.extract_lane(top, 2), f32x4.extract_lane(top, 3)));
    for (; s < count; s++) {
      const kp = keys + <usize>s * row + kv;
      let a = f32x4.splat(0);
      for (let i: usize = 0; i < n; i += 16) a = f32x4.add(a, f32x4.mul(v128.load(qp + i), v128.load(kp + i)));
      const sc = ((f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 2)) + (f32x4.extract_lane(a, 1) + f32x4.extract_lane(a, 3))) * scale;
      store<f32>(scores + (<usize>s << 2), sc);
      if (sc > mx) mx = sc;
    }
    // exp(score − largest), four at a time; lanes past the last position are 0 (the scratch holds count + 3).
    const tv = f32x4.splat(mx);
    let sum = f32x4.splat(0);
    for (s = 0; s < count; s += 4) {
      let e = exp4(f32x4.sub(v128.load(scores + (<usize>s << 2)), tv));
      const left = count - s;
      if (left < 4) e = v128.and(e, left == 1 ? i32x4(-1, 0, 0, 0) : left == 2 ? i32x4(-1, -1, 0, 0) : i32x4(-1, -1, -1, 0));
      v128.store(scores + (<usize>s << 2), e);
      sum = f32x4.add(sum, e);
    }
    const inv = f32x4.splat(1 / ((f32x4.extract_lane(sum, 0) + f32x4.extract_lane(sum, 2)) + (f32x4.extract_lane(sum, 1) + f32x4.extract_lane(sum, 3))));
    let i: usize = 0;
    for (; i + 64 <= n; i += 64) {
      let o0 = f32x4.splat(0), o1 = o0, o2 = o0, o3 = o0;
      for (let t = 0; t < count; t++) {
        const w = v128.load32_splat(scores + (<usize>t << 2)), vp = values + <usize>t * row + kv + i;
        o0 = f32x4.add(o0, f32x4.mul(w, v128.load(vp)));
        o1 = f32x4.add(o1, f32x4.mul(w, v128.load(vp, 16)));
        o2 = f32x4.add(o2, f32x4.mul(w, v128.load(vp, 32)));
        o3 = f32x4.add(o3, f32x4.mul(w, v128.load(vp, 48)));
      }
      v128.store(op + i, f32x4.mul(o0, inv));
      v128.store(op + i, f32x4.mul(o1, inv), 16);
      v128.store(op + i, f32x4.mul(o2, inv), 32);
      v128.store(op + i, f32x4.mul(o3, inv), 48);
    }
    for (; i < n; i += 16) {
      let o = f32x4.splat(0);
      for (let t = 0; t < count; t++) o = f32x4.add(o, f32x4.mul(v128.load32_splat(scores + (<usize>t << 2)), v128.load(values + <usize>t * row + kv + i)));
      v128.store(op + i, f32x4.mul(o, inv));
    }
  }
}
