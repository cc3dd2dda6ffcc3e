/**
 * 4-bit MatMulNBits weights → int8 W [K, N] with one symmetric scale per output column, in
 * WebAssembly SIMD (the kernel: tools/wasm/q4-int8.ts, compiled into q4-int8.wasm.ts).
 *
 * The definition (tests/unit/q4-rewrite.test.ts `plainInt8` computes it one weight at a time):
 * per output column n, scale[n] = fround(max_k |W[k][n]| / 127) (1 for an all-zero column), where
 * W = fround((code − zero point) × block scale); Wq[k][n] = Math.round(W[k][n] / scale[n]), so
 * |Wq| ≤ 127. It is the layout of MatMulInteger's B and of the project's own q8 models
 * (tools/slm/quantize.py).
 *
 * Measured reason (issue 12): this rewrite is on the load path of every q4 model past the fp32
 * bound. On the Qwen2.5-0.5B shape's 169 MatMulNBits nodes (494M weights, Node, quiet 2-core
 * machine, one thread): 1.30–1.41 s in JavaScript (16-entry tables, a word-at-a-time transpose),
 * 0.34–0.35 s here, byte-identical over all 494M weights. Of the kernel's ~0.3 s: ~0.09 s the
 * column scales (sixteen blocks reduced at a time), ~0.1 s the tables, ~0.1 s the nibble lookups
 * (i8x16.swizzle) and the 16×16 byte transposes. ONNX Runtime Web ships only SIMD builds, so every
 * browser that can run a model can run this.
 *
 * Exactness of the tables' arithmetic: v = fround((c − zp) × sc) and s are f32, so v / s is
 * either exactly a half-integer or at least 2^-27 from one (2v − (2m+1)s is a multiple of
 * ulp(s)/4 once |v| ≥ s/4, and ulp(s)/s ≥ 2^-24). The kernel computes v × (1/s) in f64 (within
 * 2^-45 of v / s for |v / s| ≤ 127) + 128.5 + 2^-30 and truncates: off the ties that is
 * round-to-nearest, on a tie it rounds up, as Math.round does.
 */
import { base64ToBytes } from '../lib/base64';
import { Q4_INT8_WASM } from './q4-int8.wasm';

/** What the rewrite needs of a MatMulNBits node. */
export interface Q4Weights {
  K: number;
  N: number;
  blockSize: number;
  scales: Float32Array;
  zeroPoints: Uint8Array | null;
  b: { data: Uint8Array | null };
}

interface Kernel {
  memory: WebAssembly.Memory;
  quantizeInt8(b: number, s: number, z: number, K: number, Wc: number, bs: number, out: number, cs: number, scratch: number): void;
}

let compiled: WebAssembly.Module | null = null;

/** The compiled module, once per thread (4.5 kB: compiled synchronously, which workers allow at any size). */
function module(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(base64ToBytes(Q4_INT8_WASM));
  return compiled;
}

/** The kernel's scratch space (its first page holds nothing else). */
const SCRATCH = 1024;
const FIRST = 65536;
/**
 * Working memory for one call's columns: inputs and output. 8 MiB takes a whole node of the 0.5B
 * shape but its LM head (151,936 columns: 14 calls); the memory is first-touched once per quantizer.
 */
const BUDGET = 8 << 20;

/** Writes `p`'s int8 weights at element `at` of `Wq` ([K, N] row-major) and its column scales into `scale`. */
export type Int8Quantizer = (p: Q4Weights, Wq: Int8Array, at: number, scale: Float32Array) => void;

/**
 * A quantizer with its own instance and memory (grown to the largest node's need, up to about
 * `budget` bytes), kept for as long as the caller keeps the function: one per group of nodes,
 * dropped after. A node wider than the budget takes several calls of the kernel.
 */
export function createInt8Quantizer(budget = BUDGET): Int8Quantizer {
  const k = new WebAssembly.Instance(module(), {}).exports as unknown as Kernel;
  return (p, Wq, at, scale) => {
    const { K, N, blockSize: bs, scales, zeroPoints } = p;
    const B = p.b.data;
    if (!B) throw new Error('q4 → int8: the node has no 4-bit weights');
    if (bs < 16 || (bs & (bs - 1)) !== 0) throw new Error(`q4 → int8: block size ${bs} is not a power of two of at least 16`);
    const nb = Math.ceil(K / bs);
    const rowBytes = (nb * bs) / 2;
    const zpRow = Math.ceil(nb / 2);
    const perColumn = rowBytes + nb * 4 + zpRow + K + 4;
    const width = Math.min(Math.ceil(N / 16) * 16, Math.max(16, Math.floor(budget / perColumn / 16) * 16));
    // Layout (bytes): codes, block scales (4-aligned), zero points (+8: the kernel reads 8 at a time), output, column scales.
    const bAt = FIRST;
    const sAt = bAt + align4(width * rowBytes);
    const zAt = sAt + width * nb * 4;
    const oAt = zAt + width * zpRow + 8;
    const cAt = oAt + align4(width * K);
    const end = cAt + width * 4;
    const pages = Math.ceil(end / 65536) - k.memory.buffer.byteLength / 65536;
    if (pages > 0) k.memory.grow(pages);
    const mem = new Uint8Array(k.memory.buffer);
    const dst = new Uint8Array(Wq.buffer, Wq.byteOffset, Wq.length);
    const scaleBytes = new Uint8Array(scales.buffer, scales.byteOffset, scales.byteLength);
    for (let n0 = 0; n0 < N; n0 += width) {
      const cols = Math.min(width, N - n0);
      const Wc = Math.ceil(cols / 16) * 16;
      mem.set(B.subarray(n0 * rowBytes, (n0 + cols) * rowBytes), bAt);
      mem.set(scaleBytes.subarray(n0 * nb * 4, (n0 + cols) * nb * 4), sAt);
      if (zeroPoints) mem.set(zeroPoints.subarray(n0 * zpRow, (n0 + cols) * zpRow), zAt);
      // Columns past N (up to a multiple of 16) are zeros: scale 1, nothing copied out.
      if (Wc > cols) {
        mem.fill(0, bAt + cols * rowBytes, bAt + Wc * rowBytes);
        mem.fill(0, sAt + cols * nb * 4, sAt + Wc * nb * 4);
      }
      k.quantizeInt8(bAt, sAt, zeroPoints ? zAt : 0, K, Wc, bs, oAt, cAt, SCRATCH);
      for (let kk = 0; kk < K; kk++) dst.set(mem.subarray(oAt + kk * Wc, oAt + kk * Wc + cols), at + kk * N + n0);
      scale.set(new Float32Array(k.memory.buffer, cAt, cols), n0);
    }
  };
}

function align4(n: number): number {
  return (n + 3) & ~3;
}
