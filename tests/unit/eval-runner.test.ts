/**
 * The suite runner's scheduling and bookkeeping with scripted engines (plain ChatEngine
 * implementations whose answers and failures the test decides): lanes and concurrency,
 * retries that honour Retry-After, stop, resume without repeating finished cells, judging.
 * Real engines run the same runner in tests/e2e/suites.test.ts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { HostedError } from '../../src/engines/hosted/errors';
import type { ChatEngine, GenerateRequest, RunResult } from '../../src/engines/types';
import { DEFAULT_GENERATION } from '../../src/engines/types';
import { computeRunMetrics } from '../../src/metrics/timing';
import type { CellResult, RunRecord } from '../../src/eval/results';
import { backoffMs, runSuite, type RunnerEngine } from '../../src/eval/runner';
import type { Suite } from '../../src/eval/suite';
import { createNodeSandbox } from '../../scripts/eval-sandbox/node';

const suite: Suite = {
  format: 'slm-playground-suite',
  version: 1,
  id: 't',
  name: 'test',
  cases: Array.from({ length: 6 }, (_, i) => ({
    id: `c${i}`,
    category: i % 2 ? 'odd' : 'even',
    messages: [{ role: 'user' as const, content: `What is ${i} + ${i}?` }],
    expected: String(2 * i),
    scorer: { type: 'exact' as const },
  })),
};

function record(engines: RunnerEngine[], cells: CellResult[] = []): RunRecord {
  return {
    format: 'slm-playground-results',
    version: 2,
    id: 'r1',
    name: 'run',
    createdAt: 0,
    updatedAt: 0,
    status: 'running',
    suite,
    engines: engines.map((e) => e.column),
    params: DEFAULT_GENERATION,
    prices: {},
    loads: [],
    cells,
  };
}

/** An engine that answers `answer(prompt)` after `delayMs`, honouring abort, and records concurrency. */
class ScriptedEngine implements ChatEngine {
  calls: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  constructor(
    readonly kind: 'local' | 'hosted',
    readonly label: string,
    private readonly answer: (prompt: string, call: number) => string | Error,
    private readonly delayMs = 5,
  ) {}
  async generate(req: GenerateRequest): Promise<RunResult> {
    const prompt = req.messages.at(-1)?.content ?? '';
    this.calls.push(prompt);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const t0 = performance.now();
    try {
      const aborted = await new Promise<boolean>((resolve) => {
        const onAbort = () => {
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          req.signal?.removeEventListener('abort', onAbort);
          resolve(false);
        }, this.delayMs);
        req.signal?.addEventListener('abort', onAbort, { once: true });
      });
      const a = this.answer(prompt, this.calls.length);
      if (a instanceof Error && !aborted) throw a;
      const text = aborted || a instanceof Error ? '' : a;
      const end = performance.now();
      return {
        text,
        finishReason: aborted ? 'abort' : 'stop',
        metrics: computeRunMetrics({
          context: { engine: this.kind, model: this.label, device: 'test', dtype: null, threads: null, crossOriginIsolated: null },
          clock: { requestStart: t0, firstChunkAt: end, lastChunkAt: end, end },
          engineClock: null,
          inputTokens: 5,
          outputTokens: 1,
          tokenCountSource: 'estimated',
        }),
      };
    } finally {
      this.inFlight--;
    }
  }
}

const col = (id: string, kind: 'local' | 'hosted') => ({ id, kind, label: id, model: id });
const sum = (p: string) => {
  const n = Number(/What is (\d+)/.exec(p)?.[1]);
  return String(2 * n);
};

