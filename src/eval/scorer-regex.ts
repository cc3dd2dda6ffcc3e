/**
 * How a regex scorer's pattern is compiled: one way, for the import check (suite.ts) and for the
 * scoring sandbox's match (sandbox/core.ts). Compiling is cheap and cannot hang; matching can,
 * which is why matching runs in the sandbox worker.
 */

/**
 * Regex flags a scorer accepts. `g` and `y` are accepted and dropped: they make `RegExp.test`
 * stateful (lastIndex), and a scorer tests each output exactly once.
 */
const REGEX_FLAGS = /^[dgimsuvy]*$/;

/** Compiles a regex scorer's pattern; throws SyntaxError with the engine's reason when invalid. */
export function compileScorerRegex(pattern: string, flags = ''): RegExp {
  if (!REGEX_FLAGS.test(flags)) throw new SyntaxError(`invalid flags "${flags}" (allowed: d, i, m, s, u, v; g and y are ignored)`);
  return new RegExp(pattern, flags.replace(/[gy]/g, ''));
}
