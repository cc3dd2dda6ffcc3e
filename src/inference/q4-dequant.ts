/**
 * The arithmetic of the q4 rewrite (q4-rewrite.ts has the graph side and the measured reasons):
 * MatMulNBits' 4-bit weights, B [N, K/bs, bs/2] (low nibble first) with per-block scales and zero
 * points (value = (code − zero point) × scale), turned into
 * - fp32 W [K, N], exactly the values MatMulNBits computes with;
 * - int8 W [K, N] with one symmetric scale per output column (W ≈ Wq × scale[n], |Wq| ≤ 127), the
 *   layout of MatMulInteger's B and of the project's own q8 models (tools/slm/quantize.py).
 */

/** What the arithmetic needs of a MatMulNBits node. */
export interface Q4Weights {
  K: number;
  N: number;
  blockSize: number;
  scales: Float32Array;
  zeroPoints: Uint8Array | null;
  b: { data: Uint8Array | null };
}

/** Rows of W^T dequantized at a time before they are written into W's columns (cache-friendly transpose). */
const TILE = 64;

// One tile buffer for every node (one per call was a fresh allocation each time: 211 of them for
// the 135M shape, each first-touched).
let tile: Float32Array | null = null;
function tileBuffer(n: number): Float32Array {
  if (!tile || tile.length < n) tile = new Float32Array(n);
  return tile;
}

const lut = new Float32Array(16);

/** Block `blk`'s zero point in row n (two 4-bit points a byte, low nibble first; 8 when the node has none). */
function zeroPoint(zeroPoints: Uint8Array | null, zpRow: number, n: number, blk: number): number {
  return zeroPoints ? (zeroPoints[n * zpRow + (blk >> 1)]! >> ((blk & 1) * 4)) & 15 : 8;
}

/** Rows n0 … n0+rows−1 of W^T (each `padded` = whole blocks long) dequantized into `t`. */
function fillRows(p: Q4Weights, n0: number, rows: number, t: Float32Array): void {
  const { K, blockSize: bs, scales, zeroPoints } = p;
  const B = p.b.data!;
  const nb = Math.ceil(K / bs);
  const half = bs / 2;
  const padded = nb * bs;
  const zpRow = Math.ceil(nb / 2);
  for (let r = 0; r < rows; r++) {
    const n = n0 + r;
    let o = r * padded;
    for (let blk = 0; blk < nb; blk++) {
      const scale = scales[n * nb + blk]!;
      const zp = zeroPoint(zeroPoints, zpRow, n, blk);
      for (let c = 0; c < 16; c++) lut[c] = (c - zp) * scale;
      const base = (n * nb + blk) * half;
      for (let j = 0; j < half; j++) {
        const byte = B[base + j]!;
        t[o++] = lut[byte & 15]!;
        t[o++] = lut[byte >> 4]!;
      }
    }
  }
}

/** W [K, N] row-major fp32, written at element `at` of `W`. */
export function dequantize(p: Q4Weights, W: Float32Array<ArrayBufferLike> = new Float32Array(p.K * p.N), at = 0): Float32Array<ArrayBufferLike> {
  const { K, N } = p;
  const padded = Math.ceil(K / p.blockSize) * p.blockSize;
  // Measured: writing W column by column straight from B took 5.5 s for a 16M-parameter model
  // (every store a cache miss once N is the vocabulary); TILE rows of W^T first, then the columns.
  const t = tileBuffer(TILE * padded);
  for (let n0 = 0; n0 < N; n0 += TILE) {
    const rows = Math.min(TILE, N - n0);
    fillRows(p, n0, rows, t);
    for (let k = 0; k < K; k++) {
      const w = at + k * N + n0;
      for (let r = 0; r < rows; r++) W[w + r] = t[r * padded + k]!;
    }
  }
  return W;
}

/**
 * Wq [K, N] int8 written at element `at` of `Wq`, and `scale` [N]: per output column n, the scale is
 * max_k |W[k][n]| / 127 (1 for an all-zero column) and Wq = round(W / scale), as quantize.py does.
 *
 * Works on the 4-bit codes, not on dequantized floats: a column's largest magnitude is at its
 * blocks' smallest or largest code, and each block then maps its 16 codes through a 16-entry int8
 * table. Measured on the Qwen2.5-0.5B shape (494M weights, Node, 2-core machine at load 6): 7.1–9.2 s
 * through fp32 tiles (dequantize, max, divide, round), 5.2–5.7 s with the tables (the same runs).
 */
export function quantizeInt8(p: Q4Weights, Wq: Int8Array, at: number, scale: Float32Array): void {
  const { K, N, blockSize: bs, scales, zeroPoints } = p;
  const B = p.b.data!;
  const nb = Math.ceil(K / bs);
  const half = bs / 2;
  const padded = nb * bs;
  const zpRow = Math.ceil(nb / 2);
  const t = int8Tile(TILE * padded);
  const lut8 = new Int8Array(16);
  for (let n0 = 0; n0 < N; n0 += TILE) {
    const rows = Math.min(TILE, N - n0);
    for (let r = 0; r < rows; r++) {
      const n = n0 + r;
      // The column's largest |value|: per block, at its smallest or largest code (padding past K excluded).
      let amax = 0;
      for (let blk = 0; blk < nb; blk++) {
        const base = (n * nb + blk) * half;
        const valid = Math.min(bs, K - blk * bs);
        let lo = 15;
        let hi = 0;
        const whole = valid >> 1;
        for (let j = 0; j < whole; j++) {
          const byte = B[base + j]!;
          const a = NIB_LO[byte]!;
          const b = NIB_HI[byte]!;
          if (a < lo) lo = a;
          if (b > hi) hi = b;
        }
        if (valid & 1) {
          const c = B[base + whole]! & 15;
          if (c < lo) lo = c;
          if (c > hi) hi = c;
        }
        const sc = scales[n * nb + blk]!;
        const zp = zeroPoint(zeroPoints, zpRow, n, blk);
        const m = Math.max(Math.abs((lo - zp) * sc), Math.abs((hi - zp) * sc));
        if (m > amax) amax = m;
      }
      const s = amax > 0 ? Math.fround(amax / 127) : 1;
      scale[n] = s;
      let o = r * padded;
      for (let blk = 0; blk < nb; blk++) {
        const sc = scales[n * nb + blk]!;
        const zp = zeroPoint(zeroPoints, zpRow, n, blk);
        for (let c = 0; c < 16; c++) {
          const q = Math.round(Math.fround((c - zp) * sc) / s);
          lut8[c] = q > 127 ? 127 : q < -127 ? -127 : q;
        }
        const base = (n * nb + blk) * half;
        for (let j = 0; j < half; j++) {
          const byte = B[base + j]!;
          t[o++] = lut8[byte & 15]!;
          t[o++] = lut8[byte >> 4]!;
        }
      }
    }
    for (let k = 0; k < K; k++) {
      const w = at + k * N + n0;
      for (let r = 0; r < rows; r++) Wq[w + r] = t[r * padded + k]!;
    }
  }
}

/** The smaller and the larger of a byte's two 4-bit codes. */
const NIB_LO = Uint8Array.from({ length: 256 }, (_, b) => Math.min(b & 15, b >> 4));
const NIB_HI = Uint8Array.from({ length: 256 }, (_, b) => Math.max(b & 15, b >> 4));

let tile8: Int8Array | null = null;
function int8Tile(n: number): Int8Array {
  if (!tile8 || tile8.length < n) tile8 = new Int8Array(n);
  return tile8;
}
