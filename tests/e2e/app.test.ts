/**
 * The built app (index.html) in headless Chromium, driven like a user: isolation and device
 * facts, loading the embedded pocket model (progress, load metrics, thread count), a greedy
 * answer equal to PyTorch's (parity.json), streaming, Stop, and bad inputs that must not break it.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { threadCandidates } from '../../src/models/threads';
import { launchBrowser, openPage, type PageLog } from './browser';
import { eosIds, expectedRun, modelsDir, readParity, uiCases, type ParityCase } from './parity';
import { MIN_DECODE_INTERVALS, MIN_DECODE_WINDOW_MS } from '../../src/metrics/timing';
import {
  ASSISTANT_TURNS,
  ask,
  assistantTurns,
  loadModelOk,
  parseBytes,
  parseMs,
  parseTokens,
  parseTps,
  recordStates,
  recordStreaming,
  recorded,
  sendPrompt,
  setGeneration,
  sleepPerToken,
  streamedPartials,
  tableRows,
  tid,
  waitForAnswer,
  waitForProbe,
  USER_TURNS,
  type FinishedTurn,
} from './ui';

const appUrl = inject('appUrl');
let browser: Browser;
const contexts: BrowserContext[] = [];
const logs: PageLog[] = [];

async function open(): Promise<{ page: Page; log: PageLog }> {
  const { context, page, log } = await openPage(browser, appUrl);
  contexts.push(context);
  logs.push(log);
  await waitForProbe(page);
  return { page, log };
}

beforeAll(async () => {
  browser = await launchBrowser();
});
afterEach(async () => {
  while (contexts.length) await contexts.pop()?.close();
});
afterAll(async () => {
  await browser?.close();
});

/** The parity case the chat UI can reproduce with the longest answer (single user message, ends on EOS). */
function chatCase(): { c: ParityCase; expected: ReturnType<typeof expectedRun> } {
  const parity = readParity();
  const eos = eosIds(parity);
  const c = uiCases(parity, eos)[0];
  if (!c) throw new Error('parity.json has no single-user-message case that ends on EOS');
  return { c, expected: expectedRun(c, eos, parity.max_new_tokens) };
}

function expectPlausibleMetrics(t: FinishedTurn, inputTokens: number, outputTokens: number) {
  const m = t.metrics;
  expect(Object.keys(m), JSON.stringify(m)).toEqual(expect.arrayContaining(['TTFT', 'Prefill', 'Decode', 'Decode (engine)', 'End to end', 'Tokens in/out', 'Device', 'Isolated']));
  const ttft = parseMs(m['TTFT']);
  const e2e = parseMs(m['End to end']);
  expect(ttft, m['TTFT']).toBeGreaterThan(0);
  expect(e2e, m['End to end']).toBeGreaterThanOrEqual(ttft);
  expect(e2e).toBeLessThan(120_000);
  expect(parseTps(m['Prefill']), m['Prefill']).toBeGreaterThan(0);
  if (outputTokens >= 2) {
    // One rule (metrics/timing.ts): a decode rate over too short an interval is shown as "—".
    // The page's window is about end to end − TTFT (the shown ms are rounded: 20 ms of slack); the
    // engine's own window is shorter still, so it may hide a rate the page shows, never the reverse.
    const tooFew = outputTokens - 1 < MIN_DECODE_INTERVALS;
    const pageWindowMs = e2e - ttft;
    if (m['Decode'] === '—') expect(tooFew || pageWindowMs < MIN_DECODE_WINDOW_MS + 20, `Decode hidden: ${outputTokens} tokens over ~${pageWindowMs} ms`).toBe(true);
    else expect(parseTps(m['Decode']), m['Decode']).toBeGreaterThan(0);
    if (m['Decode (engine)'] !== '—') expect(parseTps(m['Decode (engine)']), m['Decode (engine)']).toBeGreaterThan(0);
    else expect(tooFew || pageWindowMs < 1000, `Decode (engine) hidden: ${outputTokens} tokens over ~${pageWindowMs} ms on the page`).toBe(true);
  }
  expect(parseTokens(m['Tokens in/out'])).toEqual([inputTokens, outputTokens]);
  expect(m['Isolated']).toBe('yes');
}

