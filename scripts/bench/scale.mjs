/**
 * Scale rows (issue 12 item 2, first part): `npm run bench -- --scale smollm2-135m:fp32,q8,q4+qwen2.5-0.5b:q4`.
 * Random-weight models at catalog shapes (scripts/models-scale.ts, generated on first use, then cached), served by
 * the tests' local hub-like host (tests/e2e/model-host.ts) and loaded through the app's hub path ('mirror' source).
 * Per shape × dtype: native decode (onnxruntime-node, generation core, best of 1 and 2 threads) and the bare worker
 * (harness.html) at 1 and 2 threads. Fewer, shorter runs than the embedded rows (a 30-layer model decodes ~50-100
 * tokens/s here, not thousands): 64 native tokens × 3 runs after 1, one cold load and 4 steady runs (3 kept).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureScaleModel, SCALE_SHAPES } from '../models-scale.ts';
import { MIRROR_ORG, startModelHost } from '../../tests/e2e/model-host.ts';
import { measureHarness } from './browser.mjs';
import { nativeDecode } from './native.mjs';
import { memoryFields } from './memory.mjs';

const DTYPE_FILE = { fp32: 'model.onnx', q8: 'model_quantized.onnx', q4: 'model_q4.onnx' };

/** `shape:dtype,dtype+shape:dtype` → [{ shape, dtypes }]. */
export function parseScaleSpec(spec) {
  return spec.split('+').filter(Boolean).map((part) => {
    const [shape, list = 'fp32,q8,q4'] = part.split(':');
    if (!SCALE_SHAPES.includes(shape)) throw new Error(`--scale: unknown shape "${shape}" (known: ${SCALE_SHAPES.join(', ')})`);
    const dtypes = list.split(',').filter(Boolean);
    for (const d of dtypes) if (!(d in DTYPE_FILE)) throw new Error(`--scale: unknown dtype "${d}" (fp32, q8, q4)`);
    return { shape, dtypes };
  });
}

export async function measureScale({ browser, base, specs, warmup, log, r2 }) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'slm-bench-host-'));
  const host = await startModelHost(path.resolve('public/models/slm-pocket'), root);
  const runs = [];
  try {
    for (const { shape, dtypes } of specs) {
      const m = await ensureScaleModel({ shape, dtypes }, (l) => log(l));
      if (m.generatedSeconds) log(`${m.name}: generated in ${m.generatedSeconds.toFixed(0)} s`);
      fs.symlinkSync(m.dir, path.join(root, MIRROR_ORG, m.name), 'dir');
      const source = { type: 'mirror', host: host.url, modelId: `${MIRROR_ORG}/${m.name}`, revision: 'main' };
      for (const dtype of dtypes) {
        const label = `scale:${shape} ${dtype}`;
        const file = DTYPE_FILE[dtype];
        const bytes = (m.manifest.files[file]?.bytes ?? 0) + (m.manifest.files[`${file}_data`]?.bytes ?? 0);
        log(`${label}: native…`);
        const native = [];
        for (const threads of [1, 2]) native.push(await nativeDecode({ model: m.name, dtype, threads, tokens: 64, repeats: 3, warmups: 1, modelsDir: path.dirname(m.dir) }));
        const nativeBest = native.reduce((a, b) => (b.decode_tps > a.decode_tps ? b : a));
        log(`${label}: browser, bare worker…`);
        const fixed = [];
        for (const threads of [1, 2]) fixed.push(await measureHarness(browser, base, { model: m.name, dtype, threads, warmup, source, coldSamples: 1, steadyRuns: 4, steadyKept: 3 }));
        const best = fixed.reduce((a, b) => (b.decode_steady > a.decode_steady ? b : a));
        const memory = await memoryFields(base, { source, dtype, dir: m.dir, answers: 2, tokens: 32 });
        runs.push({
          memory_peak_mb: memory.memory_peak_mb ?? null,
          memory_over_file: memory.memory_over_file ?? null,
          model: `scale:${shape}`,
          dtype,
          params: m.manifest.params,
          file_mb: r2(bytes / 1e6),
          threads: best.threads,
          native_threads: nativeBest.threads,
          native_decode_tps: r2(nativeBest.decode_tps),
          browser_decode_tps_cold: r2(best.decode_cold),
          browser_decode_tps_steady: r2(best.decode_steady),
          ratio_cold: r2(best.decode_cold / nativeBest.decode_tps),
          ratio_steady: r2(best.decode_steady / nativeBest.decode_tps),
          cold_load_ms: Math.round(best.cold_load_ms),
          warm_load_ms: Math.round(best.warm_load_ms),
          ttft_ms: r2(best.ttft_ms),
          prefill_tps: r2(best.prefill_tps),
          harness: fixed.map((f) => ({ ...f, decode_cold: r2(f.decode_cold), decode_steady: r2(f.decode_steady), cold_load_ms: Math.round(f.cold_load_ms), warm_load_ms: Math.round(f.warm_load_ms) })),
          native: native.map((n) => ({ threads: n.threads, decode_tps: r2(n.decode_tps), generate_tps: r2(n.generate_tps), kv_loop_tps: r2(n.kv_loop_tps) })),
        });
        log(`${label}: native ${runs.at(-1).native_decode_tps} tok/s, browser steady ${runs.at(-1).browser_decode_tps_steady} tok/s (${best.threads} threads)`);
      }
    }
  } finally {
    await host.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
  return runs;
}
