/**
 * The app bundles one ONNX Runtime Web: the version package.json pins must be the one
 * transformers.js pins (otherwise transformers.js gets its own copy, and the app serves ORT files
 * from ort/<our version>/ that the other copy's JavaScript does not match), and the one installed.
 * The build patch scripts/vite-ort-output-pool.ts (ORT_BUNDLE, OUTPUT_COPY) is written against
 * that exact bundle, and scripts/vite-ort-assets.ts names the served folder after it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
type Pkg = { version: string; dependencies?: Record<string, string> };
const read = (rel: string): Pkg => JSON.parse(fs.readFileSync(path.join(ROOT, rel), 'utf8')) as Pkg;

describe('onnxruntime-web version', () => {
  const app = read('package.json');
  const transformers = read('node_modules/@huggingface/transformers/package.json');
  const pinned = app.dependencies?.['onnxruntime-web'];

  it('package.json pins an exact version, the one @huggingface/transformers pins', () => {
    expect(pinned, 'package.json has no onnxruntime-web dependency').toBeDefined();
    expect(pinned, 'pin an exact version (no ^ or ~): the build patch fits one bundle').toMatch(/^\d+\.\d+\.\d+(-[\w.-]+)?$/);
    expect(transformers.dependencies?.['onnxruntime-web'], `@huggingface/transformers ${transformers.version} pins another onnxruntime-web`).toBe(pinned);
  });

  it('the installed copy is that version, and transformers.js has no copy of its own', () => {
    expect(read('node_modules/onnxruntime-web/package.json').version).toBe(pinned);
    expect(fs.existsSync(path.join(ROOT, 'node_modules/@huggingface/transformers/node_modules/onnxruntime-web'))).toBe(false);
  });
});
