import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importCsv, importJsonl, importSuiteFile, importSuiteJson, SuiteImportError } from '../../src/eval/import';
import { parseSuite, SuiteError, type Suite } from '../../src/eval/suite';

const HELDOUT = readFileSync(new URL('../../tools/slm/data/heldout.jsonl', import.meta.url), 'utf8').split('\n');
const heldoutLine = (id: string) => {
  const l = HELDOUT.find((x) => x.includes(`"id": "${id}"`));
  if (!l) throw new Error(`heldout line ${id} not found`);
  return l;
};

/** The SuiteImportError thrown by `run`, or a test failure. */
function importError(run: () => unknown): SuiteImportError {
  try {
    run();
  } catch (e) {
    if (e instanceof SuiteImportError) return e;
    throw e;
  }
  throw new Error('expected a SuiteImportError');
}

const jsonl = (...lines: string[]) => lines.join('\n');

describe('JSONL import', () => {
  it('reads prompt and messages forms, with defaults for id, category and scorer', () => {
    const s = importSuiteFile(
      'evals/My Suite.jsonl',
      jsonl(
        '{"prompt": "What is 2+2?", "expected": 4}',
        '',
        '   ',
        '{"id": "cap", "category": "geo", "system": "Be brief.", "prompt": "Capital of France?", "expected": "Paris", "scorer": "contains"}',
        '{"id": "m", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}, {"role": "user", "content": "bye"}], "scorer": "regex", "pattern": "^bye", "flags": "i"}',
        '{"id": "n", "prompt": "pi?", "expected": "3.14", "scorer": "numeric", "tolerance": "0.01"}',
        '{"id": "j", "prompt": "judge me", "scorer": {"type": "judge", "rubric": "Is it kind?"}}',
      ),
    );
    expect(s).toMatchObject({ format: 'slm-playground-suite', version: 1, id: 'my-suite', name: 'My Suite', source: 'evals/My Suite.jsonl' });
    expect(s.cases).toEqual([
      { id: 'case-1', category: 'general', messages: [{ role: 'user', content: 'What is 2+2?' }], expected: '4', scorer: { type: 'exact' } },
      {
        id: 'cap',
        category: 'geo',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Capital of France?' },
        ],
        expected: 'Paris',
        scorer: { type: 'contains' },
      },
      {
        id: 'm',
        category: 'general',
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: 'hello' },
          { role: 'user', content: 'bye' },
        ],
        scorer: { type: 'regex', pattern: '^bye', flags: 'i' },
      },
      { id: 'n', category: 'general', messages: [{ role: 'user', content: 'pi?' }], expected: '3.14', scorer: { type: 'numeric', tolerance: 0.01 } },
      { id: 'j', category: 'general', messages: [{ role: 'user', content: 'judge me' }], scorer: { type: 'judge', rubric: 'Is it kind?' } },
    ]);
  });

  it('imports the held-out format of tools/slm/data/heldout.jsonl (family → category, answer → expected)', () => {
    const lines = ['add2-000', 'capital-000', 'json-030', 'multiturn-041'].map(heldoutLine);
    const s = importSuiteFile('heldout.jsonl', lines.join('\n') + '\n');
    expect(s.id).toBe('heldout');
    expect(s.cases.map((c) => [c.id, c.category, c.expected, c.scorer.type])).toEqual([
      ['add2-000', 'add2', '77', 'exact'],
      ['capital-000', 'capital', 'New Delhi', 'contains'],
      ['json-030', 'json', '{"name": "Alex", "age": 63}', 'json'],
      ['multiturn-041', 'multiturn', '{"name": "Dora", "age": 71}', 'json'],
    ]);
    expect(s.cases[0]?.messages).toEqual([{ role: 'user', content: 'Compute 67+10.' }]);
    expect(s.cases[3]?.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
  });

  it('imports the whole held-out file', () => {
    const s = importSuiteFile('heldout.jsonl', HELDOUT.join('\n'));
    expect(s.cases).toHaveLength(750);
    expect(new Set(s.cases.map((c) => c.category)).size).toBe(15);
  });

  it('accepts a JSON value as the expected answer of a json scorer', () => {
    const s = importJsonl('{"prompt": "obj", "scorer": "json", "expected": {"a": [1, 2]}}');
    expect(s.cases[0]?.expected).toBe('{"a":[1,2]}');
  });
});

