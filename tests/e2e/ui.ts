/**
 * Helpers that drive the app's UI through its data-testid hooks (src/ui/*.tsx, src/App.tsx).
 * They only click, type and read what a user sees; assertions stay in the tests.
 */
import type { Locator, Page, Worker } from 'playwright-core';

export const tid = (id: string) => `[data-testid="${id}"]`;

/** The in-browser model's conversation pane (the app can show a hosted pane beside it). */
export const LOCAL_PANE = tid('pane-local');
export const ASSISTANT_TURNS = `${LOCAL_PANE} ${tid('turn-assistant')}`;
export const USER_TURNS = `${LOCAL_PANE} ${tid('turn-user')}`;

/**
 * The model worker of the page: the newest one that still answers (every load starts a fresh
 * worker, and Playwright can still list one that has just been closed, e.g. the probe's).
 */
export async function modelWorker(page: Page): Promise<Worker> {
  for (let i = 0; i < 100; i++) {
    for (const w of page.workers().filter((x) => x.url().includes('model.worker')).reverse()) {
      if (await w.evaluate(() => true).catch(() => false)) return w;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no live model worker among ${page.workers().map((w) => w.url()).join(', ')}`);
}

/** Slows every token of the next answers by `ms` in the model worker (test builds only; 0 undoes it). */
export async function sleepPerToken(page: Page, ms: number): Promise<void> {
  await (await modelWorker(page)).evaluate((n) => (self as unknown as { __slmTestHooks: { sleepPerToken(ms: number): void } }).__slmTestHooks.sleepPerToken(n), ms);
}

/**
 * The Hosted tab pointed at `baseUrl` with a preset (the reference one unless said), the comparison
 * turned on, Apply; waits for the hosted pane. The e2e tests and the benchmark's hosted drivers share it.
 */
export async function connectHosted(page: Page, opts: { baseUrl: string; model?: string; presetId?: string }): Promise<void> {
  await page.click(tid('tab-hosted'));
  await page.selectOption(tid('hosted-preset'), opts.presetId ?? 'reference');
  await page.fill(tid('hosted-base-url'), opts.baseUrl);
  await page.fill(tid('hosted-model'), opts.model ?? '');
  await page.locator(tid('hosted-enabled')).setChecked(true);
  await page.click(tid('hosted-apply'));
  await page.waitForSelector(tid('pane-hosted'));
}

/** Waits until the worker's environment probe finished (the isolation badge is no longer "probing…"). */
export async function waitForProbe(page: Page): Promise<string> {
  const badge = page.locator(tid('isolation-badge'));
  await page.waitForFunction((sel) => {
    const el = document.querySelector(sel);
    return !!el && !/probing/i.test(el.textContent ?? '');
  }, tid('isolation-badge'));
  return (await badge.textContent()) ?? '';
}

export interface LoadOptions {
  source?: { type: 'bundled'; modelId?: string } | { type: 'hub'; modelId: string } | { type: 'mirror'; host: string; modelId: string };
  dtype?: string;
  device?: 'auto' | 'wasm' | 'webgpu';
  /** 'auto' or a count. */
  threads?: 'auto' | number;
  warmup?: boolean;
}

/** Fills the Model tab as a user would and clicks Load (does not wait for the result). */
export async function startLoad(page: Page, opts: LoadOptions = {}): Promise<void> {
  await page.click(tid('tab-model'));
  const source = opts.source ?? { type: 'bundled' };
  await page.click(tid(`source-${source.type}`));
  if (source.type === 'bundled' && source.modelId) await page.selectOption(tid('bundled-model'), source.modelId);
  if (source.type === 'hub') await page.fill(tid('hub-id'), source.modelId);
  if (source.type === 'mirror') {
    await page.fill(tid('mirror-host'), source.host);
    await page.fill(tid('mirror-id'), source.modelId);
  }
  if (opts.dtype) await page.selectOption(tid('dtype'), opts.dtype);
  if (opts.device) await page.selectOption(tid('device'), opts.device);
  if (opts.threads !== undefined) await page.selectOption(tid('threads'), String(opts.threads));
  if (opts.warmup !== undefined) await page.getByLabel(/warm up before ready/i).setChecked(opts.warmup);
  await watchLoadState(page);
  await page.locator(tid('load')).click();
}

/**
 * Records the load state ('idle' | 'loading' | 'ready' | 'error') on every DOM change, so
 * waitForLoadOutcome() sees this load end, not the previous load's ready/error display.
 */
async function watchLoadState(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __load?: { seq: string[]; obs: MutationObserver } };
    w.__load?.obs.disconnect();
    const seq: string[] = [];
    const capture = () => {
      const status = document.querySelector('[data-testid="load-status"]');
      const state = document.querySelector('[data-testid="load-error"]')
        ? 'error'
        : status?.getAttribute('data-ready') === 'true'
          ? 'ready'
          : status?.hasAttribute('data-phase')
            ? 'loading'
            : 'idle';
      if (seq.at(-1) !== state) seq.push(state);
    };
    const obs = new MutationObserver(capture);
    obs.observe(document.body, { subtree: true, childList: true, attributes: true });
    capture();
    w.__load = { seq, obs };
  });
}

export type LoadOutcome =
  | { ok: true; statusText: string; metricsText: string }
  | { ok: false; code: string | null; text: string };

/** Waits for the load to end: ready (load-status[data-ready]) or failed (load-error). */
export async function waitForLoadOutcome(page: Page, timeoutMs = 120_000): Promise<LoadOutcome> {
  try {
    await page.waitForFunction(
      () => {
        const seq = (window as unknown as { __load?: { seq: string[] } }).__load?.seq ?? [];
        const started = seq.indexOf('loading');
        return started >= 0 && ['ready', 'error'].includes(seq.at(-1) ?? '') && seq.length - 1 > started;
      },
      undefined,
      { timeout: timeoutMs, polling: 100 },
    );
  } catch (e) {
    const status = await page.locator(tid('load-status')).innerText().catch(() => '(none)');
    throw new Error(`the load did not end within ${timeoutMs / 1000} s; load status: ${status}`, { cause: e });
  }
  const error = page.locator(tid('load-error'));
  if ((await error.count()) > 0) return { ok: false, code: await error.getAttribute('data-code'), text: (await error.textContent()) ?? '' };
  return {
    ok: true,
    statusText: (await page.locator(tid('load-status')).textContent()) ?? '',
    metricsText: (await page.locator(tid('load-metrics')).textContent()) ?? '',
  };
}

export async function loadModel(page: Page, opts: LoadOptions = {}, timeoutMs?: number): Promise<LoadOutcome> {
  await startLoad(page, opts);
  return waitForLoadOutcome(page, timeoutMs);
}

/** Loads and fails the test with the app's own error text when the load does not succeed. */
export async function loadModelOk(page: Page, opts: LoadOptions = {}): Promise<Extract<LoadOutcome, { ok: true }>> {
  const r = await loadModel(page, opts);
  if (!r.ok) throw new Error(`load failed (${r.code}): ${r.text}`);
  return r;
}

/** Sets generation settings on the Generation tab. Numbers are typed as text (so invalid values can be tested). */
export async function setGeneration(page: Page, s: { greedy?: boolean; fixedLength?: boolean; [field: string]: string | number | boolean | undefined }): Promise<void> {
  await page.click(tid('tab-settings'));
  // Greedy disables the sampling fields: turn it off while filling them, then set what was asked
  // (or put back what was there).
  const greedy = page.locator(tid('gen-greedy'));
  const finalGreedy = s.greedy ?? (await greedy.isChecked());
  await greedy.setChecked(false);
  for (const [k, v] of Object.entries(s)) {
    if (k === 'greedy' || k === 'fixedLength' || v === undefined) continue;
    await page.fill(tid(`gen-${k}`), String(v));
  }
  await greedy.setChecked(finalGreedy);
  if (s.fixedLength !== undefined) await page.locator(tid('gen-fixed-length')).setChecked(s.fixedLength);
}

export function assistantTurns(page: Page): Locator {
  return page.locator(ASSISTANT_TURNS);
}

/**
 * Records, inside the page, every distinct text the last assistant turn shows while it streams
 * (a MutationObserver sees each render, however quickly chunks arrive). Call before sending.
 */
export async function recordStreaming(page: Page): Promise<void> {
  await page.evaluate((selector) => {
    const w = window as unknown as { __partials: string[]; __partialsObserver?: MutationObserver };
    w.__partialsObserver?.disconnect();
    w.__partials = [];
    const capture = () => {
      const turns = document.querySelectorAll(selector);
      const last = turns[turns.length - 1];
      if (!last || last.getAttribute('data-streaming') !== 'true') return;
      const text = last.querySelector('[data-testid="turn-content"]')?.textContent ?? '';
      if (text && w.__partials.at(-1) !== text) w.__partials.push(text);
    };
    w.__partialsObserver = new MutationObserver(capture);
    w.__partialsObserver.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  }, ASSISTANT_TURNS);
}

export async function streamedPartials(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const w = window as unknown as { __partials: string[]; __partialsObserver?: MutationObserver };
    w.__partialsObserver?.disconnect();
    return w.__partials;
  });
}

/** Types a prompt and clicks Send; returns the index of the new assistant turn. */
export async function sendPrompt(page: Page, prompt: string): Promise<number> {
  const before = await assistantTurns(page).count();
  await page.fill(tid('prompt'), prompt);
  await page.locator(tid('send')).click();
  try {
    await page.waitForFunction(([sel, n]) => document.querySelectorAll(sel).length > n, [ASSISTANT_TURNS, before] as const);
  } catch (e) {
    // Say what the page showed instead of a new turn (CI logs are all there is to go on).
    const shown = await page.evaluate(() => ({
      sendError: document.querySelector('[data-testid="send-error"]')?.textContent ?? null,
      prompt: (document.querySelector('[data-testid="prompt"]') as HTMLTextAreaElement | null)?.value ?? null,
      buttons: Array.from(document.querySelectorAll('[data-testid="send"], [data-testid="stop"]')).map((b) => `${b.getAttribute('data-testid')}${(b as HTMLButtonElement).disabled ? ' (disabled)' : ''}`),
      streaming: Array.from(document.querySelectorAll('[data-streaming="true"]')).map((t) => t.closest('[data-testid^="pane-"]')?.getAttribute('data-testid')),
    }));
    throw new Error(`no new answer turn after sending "${prompt}": ${JSON.stringify(shown)}`, { cause: e });
  }
  return before;
}

export interface FinishedTurn {
  content: string;
  finish: string | null;
  error: string | null;
  /** Run metrics by label (TTFT, Decode, Tokens in/out, …). */
  metrics: Record<string, string>;
}

/** Waits until assistant turn `index` stops streaming and reads it. */
export async function waitForAnswer(page: Page, index: number, timeoutMs = 120_000): Promise<FinishedTurn> {
  const turn = assistantTurns(page).nth(index);
  await page.waitForFunction(
    ([sel, i]) => document.querySelectorAll(sel)[i]?.getAttribute('data-streaming') === 'false',
    [ASSISTANT_TURNS, index] as const,
    { timeout: timeoutMs },
  );
  return readTurn(turn);
}

export async function readTurn(turn: Locator): Promise<FinishedTurn> {
  return turn.evaluate((el) => {
    const metrics: Record<string, string> = {};
    for (const dd of Array.from(el.querySelectorAll('[data-testid="run-metrics"] dd[data-metric]'))) {
      metrics[dd.getAttribute('data-metric') ?? ''] = dd.textContent ?? '';
    }
    return {
      content: el.querySelector('[data-testid="turn-content"]')?.textContent ?? '',
      finish: el.getAttribute('data-finish') || null,
      error: el.querySelector('[data-testid="turn-error"]')?.textContent ?? null,
      metrics,
    };
  });
}

export async function ask(page: Page, prompt: string, timeoutMs?: number): Promise<FinishedTurn> {
  const i = await sendPrompt(page, prompt);
  return waitForAnswer(page, i, timeoutMs);
}

/** "123 ms" / "1.5 s" → ms; "42.0 tok/s" → 42; "—" → NaN. */
export function parseMs(s: string | undefined): number {
  const m = /([\d.]+)\s*(ms|s)\b/.exec(s ?? '');
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

export function parseTps(s: string | undefined): number {
  const m = /([\d.]+)\s*tok\/s/.exec(s ?? '');
  return m ? Number(m[1]) : NaN;
}

/** "18 / 2" → [18, 2]. */
export function parseTokens(s: string | undefined): [number, number] {
  const m = /(\d+)\s*\/\s*(\d+)/.exec(s ?? '');
  return m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
}

/** "3.4 MB" → bytes (approximately). */
export function parseBytes(s: string): number {
  const m = /([\d.]+)\s*(B|KB|MB|GB)\b/.exec(s);
  if (!m) return NaN;
  const k = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[m[2] as 'B' | 'KB' | 'MB' | 'GB'];
  return Number(m[1]) * k;
}

/**
 * Records, inside the page, every distinct value of `read()` over time (a MutationObserver on the
 * whole document), under `key`. For states that pass too quickly to poll (load phases, progress).
 */
export async function recordStates(page: Page, key: string, selector: string, attribute?: string): Promise<void> {
  await page.evaluate(
    ([key, selector, attribute]) => {
      const w = window as unknown as { __rec?: Record<string, { seen: string[]; obs: MutationObserver }> };
      w.__rec ??= {};
      w.__rec[key]?.obs.disconnect();
      const seen: string[] = [];
      const capture = () => {
        const el = document.querySelector(selector!);
        if (!el) return;
        const v = attribute ? (el.getAttribute(attribute) ?? '') : ((el as HTMLElement).innerText ?? el.textContent ?? '');
        if (v && seen.at(-1) !== v) seen.push(v);
      };
      const obs = new MutationObserver(capture);
      obs.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
      capture();
      w.__rec[key] = { seen, obs };
    },
    [key, selector, attribute ?? ''] as const,
  );
}

export async function recorded(page: Page, key: string): Promise<string[]> {
  return page.evaluate((key) => {
    const w = window as unknown as { __rec?: Record<string, { seen: string[]; obs: MutationObserver }> };
    const r = w.__rec?.[key];
    r?.obs.disconnect();
    return r?.seen ?? [];
  }, key);
}

/** Rows of a two-column metrics table (th → td text). */
export async function tableRows(page: Page, selector: string): Promise<Record<string, string>> {
  return page.locator(selector).evaluate((table) => {
    const out: Record<string, string> = {};
    for (const tr of Array.from(table.querySelectorAll('tr'))) {
      const k = tr.querySelector('th')?.textContent?.trim();
      if (k) out[k] = tr.querySelector('td')?.textContent?.trim() ?? '';
    }
    return out;
  });
}
