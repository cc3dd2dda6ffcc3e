// @vitest-environment node
// The kernel primer (src/engines/local/worker/primer.ts) against ONNX Runtime Web's own WASM (its
// Node build) and the embedded slm-pocket model file: what it primes with, that it really runs the small
// model and stops (settled, asked, or failed) without ever failing the load, that the next session
// (the model's) waits for it, and that its own session is not counted as the model's.
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-web';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPrimerSession, gateNextCreate, installExternalWeights, takeSessionRecord } from '../../src/engines/local/worker/external-weights';
import { KernelPrimer, PRIMER_MAX_MS, PRIMER_MIN_MODEL_BYTES, primerFile, startPrimer } from '../../src/engines/local/worker/primer';
import { Writer } from '../../src/lib/protobuf';
import { primerSummary, rewriteSummary } from '../../src/ui/LoadStatus';

vi.mock('onnxruntime-web/webgpu', async () => await import('onnxruntime-web'));

ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = path.resolve('node_modules/onnxruntime-web/dist') + '/';

const APP = 'http://app.test/sub/';
const BIG = PRIMER_MIN_MODEL_BYTES * 4;

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
});

/** The primer's session with every step slowed to 40 ms: it cannot settle in the time these tests give it. */
async function slow(bytes: Uint8Array) {
  const session = await createPrimerSession(bytes);
  const run = session.run.bind(session);
  return Object.assign(session, { run: async (...a: Parameters<typeof run>) => (await new Promise((r) => setTimeout(r, 40)), run(...a)) }) as never;
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

  it('nothing for a small model or a dtype without a primer (no file fetched)', async () => {
    const seen = serve();
    expect(await startPrimer('fp32', null, PRIMER_MIN_MODEL_BYTES - 1, APP)).toBeNull();
    expect(await startPrimer('q4f16', null, BIG, APP)).toBeNull();
    expect(seen).toEqual([]);
  });
});