describe('JSONL errors name the line and field', () => {
  const ok = '{"prompt": "p", "expected": "e"}';
  it('bad JSON on line 3', () => {
    const e = importError(() => importSuiteFile('s.jsonl', jsonl(ok, ok, '{"prompt": "p",', ok)));
    expect([e.line, e.field]).toEqual([3, null]);
    expect(e.message).toMatch(/^Line 3: not valid JSON/);
  });
  it('a line that is not an object', () => {
    const e = importError(() => importJsonl(jsonl(ok, '[1, 2]')));
    expect(e.message).toBe('Line 2: expected a JSON object, got an array');
  });
  it('missing prompt', () => {
    const e = importError(() => importJsonl(jsonl(ok, '{"expected": "x"}')));
    expect([e.line, e.field]).toEqual([2, 'prompt']);
    expect(e.message).toBe('Line 2, field "prompt": each case needs a "prompt" (or "messages")');
  });
  it('both prompt and messages', () => {
    const e = importError(() => importJsonl('{"prompt": "p", "messages": [{"role": "user", "content": "x"}], "expected": "e"}'));
    expect([e.line, e.field]).toEqual([1, 'messages']);
    expect(e.message).toMatch(/either "prompt" or "messages", not both/);
  });
  it('unknown scorer', () => {
    const e = importError(() => importJsonl(jsonl(ok, ok, ok, '{"prompt": "p", "expected": "e", "scorer": "fuzzy"}')));
    expect([e.line, e.field]).toEqual([4, 'scorer']);
    expect(e.message).toMatch(/^Line 4, field "scorer": unknown scorer "fuzzy" \(known: exact, normalized, contains, regex, numeric, json, json-schema, json-fields, judge, agreement\)/);
  });
  it('unknown scorer type inside a scorer object', () => {
    const e = importError(() => importJsonl('{"prompt": "p", "expected": "e", "scorer": {"type": "fuzzy"}}'));
    expect([e.line, e.field]).toEqual([1, 'scorer.type']);
    expect(e.message).toMatch(/unknown scorer type/);
  });
  it('bad regex, as a parameter and inside a scorer object', () => {
    const e = importError(() => importJsonl(jsonl(ok, '{"prompt": "p", "scorer": "regex", "pattern": "(unclosed"}')));
    expect([e.line, e.field]).toEqual([2, 'pattern']);
    expect(e.message).toMatch(/^Line 2, field "pattern": invalid regular expression: .*unclosed/i);
    const e2 = importError(() => importJsonl('{"prompt": "p", "scorer": {"type": "regex", "pattern": "a", "flags": "q"}}'));
    expect([e2.line, e2.field]).toEqual([1, 'scorer.flags']);
  });
  it('bad tolerance', () => {
    const e = importError(() => importJsonl(jsonl(ok, ok, ok, ok, ok, ok, '{"prompt": "p", "expected": "5", "scorer": "numeric", "tolerance": "abc"}')));
    expect(e.message).toBe('Line 7, field "tolerance": expected a number, got "abc"');
    expect([e.line, e.field]).toEqual([7, 'tolerance']);
    const neg = importError(() => importJsonl('{"prompt": "p", "expected": "5", "scorer": "numeric", "tolerance": -1}'));
    expect(neg.field).toBe('tolerance');
  });
  it('bad JSON Schema', () => {
    const e = importError(() => importJsonl(jsonl(ok, '{"prompt": "p", "scorer": "json-schema", "schema": {"type": "strin"}}')));
    expect([e.line, e.field]).toEqual([2, 'schema']);
    expect(e.message).toBe('Line 2, field "schema": invalid JSON Schema at /type: "strin" is not a JSON Schema type (one of null, boolean, object, array, number, string, integer)');
  });
  it('a JSON Schema over its limits names the limit, with line and field', () => {
    let deep: unknown = { type: 'string' };
    for (let i = 0; i < 40; i++) deep = { type: 'array', items: deep };
    const e = importError(() => importJsonl(jsonl(ok, ok, JSON.stringify({ prompt: 'p', scorer: 'json-schema', schema: deep }))));
    expect(e.message).toBe('Line 3, field "schema": schema is nested too deeply: more than 32 levels (the limit is 32)');
    const csv = importError(() => importCsv(`prompt,scorer,schema\np,json-schema,"${JSON.stringify({ enum: Array.from({ length: 6000 }, () => 1) }).replace(/"/g, '""')}"\n`));
    expect([csv.line, csv.field]).toEqual([2, 'schema']);
    expect(csv.message).toMatch(/schema is too large: more than 5,000 values \(the limit is 5,000\)/);
    const whole = importError(() => importSuiteJson(JSON.stringify({ format: 'slm-playground-suite', version: 1, id: 's', name: 'S', cases: [{ id: 'a', category: 'c', messages: [{ role: 'user', content: 'q' }], scorer: { type: 'json-schema', schema: { $ref: 'http://evil.example/x.json' } } }] })));
    expect(whole.field).toBe('cases[0].scorer.schema');
    expect(whole.message).toMatch(/points outside the schema/);
  });
  it('a numeric answer that is not a number', () => {
    const e = importError(() => importJsonl('{"prompt": "p", "answer": "seven", "scorer": "numeric"}'));
    expect([e.line, e.field]).toEqual([1, 'answer']);
  });
  it('duplicate id names the later line and the first', () => {
    const e = importError(() => importJsonl(jsonl('{"id": "a", "prompt": "p", "expected": "e"}', '', '{"id": "a", "prompt": "q", "expected": "e"}')));
    expect(e.message).toBe('Line 3, field "id": duplicate id "a" (first used on line 1)');
  });
  it('unknown or misplaced fields', () => {
    expect(importError(() => importJsonl('{"prompt": "p", "expeted": "e", "scorer": "json"}')).field).toBe('expeted');
    expect(importError(() => importJsonl('{"prompt": "p", "expected": "e", "pattern": "x"}')).message).toMatch(/field "pattern": "pattern" is only used by the regex scorer/);
    expect(importError(() => importJsonl('{"prompt": "p", "scorer": "exact"}')).message).toMatch(/the exact scorer needs an expected answer/);
  });
  it('collects up to 20 problems, the first in the message', () => {
    const lines = Array.from({ length: 60 }, (_, i) => (i % 2 ? ok : '{"expected": "x"}'));
    const e = importError(() => importJsonl(jsonl(...lines)));
    expect(e.issues).toHaveLength(20);
    expect(e.issues.map((i) => i.line).slice(0, 3)).toEqual([1, 3, 5]);
    expect(e.message).toMatch(/^Line 1, field "prompt": .*\(and 19 more problems; stopped after 20\)$/);
  });
  it('empty file, too many cases, too large', () => {
    expect(importError(() => importSuiteFile('s.jsonl', '\n  \n')).message).toMatch(/empty/);
    expect(importError(() => importJsonl('')).message).toMatch(/empty/);
    const many = Array.from({ length: 5001 }, (_, i) => `{"id": "c${i}", "prompt": "p", "expected": "e"}`).join('\n');
    expect(importError(() => importJsonl(many)).message).toBe('Too many cases: this file has 5,001; the limit is 5,000.');
    const big = `{"prompt": "${'x'.repeat(5 * 1024 * 1024)}", "expected": "e"}`;
    expect(importError(() => importSuiteFile('s.jsonl', big)).message).toMatch(/too large \(5\.0 MB; the limit is 5 MB\)/);
    // UTF-8 bytes count, not characters: 2M three-byte characters are 6 MB.
    expect(importError(() => importJsonl('€'.repeat(2_000_000))).message).toMatch(/too large/);
  });
});

