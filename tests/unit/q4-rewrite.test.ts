import { describe, expect, it } from 'vitest';
import { FP32_WEIGHTS_PATH, prepareForOrt } from '../../src/engines/local/worker/external-weights';
import { INLINE_WEIGHTS_PATH } from '../../src/inference/external-data';
import { dequantize } from '../../src/inference/q4-dequant';
import { createInt8Quantizer } from '../../src/inference/q4-int8';
import { rewriteQ4 } from '../../src/inference/q4-rewrite';
import { Q4_REWRITE_LIMITS } from '../../src/models/dtypes';
import { fields, int64s, str, Writer, type Field } from '../../src/lib/protobuf';
import { pack, q4Node, tensor } from './q4-fixtures';

const code = (k: number, n: number) => (k * 7 + n * 3) % 16;
const zp = (n: number, b: number) => (n + 2 * b + 5) % 16;
const scale = (n: number, b: number) => 0.01 * (1 + n) + 0.001 * b;
const want = (k: number, n: number, bs: number) => Math.fround((code(k, n) - zp(n, Math.floor(k / bs))) * Math.fround(scale(n, Math.floor(k / bs))));

describe('q4 → fp32 rewrite', () => {
  it('dequantize: W[k][n] = (code − zero point) × scale per block, K not a multiple of the block, odd block count', () => {
    const K = 40, N = 70, bs = 16; // nb = 3 (odd: half a zero-point byte unused), N > the 64-row tile
    const { B, scales, zps } = pack(K, N, bs, code, zp, scale);
    const W = dequantize({ K, N, blockSize: bs, scales, zeroPoints: zps, b: { data: B } });
    expect(W.length).toBe(K * N);
    for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) expect(W[k * N + n]).toBe(want(k, n, bs));
    // No zero points: 8.
    const W8 = dequantize({ K, N, blockSize: bs, scales, zeroPoints: null, b: { data: B } });
    expect(W8[5 * N + 3]).toBe(Math.fround((code(5, 3) - 8) * Math.fround(scale(3, 0))));
  });

  it('rewrites a MatMulNBits node into MatMul + fp32 initializer, drops the packed ones, keeps everything else', () => {
    const K = 32, N = 4, bs = 16;
    const { B, scales, zps } = pack(K, N, bs, code, zp, scale);
    const node = q4Node(K, N, bs);
    const relu = new Writer().string(1, 'y').string(2, 'z').string(4, 'Relu');
    const graph = new Writer().bytes(1, node).bytes(1, relu).string(2, 'g')
      .bytes(5, tensor('B', [N, K / bs, bs / 2], 2, B)).bytes(5, tensor('S', [N * (K / bs)], 1, new Uint8Array(scales.buffer)))
      .bytes(5, tensor('Z', [N], 2, zps)).bytes(5, tensor('keep', [1], 1, new Uint8Array(4)));
    const model = new Writer().int(1, 8).bytes(7, graph).string(2, 'test').finish();

    const r = rewriteQ4(model);
    expect(r).toMatchObject({ converted: 1, kept: 0, fp32Bytes: K * N * 4, skipped: null });
    const out = r.bytes!;
    const top = fields(out);
    expect(top.map((f) => f.no)).toEqual([1, 7, 2]);
    const g = top.find((f) => f.no === 7)!;
    const gfs = fields(out, g.valueStart, g.valueEnd);
    const nodes = gfs.filter((f) => f.no === 1).map((f) => fields(out, f.valueStart, f.valueEnd));
    const op = (nfs: ReturnType<typeof fields>) => str(out, nfs.find((x) => x.no === 4)!);
    expect(nodes.map(op)).toEqual(['MatMul', 'Relu']);
    expect(nodes[0]!.filter((x) => x.no === 1).map((x) => str(out, x))).toEqual(['x', 'mm_fp32_weight']);
    expect(str(out, nodes[0]!.find((x) => x.no === 2)!)).toBe('y');
    const inits = gfs.filter((f) => f.no === 5).map((f) => fields(out, f.valueStart, f.valueEnd));
    const names = inits.map((t) => str(out, t.find((x) => x.no === 8)!));
    expect(names).toEqual(['keep', 'mm_fp32_weight']);
    const w = inits[1]!;
    expect(int64s(out, w, 1)).toEqual([K, N]);
    const raw = w.find((x) => x.no === 9)!;
    const W = new Float32Array(out.slice(raw.valueStart, raw.valueEnd).buffer);
    for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) expect(W[k * N + n]).toBe(want(k, n, bs));

    // Over the size bound: nothing rewritten, and it says why.
    const capped = rewriteQ4(model, { maxFp32Bytes: 100 });
    expect(capped.bytes).toBeNull();
    expect(capped.skipped).toMatch(/exceed/);
    // No MatMulNBits at all: untouched.
    expect(rewriteQ4(new Writer().int(1, 8).bytes(7, new Writer().bytes(1, relu)).finish())).toMatchObject({ bytes: null, converted: 0, kept: 0 });
  });

  /** The test model above, with `pad` extra bytes in the graph's name (moves every later offset) and a 8 KiB initializer read by the Relu. */
  function q4Model(pad: number) {
    const K = 32, N = 4, bs = 16;
    const { B, scales, zps } = pack(K, N, bs, code, zp, scale);
    const node = q4Node(K, N, bs);
    const add = new Writer().string(1, 'y').string(1, 'big').string(2, 'z').string(4, 'Add');
    const big = Uint8Array.from({ length: 8192 }, (_, i) => (i * 31) & 255);
    const graph = new Writer().bytes(1, node).bytes(1, add).string(2, 'g' + 'p'.repeat(pad))
      .bytes(5, tensor('B', [N, K / bs, bs / 2], 2, B)).bytes(5, tensor('S', [N * (K / bs)], 1, new Uint8Array(scales.buffer)))
      .bytes(5, tensor('Z', [N], 2, zps)).bytes(5, tensor('big', [2048], 1, big)).bytes(5, tensor('keep', [1], 1, new Uint8Array(4)));
    return { K, N, bs, big, model: new Writer().int(1, 8).bytes(7, graph).string(2, 'test').finish() };
  }


  it('inline: the fp32 weights are right wherever they land (4-byte aligned or not), through a reused buffer', () => {
    for (let pad = 0; pad < 4; pad++) {
      const { K, N, bs, model } = q4Model(pad);
      const out = rewriteQ4(model).bytes!;
      const w = inits(out).find((t) => tname(out, t) === 'mm_fp32_weight')!;
      const raw = w.find((x) => x.no === 9)!;
      const W = new Float32Array(out.slice(raw.valueStart, raw.valueEnd).buffer);
      for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) expect(W[k * N + n]).toBe(want(k, n, bs));
    }
  });

  it('external mode: a small model whose fp32 weights and large kept initializers are references into the two mounted buffers', () => {
    const { K, N, bs, big, model } = q4Model(1);
    const r = rewriteQ4(model, {}, { modelFile: 'm.bin', weightsFile: 'w.bin' });
    expect(r).toMatchObject({ converted: 1, kept: 0, fp32Bytes: K * N * 4 });
    const out = r.bytes!;
    expect(out.length).toBeLessThan(1000);
    expect(r.externalData.map((e) => e.path)).toEqual(['m.bin', 'w.bin']);
    const [m, w] = r.externalData.map((e) => e.data) as [Uint8Array, Uint8Array];
    expect(m).toBe(model);
    const ts = inits(out);
    expect(ts.map((t) => tname(out, t))).toEqual(['big', 'keep', 'mm_fp32_weight']);
    const [tb, tk, tw] = ts as [Field[], Field[], Field[]];
    // Small initializers stay inline; large ones point at their own bytes in the model.
    expect(tk.some((x) => x.no === 9)).toBe(true);
    expect(tb.some((x) => x.no === 9)).toBe(false);
    expect(tb.find((x) => x.no === 14)?.varint).toBe(1);
    const eb = ext(out, tb);
    expect(eb.get('location')).toBe('m.bin');
    expect([...m.subarray(Number(eb.get('offset')), Number(eb.get('offset')) + Number(eb.get('length')))]).toEqual([...big]);
    expect(int64s(out, tb, 1)).toEqual([2048]);
    // The new weight: [K, N] fp32 in w.bin.
    const ew = ext(out, tw);
    expect(ew.get('location')).toBe('w.bin');
    expect(Number(ew.get('length'))).toBe(K * N * 4);
    const W = new Float32Array(w.slice(Number(ew.get('offset')), Number(ew.get('offset')) + K * N * 4).buffer);
    for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) expect(W[k * N + n]).toBe(want(k, n, bs));
    expect(int64s(out, tw, 1)).toEqual([K, N]);
  });

  it('dequantize writes at an offset of a shared buffer exactly what it returns alone', () => {
    const K = 48, N = 5, bs = 16;
    const { B, scales, zps } = pack(K, N, bs, code, zp, scale);
    const p = { K, N, blockSize: bs, scales, zeroPoints: zps, b: { data: B } };
    const alone = dequantize(p);
    const shared = new Float32Array(7 + K * N + 3).fill(-1);
    dequantize(p, shared, 7);
    expect([...shared.subarray(7, 7 + K * N)]).toEqual([...alone]);
    expect([shared[6], shared[7 + K * N]]).toEqual([-1, -1]);
  });
});

