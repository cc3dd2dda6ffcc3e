/**
 * The suites bundled in public/suites/*.json (index.json aside): each must import, have unique
 * case ids, and be scorable as intended.
 * - A case with an `expected` answer and an exact/normalized/contains/numeric/json scorer must pass
 *   with its own expected answer, and fail with a non-answer.
 * - Regex and json-schema cases cannot carry an example answer in the suite format, so this file
 *   keeps one passing and one failing output for each of them (EXAMPLES below, keyed
 *   "<suite id>/<case id>"); a bundled regex/json-schema case without an entry fails the test.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scoreOutput } from '../../src/eval/scorers';
import { parseSuite } from '../../src/eval/suite';
import { createNodeSandbox } from '../../scripts/eval-sandbox/node';

const DIR = join(process.cwd(), 'public', 'suites');
const FILES = readdirSync(DIR)
  .filter((f) => f.endsWith('.json') && f !== 'index.json')
  .sort();

/** Scorers whose `expected` answer is itself a passing output. */
const SELF_SCORED = new Set(['exact', 'normalized', 'contains', 'numeric', 'json']);
/** Scorers checked with the examples below. */
const EXAMPLE_SCORED = new Set(['regex', 'json-schema']);

interface Example {
  pass: string;
  fail: string;
}

const EXAMPLES: Record<string, Example> = {
  // ——— general-instruction-following (regex) ———
  'general-instruction-following/if-exactly-three-words': { pass: 'Vast, deep, blue.', fail: 'The ocean is vast and deep.' },
  'general-instruction-following/if-single-word-answer': { pass: 'Blue.', fail: 'The sky is blue.' },
  'general-instruction-following/if-at-most-ten-words': {
    pass: 'Exercise strengthens your heart and lifts your mood.',
    fail: 'Regular exercise is good for you because it strengthens your heart, muscles and bones.',
  },
  'general-instruction-following/if-start-with-yes': { pass: 'Yes, the Earth is round: it is an oblate spheroid.', fail: 'Absolutely, yes — the Earth is round.' },
  'general-instruction-following/if-end-with-phrase': {
    pass: 'A rainbow is an arc of colours made when sunlight is bent and reflected by raindrops. Hope this helps!',
    fail: 'Hope this helps! A rainbow is an arc of colours made by sunlight in raindrops.',
  },
  'general-instruction-following/if-all-uppercase': { pass: 'SLEEP LETS YOUR BODY AND BRAIN RECOVER.', fail: 'SLEEP lets your body recover.' },
  'general-instruction-following/if-all-lowercase': { pass: 'autumn leaves drift down in red and gold.', fail: 'Autumn leaves drift down in red and gold.' },
  'general-instruction-following/if-title-case-headline': { pass: 'A New City Park Opens Its Gates', fail: 'A new city park opens its gates' },
  'general-instruction-following/if-bulleted-list-three': { pass: '- Apple\n- Banana\n- Cherry', fail: 'Here are three fruits:\n- Apple\n- Banana\n- Cherry' },
  'general-instruction-following/if-numbered-steps-four': {
    pass: '1. Boil water.\n2. Put a tea bag in a cup.\n3. Pour the water over it.\n4. Steep for three minutes.',
    fail: '1. Boil water.\n2. Add the tea bag.\n3. Pour and steep.',
  },
  'general-instruction-following/if-square-brackets': { pass: '[Marie Curie]', fail: 'Marie Curie' },
  'general-instruction-following/if-answer-label-format': { pass: 'ANSWER: 4', fail: 'The answer is 4.' },
  'general-instruction-following/if-repeat-sentence-exactly': {
    pass: 'The quick brown fox jumps over the lazy dog.',
    fail: 'Sure! The quick brown fox jumps over the lazy dog.',
  },
  'general-instruction-following/if-no-letter-e': { pass: 'A cat naps on a warm rug all day.', fail: 'The cat sleeps on a warm rug all day.' },
  'general-instruction-following/if-no-commas-two-sentences': {
    pass: 'I would sleep late and read a good book. Then I would walk in the park with friends.',
    fail: 'I would sleep late, read a book, and walk in the park.',
  },

  // ——— general-json-extraction (json-schema) ———
  'general-json-extraction/json-contact-card': {
    pass: '{"name": "Alice Chen", "email": "alice.chen@example.com", "phone": "+1 415 555 0132"}',
    fail: '{"name": "Alice Chen", "email": "alice.chen@example.com", "phone": "+1 415 555 0132", "team": "design"}',
  },
  'general-json-extraction/json-order-summary': {
    pass: '```json\n{"order_id": "A-1042", "item": "USB-C cable", "quantity": 3, "unit_price": 9.99, "shipping": "express", "country": "Portugal"}\n```',
    fail: '{"order_id": "A-1042", "item": "USB-C cable", "quantity": "3", "unit_price": 9.99, "shipping": "express", "country": "Portugal"}',
  },
  'general-json-extraction/json-product-review': {
    pass: '{"product": "Aurora X2 headphones", "rating": 4, "sentiment": "mixed", "would_recommend": true}',
    fail: '{"product": "Aurora X2 headphones", "rating": 4, "sentiment": "negative", "would_recommend": true}',
  },
  'general-json-extraction/json-support-ticket': {
    pass: '{"order_id": "55821", "issue_type": "damaged_item", "requested_action": "replacement", "urgency": "high"}',
    fail: '{"order_id": 55821, "issue_type": "damaged_item", "requested_action": "replacement", "urgency": "high"}',
  },
  'general-json-extraction/json-invoice-totals': {
    pass: '{"invoice_number": "INV-2291", "vendor": "Nordwind GmbH", "date": "2025-02-03", "net": 1250.0, "vat": 237.5, "total": 1487.5, "currency": "EUR", "due_days": 30}',
    fail: '{"invoice_number": "INV-2291", "vendor": "Nordwind GmbH", "date": "03/02/2025", "net": 1250, "vat": 237.5, "total": 1487.5, "currency": "EUR", "due_days": 30}',
  },
  'general-json-extraction/json-meeting-details': {
    pass: '{"title": "Quarterly budget review", "date": "2025-03-14", "time": "15:30", "room": "4B"}',
    fail: '{"title": "Quarterly budget review", "date": "2025-03-14", "time": "3:30 pm", "room": "4B"}',
  },
  'general-json-extraction/json-flight-booking': {
    pass: '{"passenger": "Mr. Daniel Okafor", "flight_number": "LH 455", "from": "FRA", "to": "SFO", "date": "2025-07-02", "seat": "32K", "cabin": "economy"}',
    fail: '{"passenger": "Daniel Okafor", "flight_number": "LH 455", "from": "Frankfurt", "to": "San Francisco", "date": "2025-07-02", "seat": "32K", "cabin": "economy"}',
  },
  'general-json-extraction/json-postal-address': {
    pass: '{"street": "221B Baker Street", "city": "London", "postal_code": "NW1 6XE", "country": "United Kingdom"}',
    fail: '{"street": "221B Baker Street", "city": "London NW1 6XE", "country": "United Kingdom"}',
  },
  'general-json-extraction/json-recipe-ingredients': {
    pass: '{"ingredients": [{"name": "flour", "quantity": 200, "unit": "g"}, {"name": "eggs", "quantity": 2, "unit": null}, {"name": "milk", "quantity": 300, "unit": "ml"}, {"name": "salt", "quantity": null, "unit": "pinch"}]}',
    fail: '{"ingredients": ["200 g flour", "2 eggs", "300 ml milk", "a pinch of salt"]}',
  },
  'general-json-extraction/json-job-posting': {
    pass: '{"title": "Senior Data Engineer", "city": "Berlin", "work_mode": "hybrid", "salary_min": 75000, "salary_max": 90000, "currency": "EUR", "skills": ["Python", "SQL", "Airflow"]}',
    fail: '{"title": "Senior Data Engineer", "city": "Berlin", "work_mode": "hybrid", "salary_min": "€75,000", "salary_max": "€90,000", "currency": "EUR", "skills": ["Python", "SQL", "Airflow"]}',
  },
};

