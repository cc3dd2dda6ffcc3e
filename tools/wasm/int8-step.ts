/**
 * AssemblyScript source of the app's int8 decode step (src/inference/int8-session.ts), compiled into
 * src/inference/int8-step.wasm.ts by `npm run wasm:build` (tests/unit/int8-step.test.ts checks the two agree).
 * Plain 128-bit SIMD only (every browser with WebAssembly SIMD runs it; no relaxed SIMD).
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

export function quantize(x: usize, K: i32, x16: usize): void {
  let lo: f32 = 0, hi: f32 = 0;
  for (let i = 0; i < K; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const scale: f32 = hi == lo ? 1 : (hi - lo) / 255;
  const zp = <i32>min<f32>(255, max<f32>(0, nearest<f32>(0 - lo / scale)));
  for (let i = 0; i < K; i++) {
    const q = <i32>nearest<f32>(load<f32>(x + (<usize>i << 2)) / scale) + zp;
    store<i16>(x16 + (<usize>i << 1), <i16>(q < 0 ? 0 : q > 255 ? 255 : q));
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

/**
 * One output row at a time, 32 bytes an iteration into four accumulators: measured (2026-12-04, the 135M shape's
 * step, one thread) 5.8 ms against 10.5-11.3 for four rows a pass sharing each activation load.
 */
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
 * rounded to f32; exp in f64 then rounded (what the step's JavaScript did before, with Math.exp).
 */
export function siluMul(g: usize, u: usize, i0: i32, i1: i32): void {
  for (let i = i0; i < i1; i++) {
    const o = <usize>i << 2;
    const a = load<f32>(g + o);
    const e = <f32>Math.exp(-<f64>a);
    const sig: f32 = 1 / (1 + e);
    store<f32>(g + o, (a * sig) * load<f32>(u + o));
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
      for (let j: usize = 0; j < k; j += 16) {
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

/** RMSNorm: y = x · (1 / sqrt(mean(x²) + eps)) · w over n floats, the sum taken in order. */
export function rmsNorm(x: usize, w: usize, y: usize, n: i32, eps: f32): void {
  let s: f32 = 0;
  for (let i = 0; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    s += v * v;
  }
  const inv: f32 = 1 / sqrt<f32>(s / <f32>n + eps);
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(x + o) * inv * load<f32>(w + o));
  }
}

/**
 * Grouped-query attention of one new position for the int8 decode step (and the bench's own-step probe), f32: for each
 * of H query heads (head h reads KV head h ÷ (H ÷ KVH)), scores q·k × scale over positions 0..pos, softmax, and
 * the weighted sum of the values into out [H·hd]. keys/values: [pos+1][KVH·hd] rows; scores: pos+1 floats of
 * scratch; hd a multiple of 4. Measured (2026-12-04, 135M q8, 120 tokens): in scalar JavaScript the attention
 * grew to half of a step by position 126 (the step's GEMV share 0.48, own ÷ native 0.85 over the run).
 */
export function attend(q: usize, keys: usize, values: usize, out: usize, scores: usize, pos: i32, H: i32, KVH: i32, hd: i32, scale: f32): void {
  attendHeads(q, keys, values, out, scores, pos, H, KVH, hd, scale, 0, H);
}

/** `attend` of query heads h0 .. h1 only (two threads split the heads, each with its own `scores`). */
export function attendHeads(q: usize, keys: usize, values: usize, out: usize, scores: usize, pos: i32, H: i32, KVH: i32, hd: i32, scale: f32, h0: i32, h1: i32): void {
  const rep = H / KVH, row = <usize>(KVH * hd) << 2, n = <usize>hd << 2;
  for (let h = h0; h < h1; h++) {
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