const inits = (out: Uint8Array) => {
  const g = fields(out).find((f) => f.no === 7)!;
  return fields(out, g.valueStart, g.valueEnd).filter((f) => f.no === 5).map((f) => fields(out, f.valueStart, f.valueEnd));
};
const tname = (out: Uint8Array, t: Field[]) => str(out, t.find((x) => x.no === 8)!);
/** A tensor's external-data entries as a key → value map. */
const ext = (out: Uint8Array, t: Field[]) =>
  new Map(t.filter((x) => x.no === 13).map((e) => {
    const kv = fields(out, e.valueStart, e.valueEnd);
    return [str(out, kv.find((x) => x.no === 1)!), str(out, kv.find((x) => x.no === 2)!)];
  }));

describe('q4 → int8 rewrite (past the fp32 bound)', () => {
  const INT8 = { maxFp32Bytes: 0, maxInt8Bytes: Infinity };

  /** Two MatMulNBits nodes reading the same activation x (as q/k/v do), the second with a bias. */
  function twoNodes() {
    const K = 32, N = 4, bs = 16;
    const { B, scales, zps } = pack(K, N, bs, code, zp, scale);
    const attr = (name: string, i: number) => new Writer().string(1, name).int(3, i).int(20, 2);
    const mk = (y: string, nm: string, bias: string) => {
      const node = new Writer().string(1, 'x').string(1, 'B').string(1, 'S').string(1, 'Z');
      if (bias) node.string(1, '').string(1, bias);
      node.string(2, y).string(3, nm).string(4, 'MatMulNBits').string(7, 'com.microsoft');
      for (const [k, v] of [['K', K], ['N', N], ['bits', 4], ['block_size', bs]] as const) node.bytes(5, attr(k, v));
      return node;
    };
    const graph = new Writer().bytes(1, mk('y1', 'a', '')).bytes(1, mk('y2', 'b', 'bias')).string(2, 'g')
      .bytes(5, tensor('B', [N, K / bs, bs / 2], 2, B)).bytes(5, tensor('S', [N * (K / bs)], 1, new Uint8Array(scales.buffer)))
      .bytes(5, tensor('Z', [N], 2, zps)).bytes(5, tensor('bias', [N], 1, new Uint8Array(16)));
    return { K, N, bs, B, scales, zps, model: new Writer().int(1, 8).bytes(7, graph).string(2, 'test').finish() };
  }

  it('rewrites to DynamicQuantizeLinear (one per activation) → MatMulInteger → Cast → Mul, int8 weights [K, N] with column scales and zero points', () => {
    const { K, N, bs, B, scales, zps, model } = twoNodes();
    const r = rewriteQ4(model, INT8);
    expect(r).toMatchObject({ converted: 2, kept: 0, to: 'int8', addedBytes: 2 * K * N, fp32Bytes: 2 * K * N * 4, skipped: null });
    const out = r.bytes!;
    const g = fields(out).find((f) => f.no === 7)!;
    const gfs = fields(out, g.valueStart, g.valueEnd);
    const nodes = gfs.filter((f) => f.no === 1).map((f) => fields(out, f.valueStart, f.valueEnd));
    const op = (nfs: Field[]) => str(out, nfs.find((x) => x.no === 4)!);
    const ins = (nfs: Field[]) => nfs.filter((x) => x.no === 1).map((x) => str(out, x));
    const outs = (nfs: Field[]) => nfs.filter((x) => x.no === 2).map((x) => str(out, x));
    expect(nodes.map(op)).toEqual(['DynamicQuantizeLinear', 'MatMulInteger', 'Cast', 'Mul', 'Mul', 'MatMulInteger', 'Cast', 'Mul', 'Mul', 'Add']);
    const [dql, mmi1, cast1, , mul1, mmi2, , , mul2, add] = nodes as Field[][];
    expect(ins(dql!)).toEqual(['x']);
    const [xq, xs, xz] = outs(dql!);
    expect(ins(mmi1!)).toEqual([xq, 'a_int8_weight', xz, 'a_int8_zp']);
    expect(ins(mmi2!)[0]).toBe(xq);
    // Cast's `to` is FLOAT.
    const to = cast1!.filter((x) => x.no === 5).map((a) => fields(out, a.valueStart, a.valueEnd)).find((a) => str(out, a.find((x) => x.no === 1)!) === 'to')!;
    expect(to.find((x) => x.no === 3)!.varint).toBe(1);
    expect(outs(mul1!)).toEqual(['y1']);
    expect(outs(mul2!)).toEqual(['y2_nobias']);
    expect([ins(add!), outs(add!)]).toEqual([['y2_nobias', 'bias'], ['y2']]);
    expect(xs).toBeTruthy();
    // Initializers: the packed ones gone, the bias kept; int8 weight, column scales, zero points.
    const ts = gfs.filter((f) => f.no === 5).map((f) => fields(out, f.valueStart, f.valueEnd));
    const byName = new Map(ts.map((t) => [str(out, t.find((x) => x.no === 8)!), t]));
    expect([...byName.keys()].sort()).toEqual(['a_int8_scale', 'a_int8_weight', 'a_int8_zp', 'b_int8_scale', 'b_int8_weight', 'b_int8_zp', 'bias']);
    const raw = (t: Field[]) => out.slice(t.find((x) => x.no === 9)!.valueStart, t.find((x) => x.no === 9)!.valueEnd);
    const w = byName.get('a_int8_weight')!;
    expect([int64s(out, w, 1), w.find((x) => x.no === 2)!.varint]).toEqual([[K, N], 3]);
    const want = new Int8Array(K * N);
    const wantScale = new Float32Array(N);
    createInt8Quantizer()({ K, N, blockSize: bs, scales, zeroPoints: zps, b: { data: B } }, want, 0, wantScale);
    expect([...new Int8Array(raw(w).buffer)]).toEqual([...want]);
    expect([...new Float32Array(raw(byName.get('a_int8_scale')!).buffer)]).toEqual([...wantScale]);
    const z = byName.get('a_int8_zp')!;
    expect([z.find((x) => x.no === 2)!.varint, [...raw(z)]]).toEqual([3, new Array(N).fill(0)]);
  });

  it('fp32 while it fits its bound, int8 past it, neither past both (and it says why); external mode puts the int8 weights in the mounted buffer', () => {
    const { K, N, model } = twoNodes();
    expect(rewriteQ4(model, { maxFp32Bytes: 2 * K * N * 4, maxInt8Bytes: Infinity }).to).toBe('fp32');
    expect(rewriteQ4(model, { maxFp32Bytes: 2 * K * N * 4 - 1, maxInt8Bytes: 2 * K * N }).to).toBe('int8');
    const none = rewriteQ4(model, { maxFp32Bytes: 2 * K * N * 4 - 1, maxInt8Bytes: 2 * K * N - 1 });
    expect(none).toMatchObject({ bytes: null, to: null, kept: 2 });
    expect(none.skipped).toMatch(/fp32 weights would exceed .* and .* of int8 ones/);
    const r = rewriteQ4(model, INT8, { modelFile: 'm.bin', weightsFile: 'w.bin' });
    expect(r.externalData.map((e) => [e.path, e.data.length])).toEqual([['m.bin', model.length], ['w.bin', 2 * K * N]]);
    // The mounted bytes are the two int8 weights, each where its tensor's reference says.
    const out = r.bytes!;
    const w = inits(out).find((t) => tname(out, t) === 'b_int8_weight')!;
    expect(w.some((x) => x.no === 9)).toBe(false);
    const e = ext(out, w);
    expect([e.get('location'), e.get('offset'), e.get('length')]).toEqual(['w.bin', String(K * N), String(K * N)]);
    const inline = rewriteQ4(model, INT8).bytes!;
    const wi = inits(inline).find((t) => tname(inline, t) === 'b_int8_weight')!.find((x) => x.no === 9)!;
    expect([...r.externalData[1]!.data.subarray(K * N)]).toEqual([...inline.subarray(wi.valueStart, wi.valueEnd)]);
  });
});

