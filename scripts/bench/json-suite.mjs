/**
 * JSON validity on the bundled JSON suite (public/suites/slm-json-20.json), through the app's
 * runner (harness.html → slmHarness.runSuite), each engine free and constrained in one run
 * (twin columns, eval/engines.ts):
 *   json_valid_rate_constrained_local / _hosted   valid JSON ÷ cases with the case's schema as the
 *                                                  output constraint (target 1.0 on both sides)
 *   json_valid_rate_free_local / _hosted           the same cases answered as free text
 *   json_schema_match_rate_constrained_* / json_field_accuracy_*   matches the schema; mean field score
 * Local: slm-pocket in the browser (fp32, 1 thread); hosted: the reference server (slm-reference).
 * Greedy, max 48 new tokens. A benchmark: figures, no assertions.
 *
 * Alone: node scripts/bench/json-suite.mjs [--no-build]  (builds dist/ unless told not to; prints one JSON line)
 */
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { launch, openHarness } from './browser.mjs';
import { startReferenceServer } from './hosted.mjs';

const SUITE = 'public/suites/slm-json-20.json';
const PARAMS = { maxNewTokens: 48, temperature: 0.7, topP: 0.9, topK: 40, repetitionPenalty: 1, greedy: true };
const r3 = (x) => (x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 1000) / 1000);

function rates(record, engineId) {
  const cells = record.cells.filter((c) => c.engineId === engineId && c.status === 'done' && c.structure);
  const n = cells.length;
  const fields = record.cells.filter((c) => c.engineId === engineId && c.score).map((c) => c.score.score);
  return {
    valid: n ? r3(cells.filter((c) => c.structure.valid).length / n) : null,
    matches: n ? r3(cells.filter((c) => c.structure.matches).length / n) : null,
    fields: fields.length ? r3(fields.reduce((a, b) => a + b, 0) / fields.length) : null,
    errors: record.cells.filter((c) => c.engineId === engineId && c.status === 'error').length,
  };
}

export async function measureJsonValidity({ browser, appUrl, log = () => {} }) {
  const suite = JSON.parse(readFileSync(SUITE, 'utf8'));
  const server = await startReferenceServer({ threads: 1, queueLimit: 64, log });
  let result;
  try {
    log(`json: ${suite.cases.length} cases, free and constrained, slm-pocket in the browser and ${server.model} on the reference server…`);
    const { context, page } = await openHarness(browser, appUrl);
    try {
      result = await page.evaluate((r) => window.slmHarness.runSuite(r), {
        suite,
        name: 'bench json',
        params: PARAMS,
        hostedConcurrency: 4,
        constraint: 'both',
        local: { source: { type: 'bundled', modelId: 'slm-pocket' }, dtype: 'fp32', device: 'wasm', threads: 1, warmup: null },
        hosted: { presetId: 'reference', baseUrl: server.baseURL, model: '', key: null },
      });
    } finally {
      await context.close();
    }
  } finally {
    await server.stop();
  }
  const rec = result.record;
  const lf = rates(rec, 'local');
  const lc = rates(rec, 'local+schema');
  const hf = rates(rec, 'hosted');
  const hc = rates(rec, 'hosted+schema');
  return {
    json_suite_cases: suite.cases.length,
    json_valid_rate_constrained_local: lc.valid,
    json_valid_rate_constrained_hosted: hc.valid,
    json_valid_rate_constrained: lc.valid === null || hc.valid === null ? null : Math.min(lc.valid, hc.valid),
    json_valid_rate_free_local: lf.valid,
    json_valid_rate_free_hosted: hf.valid,
    json_schema_match_rate_constrained_local: lc.matches,
    json_schema_match_rate_constrained_hosted: hc.matches,
    json_field_accuracy_constrained_local: lc.fields,
    json_field_accuracy_constrained_hosted: hc.fields,
    json_field_accuracy_free_local: lf.fields,
    json_field_accuracy_free_hosted: hf.fields,
    json_errors: lf.errors + lc.errors + hf.errors + hc.errors,
    json_constraint_refused_hosted: rec.cells.filter((c) => c.engineId === 'hosted+schema' && c.constraintRefused).length,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { build, preview } = await import('vite');
  const log = (...a) => console.error('[bench json]', ...a);
  if (!process.argv.includes('--no-build') || !existsSync('dist/index.html')) {
    log('building the app…');
    await build({ logLevel: 'warn' });
  }
  const server = await preview({ preview: { port: 0, strictPort: false }, logLevel: 'warn' });
  const base = server.resolvedUrls?.local?.[0] ?? `http://localhost:${server.httpServer.address().port}/`;
  const browser = await launch();
  try {
    console.log(JSON.stringify(await measureJsonValidity({ browser, appUrl: base, log })));
  } finally {
    await browser.close();
    await server.close();
  }
}
