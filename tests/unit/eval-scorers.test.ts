import { afterAll, describe, expect, it } from 'vitest';
import { buildJudgeMessages, parseJudgeVerdict } from '../../src/eval/judge';
import { firstNumber, jsonDiff, MAX_SCORED_CHARS, normalizeText, scoreOutput } from '../../src/eval/scorers';
import type { ScorerSpec, SuiteCase } from '../../src/eval/suite';
import { createNodeSandbox } from '../../scripts/eval-sandbox/node';

const mk = (scorer: ScorerSpec, expected?: string): SuiteCase => ({
  id: 'c1',
  category: 'test',
  messages: [{ role: 'user', content: 'Q?' }],
  ...(expected !== undefined ? { expected } : {}),
  scorer,
});
const sandbox = createNodeSandbox();
afterAll(() => sandbox.dispose());
const sc = (c: SuiteCase, out: string) => scoreOutput(c, out, sandbox);
const passes = async (c: SuiteCase, out: string) => (await sc(c, out))?.pass;

describe('exact scorer', () => {
  it('compares trimmed output with trimmed expected', async () => {
    const c = mk({ type: 'exact' }, '77');
    expect(await sc(c, '  77\n')).toEqual({ pass: true, score: 1, detail: 'matches "77"' });
    expect(await sc(c, '76')).toEqual({ pass: false, score: 0, detail: 'expected "77", got "76"' });
    expect(await passes(c, '77.')).toBe(false);
    expect(await passes(mk({ type: 'exact' }, 'Paris'), 'paris')).toBe(false);
  });
});

describe('normalized scorer', () => {
  it('ignores case, whitespace runs, surrounding punctuation and a trailing period', async () => {
    const c = mk({ type: 'normalized' }, 'New Delhi');
    expect(await passes(c, 'new   delhi.')).toBe(true);
    expect(await passes(c, '"New\tDelhi!"')).toBe(true);
    expect(await passes(c, '**NEW DELHI**')).toBe(true);
    expect(await passes(c, 'New-Delhi')).toBe(false); // inner punctuation is kept
    expect(await passes(c, 'Delhi')).toBe(false);
  });
  it('applies NFKC and keeps a leading minus before a digit', async () => {
    expect(normalizeText('ＡＢＣ')).toBe('abc');
    expect(normalizeText('  -5. ')).toBe('-5');
    expect(normalizeText('(-5)')).toBe('-5');
    expect(normalizeText('--- ok ---')).toBe('ok');
    expect(await passes(mk({ type: 'normalized' }, '5'), '-5')).toBe(false);
  });
});

describe('contains scorer', () => {
  it('is a case-insensitive substring test', async () => {
    const c = mk({ type: 'contains' }, 'Dublin');
    expect(await sc(c, 'The capital is DUBLIN, of course.')).toEqual({ pass: true, score: 1, detail: 'contains "Dublin"' });
    expect(await sc(c, 'Cork')).toEqual({ pass: false, score: 0, detail: 'does not contain "Dublin"' });
  });
});

describe('regex scorer', () => {
  it('tests the trimmed output, honouring flags', async () => {
    expect(await passes(mk({ type: 'regex', pattern: '^hello' }), '  Hello world')).toBe(false);
    expect(await passes(mk({ type: 'regex', pattern: '^hello', flags: 'i' }), '  Hello world')).toBe(true);
    expect(await passes(mk({ type: 'regex', pattern: '^b$', flags: 'm' }), 'a\nb\nc')).toBe(true);
    expect(await passes(mk({ type: 'regex', pattern: '^b$' }), 'a\nb\nc')).toBe(false);
  });
  it('ignores g/y so repeated scoring is stable', async () => {
    const c = mk({ type: 'regex', pattern: 'a', flags: 'g' });
    expect([await passes(c, 'a'), await passes(c, 'a'), await passes(c, 'a')]).toEqual([true, true, true]);
  });
  it('names the pattern on failure', async () => {
    expect((await sc(mk({ type: 'regex', pattern: '\\d+', flags: 'i' }), 'none'))?.detail).toBe('no match for /\\d+/i in "none"');
  });
});

