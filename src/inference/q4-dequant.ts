/**
 * The arithmetic of the q4 rewrite (q4-rewrite.ts has the graph side and the measured reasons):
 * MatMulNBits' 4-bit weights, B [N, K/bs, bs/2] (low nibble first) with per-block scales and zero
 * points (value = (code − zero point) × scale), turned into
 * - fp32 W [K, N], exactly the values MatMulNBits computes with;
 * - int8 W [K, N] with one symmetric scale per output column (W ≈ Wq × scale[n], |Wq| ≤ 127), the
 *   layout of MatMulInteger's B and of the project's own q8 models: q4-int8.ts, in WebAssembly.
 */

import { createInt8Quantizer, type Q4Weights } from './q4-int8';

export type { Q4Weights } from './q4-int8';

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
  // No instance for an empty group (the harness's page thread fills none: a page may not compile
  // a module over 4 kB synchronously).
  const int8 = to === 'int8' && jobs.length ? createInt8Quantizer() : null;
  let at = 0;
  for (const p of jobs) {
    if (!int8) dequantize(p, new Float32Array(buf, at, p.K * p.N));
    else {
      const scale = new Float32Array(p.N);
      int8(p, new Int8Array(buf, at, p.K * p.N), 0, scale);
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
