import { readFileSync, existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { accuracyTable, embeddedCatalog, parseCard, parseExamples } from '../../src/models/embedded';

describe('model cards', () => {
  it('parses the card the model tool writes and builds the accuracy table', () => {
    const card = parseCard({
      name: 'x',
      architecture: { params: 800000 },
      files: { 'onnx/model.onnx': 3000000, 'onnx/model_quantized.onnx': 900000 },
      evaluation: {
        node: {
          fp32: { per_family: { add2: { correct: 20, total: 50, accuracy: 0.4 }, json: { correct: 50, total: 50, accuracy: 1 } }, overall: { correct: 70, total: 100, accuracy: 0.7 } },
          q8: { per_family: { add2: 0.38 }, overall: 0.38 },
        },
      },
    });
    expect(card).not.toBeNull();
    const t = accuracyTable(card!);
    expect(t.dtypes).toEqual(['fp32', 'q8']);
    expect(t.rows).toEqual([
      { family: 'add2', acc: [0.4, 0.38] },
      { family: 'json', acc: [1, null] },
    ]);
    expect(t.overall).toEqual([0.7, 0.38]);
    const [pocket] = embeddedCatalog({ 'slm-pocket': card });
    expect(pocket?.params).toBe(800000);
    expect(pocket?.exactBytes).toEqual({ fp32: 3000000, q8: 900000 });
    expect(pocket?.dtypes).toEqual(['fp32', 'q8']);
  });

  it('rejects a card without a name', () => {
    expect(parseCard({ files: {} })).toBeNull();
  });

  it('reads examples and the try-this prompts (the model\'s measured failures) from examples.json', () => {
    const ex = { family: 'add2', messages: [{ role: 'user', content: 'What is 2 + 3?' }], expected: '5' };
    const miss = { family: 'add3', messages: [{ role: 'user', content: '274 + 274 =' }], expected: '548', fp32_output: '46' };
    expect(parseExamples({ examples: [ex, { family: 'x' }], try_this: [miss] })).toEqual({
      examples: [{ prompt: 'What is 2 + 3?', expected: '5', family: 'add2' }],
      tryThis: [{ prompt: '274 + 274 =', expected: '548', family: 'add3' }],
    });
    expect(parseExamples([ex])).toEqual({ examples: [{ prompt: 'What is 2 + 3?', expected: '5', family: 'add2' }], tryThis: [] });
    expect(parseExamples({ nope: 1 })).toEqual({ examples: [], tryThis: [] });
  });

  const pocketExamples = 'public/models/slm-pocket/examples.json';
  it.runIf(existsSync(pocketExamples))('the shipped pocket examples come from families it handles (>= 80% fp32), its try-this prompts from weaker ones', () => {
    const raw = JSON.parse(readFileSync(pocketExamples, 'utf8')) as { examples: unknown[]; try_this: unknown[] };
    const card = JSON.parse(readFileSync('public/models/slm-pocket/card.json', 'utf8')) as {
      evaluation: { node: { fp32: { per_family: Record<string, { accuracy: number }> } } };
    };
    const acc = (f: string | null) => card.evaluation.node.fp32.per_family[f ?? '']?.accuracy ?? -1;
    const parsed = parseExamples(raw);
    expect(parsed.examples).toHaveLength(raw.examples.length);
    expect(parsed.tryThis).toHaveLength(raw.try_this.length);
    expect(parsed.tryThis.length).toBeGreaterThan(0);
    for (const e of parsed.examples) expect(acc(e.family), e.prompt).toBeGreaterThanOrEqual(0.8);
    // The cards' weakest families: add3, mul, reverse, sort3 (0%, never trained), so try-this shows them.
    for (const e of parsed.tryThis) expect(acc(e.family), e.prompt).toBeLessThan(0.8);
  });

  for (const id of ['slm-pocket', 'slm-reference']) {
    const path = `public/models/${id}/card.json`;
    it.runIf(existsSync(path))(`reads the shipped ${id} card`, () => {
      const card = parseCard(JSON.parse(readFileSync(path, 'utf8')));
      expect(card).not.toBeNull();
      expect(accuracyTable(card!).rows.length).toBeGreaterThan(3);
    });
  }
});
