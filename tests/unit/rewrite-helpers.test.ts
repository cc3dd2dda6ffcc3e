// @vitest-environment node
// The q4 rewrite split over helper workers (src/engines/local/worker/rewrite-helpers.ts and
// src/inference/q4-rewrite.ts rewriteQ4Split): whatever the groups, the model and every weight
// byte are those of the one-worker rewrite; a helper that fails or never starts leaves its group
// to the model worker (same bytes, the failure said); how many helpers a device gets.
import { describe, expect, it } from 'vitest';
import { fillGroup, splitJobs } from '../../src/inference/q4-dequant';
import { rewriteQ4, rewriteQ4Split, weightsFilePath, type Q4RewriteResult } from '../../src/inference/q4-rewrite';
import { fields, str, Writer } from '../../src/lib/protobuf';
import type { FromRewriteHelper, ToRewriteHelper } from '../../src/engines/local/worker/rewrite-protocol';
import { MAX_REWRITE_HELPERS, RewriteHelpers, rewriteHelperCount, type HelperPort } from '../../src/engines/local/worker/rewrite-helpers';
import { pack, q4Node, tensor } from './q4-fixtures';

const FILES = { modelFile: 'm.bin', weightsFile: 'w.bin' };
const INT8 = { maxFp32Bytes: 0, maxInt8Bytes: Infinity };

/** Nodes of different shapes (the split balances by weight count), each with its own B, S, Z. */
function model(): Uint8Array {
  const shapes = [[64, 96], [32, 8], [128, 40], [48, 200], [32, 4], [96, 72], [64, 16]] as const;
  const g = new Writer();
  shapes.forEach(([K, N], i) => {
    const { B, scales, zps } = pack(K, N, 16, (k, n) => (k * 5 + n * 11 + i) % 16, (n, b) => (n + b + i) % 16, (n, b) => 0.003 * (1 + ((n + i) % 7)) + 0.0007 * b);
    g.bytes(1, q4Node(K, N, 16, String(i)));
    g.bytes(5, tensor(`B${i}`, [N, K / 16, 8], 2, B)).bytes(5, tensor(`S${i}`, [N * (K / 16)], 1, new Uint8Array(scales.buffer))).bytes(5, tensor(`Z${i}`, [N], 2, zps));
  });
  return new Writer().int(1, 8).bytes(7, g.string(2, 'g')).string(2, 'test').finish();
}

/** Every initializer of the rewritten model by name: its bytes, read through its external reference where it has one. */
function resolved(r: Q4RewriteResult): Map<string, number[]> {
  const out = r.bytes!;
  const files = new Map(r.externalData.map((e) => [e.path, e.data]));
  const graph = fields(out).find((f) => f.no === 7)!;
  const m = new Map<string, number[]>();
  for (const f of fields(out, graph.valueStart, graph.valueEnd)) {
    if (f.no !== 5) continue;
    const tfs = fields(out, f.valueStart, f.valueEnd);
    const name = str(out, tfs.find((x) => x.no === 8)!);
    const raw = tfs.find((x) => x.no === 9);
    if (raw) {
      m.set(name, [...out.subarray(raw.valueStart, raw.valueEnd)]);
      continue;
    }
    const ext = new Map(tfs.filter((x) => x.no === 13).map((e) => {
      const kv = fields(out, e.valueStart, e.valueEnd);
      return [str(out, kv.find((x) => x.no === 1)!), str(out, kv.find((x) => x.no === 2)!)] as const;
    }));
    const data = files.get(ext.get('location')!)!;
    const at = Number(ext.get('offset'));
    m.set(name, [...data.subarray(at, at + Number(ext.get('length')))]);
  }
  return m;
}

/** The graph's nodes (op and name), in order. */
function nodes(r: Q4RewriteResult): string[] {
  const out = r.bytes!;
  const graph = fields(out).find((f) => f.no === 7)!;
  return fields(out, graph.valueStart, graph.valueEnd).filter((f) => f.no === 1).map((f) => {
    const nfs = fields(out, f.valueStart, f.valueEnd);
    return `${str(out, nfs.find((x) => x.no === 4)!)} ${str(out, nfs.find((x) => x.no === 3)!)}`;
  });
}

type Behaviour = 'ok' | 'fails' | 'never-starts';