describe('KernelPrimer', () => {
  for (const [dtype, file] of [['fp32', 'model.onnx'], ['q8', 'model_quantized.onnx']] as const) {
    it(`${dtype}: runs slm-pocket (prefill, then decode steps on its own KV) until its speed settles, uncounted`, async () => {
      const seen = serve();
      takeSessionRecord();
      const primer = (await startPrimer(dtype, null, BIG, APP))!;
      // Not stopped by anyone: it ends when its rounds' speed has settled (or at its cap on a busy machine).
      const r = await primer.ended;
      expect(seen).toEqual([`/sub/models/slm-pocket/onnx/${file}`]);
      expect(r.skipped).toBeNull();
      expect(r.settled || r.ms >= PRIMER_MAX_MS).toBe(true);
      // Settled: at least the six rounds the settle rule compares (1 prefill + 16 decode steps, 24 tokens
      // each). At its cap on a busy machine, at least one whole round (CI once saw 82 runs in 2.5 s).
      const rounds = r.settled ? 6 : 1;
      expect(r.runs).toBeGreaterThanOrEqual(rounds * 17);
      expect(r.tokens).toBeGreaterThanOrEqual(rounds * 24);
      expect(r.runMs).toBeGreaterThan(0);
      expect(r.runMs).toBeLessThanOrEqual(r.ms);
      // Its session is not the model's: the load's record stays empty.
      expect(takeSessionRecord()).toEqual({ weightRewrite: null, sessionParts: null, sessionMemory: null });
    });
  }

  it('a round cut short (stopped, or at its cap) is not a measurement: it never settles the primer', async () => {
    serve();
    let steps = 0;
    let primer: KernelPrimer | null = null;
    // Every step paced alike (5 ms), so the rounds' speeds agree and six would settle: stopped in the
    // middle of the sixth (5 × 17 + 9 steps), whose partial speed once counted (CI saw "settled" with 98 runs).
    const paced = async (bytes: Uint8Array) => {
      const session = await createPrimerSession(bytes);
      const run = session.run.bind(session);
      return Object.assign(session, {
        run: async (...a: Parameters<typeof run>) => {
          await new Promise((r) => setTimeout(r, 5));
          if (++steps === 5 * 17 + 9) void primer?.stop();
          return run(...a);
        },
      }) as never;
    };
    primer = new KernelPrimer(ort as never, `${APP}models/slm-pocket/onnx/model.onnx`, paced);
    const r = await primer.ended;
    expect(r.skipped).toBeNull();
    expect(r.runs).toBeLessThan(6 * 17);
    expect(r.settled).toBe(false);
  });

  it("stops when the model's session is about to be created: that creation waits for it", async () => {
    serve();
    // Steps slowed to 40 ms, so it cannot settle or reach its cap before the model's creation below.
    const primer = new KernelPrimer(ort as never, `${APP}models/slm-pocket/onnx/model.onnx`, slow);
    gateNextCreate(() => primer.stop());
    let ended = false;
    void primer.ended.then(() => (ended = true));
    await new Promise((r) => setTimeout(r, 400));
    expect(ended).toBe(false);
    const s = await ort.InferenceSession.create(add);
    // The creation waited for the primer to stop (after the step in flight).
    expect(ended).toBe(true);
    const r = await primer.ended;
    expect(r).toMatchObject({ skipped: null, settled: false });
    expect(r.runs).toBeGreaterThan(0);
    // The session the gate let through works.
    const y = await s.run({ x: new ort.Tensor('float32', Float32Array.of(2), [1]) });
    expect([...(y['y']!.data as Float32Array)]).toEqual([3]);
    await s.release();
  });

  it("finish(grace): an unsettled primer runs on until it settles, within the grace; then the creation goes on", async () => {
    serve();
    const primer = (await startPrimer('q8', null, BIG, APP))!;
    // Asked to finish before its file even arrived: stop() would end it there ('the model was read first').
    await new Promise((r) => setTimeout(r, 0));
    const t0 = performance.now();
    const r = await primer.finish(PRIMER_MAX_MS);
    expect(r.skipped).toBeNull();
    // It went on to settle (or to its cap on a busy machine) rather than stopping at once.
    expect(r.settled || r.ms >= PRIMER_MAX_MS - 50).toBe(true);
    expect(r.runs).toBeGreaterThanOrEqual(6 * 17);
    expect(performance.now() - t0).toBeLessThanOrEqual(PRIMER_MAX_MS + 500);
  });

  it('finish(grace) stops an unsettled primer once the grace is over', async () => {
    serve();
    const primer = new KernelPrimer(ort as never, `${APP}models/slm-pocket/onnx/model.onnx`, slow);
    await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    const r = await primer.finish(200);
    const waited = performance.now() - t0;
    // 40 ms a step cannot settle in 200 ms: it stopped at the grace (plus the step in flight).
    expect(r).toMatchObject({ skipped: null, settled: false });
    expect(waited).toBeGreaterThanOrEqual(190);
    expect(waited).toBeLessThan(200 + 400);
    expect(r.runs).toBeGreaterThan(300 / 40 / 2);
  });

  it('stopped before its files arrived: reports that the model was read first, runs nothing', async () => {
    serve();
    const primer = (await startPrimer('q8', null, BIG, APP))!;
    const r = await primer.stop();
    expect(r).toMatchObject({ runs: 0, tokens: 0, skipped: 'the model was read first' });
  });

  it('a missing file, a model without a KV cache, or bytes that are no model: skipped with the reason, never thrown', async () => {
    serve({ 'models/slm-pocket/onnx/model.onnx': () => new Response('gone', { status: 404 }) });
    expect(await (await startPrimer('fp32', null, BIG, APP))!.ended).toMatchObject({ runs: 0, skipped: 'its model file could not be fetched (HTTP 404)' });

    serve({ 'models/slm-pocket/onnx/model.onnx': () => new Response(new Blob([add as Uint8Array<ArrayBuffer>])) });
    const noKv = new KernelPrimer(ort as never, `${APP}models/slm-pocket/onnx/model.onnx`, createPrimerSession);
    expect(await noKv.ended).toMatchObject({ runs: 0, skipped: 'its model does not fit the decode loop: the model has no input_ids/attention_mask inputs' });

    serve({ 'models/slm-pocket/onnx/model.onnx': () => new Response('<html>not a model</html>') });
    const junk = new KernelPrimer(ort as never, `${APP}models/slm-pocket/onnx/model.onnx`, createPrimerSession);
    const r = await junk.ended;
    expect(r.runs).toBe(0);
    expect(r.skipped).toMatch(/^it failed: /);
  });
});

describe("the Load status's primer line", () => {
  it('says what ran and why it ended, or why nothing ran', () => {
    expect(primerSummary({ ms: 520, runMs: 241.4, runs: 102, tokens: 144, settled: true, skipped: null })).toMatch(/^102 steps of slm-pocket in 241 ms beside the download, until its speed settled/);
    expect(primerSummary({ ms: 900, runMs: 610, runs: 40, tokens: 60, settled: false, skipped: null })).toMatch(/until the session began/);
    expect(primerSummary({ ms: 3, runMs: 0, runs: 0, tokens: 0, skipped: 'the model was read first' })).toBe('not run: the model was read first');
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
