/**
 * The hosted side of the benchmark in the real app (hosted.mjs `measureInApp`, hosted-ab.mjs): the
 *       Hosted tab pointed at the reference server, prompts sent from the composer (no
 *       local model loaded, so the hosted pane answers alone). The app's TTFT for each answer
 *       (dd[data-metric="TTFT"]) is matched, by completion id (the response's x-request-id), to the
 *       server's own timing (GET /v1/slm/stats/{id}): `firstByteMs`, arrival → first content delta
 *       written. Client overhead (`client_overhead_ms`), per pair: (app TTFT − the server's first
 *       byte for the app's request) − (bare TTFT − the server's first byte for the bare request),
 *       where the bare request is a `fetch` streaming request from the same page to the same server
 *       with the app's request body and headers (so the same CORS preflight cache entry), started,
 *       like the app's, in the handler of a real click (on a small button the bench adds to the page),
 *       paired and interleaved with the app's (order alternating); the median over the pairs, with
 *       its spread (quartiles, min, max) and the machine's load average beside it.
 *
 *       Why a click: Chromium holds the renderer's other tasks after a discrete input until the next
 *       frame (its DeferRendererTasksAfterInput feature, on by default), and the response of a request
 *       started in a click waits with them. Measured (reference server, 10–15 pairs): a bare fetch
 *       started in a click had its first content read 5.5–6 ms after the bytes reached the network
 *       stack (resource timing `responseStart` + the server's headers → first content), one started
 *       by a script 0.4–1.1 ms; with `--disable-features=DeferRendererTasksAfterInput` both ~1 ms.
 *       A user's send is a click (or a key press), so that wait is the browser's, not the app's; the
 *       script-started figure is kept as `client_overhead_scripted_ms`, with the gap between the two
 *       bare requests as `click_start_ms`.
 *
 *       Neither the browser's own localhost round trip (~5 ms here) nor the server's time (its first
 *       byte swung by 100+ ms between the two requests of a pair on a loaded machine) counts as the
 *       app's. The server runs without its prefix cache here, so every request does the same work.
 *       While a request streams the bench does not touch the page: it waits for the network's
 *       `requestfinished` event (a Playwright wait that polls the page ran inside the TTFT it measured).
 *       The same difference without the server's times is `client_overhead_gross_ms`; app TTFT −
 *       server first byte is kept as `client_overhead_vs_server_ms`. The app's TTFT is read exactly (the
 *       metric's `data-ms`), not from its rounded text.
 */
import { tid, connectHosted } from '../../tests/e2e/ui.ts';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const r2 = (x) => (x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 100) / 100);

