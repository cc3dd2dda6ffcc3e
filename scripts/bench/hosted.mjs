// Over 300 lines: the reference server's process, the in-app and bare-fetch pairing, and the load test belong together.
/**
 * The hosted side of the benchmark, against the project's reference server (server/, an
 * OpenAI-compatible endpoint serving an embedded model on onnxruntime-node):
 *
 *   (a) in the real app: the Hosted tab pointed at the server, prompts sent from the composer (no
 *       local model loaded, so the hosted pane answers alone). The app's TTFT for each answer
 *       (dd[data-metric="TTFT"]) is matched, by completion id (the response's x-request-id), to the
 *       server's own timing (GET /v1/slm/stats/{id}): `firstByteMs`, arrival → first content delta
 *       written. Client overhead (`client_overhead_ms`), per pair: (app TTFT − the server's first
 *       byte for the app's request) − (bare TTFT − the server's first byte for the bare request),
 *       where the bare request is a `fetch` streaming request sent from the same page to the same
 *       server with the app's request body and headers (so the same CORS preflight cache entry),
 *       paired and interleaved with the app's (order alternating); the median over the pairs, with
 *       its spread (quartiles, min, max) and the machine's load average beside it. So neither the
 *       browser's own localhost round trip (~5 ms here) nor the server's time (its first byte swung by
 *       100+ ms between the two requests of a pair on a loaded machine) counts as the app's. The server
 *       runs without its prefix cache here, so both requests of a pair do the same work. The same
 *       difference without the server's times is `client_overhead_gross_ms`; app TTFT − server first
 *       byte is kept as `client_overhead_vs_server_ms`. The app's TTFT is read exactly (the metric's
 *       `data-ms`), not from its rounded text.
 *   (b) load: `concurrency` streaming requests at once from Node with the official `openai` client.
 *       The server generates one at a time and queues the rest (FIFO); it is started with a queue
 *       limit large enough for all of them, so every one should finish.
 *
 * The server runs in its own process (tsx), on 127.0.0.1 and a free port, and is stopped at the end.
 * A benchmark: it returns figures and asserts nothing.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { median, percentile } from '../../src/metrics/stats.ts';
import { connectHosted, tid } from '../../tests/e2e/ui.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FALLBACK_PROMPTS = ['What is the capital of France?', 'Which city is the capital of Japan?', 'What is the first letter of banana?'];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const r2 = (x) => (x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 100) / 100);

/** "12 ms" / "3.4 ms" / "1.2 s" (the app's fmtMs) → ms; null for "—". */
export function parseMs(text) {
  const m = /([\d.]+)\s*(ms|s)\b/.exec(text ?? '');
  if (!m) return null;
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

/** The served model: slm-reference when it is built, else the pocket model. */
export function referenceModel(modelsDir = path.join(ROOT, 'public/models')) {
  return existsSync(path.join(modelsDir, 'slm-reference/config.json')) ? 'slm-reference' : 'slm-pocket';
}

/** Up to `n` user prompts from the model's examples.json, else fixed ones the embedded models know. */
function promptsFor(model, n) {
  const file = path.join(ROOT, 'public/models', model, 'examples.json');
  const out = [];
  try {
    for (const e of JSON.parse(readFileSync(file, 'utf8')).examples ?? []) {
      const p = e.prompt ?? e.messages?.filter((m) => m.role === 'user').at(-1)?.content;
      if (p && !out.includes(p)) out.push(p);
    }
  } catch {
    // no examples.json: the fallbacks
  }
  for (const p of FALLBACK_PROMPTS) if (!out.includes(p)) out.push(p);
  return out.slice(0, n);
}

/**
 * Starts `server/main.ts` with tsx on 127.0.0.1, port 0, and waits for its "listening on" line.
 * Resolves { baseURL, url, model, stop(), output }.
 */
export async function startReferenceServer({ model = referenceModel(), queueLimit = 32, threads, apiKey, extraArgs = [], log = () => {}, timeoutMs = 180_000 } = {}) {
  const args = [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'server/main.ts', '--host', '127.0.0.1', '--port', '0', '--model', model, '--queue-limit', String(queueLimit), '--quiet', ...extraArgs];
  if (threads) args.push('--threads', String(threads));
  const env = { ...process.env };
  delete env.SLM_SERVER_API_KEY;
  if (apiKey) env.SLM_SERVER_API_KEY = apiKey;
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = [];
  let exited = null;
  const exit = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    }),
  );
  const ready = new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`reference server: no "listening on" line after ${timeoutMs / 1000} s:\n${output.join('\n')}`)), timeoutMs);
    const onLine = (line) => {
      output.push(line);
      const m = /listening on (http:\/\/\S+?\/v1) \(model ([^;)]+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve({ baseURL: m[1], model: m[2].trim() });
      }
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        onLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => output.push(...String(d).split('\n').filter(Boolean)));
    void exit.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`reference server exited (${code ?? signal}) before listening:\n${output.join('\n')}`));
    });
  });
  const stop = async () => {
    if (exited) return exited;
    child.kill('SIGTERM');
    const done = await Promise.race([exit, sleep(10_000).then(() => null)]);
    if (done) return done;
    child.kill('SIGKILL');
    return exit;
  };
  try {
    const { baseURL, model: served } = await ready;
    log(`hosted: reference server ${baseURL} (model ${served}, queue limit ${queueLimit})`);
    return { baseURL, url: baseURL.replace(/\/v1$/, ''), model: served, stop, output };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** The server's timing of one request; it is recorded when the response ends, so poll briefly. */
async function serverTiming(baseURL, id, headers = {}, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${baseURL}/slm/stats/${encodeURIComponent(id)}`, { headers });
    if (res.ok) return res.json();
    if (Date.now() > deadline) throw new Error(`no server timing for ${id} (HTTP ${res.status})`);
    await sleep(50);
  }
}

const HOSTED_TURNS = `${tid('pane-hosted')} ${tid('turn-assistant')}`;

/**
 * (a) The real app: Hosted tab configured to the server, `prompts` sent one by one (a new chat
 * each, so every request is one user message), the hosted pane's TTFT matched to the server's timing.
 */
export async function measureInApp(browser, appUrl, server, prompts, log = () => {}) {
  const app = await openApp(browser, appUrl, server);
  try {
    const runs = [];
    for (const [i, prompt] of prompts.entries()) {
      const run = await app.pair(i, prompt);
      log(
        `hosted: pair ${i + 1}/${prompts.length}${run.bare_first ? ' (bare first)' : ''}: app TTFT ${run.ttft_ms} ms (server ${run.server_first_byte_ms}), bare ${run.bare_fetch_ttft_ms} ms (server ${run.bare_server_first_byte_ms}), overhead ${run.client_overhead_ms} ms (gross ${run.client_overhead_gross_ms})`,
      );
      runs.push(run);
    }
    return runs;
  } finally {
    await app.close();
  }
}

/**
 * The app in its own context, its Hosted tab pointed at `server`. `pair(i, prompt)`: one app send
 * and one bare fetch of the same body (the bare one first for odd `i`), with the server's timings;
 * `close()`. Two apps open at once can take turns (scripts/bench/hosted-ab.mjs).
 */
export async function openApp(browser, appUrl, server) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(120_000);
  const ids = [];
  const bodies = [];
  let headers = null;
  page.on('request', (r) => {
    if (r.method() !== 'POST' || !r.url().startsWith(`${server.baseURL}/chat/completions`)) return;
    bodies.push(r.postData());
    if (!headers) headers = r.allHeaders().then(scriptHeaders);
  });
  page.on('response', (r) => {
    const req = r.request();
    const id = r.headers()['x-request-id'];
    if (req.method() === 'POST' && req.url().startsWith(`${server.baseURL}/chat/completions`) && id) ids.push(id);
  });
  try {
    await page.goto(appUrl, { waitUntil: 'load' });
    await page.waitForFunction(() => !/probing/i.test(document.querySelector('[data-testid="isolation-badge"]')?.textContent ?? 'probing'), undefined, { polling: 50 });
    // A first visit makes the service worker cache ONNX Runtime (~40 MB) in the background; measure
    // after that, as on every later visit, not while it competes for the CPU.
    await page.waitForSelector('[data-testid="offline-badge"][data-ready="true"]', { timeout: 120_000 }).catch(() => undefined);
    await connectHosted(page, { baseUrl: server.baseURL, model: server.model });
    if ((await page.locator(tid('hosted-error')).count()) > 0) throw new Error(`Hosted tab: ${await page.textContent(tid('hosted-error'))}`);
  } catch (e) {
    await context.close();
    throw e;
  }
  let sent = 0;
  const pair = async (i, prompt) => {
    if (sent++ > 0) await page.click(tid('new-chat'));
    // Odd pairs send the bare request first, with the app's last body for this prompt.
    const bareFirst = i % 2 === 1 && bodies.length > 0 ? await bareFetch(page, server, withPrompt(bodies.at(-1), prompt), await headers) : null;
    const before = ids.length;
    await page.fill(tid('prompt'), prompt);
    await page.click(tid('send'));
    // waitForSelector, not waitForFunction: its default polls in every animation frame, making the
    // page render during the very TTFT measured here (browser.mjs measureApp has the figures).
    await page.waitForSelector(`${HOSTED_TURNS}[data-streaming="false"]`, { state: 'attached' });
    await page.waitForSelector(tid('send'));
    const turn = await page.locator(HOSTED_TURNS).first().evaluate((el) => ({
      finish: el.getAttribute('data-finish'),
      error: el.querySelector('[data-testid="turn-error"]')?.textContent ?? null,
      ttft: el.querySelector('dd[data-metric="TTFT"]')?.getAttribute('data-ms') ?? null,
      ttftText: el.querySelector('dd[data-metric="TTFT"]')?.textContent ?? null,
      e2e: el.querySelector('dd[data-metric="End to end"]')?.textContent ?? null,
      tokens: el.querySelector('dd[data-metric="Tokens in/out"]')?.textContent ?? null,
    }));
    if (turn.error) throw new Error(`hosted answer failed: ${turn.error}`);
    const id = ids.length > before ? ids[ids.length - 1] : null;
    if (!id) throw new Error('no x-request-id on the chat completion response: cannot match it to the server timing');
    const t = await serverTiming(server.baseURL, id);
    // Exact where the app gives it (data-ms), else its text ("12 ms": rounded to 1 ms at ≥ 10 ms).
    const ttft = turn.ttft !== null && turn.ttft !== '' && Number.isFinite(Number(turn.ttft)) ? Number(turn.ttft) : parseMs(turn.ttftText);
    const b = bareFirst ?? (await bareFetch(page, server, bodies.at(-1), await headers));
    const bare = b.ttft;
    const bt = b.id ? await serverTiming(server.baseURL, b.id) : null;
    return {
      prompt,
      id,
      finish: turn.finish,
      ttft_ms: r2(ttft),
      e2e_ms: parseMs(turn.e2e),
      tokens: turn.tokens,
      server_first_byte_ms: t.firstByteMs,
      server_first_token_ms: t.firstTokenMs,
      server_queued_ms: t.queuedMs,
      server_total_ms: t.totalMs,
      server_decode_tps: t.decodeTps,
      bare_fetch_ttft_ms: r2(bare),
      bare_server_first_byte_ms: bt?.firstByteMs ?? null,
      bare_first: bareFirst !== null,
      // Net of each request's own server time (on this shared machine the server's first byte
      // swings by 100+ ms between the two requests of a pair).
      client_overhead_ms: ttft !== null && bare !== null && t.firstByteMs !== null && bt?.firstByteMs != null ? r2(ttft - t.firstByteMs - (bare - bt.firstByteMs)) : null,
      client_overhead_gross_ms: ttft !== null && bare !== null ? r2(ttft - bare) : null,
      client_overhead_vs_server_ms: ttft !== null && t.firstByteMs !== null ? r2(ttft - t.firstByteMs) : null,
    };
  };
  return { page, pair, close: () => context.close() };
}

/** The app's request body (JSON) with its last user message replaced by `prompt`. */
function withPrompt(body, prompt) {
  const b = JSON.parse(body);
  const last = b.messages.findLast((m) => m.role === 'user');
  if (last) last.content = prompt;
  return JSON.stringify(b);
}

/**
 * The headers a page script set on a request (Playwright's allHeaders() also lists what the browser
 * adds: origin, referer, user-agent, sec-*, …; a script cannot set those, and the browser adds them
 * to the bare request too). The bare request sends the rest, so both hit the same CORS preflight.
 */
const BROWSER_HEADERS = new Set(['accept-charset', 'accept-encoding', 'accept-language', 'connection', 'content-length', 'cookie', 'date', 'dnt', 'expect', 'host', 'keep-alive', 'origin', 'referer', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'via', 'priority']);
export function scriptHeaders(all) {
  return Object.fromEntries(Object.entries(all).filter(([k]) => !BROWSER_HEADERS.has(k.toLowerCase()) && !/^(sec-|proxy-|access-control-request-|:)/i.test(k)));
}

/** A bare `fetch` streaming request from the page: ms to the first content delta (read to the end), and its request id. */
function bareFetch(page, server, body, headers) {
  return page.evaluate(
    async ([url, b, h]) => {
      const t0 = performance.now();
      const res = await fetch(url, { method: 'POST', headers: h, body: b });
      const id = res.headers.get('x-request-id');
      const reader = res.body.getReader();
      const dec = new TextDecoder();
      let buf = '';
      let ttft = null;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        if (ttft === null && /"content":"[^"]/.test(buf)) ttft = performance.now() - t0;
      }
      return { ttft, id };
    },
    [`${server.baseURL}/chat/completions`, body, headers ?? { 'Content-Type': 'application/json' }],
  );
}

/** (b) `n` streaming requests at once from Node with the openai client; each ok when it ends with a finish reason. */
export async function concurrentStreams(server, { n = 16, maxTokens = 32, prompts = FALLBACK_PROMPTS, log = () => {} } = {}) {
  const client = new OpenAI({ baseURL: server.baseURL, apiKey: 'unused', maxRetries: 0, timeout: 10 * 60_000 });
  const t0 = performance.now();
  const one = async (i) => {
    const start = performance.now();
    let first = null;
    let finish = null;
    let id = null;
    let usage = null;
    let text = '';
    const stream = await client.chat.completions.create({
      model: server.model,
      messages: [{ role: 'user', content: prompts[i % prompts.length] }],
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: maxTokens,
      temperature: 0,
    });
    for await (const chunk of stream) {
      id ??= chunk.id;
      if (chunk.usage) usage = chunk.usage;
      const c = chunk.choices[0];
      if (c?.delta?.content) {
        first ??= performance.now();
        text += c.delta.content;
      }
      if (c?.finish_reason) finish = c.finish_reason;
    }
    if (!finish) throw new Error('stream ended without a finish reason');
    return { id, finish, ttft_ms: first === null ? null : first - start, total_ms: performance.now() - start, completion_tokens: usage?.completion_tokens ?? null, chars: text.length };
  };
  const settled = await Promise.allSettled(Array.from({ length: n }, (_, i) => one(i)));
  const wallMs = performance.now() - t0;
  const ok = settled.filter((s) => s.status === 'fulfilled').map((s) => s.value);
  const failures = settled.filter((s) => s.status === 'rejected').map((s) => String(s.reason?.status ?? '') + ' ' + (s.reason instanceof Error ? s.reason.message : String(s.reason)));
  const timings = await Promise.all(ok.map((r) => (r.id ? serverTiming(server.baseURL, r.id).catch(() => null) : null)));
  const tokens = ok.reduce((a, r) => a + (r.completion_tokens ?? 0), 0);
  const result = {
    n,
    max_tokens: maxTokens,
    ok: ok.length,
    failed: failures.length,
    failures,
    wall_ms: r2(wallMs),
    ttft_ms_median: r2(median(ok.map((r) => r.ttft_ms))),
    ttft_ms_max: r2(Math.max(...ok.map((r) => r.ttft_ms ?? 0))),
    total_ms_max: r2(Math.max(...ok.map((r) => r.total_ms))),
    server_queued_ms_max: r2(Math.max(...timings.map((t) => t?.queuedMs ?? 0))),
    server_decode_tps_median: r2(median(timings.map((t) => t?.decodeTps))),
    completion_tokens: tokens,
    aggregate_tps: r2((tokens * 1000) / wallMs),
    finish_reasons: Object.fromEntries([...new Set(ok.map((r) => r.finish))].map((f) => [f, ok.filter((r) => r.finish === f).length])),
  };
  log(`hosted: ${n} concurrent streams: ${result.ok} ok, ${result.failed} failed, ${result.wall_ms} ms, ${result.aggregate_tps} tok/s overall`);
  return result;
}

/** Median, quartiles, min and max of the finite values (null fields when there are none). */
export function spread(values) {
  const v = values.filter((x) => x !== null && x !== undefined && Number.isFinite(x));
  return { n: v.length, median: r2(median(v)), p25: r2(percentile(v, 25)), p75: r2(percentile(v, 75)), min: v.length ? r2(Math.min(...v)) : null, max: v.length ? r2(Math.max(...v)) : null };
}

/**
 * Used by scripts/bench/index.mjs. `browser`: a Playwright Browser; `appUrl`: the served app;
 * `log`: progress lines. Options: prompts (21: the first pair is not counted, so 20 pairs),
 * concurrency (16), maxTokens (32), threads (server).
 */
export async function measureHosted({ browser, appUrl, log = () => {}, prompts: nPrompts = 21, concurrency = 16, maxTokens = 32, threads } = {}) {
  const model = referenceModel();
  const server = await startReferenceServer({ model, queueLimit: Math.max(32, concurrency), threads, extraArgs: ['--kv-cache-mb', '0'], log });
  try {
    const distinct = promptsFor(model, nPrompts);
    const loadBefore = loadavg()[0];
    const runs = await measureInApp(browser, appUrl, server, Array.from({ length: nPrompts }, (_, i) => distinct[i % distinct.length]), log);
    const loadAfter = loadavg()[0];
    // The first pair is left out of the client overhead: it carries the page's first CORS preflight
    // to the server (cached for both sides afterwards: same URL and headers, Access-Control-Max-Age
    // 600) and the first run of the SDK's code.
    const paired = runs.slice(1);
    const overhead = spread(paired.map((r) => r.client_overhead_ms));
    log(`hosted: client overhead (net of server time) median ${overhead.median} ms, quartiles ${overhead.p25}…${overhead.p75}, range ${overhead.min}…${overhead.max}, ${overhead.n} pairs; load average ${loadBefore.toFixed(2)} → ${loadAfter.toFixed(2)}`);
    const load = await concurrentStreams(server, { n: concurrency, maxTokens, prompts: promptsFor(model, 8), log });
    return {
      hosted_model: server.model,
      hosted_ttft_ms: r2(median(runs.map((r) => r.ttft_ms))),
      server_first_byte_ms: r2(median(runs.map((r) => r.server_first_byte_ms))),
      client_overhead_ms: overhead.median,
      client_overhead_spread: overhead,
      client_overhead_gross_ms: r2(median(paired.map((r) => r.client_overhead_gross_ms))),
      bare_fetch_ttft_ms: r2(median(paired.map((r) => r.bare_fetch_ttft_ms))),
      client_overhead_vs_server_ms: r2(median(paired.map((r) => r.client_overhead_vs_server_ms))),
      hosted_load_avg: [r2(loadBefore), r2(loadAfter)],
      server_streams_ok: load.ok,
      server_streams_failed: load.failed,
      hosted_runs: runs,
      concurrent: load,
    };
  } finally {
    await server.stop();
  }
}