/** A helper in this process: the helper's own arithmetic on structured clones of what it was sent (as postMessage does), answered a task later. */
function fakePort(behaviour: Behaviour, sent: ToRewriteHelper[] = []): HelperPort & { terminated: boolean } {
  const listeners: { message: ((ev: MessageEvent<FromRewriteHelper>) => void)[]; error: ((ev: ErrorEvent) => void)[] } = { message: [], error: [] };
  const port = {
    terminated: false,
    postMessage(m: ToRewriteHelper, transfer: Transferable[]) {
      const copy = structuredClone(m, { transfer });
      sent.push(copy);
      setTimeout(() => {
        if (behaviour === 'never-starts') {
          for (const l of listeners.error) l({ message: '' } as ErrorEvent);
          return;
        }
        const reply: FromRewriteHelper = behaviour === 'fails' ? { kind: 'failed', id: m.id, error: 'out of memory' } : { kind: 'filled', id: m.id, ...fillGroup(copy.jobs, copy.to) };
        for (const l of listeners.message) l({ data: structuredClone(reply) } as MessageEvent<FromRewriteHelper>);
      }, 0);
    },
    addEventListener(type: 'message' | 'error', l: never) {
      listeners[type].push(l);
    },
    terminate() {
      port.terminated = true;
    },
  };
  return port;
}

describe('the q4 rewrite split over workers', () => {
  for (const [to, limits] of [['fp32', {}], ['int8', INT8]] as const) {
    it(`${to}: 1 to 4 groups give the one-worker rewrite's graph and weight bytes, one mounted file a group`, async () => {
      const m = model();
      const one = rewriteQ4(m, limits, FILES);
      expect(one).toMatchObject({ converted: 7, to });
      const want = resolved(one);
      for (let helpers = 0; helpers <= 3; helpers++) {
        const sent: ToRewriteHelper[] = [];
        const pool = new RewriteHelpers(Array.from({ length: helpers }, () => fakePort('ok', sent)));
        const r = await rewriteQ4Split(m, limits, FILES, pool.groups, pool.fill);
        expect(r.externalData.map((e) => e.path)).toEqual(['m.bin', ...Array.from({ length: helpers + 1 }, (_, g) => weightsFilePath('w.bin', g))]);
        expect(nodes(r)).toEqual(nodes(one));
        expect(resolved(r)).toEqual(want);
        expect([r.converted, r.addedBytes, r.externalTensors, r.externalBytes]).toEqual([one.converted, one.addedBytes, one.externalTensors, one.externalBytes]);
        // Each helper got one group, and really filled it (not the model worker).
        expect(sent).toHaveLength(helpers);
        expect(pool.failure).toBeNull();
      }
    });
  }

  it('a helper that fails or never starts: its group is filled by the model worker, same bytes, and the first failure is said', async () => {
    const m = model();
    const want = resolved(rewriteQ4(m, INT8, FILES));
    for (const behaviour of ['fails', 'never-starts'] as const) {
      const ports = [fakePort('ok'), fakePort(behaviour)];
      const pool = new RewriteHelpers(ports);
      const r = await rewriteQ4Split(m, INT8, FILES, pool.groups, pool.fill);
      expect(resolved(r)).toEqual(want);
      expect(pool.failure).toBe(behaviour === 'fails' ? 'out of memory' : 'the helper could not start');
      pool.close();
      expect(ports.every((p) => p.terminated)).toBe(true);
    }
  });

  it('groups of about equal weight count, each in graph order, none empty', () => {
    const jobs = [[64, 96], [32, 8], [128, 40], [48, 200], [32, 4], [96, 72], [64, 16]].map(([K, N]) => ({ K: K!, N: N! }));
    const total = jobs.reduce((s, j) => s + j.K * j.N, 0);
    const g2 = splitJobs(jobs, 2);
    expect(g2.flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    for (const g of g2) expect(g).toEqual([...g].sort((a, b) => a - b));
    const sizes = g2.map((g) => g.reduce((s, i) => s + jobs[i]!.K * jobs[i]!.N, 0));
    // The largest job (9,600) bounds the imbalance.
    expect(Math.abs(sizes[0]! - sizes[1]!)).toBeLessThanOrEqual(9600);
    expect(sizes[0]! + sizes[1]!).toBe(total);
    expect(splitJobs(jobs.slice(0, 2), 4)).toHaveLength(2);
    expect(splitJobs(jobs, 1)).toEqual([[0, 1, 2, 3, 4, 5, 6]]);
  });

  it('helpers a device gets: one fewer than its cores (the model worker fills a group too), at most MAX_REWRITE_HELPERS, none on one core', () => {
    expect([1, 2, 3, 4, 8, 16].map(rewriteHelperCount)).toEqual([0, 1, 2, 3, MAX_REWRITE_HELPERS, MAX_REWRITE_HELPERS]);
    expect(rewriteHelperCount(0)).toBe(0);
  });
});
