/**
 * AssemblyScript source of the q4 → int8 kernel (src/inference/q4-int8.ts runs it; the arithmetic's
 * definition and the measured reasons are there). `npm run wasm:build` compiles it into
 * src/inference/q4-int8.wasm.ts; tests/unit/q4-int8.test.ts checks that the two agree.
 *
 * One call takes Wc columns of a MatMulNBits weight (Wc a multiple of 16; rows past the real
 * columns are zeros) laid out at fixed places in linear memory:
 * - b: the 4-bit codes, [Wc][rowBytes] (rowBytes = nb × bs/2, low nibble first);
 * - s: the block scales, [Wc][nb] f32; z: the zero points, [Wc][zpRow] (two a byte), or 0 for none (8);
 * - out: Wq [K][Wc] int8; cs: the column scales [Wc] f32;
 * - scratch: 1 KiB of working space.
 * The block size must be a power of two, at least 16.
 */

@inline function zeroPoint(z: usize, zpRow: i32, n: i32, blk: i32): i32 {
  return z ? (<i32>load<u8>(z + <usize>(n * zpRow + (blk >> 1))) >> ((blk & 1) * 4)) & 15 : 8;
}

// Lane i of the result: the largest byte of block vector v_i (16 vectors at p, 16 bytes apart).
@inline function reduce16(p: usize): v128 {
  // 16 vectors -> 8 (two blocks a vector, 8 lanes each) -> 4 -> 2 -> 1 (one lane a block).
  for (let i: usize = 0; i < 8; i++) {
    const a = v128.load(p + i * 32), b = v128.load(p + i * 32 + 16);
    v128.store(p + i * 16, i8x16.max_u(i8x16.shuffle(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23), i8x16.shuffle(a, b, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31)));
  }
  for (let i: usize = 0; i < 4; i++) {
    const a = v128.load(p + i * 32), b = v128.load(p + i * 32 + 16);
    v128.store(p + i * 16, i8x16.max_u(i8x16.shuffle(a, b, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27), i8x16.shuffle(a, b, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31)));
  }
  for (let i: usize = 0; i < 2; i++) {
    const a = v128.load(p + i * 32), b = v128.load(p + i * 32 + 16);
    v128.store(p + i * 16, i8x16.max_u(i8x16.shuffle(a, b, 0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29), i8x16.shuffle(a, b, 2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31)));
  }
  const a = v128.load(p), b = v128.load(p + 16);
  return i8x16.max_u(i8x16.shuffle(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), i8x16.shuffle(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31));
}

// Largest |(code - zp) * sc| over one block, the scalar way (a partial last block, or a block size
// the vector path does not take).
function blockMax(b: usize, s: usize, z: usize, K: i32, bs: i32, rowBytes: i32, zpRow: i32, nb: i32, n: i32, blk: i32): f64 {
  const base = b + <usize>(n * rowBytes + blk * (bs >> 1));
  const valid = min(bs, K - blk * bs);
  let mask = 0;
  for (let j = 0; j < valid; j++) {
    const byte = <i32>load<u8>(base + <usize>(j >> 1));
    mask |= 1 << ((j & 1) ? byte >> 4 : byte & 15);
  }
  const sc = <f64>load<f32>(s + <usize>((n * nb + blk) << 2));
  const zp = zeroPoint(z, zpRow, n, blk);
  return max(abs(<f64>(ctz(mask) - zp) * sc), abs(<f64>(31 - clz(mask) - zp) * sc));
}

// f64x2 of lanes (2i, 2i+1) of u8 vector m, times the f32 scales at sp (widened exactly).
@inline function scaled(m: v128, sp: usize): v128 {
  return f64x2.mul(f64x2.convert_low_i32x4_u(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(m))), f64x2.abs(f64x2.promote_low_f32x4(v128.load64_zero(sp))));
}

