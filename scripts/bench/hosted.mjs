/**
 * The hosted side of the benchmark, against the project's reference server (server/, an
 * OpenAI-compatible endpoint serving an embedded model on onnxruntime-node):
 *
 *   (a) in the real app, paired with bare requests from the same page: hosted-pair.mjs.
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
import { openApp, serverTiming } from './hosted-pair.mjs';

export { openApp, parseMs, scriptHeaders } from './hosted-pair.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FALLBACK_PROMPTS = ['What is the capital of France?', 'Which city is the capital of Japan?', 'What is the first letter of banana?'];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const r2 = (x) => (x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 100) / 100);

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
        `hosted: pair ${i + 1}/${prompts.length}${run.bare_first ? ' (bare first)' : ''}: app TTFT ${run.ttft_ms} ms (server ${run.server_first_byte_ms}), bare ${run.bare_fetch_ttft_ms} ms (server ${run.bare_server_first_byte_ms}), overhead ${run.client_overhead_ms} ms (gross ${run.client_overhead_gross_ms}); script-started bare ${run.bare_scripted_ttft_ms} ms (server ${run.bare_scripted_server_first_byte_ms}), overhead against it ${run.client_overhead_scripted_ms} ms`,
      );
      runs.push(run);
    }
    return runs;
  } finally {
    await app.close();
  }
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
    log(`hosted: client overhead (net of server time) median ${overhead.median} ms, quartiles ${overhead.p25}…${overhead.p75}, range ${overhead.min}…${overhead.max}, ${overhead.n} pairs; against a script-started fetch ${r2(median(paired.map((r) => r.client_overhead_scripted_ms)))} ms (a click's start: ${r2(median(paired.map((r) => r.click_start_ms)))} ms); load average ${loadBefore.toFixed(2)} → ${loadAfter.toFixed(2)}`);
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
      client_overhead_scripted_ms: r2(median(paired.map((r) => r.client_overhead_scripted_ms))),
      bare_scripted_ttft_ms: r2(median(paired.map((r) => r.bare_scripted_ttft_ms))),
      click_start_ms: r2(median(paired.map((r) => r.click_start_ms))),
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
