/**
 * The grammar engine for constrained decoding: @mlc-ai/web-xgrammar (XGrammar compiled to
 * WebAssembly, the engine WebLLM uses). It builds its token tables from any tokenizer's
 * vocabulary, compiles JSON Schema and plain JSON, and gives a bitmask of allowed tokens per step.
 *
 * Loaded on first use only (1.1 MB of JavaScript with its WebAssembly inlined): a text answer
 * never loads it. The package is one UMD bundle whose WebAssembly instance lives in its closure,
 * so a module import can never give a second instance, and after an Emscripten abort (a schema its
 * checks refuse, a trap in a matcher) the instance's stack and heap are in an unknown state. So the
 * worker imports the bundle's source text (`?raw`, a chunk of its own) and evaluates its UMD
 * factory (`instantiateXGrammar`): each evaluation is an independent module with its own
 * WebAssembly memory, and `loadXGrammar({ fresh: true })` replaces a stopped one. Node loads it
 * through server/xgrammar-node.ts (its UMD bundle cannot be imported as an ES module there).
 */
/// <reference types="vite/client" />
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

/** The current instance, or (`fresh`) a new one replacing it: after an abort the old one is not trusted. */
export type XGrammarLoader = (opts?: { fresh?: boolean }) => Promise<XGrammarLib>;

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

/** What the bundle's Emscripten glue reads where there is no `location` (Node): `require` and `__filename`. */
export interface NodeScope {
  require: (id: string) => unknown;
  __filename: string;
}

/**
 * A new, independent instance from the bundle's source (its UMD factory run with a CommonJS
 * `exports` of its own). In a worker the glue needs nothing else; in Node pass `node`.
 */
export function instantiateXGrammar(source: string, node?: NodeScope): XGrammarLib {
  const module = { exports: {} };
  // The UMD wrapper takes the CommonJS branch when `exports` and `module` are defined.
  const factory = new Function('exports', 'module', 'require', '__filename', source);
  factory.call(undefined, module.exports, module, node?.require, node?.__filename);
  return asXGrammar(module.exports);
}

let source: Promise<string> | null = null;
let current: Promise<XGrammarLib> | null = null;

/** The worker's loader: the bundle's source is a chunk fetched on first use; each instance evaluates it. */
export const loadXGrammar: XGrammarLoader = (opts) => {
  if (opts?.fresh) current = null;
  if (!source) {
    const s = import('@mlc-ai/web-xgrammar/lib/index.js?raw').then((m) => m.default);
    source = s;
    s.catch(() => source === s && (source = null));
  }
  if (!current) {
    const lib = source.then((text) => instantiateXGrammar(text));
    current = lib;
    lib.catch(() => current === lib && (current = null));
  }
  return current;
};

/** Whether an error is a WebAssembly trap or an Emscripten abort (the instance is not trusted afterwards). */
export function isEngineAbort(e: unknown): boolean {
  if (e instanceof WebAssembly.RuntimeError) return true;
  const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return /Aborted\(|RuntimeError|unreachable|memory access out of bounds/.test(text);
}
