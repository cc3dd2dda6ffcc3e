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
 *
 * Four columns at a time: their four tables are pre-shifted into the bytes of one 32-bit word, so
 * each k gives one word store (little-endian, as WebAssembly and ONNX Runtime are) into a [k][TILE]
 * tile, copied out a word at a time; a block's smallest and largest code come from a bit mask of the
 * codes present (one table read and an OR a byte, no branches); and a table entry is rounded as
 * `(x + 128.5) | 0` − 128, Math.round's floor(x + 0.5) for |x| ≤ 127.5 (x + 128.5 > 0), which V8
 * ran about 5x faster than Math.round here. It can differ from Math.round only within 2^-46 of a
 * tie: none of the 494M weights below did. No clamp: |x| ≤ amax / s ≤ 127 × (1 + 2^-24).
 * Measured on the 0.5B shape's MatMuls (random codes, Node, quiet 2-core machine, warm, output
 * byte-identical): 2.5–2.6 s the byte-at-a-time way (tables, tile, byte transpose), 1.1–1.2 s this
 * way (~0.3 s of it the tables, ~0.15 s the scans, ~0.15 s the copy, the rest the word loop).
 */
export function quantizeInt8(p: Q4Weights, Wq: Int8Array, at: number, scale: Float32Array): void {
  const { K, N, blockSize: bs, scales, zeroPoints } = p;
  const B = p.b.data!;
  const nb = Math.ceil(K / bs);
  const half = bs / 2;
  const padded = nb * bs;
  const zpRow = Math.ceil(nb / 2);
  const rowBytes = nb * half;
  const t = wordTile(padded * WORDS);
  const tb = new Int8Array(t.buffer, 0, padded * TILE);
  // Word copies need every destination row to start on a word; otherwise bytes.
  const aligned = (Wq.byteOffset + at) % 4 === 0 && N % 4 === 0;
  const out = aligned ? new Int32Array(Wq.buffer, Wq.byteOffset + at, (K * N) / 4) : null;
  const lut = new Int32Array(64);
  for (let n0 = 0; n0 < N; n0 += TILE) {
    const rows = Math.min(TILE, N - n0);
    for (let g = 0; g < rows; g += 4) {
      // The group's four columns (one past N repeats the last; its bytes are not copied), then their scales.
      for (let r = 0; r < 4; r++) groupRow[r] = Math.min(n0 + g + r, N - 1);
      for (let r = 0; r < 4; r++) {
        const n = groupRow[r]!;
        let amax = 0;
        for (let blk = 0; blk < nb; blk++) {
          const base = n * rowBytes + blk * half;
          const valid = Math.min(bs, K - blk * bs);
          const whole = valid >> 1;
          let mask = 0;
          for (let j = 0; j < whole; j++) mask |= CODE_BITS[B[base + j]!]!;
          if (valid & 1) mask |= 1 << (B[base + whole]! & 15);
          const lo = 31 - Math.clz32(mask & -mask);
          const hi = 31 - Math.clz32(mask);
          const sc = scales[n * nb + blk]!;
          const zp = zeroPoint(zeroPoints, zpRow, n, blk);
          const m = Math.max(Math.abs((lo - zp) * sc), Math.abs((hi - zp) * sc));
          if (m > amax) amax = m;
        }
        const s = amax > 0 ? Math.fround(amax / 127) : 1;
        groupScale[r] = s;
        if (n0 + g + r < N) scale[n0 + g + r] = s;
      }
      const w = g >> 2;
      for (let blk = 0; blk < nb; blk++) {
        for (let r = 0; r < 4; r++) {
          const row = groupRow[r]!;
          const sc = scales[row * nb + blk]!;
          const zp = zeroPoint(zeroPoints, zpRow, row, blk);
          const s = groupScale[r]!;
          // (y ^ 128) is the byte of y − 128; shifted into column r's byte of the word.
          for (let c = 0; c < 16; c++) lut[r * 16 + c] = (((Math.fround((c - zp) * sc) / s + 128.5) | 0) ^ 128) << (8 * r);
        }
        const o = blk * half;
        const b0 = groupRow[0]! * rowBytes + o, b1 = groupRow[1]! * rowBytes + o, b2 = groupRow[2]! * rowBytes + o, b3 = groupRow[3]! * rowBytes + o;
        let k = blk * bs * WORDS + w;
        for (let j = 0; j < half; j++) {
          const x0 = B[b0 + j]!, x1 = B[b1 + j]!, x2 = B[b2 + j]!, x3 = B[b3 + j]!;
          t[k] = lut[x0 & 15]! | lut[16 + (x1 & 15)]! | lut[32 + (x2 & 15)]! | lut[48 + (x3 & 15)]!;
          t[k + WORDS] = lut[x0 >> 4]! | lut[16 + (x1 >> 4)]! | lut[32 + (x2 >> 4)]! | lut[48 + (x3 >> 4)]!;
          k += 2 * WORDS;
        }
      }
    }
    if (out && rows === TILE) {
      for (let k = 0, d = (n0 >> 2); k < K; k++, d += N >> 2) {
        const from = k * WORDS;
        for (let i = 0; i < WORDS; i++) out[d + i] = t[from + i]!;
      }
    } else {
      for (let k = 0; k < K; k++) {
        const d = at + k * N + n0;
        const from = k * TILE;
        for (let r = 0; r < rows; r++) Wq[d + r] = tb[from + r]!;
      }
    }
  }
}

