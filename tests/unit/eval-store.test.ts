/** The IndexedDB store (idb) against fake-indexeddb: per-cell writes, reload, list, delete. */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_GENERATION } from '../../src/engines/types';
import type { CellResult, RunRecord } from '../../src/eval/results';
import { EvalStore } from '../../src/eval/store';
import type { Suite } from '../../src/eval/suite';

const suite: Suite = {
  format: 'slm-playground-suite',
  version: 1,
  id: 's',
  name: 'Suite S',
  cases: ['a', 'b', 'c'].map((id) => ({ id, category: 'x', messages: [{ role: 'user' as const, content: id }], expected: id, scorer: { type: 'exact' as const } })),
};

const run = (id: string, createdAt: number): RunRecord => ({
  format: 'slm-playground-results',
  version: 2,
  id,
  name: `run ${id}`,
  createdAt,
  updatedAt: createdAt,
  status: 'running',
  suite,
  engines: [
    { id: 'L', kind: 'local', label: 'pocket', model: 'slm-pocket' },
    { id: 'H', kind: 'hosted', label: 'ref', model: 'slm-reference', endpoint: 'http://127.0.0.1:8787/v1' },
  ],
  params: DEFAULT_GENERATION,
  prices: {},
  loads: [],
  cells: [],
});

const cell = (caseId: string, engineId: string): CellResult => ({
  caseId,
  engineId,
  status: 'done',
  output: caseId,
  finishReason: 'stop',
  metrics: null,
  score: { pass: true, score: 1, detail: 'ok' },
  attempts: 1,
  finishedAt: 1,
});

describe('EvalStore', () => {
  it('keeps every cell written one by one across a reopen (a reload), lists and deletes runs', async () => {
    const name = `t-${Math.random()}`;
    let store = await EvalStore.open(name);
    await store.saveRun(run('r1', 1));
    await store.putCell('r1', cell('a', 'L'));
    await store.putCell('r1', cell('a', 'H'));
    await store.putCell('r1', { ...cell('a', 'L'), output: 'again' }); // same cell: replaced, not added
    await store.saveRun(run('r2', 2));
    store.close();

    store = await EvalStore.open(name);
    const r1 = await store.loadRun('r1');
    expect(r1?.cells.map((c) => `${c.caseId}/${c.engineId}/${c.output}`).sort()).toEqual(['a/H/a', 'a/L/again']);
    expect(r1?.engines[1]?.endpoint).toBe('http://127.0.0.1:8787/v1');
    const list = await store.listRuns();
    expect(list.map((r) => [r.id, r.cells, r.total])).toEqual([
      ['r2', 0, 6],
      ['r1', 2, 6],
    ]);
    await store.deleteRun('r1');
    expect(await store.loadRun('r1')).toBeNull();
    expect((await store.listRuns()).map((r) => r.id)).toEqual(['r2']);
    store.close();
  });

  it('saves an imported record whole and keeps imported suites', async () => {
    const store = await EvalStore.open(`t-${Math.random()}`);
    const rec = { ...run('r3', 3), status: 'done' as const, cells: [cell('a', 'L'), cell('b', 'L')] };
    await store.saveRecord(rec);
    expect(await store.loadRun('r3')).toEqual(rec);
    await store.saveSuite(suite);
    expect(await store.listSuites()).toEqual([suite]);
    await store.deleteSuite('s');
    expect(await store.listSuites()).toEqual([]);
    store.close();
  });
});
