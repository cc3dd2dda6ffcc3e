// What XGrammar's WebAssembly build aborts on (probed with 0.1.27: the module is unusable after an
// abort), refused by checkResponseFormat before any compilation, with the keyword and its path.
import { describe, expect, it } from 'vitest';
import { checkResponseFormat } from '../../src/inference/response-format';

const check = (schema: Record<string, unknown>) => checkResponseFormat({ type: 'json_schema', name: 's', schema });

describe('checkResponseFormat: what the grammar compiler refuses', () => {
  it('refuses $ref that is not local or does not resolve, accepts one that does', () => {
    expect(check({ $ref: '#/definitions/x' })).toEqual(['"$ref" at #/$ref points to #/definitions/x, which is not in the schema.']);
    expect(check({ $ref: 'http://example.com/s.json' })[0]).toContain('must point inside the schema');
    expect(check({ $defs: { p: { type: 'string' } }, type: 'object', properties: { a: { $ref: '#/$defs/p' } } })).toEqual([]);
    expect(check({ type: 'object', properties: { a: { $ref: '#' } } })).toEqual([]);
  });
  it('refuses patterns it cannot parse or does not support, accepts plain ones', () => {
    expect(check({ type: 'string', pattern: '([a-' })).toEqual(['The pattern at #/pattern is not a valid regular expression.']);
    expect(check({ type: 'string', pattern: '^(?=a)a+$' })[0]).toContain('lookaround');
    expect(check({ type: 'string', pattern: '^(a)\\1$' })[0]).toContain('backreference');
    expect(check({ type: 'string', pattern: '^\\p{L}+$' })[0]).toContain('Unicode property class');
    expect(check({ type: 'string', pattern: '\\bfoo' })[0]).toContain('word boundary');
    expect(check({ type: 'string', pattern: '^[a-z]+\\\\b$' })).toEqual([]);
    expect(check({ type: 'object', patternProperties: { '([': { type: 'string' } } })[0]).toContain('#/patternProperties');
    expect(check({ type: 'string', pattern: '^[A-Z][a-z]{1,10}$' })).toEqual([]);
  });
  it('refuses empty ranges and bad counts', () => {
    expect(check({ type: 'array', minItems: 3, maxItems: 1 })).toEqual(['"minItems" at #/minItems is greater than "maxItems" (3 > 1).']);
    expect(check({ type: 'string', minLength: 3, maxLength: 1 })[0]).toContain('"minLength" at #/minLength');
    expect(check({ type: 'object', minProperties: 2, maxProperties: 1 })[0]).toContain('minProperties');
    expect(check({ type: 'string', minLength: -1 })).toEqual(['"minLength" at #/minLength must be a whole number ≥ 0.']);
    expect(check({ type: 'integer', minimum: 5, maximum: 1 })[0]).toBe('The range at # is empty: no integer is above its minimum and below its maximum.');
    expect(check({ type: 'integer', exclusiveMinimum: 5, exclusiveMaximum: 6 })[0]).toContain('is empty');
    expect(check({ type: 'number', exclusiveMinimum: 5, exclusiveMaximum: 6 })).toEqual([]);
    expect(check({ type: 'number', minimum: 1.5, maximum: 1.2 })[0]).toContain('no number');
    expect(check({ type: 'integer', minimum: 0, maximum: 0 })).toEqual([]);
  });
  it('refuses an empty enum, false subschemas where a value must match, allOf of several', () => {
    expect(check({ enum: [] })).toEqual(['"enum" at #/enum is empty: no value could match.']);
    expect(check({ type: 'object', properties: { a: false } })).toEqual(['The schema at #/properties/a is false: no value could match it.']);
    expect(check({ anyOf: [false, { type: 'string' }] })[0]).toContain('#/anyOf/0');
    expect(check({ allOf: [{ type: 'object' }, { required: ['a'] }] })[0]).toContain('"allOf" with several schemas at #/allOf');
    expect(check({ type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false })).toEqual([]);
    expect(check({ type: 'array', prefixItems: [{ type: 'string' }], items: false })).toEqual([]);
  });
});
