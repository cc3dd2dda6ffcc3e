/** The JSON-extraction fixture (tests/fixtures/json-extraction.json) and a schema check, for the constrained-decoding tests. */
import fs from 'node:fs';
import { Validator, type Schema } from '@cfworker/json-schema';
import { z } from 'zod';

const fixtureSchema = z.object({
  max_tokens: z.number().int().positive(),
  cases: z.array(z.object({ id: z.string(), prompt: z.string(), schema: z.record(z.string(), z.unknown()) })),
});

export const JSON_CASES = fixtureSchema.parse(JSON.parse(fs.readFileSync('tests/fixtures/json-extraction.json', 'utf8')));

/** Whether `text` parses as JSON and matches `schema` (draft 2020-12); the reason when not. */
export function matchesSchema(text: string, schema: Record<string, unknown>): { ok: true } | { ok: false; reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: `not JSON: ${String(e)}` };
  }
  const schemaValue: Schema = { ...schema };
  const r = new Validator(schemaValue, '2020-12', false).validate(value);
  return r.valid ? { ok: true } : { ok: false, reason: r.errors.map((e) => `${e.instanceLocation}: ${e.error}`).join('; ') };
}
