/**
 * `npm run models:scale -- [--shape smollm2-135m,qwen2.5-0.5b] [--dtypes fp32,q8,q4] [--seed 0] [--external-data auto|always]`
 *
 * Random-weight models at the decoder shapes of catalog models (issue 12), written by tools/slm/scale.py into a
 * git-ignored cache keyed by content: `.cache/scale-models/{shape}-s{seed}[-ext]-{hash}/`, the hash covering the
 * generator's source files, the tokenizer it pads, the shape, the seed and the external-data choice. A folder is
 * reused when its manifest lists the requested files; missing dtypes are added to it. Each folder is a transformers.js
 * hub model (config.json, tokenizer files, onnx/model{suffix}.onnx[_data]).
 *
 * Pruning (a folder is 100–650 MB and every change of the hashed files makes a new one): generating a folder removes the
 * folders of the same shape, seed and layout with another hash (SLM_SCALE_KEEP_OLD=1 keeps them, for a cache shared by
 * branches whose tools/slm differ); `npm run models:scale -- --prune [--cache DIR]` removes every folder whose hash is
 * not the current one for its shape, seed and layout, and those of shapes this tool no longer makes.
 */
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
export const SCALE_CACHE = path.join(ROOT, '.cache/scale-models');
export const SCALE_SHAPES = ['smollm2-135m', 'smollm2-360m', 'qwen2.5-0.5b', 'ci', 'ci-qwen2', 'bigvocab'] as const;
export type ScaleShape = (typeof SCALE_SHAPES)[number];
export type ScaleDtype = 'fp32' | 'q8' | 'q4';
const FILES: Record<ScaleDtype, string> = { fp32: 'model.onnx', q8: 'model_quantized.onnx', q4: 'model_q4.onnx' };
const TOOL_FILES = ['tools/slm/scale.py', 'tools/slm/model.py', 'tools/slm/export.py', 'tools/slm/quantize.py', 'tools/slm/tok.py'];
const TOKENIZER = 'public/models/slm-pocket/tokenizer.json';

export interface ScaleRequest {
  shape: ScaleShape;
  dtypes: ScaleDtype[];
  seed?: number;
  /** 'always' writes the fp32 file with external data even under 2 GB (tests the path). */
  externalData?: 'auto' | 'always';
}

export interface ScaleManifest {
  shape: string;
  seed: number;
  params: number;
  external_files: string[];
  files: Record<string, { bytes: number; sha256: string }>;
  seconds: Record<string, number>;
  sanity: { greedy_ids: number[]; distinct: number; logit_std: number; top1_gap: number };
}

export interface ScaleModel {
  dir: string;
  /** Folder name: the model id under a hub-like host's organisation. */
  name: string;
  manifest: ScaleManifest;
  /** Seconds this call spent generating (0 when everything was cached). */
  generatedSeconds: number;
}

export function python(): string {
  return process.env['PYTHON'] ?? '/usr/bin/python3';
}

function variantOf(shape: string, seed: number, externalData: 'auto' | 'always'): string {
  return `${shape}-s${seed}${externalData === 'always' ? '-ext' : ''}`;
}

function cacheName(req: ScaleRequest): string {
  const seed = req.seed ?? 0;
  const ext = req.externalData ?? 'auto';
  const h = crypto.createHash('sha256');
  for (const f of [...TOOL_FILES, TOKENIZER]) h.update(f).update(fs.readFileSync(path.join(ROOT, f)));
  h.update(JSON.stringify({ shape: req.shape, seed, ext }));
  return `${variantOf(req.shape, seed, ext)}-${h.digest('hex').slice(0, 12)}`;
}

/** A cache folder's name read back; `variant` is the name without its hash (shape, seed, layout). */
export interface ScaleFolder {
  name: string;
  variant: string;
  shape: string;
  seed: number;
  externalData: 'auto' | 'always';
}

export function parseScaleFolder(name: string): ScaleFolder | null {
  const m = /^(.+)-s(\d+)(-ext)?-[0-9a-f]{12}$/.exec(name);
  if (!m) return null;
  const [, shape = '', seed = '', ext] = m;
  const externalData = ext ? 'always' : 'auto';
  return { name, variant: variantOf(shape, Number(seed), externalData), shape, seed: Number(seed), externalData };
}

