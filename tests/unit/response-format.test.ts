import { describe, expect, it } from 'vitest';
import { checkResponseFormat, isConstrained, SCHEMA_LIMITS } from '../../src/inference/response-format';
import { validateGenerationParams, DEFAULT_GENERATION } from '../../src/inference/params';

describe('checkResponseFormat', () => {
  it('accepts text, json_object and a plain schema', () => {
    expect(checkResponseFormat({ type: 'text' })).toEqual([]);
    expect(checkResponseFormat({ type: 'json_object' })).toEqual([]);
    expect(checkResponseFormat({ type: 'json_schema', name: 'person', schema: { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } }, required: ['name'] } })).toEqual([]);
  });
  it('names the unsupported keyword and its path', () => {
    const m = checkResponseFormat({ type: 'json_schema', name: 'x', schema: { type: 'object', properties: { a: { not: { type: 'string' } } } } });
    expect(m).toEqual(['"not" at #/properties/a/not is not supported in constrained output.']);
  });
  it('refuses a bad type, a bad name, a shape that is not a format', () => {
    expect(checkResponseFormat({ type: 'json_schema', name: 'x', schema: { type: 'strin' } })[0]).toContain('"type" at #/type');
    expect(checkResponseFormat({ type: 'json_schema', name: 'has space', schema: {} })[0]).toContain('schema name');
    expect(checkResponseFormat({ type: 'yaml' })[0]).toContain('output format');
  });
  it('refuses a schema too deep or too large', () => {
    let deep: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < SCHEMA_LIMITS.maxDepth + 2; i++) deep = { type: 'object', properties: { a: deep } };
    expect(checkResponseFormat({ type: 'json_schema', name: 'd', schema: deep }).join()).toContain('too deep');
    const big = { type: 'string', description: 'x'.repeat(SCHEMA_LIMITS.maxChars) };
    expect(checkResponseFormat({ type: 'json_schema', name: 'b', schema: big }).join()).toContain('too large');
  });
  it('does not read enum values as schemas', () => {
    expect(checkResponseFormat({ type: 'json_schema', name: 'e', schema: { enum: [{ not: 1 }, 'a'] } })).toEqual([]);
  });
  it('is part of the generation settings check', () => {
    expect(isConstrained(undefined)).toBe(false);
    expect(isConstrained({ type: 'json_object' })).toBe(true);
    expect(validateGenerationParams({ ...DEFAULT_GENERATION, responseFormat: { type: 'json_schema', name: 'x', schema: { if: {} } } })).toEqual(['"if" at #/if is not supported in constrained output.']);
    expect(validateGenerationParams({ ...DEFAULT_GENERATION, responseFormat: { type: 'json_object' } })).toEqual([]);
  });
});
