import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { DEFAULT_GENERATION } from '../../src/engines/types';
import { CSV_COLUMNS, guardFormula, mdCell, toCsv, toJson, toMarkdown } from '../../src/eval/export';
import { parseRunRecord, RunRecordError, type CellResult, type RunRecord } from '../../src/eval/results';
import { buildResultsTable, pendingCells } from '../../src/eval/results-table';
import type { RunMetrics } from '../../src/metrics/timing';

function metrics(engine: 'local' | 'hosted', model: string, e2eMs: number, ttftMs: number | null, decodeTps: number | null, inputTokens: number, outputTokens: number): RunMetrics {
  return {
    engine,
    model,
    device: engine === 'local' ? 'wasm' : 'remote',
    dtype: engine === 'local' ? 'q4' : null,
    threads: engine === 'local' ? 4 : null,
    crossOriginIsolated: engine === 'local' ? true : null,
    ttftMs,
    e2eMs,
    prefillTps: null,
    decodeTps,
    engineDecodeTps: null,
    inputTokens,
    outputTokens,
    tokenCountSource: engine === 'local' ? 'tokenizer' : 'usage',
  };
}

function cell(caseId: string, engineId: string, over: Partial<CellResult>): CellResult {
  return { caseId, engineId, status: 'done', output: '', finishReason: 'stop', metrics: null, score: null, attempts: 1, finishedAt: 1_700_000_000_000, ...over };
}
const pass = { pass: true, score: 1, detail: 'ok' };
const failScore = { pass: false, score: 0, detail: 'expected "4", got "5"' };

/**
 * Four cases (math: a, b; geo: c, d) on a local and a hosted engine.
 * Local: a pass, b fail, c error, d not run. Hosted: a, b pass; c judge pass (0.8); d done, not judged yet.
 */
function record(): RunRecord {
  const local = (e2e: number, ttft: number, tps: number, i: number, o: number) => metrics('local', 'slm-pocket', e2e, ttft, tps, i, o);
  const hosted = (e2e: number, ttft: number | null, tps: number | null, i: number, o: number) => metrics('hosted', 'gpt-4o-mini', e2e, ttft, tps, i, o);
  return {
    format: 'slm-playground-results',
    version: 2,
    id: 'run-1',
    name: 'Nightly | pocket vs mini',
    createdAt: Date.UTC(2026, 0, 2, 3, 4),
    updatedAt: Date.UTC(2026, 0, 2, 3, 9),
    status: 'stopped',
    suite: {
      format: 'slm-playground-suite',
      version: 1,
      id: 'mini',
      name: 'Mini suite',
      cases: [
        { id: 'a', category: 'math', messages: [{ role: 'user', content: '2+2?' }], expected: '4', scorer: { type: 'exact' } },
        { id: 'b', category: 'math', messages: [{ role: 'user', content: '2+3?' }], expected: '5', scorer: { type: 'numeric', tolerance: 0 } },
        { id: 'c', category: 'geo', messages: [{ role: 'user', content: 'Capital of Ireland?' }], scorer: { type: 'judge', rubric: 'Names Dublin?' } },
        { id: 'd', category: 'geo', messages: [{ role: 'user', content: 'Capital of Peru?' }], scorer: { type: 'judge', rubric: 'Names Lima?' } },
      ],
    },
    engines: [
      { id: 'pocket', kind: 'local', label: 'Pocket', model: 'slm-pocket', dtype: 'q4', device: 'wasm' },
      { id: 'mini', kind: 'hosted', label: 'GPT mini', model: 'gpt-4o-mini', endpoint: 'https://api.openai.com/v1' },
    ],
    params: DEFAULT_GENERATION,
    prices: { 'gpt-4o-mini': { inputPerM: 0.15, outputPerM: 0.6 } },
    loads: [
      {
        engineId: 'pocket',
        load: {
          downloadMs: 800,
          downloadBytes: 4_000_000,
          fromCache: false,
          sessionCreateMs: 150,
          warmupMs: 50,
          warmupTokens: 4,
          totalMs: 1000,
          memory: { weightsBytes: 4_000_000, wasmHeapBytes: 50_000_000, pageBytes: 120_000_000, baselineBytes: 40_000_000, note: null },
        },
      },
      { engineId: 'mini', load: null },
    ],
    // Deliberately not in table order.
    cells: [
      cell('b', 'mini', { output: '5', metrics: hosted(2000, 500, 80, 2000, 1000), score: pass }),
      cell('a', 'pocket', { output: '4', metrics: local(100, 10, 50, 10, 5), score: pass }),
      cell('b', 'pocket', { output: '=SUM(A1) | 6\nsix, "six"', metrics: { ...local(300, 30, 30, 20, 10), memoryPeakBytes: 60_000_000 }, score: failScore }),
      cell('c', 'pocket', { status: 'error', finishReason: 'error', error: 'worker crashed', attempts: 2 }),
      cell('a', 'mini', { output: '4', metrics: hosted(1000, 400, 100, 1000, 500), score: pass }),
      cell('c', 'mini', {
        output: 'Dublin',
        metrics: hosted(3000, 600, null, 1000, 500),
        score: { pass: true, score: 0.8, detail: 'judge: PASS (score 0.80)' },
        judge: { engineId: 'judge', messages: [{ role: 'user', content: 'grade' }], verdict: 'VERDICT: PASS\nSCORE: 0.8' },
      }),
      cell('d', 'mini', { output: 'Lima', metrics: hosted(4000, null, null, 1000, 1000) }),
    ],
  };
}

