/**
 * Where a warm load's time goes outside the browser (issue 12, item 3 "load"): for each model file,
 * the cache read (fs), the q4 rewrite's parts (src/inference/q4-rewrite.ts), and ONNX Runtime Web's
 * session creation (its Node build runs the same WASM) under session-option variants, with one
 * decode step's time after it so that an option that speeds creation but slows decode shows.
 * Wall and CPU time (CPU time is steadier on a busy machine).
 *   tsx scripts/bench/load-parts.mjs <model.onnx>... [--variants all,basic,noprepack] [--steps 8]
 */
import fs from 'node:fs';
import path from 'node:path';
import { rewriteQ4 } from '../../src/inference/q4-rewrite.ts';
import { prepareForOrt } from '../../src/engines/local/worker/external-weights.ts';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args.splice(i, 2)[1] : dflt;
};
const variants = opt('variants', 'all').split(',');
const steps = Number(opt('steps', '8'));
const skipOrt = opt('ort', '1') === '0';
const primeArg = opt('prime', null);
const files = args;


function timed(fn) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = fn();
  const done = (v) => {
    const c = process.cpuUsage(c0);
    return { v, wall: performance.now() - t0, cpu: (c.user + c.system) / 1000 };
  };
  return r instanceof Promise ? r.then(done) : done(r);
}
const f0 = (x) => Math.round(x);
/** Peak and current resident memory of this process (MB): pages first touched, whoever touched them. */
const rss = () => {
  const st = fs.readFileSync('/proc/self/status', 'utf8');
  const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(st)?.[1] ?? NaN) / 1024;
  return `peak RSS ${f0(kb('VmHWM'))} MB, RSS ${f0(kb('VmRSS'))} MB`;
};

const ort = skipOrt ? null : await import('onnxruntime-web');
if (ort) {
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = path.resolve('node_modules/onnxruntime-web/dist') + '/';
}

const SESSION = {
  all: { graphOptimizationLevel: 'all' },
  extended: { graphOptimizationLevel: 'extended' },
  basic: { graphOptimizationLevel: 'basic' },
  disabled: { graphOptimizationLevel: 'disabled' },
  noprepack: { graphOptimizationLevel: 'all', extra: { session: { disable_prepacking: '1' } } },
  noarena: { graphOptimizationLevel: 'all', enableCpuMemArena: false },
};

async function decodeStep(session, cfg) {
  const kvHeads = cfg.num_key_value_heads;
  const headDim = cfg.head_dim ?? cfg.hidden_size / cfg.num_attention_heads;
  const feeds = {};
  const past = 16;
  for (const n of session.inputNames) {
    if (n === 'input_ids') feeds[n] = new ort.Tensor('int64', BigInt64Array.from([42n]), [1, 1]);
    else if (n === 'attention_mask') feeds[n] = new ort.Tensor('int64', new BigInt64Array(past + 1).fill(1n), [1, past + 1]);
    else if (n === 'position_ids') feeds[n] = new ort.Tensor('int64', BigInt64Array.from([BigInt(past)]), [1, 1]);
    else if (n.startsWith('past_key_values')) feeds[n] = new ort.Tensor('float32', new Float32Array(kvHeads * past * headDim).fill(0.01), [1, kvHeads, past, headDim]);
    else throw new Error(`input ${n}?`);
  }
  const ms = [];
  for (let i = 0; i < steps; i++) {
    const t = performance.now();
    const out = await session.run(feeds);
    ms.push(performance.now() - t);
    for (const v of Object.values(out)) v.dispose?.();
  }
  ms.sort((a, b) => a - b);
  const logits = (await session.run(feeds)).logits.data;
  return { logits, median: ms[ms.length >> 1] };
}

// The first session of a process also compiles ONNX Runtime's WASM and V8 tiers its code up on
// first runs: prime both on the first file (fp32 CI shape is enough), untimed.
const prime = primeArg;
if (ort && prime) {
  const cfg = JSON.parse(fs.readFileSync(path.join(path.dirname(prime), '..', 'config.json'), 'utf8'));
  const s = await ort.InferenceSession.create(new Uint8Array(fs.readFileSync(prime)));
  for (let i = 0; i < 3; i++) await decodeStep(s, cfg);
  await s.release();
}

for (const file of files) {
  const cfg = JSON.parse(fs.readFileSync(path.join(path.dirname(file), '..', 'config.json'), 'utf8'));
  const read = timed(() => new Uint8Array(fs.readFileSync(file)));
  console.log(`${path.basename(path.dirname(path.dirname(file)))}/${path.basename(file)}: ${(read.v.length / 1e6).toFixed(1)} MB, read ${f0(read.wall)} ms (cpu ${f0(read.cpu)})`);
  // The inline rewrite (one model buffer, as before external data) only when a variant uses it.
  let bytes = read.v;
  if (variants.some((v) => !v.startsWith('ext'))) {
    const rw = timed(() => rewriteQ4(read.v, { maxFp32Bytes: 1 << 30 }));
    console.log(`  rewriteQ4 (inline): ${f0(rw.wall)} ms (cpu ${f0(rw.cpu)}), converted ${rw.v.converted}, fp32 ${(rw.v.fp32Bytes / 1e6).toFixed(0)} MB`);
    bytes = rw.v.bytes ?? read.v;
  }
  if (!ort) continue;
  let ref = null;
  for (const v of variants) {
    let s;
    if (v.startsWith('ext')) {
      // The worker's own preparation (q4 rewrite in external mode, or externalization), from the file's bytes.
      const e = await timed(async () => (await prepareForOrt(read.v)).prepared ?? { bytes: read.v, externalData: [] });
      console.log(`  prepareForOrt: ${f0(e.wall)} ms (cpu ${f0(e.cpu)}), model ${(e.v.bytes.length / 1e6).toFixed(2)} MB, ${e.v.externalData.length} files`);
      // ext: the worker's options; ext-<variant>: with that variant's options too.
      const extra = SESSION[v.slice(4)] ?? { graphOptimizationLevel: 'all' };
      s = await timed(() => ort.InferenceSession.create(e.v.bytes, { ...extra, externalData: e.v.externalData }));
    } else s = await timed(() => ort.InferenceSession.create(bytes, SESSION[v]));
    const d = await decodeStep(s.v, cfg);
    let diff = 0;
    if (ref) for (let i = 0; i < ref.length; i++) diff = Math.max(diff, Math.abs(ref[i] - d.logits[i]));
    ref ??= d.logits;
    console.log(`  ort-web session [${v}]: ${f0(s.wall)} ms (cpu ${f0(s.cpu)}), ${rss()}, decode step median ${d.median.toFixed(1)} ms over ${steps}, max |logit diff| vs first variant ${diff}`);
    await s.v.release();
  }
}
