// Over 300 lines: the scripted server, the page hooks and the report on one clock are one probe.
/**
 * The order of events around one hosted send, in the real app (built dist/, vite preview), against
 * an in-process scripted SSE server: `npx tsx scripts/bench/hosted-order.mjs [--url APP] [--sends 6]
 * [--delay 8] [--out trace.json] [--root CHECKOUT] [--no-build]` (`--root`: another checkout's
 * app, e.g. main's, for the same order there).
 *
 * What it establishes is ORDER, not durations (those swing with the machine's load): for each send,
 * whether the chat request's `fetch()` was called before or after React inserted the new turns and
 * before or after useChatFocus's focus/scroll/forced layout ran, and which main-thread work ran
 * between the server writing the first content and the page's read of it. Sources:
 *  - page hooks (an init script, no app change): `performance.mark`s at the submit event, the
 *    `fetch()` call for /chat/completions and its resolution, each read of its body (the reads the
 *    app's arrival clock, engines/hosted/arrival.ts, stamps), the DOM insertion of the turns, and
 *    the useChatFocus calls (focus on the answers, getBoundingClientRect on the chat, scrollIntoView,
 *    scrollTop writes), and each requestAnimationFrame callback;
 *  - a Chromium trace (devtools.timeline) of the same sends: the main thread's tasks (layout, paint,
 *    script) with their times, on the trace clock (CLOCK_MONOTONIC on Linux);
 *  - the scripted server's own stamps on the same clock (process.hrtime): request arrival, headers,
 *    first content written. The server sends headers and a role chunk at once and the first content
 *    `--delay` ms later, as the reference server does after its prefill.
 * A probe: it prints the sequences and asserts nothing.
 */
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { build, preview } from 'vite';
import { launch } from './browser.mjs';
import { connectHosted, tid } from '../../tests/e2e/ui.ts';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const SENDS = Number(arg('sends', '6'));
const DELAY = Number(arg('delay', '8'));
const monoUs = () => Number(process.hrtime.bigint() / 1000n);

