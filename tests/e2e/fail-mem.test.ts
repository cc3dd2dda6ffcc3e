// About 310 lines: one browser session per failure kind of issue 13, sharing the size-only host and the worker lookup.
/**
 * Big models fail well (issue 13, items 1, 4, 5), in the built app in headless Chromium, offline:
 * - too big: a model whose sizes (config.json + HEAD) exceed what WASM can address is refused
 *   before any byte of its weights is asked for; "close" asks the user, and "Load anyway" goes on;
 * - memory: the Load status and the run metrics show measured memory, ≥ the fp32 file on WASM;
 * - a WASM abort in the middle of an answer: the pane says so, the partial answer and the
 *   conversation stay, the hosted pane answers as usual, and the next Load works; a worker that
 *   dies without a word (closed) is noticed too;
 * - a lost WebGPU device (SwiftShader): the message and a WASM load of the same model;
 * - the context limit on the pocket model (512 positions): the oldest turns are left out with a
 *   notice, and the answer still comes;
 * - the test-only hooks are in the e2e build and not in a production build.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { startReferenceServer, type TestServer } from '../server/helpers';
import { CHROMIUM_PATH, chromiumArgs } from './browser';
import { modelsDir } from './parity';
import { assistantTurns, loadModel, modelWorker, loadModelOk, readTurn, sendPrompt, setGeneration, tid, waitForAnswer, waitForLoadOutcome, waitForProbe } from './ui';

const appUrl = inject('appUrl');
const distDir = inject('distDir');
const ROOT = path.resolve(import.meta.dirname, '../..');
const GIB = 1024 ** 3;

let browser: Browser;
const contexts: BrowserContext[] = [];

/** Chromium answers measureUserAgentSpecificMemory() at its next GC (up to 20 s): eager here. */
async function launch(webgpu = false): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...chromiumArgs({ webgpu }), '--enable-blink-features=ForceEagerMeasureMemory'], timeout: 60_000 });
}

async function open(b: Browser = browser): Promise<{ page: Page; errors: string[] }> {
  const context = await b.newContext();
  contexts.push(context);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.setDefaultTimeout(60_000);
  await page.goto(appUrl, { waitUntil: 'load' });
  await waitForProbe(page);
  return { page, errors };
}

beforeAll(async () => {
  browser = await launch();
});
afterEach(async () => {
  while (contexts.length) await contexts.pop()?.close();
});
afterAll(async () => {
  await browser?.close();
});

/**
 * A hub-like host that describes models by their sizes only: config.json and the tokenizer files
 * are the pocket model's, and onnx/model.onnx answers HEAD with a Content-Length of `bytes` (no
 * such file exists; a GET gets a 404). Every request is logged.
 */
