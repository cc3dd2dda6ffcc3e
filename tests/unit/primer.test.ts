// @vitest-environment node
// The kernel primer (src/engines/local/worker/primer.ts) against ONNX Runtime Web's own WASM (its
// Node build) and the embedded slm-pocket model file: what it primes with, that it really runs the small
// model and stops (settled after its least steps, asked, or failed) without ever failing the load; and
// its worker's side as the load sees it (primer-helper.ts): started, stopped by the model's session
// creation without that creation waiting for it, ended, and every way it can fail reported. The worker
// boundary is a port running the same KernelPrimer in this process (the real worker runs in Chromium:
// tests/e2e/scale-parity.test.ts).
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-web';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { installExternalWeights, takeSessionRecord } from '../../src/engines/local/worker/external-weights';
import { IN_MODEL_WORKER_LIMITS, KernelPrimer, PRIMER_GRACE_MS, PRIMER_LIMITS, PRIMER_MIN_MODEL_BYTES, primerFile } from '../../src/engines/local/worker/primer';
import { PRIMER_STOP_WAIT_MS, startPrimer, type PrimerPort } from '../../src/engines/local/worker/primer-helper';
import type { FromPrimerHelper, ToPrimerHelper } from '../../src/engines/local/worker/primer-protocol';
import { Writer } from '../../src/lib/protobuf';
import { primerSummary, rewriteSummary } from '../../src/ui/LoadStatus';

vi.mock('onnxruntime-web/webgpu', async () => await import('onnxruntime-web'));

ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = path.resolve('node_modules/onnxruntime-web/dist') + '/';

const APP = 'http://app.test/sub/';
const ORT_BASE = 'http://app.test/sub/ort/';
const BIG = PRIMER_MIN_MODEL_BYTES * 4;
type Session = Awaited<ReturnType<typeof ort.InferenceSession.create>>;
// ONNX Runtime's own create, taken before installExternalWeights wraps it (below): the primer's
// worker has an ONNX Runtime of its own, which the model worker's wrapper (and gate) never sees.
const rawCreate = ort.InferenceSession.create.bind(ort.InferenceSession);
const plainCreate = (bytes: Uint8Array) => rawCreate(bytes, { executionProviders: ['wasm'], logSeverityLevel: 3 });

/** The app's files under APP, from public/; `override` answers some paths itself (a missing file, a broken config). */
function serve(override: Record<string, () => Response> = {}) {
  const seen: string[] = [];
  vi.stubGlobal('fetch', async (input: string | URL) => {
    const url = new URL(String(input));
    seen.push(url.pathname);
    const rel = url.pathname.slice(new URL(APP).pathname.length);
    const own = override[rel];
    if (own) return own();
    const file = path.resolve('public', rel);
    return fs.existsSync(file) ? new Response(fs.readFileSync(file)) : new Response('not found', { status: 404 });
  });
  return seen;
}

// y = x + 1: any model will do to see the wrapper's gate.
const add = (() => {
  const value = (name: string) => new Writer().string(1, name).bytes(2, new Writer().bytes(1, new Writer().int(1, 1).bytes(2, new Writer().bytes(1, new Writer().int(1, 1)))));
  const one = new Writer().int(1, 1).int(2, 1).string(8, 'one').bytes(9, new Uint8Array(Float32Array.of(1).buffer));
  const graph = new Writer().bytes(1, new Writer().string(1, 'x').string(1, 'one').string(2, 'y').string(4, 'Add')).string(2, 'g')
    .bytes(5, one).bytes(11, value('x')).bytes(12, value('y'));
  return new Writer().int(1, 8).bytes(8, new Writer().string(1, '').int(2, 13)).bytes(7, graph).finish();
})();

beforeAll(async () => {
  await installExternalWeights();
});

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

/** A session whose every step waits `ms` first (paced: the rounds' speeds agree; slow: it cannot settle soon). */
function paced(ms: number, onStep: () => void = () => undefined) {
  return async (bytes: Uint8Array) => {
    const session = await plainCreate(bytes);
    const run = session.run.bind(session);
    return Object.assign(session, { run: async (...a: Parameters<typeof run>) => (await new Promise((r) => setTimeout(r, ms)), onStep(), run(...a)) }) as Session;
  };
}

/**
 * The primer's worker, in this process: the same KernelPrimer behind the same messages (the real
 * worker, primer.worker.ts, also answers a stop that comes before its runtime is up).
 */
