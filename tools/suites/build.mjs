// Builds the bundled suites for the embedded models from the model tool's HELD-OUT split
// (tools/slm/data/heldout.jsonl: never trained on), and public/suites/index.json listing every
// suite in public/suites. Deterministic: the first N items of each chosen family, in file order.
// Run: npm run suites:build
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';

const HELDOUT = 'tools/slm/data/heldout.jsonl';
const OUT = 'public/suites';
const items = readFileSync(HELDOUT, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const families = [...new Set(items.map((i) => i.family))];

function toCase(i) {
  return { id: i.id, category: i.family, messages: i.messages, expected: i.answer, scorer: { type: i.scorer } };
}

function pick(fams, perFamily) {
  const out = [];
  for (const f of fams) out.push(...items.filter((i) => i.family === f).slice(0, perFamily));
  return out.map(toCase);
}

/** The json family's answers are {"name": …, "age": …}: the schema they fit, and each field scored on its own. */
const PERSON_SCHEMA = {
  type: 'object',
  // Bounded, so a constrained answer always fits in max new tokens (a string may otherwise run on).
  properties: { name: { type: 'string', maxLength: 24 }, age: { type: 'integer', minimum: 0, maximum: 150 } },
  required: ['name', 'age'],
  additionalProperties: false,
};
function toJsonCase(i) {
  return {
    ...toCase(i),
    scorer: { type: 'json-fields', fields: [{ path: '/name', match: 'exact' }, { path: '/age', match: 'numeric' }] },
    schema: PERSON_SCHEMA,
  };
}

const suites = [
  {
    id: 'slm-skills-20',
    name: 'Embedded models: five skills, 4 items each (20)',
    description:
      '4 held-out items from each of 3-digit addition, comparison, multiplication, multi-turn and length (model cards: slm-reference answers all 20, slm-pocket 12: it was never trained on 3-digit addition or multiplication). Quick (about a minute on both sides).',
    cases: pick(['add3', 'compare', 'mul', 'multiturn', 'length'], 4),
  },
  {
    id: 'slm-heldout-quick',
    name: `Embedded models: every task family, 3 items each (${families.length * 3})`,
    description: `3 held-out items from each of the ${families.length} task families the embedded models were trained on.`,
    cases: pick(families, 3),
  },
  {
    id: 'slm-json-20',
    name: 'Embedded models: JSON objects with a schema, 20 items (20)',
    description:
      '20 held-out items of the json family ("Give a JSON object with name Emma and age 67."), each with a response schema (name: string, age: integer, nothing else). Scored per field (name exact, age as a number) and for structure (valid JSON, matches the schema); run it constrained, free, or both.',
    cases: items.filter((i) => i.family === 'json').slice(0, 20).map(toJsonCase),
  },
  {
    id: 'slm-heldout-full',
    name: `Embedded models: the whole held-out split (${items.length})`,
    description: `All ${items.length} held-out items (${items.length / families.length} per family): the numbers on the model cards, measured in your browser.`,
    cases: pick(families, 1000),
  },
];

for (const s of suites) {
  const suite = {
    format: 'slm-playground-suite',
    version: 1,
    id: s.id,
    name: s.name,
    description: s.description,
    source: `${HELDOUT} (held-out split of the model tool's synthetic corpus; never used for training)`,
    cases: s.cases,
  };
  writeFileSync(`${OUT}/${s.id}.json`, `${JSON.stringify(suite, null, 1)}\n`);
}

// The index the app reads: embedded-model suites first, then the general ones.
const index = readdirSync(OUT)
  .filter((f) => f.endsWith('.json') && f !== 'index.json')
  .map((file) => {
    const s = JSON.parse(readFileSync(`${OUT}/${file}`, 'utf8'));
    return { file, id: s.id, name: s.name, description: s.description ?? '', cases: s.cases.length, for: s.id.startsWith('slm-') ? 'embedded' : 'general' };
  })
  .sort((a, b) => (a.for === b.for ? a.cases - b.cases : a.for === 'embedded' ? -1 : 1));
writeFileSync(`${OUT}/index.json`, `${JSON.stringify({ suites: index }, null, 1)}\n`);
console.log(index.map((s) => `${s.file}: ${s.cases} cases`).join('\n'));
