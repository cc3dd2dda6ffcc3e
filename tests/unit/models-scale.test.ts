/**
 * Pruning the scale-model cache (scripts/models-scale.ts): which folders are stale, from their names alone, and
 * the removal itself on a temporary folder (never the real .cache/scale-models, which other jobs read).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { currentScaleName, parseScaleFolder, pruneScaleCache, replacedBy, staleScaleFolders } from '../../scripts/models-scale';

describe('parseScaleFolder', () => {
  it('reads shape, seed and layout back from {shape}-s{seed}[-ext]-{hash}, shapes with dots and dashes too', () => {
    expect(parseScaleFolder('qwen2.5-0.5b-s0-ef9ebe9ab684')).toEqual({ name: 'qwen2.5-0.5b-s0-ef9ebe9ab684', variant: 'qwen2.5-0.5b-s0', shape: 'qwen2.5-0.5b', seed: 0, externalData: 'auto' });
    expect(parseScaleFolder('ci-s12-ext-d842d48feadd')).toEqual({ name: 'ci-s12-ext-d842d48feadd', variant: 'ci-s12-ext', shape: 'ci', seed: 12, externalData: 'always' });
    expect(parseScaleFolder('smollm2-135m-s0-bbc60a709251')?.variant).toBe('smollm2-135m-s0');
  });
  it('anything else is not a scale folder', () => {
    for (const n of ['notes', 'ci-s0', 'ci-s0-d842d48fead', 'ci-s0-D842D48FEADD', 'ci-sx-d842d48feadd', 'ci-s0-ext', '.tmp-ci-s0-d842d48feadd-x']) expect(parseScaleFolder(n), n).toBeNull();
  });
});

const NAMES = [
  'ci-s0-aaaaaaaaaaaa',
  'ci-s0-bbbbbbbbbbbb',
  'ci-s0-ext-cccccccccccc',
  'ci-s1-dddddddddddd',
  'smollm2-135m-s0-eeeeeeeeeeee',
  'retired-shape-s0-ffffffffffff',
  'README',
];

describe('staleScaleFolders', () => {
  it('after generating a folder: the other hashes of its shape, seed and layout, nothing else', () => {
    expect(staleScaleFolders(NAMES, replacedBy('ci-s0-bbbbbbbbbbbb'))).toEqual(['ci-s0-aaaaaaaaaaaa']);
    // The external-data layout of the same shape and seed is another variant.
    expect(staleScaleFolders(NAMES, replacedBy('ci-s0-ext-000000000000'))).toEqual(['ci-s0-ext-cccccccccccc']);
    expect(staleScaleFolders(NAMES, replacedBy('smollm2-135m-s0-eeeeeeeeeeee'))).toEqual([]);
  });
  it('--prune: every folder whose current name differs, and shapes no longer made; never what is not a scale folder', () => {
    const now: Record<string, string | null> = {
      'ci-s0': 'ci-s0-aaaaaaaaaaaa',
      'ci-s0-ext': 'ci-s0-ext-cccccccccccc',
      'ci-s1': 'ci-s1-999999999999',
      'smollm2-135m-s0': 'smollm2-135m-s0-eeeeeeeeeeee',
      'retired-shape-s0': null,
    };
    expect(staleScaleFolders(NAMES, (f) => now[f.variant])).toEqual(['ci-s0-bbbbbbbbbbbb', 'ci-s1-dddddddddddd', 'retired-shape-s0-ffffffffffff']);
  });
  it('nothing to do: an empty cache, or only current folders', () => {
    expect(staleScaleFolders([], () => null)).toEqual([]);
    expect(staleScaleFolders(['ci-s0-aaaaaaaaaaaa'], () => 'ci-s0-aaaaaaaaaaaa')).toEqual([]);
  });
});

describe('currentScaleName', () => {
  it('is the name ensureScaleModel would use now: same variant, a 12-hex hash, the same on every call', () => {
    const name = currentScaleName(parseScaleFolder('ci-s0-ext-000000000000')!);
    expect(name).toMatch(/^ci-s0-ext-[0-9a-f]{12}$/);
    expect(name).not.toBe('ci-s0-ext-000000000000');
    expect(currentScaleName(parseScaleFolder('ci-s0-ext-111111111111')!)).toBe(name);
    expect(currentScaleName(parseScaleFolder('ci-s1-000000000000')!)).not.toBe(currentScaleName(parseScaleFolder('ci-s0-000000000000')!)?.replace('-s0-', '-s1-'));
  });
  it('null for a shape this tool does not make', () => {
    expect(currentScaleName(parseScaleFolder('retired-shape-s0-ffffffffffff')!)).toBeNull();
  });
});

describe('pruneScaleCache (a temporary folder)', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  const folder = (root: string, name: string, bytes: number) => {
    fs.mkdirSync(path.join(root, name, 'onnx'), { recursive: true });
    fs.writeFileSync(path.join(root, name, 'config.json'), '{}');
    fs.writeFileSync(path.join(root, name, 'onnx', 'model.onnx'), Buffer.alloc(bytes));
  };

  it('removes the stale folders with a log line each (name, size, why) and leaves the rest as it was', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'scale-prune-'));
    dirs.push(root);
    const current = currentScaleName(parseScaleFolder('ci-s0-000000000000')!)!;
    folder(root, current, 10);
    folder(root, 'ci-s0-000000000000', 1_500_000);
    folder(root, 'retired-shape-s0-ffffffffffff', 10);
    fs.mkdirSync(path.join(root, 'notes'));
    fs.writeFileSync(path.join(root, 'ci-s0-111111111111'), 'a file, not a folder');
    const log: string[] = [];
    const removed = pruneScaleCache(root, currentScaleName, (l) => log.push(l), 'not current');
    expect(removed.sort()).toEqual(['ci-s0-000000000000', 'retired-shape-s0-ffffffffffff']);
    expect(fs.readdirSync(root).sort()).toEqual([current, 'ci-s0-111111111111', 'notes'].sort());
    expect(fs.statSync(path.join(root, current, 'onnx', 'model.onnx')).size).toBe(10);
    expect(log).toContain('[scale] removed ci-s0-000000000000 (1.5 MB): not current');
    expect(log).toHaveLength(2);
  });
  it('a cache that does not exist yet: nothing removed, no error', () => {
    expect(pruneScaleCache(path.join(os.tmpdir(), 'scale-prune-does-not-exist-7f3a'), () => null, () => undefined, '')).toEqual([]);
  });
});
