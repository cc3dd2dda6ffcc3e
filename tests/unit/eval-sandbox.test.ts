/**
 * The scoring sandbox (Node implementation: worker_threads, the same client and core as the
 * browser's Web Worker) and the import-time JSON Schema check.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createNodeSandbox } from '../../scripts/eval-sandbox/node';
import { JSON_SCHEMA_LIMITS, jsonSchemaProblem } from '../../src/eval/json-schema-check';
import { scoreOutput } from '../../src/eval/scorers';
import type { ScorerSpec, SuiteCase } from '../../src/eval/suite';

const LIMIT_MS = 300;
/** Terminating a worker and answering takes a few ms; a busy shared machine can add a lot more. */
const MARGIN_MS = 1_500;
const CATASTROPHIC = { pattern: '^(a+)+$', text: `${'a'.repeat(32)}!` };

const mk = (scorer: ScorerSpec, id = 'c'): SuiteCase => ({ id, category: 't', messages: [{ role: 'user', content: 'q' }], scorer });

describe('scoring sandbox (Node worker_threads)', () => {
  const sandbox = createNodeSandbox({ limitMs: LIMIT_MS });
  afterAll(() => sandbox.dispose());

  it('matches a normal pattern', async () => {
    expect(await sandbox.matchRegex('^h(el)+o$', 'i', 'HELLO')).toEqual({ status: 'done', value: false });
    expect(await sandbox.matchRegex('^h(el)+lo$', 'i', 'HELLO')).toEqual({ status: 'done', value: true });
  });

  it('stops a catastrophic pattern at the limit, then restarts and scores the next case', async () => {
    await sandbox.matchRegex('x', '', 'x'); // the worker is up: its start-up is not part of the limit
    const t0 = performance.now();
    const r = await sandbox.matchRegex(CATASTROPHIC.pattern, '', CATASTROPHIC.text);
    const took = performance.now() - t0;
    expect(r).toEqual({ status: 'timeout', limitMs: LIMIT_MS });
    expect(took).toBeGreaterThanOrEqual(LIMIT_MS - 5);
    expect(took).toBeLessThan(LIMIT_MS + MARGIN_MS);
    // A fresh worker answers the next request.
    expect(await sandbox.matchRegex('^a+$', '', 'aaaa')).toEqual({ status: 'done', value: true });
  });

  it('gives the case a "took too long" verdict and the run goes on', async () => {
    const slow = await scoreOutput(mk({ type: 'regex', pattern: CATASTROPHIC.pattern }), CATASTROPHIC.text, sandbox);
    expect(slow).toEqual({ pass: false, score: 0, detail: `pattern took too long (over ${LIMIT_MS} ms)` });
    const next = await scoreOutput(mk({ type: 'regex', pattern: '^\\d+$' }), '42', sandbox);
    expect(next?.pass).toBe(true);
  });

  it('time-limits JSON Schema validation too (a schema pattern is a regex)', async () => {
    const c = mk({ type: 'json-schema', schema: { type: 'string', pattern: CATASTROPHIC.pattern } });
    const r = await scoreOutput(c, JSON.stringify(CATASTROPHIC.text), sandbox);
    expect(r?.detail).toBe(`schema check took too long (over ${LIMIT_MS} ms)`);
    const ok = await scoreOutput(mk({ type: 'json-schema', schema: { type: 'object', required: ['a'] } }), '{"a": 1}', sandbox);
    expect(ok).toEqual({ pass: true, score: 1, detail: 'JSON matches the schema' });
  });

  it('answers requests made at the same time, in order', async () => {
    const rs = await Promise.all(['1', 'x', '22', 'y'].map((t) => sandbox.matchRegex('^\\d+$', '', t)));
    expect(rs.map((r) => (r.status === 'done' ? r.value : r.status))).toEqual([true, false, true, false]);
  });

  it('reports a validator error as a failed score, not a crash', async () => {
    // Recursion that never descends into the value: the validator overflows its stack.
    const r = await scoreOutput(mk({ type: 'json-schema', schema: { $ref: '#' } }), '{}', sandbox);
    expect(r?.pass).toBe(false);
    expect(r?.detail).toMatch(/could not be scored|took too long/);
  });
});

describe('JSON Schema import check', () => {
  const nest = (levels: number): Record<string, unknown> => {
    let s: Record<string, unknown> = { type: 'string' };
    for (let i = 1; i < levels; i++) s = { type: 'array', items: s };
    return s;
  };

  it('accepts ordinary schemas, with local $refs and anchors', () => {
    expect(jsonSchemaProblem({ type: 'object', required: ['a'], properties: { a: { type: ['string', 'null'], pattern: '^x', minLength: 1 } }, additionalProperties: false })).toBeNull();
    expect(jsonSchemaProblem({ $defs: { n: { type: 'number' }, m: { $anchor: 'm', type: 'string' } }, items: [{ $ref: '#/$defs/n' }, { $ref: '#m' }] })).toBeNull();
    expect(jsonSchemaProblem(true)).toBeNull();
    expect(jsonSchemaProblem(nest(JSON_SCHEMA_LIMITS.maxDepth / 2))).toBeNull(); // two levels per step
  });

  it('names the limit a schema goes over', () => {
    expect(jsonSchemaProblem(nest(40))).toBe(`schema is nested too deeply: more than ${JSON_SCHEMA_LIMITS.maxDepth} levels (the limit is ${JSON_SCHEMA_LIMITS.maxDepth})`);
    const wide = { enum: Array.from({ length: JSON_SCHEMA_LIMITS.maxValues }, (_, i) => i) };
    expect(jsonSchemaProblem(wide)).toBe('schema is too large: more than 5,000 values (the limit is 5,000)');
    expect(jsonSchemaProblem({ description: 'x'.repeat(JSON_SCHEMA_LIMITS.maxChars) })).toMatch(/^schema is too large \(100,0\d\d characters; the limit is 100,000\)$/);
    // Deeper than any stack: refused by the iterative count, no overflow.
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(jsonSchemaProblem({ enum: deep })).toMatch(/nested too deeply/);
  });

  it('names the place of a malformed keyword', () => {
    expect(jsonSchemaProblem({ type: 'strin' })).toBe('invalid JSON Schema at /type: "strin" is not a JSON Schema type (one of null, boolean, object, array, number, string, integer)');
    expect(jsonSchemaProblem({ properties: { 'a/b': { minLength: -1 } } })).toBe('invalid JSON Schema at /properties/a~1b/minLength: "minLength" must be a whole number ≥ 0, got number -1');
    expect(jsonSchemaProblem({ anyOf: [] })).toBe('invalid JSON Schema at /anyOf: "anyOf" must be a non-empty array of schemas, got an array');
    expect(jsonSchemaProblem({ items: 3 })).toBe('invalid JSON Schema at /items: a schema must be an object or true/false, got number 3');
    expect(jsonSchemaProblem({ pattern: '(' })).toMatch(/^invalid JSON Schema at \/pattern: not a valid regular expression \(Invalid regular expression/);
    expect(jsonSchemaProblem({ patternProperties: { '[': {} } })).toMatch(/^invalid JSON Schema at \/patternProperties\/\[: not a valid regular expression/);
    expect(jsonSchemaProblem({ $ref: '#/$defs/missing' })).toBe('invalid JSON Schema at /$ref: $ref "#/$defs/missing" points to nothing in the schema');
    expect(jsonSchemaProblem({ $ref: 'https://example.com/s.json' })).toMatch(/points outside the schema; only references inside it/);
    expect(jsonSchemaProblem({ $dynamicRef: '#x' })).toMatch(/"\$dynamicRef" is not supported/);
  });
});
