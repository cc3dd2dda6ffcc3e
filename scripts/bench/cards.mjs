// Model quality figures for the bench's last line, read from the embedded models' cards (tools/slm/eval.mjs writes
// them from the held-out split): measured when the models were built, not re-measured by the bench.
import { existsSync, readFileSync } from 'node:fs';

const card = (id) => {
  const f = `public/models/${id}/card.json`;
  return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : null;
};

/** pocket_mastered_min: lowest fp32 held-out accuracy over slm-pocket's stated families;
 *  reference_overall: slm-reference's overall fp32 held-out accuracy. null where a card lacks the figure. */
export function modelQuality() {
  const p = card('slm-pocket');
  const r = card('slm-reference');
  const perFamily = p?.evaluation?.node?.fp32?.per_family ?? {};
  const stated = p?.skills?.stated ?? [];
  const accs = stated.map((f) => perFamily[f]?.accuracy).filter((a) => typeof a === 'number');
  return {
    pocket_mastered_min: accs.length && accs.length === stated.length ? Math.min(...accs) : null,
    reference_overall: r?.evaluation?.node?.fp32?.overall?.accuracy ?? null,
  };
}
