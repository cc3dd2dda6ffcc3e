/**
 * The layer rules of .dependency-cruiser.cjs hold for src/, and they do catch what they are for:
 * a planted upward import, an import from hooks into ui, a folder cycle and a module cycle are each
 * reported in a throwaway tree.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cruise, type ICruiseOptions, type IViolation } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CONFIG = path.join(ROOT, '.dependency-cruiser.cjs');

/**
 * Violations tolerated for now: none. An entry here must still occur (the last test fails when one
 * is gone, so the list cannot go stale).
 */
const KNOWN: string[] = [];

function describeViolation(v: IViolation): string {
  const via = v.cycle?.length ? [v.from, ...v.cycle.map((c) => c.name)] : [v.from, v.to];
  return `${v.rule.name}: ${via.join(' → ')}`;
}

async function violationsIn(baseDir: string): Promise<string[]> {
  const options: ICruiseOptions = { ...(await extractDepcruiseOptions(CONFIG)), baseDir, validate: true };
  const result = await cruise(['src'], options);
  if (typeof result.output === 'string') throw new Error('dependency-cruiser returned text, expected a result object');
  return [...new Set((result.output.summary.violations ?? []).map(describeViolation))].sort();
}

describe('layers (.dependency-cruiser.cjs)', () => {
  let found: string[] = [];

  it('src/ keeps to them', async () => {
    found = await violationsIn(ROOT);
    const unexpected = found.filter((v) => !KNOWN.includes(v));
    expect(unexpected, `layer violations:\n${unexpected.join('\n')}`).toEqual([]);
  }, 60_000);

  describe('a planted tree', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'slm-layers-'));
    afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
    const write = (rel: string, text: string) => {
      fs.mkdirSync(path.dirname(path.join(tmp, rel)), { recursive: true });
      fs.writeFileSync(path.join(tmp, rel), text);
    };

    it('fails on an upward import, hooks → ui, a folder cycle and a module cycle', async () => {
      write('src/ui/Widget.tsx', 'export const Widget = 1;\n');
      write('src/metrics/up.ts', "import { Widget } from '../ui/Widget';\nexport const up = Widget;\n");
      write('src/hooks/useThing.ts', "import type { Props } from '../ui/Panel';\nexport type P = Props;\n");
      write('src/ui/Panel.tsx', 'export interface Props { a: number }\n');
      write('src/models/device.ts', "import type { Env } from '../engines/local/protocol';\nexport type D = Env;\nexport type Dtype = 'q8';\n");
      write('src/engines/local/protocol.ts', "import type { Dtype } from '../../models/device';\nexport type Env = Dtype;\n");
      write('src/eval/a.ts', "import { b } from './b';\nexport const a = () => b;\n");
      write('src/eval/b.ts', "import { a } from './a';\nexport const b = () => a;\n");
      write('src/lib/fine.ts', 'export const fine = 1;\n');
      write('src/ui/ok.ts', "import { fine } from '../lib/fine';\nimport type { P } from '../hooks/useThing';\nexport const ok: P | number = fine;\n");
      const v = await violationsIn(tmp);
      expect(v).toContain('layer-metrics: src/metrics/up.ts → src/ui/Widget.tsx');
      expect(v).toContain('layer-hooks: src/hooks/useThing.ts → src/ui/Panel.tsx');
      expect(v).toContain('layer-models: src/models/device.ts → src/engines/local/protocol.ts');
      expect(v.some((x) => x.startsWith('no-folder-circular: src/models → src/engines/local'))).toBe(true);
      expect(v.some((x) => x.startsWith('no-circular: src/eval/a.ts → src/eval/b.ts'))).toBe(true);
      // ui → hooks and anything → lib are allowed.
      expect(v.filter((x) => x.includes('src/ui/ok.ts'))).toEqual([]);
    }, 60_000);

    it('fails on a module outside every layer', async () => {
      write('src/newfolder/x.ts', "import { fine } from '../lib/fine';\nexport const x = fine;\n");
      expect(await violationsIn(tmp)).toContain('unplaced-module: src/newfolder/x.ts → src/lib/fine.ts');
    }, 60_000);
  });

  it('every known violation still occurs (remove the ones that are gone from KNOWN)', () => {
    expect(KNOWN.filter((k) => !found.includes(k))).toEqual([]);
  });
});
