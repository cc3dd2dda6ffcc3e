/**
 * Two dtypes (or two thread counts) of one scale model, or of an embedded one (--model), paired in the
 * bare worker: both loaded side by side (two harness pages), answering in turn (A B, B A, …); prints
 * each pair's A ÷ B and the median.
 *   tsx scripts/bench/dtype-ab.mjs --shape smollm2-135m --a q4 --b q8 [--threads 2] [--b-threads 2] [--pairs 8] [--tokens 128]
 *   tsx scripts/bench/dtype-ab.mjs --model slm-reference --a q8 --b q8 --threads 1 --b-threads 2
 *   tsx scripts/bench/dtype-ab.mjs --a q8 --b q8 --b-int8-step off   (the int8 step against ONNX Runtime Web alone)
 *   … --a-relaxed off   (the int8 step's plain-SIMD kernel on side A, where relaxed SIMD's int8 dot is exact)
 *   … --measure prefill   (PREFILL_PROMPT prefilled whole, prefill tok/s, instead of decode)
 */
import { preview } from 'vite';
import { launch } from './browser.mjs';
import { cliOption as opt, serveScaleModel } from './scale-host.mjs';
import { pairedDecode } from './thread-pairs.mjs';
import { DEFAULT_WARMUP } from '../../src/engines/local/LocalEngine.ts';

const shape = opt('shape', 'smollm2-135m');
const a = opt('a', 'q4');
const b = opt('b', 'q8');
const threads = Number(opt('threads', '2'));
const bThreads = Number(opt('b-threads', String(threads)));
// The int8 step for q8 models (LoadRequest.int8Step), per side: on (the app's default) or off.
const int8 = (side) => ({ int8Step: opt(`${side}-int8-step`, 'on') !== 'off', int8Relaxed: opt(`${side}-relaxed`, 'on') !== 'off' });
const s = await preview({ preview: { port: 0, strictPort: false }, logLevel: 'warn' });
const base = s.resolvedUrls?.local?.[0] ?? `http://localhost:${s.httpServer.address().port}/`;
const embedded = opt('model', null);
const { source, close } = embedded ? { source: { type: 'bundled', modelId: embedded }, close: async () => {} } : await serveScaleModel(shape, [...new Set([a, b])]);
const browser = await launch();
try {
  const r = await pairedDecode(browser, base, { source, dtype: a, threads, warmup: DEFAULT_WARMUP, ...int8('a') }, { source, dtype: b, threads: bThreads, warmup: DEFAULT_WARMUP, ...int8('b') }, { pairs: Number(opt('pairs', '8')), tokens: Number(opt('tokens', '128')), measure: opt('measure', 'decode') });
  console.log(JSON.stringify({ model: embedded ?? shape, measure: opt('measure', 'decode'), a: `${a}@${threads}${int8('a').int8Step ? '' : ' (ORT only)'}${int8('a').int8Relaxed ? '' : ' (plain SIMD)'}`, b: `${b}@${bThreads}${int8('b').int8Step ? '' : ' (ORT only)'}${int8('b').int8Relaxed ? '' : ' (plain SIMD)'}`, ...r }));
} finally {
  await browser.close();
  await close();
  await new Promise((r) => s.httpServer.close(r));
}