describe('CSV import', () => {
  it('reads quoted fields with commas, quotes and newlines', () => {
    const csv = [
      'id,category,prompt,system,expected,scorer,tolerance',
      'a,math,"Add 1,000 and 234","Be brief, please.","1,234",numeric,0',
      'b,text,"Line one',
      'line two, with ""quotes""",,two,contains,',
      '',
      ',,Say hi,,hi,,',
    ].join('\r\n');
    const s = importSuiteFile('cases.csv', csv);
    expect(s.cases).toEqual([
      {
        id: 'a',
        category: 'math',
        messages: [
          { role: 'system', content: 'Be brief, please.' },
          { role: 'user', content: 'Add 1,000 and 234' },
        ],
        expected: '1,234',
        scorer: { type: 'numeric', tolerance: 0 },
      },
      { id: 'b', category: 'text', messages: [{ role: 'user', content: 'Line one\r\nline two, with "quotes"' }], expected: 'two', scorer: { type: 'contains' } },
      { id: 'case-6', category: 'general', messages: [{ role: 'user', content: 'Say hi' }], expected: 'hi', scorer: { type: 'exact' } },
    ]);
  });
  it('reads a JSON Schema column and a regex', () => {
    const csv = 'prompt,scorer,schema,pattern\n"Give JSON",json-schema,"{""type"": ""object""}",\nSay yes,regex,,"^yes\\b"\n';
    const s = importCsv(csv);
    expect(s.cases.map((c) => c.scorer)).toEqual([
      { type: 'json-schema', schema: { type: 'object' } },
      { type: 'regex', pattern: '^yes\\b' },
    ]);
  });
  it('reports the line a record starts on', () => {
    const csv = ['prompt,expected,scorer,tolerance', '"multi', 'line",1,numeric,0', 'q,2,numeric,abc'].join('\n');
    const e = importError(() => importSuiteFile('x.csv', csv));
    expect(e.message).toBe('Line 4, field "tolerance": expected a number, got "abc"');
  });
  it('reports header problems, field-count mismatches and unclosed quotes', () => {
    expect(importError(() => importCsv('prompt,answr\np,e\n')).message).toMatch(/^Line 1, field "answr": unknown column/);
    expect(importError(() => importCsv('id,expected\na,e\n')).message).toMatch(/^Line 1, field "prompt": the header needs a "prompt"/);
    expect(importError(() => importCsv('hello,world\nfoo,bar\n')).message).toMatch(/^Line 1: The first row must be a header/);
    expect(importError(() => importCsv('prompt,expected\np,e\nAdd 1,000,x\n')).message).toBe(
      'Line 3: this row has 3 fields but the header has 2 (a comma inside a field needs "quotes")',
    );
    expect(importError(() => importCsv('prompt,expected\np,e\n"open,x\n')).line).toBe(3);
    expect(importError(() => importCsv('prompt,expected\n')).message).toMatch(/no cases/);
  });
});

