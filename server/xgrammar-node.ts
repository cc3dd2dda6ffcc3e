/**
 * Loads @mlc-ai/web-xgrammar in Node. The package ships a UMD bundle in a `"type": "module"`
 * package: imported as ESM its Emscripten glue calls `require` (not defined in an ES module) and
 * it exports nothing (the UMD falls back to a global). Loaded as CommonJS it works: a copy with a
 * .cjs name, required, then deleted (its WebAssembly is inlined, so the copy needs nothing beside
 * it). The browser worker imports the package through Vite instead (src/inference/xgrammar.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { asXGrammar, type XGrammarLib, type XGrammarLoader } from '../src/inference/xgrammar';

let loaded: Promise<XGrammarLib> | null = null;

/** A new instance of the module (each copy is a module of its own, with its own WebAssembly memory). */
function instance(): XGrammarLib {
  const require = createRequire(import.meta.url);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xgrammar-'));
  const copy = path.join(dir, 'index.cjs');
  fs.copyFileSync(require.resolve('@mlc-ai/web-xgrammar'), copy);
  try {
    return asXGrammar(require(copy));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The process's XGrammar, loaded on first use; `fresh`: a new instance replacing it (after the WebAssembly aborted, the old one is not trusted). */
export const loadXGrammarNode: XGrammarLoader = (opts) => {
  if (opts?.fresh) loaded = null;
  loaded ??= Promise.resolve().then(instance);
  return loaded;
};
