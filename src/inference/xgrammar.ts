/**
 * The grammar engine for constrained decoding: @mlc-ai/web-xgrammar (XGrammar compiled to
 * WebAssembly, the engine WebLLM uses). It builds its token tables from any tokenizer's
 * vocabulary, compiles JSON Schema and plain JSON, and gives a bitmask of allowed tokens per step.
 *
 * Loaded on first use only (1.1 MB of JavaScript with its WebAssembly inlined): a text answer
 * never loads it. In the worker Vite bundles it as CommonJS into a chunk of its own
 * (`loadXGrammar`); Node loads it through server/xgrammar-node.ts (its UMD bundle cannot be
 * imported as an ES module there).
 */
import type * as XG from '@mlc-ai/web-xgrammar';

export type XTokenizerInfo = XG.TokenizerInfo;
export type XCompiledGrammar = XG.CompiledGrammar;
export type XGrammarMatcher = XG.GrammarMatcher;

/** The parts of the package the core uses. */
export interface XGrammarLib {
  TokenizerInfo: typeof XG.TokenizerInfo;
  GrammarCompiler: typeof XG.GrammarCompiler;
  GrammarMatcher: typeof XG.GrammarMatcher;
}

export type XGrammarLoader = () => Promise<XGrammarLib>;

function isXGrammar(x: unknown): x is XGrammarLib {
  if (typeof x !== 'object' || x === null) return false;
  return 'TokenizerInfo' in x && typeof x.TokenizerInfo === 'function' && 'GrammarCompiler' in x && typeof x.GrammarCompiler === 'function' && 'GrammarMatcher' in x && typeof x.GrammarMatcher === 'function';
}

/** The package's classes from a module namespace (named exports, or `default` where a bundler wrapped it as CommonJS). */
export function asXGrammar(mod: unknown): XGrammarLib {
  if (isXGrammar(mod)) return mod;
  const inner = typeof mod === 'object' && mod !== null && 'default' in mod ? mod.default : null;
  if (isXGrammar(inner)) return inner;
  throw new Error('@mlc-ai/web-xgrammar did not load: its classes are missing from the module.');
}

let loading: Promise<XGrammarLib> | null = null;

/** The browser's loader (the worker): a dynamic import, so the package is a chunk fetched on first use. */
export const loadXGrammar: XGrammarLoader = () => {
  loading ??= import('@mlc-ai/web-xgrammar').then(asXGrammar).catch((e: unknown) => {
    loading = null;
    throw e;
  });
  return loading;
};