class InProcessPort implements PrimerPort {
  readonly sent: ToPrimerHelper[] = [];
  terminated = 0;
  primer: KernelPrimer | null = null;
  private readonly on = { message: [] as ((ev: MessageEvent<FromPrimerHelper>) => void)[], error: [] as ((ev: ErrorEvent) => void)[] };
  constructor(private readonly create: (bytes: Uint8Array) => Promise<Session> = plainCreate, private readonly answers = true) {}
  postMessage(m: ToPrimerHelper): void {
    this.sent.push(m);
    if (!this.answers) return;
    if (m.kind === 'start') {
      this.primer = new KernelPrimer(ort as never, m.modelUrl, this.create as never);
      void this.primer.ended.then((report) => this.on.message.forEach((l) => l({ data: { kind: 'ended', id: m.id, report } } as MessageEvent<FromPrimerHelper>)));
    } else void this.primer?.stop();
  }
  addEventListener(type: 'message' | 'error', l: never): void {
    this.on[type].push(l);
  }
  fail(message: string): void {
    this.on.error.forEach((l) => l({ message } as ErrorEvent));
  }
  terminate(): void {
    this.terminated++;
  }
}

describe('what the primer runs', () => {
  it('the pocket file whose kernels the model will use, or none', () => {
    expect(primerFile('fp32', null)).toBe('model.onnx');
    expect(primerFile('q8', null)).toBe('model_quantized.onnx');
    expect(primerFile('int8', null)).toBe('model_quantized.onnx');
    expect(primerFile('uint8', null)).toBe('model_quantized.onnx');
    // q4 runs as what the load-time rewrite makes of it (src/inference/q4-rewrite.ts).
    expect(primerFile('q4', 'fp32')).toBe('model.onnx');
    expect(primerFile('q4', 'int8')).toBe('model_quantized.onnx');
    expect(primerFile('q4', null)).toBeNull();
    for (const d of ['fp16', 'q4f16', 'bnb4'] as const) expect(primerFile(d, null)).toBeNull();
  });

  it('nothing for a small model or a dtype without a primer (no worker started)', async () => {
    let opened = 0;
    const open = () => (opened++, new InProcessPort());
    expect(await startPrimer('fp32', null, PRIMER_MIN_MODEL_BYTES - 1, PRIMER_MIN_MODEL_BYTES - 1, APP, ORT_BASE, open)).toBeNull();
    expect(await startPrimer('q4f16', null, BIG, BIG, APP, ORT_BASE, open)).toBeNull();
    expect(opened).toBe(0);
  });
});

