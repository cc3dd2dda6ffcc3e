/**
 * One scale model (scripts/models-scale.ts, generated on first use) served by the tests' hub-like host
 * (tests/e2e/model-host.ts) for the ad-hoc A/B scripts: its 'mirror' source, the model, and a close.
 * Also `cliOption`: the scripts' `--name value` reader.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureScaleModel } from '../models-scale.ts';
import { MIRROR_ORG, startModelHost } from '../../tests/e2e/model-host.ts';

export async function serveScaleModel(shape, dtypes) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'slm-scale-host-'));
  const host = await startModelHost(path.resolve('public/models/slm-pocket'), root);
  const model = await ensureScaleModel({ shape, dtypes });
  fs.symlinkSync(model.dir, path.join(root, MIRROR_ORG, model.name), 'dir');
  const source = { type: 'mirror', host: host.url, modelId: `${MIRROR_ORG}/${model.name}`, revision: 'main' };
  const close = async () => {
    await host.close();
    fs.rmSync(root, { recursive: true, force: true });
  };
  return { source, model, close };
}

/** `--name value` from the command line, else `dflt`. */
export function cliOption(name, dflt) {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
}