describe('suite JSON', () => {
  const suite: Suite = {
    format: 'slm-playground-suite',
    version: 1,
    id: 's1',
    name: 'Suite one',
    description: 'Two cases',
    cases: [
      { id: 'a', category: 'math', messages: [{ role: 'user', content: '2+2?' }], expected: '4', scorer: { type: 'numeric', tolerance: 0 } },
      { id: 'b', category: 'fmt', messages: [{ role: 'user', content: 'JSON' }], scorer: { type: 'json-schema', schema: { type: 'object' } } },
    ],
  };
  it('imports a whole suite file unchanged', () => {
    expect(importSuiteFile('suite.json', JSON.stringify(suite, null, 2))).toEqual(suite);
    expect(importSuiteFile('no-extension', JSON.stringify(suite))).toEqual(suite);
  });
  it('reports paths for a bad suite and lines for broken JSON', () => {
    const bad = structuredClone(suite) as unknown as { cases: { scorer: unknown }[] };
    (bad.cases[1] as { scorer: unknown }).scorer = { type: 'regex', pattern: '[' };
    const e = importError(() => importSuiteFile('suite.json', JSON.stringify(bad)));
    expect([e.line, e.field]).toEqual([null, 'cases[1].scorer.pattern']);
    expect(e.message).toMatch(/^Field "cases\[1\]\.scorer\.pattern": invalid regular expression/);
    const broken = importError(() => importSuiteJson('{\n"format": "slm-playground-suite",\n}'));
    expect(broken.line).toBe(3);
  });
  it('parseSuite names the path and enforces ids, expected answers and the last user message', () => {
    const withDup = { ...suite, cases: [suite.cases[0], suite.cases[0]] };
    expect(() => parseSuite(withDup)).toThrow(/^cases\[1\]\.id: duplicate case id "a" \(also cases\[0\]\)$/);
    const noExpected = { ...suite, cases: [{ id: 'x', category: 'c', messages: [{ role: 'user', content: 'q' }], scorer: { type: 'exact' } }] };
    expect(() => parseSuite(noExpected)).toThrow('cases[0].expected: the exact scorer needs an expected answer');
    const lastAssistant = { ...suite, cases: [{ ...suite.cases[0], messages: [{ role: 'assistant', content: 'q' }] }] };
    expect(() => parseSuite(lastAssistant)).toThrow('cases[0].messages: the last message must be from the user');
    expect(() => parseSuite({ ...suite, cases: [{ ...suite.cases[0], extra: 1 }] })).toThrow('cases[0].extra: unknown field');
    expect(() => parseSuite({ ...suite, format: 'other' })).toThrow(SuiteError);
    expect(() => parseSuite({ ...suite, version: 2 })).toThrow(/newer SLM Playground/);
    // json without expected is fine
    expect(parseSuite({ ...suite, cases: [{ id: 'j', category: 'c', messages: [{ role: 'user', content: 'q' }], scorer: { type: 'json' } }] }).cases).toHaveLength(1);
  });
});

