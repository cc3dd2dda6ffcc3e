/**
 * The headless suite runner: runs a suite in headless Chromium with the app's own worker, engines
 * and runner (harness.html → slmHarness.runSuite) and writes the same results JSON the app
 * exports and imports. For CI or a schedule, against the project's reference server or any
 * OpenAI-compatible endpoint.
 *
 *   npm run suite -- --suite public/suites/slm-skills-20.json --out results.json
 *   npm run suite -- --suite my.jsonl --local none --hosted-url https://api.openai.com/v1 --hosted-model gpt-4o-mini
 *   npm run suite -- --suite my.csv --reference            (also starts the reference server)
 *
 * The API key is read only from SLM_HOSTED_KEY (never a flag: flags end up in shell history and
 * CI logs); it is handed to the page in memory and is never part of the results.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { build, preview } from 'vite';
import { DEFAULT_ORIGIN_POLICY } from '../server/cors';
import { loadModel, startServer, type RunningServer } from '../server/start';
import { DEFAULT_GENERATION, validateGenerationParams, type GenerationParams } from '../src/engines/types';
import { isPresetId, type PresetId } from '../src/engines/hosted/presets';
import type { ConstraintMode } from '../src/eval/engines';
import { toJson } from '../src/eval/export';
import { buildResultsTable } from '../src/eval/results-table';
import { importSuiteFile } from '../src/eval/import';
import type { HarnessSuiteResult, HarnessSuiteRun } from '../src/harness/types';
import { errorText } from '../src/lib/errors';

export const USAGE = `npm run suite -- --suite FILE [options]
  --suite FILE            suite file: suite JSON, JSONL or CSV (docs/suites.md)
  --out FILE              results JSON to write (default: results-<suite id>.json)
  --local MODEL|none      embedded model to run in the browser (default slm-pocket)
  --dtype fp32|q8|q4      its dtype (default fp32)
  --threads N             WASM threads (default 1)
  --hosted-url URL        an OpenAI-compatible base URL (or env SLM_HOSTED_URL)
  --hosted-model NAME     model / deployment (or env SLM_HOSTED_MODEL; default: the first listed)
  --preset ID             endpoint preset (default: custom; azure-openai, openai, ollama, …)
  --reference             start the project's reference server (slm-reference) and use it as the hosted side
  --max-new-tokens N      default 64; greedy decoding
  --concurrency N         hosted requests in flight (default 4)
  --constraint MODE       cases with a response schema: free (default), constrained, or both (twin columns)
  --no-build              use the existing build
  --dist DIR              the build folder (default dist)
  API key: environment variable SLM_HOSTED_KEY only.`;

export interface SuiteCliOptions {
  suite: string;
  out: string | null;
  local: string | null;
  dtype: 'fp32' | 'q8' | 'q4';
  threads: number;
  hostedUrl: string | null;
  hostedModel: string;
  preset: PresetId;
  reference: boolean;
  maxNewTokens: number;
  concurrency: number;
  constraint: ConstraintMode;
  build: boolean;
  dist: string;
}

export function parseSuiteArgs(argv: string[], env: Record<string, string | undefined>): SuiteCliOptions {
  const get = (name: string): string | null => {
    const i = argv.indexOf(`--${name}`);
    if (i === -1) return null;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value.`);
    return v;
  };
  const int = (name: string, dflt: number, min: number, max: number) => {
    const raw = get(name);
    if (raw === null) return dflt;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be a whole number from ${min} to ${max}, got "${raw}".`);
    return n;
  };
  for (const a of argv) if (/^--(api-?key|key)\b/.test(a)) throw new Error('An API key is never taken as a flag: set SLM_HOSTED_KEY in the environment.');
  const suite = get('suite');
  if (!suite) throw new Error('--suite FILE is required.');
  const dtype = get('dtype') ?? 'fp32';
  if (dtype !== 'fp32' && dtype !== 'q8' && dtype !== 'q4') throw new Error(`--dtype must be fp32, q8 or q4, got "${dtype}".`);
  const local = get('local') ?? 'slm-pocket';
  const preset = get('preset') ?? 'custom';
  if (!isPresetId(preset)) throw new Error(`--preset "${preset}" is not a preset.`);
  const reference = argv.includes('--reference');
  const hostedUrl = get('hosted-url') ?? env['SLM_HOSTED_URL'] ?? null;
  const constraint = get('constraint') ?? 'free';
  if (constraint !== 'free' && constraint !== 'constrained' && constraint !== 'both') throw new Error(`--constraint must be free, constrained or both, got "${constraint}".`);
  if (reference && hostedUrl) throw new Error('Use either --reference or --hosted-url, not both.');
  return {
    suite,
    out: get('out'),
    local: local === 'none' ? null : local,
    dtype,
    threads: int('threads', 1, 1, 16),
    hostedUrl,
    hostedModel: get('hosted-model') ?? env['SLM_HOSTED_MODEL'] ?? '',
    preset: reference ? 'reference' : preset,
    reference,
    maxNewTokens: int('max-new-tokens', 64, 1, 4096),
    concurrency: int('concurrency', 4, 1, 64),
    constraint,
    build: !argv.includes('--no-build'),
    dist: get('dist') ?? 'dist',
  };
}

const log = (line: string) => console.error(`[suite] ${line}`);

export interface SuiteRunOutput extends HarnessSuiteResult {
  file: string;
}

/** Runs the whole thing; returns the result and where it was written. */
export async function runSuiteHeadless(o: SuiteCliOptions, key: string | null): Promise<SuiteRunOutput> {
  const suite = importSuiteFile(o.suite, readFileSync(o.suite, 'utf8'));
  if (!o.local && !o.hostedUrl && !o.reference) throw new Error('Nothing to run: give --local MODEL, --hosted-url URL or --reference.');
  const params: GenerationParams = { ...DEFAULT_GENERATION, greedy: true, maxNewTokens: o.maxNewTokens };
  const bad = validateGenerationParams(params);
  if (bad.length) throw new Error(bad.join(' '));

  if (o.build || !existsSync(`${o.dist}/harness.html`)) {
    log('building the app…');
    await build({ logLevel: 'warn', mode: 'production', build: { outDir: o.dist } });
  }
  const server = await preview({ preview: { port: 0, strictPort: false, host: '127.0.0.1' }, build: { outDir: o.dist }, logLevel: 'warn' });
  const base = server.resolvedUrls?.local?.[0];
  let reference: RunningServer | null = null;
  const browser = await chromium.launch({
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    if (!base) throw new Error('vite preview did not report its URL');
    let hostedUrl = o.hostedUrl;
    if (o.reference) {
      const model = await loadModel({ modelsDir: 'public/models', model: 'slm-reference', dtype: 'fp32', threads: 1 }, log);
      reference = await startServer({
        host: '127.0.0.1',
        port: 0,
        modelsDir: 'public/models',
        model: model.id,
        dtype: 'fp32',
        apiKey: null,
        origins: DEFAULT_ORIGIN_POLICY,
        queueLimit: 256,
        maxBodyBytes: 1024 * 1024,
        statsLimit: 100,
        threads: 1,
        log: () => {},
        preloaded: model,
      });
      hostedUrl = reference.baseURL;
      log(`reference server ${hostedUrl}`);
    }
    const page = await (await browser.newContext()).newPage();
    page.on('console', (m) => {
      if (m.text().startsWith('[cell]')) log(m.text().slice(7));
    });
    await page.goto(new URL('harness.html', base).href);
    await page.waitForSelector('body[data-harness=ready]');
    const run: HarnessSuiteRun = {
      suite,
      name: `${suite.name} — headless ${new Date().toISOString()}`,
      local: o.local ? { source: { type: 'bundled', modelId: o.local }, dtype: o.dtype, device: 'wasm', threads: o.threads, warmup: null } : null,
      hosted: hostedUrl ? { presetId: o.preset, baseUrl: hostedUrl, model: o.hostedModel, key } : null,
      params,
      hostedConcurrency: o.concurrency,
      constraint: o.constraint,
      log: true,
    };
    log(`${suite.cases.length} cases × ${((run.local ? 1 : 0) + (run.hosted ? 1 : 0)) * (o.constraint === 'both' ? 2 : 1)} engine columns`);
    const result = await page.evaluate((r) => window.slmHarness.runSuite(r), run);
    const file = o.out ?? `results-${suite.id}.json`;
    writeFileSync(file, toJson(result.record));
    return { ...result, file };
  } finally {
    await browser.close();
    await reference?.close();
    await server.close();
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    console.log(USAGE);
    return;
  }
  let opts: SuiteCliOptions;
  try {
    opts = parseSuiteArgs(process.argv.slice(2), process.env);
  } catch (e) {
    console.error(`${errorText(e)}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const out = await runSuiteHeadless(opts, process.env['SLM_HOSTED_KEY']?.trim() || null);
  const table = buildResultsTable(out.record);
  for (const [j, t] of table.totals.entries()) {
    const e = table.head.engines[j];
    log(`${e?.label}: ${t.passed}/${t.scored} passed${t.errors ? `, ${t.errors} errors` : ''}, p50 ${Math.round(t.e2e.p50 ?? 0)} ms${t.structure.cases ? `, valid JSON ${t.structure.valid}/${t.structure.cases}, schema ${t.structure.matches}/${t.structure.cases}` : ''}`);
  }
  log(`wall ${Math.round(out.wallMs)} ms; wrote ${out.file}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(`[suite] ${errorText(e)}`);
    process.exit(1);
  });
}
