/**
 * Suite throughput, through the same runner the app uses (harness.html → slmHarness.runSuite):
 *   suite_cases_per_min_local   the 42-case slm-heldout-quick suite on the pocket model (fp32, 1 thread)
 *   suite_cases_per_min_hosted  the same suite against the reference server, default concurrency (4)
 *   runner_overhead             local run: suite wall time ÷ Σ per-case end-to-end time − 1
 *                               (one case at a time, so any gap between cases is the runner's)
 * Greedy, max 24 new tokens (the model cards' decoding). A benchmark: figures, no assertions.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openHarness } from './browser.mjs';
import { startReferenceServer } from './hosted.mjs';

const SUITE = 'public/suites/slm-heldout-quick.json';
const PARAMS = { maxNewTokens: 24, temperature: 0.7, topP: 0.9, topK: 40, repetitionPenalty: 1, greedy: true };
const r2 = (x) => (x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 100) / 100);

async function runOnce(browser, base, run) {
  const { context, page } = await openHarness(browser, base);
  try {
    return await page.evaluate((r) => window.slmHarness.runSuite(r), run);
  } finally {
    await context.close();
  }
}

export async function measureSuites({ browser, appUrl, log = () => {} }) {
  const suite = JSON.parse(readFileSync(SUITE, 'utf8'));
  const n = suite.cases.length;
  const common = { suite, params: PARAMS, hostedConcurrency: 4 };
  log(`suite: ${n} cases on slm-pocket in the browser…`);
  const local = await runOnce(browser, appUrl, {
    ...common,
    name: 'bench local',
    local: { source: { type: 'bundled', modelId: 'slm-pocket' }, dtype: 'fp32', device: 'wasm', threads: 1, warmup: null },
    hosted: null,
  });
  const genSum = local.record.cells.reduce((s, c) => s + (c.metrics?.e2eMs ?? 0), 0);
  const server = await startReferenceServer({ threads: 1, queueLimit: 256, log });
  let hosted;
  let resultsFile = null;
  try {
    log(`suite: ${n} cases on ${server.model} (reference server, concurrency 4)…`);
    hosted = await runOnce(browser, appUrl, { ...common, name: 'bench hosted', local: null, hosted: { presetId: 'reference', baseUrl: server.baseURL, model: '', key: null } });
    // A real 20-case run on both sides, for the share link with results.
    log('suite: slm-skills-20 on both sides (for the share link size)…');
    const skills = JSON.parse(readFileSync('public/suites/slm-skills-20.json', 'utf8'));
    const both = await runOnce(browser, appUrl, {
      ...common,
      suite: skills,
      name: 'bench share',
      local: { source: { type: 'bundled', modelId: 'slm-pocket' }, dtype: 'fp32', device: 'wasm', threads: 1, warmup: null },
      hosted: { presetId: 'reference', baseUrl: server.baseURL, model: '', key: null },
    });
    resultsFile = path.join(os.tmpdir(), `slm-bench-results-${process.pid}.json`);
    writeFileSync(resultsFile, JSON.stringify(both.record));
  } finally {
    await server.stop();
  }
  const sizes = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/bench/share-size.ts', ...(resultsFile ? [resultsFile] : [])], { encoding: 'utf8' });
  let share = {};
  try {
    share = JSON.parse(sizes.stdout.trim().split('\n').at(-1));
  } catch {
    log(`share sizes failed: ${sizes.stderr}`);
  }
  const passed = (r) => r.record.cells.filter((c) => c.score?.pass).length;
  return {
    suite_cases: n,
    suite_cases_per_min_local: r2((n / local.wallMs) * 60_000),
    suite_cases_per_min_hosted: r2((n / hosted.wallMs) * 60_000),
    runner_overhead: r2(local.wallMs / genSum - 1),
    suite_passed_local: passed(local),
    suite_passed_hosted: passed(hosted),
    suite_errors: local.record.cells.concat(hosted.record.cells).filter((c) => c.status === 'error').length,
    ...share,
  };
}
