/**
 * `client_overhead_ms` of two (or three) builds of the app, paired and interleaved against one
 * reference server: `npx tsx scripts/bench/hosted-ab.mjs --a DIR --b DIR [--c DIR] [--pairs 20]`,
 * where each DIR is a checkout whose `dist/` is built (`npx vite build` there; default b: this
 * checkout). The apps are open at once (one origin and context each); each round runs one pair
 * (app send, a bare fetch started by a click, one started by a script: hosted-pair.mjs `openApp`) in each app, the apps' order rotating by round, so
 * all see the same load drift. After one uncounted pair each (the CORS preflight, the SDK's first
 * run) it prints each app's median, quartiles and range, the median of the per-round differences
 * against a, and the load average. A benchmark: it asserts nothing.
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

const keys = ['a', 'b', 'c'].filter((k) => k !== 'c' || arg('c', null));
const dirs = Object.fromEntries(keys.map((k) => [k, path.resolve(arg(k, ROOT))]));
const pairs = Number(arg('pairs', '20'));
const servers = [];
const browser = await launch();
const server = await startReferenceServer({ model: referenceModel(), extraArgs: ['--kv-cache-mb', '0'], log });
try {
  const apps = {};
  for (const k of keys) {
    const vite = await preview({ root: dirs[k], preview: { port: 0, strictPort: false }, logLevel: 'warn' });
    servers.push(vite);
    const url = vite.resolvedUrls?.local?.[0];
    log(`${k}: ${dirs[k]} at ${url}`);
    apps[k] = await openApp(browser, url, server);
  }
  const prompts = ['What is the capital of France?', 'Which city is the capital of Japan?', 'What is the first letter of banana?'];
  for (const k of keys) await apps[k].pair(0, prompts[0]);
  const runs = Object.fromEntries(keys.map((k) => [k, []]));
  const load = [loadavg()[0]];
  for (let i = 0; i < pairs; i++) {
    const order = keys.map((_, j) => keys[(i + j) % keys.length]);
    if (keys.length === 2 && i % 2 === 1) order.reverse();
    for (const k of order) runs[k].push(await apps[k].pair(i + 1, prompts[i % prompts.length]));
    log(`round ${i + 1}/${pairs} (${order.join(', ')}): ${keys.map((k) => `${k} ${runs[k].at(-1).client_overhead_ms} ms`).join(', ')}; load ${loadavg()[0].toFixed(2)}`);
    load.push(loadavg()[0]);
  }
  const field = (k, f) => runs[k].map((r) => r[f]);
  const minusA = (k) => runs.a.map((r, i) => (r.client_overhead_ms === null || runs[k][i].client_overhead_ms === null ? null : runs[k][i].client_overhead_ms - r.client_overhead_ms));
  const out = { dirs, pairs, load_avg_1min: { min: Math.min(...load), max: Math.max(...load), start: load[0], end: load.at(-1) } };
  for (const k of keys) {
    out[`${k}_client_overhead`] = spread(field(k, 'client_overhead_ms'));
    if (k !== 'a') out[`${k}_minus_a_per_round`] = spread(minusA(k));
    out[`${k}_gross`] = spread(field(k, 'client_overhead_gross_ms'));
    out[`${k}_ttft`] = spread(field(k, 'ttft_ms'));
    out[`${k}_server_first_byte`] = spread(field(k, 'server_first_byte_ms'));
    out[`${k}_bare_ttft`] = spread(field(k, 'bare_fetch_ttft_ms'));
  }
  out.runs = runs;
  const q = (x) => `${x.median} ms (${x.p25}…${x.p75})`;
  log(keys.map((k) => `${k}: median ${q(out[`${k}_client_overhead`])}, gross ${q(out[`${k}_gross`])}${k === 'a' ? '' : `, ${k} − a per round ${q(out[`${k}_minus_a_per_round`])}`}`).join('; ') + `; load ${out.load_avg_1min.min.toFixed(2)}…${out.load_avg_1min.max.toFixed(2)}`);
  for (const k of keys) await apps[k].close();
  console.log(JSON.stringify(out));
} finally {
  await server.stop();
  await browser.close();
  for (const v of servers) await new Promise((r) => v.httpServer.close(r));
}