/**
 * The folders among `names` to remove. `current` gives, for a scale folder, the name its variant's folder has now:
 * the folder is stale when that is another name, or null (a variant this tool no longer makes). Folders whose variant
 * `current` leaves undefined, and names that are not scale folders (someone else's), are kept.
 */
export function staleScaleFolders(names: readonly string[], current: (f: ScaleFolder) => string | null | undefined): string[] {
  return names.filter((n) => {
    const f = parseScaleFolder(n);
    if (!f) return false;
    const now = current(f);
    return now !== undefined && now !== n;
  });
}

/** After generating `name`: its variant's current name is `name`; other variants are not judged. */
export function replacedBy(name: string): (f: ScaleFolder) => string | undefined {
  const variant = parseScaleFolder(name)?.variant;
  return (f) => (f.variant === variant ? name : undefined);
}

/** For `--prune`: every folder's current name, null for a shape this tool does not make. */
export function currentScaleName(f: ScaleFolder): string | null {
  if (!(SCALE_SHAPES as readonly string[]).includes(f.shape)) return null;
  return cacheName({ shape: f.shape as ScaleShape, dtypes: [], seed: f.seed, externalData: f.externalData });
}

function folderBytes(p: string): number {
  const st = fs.lstatSync(p);
  return st.isDirectory() ? fs.readdirSync(p).reduce((t, n) => t + folderBytes(path.join(p, n)), 0) : st.size;
}

