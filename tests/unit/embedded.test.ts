import { readFileSync, existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { accuracyTable, embeddedCatalog, parseCard } from '../../src/models/embedded';

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

  for (const id of ['slm-pocket', 'slm-reference']) {
    const path = `public/models/${id}/card.json`;
    it.runIf(existsSync(path))(`reads the shipped ${id} card`, () => {
      const card = parseCard(JSON.parse(readFileSync(path, 'utf8')));
      expect(card).not.toBeNull();
      expect(accuracyTable(card!).rows.length).toBeGreaterThan(3);
    });
  }
});
