/**
 * The headless suite runner (`npm run suite`, scripts/suite.ts) as a user runs it: a child process
 * that runs a suite in headless Chromium against the reference server and writes a results file;
 * the app imports that file and shows the same results. The API key comes from the environment
 * and is in no output.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseRunRecord } from '../../src/eval/results';
import { launchBrowser, openPage } from './browser';
import { tid, waitForProbe } from './ui';

const appUrl = inject('appUrl');
const distDir = inject('distDir');
const KEY = 'sk-test-headless-7c41e0a9';
let browser: Browser;
let work: string;

beforeAll(async () => {
  browser = await launchBrowser();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'slm-suite-'));
});
afterAll(async () => {
  await browser?.close();
  fs.rmSync(work, { recursive: true, force: true });
});

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'scripts/suite.ts', ...args], { env: { ...process.env, ...env }, cwd: path.resolve(import.meta.dirname, '../..') });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('close', (code) => resolve({ code, out }));
  });
}

describe('headless suite runner', () => {
  it('runs a JSONL suite on pocket (browser) and the reference server, writes results the app imports', async () => {
    const suite = path.join(work, 'capitals.jsonl');
    fs.writeFileSync(
      suite,
      [
        { id: 'fr', category: 'capital', prompt: 'What is the capital of France?', expected: 'Paris', scorer: 'contains' },
        { id: 'add', category: 'math', prompt: 'What is 12 + 30?', expected: '42', scorer: 'exact' },
        { id: 'json', category: 'format', prompt: 'Give a JSON object with name Ann and age 31.', expected: '{"name": "Ann", "age": 31}', scorer: 'json' },
      ]
        .map((l) => JSON.stringify(l))
        .join('\n'),
    );
    const out = path.join(work, 'results.json');
    const r = await run(['--suite', suite, '--reference', '--no-build', '--dist', distDir, '--out', out, '--max-new-tokens', '24'], { SLM_HOSTED_KEY: KEY });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/wrote .*results\.json/);
    const text = fs.readFileSync(out, 'utf8');
    expect(text).not.toContain(KEY);
    expect(r.out).not.toContain(KEY);
    const record = parseRunRecord(JSON.parse(text));
    expect(record.status).toBe('done');
    expect(record.engines.map((e) => [e.kind, e.model])).toEqual([
      ['local', 'slm-pocket'],
      ['hosted', 'slm-reference'],
    ]);
    expect(record.cells).toHaveLength(6);
    // Both models know capitals, two-digit addition and this JSON format (model cards: pocket 94-96%, 100% and 100%,
    // reference 96%, 100% and 100%; all three prompts answered right by pocket in fp32, q8 and q4 via tools/slm/smoke.mjs).
    expect(record.cells.every((c) => c.score?.pass)).toBe(true);

    const { page, context } = await openPage(browser, appUrl);
    await waitForProbe(page);
    await page.click(tid('tab-suites'));
    await page.setInputFiles(tid('results-import'), out);
    await page.waitForSelector(tid('results-matrix'));
    expect(await page.locator(tid('matrix-row')).count()).toBe(3);
    const passed = await page.$$eval('[data-testid="report-accuracy"]', (els) => els.map((e) => Number(e.getAttribute('data-passed'))));
    expect(passed).toEqual(record.engines.map((e) => record.cells.filter((c) => c.engineId === e.id && c.score?.pass).length));
    await context.close();
  });

  it('refuses a key given as a flag, and a suite file with errors, with a clear message', async () => {
    const flag = await run(['--suite', 'x.jsonl', '--api-key', KEY], {});
    expect(flag.code).toBe(2);
    expect(flag.out).toMatch(/never taken as a flag: set SLM_HOSTED_KEY/);
    const bad = path.join(work, 'bad.csv');
    fs.writeFileSync(bad, 'id,prompt,expected,scorer\na,hi,1,numeric\nb,,2,exact\n');
    const r = await run(['--suite', bad, '--no-build', '--dist', distDir], {});
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/Line 3, field "prompt"/);
  });
});