/** Removes the stale folders of `cacheDir` (see staleScaleFolders), one log line each; returns their names. */
export function pruneScaleCache(cacheDir: string, current: (f: ScaleFolder) => string | null | undefined, log: (line: string) => void, why: string): string[] {
  if (!fs.existsSync(cacheDir)) return [];
  const names = fs.readdirSync(cacheDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  const stale = staleScaleFolders(names, current);
  for (const name of stale) {
    const dir = path.join(cacheDir, name);
    const mb = folderBytes(dir) / 1e6;
    fs.rmSync(dir, { recursive: true, force: true });
    log(`[scale] removed ${name} (${mb.toFixed(1)} MB): ${why}`);
  }
  return stale;
}

function readManifest(dir: string): ScaleManifest | null {
  const p = path.join(dir, 'manifest.json');
  return fs.existsSync(p) ? (JSON.parse(fs.readFileSync(p, 'utf8')) as ScaleManifest) : null;
}

/** The cached model folder for `req`, generated first where files are missing. */
export async function ensureScaleModel(req: ScaleRequest, log: (line: string) => void = () => undefined): Promise<ScaleModel> {
  const name = cacheName(req);
  const dir = path.join(SCALE_CACHE, name);
  const have = readManifest(dir);
  const missing = req.dtypes.filter((d) => !have?.files[FILES[d]] || !fs.existsSync(path.join(dir, 'onnx', FILES[d])));
  if (have && missing.length === 0) return { dir, name, manifest: have, generatedSeconds: 0 };
  const probe = spawnSync(python(), ['-c', 'import torch, onnx, numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(
      `Scale models are generated with PyTorch and onnx in ${python()} (set PYTHON= to use another). ` +
        `On Debian 12: apt-get install -y python3-torch python3-onnx libopenblas0-pthread. ${probe.stderr ?? probe.error?.message ?? ''}`.trim(),
    );
  }
  const t0 = Date.now();
  const args = ['tools/slm/scale.py', '--shape', req.shape, '--dtypes', missing.join(','), '--seed', String(req.seed ?? 0),
    '--external-data', req.externalData ?? 'auto', '--tokenizer', TOKENIZER, '--out', dir];
  log(`[scale] ${python()} ${args.join(' ')}`);
  // Asynchronous: a test worker that blocked for minutes would miss its runner's heartbeats.
  const child = spawn(python(), args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let pending = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    const lines = (pending + d).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) if (line) log(`[scale] ${line}`);
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  const code = await new Promise<number | string>((resolve) => child.on('close', (c, sig) => resolve(c ?? sig ?? 'unknown')));
  if (pending) log(`[scale] ${pending}`);
  if (code !== 0) throw new Error(`tools/slm/scale.py failed (exit ${code}): ${stderr.slice(-2000)}`);
  const manifest = readManifest(dir);
  if (!manifest) throw new Error(`tools/slm/scale.py wrote no manifest in ${dir}`);
  if (process.env['SLM_SCALE_KEEP_OLD'] !== '1') {
    pruneScaleCache(SCALE_CACHE, replacedBy(name), log, `an older build, replaced by ${name} (the hashed tools/slm files or tokenizer changed)`);
  }
  return { dir, name, manifest, generatedSeconds: (Date.now() - t0) / 1000 };
}

interface Args {
  shapes: ScaleShape[];
  dtypes: ScaleDtype[];
  seed: number;
  externalData: 'auto' | 'always';
  /** Set by --prune: remove stale folders from this cache and generate nothing. */
  prune: string | null;
}

function parseArgs(argv: string[]): Args {
  const out: Args = { shapes: ['smollm2-135m', 'qwen2.5-0.5b'], dtypes: ['fp32', 'q8', 'q4'], seed: 0, externalData: 'auto', prune: null };
  let prune = false;
  let cache: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[i + 1];
    if (a === '--help' || a === '-h') {
      console.log(`usage: npm run models:scale -- [--shape ${SCALE_SHAPES.join(',')}] [--dtypes fp32,q8,q4] [--seed N] [--external-data auto|always]`);
      console.log(`       npm run models:scale -- --prune [--cache DIR]   (remove folders whose hash is not current; default ${path.relative(ROOT, SCALE_CACHE)})`);
      process.exit(0);
    }
    if (a === '--prune') {
      prune = true;
      continue;
    }
    if (v === undefined) throw new Error(`${a} needs a value`);
    i++;
    if (a === '--shape') {
      out.shapes = v.split(',').map((s) => {
        if (!(SCALE_SHAPES as readonly string[]).includes(s)) throw new Error(`unknown shape "${s}" (known: ${SCALE_SHAPES.join(', ')})`);
        return s as ScaleShape;
      });
    } else if (a === '--dtypes') {
      out.dtypes = v.split(',').map((d) => {
        if (!(d in FILES)) throw new Error(`unknown dtype "${d}" (this tool writes ${Object.keys(FILES).join(', ')})`);
        return d as ScaleDtype;
      });
    } else if (a === '--seed') {
      out.seed = Number(v);
      if (!Number.isInteger(out.seed) || out.seed < 0) throw new Error(`--seed must be a non-negative integer, got "${v}"`);
    } else if (a === '--external-data') {
      if (v !== 'auto' && v !== 'always') throw new Error(`--external-data is auto or always, got "${v}"`);
      out.externalData = v;
    } else if (a === '--cache') {
      cache = path.resolve(v);
    } else throw new Error(`unknown flag ${a} (see --help)`);
  }
  if (cache !== null && !prune) throw new Error('--cache goes with --prune');
  if (prune) out.prune = cache ?? SCALE_CACHE;
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  try {
    const a = parseArgs(process.argv.slice(2));
    if (a.prune !== null) {
      const removed = pruneScaleCache(a.prune, currentScaleName, console.log, 'not the current build of its shape, seed and layout');
      console.log(`${removed.length} stale folder(s) removed from ${a.prune}`);
    } else {
      for (const shape of a.shapes) {
        const m = await ensureScaleModel({ shape, dtypes: a.dtypes, seed: a.seed, externalData: a.externalData }, console.log);
        const files = Object.entries(m.manifest.files).map(([f, x]) => `${f} ${(x.bytes / 1e6).toFixed(1)} MB`).join(', ');
        console.log(`${m.name}: ${(m.manifest.params / 1e6).toFixed(1)}M params, ${m.generatedSeconds ? `generated in ${m.generatedSeconds.toFixed(0)} s` : 'cached'}; ${files}\n  ${m.dir}`);
      }
    }
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  }
}
