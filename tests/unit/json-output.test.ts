/**
 * JSON output, the pure parts: the answer's verdict (valid, matches the schema, incomplete), the
 * schema editor's check and its examples, the draft store, field-level accuracy, a suite case's
 * response schema, the runner's per-column constraint and structure verdicts (real Node sandbox),
 * the results table's structure totals, and the format migrations of results files and links.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { jsonVerdict, verdictLabel } from '../../src/compare/json-verdict';
import { schemaMismatch } from '../../src/compare/schema-validator';
import { checkSchemaDraft, jsonParseProblem, lineColumn, SCHEMA_EXAMPLES } from '../../src/eval/schema-draft';
import { adoptFormat, discardKept, EMPTY_DRAFT, isOwnDraft, MAX_KEPT, parseSchemaDraft, placeDraft, restoreKept, type SchemaDraft } from '../../src/state/schema-draft';
import { fieldProblem, scoreJsonFields, scoreOutput } from '../../src/eval/scorers';
import { parseSuite, readPointer, type Suite } from '../../src/eval/suite';
import { parseRunRecord, type EngineColumn, type RunRecord } from '../../src/eval/results';
import { buildResultsTable } from '../../src/eval/results-table';
import { cellParams, runSuite, structureOf } from '../../src/eval/runner';
import { DEFAULT_GENERATION, type ChatEngine, type GenerateRequest, type RunResult } from '../../src/engines/types';
import { computeRunMetrics } from '../../src/metrics/timing';
import { migrate } from '../../src/share/schema';
import { createNodeSandbox } from '../../scripts/eval-sandbox/node';

const PERSON = SCHEMA_EXAMPLES.find((e) => e.id === 'person')!.schema;
const asSchema = { type: 'json_schema' as const, name: 'person', schema: PERSON };
const sandbox = createNodeSandbox();
afterAll(() => sandbox.dispose());

describe('the verdict on a JSON answer', () => {
  it('valid and matching, pretty-printed', () => {
    const v = jsonVerdict('{"name":"Eve","age":33}', 'stop', asSchema, schemaMismatch);
    expect(v).toMatchObject({ valid: true, matches: true, incomplete: false, detail: '' });
    expect(v.pretty).toBe('{\n  "name": "Eve",\n  "age": 33\n}');
    expect(verdictLabel(v)).toBe('matches schema');
  });
  it('valid JSON that fails the schema names the path', () => {
    const v = jsonVerdict('{"name":"Eve","age":"33"}', 'stop', asSchema, schemaMismatch);
    expect(v.valid).toBe(true);
    expect(v.matches).toBe(false);
    expect(v.detail).toMatch(/^\/age: /);
    expect(jsonVerdict('{"name":"Eve"}', 'stop', asSchema, schemaMismatch).detail).toMatch(/age/);
  });
  it('a structure cut off at max new tokens is "incomplete JSON"; other garbage is "not JSON"', () => {
    const cut = jsonVerdict('{"name":"Eve","ag', 'length', asSchema, schemaMismatch);
    expect(cut).toMatchObject({ valid: false, incomplete: true, matches: null, pretty: null });
    expect(verdictLabel(cut)).toBe('incomplete JSON');
    expect(jsonVerdict('{"name":"Eve","ag', 'stop', asSchema, schemaMismatch)).toMatchObject({ valid: false, incomplete: false });
    expect(verdictLabel(jsonVerdict('hello', 'stop', asSchema, schemaMismatch))).toBe('not JSON');
  });
  it('JSON mode wants an object; a fenced answer still parses; no schema → matches null', () => {
    expect(jsonVerdict('[1,2]', 'stop', { type: 'json_object' }, schemaMismatch)).toMatchObject({ valid: true, matches: false });
    expect(jsonVerdict('```json\n{"a":1}\n```', 'stop', { type: 'json_object' }, schemaMismatch)).toMatchObject({ valid: true, matches: null });
    expect(jsonVerdict('  {"a": [1, 2]} ', 'stop', { type: 'json_object' }, schemaMismatch)).toMatchObject({ valid: true, pretty: '{\n  "a": [\n    1,\n    2\n  ]\n}' });
  });
  it('a validator that throws becomes a failed match, never a crash', () => {
    const v = jsonVerdict('{}', 'stop', asSchema, () => {
      throw new Error('boom');
    });
    expect(v).toMatchObject({ valid: true, matches: false, detail: 'could not be checked: boom' });
  });
});

describe('the schema editor check', () => {
  it('every ready example is valid', () => {
    for (const ex of SCHEMA_EXAMPLES) {
      const c = checkSchemaDraft(JSON.stringify(ex.schema, null, 2), ex.name);
      expect(c.problems).toEqual([]);
      expect(c.format).toEqual({ type: 'json_schema', name: ex.name, schema: ex.schema });
    }
    expect(new Set(SCHEMA_EXAMPLES.map((e) => e.id))).toEqual(new Set(['person', 'sentiment', 'items']));
    expect(JSON.stringify(SCHEMA_EXAMPLES.find((e) => e.id === 'sentiment')!.schema)).toContain('"enum"');
  });
  it('a JSON syntax error gives its line and column', () => {
    const text = '{\n  "type": "object",\n  "properties": { "a": { "type": "string" }, }\n}';
    const c = checkSchemaDraft(text, 'x');
    expect(c.format).toBeNull();
    expect(c.problems).toHaveLength(1);
    expect(c.problems[0]).toMatch(/^Not valid JSON: .*\(line 3, column \d+\)/);
    expect(lineColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
    expect(jsonParseProblem('{"a":')).toMatch(/line 1, column 6/);
    expect(jsonParseProblem('{}')).toBeNull();
  });
  it('an unsupported keyword, a bad type and a wrong keyword shape are named with their path', () => {
    expect(checkSchemaDraft('{"type":"object","properties":{"a":{"not":{"type":"string"}}}}', 'x').problems).toEqual(['"not" at #/properties/a/not is not supported in constrained output.']);
    expect(checkSchemaDraft('{"type":"object","properties":{"age":{"type":"integr"}}}', 'x').problems[0]).toBe('"type" at #/properties/age/type must be a JSON type, not "integr".');
    expect(checkSchemaDraft('{"type":"object","required":"name"}', 'x').problems[0]).toMatch(/^Invalid JSON Schema at \/required: "required" must be an array of property names/);
    expect(checkSchemaDraft('{"type":"object","properties":{"a":{"$ref":"#/$defs/missing"}}}', 'x').problems[0]).toMatch(/"\$ref" at #\/properties\/a\/\$ref points/);
  });
  it('not an object, empty, bad name, too deep, too large', () => {
    expect(checkSchemaDraft('[]', 'x').problems[0]).toMatch(/must be a JSON object/);
    expect(checkSchemaDraft('  ', 'x').problems[0]).toMatch(/Enter a JSON Schema/);
    expect(checkSchemaDraft('{"type":"object"}', 'has space').problems).toEqual(['The schema name must be 1–64 letters, digits, underscores or dashes.']);
    let deep: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 14; i++) deep = { type: 'object', properties: { a: deep } };
    expect(checkSchemaDraft(JSON.stringify(deep), 'x').problems.join(' ')).toMatch(/too deep/);
    const big = { type: 'object', properties: Object.fromEntries(Array.from({ length: 800 }, (_, i) => [`field_${i}`, { type: 'string' }])) };
    expect(checkSchemaDraft(JSON.stringify(big), 'x').problems[0]).toMatch(/too large/);
  });
  it('the draft store keeps what was typed and falls back on garbage', () => {
    const d = { text: '{ not json', name: 'x', pending: true, applied: null, placed: null, kept: [{ text: '{"type":"object"}', name: 'mine', at: 5 }] };
    expect(parseSchemaDraft(JSON.stringify(d))).toEqual(d);
    // A draft stored before drafts were kept reads with nothing kept and nothing placed.
    expect(parseSchemaDraft(JSON.stringify({ text: '{ not json', name: 'x', pending: true, applied: null }))).toEqual({ ...d, kept: [] });
    expect(parseSchemaDraft('{')).toEqual(EMPTY_DRAFT);
    expect(parseSchemaDraft(JSON.stringify({ text: 1 }))).toEqual(EMPTY_DRAFT);
  });
});

describe('field-level accuracy', () => {
  const fields = [
    { path: '/name', match: 'normalized' as const },
    { path: '/age', match: 'numeric' as const },
    { path: '/tags/0', match: 'exact' as const },
  ];
  const expected = '{"name": "Eve Smith", "age": 33, "tags": ["a"]}';
  it('each field on its own: the score is the share right', () => {
    expect(scoreJsonFields(fields, expected, '{"name":"eve smith.","age":33.0,"tags":["a"]}')).toEqual({ pass: true, score: 1, detail: '3/3 fields right' });
    const r = scoreJsonFields(fields, expected, '{"name":"Eve","age":"33","tags":["b"]}');
    expect(r.pass).toBe(false);
    expect(r.score).toBeCloseTo(1 / 3);
    expect(r.detail).toBe('1/3 fields right: /name: expected "eve smith", got "eve" (normalized); /tags/0: expected "a", got "b"');
    expect(scoreJsonFields(fields, expected, 'not json')).toMatchObject({ pass: false, score: 0 });
  });
  it('numeric tolerance, exact objects, a missing field', () => {
    expect(fieldProblem({ path: '/x', match: 'numeric', tolerance: 0.5 }, 10, { found: true, value: 10.4 })).toBeNull();
    expect(fieldProblem({ path: '/x', match: 'numeric', tolerance: 0.5 }, 10, { found: true, value: 10.6 })).toBe('/x: expected 10 ± 0.5, got 10.6');
    expect(fieldProblem({ path: '/x', match: 'exact' }, { b: 1, a: [2] }, { found: true, value: { a: [2], b: 1 } })).toBeNull();
    expect(fieldProblem({ path: '/x', match: 'exact' }, 1, { found: false, value: undefined })).toBe('/x: missing');
    expect(readPointer({ 'a/b': { '~': [5] } }, '/a~1b/~0/0')).toEqual({ found: true, value: 5 });
    expect(readPointer([1], '/1').found).toBe(false);
  });
});

const base: Omit<Suite, 'cases'> = { format: 'slm-playground-suite', version: 1, id: 's', name: 's' };

describe('a suite case with a response schema', () => {
  it('parses, and scores through scoreOutput', async () => {
    const s = parseSuite({
      ...base,
      cases: [{ id: 'a', category: 'json', messages: [{ role: 'user', content: 'x' }], expected: '{"name":"Eve","age":33}', scorer: { type: 'json-fields', fields: [{ path: '/age', match: 'numeric' }] }, schema: PERSON }],
    });
    expect(s.cases[0]!.schema).toEqual(PERSON);
    expect(await scoreOutput(s.cases[0]!, '{"name":"Al","age":33}', sandbox)).toMatchObject({ pass: true, score: 1 });
  });
  it('refuses an unconstrainable schema, a field not in expected, a non-numeric numeric field', () => {
    const bad = (c: Record<string, unknown>) => () => parseSuite({ ...base, cases: [{ id: 'a', category: 'json', messages: [{ role: 'user', content: 'x' }], ...c }] });
    expect(bad({ expected: '1', scorer: { type: 'exact' }, schema: { type: 'object', if: {} } })).toThrow(/cases\[0\]\.schema: "if" at #\/if is not supported/);
    expect(bad({ expected: '{"a":1}', scorer: { type: 'json-fields', fields: [{ path: '/b', match: 'exact' }] } })).toThrow(/cases\[0\]\.scorer\.fields\[0\]\.path: "\/b" is not in the expected JSON/);
    expect(bad({ expected: '{"a":"x"}', scorer: { type: 'json-fields', fields: [{ path: '/a', match: 'numeric' }] } })).toThrow(/numeric needs a number at "\/a"/);
    expect(bad({ scorer: { type: 'json-fields', fields: [{ path: '/a', match: 'exact' }] } })).toThrow(/the json-fields scorer needs an expected answer/);
    expect(bad({ expected: '{"a":1}', scorer: { type: 'json-fields', fields: [{ path: 'a', match: 'exact' }] } })).toThrow(/JSON Pointer/);
  });
});

const SUITE: Suite = {
  ...base,
  cases: [
    { id: 'p1', category: 'json', messages: [{ role: 'user', content: 'Eve 33' }], expected: '{"name":"Eve","age":33}', scorer: { type: 'json-fields', fields: [{ path: '/name', match: 'exact' }, { path: '/age', match: 'numeric' }] }, schema: PERSON },
    { id: 'p2', category: 'json', messages: [{ role: 'user', content: 'Al 40' }], expected: '{"name":"Al","age":40}', scorer: { type: 'json-fields', fields: [{ path: '/name', match: 'exact' }, { path: '/age', match: 'numeric' }] }, schema: PERSON },
    { id: 't', category: 'text', messages: [{ role: 'user', content: 'hi' }], expected: 'hi', scorer: { type: 'exact' } },
  ],
};

/** Answers by prompt, and records the output format each request asked for. */
class Scripted implements ChatEngine {
  readonly label = 'scripted';
  formats: unknown[] = [];
  constructor(
    readonly kind: 'local' | 'hosted',
    private readonly answers: Record<string, { free: string; constrained: string; finish?: 'stop' | 'length' }>,
    private readonly refuse = false,
  ) {}
  async generate(req: GenerateRequest): Promise<RunResult> {
    const prompt = req.messages.at(-1)?.content ?? '';
    this.formats.push(req.params.responseFormat ?? null);
    const a = this.answers[prompt] ?? { free: 'hi', constrained: 'hi' };
    const constrained = req.params.responseFormat !== undefined && !this.refuse;
    const text = constrained ? a.constrained : a.free;
    const t = performance.now();
    return {
      text,
      finishReason: a.finish ?? 'stop',
      metrics: computeRunMetrics({
        context: { engine: this.kind, model: 'm', device: 'test', dtype: null, threads: null, crossOriginIsolated: null },
        clock: { requestStart: t, firstChunkAt: t + 1, lastChunkAt: t + 2, end: t + 3 },
        engineClock: null,
        inputTokens: 3,
        outputTokens: 2,
        tokenCountSource: 'estimated',
      }),
      ...(this.refuse && req.params.responseFormat ? { formatFallback: 'this endpoint does not support JSON Schema output; the answer was requested as plain text' } : {}),
    };
  }
}

