// The training corpus of the embedded models keeps its held-out split honest: tools/slm/test_corpus.py (stdlib
// Python, no torch) reproduces tools/slm/data/heldout.jsonl from the seed and checks that no training user turn is a
// held-out prompt or contains a held-out chat phrasing. Python: $PYTHON or /usr/bin/python3 (the e2e setup needs it too).
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';

it('corpus: held-out split reproduced from the seed, no held-out prompt or chat phrasing in training', () => {
  const r = spawnSync(process.env['PYTHON'] ?? '/usr/bin/python3', ['-m', 'unittest', 'tools/slm/test_corpus.py'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(r.error, 'python3 runs').toBeUndefined();
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/Ran 5 tests[\s\S]*OK/);
}, 130_000);