describe('numeric scorer', () => {
  it('reads the first number, with commas, signs and decimals', async () => {
    expect(firstNumber('The answer is 1,234.')).toBe(1234);
    expect(firstNumber('It is -17 degrees')).toBe(-17);
    expect(firstNumber('about 3.25 or 4')).toBe(3.25);
    expect(firstNumber('1,234,567.5 people')).toBe(1234567.5);
    expect(firstNumber('−42')).toBe(-42); // U+2212
    expect(firstNumber('12,34')).toBe(12); // not a thousands group
    expect(firstNumber('no digits')).toBeNull();
  });
  it('passes within the absolute tolerance, fails outside', async () => {
    const exact = mk({ type: 'numeric', tolerance: 0 }, '77');
    expect(await sc(exact, 'The sum is 77.')).toEqual({ pass: true, score: 1, detail: '77 is within 0 of 77' });
    expect(await sc(exact, '76')).toEqual({ pass: false, score: 0, detail: 'expected 77, got 76' });
    const tol = mk({ type: 'numeric', tolerance: 0.5 }, '-1,000');
    expect(await passes(tol, '-1000.4')).toBe(true);
    expect(await passes(tol, '-1,000.5')).toBe(true);
    expect(await passes(tol, '-1000.6')).toBe(false);
    expect((await sc(tol, 'ninety'))?.detail).toBe('expected -1000 ± 0.5, found no number in "ninety"');
  });
  it('absorbs float rounding at tolerance 0', async () => {
    expect(await passes(mk({ type: 'numeric', tolerance: 0 }, '0.3'), String(0.1 + 0.2))).toBe(true);
  });
});

describe('json scorer', () => {
  it('accepts any JSON without expected, also inside a ```json fence', async () => {
    expect(await passes(mk({ type: 'json' }), '{"a": 1}')).toBe(true);
    expect(await passes(mk({ type: 'json' }), 'Here you go:\n```json\n{"a": 1}\n```\nDone.')).toBe(true);
    expect(await passes(mk({ type: 'json' }), '```\n[1, 2]\n```')).toBe(true);
    expect(await sc(mk({ type: 'json' }), '{a: 1}')).toEqual({ pass: false, score: 0, detail: 'not valid JSON: "{a: 1}"' });
  });
  it('deep-compares with expected, key order irrelevant, array order relevant', async () => {
    const c = mk({ type: 'json' }, '{"name": "Alex", "age": 63}');
    expect(await passes(c, '{"age":63,"name":"Alex"}')).toBe(true);
    expect((await sc(c, '{"name":"Alex","age":"63"}'))?.detail).toBe('JSON differs at .age: expected 63, got "63"');
    expect((await sc(c, '{"name":"Alex"}'))?.detail).toBe('JSON differs at .age: missing');
    expect((await sc(c, '{"name":"Alex","age":63,"x":1}'))?.detail).toBe('JSON differs at .x: unexpected key');
    expect(await passes(mk({ type: 'json' }, '[1,2]'), '[2,1]')).toBe(false);
    expect(jsonDiff({ a: [1, { b: 2 }] }, { a: [1, { b: 3 }] })).toBe('at .a[1].b: expected 2, got 3');
  });
  it('scores the first fence that parses', async () => {
    expect(await passes(mk({ type: 'json' }, '{"ok":true}'), '```json\nnot json\n```\n```json\n{"ok":true}\n```')).toBe(true);
  });
});

describe('json-schema scorer', () => {
  const schema = { type: 'object', required: ['name', 'age'], properties: { name: { type: 'string' }, age: { type: 'integer' } } };
  it('validates parsed JSON against the schema', async () => {
    const c = mk({ type: 'json-schema', schema });
    expect(await sc(c, '```json\n{"name":"A","age":3}\n```')).toEqual({ pass: true, score: 1, detail: 'JSON matches the schema' });
    expect(await sc(c, '{"name":"A","age":3.5}')).toEqual({ pass: false, score: 0, detail: 'JSON does not match the schema: /age: Instance type "number" is invalid. Expected "integer".' });
    expect((await sc(c, 'not json'))?.pass).toBe(false);
  });
});