/** "12 ms" / "3.4 ms" / "1.2 s" (the app's fmtMs) → ms; null for "—". */
export function parseMs(text) {
  const m = /([\d.]+)\s*(ms|s)\b/.exec(text ?? '');
  if (!m) return null;
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

/** The server's timing of one request; it is recorded when the response ends, so poll briefly. */
export async function serverTiming(baseURL, id, headers = {}, timeoutMs = 15_000) {
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
    await page.evaluate(installBareButton);
  } catch (e) {
    await context.close();
    throw e;
  }
  let sent = 0;
  const pair = async (i, prompt) => {
    if (sent++ > 0) await page.click(tid('new-chat'));
    const spec = { url: `${server.baseURL}/chat/completions`, headers: await headers };
    // Odd pairs send the bare request first, with the app's last body for this prompt.
    const bareFirst = i % 2 === 1 && bodies.length > 0 ? await bareClickFetch(page, server, { ...spec, body: withPrompt(bodies.at(-1), prompt) }) : null;
    const before = ids.length;
    await page.fill(tid('prompt'), prompt);
    const finished = streamFinished(page, server);
    await page.click(tid('send'));
    await finished;
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
    const b = bareFirst ?? (await bareClickFetch(page, server, { ...spec, body: bodies.at(-1) }));
    const bt = b.id ? await serverTiming(server.baseURL, b.id) : null;
    // The old comparator, started by a script (no input event), last in every pair.
    const s = await bareFetch(page, server, bodies.at(-1), spec.headers);
    const st = s.id ? await serverTiming(server.baseURL, s.id) : null;
    const net = (x, tx) => (x !== null && x !== undefined && tx?.firstByteMs != null ? x - tx.firstByteMs : null);
    const diff = (x, y) => (x === null || y === null ? null : r2(x - y));
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
      bare_fetch_ttft_ms: r2(b.ttft),
      bare_server_first_byte_ms: bt?.firstByteMs ?? null,
      bare_first: bareFirst !== null,
      bare_scripted_ttft_ms: r2(s.ttft),
      bare_scripted_server_first_byte_ms: st?.firstByteMs ?? null,
      // Net of each request's own server time (on this shared machine the server's first byte
      // swings by 100+ ms between the two requests of a pair).
      client_overhead_ms: diff(net(ttft, t), net(b.ttft, bt)),
      client_overhead_gross_ms: ttft !== null && b.ttft !== null ? r2(ttft - b.ttft) : null,
      client_overhead_vs_server_ms: ttft !== null && t.firstByteMs !== null ? r2(ttft - t.firstByteMs) : null,
      client_overhead_scripted_ms: diff(net(ttft, t), net(s.ttft, st)),
      click_start_ms: diff(net(b.ttft, bt), net(s.ttft, st)),
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

/** A bare `fetch` streaming request started by a script (no input event): `{ ttft, id }` (installBareButton's `__benchBareFetch`). */
function bareFetch(page, server, body, headers) {
  return page.evaluate(([url, b, h]) => globalThis.__benchBareFetch({ url, body: b, headers: h }), [`${server.baseURL}/chat/completions`, body, headers ?? { 'Content-Type': 'application/json' }]);
}

/** Resolves when the page's next chat completion POST to `server` has been read to its end (rejects if it fails). */
function streamFinished(page, server, timeout = 120_000) {
  const mine = (r) => r.method() === 'POST' && r.url().startsWith(`${server.baseURL}/chat/completions`);
  return Promise.race([
    page.waitForEvent('requestfinished', { predicate: mine, timeout }),
    page.waitForEvent('requestfailed', { predicate: mine, timeout }).then((r) => Promise.reject(new Error(`chat completion request failed: ${r.failure()?.errorText}`))),
  ]);
}

/**
 * In the page: `globalThis.__benchBareFetch({ url, body, headers })`, a bare `fetch` streaming request
 * read to its end, resolving to `{ ttft, id }` (ms from the call to the read that carried the first
 * content, and the response's request id); and a small button (bottom-left corner, over the app)
 * whose click handler calls it with `globalThis.__benchBare` and leaves its result, or `{ error }`,
 * in `globalThis.__benchBareResult`.
 */
function installBareButton() {
  globalThis.__benchBareFetch = async ({ url, body, headers }) => {
    const t0 = performance.now();
    const res = await fetch(url, { method: 'POST', headers, body });
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
  };
  const b = document.createElement('button');
  b.type = 'button';
  b.dataset.bench = 'bare-fetch';
  b.setAttribute('aria-hidden', 'true');
  b.tabIndex = -1;
  b.style.cssText = 'position:fixed;left:0;bottom:0;width:8px;height:8px;padding:0;border:0;opacity:0.01;z-index:2147483647';
  b.addEventListener('click', async () => {
    try {
      globalThis.__benchBareResult = await globalThis.__benchBareFetch(globalThis.__benchBare);
    } catch (e) {
      globalThis.__benchBareResult = { error: String(e) };
    }
  });
  document.body.append(b);
}

/** The bare request, started by a real click on the bench's button (installBareButton): `{ ttft, id }`. */
async function bareClickFetch(page, server, spec) {
  await page.evaluate((x) => {
    globalThis.__benchBare = { ...x, headers: x.headers ?? { 'Content-Type': 'application/json' } };
    globalThis.__benchBareResult = null;
  }, spec);
  const finished = streamFinished(page, server);
  await page.click('[data-bench="bare-fetch"]');
  await finished;
  const r = await (await page.waitForFunction(() => globalThis.__benchBareResult, undefined, { polling: 50 })).jsonValue();
  if (r.error) throw new Error(`bare fetch failed: ${r.error}`);
  return r;
}

