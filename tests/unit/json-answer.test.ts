/**
 * jsonInAnswer: the one reader of JSON in a model's answer (suite scorers, the JSON-mode verdict,
 * the agreement measure all call it).
 */
import { describe, expect, it } from 'vitest';
import { jsonInAnswer } from '../../src/lib/json-answer';
import { jsonMeasure } from '../../src/compare/agreement';

describe('jsonInAnswer', () => {
  it('reads the whole trimmed answer, any JSON value', () => {
    expect(jsonInAnswer('  {"a": [1, 2]} \n')).toEqual({ value: { a: [1, 2] } });
    expect(jsonInAnswer('[true, null]')).toEqual({ value: [true, null] });
    expect(jsonInAnswer(' 42 ')).toEqual({ value: 42 });
    expect(jsonInAnswer('"hi"')).toEqual({ value: 'hi' });
    expect(jsonInAnswer('null')).toEqual({ value: null });
  });
  it('else the first ``` fence (json or bare) whose content parses', () => {
    expect(jsonInAnswer('Here:\n```json\n{"ok":true}\n```\nDone.')).toEqual({ value: { ok: true } });
    expect(jsonInAnswer('```\n[1, 2]\n```')).toEqual({ value: [1, 2] });
    expect(jsonInAnswer('```JSON \r\n{"a":1}\r\n```')).toEqual({ value: { a: 1 } });
    expect(jsonInAnswer('```json\nnot json\n```\n```json\n{"ok":true}\n```')).toEqual({ value: { ok: true } });
    expect(jsonInAnswer('```json\n{"first":1}\n```\n```json\n{"second":2}\n```')).toEqual({ value: { first: 1 } });
  });
  it('null when there is none: prose, broken JSON, an unclosed fence, a fence of another language', () => {
    expect(jsonInAnswer('nothing here')).toBeNull();
    expect(jsonInAnswer('')).toBeNull();
    expect(jsonInAnswer('{"name":"Eve","ag')).toBeNull();
    expect(jsonInAnswer('```json\n{"a":1}\n')).toBeNull();
    expect(jsonInAnswer('```python\n{"a":1}\n```')).toBeNull();
    expect(jsonInAnswer('{a: 1}')).toBeNull();
  });
  it('finds a good fence after many broken ones', () => {
    const broken = Array.from({ length: 50 }, (_, i) => '```json\n{' + i + '\n```').join('\n');
    expect(jsonInAnswer(`${broken}\n\`\`\`json\n{"last":true}\n\`\`\``)).toEqual({ value: { last: true } });
  });
});

describe('the agreement measure reads JSON the same way', () => {
  it('a fenced reference against a bare candidate; a scalar candidate differs at the root', () => {
    expect(jsonMeasure('```json\n{"a":1,"b":[2]}\n```', '{"b":[2],"a":1}')).toMatchObject({ agree: true, decisive: true });
    expect(jsonMeasure('{"a":1}', 'no JSON here')).toEqual({ agree: false, decisive: true, detail: 'the hosted answer is JSON, the local one is not' });
    expect(jsonMeasure('{"a":1}', '42')).toEqual({ agree: false, decisive: true, detail: 'JSON differs at $' });
    expect(jsonMeasure('42', '{"a":1}')).toBeNull();
  });
});
