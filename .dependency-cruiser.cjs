/**
 * The layers of src/ (docs/architecture.md draws them), checked by `npm test`
 * (tests/unit/layers.test.ts) and by `npm run lint:deps`. Low to high; a module may import its
 * own layer and lower ones, never a higher one, and folders of one rank never import each other:
 *
 *   lib → metrics → models → inference → engines → compare → eval | state | pwa → share
 *       → hooks → ui → App.tsx, main.tsx, harness/ (entries)
 *
 * compare, eval, state, pwa and share are the domain layer: compare (prices, the side-by-side
 * strip) is its base; eval, state (persisted settings) and pwa stand beside each other; share
 * encodes all of them into links. No import cycles, between modules or between folders.
 */

/** [rank, folder pattern]; every module under src/ must match one. */
const LAYERS = [
  [0, 'lib', '^src/lib/'],
  [1, 'metrics', '^src/metrics/'],
  [2, 'models', '^src/models/'],
  [3, 'inference', '^src/inference/'],
  [4, 'engines', '^src/engines/'],
  [5, 'compare', '^src/compare/'],
  [6, 'eval', '^src/eval/'],
  [6, 'state', '^src/state/'],
  [6, 'pwa', '^src/pwa/'],
  [7, 'share', '^src/share/'],
  [8, 'hooks', '^src/hooks/'],
  [9, 'ui', '^src/ui/'],
  [10, 'app', '^src/(App\\.tsx|main\\.tsx|vite-env\\.d\\.ts|harness/)'],
];

const any = (patterns) => `(${patterns.join('|')})`;

const layerRules = LAYERS.flatMap(([rank, name, path]) => {
  const higher = LAYERS.filter(([r]) => r > rank);
  const peers = LAYERS.filter(([r, n]) => r === rank && n !== name);
  const rules = [];
  if (higher.length > 0) {
    rules.push({
      name: `layer-${name}`,
      comment: `${name} must not import a higher layer (${higher.map(([, n]) => n).join(', ')})`,
      severity: 'error',
      from: { path },
      to: { path: any(higher.map(([, , p]) => p)) },
    });
  }
  if (peers.length > 0) {
    rules.push({
      name: `peer-${name}`,
      comment: `${name} must not import a folder of its own rank (${peers.map(([, n]) => n).join(', ')})`,
      severity: 'error',
      from: { path },
      to: { path: any(peers.map(([, , p]) => p)) },
    });
  }
  return rules;
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'unplaced-module',
      comment: 'every module under src/ belongs to a layer: add a new folder to LAYERS in .dependency-cruiser.cjs',
      severity: 'error',
      from: { path: '^src/', pathNot: any(LAYERS.map(([, , p]) => p)) },
      to: {},
    },
    {
      name: 'no-circular',
      comment: 'no import cycles between modules (type-only imports included)',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-folder-circular',
      comment: 'no import cycles between folders (e.g. models → engines/local → models)',
      severity: 'error',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    // Type-only imports count: a lower layer that names an upper layer's type still depends on it.
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
    // Folder-scope rules need the folder list, which dependency-cruiser computes with its metrics.
    metrics: true,
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js', '.mjs', '.json'] },
  },
};