describe('runSuite', () => {
  const sandbox = createNodeSandbox({ limitMs: 300 });
  afterAll(() => sandbox.dispose());

  it('scores regex cases in the sandbox: a catastrophic pattern fails its case, the others are scored', async () => {
    const regexSuite: Suite = {
      ...suite,
      cases: [
        { id: 'ok1', category: 'r', messages: [{ role: 'user', content: 'What is 1 + 1?' }], scorer: { type: 'regex', pattern: '^\\d+$' } },
        { id: 'evil', category: 'r', messages: [{ role: 'user', content: 'What is 2 + 2?' }], scorer: { type: 'regex', pattern: '^(a+)+$' } },
        { id: 'ok2', category: 'r', messages: [{ role: 'user', content: 'What is 3 + 3?' }], scorer: { type: 'regex', pattern: '^6$' } },
      ],
    };
    const engine = new ScriptedEngine('local', 'pocket', (p) => (p.includes('2 +') ? `${'a'.repeat(32)}!` : sum(p)));
    const engines = [{ column: col('L', 'local'), engine }];
    const cells: CellResult[] = [];
    const r = await runSuite({ sandbox, record: { ...record(engines), suite: regexSuite }, engines, signal: new AbortController().signal, onCell: (c) => void cells.push(c) });
    expect(r).toMatchObject({ stopped: false, finished: 3 });
    const by = Object.fromEntries(cells.map((c) => [c.caseId, c]));
    expect(by['evil']).toMatchObject({ status: 'done', score: { pass: false, score: 0, detail: 'pattern took too long (over 300 ms)' } });
    expect(by['ok1']?.score?.pass).toBe(true);
    expect(by['ok2']?.score?.pass).toBe(true);
  });

  it('runs every cell once, scores it, and hands each to onCell as it finishes', async () => {
    const local = new ScriptedEngine('local', 'pocket', (p) => (p.includes('3 +') ? 'wrong' : sum(p)));
    const hosted = new ScriptedEngine('hosted', 'ref', sum);
    const engines = [
      { column: col('L', 'local'), engine: local },
      { column: col('H', 'hosted'), engine: hosted },
    ];
    const cells: CellResult[] = [];
    const r = await runSuite({ sandbox, record: record(engines), engines, signal: new AbortController().signal, onCell: (c) => void cells.push(c) });
    expect(r).toMatchObject({ stopped: false, finished: 12 });
    expect(cells).toHaveLength(12);
    expect(local.calls).toHaveLength(6);
    expect(cells.filter((c) => c.engineId === 'L' && c.score?.pass).length).toBe(5);
    expect(cells.find((c) => c.engineId === 'L' && c.caseId === 'c3')?.score).toMatchObject({ pass: false });
    expect(cells.every((c) => c.attempts === 1 && c.status === 'done' && c.metrics !== null)).toBe(true);
  });

  it('runs local engines one case at a time (one lane for all of them) and hosted ones up to the concurrency limit', async () => {
    const a = new ScriptedEngine('local', 'a', sum, 10);
    const b = new ScriptedEngine('local', 'b', sum, 10);
    const h = new ScriptedEngine('hosted', 'h', sum, 20);
    const engines = [
      { column: col('A', 'local'), engine: a },
      { column: col('B', 'local'), engine: b },
      { column: col('H', 'hosted'), engine: h },
    ];
    let localInFlight = 0;
    let maxLocal = 0;
    const track = (e: ScriptedEngine) => {
      const g = e.generate.bind(e);
      e.generate = async (req) => {
        localInFlight++;
        maxLocal = Math.max(maxLocal, localInFlight);
        try {
          return await g(req);
        } finally {
          localInFlight--;
        }
      };
    };
    track(a);
    track(b);
    await runSuite({ sandbox, record: record(engines), engines, hostedConcurrency: 3, signal: new AbortController().signal, onCell: () => undefined });
    expect(maxLocal).toBe(1);
    expect(h.maxInFlight).toBe(3);
  });

  it('retries 429 after exactly Retry-After and 5xx with exponential backoff, then gives up with a clear error', async () => {
    const waits: number[] = [];
    const sleep = async (ms: number) => void waits.push(ms);
    const flaky = new ScriptedEngine('hosted', 'h', (p, call) => {
      if (p.includes('0 +') && call === 1) return new HostedError({ code: 'rate_limited', status: 429, retryAfterMs: 2500, message: 'slow down' });
      if (p.includes('1 +')) return new HostedError({ code: 'server_error', status: 503, message: 'HTTP 503 from the server' });
      return sum(p);
    });
    const engines = [{ column: col('H', 'hosted'), engine: flaky }];
    const cells: CellResult[] = [];
    await runSuite({ sandbox, record: record(engines), engines, hostedConcurrency: 1, maxRetries: 3, baseDelayMs: 100, sleep, signal: new AbortController().signal, onCell: (c) => void cells.push(c) });
    const c0 = cells.find((c) => c.caseId === 'c0');
    const c1 = cells.find((c) => c.caseId === 'c1');
    expect(c0).toMatchObject({ status: 'done', attempts: 2, score: { pass: true } });
    expect(c1).toMatchObject({ status: 'error', attempts: 4, error: 'HTTP 503 from the server', score: null });
    expect(waits).toEqual([2500, 100, 200, 400]);
    expect(backoffMs(new HostedError({ code: 'server_error', message: '' }), 10, 1000)).toBe(30_000);
  });

  it('does not retry errors that a retry cannot fix (401, a CORS refusal)', async () => {
    const h = new ScriptedEngine('hosted', 'h', () => new HostedError({ code: 'unauthorized', status: 401, message: 'bad key' }));
    const engines = [{ column: col('H', 'hosted'), engine: h }];
    const cells: CellResult[] = [];
    await runSuite({ sandbox, record: record(engines), engines, sleep: async () => undefined, signal: new AbortController().signal, onCell: (c) => void cells.push(c) });
    expect(h.calls).toHaveLength(6);
    expect(cells.every((c) => c.status === 'error' && c.attempts === 1)).toBe(true);
  });

  it('stops at once: the cell in flight is not recorded, and a resume runs only what is missing', async () => {
    const local = new ScriptedEngine('local', 'pocket', sum, 30);
    const engines = [{ column: col('L', 'local'), engine: local }];
    const ac = new AbortController();
    const cells: CellResult[] = [];
    const r = await runSuite({
      sandbox,
      record: record(engines),
      engines,
      signal: ac.signal,
      onCell: (c) => {
        cells.push(c);
        if (cells.length === 2) setTimeout(() => ac.abort(), 5); // stop while the third runs
      },
    });
    expect(r.stopped).toBe(true);
    expect(cells.map((c) => c.caseId)).toEqual(['c0', 'c1']);
    expect(local.calls).toHaveLength(3);

    // Resume with what was persisted, plus an error cell that must be retried.
    const failed: CellResult = { ...cells[1]!, caseId: 'c2', status: 'error', error: 'x', score: null };
    local.calls = [];
    const more: CellResult[] = [];
    await runSuite({ sandbox, record: record(engines, [...cells, failed]), engines, signal: new AbortController().signal, onCell: (c) => void more.push(c) });
    expect(more.map((c) => c.caseId)).toEqual(['c2', 'c3', 'c4', 'c5']);
    expect(local.calls.map(sum)).toEqual(['4', '6', '8', '10']);
  });

  it('sends judge cases to the judge engine and keeps its prompt and verdict; without a judge they stay unscored', async () => {
    const judged: Suite = { ...suite, cases: [{ id: 'j', category: 'style', messages: [{ role: 'user', content: 'Greet me politely.' }], scorer: { type: 'judge', rubric: 'Polite greeting.' } }] };
    const model = new ScriptedEngine('local', 'pocket', () => 'Hello, nice to meet you!');
    const judge = new ScriptedEngine('hosted', 'judge', () => 'It greets politely.\nVERDICT: PASS\nSCORE: 0.9');
    const engines = [{ column: col('L', 'local'), engine: model }];
    const rec = { ...record(engines), suite: judged };
    const cells: CellResult[] = [];
    await runSuite({ sandbox, record: rec, engines, judge: { column: col('J', 'hosted'), engine: judge }, signal: new AbortController().signal, onCell: (c) => void cells.push(c) });
    expect(cells[0]).toMatchObject({ status: 'done', score: { pass: true, score: 0.9 }, judge: { engineId: 'J', verdict: expect.stringContaining('VERDICT: PASS') } });
    expect(JSON.stringify(cells[0]?.judge?.messages)).toContain('Hello, nice to meet you!');

    const none: CellResult[] = [];
    await runSuite({ sandbox, record: rec, engines, signal: new AbortController().signal, onCell: (c) => void none.push(c) });
    expect(none[0]).toMatchObject({ status: 'done', score: null });
  });

  it('stops the run when a finished cell cannot be saved', async () => {
    const local = new ScriptedEngine('local', 'pocket', sum);
    const engines = [{ column: col('L', 'local'), engine: local }];
    await expect(
      runSuite({ sandbox, record: record(engines), engines, signal: new AbortController().signal, onCell: () => Promise.reject(new Error('QuotaExceededError')) }),
    ).rejects.toThrow('QuotaExceededError');
    expect(local.calls).toHaveLength(1);
  });
});
