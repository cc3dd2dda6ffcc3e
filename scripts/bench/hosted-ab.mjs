/**
 * `client_overhead_ms` of two builds of the app, paired and interleaved against one reference
 * server: `npx tsx scripts/bench/hosted-ab.mjs --a DIR --b DIR [--pairs 20]`, where each DIR is a
 * checkout whose `dist/` is built (`npx vite build` there; default b: this checkout). Both apps are
 * open at once (two origins, two contexts); each round runs one pair (app send + bare fetch,
 * hosted.mjs `openApp`) in each app, the order of the two apps alternating by round, so both see
 * the same load drift. After one uncounted pair each (the CORS preflight, the SDK's first run) it
 * prints each app's median, quartiles and range, the median of the per-round differences (b − a),
 * and the load average. A benchmark: it asserts nothing.
 */
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { preview } from 'vite';
import { launch } from './browser.mjs';
import { openApp, referenceModel, spread, startReferenceServer } from './hosted.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const log = (...a) => console.error(...a);

const dirs = { a: path.resolve(arg('a', ROOT)), b: path.resolve(arg('b', ROOT)) };
const pairs = Number(arg('pairs', '20'));
const servers = [];
const browser = await launch();
const server = await startReferenceServer({ model: referenceModel(), extraArgs: ['--kv-cache-mb', '0'], log });
try {
  const apps = {};
  for (const k of ['a', 'b']) {
    const vite = await preview({ root: dirs[k], preview: { port: 0, strictPort: false }, logLevel: 'warn' });
    servers.push(vite);
    const url = vite.resolvedUrls?.local?.[0];
    log(`${k}: ${dirs[k]} at ${url}`);
    apps[k] = await openApp(browser, url, server);
  }
  const prompts = ['What is the capital of France?', 'Which city is the capital of Japan?', 'What is the first letter of banana?'];
  for (const k of ['a', 'b']) await apps[k].pair(0, prompts[0]);
  const runs = { a: [], b: [] };
  const load = [loadavg()[0]];
  for (let i = 0; i < pairs; i++) {
    const order = i % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
    for (const k of order) runs[k].push(await apps[k].pair(i + 1, prompts[i % prompts.length]));
    log(`round ${i + 1}/${pairs} (${order.join(' then ')}): a ${runs.a.at(-1).client_overhead_ms} ms, b ${runs.b.at(-1).client_overhead_ms} ms; load ${loadavg()[0].toFixed(2)}`);
    load.push(loadavg()[0]);
  }
  const field = (k, f) => runs[k].map((r) => r[f]);
  const diff = runs.a.map((r, i) => (r.client_overhead_ms === null || runs.b[i].client_overhead_ms === null ? null : runs.b[i].client_overhead_ms - r.client_overhead_ms));
  const out = {
    a: dirs.a,
    b: dirs.b,
    pairs,
    a_client_overhead: spread(field('a', 'client_overhead_ms')),
    b_client_overhead: spread(field('b', 'client_overhead_ms')),
    b_minus_a_per_round: spread(diff),
    a_gross: spread(field('a', 'client_overhead_gross_ms')),
    b_gross: spread(field('b', 'client_overhead_gross_ms')),
    a_ttft: spread(field('a', 'ttft_ms')),
    b_ttft: spread(field('b', 'ttft_ms')),
    a_server_first_byte: spread(field('a', 'server_first_byte_ms')),
    b_server_first_byte: spread(field('b', 'server_first_byte_ms')),
    bare_ttft: spread([...field('a', 'bare_fetch_ttft_ms'), ...field('b', 'bare_fetch_ttft_ms')]),
    load_avg_1min: { min: Math.min(...load), max: Math.max(...load), start: load[0], end: load.at(-1) },
    runs,
  };
  log(`a: median ${out.a_client_overhead.median} ms (${out.a_client_overhead.p25}…${out.a_client_overhead.p75}); b: median ${out.b_client_overhead.median} ms (${out.b_client_overhead.p25}…${out.b_client_overhead.p75}); b − a per round: median ${out.b_minus_a_per_round.median} ms (${out.b_minus_a_per_round.p25}…${out.b_minus_a_per_round.p75}); load ${out.load_avg_1min.min.toFixed(2)}…${out.load_avg_1min.max.toFixed(2)}`);
  for (const k of ['a', 'b']) await apps[k].close();
  console.log(JSON.stringify(out));
} finally {
  await server.stop();
  await browser.close();
  for (const v of servers) await new Promise((r) => v.httpServer.close(r));
}