describe('KernelPrimer', () => {
  for (const [dtype, file] of [['fp32', 'model.onnx'], ['q8', 'model_quantized.onnx']] as const) {
    it(`${dtype}: runs slm-pocket (prefill, then decode steps on its own KV) until its speed settles after its least steps, uncounted`, async () => {
      const seen = serve();
      takeSessionRecord();
      const port = new InProcessPort();
      const helper = (await startPrimer(dtype, null, BIG, BIG, APP, ORT_BASE, () => port))!;
      expect(port.sent).toEqual([{ kind: 'start', id: 1, modelUrl: `${APP}models/slm-pocket/onnx/${file}`, ortBase: ORT_BASE }]);
      // Not stopped by anyone: it ends when its rounds' speed has settled (or at its cap on a busy machine).
      const r = await helper.ended;
      expect(seen).toEqual([`/sub/models/slm-pocket/onnx/${file}`]);
      expect(r).toMatchObject({ worker: 'own', skipped: null });
      expect(r.settled || r.ms >= PRIMER_LIMITS.maxMs).toBe(true);
      // Settled: never before its least steps (V8 queues ONNX Runtime's largest decode function after
      // ~100–130 of them), rounds of 1 prefill + 16 decode steps, 24 tokens each. At its cap, one round.
      if (r.settled) expect(r.runs).toBeGreaterThanOrEqual(PRIMER_LIMITS.minRuns);
      expect(r.runs).toBeGreaterThanOrEqual(17);
      expect(r.tokens).toBeGreaterThanOrEqual((24 * r.runs) / 17 - 24);
      expect(r.runMs).toBeGreaterThan(0);
      expect(r.runMs).toBeLessThanOrEqual(r.ms);
      // Its worker is ended once it has answered.
      expect(port.terminated).toBe(1);
      // Its session is not the model's: the load's record stays empty.
      expect(takeSessionRecord()).toEqual({ weightRewrite: null, sessionParts: null, sessionMemory: null });
    });
  }

  it('settles only after its least steps: paced rounds that agree from the start run on to them', async () => {
    serve();
    // 8 ms a step: every round's speed alike, so without a least count six rounds (102 steps) settle it.
    const free = await new KernelPrimer(ort as never, `${APP}models/slm-pocket/onnx/model.onnx`, paced(8) as never, { worker: 'model', maxMs: 10_000, minRuns: 0 }).ended;
    const held = await new KernelPrimer(ort as never, `${APP}models/slm-pocket/onnx/model.onnx`, paced(8) as never, { worker: 'model', maxMs: 10_000, minRuns: 250 }).ended;
    expect(free.settled && held.settled).toBe(true);
    expect(free.runs).toBeLessThan(250);
    expect(held.runs).toBeGreaterThanOrEqual(250);
  });

  it('a round cut short (stopped, or at its cap) is not a measurement: it never settles the primer', async () => {
    serve();
    let steps = 0;
    let primer: KernelPrimer | null = null;
    // Every step paced alike (5 ms), so the rounds' speeds agree and six would settle (no least count
    // here): stopped in the middle of the sixth (5 × 17 + 9 steps), whose partial speed once counted
    // (CI saw "settled" with 98 runs).
    const create = paced(5, () => {
      if (++steps === 5 * 17 + 9) void primer?.stop();
    });
    primer = new KernelPrimer(ort as never, `${APP}models/slm-pocket/onnx/model.onnx`, create as never, { worker: 'model', maxMs: 10_000, minRuns: 0 });
    const r = await primer.ended;
    expect(r.skipped).toBeNull();
    expect(r.runs).toBeLessThan(6 * 17);
    expect(r.settled).toBe(false);
  });

  it("the model's session creation stops it without waiting for its answer; then its worker is ended", async () => {
    serve();
    // Steps slowed to 40 ms, so it cannot settle or reach its cap before the model's creation below.
    const port = new InProcessPort(paced(40));
    const helper = (await startPrimer('fp32', null, BIG, BIG, APP, ORT_BASE, () => port))!;
    let ended = false;
    void helper.ended.then(() => (ended = true));
    await new Promise((r) => setTimeout(r, 600));
    expect(ended).toBe(false);
    const s = await ort.InferenceSession.create(add);
    expect(port.sent.map((m) => m.kind)).toEqual(['start', 'stop']);
    const r = await helper.ended;
    expect(r).toMatchObject({ skipped: null, settled: false });
    expect(r.runs).toBeGreaterThan(0);
    expect(port.terminated).toBe(1);
    // The session the gate let through works.
    const y = await s.run({ x: new ort.Tensor('float32', Float32Array.of(2), [1]) });
    expect([...(y['y']!.data as Float32Array)]).toEqual([3]);
    await s.release();
  });

  it("stopped before its file arrived: reports that the model's session began first, runs nothing", async () => {
    serve();
    const helper = (await startPrimer('q8', null, BIG, BIG, APP, ORT_BASE, () => new InProcessPort()))!;
    const r = await helper.stop();
    expect(r).toMatchObject({ runs: 0, tokens: 0, skipped: "the model's session began first" });
  });

  it('no worker, a worker that fails, or one that never answers: reported, and the load goes on', async () => {
    expect(await (await startPrimer('q8', null, BIG, BIG, APP, ORT_BASE, () => null))!.ended).toMatchObject({ runs: 0, skipped: 'this browser cannot start a worker from a worker' });

    const failing = new InProcessPort(plainCreate, false);
    const h1 = (await startPrimer('q8', null, BIG, BIG, APP, ORT_BASE, () => failing))!;
    failing.fail('SyntaxError: bad chunk');
    expect(await h1.ended).toMatchObject({ runs: 0, skipped: 'its worker failed: SyntaxError: bad chunk' });
    expect(failing.terminated).toBe(1);

    vi.useFakeTimers();
    const silent = new InProcessPort(plainCreate, false);
    const h2 = (await startPrimer('q8', null, BIG, BIG, APP, ORT_BASE, () => silent))!;
    const stopped = h2.stop();
    await vi.advanceTimersByTimeAsync(PRIMER_STOP_WAIT_MS);
    expect(await stopped).toMatchObject({ runs: 0, skipped: `its worker did not answer within ${PRIMER_STOP_WAIT_MS} ms of being stopped` });
    expect(silent.terminated).toBe(1);
    // Stopping it again asks its worker nothing more.
    await h2.stop();
    expect(silent.sent.filter((m) => m.kind === 'stop')).toHaveLength(1);
  });

  it('beside a read from the store: in the model worker (no worker started), and that worker\'s next session creation waits for it', async () => {
    serve();
    let opened = 0;
    // Everything stored (0 bytes to download): the model worker's own ONNX Runtime, its session bypassing the load's record.
    takeSessionRecord();
    const primer = (await startPrimer('q8', null, BIG, 0, APP, ORT_BASE, () => (opened++, new InProcessPort())))!;
    let ended = false;
    void primer.ended.then(() => (ended = true));
    const s = await ort.InferenceSession.create(add);
    // The creation waited for it: settled (or its 2.5 s cap, or the grace, on a busy machine).
    expect(ended).toBe(true);
    const r = await primer.ended;
    expect(opened).toBe(0);
    expect(r).toMatchObject({ worker: 'model', skipped: null });
    expect(r.runs).toBeGreaterThan(0);
    expect(r.ms).toBeLessThanOrEqual(IN_MODEL_WORKER_LIMITS.maxMs + PRIMER_GRACE_MS + 500);
    await s.release();
    expect(takeSessionRecord().sessionParts?.createMs, 'only the model\'s session is recorded').toBeGreaterThan(0);
  });

  it('in the model worker, finish(grace): an unsettled primer runs on until it settles, within the grace', async () => {
    serve();
    const slow = new KernelPrimer(ort as never, `${APP}models/slm-pocket/onnx/model.onnx`, paced(40) as never, IN_MODEL_WORKER_LIMITS);
    await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    const r = await slow.finish(200);
    const waited = performance.now() - t0;
    // 40 ms a step cannot settle in 200 ms: it stopped at the grace (plus the step in flight).
    expect(r).toMatchObject({ worker: 'model', skipped: null, settled: false });
    expect(waited).toBeGreaterThanOrEqual(190);
    expect(waited).toBeLessThan(200 + 400);
    expect(r.runs).toBeGreaterThan(300 / 40 / 2);
  });

  it('a missing file, a model without a KV cache, or bytes that are no model: skipped with the reason, never thrown', async () => {
    serve({ 'models/slm-pocket/onnx/model.onnx': () => new Response('gone', { status: 404 }) });
    expect(await new KernelPrimer(ort as never, `${APP}models/slm-pocket/onnx/model.onnx`, plainCreate as never).ended).toMatchObject({ runs: 0, skipped: 'its model file could not be fetched (HTTP 404)' });

    serve({ 'models/slm-pocket/onnx/model.onnx': () => new Response(new Blob([add as Uint8Array<ArrayBuffer>])) });
    const noKv = new KernelPrimer(ort as never, `${APP}models/slm-pocket/onnx/model.onnx`, plainCreate as never);
    expect(await noKv.ended).toMatchObject({ runs: 0, skipped: 'its model does not fit the decode loop: the model has no input_ids/attention_mask inputs' });

    serve({ 'models/slm-pocket/onnx/model.onnx': () => new Response('<html>not a model</html>') });
    const junk = new KernelPrimer(ort as never, `${APP}models/slm-pocket/onnx/model.onnx`, plainCreate as never);
    const r = await junk.ended;
    expect(r.runs).toBe(0);
    expect(r.skipped).toMatch(/^it failed: /);
  });
});

