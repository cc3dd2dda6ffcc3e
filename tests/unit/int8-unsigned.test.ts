import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { unsignedInt8Weights, UNSIGNED_ZERO_POINT } from '../../src/inference/int8-unsigned';
import { fields, str, type Field } from '../../src/lib/protobuf';
import { mmiModel, type MmiOptions } from './int8-fixtures';

/** The graph's nodes (op, inputs) and initializers (name → type, raw bytes) of `bytes`. */
function read(bytes: Uint8Array) {
  const g = fields(bytes).find((f) => f.no === 7)!;
  const gfs = fields(bytes, g.valueStart, g.valueEnd);
  const sub = (f: Field) => fields(bytes, f.valueStart, f.valueEnd);
  const nodes = gfs.filter((f) => f.no === 1).map(sub).map((n) => ({ op: str(bytes, n.find((x) => x.no === 4)!), inputs: n.filter((x) => x.no === 1).map((x) => str(bytes, x)), name: str(bytes, n.find((x) => x.no === 3)!) }));
  const inits = new Map(gfs.filter((f) => f.no === 5).map(sub).map((t) => {
    const raw = t.find((x) => x.no === 9);
    return [str(bytes, t.find((x) => x.no === 8)!), { type: t.find((x) => x.no === 2)!.varint, raw: raw ? bytes.slice(raw.valueStart, raw.valueEnd) : null, dims: t.filter((x) => x.no === 1).map((x) => x.varint) }] as const;
  }));
  return { nodes, inits };
}

const w = (k: number, n: number) => ((k * 37 + n * 11) % 256) - 128;
const base: MmiOptions = { w, zp: (n) => n - 2 };

describe('MatMulInteger int8 weights made uint8', () => {
  it('flips the weight and zero point bytes (+128), types them uint8, and keeps every other field and node input', () => {
    const model = mmiModel(2, 8, 4, base);
    const r = unsignedInt8Weights(model);
    expect(r).toMatchObject({ converted: 1, kept: 0, keptReasons: [] });
    const before = read(model);
    const after = read(r.bytes!);
    expect(after.nodes).toEqual(before.nodes);
    const W = after.inits.get('W')!;
    expect(W.type).toBe(2);
    expect(W.dims).toEqual([8, 4]);
    expect([...W.raw!]).toEqual([...before.inits.get('W')!.raw!].map((b) => b ^ 0x80));
    expect([...W.raw!].slice(0, 4)).toEqual([w(0, 0) + 128, w(0, 1) + 128, w(0, 2) + 128, w(0, 3) + 128]);
    expect(after.inits.get('W_zp')).toMatchObject({ type: 2, raw: Uint8Array.from([126, 127, 128, 129]) });
    // The activation's zero point is uint8 already: untouched.
    expect(after.inits.get('a_zp')).toEqual(before.inits.get('a_zp'));
  });

  it('a node without zero points gets uint8 128 for the weights (and an empty activation zero point before it)', () => {
    const r = unsignedInt8Weights(mmiModel(2, 8, 4, { w, zp: null }));
    expect(r.converted).toBe(1);
    const after = read(r.bytes!);
    expect(after.nodes[0]!.inputs).toEqual(['a', 'W', '', UNSIGNED_ZERO_POINT]);
    expect(after.inits.get(UNSIGNED_ZERO_POINT)).toEqual({ type: 2, raw: Uint8Array.of(128), dims: [] });
  });

  it('a weight two MatMulIntegers share is flipped once', () => {
    const r = unsignedInt8Weights(mmiModel(2, 8, 4, { ...base, twice: true }));
    expect(r).toMatchObject({ converted: 2, kept: 0 });
    const after = read(r.bytes!);
    expect([...after.inits.keys()].filter((n) => n === 'W')).toHaveLength(1);
    expect(after.inits.get('W')!.type).toBe(2);
  });

  it('leaves the model as it is, saying why: a weight another node reads, external data; and when nothing is int8', () => {
    expect(unsignedInt8Weights(mmiModel(2, 8, 4, { ...base, gatherW: true }))).toEqual({ bytes: null, converted: 0, kept: 1, keptReasons: ['W is shared with a node that keeps int8'] });
    expect(unsignedInt8Weights(mmiModel(2, 8, 4, { ...base, externalW: true }))).toEqual({ bytes: null, converted: 0, kept: 1, keptReasons: ['the model keeps its weights in external data'] });
    const done = unsignedInt8Weights(mmiModel(2, 8, 4, base)).bytes!;
    expect(unsignedInt8Weights(done)).toEqual({ bytes: null, converted: 0, kept: 0, keptReasons: [] });
    expect(unsignedInt8Weights(fs.readFileSync('public/models/slm-pocket/onnx/model.onnx'))).toMatchObject({ bytes: null, converted: 0, kept: 0 });
  });

  it('the embedded q8 model: every MatMulInteger (7 a layer and the head) reads uint8 weights after', () => {
    const model = new Uint8Array(fs.readFileSync('public/models/slm-pocket/onnx/model_quantized.onnx'));
    const r = unsignedInt8Weights(model);
    expect(r).toMatchObject({ converted: 29, kept: 0 });
    const after = read(r.bytes!);
    const mmi = after.nodes.filter((n) => n.op === 'MatMulInteger');
    expect(mmi).toHaveLength(29);
    for (const n of mmi) {
      expect(after.inits.get(n.inputs[1]!)!.type, n.name).toBe(2);
      expect(after.inits.get(n.inputs[3]!)!.type, n.name).toBe(2);
    }
    expect(r.bytes!.length).toBe(model.length);
  });
});