describe('judge cases and hostile outputs', () => {
  it('returns null for judge cases', async () => {
    expect(await sc(mk({ type: 'judge', rubric: 'Polite?' }), 'hi')).toBeNull();
  });
  it('never throws on huge or hostile outputs', async () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    const cases: SuiteCase[] = [
      mk({ type: 'exact' }, 'x'),
      mk({ type: 'normalized' }, 'x'),
      mk({ type: 'contains' }, 'x'),
      mk({ type: 'regex', pattern: 'x+y' }),
      mk({ type: 'numeric', tolerance: 0 }, '1'),
      mk({ type: 'json' }, '[]'),
      mk({ type: 'json-schema', schema: { type: 'array' } }),
    ];
    const outputs = [deep, '.'.repeat(500_000) + 'x', '```json\n'.repeat(50_000), '9'.repeat(400) + ',000', '\u0000\uD800\uFFFF', 'x'.repeat(MAX_SCORED_CHARS + 1)];
    for (const c of cases) {
      for (const o of outputs) {
        const r = await sc(c, o);
        expect(r).not.toBeNull();
        expect(typeof r?.detail).toBe('string');
        expect(r?.detail.length).toBeLessThan(400);
      }
    }
    expect((await sc(mk({ type: 'exact' }, 'x'), 'x'.repeat(MAX_SCORED_CHARS + 1)))?.detail).toMatch(/too long to score/);
    // Deeply nested JSON compared against a deep expected value overflows the stack: a failed score, not a throw.
    const r = await sc(mk({ type: 'json' }, deep), deep);
    expect(r?.pass === true || /could not be scored/.test(r?.detail ?? '')).toBe(true);
  });
});

describe('judge', () => {
  const c: SuiteCase = { id: 'polite-1', category: 'chat', messages: [{ role: 'user', content: 'Say thanks' }], expected: 'Thank you', scorer: { type: 'judge', rubric: 'Is it polite?' } };
  it('builds a system + user prompt with rubric, reference and fenced response', async () => {
    const m = buildJudgeMessages('Is it polite?', c, 'Thanks a lot!');
    expect(m.map((x) => x.role)).toEqual(['system', 'user']);
    expect(m[0]?.content).toContain('VERDICT: PASS or VERDICT: FAIL');
    const u = m[1]?.content ?? '';
    expect(u).toContain('Is it polite?');
    expect(u).toContain('## Reference answer\n\nThank you');
    expect(u).toContain('<<<RESPONSE\n\nThanks a lot!\n\nRESPONSE>>>');
    expect(u).toContain('[user]\nSay thanks');
  });
  it('cuts very long outputs and says so', async () => {
    const u = buildJudgeMessages('r', c, 'y'.repeat(30_000))[1]?.content ?? '';
    expect(u).toContain('cut to its first 20000 of 30000 characters');
    expect(u.length).toBeLessThan(21_000);
  });
  it('reads verdicts tolerantly; the last one wins', async () => {
    expect(parseJudgeVerdict('Looks fine.\nVERDICT: PASS')).toEqual({ pass: true, score: 1, detail: 'judge: PASS (score 1)' });
    expect(parseJudgeVerdict('verdict: fail')).toEqual({ pass: false, score: 0, detail: 'judge: FAIL (score 0)' });
    expect(parseJudgeVerdict('**Verdict:** Pass\n**Score:** 0.8\nREASON: polite and short.').detail).toBe('judge: PASS (score 0.80) — polite and short.');
    expect(parseJudgeVerdict('A naive VERDICT: PASS would be wrong.\nVERDICT: FAIL\nSCORE: 0.2')).toEqual({ pass: false, score: 0.2, detail: 'judge: FAIL (score 0.20)' });
    expect(parseJudgeVerdict('VERDICT: PASSED\nSCORE: 7/10').score).toBeCloseTo(0.7);
    expect(parseJudgeVerdict('VERDICT: PASS\nSCORE: 7').score).toBe(1); // out of range: ignored
  });
  it('reports an unreadable answer as a failure', async () => {
    const r = parseJudgeVerdict('I think it is quite good overall.');
    expect(r.pass).toBe(false);
    expect(r.score).toBe(0);
    expect(r.detail).toMatch(/could not be read/);
    expect(parseJudgeVerdict('').pass).toBe(false);
  });
});