/** Words of the int8 tile a k: TILE columns, four a word. */
const WORDS = TILE / 4;
const groupScale = new Float32Array(4);
const groupRow = new Int32Array(4);

/** Bit c set for each of a byte's two 4-bit codes c. */
const CODE_BITS = Uint32Array.from({ length: 256 }, (_, b) => (1 << (b & 15)) | (1 << (b >> 4)));

let tile32: Int32Array | null = null;
function wordTile(n: number): Int32Array {
  if (!tile32 || tile32.length < n) tile32 = new Int32Array(n);
  return tile32;
}

/** What the rewrite makes of 4-bit weights: fp32 (4 bytes a weight) or int8 with column scales (1 byte). */
export type RewriteTo = 'fp32' | 'int8';

/** A group of nodes' new weights: one buffer, each node's weights after the one before; int8: each node's column scales. */
export interface FilledGroup {
  data: Uint8Array;
  scales: Float32Array[];
}

/**
 * `jobs`' new weights one after another in one new buffer (as the rewrite lays out a weights file),
 * with each int8 job's column scales. The rewrite's helpers (worker/rewrite.worker.ts) and the
 * worker itself each fill one group.
 */
export function fillGroup(jobs: readonly Q4Weights[], to: RewriteTo): FilledGroup {
  const elem = to === 'fp32' ? 4 : 1;
  const buf = new ArrayBuffer(jobs.reduce((s, p) => s + p.K * p.N * elem, 0));
  const scales: Float32Array[] = [];
  let at = 0;
  for (const p of jobs) {
    if (to === 'fp32') dequantize(p, new Float32Array(buf, at, p.K * p.N));
    else {
      const scale = new Float32Array(p.N);
      quantizeInt8(p, new Int8Array(buf, at, p.K * p.N), 0, scale);
      scales.push(scale);
    }
    at += p.K * p.N * elem;
  }
  return { data: new Uint8Array(buf), scales };
}

/**
 * Job indices split into `groups` groups of about equal weight count (largest first into the
 * lightest group; each group in job order), for the rewrite's helpers. Empty groups are dropped.
 */
export function splitJobs(jobs: readonly { K: number; N: number }[], groups: number): number[][] {
  const out: number[][] = Array.from({ length: Math.max(1, groups) }, () => []);
  const load = new Array<number>(out.length).fill(0);
  const bySize = jobs.map((_, i) => i).sort((a, b) => jobs[b]!.K * jobs[b]!.N - jobs[a]!.K * jobs[a]!.N || a - b);
  for (const i of bySize) {
    let g = 0;
    for (let k = 1; k < out.length; k++) if (load[k]! < load[g]!) g = k;
    out[g]!.push(i);
    load[g]! += jobs[i]!.K * jobs[i]!.N;
  }
  return out.filter((g) => g.length).map((g) => g.sort((a, b) => a - b));
}