/** The scripted endpoint: /v1/models, CORS with a 600 s preflight cache, a stream with content after DELAY ms. */
function startServer() {
  const stamps = new Map();
  const preflights = [];
  let n = 0;
  const cors = (req) => ({
    'Access-Control-Allow-Origin': req.headers.origin ?? '*',
    'Access-Control-Expose-Headers': 'x-request-id',
    'Timing-Allow-Origin': '*',
  });
  const server = http.createServer((req, res) => {
    const arrival = monoUs();
    if (req.method === 'OPTIONS') {
      preflights.push(arrival);
      res.writeHead(204, { ...cors(req), 'Access-Control-Allow-Methods': 'GET, POST, OPTIONS', 'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] ?? '*', 'Access-Control-Max-Age': '600' });
      res.end();
      return;
    }
    if (req.url?.endsWith('/models')) {
      res.writeHead(200, { ...cors(req), 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ id: 'probe-model', object: 'model', created: 1, owned_by: 'probe' }] }));
      return;
    }
    req.resume();
    req.on('end', () => {
      const id = `chatcmpl-probe-${++n}`;
      const s = { arrival, bodyEnd: monoUs(), headers: null, content: null };
      stamps.set(id, s);
      res.socket?.setNoDelay(true);
      res.writeHead(200, { ...cors(req), 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'x-request-id': id });
      res.flushHeaders();
      const chunk = (delta, finish) => `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 1, model: 'probe-model', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      res.write(chunk({ role: 'assistant', content: '' }, null));
      s.headers = monoUs();
      setTimeout(() => {
        res.write(chunk({ content: 'Paris' }, null));
        s.content = monoUs();
        setTimeout(() => {
          res.write(chunk({ content: '.' }, null));
          res.write(chunk({}, 'stop'));
          res.end('data: [DONE]\n\n');
        }, 5);
      }, DELAY);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, stamps, preflights, baseURL: `http://127.0.0.1:${server.address().port}/v1` })));
}

/** Page hooks: marks named `probe:<event>` (a send is delimited by the harness clearing them). */
const HOOKS = () => {
  const mark = (name) => performance.mark(`probe:${name}`);
  const bodies = new WeakSet();
  const isChat = (input) => String(input instanceof Request ? input.url : input).includes('/chat/completions');
  const origFetch = window.fetch;
  window.fetch = function (input, init) {
    if (!isChat(input)) return origFetch.call(this, input, init);
    mark('fetch:call');
    const p = origFetch.call(this, input, init);
    return p.then((res) => {
      mark('fetch:headers');
      if (res.body) bodies.add(res.body);
      return res;
    });
  };
  const getReader = ReadableStream.prototype.getReader;
  ReadableStream.prototype.getReader = function (...a) {
    const reader = getReader.apply(this, a);
    if (!bodies.has(this)) return reader;
    const read = reader.read.bind(reader);
    const dec = new TextDecoder();
    let seen = false;
    reader.read = () =>
      read().then((r) => {
        const text = r.value ? dec.decode(r.value, { stream: true }) : '';
        const content = /"content":"[^"]/.test(text);
        mark(r.done ? 'body:done' : content && !seen ? 'body:first-content' : 'body:read');
        if (content) seen = true;
        return r;
      });
    return reader;
  };
  const watch = (node) => node instanceof Element && (node.matches('[data-testid^="turn-"]') || node.querySelector('[data-testid^="turn-"]'));
  for (const m of ['insertBefore', 'appendChild']) {
    const orig = Node.prototype[m];
    Node.prototype[m] = function (node, ...rest) {
      const out = orig.call(this, node, ...rest);
      if (this.isConnected && watch(node)) mark(`dom:${node.getAttribute('data-testid') ?? node.tagName}`);
      return out;
    };
  }
  const focus = HTMLElement.prototype.focus;
  HTMLElement.prototype.focus = function (...a) {
    mark(`focus:${this.getAttribute('data-testid') ?? this.tagName}:start`);
    const out = focus.apply(this, a);
    mark('focus:end');
    return out;
  };
  const gbcr = Element.prototype.getBoundingClientRect;
  Element.prototype.getBoundingClientRect = function () {
    const chat = this.classList?.contains('chat');
    if (chat) mark('layout:chat-rect:start');
    const out = gbcr.call(this);
    if (chat) mark('layout:chat-rect:end');
    return out;
  };
  const siv = Element.prototype.scrollIntoView;
  Element.prototype.scrollIntoView = function (...a) {
    mark(`scrollIntoView:${this.getAttribute('data-testid') ?? this.tagName}:start`);
    const out = siv.apply(this, a);
    mark('scrollIntoView:end');
    return out;
  };
  const raf = window.requestAnimationFrame;
  window.requestAnimationFrame = (cb) =>
    raf.call(window, (t) => {
      mark('raf:run');
      return cb(t);
    });
  window.addEventListener('submit', () => mark('submit'), true);
};

async function main() {
  let app = arg('url', null);
  let viteServer = null;
  if (!app) {
    const root = arg('root', undefined);
    if (!process.argv.includes('--no-build')) await build({ root, logLevel: 'warn' });
    viteServer = await preview({ root, preview: { port: 0, strictPort: false }, logLevel: 'warn' });
    app = viteServer.resolvedUrls?.local?.[0];
  }
  const srv = await startServer();
  const browser = await launch();
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.addInitScript(HOOKS);
  try {
    await page.goto(app, { waitUntil: 'load' });
    await page.waitForSelector('[data-testid="offline-badge"][data-ready="true"]', { timeout: 120_000 }).catch(() => undefined);
    await connectHosted(page, { baseUrl: srv.baseURL, model: 'probe-model' });
    const sendOnce = async () => {
      await page.evaluate(() => performance.clearMarks());
      await page.fill(tid('prompt'), 'What is the capital of France?');
      await page.click(tid('send'));
      // Not waitForFunction's per-frame polling (browser.mjs measureApp says why).
      await page.waitForSelector(`${tid('pane-hosted')} ${tid('turn-assistant')}[data-streaming="false"]`, { state: 'attached' });
      await page.waitForSelector(tid('send'));
      await page.waitForTimeout(100);
      const ttft = await page.locator(`${tid('pane-hosted')} dd[data-metric="TTFT"]`).first().getAttribute('data-ms');
      const marks = await page.evaluate(() => performance.getEntriesByType('mark').filter((m) => m.name.startsWith('probe:')).map((m) => ({ name: m.name.slice(6), t: m.startTime })));
      await page.click(tid('new-chat'));
      // The same request as a bare fetch from the page (the app's body and script headers).
      const bare = await page.evaluate(async ([url, body]) => {
        const t0 = performance.now();
        performance.mark('probe:bare:fetch');
        const res = await fetch(url, { method: 'POST', headers: { Accept: 'application/json', 'Content-Type': 'application/json' }, body });
        const reader = res.body.getReader();
        const dec = new TextDecoder();
        let ttft = null;
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          if (ttft === null && /"content":"[^"]/.test(dec.decode(value, { stream: true }))) ttft = performance.now() - t0;
        }
        return { ttft, t0 };
      }, [`${srv.baseURL}/chat/completions`, JSON.stringify({ model: 'probe-model', messages: [{ role: 'user', content: 'What is the capital of France?' }], stream: true })]);
      return { ttft: Number(ttft), marks, bare };
    };
    // Warm-up: the first request carries the CORS preflight and the first run of the SDK's code.
    await sendOnce();
    const traceStart = monoUs();
    await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink.user_timing', 'toplevel', 'v8.execute', 'loading'] });
    const sends = [];
    for (let i = 0; i < SENDS; i++) sends.push(await sendOnce());
    const trace = JSON.parse((await browser.stopTracing()).toString('utf8'));
    const out = arg('out', null);
    if (out) writeFileSync(out, JSON.stringify(trace));
    report(sends, trace.traceEvents ?? trace, srv.stamps);
    // Preflights while traced (none expected: Access-Control-Max-Age 600 after the warm-up send).
    console.log(`CORS preflights during the traced sends: ${srv.preflights.filter((t) => t >= traceStart).length}`);
  } finally {
    await context.close();
    await browser.close();
    srv.server.close();
    srv.server.closeAllConnections();
    if (viteServer) await new Promise((r) => viteServer.httpServer.close(r));
  }
}

