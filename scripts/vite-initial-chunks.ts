/**
 * Two chunks for what the page loads before any model, instead of the ~20 small shared chunks
 * rolldown makes by default: gzip compresses one stream better than many (measured: 134.0 kB as
 * 22 files, 127.7 kB as one stream; bench `initial_js_gzip_kb`). "shared" holds the modules that
 * the page (src/main.tsx) and the benchmark harness (src/harness/main.ts) both import statically,
 * "app" the page's own; everything loaded later keeps rolldown's automatic chunks.
 */
import { resolve } from 'node:path';

interface ModuleGraph {
  getModuleInfo(id: string): { importedIds: readonly string[] } | null;
}

/** Every module `entry` imports statically, directly or not (dynamic imports excluded). */
function staticClosure(graph: ModuleGraph, entry: string): Set<string> {
  const seen = new Set<string>([entry]);
  const todo = [entry];
  for (let id = todo.pop(); id !== undefined; id = todo.pop()) {
    for (const dep of graph.getModuleInfo(id)?.importedIds ?? []) {
      if (!seen.has(dep)) {
        seen.add(dep);
        todo.push(dep);
      }
    }
  }
  return seen;
}

export function initialChunks(root: string) {
  const page = resolve(root, 'src/main.tsx');
  const harness = resolve(root, 'src/harness/main.ts');
  // Per chunking pass (a watch rebuild gets a new graph), not per config.
  const cache = new WeakMap<ModuleGraph, { page: Set<string>; harness: Set<string> }>();
  const of = (graph: ModuleGraph) => {
    let sets = cache.get(graph);
    if (!sets) cache.set(graph, (sets = { page: staticClosure(graph, page), harness: staticClosure(graph, harness) }));
    return sets;
  };
  return {
    groups: [
      { name: (id: string, ctx: ModuleGraph) => (of(ctx).page.has(id) && of(ctx).harness.has(id) ? 'shared' : null), debugName: 'shared', priority: 2 },
      { name: (id: string, ctx: ModuleGraph) => (of(ctx).page.has(id) && !of(ctx).harness.has(id) ? 'app' : null), debugName: 'app', priority: 1 },
    ],
  };
}
