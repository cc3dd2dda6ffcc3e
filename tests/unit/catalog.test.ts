import { describe, expect, it } from 'vitest';
import { BYTES_PER_PARAM, HUB_CATALOG, catalogFor, estimatedBytes, type CatalogEntry } from '../../src/models/catalog';
import { DTYPES, isDtype, modelIdError, sourceError } from '../../src/models/sources';

describe('HUB_CATALOG', () => {
  it('is not empty', () => {
    expect(HUB_CATALOG.length).toBeGreaterThan(0);
  });

  it('has unique keys', () => {
    const keys = HUB_CATALOG.map((e) => e.key);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('has unique model ids', () => {
    const ids = HUB_CATALOG.map((e) => e.source.modelId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  describe.each(HUB_CATALOG.map((e) => [e.key, e] as const))('%s', (_key, entry) => {
    it('is a valid hub source', () => {
      expect(entry.source.type).toBe('hub');
      expect(modelIdError(entry.source.modelId)).toBeNull();
      expect(sourceError(entry.source)).toBeNull();
      // Hub entries name an org, like every browser-ready repository.
      expect(entry.source.modelId).toMatch(/^[^/]+\/[^/]+$/);
    });

    it('offers known, distinct dtypes', () => {
      expect(entry.dtypes.length).toBeGreaterThan(0);
      for (const d of entry.dtypes) expect(isDtype(d)).toBe(true);
      expect(new Set(entry.dtypes).size).toBe(entry.dtypes.length);
    });

    it('prefers dtypes it offers', () => {
      expect(entry.dtypes).toContain(entry.preferred.webgpu);
      expect(entry.dtypes).toContain(entry.preferred.wasm);
    });

    it('has sane numbers and text', () => {
      expect(entry.params).toBeGreaterThan(1e6);
      expect(Number.isInteger(entry.contextLength) && entry.contextLength > 0).toBe(true);
      expect(entry.label.trim()).not.toBe('');
      expect(entry.license.trim()).not.toBe('');
      expect(entry.key).toMatch(/^[a-z0-9.-]+$/);
      expect(entry.embedded).not.toBe(true);
    });

    it('sizes are estimates from the parameter count', () => {
      for (const d of entry.dtypes) {
        expect(estimatedBytes(entry, d)).toEqual({ bytes: Math.round(entry.params * BYTES_PER_PARAM[d]), exact: false });
      }
    });
  });
});

describe('BYTES_PER_PARAM', () => {
  it('covers every dtype with a positive figure, fp32 the largest', () => {
    for (const d of DTYPES) expect(BYTES_PER_PARAM[d]).toBeGreaterThan(0);
    expect(BYTES_PER_PARAM.fp32).toBe(4);
    expect(BYTES_PER_PARAM.fp16).toBe(2);
    for (const d of DTYPES) expect(BYTES_PER_PARAM[d]).toBeLessThanOrEqual(BYTES_PER_PARAM.fp32);
  });
});

const embedded: CatalogEntry = {
  key: 'slm-pocket',
  label: 'SLM Pocket',
  source: { type: 'bundled', modelId: 'slm-pocket' },
  params: 3_456_789,
  dtypes: ['fp32', 'q8'],
  preferred: { webgpu: 'fp32', wasm: 'fp32' },
  contextLength: 256,
  license: 'MIT',
  notes: '',
  exactBytes: { fp32: 13_900_123 },
  embedded: true,
};

describe('estimatedBytes', () => {
  it('exact size when known', () => {
    expect(estimatedBytes(embedded, 'fp32')).toEqual({ bytes: 13_900_123, exact: true });
  });

  it('estimate (rounded) for a dtype without an exact size', () => {
    expect(estimatedBytes(embedded, 'q8')).toEqual({ bytes: Math.round(3_456_789 * 1.05), exact: false });
    expect(estimatedBytes(embedded, 'q4f16')).toEqual({ bytes: Math.round(3_456_789 * 0.6), exact: false });
    expect(Number.isInteger(estimatedBytes(embedded, 'q8').bytes)).toBe(true);
  });

  it('an exact size of 0 is still exact', () => {
    expect(estimatedBytes({ ...embedded, exactBytes: { q4: 0 } }, 'q4')).toEqual({ bytes: 0, exact: true });
  });

  it('known figures for a hub entry', () => {
    const qwen = HUB_CATALOG.find((e) => e.key === 'qwen2.5-0.5b');
    expect(qwen).toBeDefined();
    if (!qwen) return;
    expect(estimatedBytes(qwen, 'fp32')).toEqual({ bytes: 1_976_000_000, exact: false });
    expect(estimatedBytes(qwen, 'q4f16')).toEqual({ bytes: 296_400_000, exact: false });
  });
});

describe('catalogFor', () => {
  it('puts embedded models first, then the whole hub catalog', () => {
    const all = catalogFor([embedded]);
    expect(all[0]).toBe(embedded);
    expect(all.slice(1)).toEqual(HUB_CATALOG);
    expect(catalogFor([])).toEqual(HUB_CATALOG);
  });

  it('does not mutate HUB_CATALOG', () => {
    const before = HUB_CATALOG.length;
    catalogFor([embedded]).push(embedded);
    expect(HUB_CATALOG.length).toBe(before);
  });
});
