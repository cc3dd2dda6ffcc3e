/**
 * AssemblyScript source of the int8 step's f32 kernels (the parts of a block between its int8 matmuls: SiLU, the
 * residual adds, rotary, RMSNorm, attention), compiled into the step's module through tools/wasm/int8-step.ts, which
 * re-exports them. Four lanes at a time; each function's doc says which results are bit for bit those of the step's
 * earlier JavaScript and which are within a stated error of float64 (tests/unit/int8-step.test.ts checks both).
 */
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