async function sizeOnlyHost(models: Record<string, number>): Promise<{ url: string; log: string[]; close(): Promise<void> }> {
  const pocket = path.join(modelsDir(), 'slm-pocket');
  const log: string[] = [];
  const server = http.createServer((req, res) => {
    const url = req.url ?? '';
    log.push(`${req.method} ${url}`);
    const cors = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': 'Content-Length, Content-Type', 'Cross-Origin-Resource-Policy': 'cross-origin', 'Cache-Control': 'no-store' };
    const m = /^\/(test-org\/[\w-]+)\/resolve\/main\/(.+)$/.exec(url);
    const size = m ? models[m[1]!] : undefined;
    if (!m || size === undefined) return void res.writeHead(404, cors).end();
    const file = m[2]!;
    if (file === 'onnx/model.onnx') {
      if (req.method === 'HEAD') return void res.writeHead(200, { ...cors, 'Content-Type': 'application/octet-stream', 'Content-Length': size }).end();
      return void res.writeHead(404, cors).end();
    }
    const local = path.join(pocket, file);
    if (!/^[\w.]+$/.test(file) || !fs.existsSync(local)) return void res.writeHead(404, cors).end();
    const body = fs.readFileSync(local);
    res.writeHead(200, { ...cors, 'Content-Type': 'application/json', 'Content-Length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    log,
    // closeAllConnections: the page still holds its keep-alive connections when the test ends, and
    // close() alone waits for them (CI once spent the test's whole 240 s there).
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

describe('memory: checked before the download, measured after', () => {
  it('refuses a model too big for WASM from its sizes alone, with the numbers and a dtype that fits; "close" asks first', async () => {
    const host = await sizeOnlyHost({ 'test-org/huge': 4 * GIB, 'test-org/tight': Math.round(1.7 * GIB) });
    try {
      const { page } = await open();
      const huge = await loadModel(page, { source: { type: 'mirror', host: host.url, modelId: 'test-org/huge' }, dtype: 'fp32', device: 'wasm', warmup: false });
      expect(huge.ok).toBe(false);
      if (huge.ok) return;
      expect(huge.code).toBe('too-big');
      expect(huge.text).toMatch(/test-org\/huge as fp32 is too big for WASM on this device; nothing was downloaded/);
      expect(huge.text).toMatch(/WASM memory \(4,096 MB weights \+ 0 MB for the largest tensor while loading .*\): needs 4,\d{3} MB, the limit is 4,096 MB/);
      expect(huge.text).toMatch(/2 GB ArrayBuffer.*needs 4,096 MB, the limit is 2,048 MB/);
      expect(huge.text).toMatch(/q8 would fit \(about 1,024 MB of weights\)/);
      // Sizes were asked for (HEAD); no byte of weights nor of the tokenizer was.
      const hugeLog = host.log.filter((l) => l.includes('test-org/huge/'));
      expect(hugeLog).toContain('HEAD /test-org/huge/resolve/main/onnx/model.onnx');
      expect(hugeLog.filter((l) => l.startsWith('GET') && !l.endsWith('/config.json'))).toEqual([]);

      // Close to a limit (the 2 GB single file; the heap needs ~1.1 × of it): a warning with "Load anyway"; the override goes on to the download.
      const tight = await loadModel(page, { source: { type: 'mirror', host: host.url, modelId: 'test-org/tight' }, dtype: 'fp32', device: 'wasm', warmup: false });
      expect(tight.ok).toBe(false);
      if (tight.ok) return;
      expect(tight.code).toBe('memory-tight');
      expect(tight.text).toMatch(/may not fit in memory on WASM.*needs 1,741 MB of at most 2,048 MB/);
      expect(host.log.filter((l) => l.startsWith('GET /test-org/tight/') && l.endsWith('model.onnx'))).toEqual([]);
      await page.click(tid('load-anyway'));
      await expect.poll(() => host.log.filter((l) => l.startsWith('GET /test-org/tight/') && l.endsWith('onnx/model.onnx')).length, { timeout: 60_000 }).toBeGreaterThan(0);
    } finally {
      await host.close();
    }
  });

  it('shows measured memory beside the file size: the worker’s WASM heap and page + workers, both ≥ the fp32 file', async () => {
    const { page } = await open();
    await loadModelOk(page, { dtype: 'fp32', device: 'wasm', threads: 1, warmup: false });
    const fileBytes = fs.statSync(path.join(modelsDir(), 'slm-pocket/onnx/model.onnx')).size;
    const mem = page.locator(tid('load-memory'));
    await expect.poll(async () => (await mem.getAttribute('data-page-bytes')) ?? '', { timeout: 60_000 }).not.toBe('');
    const [pageBytes = 0, wasmBytes = 0, weightsBytes = 0] = await Promise.all(['data-page-bytes', 'data-wasm-bytes', 'data-weights-bytes'].map(async (a) => Number(await mem.getAttribute(a))));
    expect(weightsBytes).toBe(fileBytes);
    expect(wasmBytes).toBeGreaterThanOrEqual(fileBytes);
    expect(wasmBytes).toBeLessThan(4 * GIB);
    expect(pageBytes).toBeGreaterThanOrEqual(wasmBytes);
    expect(await mem.textContent()).toMatch(/page \+ workers.*model worker WASM .* · weights file 3\.4 MB · \d+\.\d\d× the file/);
    // The run metrics carry the worker's peak too.
    const i = await sendPrompt(page, 'Hello');
    const t = await waitForAnswer(page, i);
    expect(t.metrics['Memory peak']).toMatch(/^\d+(\.\d)? MB$/);
  });
});

describe('crashes', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startReferenceServer({ modelsDir: modelsDir(), model: 'slm-pocket', queueLimit: 4, statsLimit: 50 });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('a WASM abort mid-answer: the message, the partial answer and the conversation stay, the hosted pane answers, the next Load works', async () => {
    const { page } = await open();
    await page.click(tid('tab-hosted'));
    await page.selectOption(tid('hosted-preset'), 'reference');
    await page.fill(tid('hosted-base-url'), server.baseURL);
    await page.fill(tid('hosted-model'), server.model.id);
    await page.locator(tid('hosted-enabled')).setChecked(true);
    await page.click(tid('hosted-apply'));
    await page.waitForSelector(tid('pane-hosted'));
    await loadModelOk(page, { dtype: 'fp32', device: 'wasm', threads: 1, warmup: false });
    await setGeneration(page, { greedy: true, maxNewTokens: 96, fixedLength: true });

    const first = await waitForAnswer(page, await sendPrompt(page, 'Hello'));
    expect(first.error).toBeNull();
    // Armed while the worker is idle: the next answer aborts after 24 tokens, as ONNX Runtime's abort() does.
    await (await modelWorker(page)).evaluate(() => (self as unknown as { __slmTestHooks: { abortAfterTokens(n: number): void } }).__slmTestHooks.abortAfterTokens(24));
    const i = await sendPrompt(page, 'Tell me more.');
    const crashed = await waitForAnswer(page, i);
    expect(crashed.finish).toBe('error');
    expect(crashed.error).toMatch(/ONNX Runtime aborted while generating.*The text above is kept as it arrived/);
    expect(crashed.content.length).toBeGreaterThan(0);
    expect((await readTurn(assistantTurns(page).nth(0))).content).toBe(first.content);
    await page.click(tid('tab-model'));
    const status = page.locator(tid('load-error'));
    expect(await status.getAttribute('data-code')).toBe('worker-crashed');
    expect(await status.textContent()).toMatch(/^The model stopped\./);
    // The hosted pane answered both prompts as usual.
    const hosted = page.locator(`${tid('pane-hosted')} ${tid('turn-assistant')}`);
    await expect.poll(() => hosted.nth(1).getAttribute('data-streaming'), { timeout: 60_000 }).toBe('false');
    const h = await readTurn(hosted.nth(1));
    expect(h.error).toBeNull();
    expect(h.content.length).toBeGreaterThan(0);

    // The next Load starts a fresh worker; the conversation goes on.
    await loadModelOk(page, { dtype: 'fp32', device: 'wasm', threads: 1, warmup: false });
    const after = await waitForAnswer(page, await sendPrompt(page, 'Hello again'));
    expect(after.error).toBeNull();
    expect(after.content.length).toBeGreaterThan(0);
    expect(await assistantTurns(page).count()).toBe(3);

    // A worker that ends without a word (as the browser ends one that ran out of memory) is noticed.
    await (await modelWorker(page)).evaluate(() => self.close());
    await page.click(tid('tab-model'));
    await expect.poll(() => page.locator(tid('load-error')).getAttribute('data-code').catch(() => null), { timeout: 30_000 }).toBe('worker-crashed');
    expect(await page.locator(tid('load-error')).textContent()).toMatch(/The model worker stopped/);
    expect(await assistantTurns(page).count()).toBe(3);
  }, 480_000);

  it('a lost WebGPU device: the message, and the same model loads on WASM', async () => {
    const gpuBrowser = await launch(true);
    try {
      const { page } = await open(gpuBrowser);
      const r = await loadModel(page, { dtype: 'fp32', device: 'webgpu', warmup: false }, 240_000);
      if (!r.ok) throw new Error(`WebGPU load failed (${r.code}): ${r.text}`);
      expect(r.statusText).toMatch(/ready on WEBGPU/);
      const destroyed = await (await modelWorker(page)).evaluate(() => (self as unknown as { __slmTestHooks: { destroyDevice(): Promise<boolean> } }).__slmTestHooks.destroyDevice());
      expect(destroyed).toBe(true);
      const error = page.locator(tid('load-error'));
      await expect.poll(() => error.getAttribute('data-code').catch(() => null), { timeout: 30_000 }).toBe('device-lost');
      expect(await error.textContent()).toMatch(/The WebGPU device was lost \(the device was destroyed\)/);
      await startLoadVia(page, () => page.click(tid('load-wasm')));
      const wasm = await waitForLoadOutcome(page);
      if (!wasm.ok) throw new Error(`WASM load failed (${wasm.code}): ${wasm.text}`);
      expect(wasm.statusText).toMatch(/ready on WASM/);
    } finally {
      await gpuBrowser.close();
    }
  }, 480_000);
});

/** Arms waitForLoadOutcome (ui.ts records states from startLoad) and runs `click` instead of the Load button. */
async function startLoadVia(page: Page, click: () => Promise<void>): Promise<void> {
  // startLoad's state recorder is what waitForLoadOutcome reads; re-arm it without clicking Load.
  await page.evaluate(() => {
    const w = window as unknown as { __load?: { seq: string[] } };
    if (w.__load) w.__load.seq.length = 0;
    w.__load?.seq.push('error');
  });
  await click();
}

describe('context limit', () => {
  it('leaves out the oldest turns with a notice on the pocket model (512 positions), and the answer still comes', async () => {
    const { page } = await open();
    await loadModelOk(page, { dtype: 'fp32', device: 'wasm', threads: 1, warmup: false });
    await setGeneration(page, { greedy: true, maxNewTokens: 32 });
    const long = (n: number) => Array.from({ length: 120 }, (_, k) => `word${(k * 7 + n) % 50}`).join(' ');
    let notice: string | null = null;
    for (let turn = 0; turn < 6 && notice === null; turn++) {
      const i = await sendPrompt(page, long(turn));
      const t = await waitForAnswer(page, i);
      expect(t.error, `turn ${turn}`).toBeNull();
      expect(t.finish).not.toBe('error');
      notice = await assistantTurns(page).nth(i).locator(tid('turn-notice')).textContent().catch(() => null);
    }
    expect(notice).toMatch(/longer than the model's 512-token context: the oldest \d+ messages? (was|were) left out/);
  }, 360_000);
});

describe('test-only hooks', () => {
  it('are in the e2e build and not in a production build of the model worker', async () => {
    const marker = 'abortAfterTokens';
    const grep = (dir: string) => {
      try {
        return execFileSync('grep', ['-rl', marker, dir], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
      } catch {
        return [];
      }
    };
    expect(grep(path.join(distDir, 'assets')).length).toBeGreaterThan(0);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'slm-prod-hooks-'));
    const nodeEnv = process.env['NODE_ENV'];
    process.env['NODE_ENV'] = 'production';
    try {
      // The harness page holds the same model worker as the app, with less to bundle.
      await build({ root: ROOT, configFile: path.join(ROOT, 'vite.config.ts'), mode: 'production', logLevel: 'warn', build: { outDir: out, emptyOutDir: true, sourcemap: false, rollupOptions: { input: { harness: path.join(ROOT, 'harness.html') } } } });
      const workers = fs.readdirSync(path.join(out, 'assets')).filter((f) => f.includes('model.worker'));
      expect(workers.length).toBeGreaterThan(0);
      expect(grep(out)).toEqual([]);
    } finally {
      process.env['NODE_ENV'] = nodeEnv;
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
