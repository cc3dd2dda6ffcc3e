/**
 * The model the TTFT-growth benchmark (ttft-growth.mjs) talks to, the same files on both sides:
 *   embedded   public/models/{id}: the worker loads it as a bundled model, the reference server by id;
 *   scale      a random-weight model at a catalog shape (scripts/models-scale.ts, generated on first
 *              use, then cached): the worker loads it through the app's hub path from the tests'
 *              hub-like host (tests/e2e/model-host.ts, a 'mirror' source, as scale.mjs does), the
 *              server from the same folder (--models-dir the cache, --model the folder's name).
 * With the conversation script for its tokenizer and context (ttft-script.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureScaleModel } from '../models-scale.ts';
import { MIRROR_ORG, startModelHost } from '../../tests/e2e/model-host.ts';
import { scriptFor } from './ttft-script.ts';

/**
 * Opens the target: `{ label, model, dtype, source, server: { model, extraArgs }, script, close() }`.
 * `scaleShape` (e.g. 'smollm2-135m') picks a scale model, else `model` is an embedded one;
 * `history` ('primed' | 'scripted'): how a scale model's history answers reach the cache (ttft-script.ts).
 */
export async function openTarget({ model, scaleShape = null, dtype = 'fp32', history = 'primed', log = () => {} }) {
  if (!scaleShape) {
    const dir = path.resolve('public/models', model);
    return { label: model, model, dtype, dir, source: { type: 'bundled', modelId: model }, server: { model, extraArgs: [] }, script: scriptFor(dir), close: async () => {} };
  }
  const m = await ensureScaleModel({ shape: scaleShape, dtypes: [dtype] }, log);
  if (m.generatedSeconds) log(`${m.name}: generated in ${m.generatedSeconds.toFixed(0)} s`);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'slm-ttft-host-'));
  const host = await startModelHost(path.resolve('public/models/slm-pocket'), root);
  fs.symlinkSync(m.dir, path.join(root, MIRROR_ORG, m.name), 'dir');
  return {
    label: `scale:${scaleShape}`,
    model: m.name,
    dtype,
    dir: m.dir,
    source: { type: 'mirror', host: host.url, modelId: `${MIRROR_ORG}/${m.name}`, revision: 'main' },
    server: { model: m.name, extraArgs: ['--models-dir', path.dirname(m.dir)] },
    script: scriptFor(m.dir, history),
    close: async () => {
      await host.close();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