describe('SLM Playground app (built, headless Chromium)', () => {
  it('is cross-origin isolated and shows the device facts', async () => {
    const { page, log } = await open();
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(await page.evaluate(() => typeof SharedArrayBuffer)).toBe('function');
    const badge = (await page.textContent(tid('isolation-badge'))) ?? '';
    expect(badge).toMatch(/cross-origin isolated/i);
    expect(badge).not.toMatch(/not isolated/i);

    await page.click(tid('tab-device'));
    await page.waitForSelector(tid('device-panel'));
    const cores = Number(await page.textContent(tid('cores')));
    expect(cores).toBe(await page.evaluate(() => navigator.hardwareConcurrency));
    expect(cores).toBeGreaterThanOrEqual(1);
    expect(await page.textContent(tid('coi'))).toMatch(/^yes/);
    // Launched with --disable-gpu: no adapter, and the panel says why instead of staying empty.
    expect(((await page.textContent(tid('webgpu'))) ?? '').trim().length).toBeGreaterThan(5);

    await page.click(tid('tab-cache'));
    await page.waitForSelector(tid('cache-panel'));
    await page.waitForSelector(tid('cache-empty'));
    expect(log.errors).toEqual([]);
  });

  it('loads the pocket model on 2 threads with per-file progress and load metrics, and answers like PyTorch', async () => {
    const { page, log } = await open();
    const { c, expected } = chatCase();
    await recordStates(page, 'files', tid('file-progress'));
    await recordStates(page, 'phases', tid('load-status'), 'data-phase');
    const loaded = await loadModelOk(page, { source: { type: 'bundled', modelId: 'slm-pocket' }, device: 'wasm', threads: 2, warmup: true });
    // A thread count set by hand is not a dtype's best: its speed is not kept for the dtype comparison.
    expect(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('slm.dtype-speeds.')))).toEqual([]);
    expect(await page.locator(tid('dtype-speeds')).count()).toBe(0);

    // Per-file progress: every planned file is listed with its byte counts while loading.
    const files = await recorded(page, 'files');
    expect(files.length, 'file-progress never appeared').toBeGreaterThan(0);
    const weights = fs.statSync(path.join(modelsDir(), 'slm-pocket/onnx/model.onnx')).size;
    const withWeights = files.filter((f) => f.includes('onnx/model.onnx'));
    expect(withWeights.length, files.join('\n---\n')).toBeGreaterThan(0);
    const last = withWeights.at(-1)!;
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) expect(last).toContain(f);
    const line = last.split('\n').join(' ');
    const m = /onnx\/model\.onnx\s*([\d.]+ (?:B|KB|MB|GB))\s*\/\s*([\d.]+ (?:B|KB|MB|GB))/.exec(line);
    expect(m, `no "loaded / total" bytes for onnx/model.onnx in: ${line}`).not.toBeNull();
    const total = parseBytes(m![2]!);
    expect(Math.abs(total - weights) / weights, `total ${m![2]} vs ${weights} B on disk`).toBeLessThan(0.05);
    const phases = await recorded(page, 'phases');
    expect(phases, 'load phases seen').toEqual(expect.arrayContaining(['session', 'warmup']));

    // Ready: device, dtype, 2 threads, isolation; load metrics with download, session and warm-up.
    expect(loaded.statusText).toMatch(/slm-pocket/);
    expect(loaded.statusText).toMatch(/ready on WASM/);
    expect(loaded.statusText).toMatch(/\b2 threads\b/);
    expect(loaded.statusText).toMatch(/cross-origin isolated/);
    const rows = await tableRows(page, tid('load-metrics'));
    expect(Object.keys(rows)).toEqual(expect.arrayContaining(['Download', 'Session creation', 'Warm-up', 'Ready after']));
    expect(parseMs(rows['Download'])).toBeGreaterThan(0);
    expect(Math.abs(parseBytes(rows['Download']!.split('·')[1] ?? '') - weights) / weights, rows['Download']).toBeLessThan(0.1);
    expect(parseMs(rows['Session creation'])).toBeGreaterThan(0);
    expect(rows['Warm-up']).toMatch(/\d+ tokens/);
    expect(Number(/(\d+) tokens/.exec(rows['Warm-up'] ?? '')?.[1])).toBeGreaterThan(0);
    expect(parseTps(rows['Warm-up'])).toBeGreaterThan(0);
    expect(parseMs(rows['Ready after'])).toBeGreaterThanOrEqual(parseMs(rows['Session creation']));
    expect(rows['Decode loop']).toBe('worker KV loop, reused output buffers');

    // A greedy answer (the default) equals PyTorch's, and its metrics are plausible.
    const t = await ask(page, c.messages[0]!.content);
    expect(t.error).toBeNull();
    expect(t.finish).toBe(expected.finishReason);
    expect(t.content).toBe(c.text);
    expectPlausibleMetrics(t, c.input_ids.length, expected.ids.length);
    expect(t.metrics['Device']).toBe('wasm · fp32 · 2T');
    expect(log.errors).toEqual([]);
  });

  it('streams a long answer, stops it mid-way, then goes on with the conversation', async () => {
    const { page, log } = await open();
    const { c } = chatCase();
    await loadModelOk(page, { source: { type: 'bundled', modelId: 'slm-pocket' }, device: 'wasm', threads: 2, warmup: false });
    const MAX = 400;
    // A long answer: many tokens allowed and, where the app offers it, end-of-sequence ignored.
    await page.click(tid('tab-settings'));
    const fixed = (await page.locator(tid('gen-fixed-length')).count()) > 0;
    await setGeneration(page, { greedy: true, maxNewTokens: MAX, ...(fixed ? { fixedLength: true } : {}) });

    // Without "fixed length" the model may end on its own before Stop is clicked; then the next
    // prompt is tried ('aaaa…' loops under greedy decoding). A Stop that does nothing still fails:
    // the turn would end with 'length' after the click, not 'abort'.
    const prompts = ['aaaa aaaa aaaa aaaa aaaa', c.messages[0]!.content, 'Tell me a very long story about everything you know.'];
    const attempts: string[] = [];
    let stopped: { index: number; partials: string[]; turn: FinishedTurn } | null = null;
    // Tokens slowed, so that Stop lands a few tokens after the text shows, whatever the machine: on
    // 2 cores the page renders streamed text only every 100 ms (compare/render-pace.ts), in which the
    // pocket model can make ~200 tokens; a stopped answer that long sometimes left the next prompt
    // answered by end-of-sequence alone (an empty answer, 1 run in 8).
    await sleepPerToken(page, 5);
    for (const prompt of prompts) {
      await recordStreaming(page);
      const index = await sendPrompt(page, prompt);
      // Let some text arrive first, so the stop lands mid-way.
      await page.waitForFunction(
        ([sel, i]) => {
          const turn = document.querySelectorAll(sel)[i];
          return turn?.getAttribute('data-streaming') === 'false' || (turn?.querySelector('[data-testid="turn-content"]')?.textContent ?? '').length >= 12;
        },
        [ASSISTANT_TURNS, index] as const,
        { timeout: 60_000, polling: 10 },
      );
      // Check "still streaming" and click Stop in one step in the page, so the two cannot race.
      const clicked = await page.evaluate(([sel, i]) => {
        const turn = document.querySelectorAll(sel)[i];
        const stop = document.querySelector<HTMLButtonElement>('[data-testid="stop"]');
        if (turn?.getAttribute('data-streaming') !== 'true' || !stop) return false;
        stop.click();
        return true;
      }, [ASSISTANT_TURNS, index] as const);
      const turn = await waitForAnswer(page, index);
      const partials = await streamedPartials(page);
      if (clicked) {
        stopped = { index, partials, turn };
        break;
      }
      attempts.push(`${JSON.stringify(prompt)} ended by itself (${turn.finish}) before Stop: ${JSON.stringify(turn.content.slice(0, 60))}`);
    }
    await sleepPerToken(page, 0);
    expect(stopped, attempts.join('\n')).not.toBeNull();
    const { index, partials, turn } = stopped!;

    // It streamed: at least two different partial texts while streaming, each extending the last.
    expect(partials.length, JSON.stringify(partials)).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < partials.length; i++) expect(partials[i]!.startsWith(partials[i - 1]!), `partial ${i} does not extend ${i - 1}`).toBe(true);
    expect(turn.content.startsWith(partials.at(-1)!)).toBe(true);

    // Stop ended it early, as an abort, with its metrics.
    expect(turn.error).toBeNull();
    expect(turn.finish).toBe('abort');
    const [, out] = parseTokens(turn.metrics['Tokens in/out']);
    expect(out).toBeGreaterThan(0);
    expect(out).toBeLessThan(MAX);
    expect(await assistantTurns(page).nth(index).textContent()).toMatch(/stopped by you/);
    await page.waitForSelector(tid('send'));

    // The conversation goes on: another prompt gets a normal answer in a new turn.
    await setGeneration(page, { maxNewTokens: 32, ...(fixed ? { fixedLength: false } : {}) });
    const next = await ask(page, c.messages[0]!.content);
    expect(next.error).toBeNull();
    expect(['stop', 'length']).toContain(next.finish);
    expect(next.content.length).toBeGreaterThan(0);
    expect(parseTokens(next.metrics['Tokens in/out'])[1]).toBeLessThanOrEqual(32);
    expect(await assistantTurns(page).count()).toBe(index + 2);
    expect(await page.locator(USER_TURNS).count()).toBe(index + 2);

    // The next prompt, typed while an answer streams, is still in the box when the answer ends.
    await setGeneration(page, { maxNewTokens: 64, ...(fixed ? { fixedLength: true } : {}) });
    await sleepPerToken(page, 20);
    const slow = await sendPrompt(page, c.messages[0]!.content);
    expect(await page.inputValue(tid('prompt'))).toBe('');
    await page.fill(tid('prompt'), 'typed while it answered');
    expect(await assistantTurns(page).nth(slow).getAttribute('data-streaming')).toBe('true');
    await waitForAnswer(page, slow);
    await sleepPerToken(page, 0);
    expect(await page.inputValue(tid('prompt'))).toBe('typed while it answered');
    expect(log.errors).toEqual([]);
  });

  it('with threads "Auto" measures the candidates, keeps one and reports it', async () => {
    const { page, log } = await open();
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    const candidates = threadCandidates(cores, true);
    await recordStates(page, 'notes', tid('load-status'));
    const loaded = await loadModelOk(page, { source: { type: 'bundled', modelId: 'slm-pocket' }, device: 'wasm', threads: 'auto', warmup: true });
    const n = Number(/(\d+) threads?\b/.exec(loaded.statusText)?.[1]);
    expect(candidates, loaded.statusText).toContain(n);
    if (candidates.length > 1) {
      // Each candidate was loaded and measured against the best before it, in alternating pairs, and the choice says so.
      const notes = (await recorded(page, 'notes')).join('\n');
      expect(notes).toContain(`loading with ${candidates[0]} thread(s)`);
      for (const k of candidates.slice(1)) expect(notes).toContain(`a second copy with ${k} threads`);
      expect(notes).toContain('answers in turn');
      expect(loaded.statusText).toContain(`${n} thread(s): measured in alternating pairs`);
      // Rounds of 4 pairs until they settle the question (models/threads.ts), at most 12; a slow model's first may end after 2.
      for (const k of candidates.slice(1)) expect(loaded.statusText).toMatch(new RegExp(`${k} vs \\d+: [\\d.]+x \\(\\d+/(2|4|8|12) pairs faster\\)`));
      for (const k of candidates) expect(loaded.statusText).toMatch(new RegExp(`\\b${k}: [\\d.]+ tok/s`));
      // Remembered for the next load of this model on this device.
      const stored = await page.evaluate((cores) => localStorage.getItem(`slm.threads.v2:bundled:slm-pocket:fp32:${cores}`), cores);
      expect(stored).toBe(String(n));
    }
    // The load's decode speed is kept for the Load panel's dtype comparison (models/dtype-speeds.ts):
    // the paired measurement's figure for the count kept, shown beside the dtype.
    const speedsKey = `slm.dtype-speeds.v1:bundled:slm-pocket:wasm:${cores}`;
    const record = JSON.parse((await page.evaluate((k) => localStorage.getItem(k), speedsKey)) ?? '{}') as Record<string, number[]>;
    expect(record.fp32?.length, JSON.stringify(record)).toBe(1);
    const fp32Tps = record.fp32![0]!;
    expect(fp32Tps).toBeGreaterThan(0);
    if (candidates.length > 1) expect(loaded.statusText).toContain(`${n}: ${fp32Tps >= 100 ? Math.round(fp32Tps) : fp32Tps.toFixed(1)} tok/s`);
    expect(await page.textContent(tid('dtype-speeds'))).toMatch(/Decode measured on this device \(WASM\): fp32 [\d.]+ tok\/s/);
    // A q8 figure a tenth of it (as if measured in an earlier load): choosing q8 says fp32 was faster, and Use switches.
    await page.evaluate(([k, v]) => localStorage.setItem(k!, v!), [speedsKey, JSON.stringify({ ...record, q8: [fp32Tps / 10] })]);
    await page.selectOption(tid('dtype'), 'q8');
    expect(await page.textContent(tid('dtype-advice'))).toBe('fp32 decoded 10.00x as fast as q8 here');
    await page.getByRole('button', { name: 'Use fp32' }).click();
    expect(await page.inputValue(tid('dtype'))).toBe('fp32');
    expect(await page.locator(tid('dtype-advice')).count()).toBe(0);
    const t = await ask(page, chatCase().c.messages[0]!.content);
    expect(t.error).toBeNull();
    expect(t.metrics['Device']).toBe(`wasm · fp32 · ${n}T`);
    expect(log.errors).toEqual([]);
  });

  it('shows the model card; an example fills the prompt and gets the answer the card recorded', async () => {
    const { page, log } = await open();
    await page.click(tid('source-bundled'));
    await page.waitForSelector(tid('model-card'));
    const examplesFile = path.join(modelsDir(), 'slm-pocket/examples.json');
    if (!fs.existsSync(examplesFile)) return; // No examples.json shipped (yet): the card alone is checked.
    const data = JSON.parse(fs.readFileSync(examplesFile, 'utf8')) as {
      examples: { messages?: { role: string; content: string }[]; prompt?: string; fp32_output?: string }[];
      try_this?: { messages: { role: string; content: string }[] }[];
    };
    const buttons = page.locator(`${tid('examples')} button`);
    expect(await buttons.count()).toBe(data.examples.length);
    // The measured failures (try_this) are listed as well, prompt for prompt.
    const tries = (await page.locator(`${tid('try-this')} button`).allTextContents()).map((t) => t.trim());
    expect(tries).toEqual((data.try_this ?? []).map((t) => t.messages.filter((m) => m.role === 'user').at(-1)!.content));
    const first = data.examples[0]!;
    const prompt = first.prompt ?? first.messages?.filter((m) => m.role === 'user').at(-1)?.content ?? '';
    expect(((await buttons.first().textContent()) ?? '').trim()).toBe(prompt);
    await buttons.first().click();
    expect(await page.inputValue(tid('prompt'))).toBe(prompt);
    if (first.fp32_output === undefined) return;

    // fp32_output is tools/slm/eval.mjs's greedy answer (max_new_tokens 24, trimmed) in Node.
    await loadModelOk(page, { source: { type: 'bundled', modelId: 'slm-pocket' }, device: 'wasm', threads: 1, warmup: false });
    await setGeneration(page, { greedy: true, maxNewTokens: 24 });
    await page.locator(tid('send')).click();
    const t = await waitForAnswer(page, 0);
    expect(t.error).toBeNull();
    expect(t.content.trim()).toBe(first.fp32_output);
    expect(log.errors).toEqual([]);
  });

  it('rejects bad inputs with clear messages and stays usable', async () => {
    const { page, log } = await open();
    const { c, expected } = chatCase();

    // Hugging Face source with an invalid id: an inline error, nothing is loaded, nothing crashes.
    await page.click(tid('source-hub'));
    await page.fill(tid('hub-id'), 'not a valid id!!');
    await page.click(tid('load'));
    expect(await page.textContent(tid('model-input-error'))).toMatch(/not a valid model id/);
    expect(await page.locator(tid('load-error')).count()).toBe(0);
    expect(await page.getAttribute(tid('load-status'), 'data-phase')).toBeNull();
    // A URL where an id belongs points to the right source.
    await page.fill(tid('hub-id'), 'https://huggingface.co/org/name');
    await page.click(tid('load'));
    expect(await page.textContent(tid('model-input-error'))).toMatch(/Custom host/);
    // Custom host that is not an http(s) URL.
    await page.click(tid('source-mirror'));
    await page.fill(tid('mirror-host'), 'ftp://models.example.com/');
    await page.fill(tid('mirror-id'), 'org/name');
    await page.click(tid('load'));
    expect(await page.textContent(tid('model-input-error'))).toMatch(/http or https/);

    // Invalid generation settings: each flagged by name.
    await setGeneration(page, { maxNewTokens: 0 });
    expect(await page.textContent(tid('gen-errors'))).toMatch(/Max new tokens/);
    await setGeneration(page, { greedy: false, temperature: 0, topP: 1.5 });
    const errs = (await page.textContent(tid('gen-errors'))) ?? '';
    expect(errs).toMatch(/Max new tokens/);
    expect(errs).toMatch(/Temperature/);
    expect(errs).toMatch(/Top-p/);

    // The app still loads a model; sending with invalid settings is refused with the reason.
    await loadModelOk(page, { source: { type: 'bundled', modelId: 'slm-pocket' }, device: 'wasm', threads: 1, warmup: false });
    await page.fill(tid('prompt'), c.messages[0]!.content);
    await page.click(tid('send'));
    expect(await page.textContent(tid('send-error'))).toMatch(/Max new tokens/);
    expect(await assistantTurns(page).count()).toBe(0);

    // Fixed settings: the errors go away and the answer is the greedy one.
    await setGeneration(page, { maxNewTokens: 64, temperature: 0.7, topP: 0.9, greedy: true });
    expect(await page.locator(tid('gen-errors')).count()).toBe(0);
    const t = await ask(page, c.messages[0]!.content);
    expect(t.error).toBeNull();
    expect(t.finish).toBe(expected.finishReason);
    expect(t.content).toBe(c.text);
    expect(await page.locator(tid('send-error')).count()).toBe(0);
    expect(log.errors).toEqual([]);
  });
});
