/**
 * Builds the service worker (src/pwa/service-worker.ts → sw.js at the root of dist/, so its scope
 * is the whole app wherever dist/ is deployed) and writes the precache list into it: every file of
 * the build except source maps and the benchmark harness, the public/ files, ONNX Runtime's files,
 * the bundled suites, and a hash of the embedded models that names the model cache. The files of
 * optional paths (the openai SDK's chunk, ONNX Runtime's WebGPU build) are listed apart, cached on
 * first use instead of downloaded by every first visit (bench `precache_kb_gzip`).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Plugin } from 'vite';
import type { PrecacheManifest } from '../src/pwa/messages';

const SW_ENTRY = 'src/pwa/service-worker.ts';
const SW_FILE = 'sw.js';
const PLACEHOLDER = 'self.__SLM_PRECACHE__';

function walk(dir: string): string[] {
  let out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    out = statSync(p).isDirectory() ? out.concat(walk(p)) : out.concat(p);
  }
  return out;
}

/** Hash of the embedded model files' contents (names and bytes). */
export function modelsVersion(publicDir: string): string {
  const dir = join(publicDir, 'models');
  const h = createHash('sha256');
  for (const f of walk(dir).sort()) {
    h.update(relative(dir, f));
    h.update(readFileSync(f));
  }
  return h.digest('hex').slice(0, 16);
}

export function pwa(root: string): Plugin {
  const publicDir = resolve(root, 'public');
  return {
    name: 'slm-pwa',
    apply: 'build',
    enforce: 'post',
    buildStart() {
      this.emitFile({ type: 'chunk', id: resolve(root, SW_ENTRY), fileName: SW_FILE });
    },
    generateBundle(_options, bundle) {
      const sw = bundle[SW_FILE];
      if (!sw || sw.type !== 'chunk') this.error(`${SW_FILE} was not built`);
      if (sw.imports.length > 0) this.error(`${SW_FILE} must not import other chunks (it imports ${sw.imports.join(', ')})`);
      const emitted = Object.keys(bundle).filter((f) => f !== SW_FILE && !f.endsWith('.map'));
      // Only what the app can reach from index.html is precached: worker bundles are assets here
      // (no import graph), so reachability follows file names written in each file's text. The
      // benchmark's harness page and its kernel worker (a second copy of transformers.js and of
      // ORT's WebGPU loader, ~147 kB gzip) are left out.
      const text = (f: string): string => {
        const o = bundle[f];
        if (!o) return '';
        if (o.type === 'chunk') return o.code;
        return typeof o.source === 'string' ? o.source : /\.(m?js|html|css)$/.test(f) ? new TextDecoder().decode(o.source) : '';
      };
      const reached = new Set<string>(['index.html']);
      for (const queue = ['index.html']; queue.length; ) {
        const body = text(queue.pop()!);
        for (const g of emitted) {
          if (reached.has(g)) continue;
          const base = g.slice(g.lastIndexOf('/') + 1);
          if (body.includes(base)) {
            reached.add(g);
            queue.push(g);
          }
        }
      }
      const built = emitted.filter((f) => f.startsWith('ort/') || (reached.has(f) && !/^harness\b|\/harness-/.test(f)));
      const publicFiles = walk(publicDir)
        .map((f) => relative(publicDir, f).split('\\').join('/'))
        .filter((f) => !f.startsWith('models/') && f !== '_headers');
      const sdk = built.filter((f) => { const o = bundle[f]; return o?.type === 'chunk' && !o.isEntry && o.moduleIds.some((id) => id.includes('/node_modules/openai/')); });
      if (sdk.length !== 1) this.error(`expected one chunk with the openai SDK, found ${sdk.length}: it must stay a lazily loaded chunk of its own`);
      // XGrammar (~380 kB gzip) only runs for JSON output; the model worker imports it on the first one.
      const grammar = built.filter((f) => f.endsWith('.js') && text(f).includes('GrammarCompiler') && !/model\.worker/.test(f));
      const onUse = [...sdk, ...grammar, ...built.filter((f) => f.startsWith('ort/') && f.includes('.asyncify.'))];
      const ort = built.filter((f) => f.startsWith('ort/') && !onUse.includes(f));
      const extra = publicFiles.filter((f) => f.startsWith('suites/'));
      const shell = ['./', ...built.filter((f) => !f.startsWith('ort/') && !onUse.includes(f)), ...publicFiles.filter((f) => !f.startsWith('suites/'))];
      const models = modelsVersion(publicDir);
      const version = createHash('sha256')
        .update(JSON.stringify({ built, publicFiles, models }))
        .update(built.map((f) => { const o = bundle[f]; return o?.type === 'chunk' ? o.code : ''; }).join('\n'))
        .digest('hex')
        .slice(0, 16);
      const manifest: PrecacheManifest = { version, modelsVersion: models, shell, ort, extra, onUse };
      if (!sw.code.includes(PLACEHOLDER)) this.error(`${SW_FILE} has no ${PLACEHOLDER} to fill in`);
      sw.code = sw.code.replace(PLACEHOLDER, JSON.stringify(manifest));
    },
  };
}