describe('the runner with constrained columns', () => {
  const col = (id: string, kind: 'local' | 'hosted', constrained: boolean): EngineColumn => ({ id, kind, label: id, model: 'm', constrained });

  it('sends a case schema only on a constrained column, and never the Generation tab format', () => {
    const params = { ...DEFAULT_GENERATION, responseFormat: { type: 'json_object' as const } };
    expect(cellParams(SUITE.cases[0]!, col('a', 'local', true), params).responseFormat).toEqual({ type: 'json_schema', name: 'response', schema: PERSON });
    expect(cellParams(SUITE.cases[0]!, col('a', 'local', false), params).responseFormat).toBeUndefined();
    expect(cellParams(SUITE.cases[2]!, col('a', 'local', true), params).responseFormat).toBeUndefined();
  });

  it('records structure per cell and totals validity and field accuracy per column, with and without the constraint', async () => {
    const answers = {
      'Eve 33': { free: 'Sure! {"name": "Eve", "age": 33}', constrained: '{"name": "Eve", "age": 33}' },
      'Al 40': { free: '{"name": "Al", "age":', constrained: '{"name": "Al", "age": 41}', finish: 'length' as const },
    };
    const local = new Scripted('local', answers);
    const hosted = new Scripted('hosted', answers, true);
    const engines = [
      { column: col('local', 'local', false), engine: local },
      { column: col('local+schema', 'local', true), engine: local },
      { column: col('hosted+schema', 'hosted', true), engine: hosted },
    ];
    const rec: RunRecord = { format: 'slm-playground-results', version: 2, id: 'r', name: 'r', createdAt: 0, updatedAt: 0, status: 'running', suite: SUITE, engines: engines.map((e) => e.column), params: DEFAULT_GENERATION, prices: {}, loads: [], cells: [] };
    await runSuite({ record: rec, engines, sandbox, signal: new AbortController().signal, onCell: (c) => void rec.cells.push(c) });
    const again = parseRunRecord(JSON.parse(JSON.stringify(rec)));
    const t = buildResultsTable(again);
    const [free, constrained, refused] = t.totals;
    expect(free!.structure).toEqual({ cases: 2, valid: 0, matches: 0, incomplete: 1, validRate: 0, matchRate: 0 });
    expect(constrained!.structure).toEqual({ cases: 2, valid: 2, matches: 2, incomplete: 0, validRate: 1, matchRate: 1 });
    expect(constrained!.fieldAccuracy).toBeCloseTo(0.75);
    expect(free!.fieldAccuracy).toBe(0);
    expect(refused!.refused).toBe(2);
    expect(again.cells.find((c) => c.engineId === 'hosted+schema' && c.caseId === 'p1')?.constraintRefused).toMatch(/does not support JSON Schema output/);
    expect(local.formats.filter((f) => f !== null)).toHaveLength(2); // only the constrained column's two schema cases
    expect(again.cells.find((c) => c.caseId === 't')?.structure).toBeUndefined();
  });

  it('structure verdicts through the sandbox: match, mismatch with path, incomplete', async () => {
    expect(await structureOf(PERSON, '{"name":"a","age":1}', 'stop', sandbox)).toEqual({ valid: true, incomplete: false, matches: true, detail: '' });
    expect((await structureOf(PERSON, '{"name":"a","age":-1}', 'stop', sandbox)).detail).toMatch(/^\/age: /);
    expect(await structureOf(PERSON, '{"name":', 'length', sandbox)).toMatchObject({ valid: false, incomplete: true, matches: null });
  });
});

