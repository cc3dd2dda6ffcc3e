import { describe, expect, it } from 'vitest';
import { externalizeInitializers, INLINE_WEIGHTS_PATH } from '../../src/inference/external-data';
import { fields, int64s, str, Writer } from '../../src/lib/protobuf';

const tensor = (name: string, dims: number[], raw: Uint8Array) => {
  const t = new Writer();
  for (const d of dims) t.int(1, d);
  return t.int(2, 1).string(8, name).bytes(9, raw);
};

function model(big: Uint8Array, small: Uint8Array): Uint8Array {
  const node = new Writer().string(1, 'x').string(1, 'W').string(2, 'y').string(4, 'MatMul');
  const graph = new Writer().bytes(1, node).string(2, 'g').bytes(5, tensor('W', [big.length / 4], big)).bytes(5, tensor('b', [1], small));
  return new Writer().int(1, 8).bytes(7, graph).string(2, 'test').finish();
}

function initializers(buf: Uint8Array) {
  const g = fields(buf).find((f) => f.no === 7)!;
  return fields(buf, g.valueStart, g.valueEnd)
    .filter((f) => f.no === 5)
    .map((f) => fields(buf, f.valueStart, f.valueEnd));
}

describe('weights as external data of the model buffer itself', () => {
  const big = Uint8Array.from({ length: 4096 }, (_, i) => (i * 31 + 7) % 251);
  const small = Uint8Array.from([1, 2, 3, 4]);

  it('moves a large initializer out: no bytes of it left in the graph, a reference into the original buffer instead', () => {
    const m = model(big, small);
    const r = externalizeInitializers(m)!;
    expect(r).toMatchObject({ tensors: 1, bytes: big.length });
    // The mounted data is the caller's buffer, not a copy (no second copy of the file in JavaScript).
    expect(r.externalData.path).toBe(INLINE_WEIGHTS_PATH);
    expect(r.externalData.data).toBe(m);
    expect(r.graph.length).toBeLessThan(m.length - big.length + 200);
    const [w, b] = initializers(r.graph);
    expect(str(r.graph, w!.find((x) => x.no === 8)!)).toBe('W');
    expect(int64s(r.graph, w!, 1)).toEqual([big.length / 4]);
    expect(w!.some((x) => x.no === 9)).toBe(false);
    expect(w!.find((x) => x.no === 14)!.varint).toBe(1);
    const entries = Object.fromEntries(
      w!.filter((x) => x.no === 13).map((e) => {
        const kv = fields(r.graph, e.valueStart, e.valueEnd);
        return [str(r.graph, kv.find((x) => x.no === 1)!), str(r.graph, kv.find((x) => x.no === 2)!)];
      }),
    );
    expect(entries.location).toBe(INLINE_WEIGHTS_PATH);
    const offset = Number(entries.offset);
    expect(Number(entries.length)).toBe(big.length);
    expect(m.subarray(offset, offset + big.length)).toEqual(big);
    // The small one stays inline; the other fields of the model are kept as they were.
    expect(b!.find((x) => x.no === 9)).toBeDefined();
    expect(fields(r.graph).map((f) => f.no)).toEqual([1, 7, 2]);
  });

  it('offsets count from the view handed in, wherever it sits in its ArrayBuffer', () => {
    const m = model(big, small);
    const padded = new Uint8Array(m.length + 100);
    padded.set(m, 100);
    const view = padded.subarray(100);
    const r = externalizeInitializers(view)!;
    const [w] = initializers(r.graph);
    const off = w!.filter((x) => x.no === 13).map((e) => fields(r.graph, e.valueStart, e.valueEnd)).find((kv) => str(r.graph, kv[0]!) === 'offset')!;
    const offset = Number(str(r.graph, off[1]!));
    expect(view.subarray(offset, offset + big.length)).toEqual(big);
  });

  it('leaves alone what it cannot or need not change', () => {
    // Only small initializers.
    expect(externalizeInitializers(model(new Uint8Array(16), small))).toBeNull();
    // Not a protobuf this reader can walk.
    expect(externalizeInitializers(Uint8Array.from([0xff, 0xff, 0xff]))).toBeNull();
    // No graph.
    expect(externalizeInitializers(new Writer().int(1, 8).finish())).toBeNull();
    // A graph that parses, with an initializer whose own bytes do not (a damaged file).
    const damaged = new Writer().int(1, 8).bytes(7, new Writer().bytes(5, Uint8Array.from([0x0a, 0x7f, 0x01]))).finish();
    expect(externalizeInitializers(damaged)).toBeNull();
  });
});