describe('response schema (the case\'s "schema": the output constraint)', () => {
  const person = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } }, required: ['name', 'age'], additionalProperties: false };
  const expected = { name: 'Ann', age: 31 };

  it('JSONL: an object in "response_schema" becomes the case\'s schema, beside any scorer', () => {
    const s = importJsonl(
      jsonl(
        JSON.stringify({ id: 'p1', prompt: 'Ann is 31.', expected, scorer: { type: 'json-fields', fields: [{ path: '/name', match: 'exact' }, { path: '/age', match: 'numeric' }] }, response_schema: person }),
        JSON.stringify({ id: 'p2', prompt: 'Bob is 40.', scorer: 'json', response_schema: JSON.stringify(person) }),
        JSON.stringify({ id: 'p3', prompt: 'Say hi.', expected: 'hi' }),
      ),
    );
    expect(s.cases.map((c) => c.schema)).toEqual([person, person, undefined]);
    expect(s.cases[0]?.scorer.type).toBe('json-fields');
    expect(s.cases[0]?.expected).toBe(JSON.stringify(expected));
    // The same suite as a whole-suite JSON file says: a round trip through parseSuite keeps it.
    expect(parseSuite(JSON.parse(JSON.stringify(s))).cases[1]?.schema).toEqual(person);
  });

  it('CSV: the "response_schema" column holds the schema as JSON text, with the json-schema scorer\'s own "schema" beside it', () => {
    const q = (v: unknown) => `"${JSON.stringify(v).replace(/"/g, '""')}"`;
    const csv = [
      'id,prompt,expected,scorer,schema,response_schema',
      `a,Ann is 31.,${q(expected)},json,,${q(person)}`,
      `b,Give an object.,,json-schema,${q({ type: 'object', not: { required: ['x'] } })},${q({ type: 'object' })}`,
      'c,Say hi.,hi,exact,,',
    ].join('\n');
    const s = importSuiteFile('people.csv', csv);
    expect(s.cases.map((c) => c.schema)).toEqual([person, { type: 'object' }, undefined]);
    // "not" is fine for the scorer (it validates), while the constraint refuses it (next test).
    expect(s.cases[1]?.scorer).toEqual({ type: 'json-schema', schema: { type: 'object', not: { required: ['x'] } } });
  });

  it('bad JSON in a CSV cell: the row\'s line and the field', () => {
    const csv = ['prompt,scorer,response_schema', 'ok,json,"{""type"": ""object""}"', '"two', 'lines",json,"{""type"": ""object"""'].join('\n');
    const e = importError(() => importCsv(csv));
    expect([e.line, e.field]).toEqual([3, 'response_schema']);
    expect(e.message).toMatch(/^Line 3, field "response_schema": not valid JSON \(/);
  });

  it('not an object: named with what it is', () => {
    const arr = importError(() => importJsonl(jsonl('{"prompt": "p"}', '{"prompt": "p2", "response_schema": [1, 2]}')));
    expect(arr.message).toBe('Line 2, field "response_schema": expected a JSON Schema object, got an array');
    const str = importError(() => importCsv('prompt,response_schema\np,"""object"""\n'));
    expect(str.message).toBe('Line 2, field "response_schema": expected a JSON Schema object, got "object"');
  });

  it('an invalid schema or one the constraint cannot use: the same gate as the suite JSON, named as the file names it', () => {
    const typo = importError(() => importJsonl(jsonl('{"prompt": "p"}', '{"prompt": "p2"}', '{"prompt": "p3", "response_schema": {"type": "strin"}}')));
    expect([typo.line, typo.field]).toEqual([3, 'response_schema']);
    expect(typo.message).toMatch(/^Line 3, field "response_schema": .*strin/);
    const unsupported = importError(() => importCsv('prompt,response_schema\np,"{""type"": ""object"", ""not"": {""required"": [""x""]}}"\n'));
    expect([unsupported.line, unsupported.field]).toEqual([2, 'response_schema']);
    expect(unsupported.message).toMatch(/"not"/);
    // The whole-suite JSON path refuses the same schema, naming its path.
    const whole = importError(() =>
      importSuiteJson(JSON.stringify({ format: 'slm-playground-suite', version: 1, id: 's', name: 'S', cases: [{ id: 'a', category: 'c', messages: [{ role: 'user', content: 'q' }], schema: { type: 'object', not: { required: ['x'] } } }] })),
    );
    expect(whole.field).toBe('cases[0].schema');
    expect(whole.message.replace('Field "cases[0].schema": ', '')).toBe(unsupported.message.replace('Line 2, field "response_schema": ', ''));
  });

  it('"schema" with another scorer says where the response schema goes', () => {
    const e = importError(() => importJsonl('{"prompt": "p", "expected": "{}", "scorer": "json", "schema": {"type": "object"}}'));
    expect(e.message).toBe('Line 1, field "schema": "schema" is only used by the json-schema scorer (this case uses json); the answer\'s own JSON Schema (the output constraint) goes in "response_schema"');
  });
});