describe("the worker's preparation for ONNX Runtime Web (external-weights.ts)", () => {
  it('q4: rewritten and external (model + weights); no MatMulNBits: externalized into the bytes themselves; nothing large: untouched', async () => {
    const K = 32, N = 4, bs = 16;
    const { B, scales, zps } = pack(K, N, bs, code, zp, scale);
    const node = q4Node(K, N, bs);
    const emb = new Uint8Array(8192).fill(7);
    const q4 = new Writer().int(1, 8).bytes(7, new Writer().bytes(1, node).bytes(5, tensor('B', [N, K / bs, bs / 2], 2, B))
      .bytes(5, tensor('S', [N * (K / bs)], 1, new Uint8Array(scales.buffer))).bytes(5, tensor('Z', [N], 2, zps)).bytes(5, tensor('emb', [2048], 1, emb))).finish();
    const qa = await prepareForOrt(q4);
    const a = qa.prepared!;
    expect(a.externalData.map((e) => e.path)).toEqual([INLINE_WEIGHTS_PATH, FP32_WEIGHTS_PATH]);
    expect(a.externalData.map((e) => e.data.length)).toEqual([q4.length, K * N * 4]);
    expect(a.externalData[0]!.data).toBe(q4);
    expect(a.bytes.length).toBeLessThan(q4.length - 8192);
    // The fp32 weight (128 bytes, under the threshold, but in the weights file all the same) and emb.
    expect([a.externalTensors, a.externalBytes]).toEqual([2, K * N * 4 + 8192]);
    expect(qa.rewrite).toMatchObject({ converted: 1, kept: 0, fp32Bytes: K * N * 4, fp32MaxBytes: Q4_REWRITE_LIMITS.maxFp32Bytes, to: 'fp32', skipped: null });
    // A device's bound below the weights' fp32 size: int8, 1 byte a weight, and the record says the bound.
    const low = await prepareForOrt(q4, { maxFp32Bytes: K * N * 4 - 1, maxInt8Bytes: Q4_REWRITE_LIMITS.maxInt8Bytes });
    expect(low.rewrite).toMatchObject({ converted: 1, to: 'int8', fp32MaxBytes: K * N * 4 - 1, addedBytes: K * N });
    expect(low.prepared!.externalData.map((e) => e.data.length)).toEqual([q4.length, K * N]);

    const relu = new Writer().string(1, 'x').string(2, 'y').string(4, 'Relu');
    const plain = new Writer().int(1, 8).bytes(7, new Writer().bytes(1, relu).bytes(5, tensor('emb', [2048], 1, emb))).finish();
    const pb = await prepareForOrt(plain);
    expect(pb.rewrite).toBeNull();
    const b = pb.prepared!;
    expect(b.externalData).toHaveLength(1);
    expect(b.externalData[0]!.data).toBe(plain);
    expect(b.bytes.length).toBeLessThan(200);

    const small = new Writer().int(1, 8).bytes(7, new Writer().bytes(1, relu).bytes(5, tensor('s', [1], 1, new Uint8Array(4)))).finish();
    expect(await prepareForOrt(small)).toEqual({ prepared: null, rewrite: null });
  });
});