// Column scales: max over the column's blocks of max(|lo - zp|, |hi - zp|) * |sc| (lo, hi: the
// block's smallest and largest code), / 127, as f32. Sixteen blocks at a time: each block's codes'
// largest and 15 - smallest as one vector, reduced so that lane i is block i's.
function columnScales(b: usize, s: usize, z: usize, K: i32, Wc: i32, bs: i32, cs: usize, scratch: usize): void {
  const nb = (K + bs - 1) / bs;
  const half = bs >> 1;
  const rowBytes = nb * half;
  const zpRow = (nb + 1) >> 1;
  const whole = K % bs == 0 ? nb : nb - 1; // blocks the vector path takes
  const m15 = i8x16.splat(15);
  const hiBuf = scratch, loBuf = scratch + 256, scaleBuf = scratch + 512;
  for (let n = 0; n < Wc; n++) {
    let acc = f64x2.splat(0);
    for (let g = 0; g < whole; g += 16) {
      const count = min(16, whole - g);
      for (let i = 0; i < 16; i++) {
        const blk = g + min(i, count - 1);
        const base = b + <usize>(n * rowBytes + blk * half);
        let mx = i8x16.splat(0), mn = m15;
        if (half == 8) {
          const v = v128.load64_splat(base);
          const l = v128.and(v, m15), h = i8x16.shr_u(v, 4);
          mx = i8x16.max_u(l, h);
          mn = i8x16.min_u(l, h);
        } else {
          for (let c = 0; c < half; c += 16) {
            const v = v128.load(base + <usize>c);
            const l = v128.and(v, m15), h = i8x16.shr_u(v, 4);
            mx = i8x16.max_u(mx, i8x16.max_u(l, h));
            mn = i8x16.min_u(mn, i8x16.min_u(l, h));
          }
        }
        v128.store(hiBuf + <usize>(i * 16), mx);
        v128.store(loBuf + <usize>(i * 16), v128.xor(mn, m15));
      }
      const hi = reduce16(hiBuf);
      const lo = v128.xor(reduce16(loBuf), m15);
      let zp = i8x16.splat(8);
      if (z) {
        const zb = v128.load64_zero(z + <usize>(n * zpRow + (g >> 1)));
        zp = i8x16.shuffle(v128.and(zb, m15), i8x16.shr_u(zb, 4), 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
      }
      // max(hi - zp, zp - lo) is max(|lo - zp|, |hi - zp|) (lo <= hi); lanes past `count` zeroed.
      let m = i8x16.max_u(i8x16.sub_sat_u(hi, zp), i8x16.sub_sat_u(zp, lo));
      m = i8x16.max_u(m, i8x16.max_u(i8x16.sub_sat_u(lo, zp), i8x16.sub_sat_u(zp, hi)));
      m = v128.and(m, i8x16.gt_s(i8x16.splat(<i8>count), i8x16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)));
      // A last group of fewer than 16 blocks reads its scales from scratch, zeros past `count`:
      // the next column's scales (or bytes past them) must not reach the masked lanes (0 × NaN).
      let sp = s + <usize>((n * nb + g) << 2);
      if (count < 16) {
        for (let i = 0; i < 16; i++) store<f32>(scaleBuf + <usize>(i << 2), i < count ? load<f32>(sp + <usize>(i << 2)) : 0);
        sp = scaleBuf;
      }
      acc = f64x2.max(acc, scaled(m, sp));
      acc = f64x2.max(acc, scaled(i8x16.shuffle(m, m, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1), sp + 8));
      acc = f64x2.max(acc, scaled(i8x16.shuffle(m, m, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3), sp + 16));
      acc = f64x2.max(acc, scaled(i8x16.shuffle(m, m, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5), sp + 24));
      acc = f64x2.max(acc, scaled(i8x16.shuffle(m, m, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7), sp + 32));
      acc = f64x2.max(acc, scaled(i8x16.shuffle(m, m, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9), sp + 40));
      acc = f64x2.max(acc, scaled(i8x16.shuffle(m, m, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), sp + 48));
      acc = f64x2.max(acc, scaled(i8x16.shuffle(m, m, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13), sp + 56));
    }
    let amax = max(f64x2.extract_lane(acc, 0), f64x2.extract_lane(acc, 1));
    if (whole < nb) amax = max(amax, blockMax(b, s, z, K, bs, rowBytes, zpRow, nb, n, nb - 1));
    store<f32>(cs + <usize>(n << 2), amax > 0 ? <f32>(amax / 127) : 1);
  }
}

// One block's table: code c → round(fround((c − zp) × sc) / s) − as a byte, rounding half up as
// Math.round does. r is 1 / s in f64; q4-int8.ts explains why v × r + 128.5 + 2^-30, truncated,
// gives exactly that.
@inline function table(sc: f32, zp: i32, r: f64): v128 {
  const scv = f32x4.splat(sc);
  const zv = i32x4.splat(zp);
  const sv = f64x2.splat(r);
  const half = f64x2.splat(128.5 + 0.000000000931322574615478515625);
  const v0 = f32x4.mul(f32x4.convert_i32x4_s(i32x4.sub(i32x4(0, 1, 2, 3), zv)), scv);
  const v1 = f32x4.mul(f32x4.convert_i32x4_s(i32x4.sub(i32x4(4, 5, 6, 7), zv)), scv);
  const v2 = f32x4.mul(f32x4.convert_i32x4_s(i32x4.sub(i32x4(8, 9, 10, 11), zv)), scv);
  const v3 = f32x4.mul(f32x4.convert_i32x4_s(i32x4.sub(i32x4(12, 13, 14, 15), zv)), scv);
  const w0 = quarter(v0, sv, half), w1 = quarter(v1, sv, half), w2 = quarter(v2, sv, half), w3 = quarter(v3, sv, half);
  return v128.xor(i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(w0, w1), i16x8.narrow_i32x4_s(w2, w3)), i8x16.splat(-128));
}