describe('format migrations', () => {
  const v1 = {
    format: 'slm-playground-results',
    version: 1,
    id: 'r',
    name: 'r',
    createdAt: 0,
    updatedAt: 0,
    status: 'done',
    suite: { ...base, cases: [SUITE.cases[2]] },
    engines: [{ id: 'local', kind: 'local', label: 'l', model: 'm' }],
    params: DEFAULT_GENERATION,
    prices: {},
    loads: [],
    cells: [],
  };
  it('a version 1 results file opens as version 2; one claiming 1 with version 2 fields is refused', () => {
    expect(parseRunRecord(v1).version).toBe(2);
    expect(() => parseRunRecord({ ...v1, engines: [{ ...v1.engines[0], constrained: true }] })).toThrow(/version/);
  });
  it('a share link of format 1–3 with an output format is refused; format 4 checks the schema', () => {
    const link = { v: 3, local: { source: { type: 'bundled', modelId: 'slm-pocket' }, dtype: 'fp32', device: 'wasm', threads: 1, warmup: false }, hosted: null, generation: DEFAULT_GENERATION, systemPrompt: '', prompt: 'p', snapshot: null, suite: null, suiteSnapshot: null, session: null };
    expect(migrate(link).generation.responseFormat).toBeUndefined();
    expect(() => migrate({ ...link, generation: { ...DEFAULT_GENERATION, responseFormat: { type: 'json_object' } } })).toThrow(/generation\.responseFormat: share formats 1–3 have no output format/);
    expect(migrate({ ...link, v: 4, generation: { ...DEFAULT_GENERATION, responseFormat: asSchema } }).generation.responseFormat).toEqual(asSchema);
    expect(() => migrate({ ...link, v: 4, generation: { ...DEFAULT_GENERATION, responseFormat: { ...asSchema, schema: { type: 'object', not: {} } } } })).toThrow(/"not" at #\/not is not supported/);
  });
});

describe('the schema draft when a schema from elsewhere arrives (share link, another tab, an example)', () => {
  const person = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] };
  const shared = { name: 'person', schema: person };
  const key = JSON.stringify({ type: 'json_schema', ...shared });
  const typed = (text: string, name = 'mine'): SchemaDraft => ({ ...EMPTY_DRAFT, text, name, applied: null });

  it("a shared schema replaces the editor's text and keeps the user's own draft, valid or not", () => {
    const mine = typed('{ "type": "object", "properties": { "age": { "type": "integr" } } }');
    const d = adoptFormat(mine, shared, key, 1000);
    expect(JSON.parse(d.text)).toEqual(person);
    expect([d.name, d.applied, d.pending]).toEqual(['person', key, false]);
    expect(d.kept).toEqual([{ text: mine.text, name: 'mine', at: 1000 }]);
    expect(isOwnDraft(d)).toBe(false);
    // Restoring brings the user's text back; the shared schema (recoverable from the link) is not kept.
    const back = restoreKept(d, 0, 2000);
    expect([back.text, back.name, back.kept]).toEqual([mine.text, 'mine', []]);
    expect(isOwnDraft(back)).toBe(true);
  });

  it('keeps nothing when there is nothing of the user\'s: empty, an example, or the same schema', () => {
    expect(adoptFormat(EMPTY_DRAFT, shared, key, 1).kept).toEqual([]);
    const example = placeDraft(EMPTY_DRAFT, '{"type":"object"}', 'example', 1);
    expect(isOwnDraft(example)).toBe(false);
    expect(adoptFormat(example, shared, key, 2).kept).toEqual([]);
    const same = typed(JSON.stringify(person, null, 2), 'person');
    expect(adoptFormat(same, shared, key, 3).kept).toEqual([]);
    // Renaming a placed schema makes it the user's own.
    expect(isOwnDraft({ ...example, name: 'renamed' })).toBe(true);
  });

  it('a draft that already makes the incoming schema stays as typed; a kept draft that makes it goes ("Back to my own setup")', () => {
    const mineText = '{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}';
    const typedSame = typed(mineText, 'person');
    const same = adoptFormat(typedSame, shared, key, 1);
    expect([same.text, same.kept, same.applied]).toEqual([mineText, [], key]);
    // The user's own schema "mine" is kept when a link replaces it, and dropped when it comes back as the active format.
    const own = { name: 'mine', schema: { type: 'string' } };
    const ownKey = JSON.stringify({ type: 'json_schema', ...own });
    const linked = adoptFormat(typed('{ "type": "string" }', 'mine'), shared, key, 2);
    expect(linked.kept.map((k) => k.name)).toEqual(['mine']);
    const back = adoptFormat(linked, own, ownKey, 3);
    expect([back.text, back.name, back.kept, back.applied]).toEqual(['{ "type": "string" }', 'mine', [], ownKey]);
    expect(isOwnDraft(back)).toBe(true);
  });

  it("a second link replacing the first link's schema keeps the user's draft once, and an edit of the shared schema too", () => {
    const first = adoptFormat(typed('{"type":"string"}'), shared, key, 1);
    const other = { name: 'other', schema: { type: 'array' } };
    const second = adoptFormat(first, other, JSON.stringify({ type: 'json_schema', ...other }), 2);
    expect(second.kept.map((k) => k.text)).toEqual(['{"type":"string"}']);
    const edited = { ...second, text: '{"type":"array","maxItems":3}' };
    const third = adoptFormat(edited, shared, key, 3);
    expect(third.kept.map((k) => k.text)).toEqual(['{"type":"array","maxItems":3}', '{"type":"string"}']);
  });

  it("an example button keeps the user's draft the same way, and restoring swaps an own text back into the kept list", () => {
    const d = placeDraft(typed('{"type":"number"}'), '{"type":"object"}', 'example', 1);
    expect(d.kept.map((k) => k.text)).toEqual(['{"type":"number"}']);
    const editedExample = { ...d, text: '{"type":"object","required":["a"]}' };
    const swapped = restoreKept(editedExample, 0, 2);
    expect(swapped.text).toBe('{"type":"number"}');
    expect(swapped.kept.map((k) => k.text)).toEqual(['{"type":"object","required":["a"]}']);
    expect(discardKept(swapped, 0).kept).toEqual([]);
    expect(restoreKept(swapped, 7, 3)).toBe(swapped);
  });

  it(`holds at most ${MAX_KEPT} drafts, newest first, no duplicates`, () => {
    let d = typed('{"minimum":0}');
    for (let i = 1; i <= MAX_KEPT + 2; i++) d = placeDraft({ ...d, text: `{"minimum":${i}}`, name: 'mine' }, '{}', 'x', i);
    expect(d.kept.length).toBe(MAX_KEPT);
    expect(d.kept[0]?.text).toBe(`{"minimum":${MAX_KEPT + 2}}`);
    const again = placeDraft({ ...d, text: d.kept[2]!.text, name: 'mine' }, '{}', 'x', 99);
    expect(again.kept.length).toBe(MAX_KEPT);
    expect(again.kept[0]?.at).toBe(99);
    expect(new Set(again.kept.map((k) => k.text)).size).toBe(MAX_KEPT);
    expect(parseSchemaDraft(JSON.stringify(again))).toEqual(again);
  });
});
