/** Builders of small ONNX models with 4-bit MatMulNBits nodes, for the q4 rewrite's tests. */
import { Writer } from '../../src/lib/protobuf';

/** Codes, scales and zero points of a [K, N] weight in MatMulNBits' layout (bits 4, block bs). */
export function pack(K: number, N: number, bs: number, code: (k: number, n: number) => number, zp: (n: number, b: number) => number, scale: (n: number, b: number) => number) {
  const nb = Math.ceil(K / bs);
  const B = new Uint8Array(N * nb * (bs / 2));
  const scales = new Float32Array(N * nb);
  const zps = new Uint8Array(N * Math.ceil(nb / 2));
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < nb; b++) {
      scales[n * nb + b] = scale(n, b);
      zps[n * Math.ceil(nb / 2) + (b >> 1)]! |= zp(n, b) << ((b & 1) * 4);
      for (let j = 0; j < bs; j++) {
        const k = b * bs + j;
        const c = k < K ? code(k, n) : 0;
        B[(n * nb + b) * (bs / 2) + (j >> 1)]! |= c << ((j & 1) * 4);
      }
    }
  }
  return { B, scales, zps };
}

/** A TensorProto: dims, data type, name, raw bytes. */
export function tensor(name: string, dims: number[], type: number, raw: Uint8Array): Writer {
  const t = new Writer();
  for (const d of dims) t.int(1, d);
  return t.int(2, type).string(8, name).bytes(9, raw);
}

/** A 4-bit MatMulNBits node `mm`: y = x · (B, S, Z), [K, N], block `bs` (`suffix` appended to every name but x). */
export function q4Node(K: number, N: number, bs: number, suffix = ''): Writer {
  const attr = (name: string, i: number) => new Writer().string(1, name).int(3, i).int(20, 2);
  const [B, S, Z, y, mm] = ['B', 'S', 'Z', 'y', 'mm'].map((n) => n + suffix) as [string, string, string, string, string];
  const node = new Writer().string(1, 'x').string(1, B).string(1, S).string(1, Z).string(2, y).string(3, mm).string(4, 'MatMulNBits').string(7, 'com.microsoft');
  for (const [k, v] of [['K', K], ['N', N], ['bits', 4], ['block_size', bs], ['accuracy_level', 4]] as const) node.bytes(5, attr(k, v));
  return node;
}
