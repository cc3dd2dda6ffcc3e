/**
 * Share link sizes (run by the benchmark through tsx; prints one JSON object):
 *   share_url_bytes_setup          a full setup carrying the 20-case slm-skills-20 suite inline
 *                                  (the worst case: an imported suite), no results
 *   share_url_bytes_setup_bundled  the same setup naming the bundled suite by file
 *   share_url_bytes_with_results   the inline suite plus the results of a real run of it
 *                                  (the results file given as argv[2]: local + hosted, 20 cases)
 * Bytes of the whole URL on a GitHub Pages style address.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_GENERATION } from '../../src/engines/types';
import { parseRunRecord } from '../../src/eval/results';
import { parseSuite } from '../../src/eval/suite';
import { encodeShare, shareUrl } from '../../src/share/codec';
import { setupState, suiteSnapshotOf } from '../../src/share/state';

const PAGE = 'https://someone.github.io/slm-playground/';
const suite = parseSuite(JSON.parse(readFileSync('public/suites/slm-skills-20.json', 'utf8')));
const base = {
  local: { source: { type: 'bundled' as const, modelId: 'slm-pocket' }, dtype: 'fp32' as const, device: 'auto' as const, threads: 'auto' as const, warmup: true },
  hosted: { presetId: 'reference' as const, baseUrl: 'http://127.0.0.1:8787/v1', model: 'slm-reference' },
  generation: { ...DEFAULT_GENERATION, maxNewTokens: 24 },
  systemPrompt: '',
  prompt: '',
};
const bytes = async (s: Parameters<typeof encodeShare>[0]) => Buffer.byteLength(shareUrl(PAGE, await encodeShare(s)));

const inline = setupState({ ...base, suite: { kind: 'inline', suite } });
const bundled = setupState({ ...base, suite: { kind: 'bundled', file: 'slm-skills-20.json', id: suite.id, name: suite.name, cases: suite.cases.length } });
const out: Record<string, number | null> = {
  share_url_bytes_setup: await bytes(inline),
  share_url_bytes_setup_bundled: await bytes(bundled),
  share_url_bytes_with_results: null,
};
const resultsFile = process.argv[2];
if (resultsFile) {
  const record = parseRunRecord(JSON.parse(readFileSync(resultsFile, 'utf8')));
  const device = { userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36', hardwareConcurrency: 2, crossOriginIsolated: true, adapter: null, backend: 'wasm' as const, threads: 1 };
  out['share_url_bytes_with_results'] = await bytes(setupState({ ...base, suite: { kind: 'inline', suite: record.suite } }, null, suiteSnapshotOf(record, device, new Date())));
}
console.log(JSON.stringify(out));
