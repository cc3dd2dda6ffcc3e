/**
 * Two chunks for what the page loads before any model, instead of the ~20 small shared chunks
 * rolldown makes by default: gzip compresses one stream better than many (measured: 134.0 kB as
 * 22 files, 127.7 kB as one stream; bench `initial_js_gzip_kb`). "shared" holds the modules that
 * the page (src/main.tsx) and the benchmark harness (src/harness/main.ts) both import statically,
 * "app" the page's own. A third, "later", holds the app's own modules (src/) that the page loads
 * on first use (panels, share links, agreement, suites): the service worker precaches every chunk
 * anyway, and as ~20 files they were 48.2 kB gz, as one 40.4 (bench `precache_kb_gzip`).
 * Libraries loaded on use (the openai SDK, papaparse, idb, transformers.js) keep chunks of their
 * own, with the module that imports them.
 */
import { resolve } from 'node:path';

interface ModuleGraph {
  getModuleInfo(id: string): { importedIds: readonly string[]; dynamicallyImportedIds: readonly string[] } | null;
}

/** Every module `entry` imports, directly or not: statically only, or dynamically too. */
function closure(graph: ModuleGraph, entry: string, dynamic = false): Set<string> {
  const seen = new Set<string>([entry]);
  const todo = [entry];
  for (let id = todo.pop(); id !== undefined; id = todo.pop()) {
    const info = graph.getModuleInfo(id);
    for (const dep of [...(info?.importedIds ?? []), ...(dynamic ? (info?.dynamicallyImportedIds ?? []) : [])]) {
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
  const src = resolve(root, 'src') + '/';
  // Per chunking pass (a watch rebuild gets a new graph), not per config.
  const cache = new WeakMap<ModuleGraph, { page: Set<string>; harness: Set<string>; later: Set<string>; suites: Set<string> }>();
  const of = (graph: ModuleGraph) => {
    let sets = cache.get(graph);
    if (!sets) {
      const pageNow = closure(graph, page);
      // With its dynamic imports: a module the harness loads later (the hosted SDK's arrival.ts, on
      // its first hosted request) must not land in "app" or "later", whose chunks import the page's
      // entry, which throws without the page's #root (CI: the headless runner's hosted column).
      const harnessNow = closure(graph, harness, true);
      // A module that brings a library of its own (openai, papaparse, idb), directly or not, stays out, with it.
      const ownLibrary = (id: string) => [...closure(graph, id)].some((d) => d.includes('/node_modules/') && !pageNow.has(d));
      const lazy = [...closure(graph, page, true)].filter((id) => id.startsWith(src) && !pageNow.has(id) && !ownLibrary(id));
      // What the harness imports too gets a chunk of its own ("suites"): in "later" it would make the
      // harness import "later", which imports "app", whose entry renders the page.
      const later = new Set(lazy.filter((id) => !harnessNow.has(id)));
      const suites = new Set(lazy.filter((id) => harnessNow.has(id)));
      cache.set(graph, (sets = { page: pageNow, harness: harnessNow, later, suites }));
    }
    return sets;
  };
  return {
    groups: [
      { name: (id: string, ctx: ModuleGraph) => (of(ctx).page.has(id) && of(ctx).harness.has(id) ? 'shared' : null), debugName: 'shared', priority: 4 },
      { name: (id: string, ctx: ModuleGraph) => (of(ctx).page.has(id) && !of(ctx).harness.has(id) ? 'app' : null), debugName: 'app', priority: 3 },
      { name: (id: string, ctx: ModuleGraph) => (of(ctx).suites.has(id) ? 'suites' : null), debugName: 'suites', priority: 2 },
      { name: (id: string, ctx: ModuleGraph) => (of(ctx).later.has(id) ? 'later' : null), debugName: 'later', priority: 1 },
    ],
  };
}
