/** Builders of small runnable ONNX models with a MatMulInteger, for the int8 → uint8 weight tests. */
import { Writer } from '../../src/lib/protobuf';
import { tensor } from './q4-fixtures';

const INT32 = 6;
const UINT8 = 2;
const INT8 = 3;

/** ValueInfoProto: a tensor of `type` and `dims`. */
function valueInfo(name: string, type: number, dims: number[]): Writer {
  const shape = new Writer();
  for (const d of dims) shape.bytes(1, new Writer().int(1, d));
  return new Writer().string(1, name).bytes(2, new Writer().bytes(1, new Writer().int(1, type).bytes(2, shape)));
}

export interface MmiOptions {
  /** W[k][n], int8 (−128..127). */
  w: (k: number, n: number) => number;
  /** W's zero point per column; null: none given (0). */
  zp: ((n: number) => number) | null;
  /** A Gather that reads W too (W must then stay int8). */
  gatherW?: boolean;
  /** A second MatMulInteger on the same W (y2). */
  twice?: boolean;
  /** W stored as external data (no raw bytes in the model). */
  externalW?: boolean;
}

/** y = MatMulInteger(a uint8 [M, K], W int8 [K, N], a_zp = 0, W_zp) as int32 [M, N]; opset 13. */
export function mmiModel(M: number, K: number, N: number, o: MmiOptions): Uint8Array {
  const W = new Int8Array(K * N);
  for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) W[k * N + n] = o.w(k, n);
  const node = (out: string) => {
    const w = new Writer().string(1, 'a').string(1, 'W');
    if (o.zp) w.string(1, 'a_zp').string(1, 'W_zp');
    return w.string(2, out).string(3, `mmi_${out}`).string(4, 'MatMulInteger');
  };
  const g = new Writer().bytes(1, node('y'));
  if (o.twice) g.bytes(1, node('y2'));
  if (o.gatherW) g.bytes(1, new Writer().string(1, 'W').string(1, 'idx').string(2, 'rows').string(3, 'gather').string(4, 'Gather'));
  g.string(2, 'g');
  if (o.externalW) {
    const loc = (k: string, v: string) => new Writer().string(1, k).string(2, v);
    const t = new Writer().int(1, K).int(1, N).int(2, INT8).string(8, 'W').bytes(13, loc('location', 'w.bin')).bytes(13, loc('offset', '0')).bytes(13, loc('length', String(K * N))).int(14, 1);
    g.bytes(5, t);
  } else g.bytes(5, tensor('W', [K, N], INT8, new Uint8Array(W.buffer)));
  if (o.zp) {
    g.bytes(5, tensor('a_zp', [], UINT8, Uint8Array.of(0)));
    g.bytes(5, tensor('W_zp', [N], INT8, new Uint8Array(Int8Array.from({ length: N }, (_, n) => o.zp!(n)).buffer)));
  }
  if (o.gatherW) g.bytes(5, tensor('idx', [1], 7, new Uint8Array(8)));
  g.bytes(11, valueInfo('a', UINT8, [M, K]));
  g.bytes(12, valueInfo('y', INT32, [M, N]));
  if (o.twice) g.bytes(12, valueInfo('y2', INT32, [M, N]));
  if (o.gatherW) g.bytes(12, valueInfo('rows', INT8, [1, N]));
  return new Writer().int(1, 8).bytes(8, new Writer().string(1, '').int(2, 13)).bytes(7, g).finish();
}

/** The exact int32 result of the model above for `a`. */
export function mmiExact(a: Uint8Array, M: number, K: number, N: number, o: MmiOptions): Int32Array {
  const y = new Int32Array(M * N);
  for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += a[m * K + k]! * (o.w(k, n) - (o.zp ? o.zp(n) : 0));
    y[m * N + n] = s;
  }
  return y;
}