describe('bundled suites', () => {
  const sandbox = createNodeSandbox();
  afterAll(() => sandbox.dispose());

  it('finds the general-purpose suites', () => {
    for (const f of [
      'general-factual-qa.json',
      'general-arithmetic-word-problems.json',
      'general-json-extraction.json',
      'general-classification.json',
      'general-instruction-following.json',
    ])
      expect(FILES).toContain(f);
  });

  describe.each(FILES)('%s', (file) => {
    const raw = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as unknown;

    it('imports with parseSuite and has unique case ids', () => {
      const suite = parseSuite(raw);
      const ids = suite.cases.map((c) => c.id);
      expect(new Set(ids).size).toBe(ids.length);
    });

    it('passes its own expected answers and fails a non-answer', async () => {
      const suite = parseSuite(raw);
      for (const c of suite.cases) {
        if (c.expected === undefined || !SELF_SCORED.has(c.scorer.type)) continue;
        const own = await scoreOutput(c, c.expected, sandbox);
        expect(own?.pass, `${suite.id}/${c.id}: expected answer ${JSON.stringify(c.expected)} does not pass (${own?.detail})`).toBe(true);
        const none = await scoreOutput(c, "I'm not sure.", sandbox);
        expect(none?.pass, `${suite.id}/${c.id}: a non-answer passes (${none?.detail})`).toBe(false);
      }
    });

    it('has a passing and a failing example for every regex and json-schema case', async () => {
      const suite = parseSuite(raw);
      for (const c of suite.cases) {
        if (!EXAMPLE_SCORED.has(c.scorer.type)) continue;
        const key = `${suite.id}/${c.id}`;
        const ex = EXAMPLES[key];
        expect(ex, `${key}: no example outputs in tests/unit/bundled-suites.test.ts`).toBeDefined();
        if (!ex) continue;
        const good = await scoreOutput(c, ex.pass, sandbox);
        expect(good?.pass, `${key}: passing example fails (${good?.detail})`).toBe(true);
        const bad = await scoreOutput(c, ex.fail, sandbox);
        expect(bad?.pass, `${key}: failing example passes (${bad?.detail})`).toBe(false);
      }
    });
  });

  it('has no examples for cases that do not exist', () => {
    const known = new Set<string>();
    for (const file of FILES) {
      const suite = parseSuite(JSON.parse(readFileSync(join(DIR, file), 'utf8')) as unknown);
      for (const c of suite.cases) if (EXAMPLE_SCORED.has(c.scorer.type)) known.add(`${suite.id}/${c.id}`);
    }
    expect(Object.keys(EXAMPLES).filter((k) => !known.has(k))).toEqual([]);
  });
});