@inline function quarter(v: v128, sv: v128, half: v128): v128 {
  const a = i32x4.trunc_sat_f64x2_s_zero(f64x2.add(f64x2.mul(f64x2.promote_low_f32x4(v), sv), half));
  const hv = i8x16.shuffle(v, v, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
  const b = i32x4.trunc_sat_f64x2_s_zero(f64x2.add(f64x2.mul(f64x2.promote_low_f32x4(hv), sv), half));
  return i8x16.shuffle(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
}

// 16x16 byte transpose of src (16 rows of 16 bytes) through tmp; row j of the result goes to
// out + j-th destination (dst0 + j * step) when j < jEnd.
@inline function transpose(src: usize, tmp: usize, dst0: usize, step: usize, jEnd: i32): void {
  for (let p: usize = 0; p < 8; p++) {
    const a = v128.load(src + p * 32), b = v128.load(src + p * 32 + 16);
    v128.store(tmp + p * 32, i8x16.shuffle(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23));
    v128.store(tmp + p * 32 + 16, i8x16.shuffle(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31));
  }
  for (let q: usize = 0; q < 4; q++) {
    const a0 = v128.load(tmp + q * 64), a1 = v128.load(tmp + q * 64 + 16);
    const b0 = v128.load(tmp + q * 64 + 32), b1 = v128.load(tmp + q * 64 + 48);
    v128.store(src + q * 64, i8x16.shuffle(a0, b0, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23));
    v128.store(src + q * 64 + 16, i8x16.shuffle(a0, b0, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31));
    v128.store(src + q * 64 + 32, i8x16.shuffle(a1, b1, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23));
    v128.store(src + q * 64 + 48, i8x16.shuffle(a1, b1, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31));
  }
  for (let h: usize = 0; h < 2; h++) {
    for (let m: usize = 0; m < 4; m++) {
      const a = v128.load(src + (8 * h + m) * 16), b = v128.load(src + (8 * h + 4 + m) * 16);
      v128.store(tmp + (8 * h + 2 * m) * 16, i8x16.shuffle(a, b, 0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23));
      v128.store(tmp + (8 * h + 2 * m + 1) * 16, i8x16.shuffle(a, b, 8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31));
    }
  }
  for (let i = 0; i < 8; i++) {
    const a = v128.load(tmp + <usize>i * 16), b = v128.load(tmp + <usize>(8 + i) * 16);
    if (2 * i < jEnd) v128.store(dst0 + <usize>(2 * i) * step, i8x16.shuffle(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23));
    if (2 * i + 1 < jEnd) v128.store(dst0 + <usize>(2 * i + 1) * step, i8x16.shuffle(a, b, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31));
  }
}

export function quantizeInt8(b: usize, s: usize, z: usize, K: i32, Wc: i32, bs: i32, out: usize, cs: usize, scratch: usize): void {
  columnScales(b, s, z, K, Wc, bs, cs, scratch);
  const nb = (K + bs - 1) / bs;
  const half = bs >> 1;
  const rowBytes = nb * half;
  const zpRow = (nb + 1) >> 1;
  const luts = scratch, rows = scratch + 256, tmp = scratch + 512;
  const m15 = i8x16.splat(15);
  const step = <usize>Wc * 2;
  for (let n0 = 0; n0 < Wc; n0 += 16) {
    for (let blk = 0; blk < nb; blk++) {
      for (let r = 0; r < 16; r++) {
        const n = n0 + r;
        const sc = load<f32>(s + <usize>((n * nb + blk) << 2));
        v128.store(luts + <usize>(r * 16), table(sc, zeroPoint(z, zpRow, n, blk), 1 / <f64>load<f32>(cs + <usize>(n << 2))));
      }
      const kEnd = min(K, blk * bs + bs);
      for (let c = 0; c < half; c += 16) {
        const k0 = blk * bs + 2 * c;
        const at = b + <usize>(blk * half + c);
        const jEven = (kEnd - k0 + 1) >> 1, jOdd = (kEnd - k0) >> 1;
        // Even k (low nibbles), then odd k (high nibbles).
        for (let r = 0; r < 16; r++) {
          const v = half == 8 ? v128.load64_zero(at + <usize>((n0 + r) * rowBytes)) : v128.load(at + <usize>((n0 + r) * rowBytes));
          v128.store(rows + <usize>(r * 16), i8x16.swizzle(v128.load(luts + <usize>(r * 16)), v128.and(v, m15)));
        }
        transpose(rows, tmp, out + <usize>(k0 * Wc + n0), step, jEven);
        for (let r = 0; r < 16; r++) {
          const v = half == 8 ? v128.load64_zero(at + <usize>((n0 + r) * rowBytes)) : v128.load(at + <usize>((n0 + r) * rowBytes));
          v128.store(rows + <usize>(r * 16), i8x16.swizzle(v128.load(luts + <usize>(r * 16)), i8x16.shr_u(v, 4)));
        }
        transpose(rows, tmp, out + <usize>((k0 + 1) * Wc + n0), step, jOdd);
      }
    }
  }
}