describe("the Load status's primer line", () => {
  it('says what ran and why it ended, or why nothing ran', () => {
    expect(primerSummary({ worker: 'own', ms: 520, runMs: 241.4, runs: 204, tokens: 288, settled: true, skipped: null })).toMatch(/^204 steps of slm-pocket in 241 ms in a worker of its own beside the download, until its speed settled/);
    expect(primerSummary({ worker: 'model', ms: 900, runMs: 610, runs: 40, tokens: 60, settled: false, skipped: null })).toMatch(/^40 steps of slm-pocket in 610 ms beside the read from the cache, until the model's session began/);
    expect(primerSummary({ worker: 'own', ms: 3, runMs: 0, runs: 0, tokens: 0, skipped: "the model's session began first" })).toBe("not run: the model's session began first");
  });
});

describe("the Load status's q4 line", () => {
  const w = { converted: 211, kept: 0, fp32Bytes: 424e6, fp32MaxBytes: 2 ** 31, to: 'fp32' as const, addedBytes: 424e6, ms: 337, workers: 2, helperFailure: null, skipped: null };
  it('says what the 4-bit MatMuls became, what that took and on how many workers; a helper that failed; or why they stayed', () => {
    expect(rewriteSummary(w)).toMatch(/^211 4-bit MatMuls run as fp32 \(WASM has no fast 4-bit kernel; 337 ms at load on 2 workers\)$/);
    expect(rewriteSummary({ ...w, workers: 1 })).not.toMatch(/workers/);
    expect(rewriteSummary({ ...w, to: 'int8', helperFailure: 'out of memory' })).toMatch(/run as int8 \(as fp32 they would take .*; a helper failed, its part done here: out of memory\)$/);
    expect(rewriteSummary({ ...w, converted: 0, kept: 3, workers: 0, skipped: 'g_idx' })).toBe('kept 4-bit: g_idx');
  });
});