/**
 * Per send: the marks in order (ms from the submit event), with the server's stamps placed on the
 * same clock, then one summary line of order facts; at the end the counts over all sends.
 */
function report(sends, events, stamps) {
  const marksInTrace = events.filter((e) => e.cat?.includes('blink.user_timing') && e.name?.startsWith('probe:'));
  const mainPid = marksInTrace[0]?.pid;
  const mainTid = marksInTrace[0]?.tid;
  const slices = events.filter((e) => e.pid === mainPid && e.tid === mainTid && e.ph === 'X' && typeof e.dur === 'number');
  const taskName = slices.some((e) => e.name === 'ThreadControllerImpl::RunTask') ? 'ThreadControllerImpl::RunTask' : 'RunTask';
  const tasks = slices.filter((e) => e.name === taskName);
  const submits = marksInTrace.filter((e) => e.name === 'probe:submit').map((e) => e.ts);
  // Two chat requests per send (the app's, then the bare fetch's): the last 2 × sends the server saw.
  const all = [...stamps.keys()].slice(-2 * sends.length);
  const ids = all.filter((_, j) => j % 2 === 0);
  const bareIds = all.filter((_, j) => j % 2 === 1);
  const bareMarks = marksInTrace.filter((e) => e.name === 'probe:bare:fetch').map((e) => e.ts);
  const gaps = { app: { toServer: [], readLag: [] }, bare: { toServer: [], readLag: [] } };
  const counts = { sends: sends.length, fetchBeforeTurns: 0, focusLayoutBeforeFetch: 0, otherWorkBeforeRead: 0 };
  sends.forEach((s, i) => {
    const submitT = s.marks.find((m) => m.name === 'submit')?.t ?? 0;
    const submitTs = submits[i];
    const toTrace = (t) => submitTs + (t - submitT) * 1000;
    const server = stamps.get(ids[i]);
    const rel = (us) => (us - submitTs) / 1000;
    const at = (name) => s.marks.find((m) => m.name === name)?.t ?? null;
    const first = at('body:first-content');
    const rows = s.marks.map((m) => ({ name: m.name, at: m.t - submitT }));
    if (first !== null) rows.push({ name: 'generate() (= first-content read − app TTFT)', at: first - s.ttft - submitT });
    if (server && submitTs !== undefined) rows.push({ name: 'server: request arrived', at: rel(server.arrival) }, { name: 'server: headers + role chunk written', at: rel(server.headers) }, { name: 'server: first content written', at: rel(server.content) });
    rows.sort((a, b) => a.at - b.at);
    console.log(`\nsend ${i + 1}: app TTFT ${s.ttft.toFixed(2)} ms`);
    for (const r of rows) console.log(`  ${r.at.toFixed(2).padStart(8)} ms  ${r.name}`);
    const fetchAt = at('fetch:call');
    const turnsAt = at('dom:turn-user');
    const layoutAt = at('layout:chat-rect:start') ?? at('focus:answers:start');
    const fetchBeforeTurns = fetchAt !== null && turnsAt !== null && fetchAt < turnsAt;
    const focusLayoutBeforeFetch = fetchAt !== null && layoutAt !== null && layoutAt < fetchAt;
    // Main-thread tasks that ran between the server's first content write and the page's read of it,
    // other than the task that did the read (what could have held the arrival stamp back).
    let other = [];
    if (server && first !== null && submitTs !== undefined) {
      const readTs = toTrace(first);
      // Left out: tasks under 0.2 ms and the network's own (the response's mojo messages and data pipe).
      const network = /mojo|SimpleWatcher|URLLoader|DataPipe|Resource/i;
      other = tasks
        .filter((t) => t.ts + t.dur > server.content && t.ts < readTs && !(t.ts <= readTs && readTs <= t.ts + t.dur) && t.dur >= 200)
        .map((t) => ({ t, inner: slices.filter((e) => e !== t && e.ts >= t.ts && e.ts + e.dur <= t.ts + t.dur && e.dur >= 100 && e.name !== taskName) }))
        .filter(({ inner }) => !inner.every((e) => network.test(e.name)))
        .map(({ t, inner }) => `${(t.dur / 1000).toFixed(2)} ms [${inner.slice(0, 5).map((e) => `${e.name}${e.args?.data?.type ? `:${e.args.data.type}` : ''} ${(e.dur / 1000).toFixed(2)}`).join(', ')}]`);
    }
    const writeToRead = server && first !== null ? (toTrace(first) - server.content) / 1000 : null;
    // The bare fetch of the same send: its fetch() → server arrival, and first content written → read.
    const bs = stamps.get(bareIds[i]);
    const bt = bareMarks[i];
    if (server && fetchAt !== null && bs && bt !== undefined && s.bare.ttft !== null) {
      gaps.app.toServer.push((server.arrival - toTrace(fetchAt)) / 1000);
      gaps.bare.toServer.push((bs.arrival - bt) / 1000);
      if (writeToRead !== null) gaps.app.readLag.push(writeToRead);
      gaps.bare.readLag.push((bt + s.bare.ttft * 1000 - bs.content) / 1000);
      console.log(`  bare fetch: TTFT ${s.bare.ttft.toFixed(2)} ms; fetch() → server ${((bs.arrival - bt) / 1000).toFixed(2)} ms (app ${((server.arrival - toTrace(fetchAt)) / 1000).toFixed(2)}); content written → read ${((bt + s.bare.ttft * 1000 - bs.content) / 1000).toFixed(2)} ms`);
    }
    counts.fetchBeforeTurns += fetchBeforeTurns ? 1 : 0;
    counts.focusLayoutBeforeFetch += focusLayoutBeforeFetch ? 1 : 0;
    counts.otherWorkBeforeRead += other.length > 0 ? 1 : 0;
    console.log(
      `  => fetch() before the turns' DOM insertion: ${fetchBeforeTurns}; useChatFocus's focus/layout before fetch(): ${focusLayoutBeforeFetch}; ` +
        `first content written → read ${writeToRead?.toFixed(2)} ms; other main-thread tasks in between: ${other.length ? other.join('; ') : 'none'}`,
    );
  });
  const med = (v) => (v.length ? [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)].toFixed(2) : null);
  console.log(`\nsummary: ${JSON.stringify(counts)}`);
  console.log(`medians (ms): fetch() → server arrival: app ${med(gaps.app.toServer)}, bare ${med(gaps.bare.toServer)}; first content written → read: app ${med(gaps.app.readLag)}, bare ${med(gaps.bare.readLag)}`);
}

await main();