describe('buildResultsTable', () => {
  it('rows in suite order, engines in record order, missing cells null', () => {
    const t = buildResultsTable(record());
    expect(t.head.engines.map((e) => e.id)).toEqual(['pocket', 'mini']);
    expect(t.body.map((r) => r.case.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(t.body.map((r) => r.cells.map((c) => (c ? `${c.caseId}/${c.engineId}` : null)))).toEqual([
      ['a/pocket', 'a/mini'],
      ['b/pocket', 'b/mini'],
      ['c/pocket', 'c/mini'],
      [null, 'd/mini'],
    ]);
    expect(t.categories).toEqual(['math', 'geo']);
  });

  it('local totals: errors are not scored; Wilson CI; numpy percentiles; local is free', () => {
    const [local] = buildResultsTable(record()).totals;
    expect(local).toMatchObject({ engineId: 'pocket', done: 2, errors: 1, scored: 2, passed: 1, accuracy: 0.5, inputTokens: 30, outputTokens: 15, costUsd: 0, generationMsSum: 400, memoryPeakBytes: 60_000_000 });
    // Wilson 1/2: 0.5 ∓ 1.96·√(0.125 + 0.2401) / 2.9208 = 0.5 ∓ 0.40547
    expect(local?.ci?.low).toBeCloseTo(0.0945, 4);
    expect(local?.ci?.high).toBeCloseTo(0.9055, 4);
    expect(local?.e2e).toEqual({ p50: 200, p95: 290 });
    expect(local?.ttft.p50).toBe(20);
    expect(local?.ttft.p95).toBeCloseTo(29, 10);
    expect(local?.decodeTps).toBe(40);
    // The peak is the largest of the load's WASM heap and every answer's; without answers, the load's.
    const noCells = buildResultsTable({ ...record(), cells: [] }).totals[0];
    expect(noCells?.memoryPeakBytes).toBe(50_000_000);
    const noMemory = buildResultsTable({ ...record(), loads: [{ engineId: 'pocket', load: null }], cells: record().cells.filter((c) => c.caseId !== 'b') }).totals[0];
    expect(noMemory?.memoryPeakBytes).toBeNull();
    expect(local?.perCategory['math']).toMatchObject({ scored: 2, passed: 1, accuracy: 0.5 });
    expect(local?.perCategory['geo']).toEqual({ scored: 0, passed: 0, accuracy: null, ci: null });
  });

  it('hosted totals: judge scores count, unjudged cells do not; cost from the price table', () => {
    const [, hosted] = buildResultsTable(record()).totals;
    expect(hosted).toMatchObject({ engineId: 'mini', done: 4, errors: 0, scored: 3, passed: 3, accuracy: 1, inputTokens: 5000, outputTokens: 3000, generationMsSum: 10_000, memoryPeakBytes: null });
    // Wilson 3/3: low = (1 + 0.64027 − 1.96·√(3.8416/36)) / 2.28053 = 0.4385
    expect(hosted?.ci?.low).toBeCloseTo(0.4385, 4);
    expect(hosted?.ci?.high).toBe(1);
    expect(hosted?.e2e.p50).toBe(2500);
    expect(hosted?.e2e.p95).toBeCloseTo(3850, 9);
    expect(hosted?.ttft.p50).toBe(500);
    expect(hosted?.decodeTps).toBe(90);
    // (5000 × 0.15 + 3000 × 0.6) / 1e6
    expect(hosted?.costUsd).toBeCloseTo(0.00255, 12);
    expect(hosted?.perCategory['geo']).toMatchObject({ scored: 1, passed: 1, accuracy: 1 });
  });

  it('cost is null for a hosted model without a price', () => {
    const r = { ...record(), prices: {} };
    expect(buildResultsTable(r).totals.map((t) => t.costUsd)).toEqual([0, null]);
    const empty = { ...r, cells: [] };
    expect(buildResultsTable(empty).totals.map((t) => t.costUsd)).toEqual([0, null]);
    expect(buildResultsTable({ ...empty, prices: record().prices }).totals.map((t) => t.costUsd)).toEqual([0, 0]);
  });
});

describe('pendingCells', () => {
  it('lists missing and errored cells in suite order, then engine order', () => {
    expect(pendingCells(record())).toEqual([
      { caseId: 'c', engineId: 'pocket' },
      { caseId: 'd', engineId: 'pocket' },
    ]);
    const fresh = { ...record(), cells: [] };
    expect(pendingCells(fresh)).toHaveLength(8);
    expect(pendingCells(fresh).slice(0, 3)).toEqual([
      { caseId: 'a', engineId: 'pocket' },
      { caseId: 'a', engineId: 'mini' },
      { caseId: 'b', engineId: 'pocket' },
    ]);
  });
});

describe('parseRunRecord', () => {
  it('accepts a valid record', () => {
    expect(parseRunRecord(record())).toEqual(record());
  });
  it('rejects another format or a newer version with a clear message', () => {
    expect(() => parseRunRecord({ ...record(), format: 'slm-playground-suite' })).toThrow('This is not an SLM Playground results file: "format" is "slm-playground-suite", expected "slm-playground-results".');
    expect(() => parseRunRecord({ ...record(), version: 3 })).toThrow(/saved by a newer SLM Playground \(results format 3; this app reads up to 2\)/);
    expect(() => parseRunRecord([])).toThrow(RunRecordError);
  });
  it('names the bad path', () => {
    const r = record() as unknown as { cells: { metrics: { e2eMs: unknown } }[] };
    (r.cells[0] as { metrics: { e2eMs: unknown } }).metrics.e2eMs = 'fast';
    expect(() => parseRunRecord(r)).toThrow(/cells\[0\]\.metrics\.e2eMs: Invalid input: expected number/);
    expect(() => parseRunRecord({ ...record(), cells: [cell('zz', 'pocket', {})] })).toThrow('cells[0].caseId: unknown case "zz"');
    const withKey = record();
    withKey.engines[1] = { ...withKey.engines[1]!, endpoint: 'https://api.example.com/v1?api-key=secret' };
    expect(() => parseRunRecord(withKey)).toThrow(/engines\[1\]\.endpoint: must be an http\(s\) base URL/);
    expect(() => parseRunRecord({ ...record(), apiKey: 'sk-123' })).toThrow('apiKey: unknown field');
  });
});

describe('exports', () => {
  it('JSON round-trips identically', () => {
    const r = record();
    const text = toJson(r);
    const back = parseRunRecord(JSON.parse(text));
    expect(back).toEqual(r);
    // Parsing puts keys in schema order; from then on the text is a fixed point.
    const again = toJson(back);
    expect(toJson(parseRunRecord(JSON.parse(again)))).toBe(again);
  });

  it('CSV: one row per case × engine, quoted, with formula injection guarded', () => {
    const csv = toCsv(record());
    expect(csv.split('\r\n')[0]).toBe(CSV_COLUMNS.join(','));
    const parsed = Papa.parse<Record<string, string>>(csv, { header: true });
    expect(parsed.errors).toEqual([]);
    const rows = parsed.data;
    expect(rows.map((x) => `${x['case_id']}/${x['engine']}/${x['status']}`)).toEqual([
      'a/Pocket/done',
      'a/GPT mini/done',
      'b/Pocket/done',
      'b/GPT mini/done',
      'c/Pocket/error',
      'c/GPT mini/done',
      'd/Pocket/pending',
      'd/GPT mini/done',
    ]);
    const bPocket = rows[2]!;
    expect(bPocket['output']).toBe('\'=SUM(A1) | 6\nsix, "six"');
    expect(bPocket).toMatchObject({ run: 'Nightly | pocket vs mini', category: 'math', model: 'slm-pocket', pass: 'false', score: '0', expected: '5', ttft_ms: '30', e2e_ms: '300', decode_tps: '30', input_tokens: '20', output_tokens: '10', memory_peak_bytes: '60000000', cost_usd: '0' });
    // Memory is per answer, local only: empty where not measured.
    expect([rows[0]!['memory_peak_bytes'], rows[1]!['memory_peak_bytes']]).toEqual(['', '']);
    expect(rows[3]!['cost_usd']).toBe(String((2000 * 0.15 + 1000 * 0.6) / 1e6));
    expect(rows[4]).toMatchObject({ status: 'error', pass: '', error: 'worker crashed' });
    // Raw text: the field with a comma, quotes and newline is quoted, quotes doubled.
    expect(csv).toContain('"\'=SUM(A1) | 6\nsix, ""six"""');
    expect(['=1', '+1', '-1', '@x', '\tx', 'ok', ''].map(guardFormula)).toEqual(["'=1", "'+1", "'-1", "'@x", "'\tx", 'ok', '']);
  });

  it('Markdown: engine rows, per-category table, failing cases, escaped pipes', () => {
    const md = toMarkdown(record());
    expect(md).toContain('## Nightly \\| pocket vs mini');
    expect(md).toContain('**Suite:** Mini suite (4 cases) · **Date:** 2026-01-02 03:04 UTC · **Status:** stopped');
    expect(md).toContain('| Pocket (local, wasm, q4) | slm-pocket | 50.0% (9.5–90.5%), 1/2 | 1 | 200 ms | 290 ms | 20 ms | 40.0 tok/s | 30 / 15 | 57.2 MB | $0 |');
    expect(md).toContain('| GPT mini (hosted) | gpt-4o-mini | 100.0% (43.8–100.0%), 3/3 | 0 | 2500 ms | 3850 ms | 500 ms | 90.0 tok/s | 5000 / 3000 | — | $0.00255 |');
    // The local load's measured memory, beside the file size (hosted engines have none).
    expect(md).toContain('**Load memory:**\n\n- Pocket: 114 MB page + workers (38.1 MB before the load) · model worker WASM 47.7 MB · weights file 3.8 MB · 20.00× the file\n');
    expect(md).toContain('| Category | Pocket | GPT mini |');
    expect(md).toContain('| math | 50.0% (9.5–90.5%), 1/2 | 100.0% (34.2–100.0%), 2/2 |');
    expect(md).toContain('| geo | — | 100.0% (20.7–100.0%), 1/1 |');
    expect(md).toContain('### Failing cases (1)');
    expect(md).toContain('| b | math | Pocket | 5 | =SUM(A1) \\| 6<br>six, "six" | expected "4", got "5" |');
    // Every table row of the failing cases has the same number of unescaped pipes as its header.
    const failing = md.slice(md.indexOf('### Failing cases'), md.indexOf('### Agreement'));
    for (const line of failing.split('\n').filter((l) => l.startsWith('| b |'))) expect(line.replace(/\\\|/g, '').split('|')).toHaveLength(8);
    // The agreement of the local answers with the hosted ones (references): a agrees (4 = 4), b differs (6 vs 5), c had a local error.
    expect(md).toContain('### Agreement of Pocket with GPT mini (hosted answers as references)');
    expect(md).toContain('On this job the local model agrees with the hosted one on 50% [9–91%, 1 of 2], answers 7.5 times sooner at the median, costs $0 against $0.64 per 1,000 requests, and has paid back its load after 1 request.');
    expect(md).toContain('| geo | 0 | 0 | — |');
    expect(md).toContain('#### Disagreements (1)');
  });

  it('Markdown cells escape HTML, pipes and newlines', () => {
    expect(mdCell('a|b\nc<script>&')).toBe('a\\|b<br>c&lt;script&gt;&amp;');
  });
});
