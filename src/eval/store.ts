/**
 * Suite runs and imported suites in the browser's IndexedDB (through `idb`), so a reload or a
 * crashed tab loses nothing: the run's description is saved when it starts, and every finished
 * cell is written on its own as it completes (one small transaction per cell; a run's record is
 * never rewritten whole while it runs).
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { parseRunRecord, type CellResult, type RunRecord } from './results';
import { parseSuite, type Suite } from './suite';

export type RunMeta = Omit<RunRecord, 'cells'>;

export interface RunSummary {
  id: string;
  name: string;
  suiteName: string;
  engines: string[];
  status: RunRecord['status'];
  createdAt: number;
  updatedAt: number;
  /** Cells stored (done or error) of cases × engines. */
  cells: number;
  total: number;
}

interface StoredCell extends CellResult {
  runId: string;
}

interface EvalDB extends DBSchema {
  runs: { key: string; value: RunMeta };
  cells: { key: [string, string, string]; value: StoredCell; indexes: { runId: string } };
  suites: { key: string; value: Suite };
}

export const EVAL_DB = 'slm-playground-eval';

export class EvalStore {
  private constructor(private readonly db: IDBPDatabase<EvalDB>) {}

  static async open(name = EVAL_DB): Promise<EvalStore> {
    const db = await openDB<EvalDB>(name, 1, {
      upgrade(d) {
        d.createObjectStore('runs', { keyPath: 'id' });
        d.createObjectStore('cells', { keyPath: ['runId', 'caseId', 'engineId'] }).createIndex('runId', 'runId');
        d.createObjectStore('suites', { keyPath: 'id' });
      },
    });
    return new EvalStore(db);
  }

  close(): void {
    this.db.close();
  }

  /** Saves (or updates) a run's description: suite, engines, settings, status. */
  async saveRun(meta: RunMeta): Promise<void> {
    const { cells: _drop, ...clean } = meta as RunRecord;
    void _drop;
    await this.db.put('runs', clean);
  }

  async putCell(runId: string, cell: CellResult): Promise<void> {
    await this.db.put('cells', { ...cell, runId });
  }

  /** A whole record (e.g. an imported results file): description and every cell, in one transaction. */
  async saveRecord(record: RunRecord): Promise<void> {
    const tx = this.db.transaction(['runs', 'cells'], 'readwrite');
    const { cells, ...meta } = record;
    await Promise.all([tx.objectStore('runs').put(meta), ...cells.map((c) => tx.objectStore('cells').put({ ...c, runId: record.id })), tx.done]);
  }

  async loadRun(id: string): Promise<RunRecord | null> {
    const meta = await this.db.get('runs', id);
    if (!meta) return null;
    const stored = await this.db.getAllFromIndex('cells', 'runId', id);
    const cells = stored.map(({ runId: _r, ...c }) => (void _r, c));
    // What is read back goes through the same validation as an imported file.
    return parseRunRecord({ ...meta, cells });
  }

  async listRuns(): Promise<RunSummary[]> {
    const metas = await this.db.getAll('runs');
    const out: RunSummary[] = [];
    for (const m of metas) {
      out.push({
        id: m.id,
        name: m.name,
        suiteName: m.suite.name,
        engines: m.engines.map((e) => e.label),
        status: m.status,
        createdAt: m.createdAt,
        updatedAt: m.updatedAt,
        cells: await this.db.countFromIndex('cells', 'runId', m.id),
        total: m.suite.cases.length * m.engines.length,
      });
    }
    return out.sort((a, b) => b.createdAt - a.createdAt);
  }

  async deleteRun(id: string): Promise<void> {
    const tx = this.db.transaction(['runs', 'cells'], 'readwrite');
    const keys = await tx.objectStore('cells').index('runId').getAllKeys(id);
    await Promise.all([tx.objectStore('runs').delete(id), ...keys.map((k) => tx.objectStore('cells').delete(k)), tx.done]);
  }

  async saveSuite(suite: Suite): Promise<void> {
    await this.db.put('suites', suite);
  }

  async listSuites(): Promise<Suite[]> {
    const all = await this.db.getAll('suites');
    const ok: Suite[] = [];
    for (const s of all) {
      try {
        ok.push(parseSuite(s));
      } catch {
        // a stored suite this version cannot read is skipped, not fatal
      }
    }
    return ok;
  }

  async deleteSuite(id: string): Promise<void> {
    await this.db.delete('suites', id);
  }
}
