/**
 * Loads @mlc-ai/web-xgrammar in Node. The package ships a UMD bundle in a `"type": "module"`
 * package: imported as ESM its Emscripten glue calls `require` (not defined in an ES module) and
 * it exports nothing (the UMD falls back to a global). Loaded as CommonJS it works: a copy with a
 * .cjs name, required once (its WebAssembly is inlined, so the copy needs nothing beside it), then
 * deleted. The browser worker imports the package through Vite instead (src/inference/xgrammar.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { asXGrammar, type XGrammarLib } from '../src/inference/xgrammar';

let loaded: Promise<XGrammarLib> | null = null;

export function loadXGrammarNodeFresh(): Promise<XGrammarLib> {
  loaded = null;
  return loadXGrammarNode();
}

export function loadXGrammarNode(): Promise<XGrammarLib> {
  loaded ??= Promise.resolve().then(() => {
    const require = createRequire(import.meta.url);
    const file = require.resolve('@mlc-ai/web-xgrammar');
    const copy = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'xgrammar-')), 'index.cjs');
    fs.copyFileSync(file, copy);
    try {
      return asXGrammar(require(copy));
    } finally {
      fs.rmSync(path.dirname(copy), { recursive: true, force: true });
    }
  });
  return loaded;
}
