/**
 * The verdict on one answer asked for in JSON mode (JSON object or JSON Schema): is it valid JSON,
 * does it match the schema (and where not), or did it stop at max new tokens before the structure
 * closed ("incomplete JSON")? The panes' badges, the comparison strip and the suites' structure
 * scores all read this one function.
 *
 * Pure: matching a schema is the caller's `validate` (the app passes @cfworker/json-schema, loaded
 * with the JSON views; suites pass their scoring sandbox's answer), so this file loads nothing.
 */
import type { FinishReason } from '../engines/types';
import type { ResponseFormat } from '../inference/response-format';
import { errorText } from '../lib/errors';
import { jsonInAnswer } from '../lib/json-answer';

export interface JsonVerdict {
  /** The answer parses as JSON (the whole answer, or the first ``` fence). */
  valid: boolean;
  /** Not valid, and the answer stopped at the max-new-tokens limit: the structure never closed. */
  incomplete: boolean;
  /** Matches the schema: null when there is no schema to match, or the JSON is not valid. */
  matches: boolean | null;
  /** Where it fails the schema ("/age: …"), or why it is not JSON; '' when all is well. */
  detail: string;
  /** The parsed value, pretty-printed (2 spaces); null when not valid. */
  pretty: string | null;
}

/**
 * The verdict for `text`, answered with `finish`, for `format`. `validate` returns null when the
 * value matches the schema, else where and why it does not.
 */
export function jsonVerdict(text: string, finish: FinishReason | null | undefined, format: ResponseFormat, validate: (schema: Record<string, unknown>, value: unknown) => string | null): JsonVerdict {
  const got = jsonInAnswer(text);
  if (!got) {
    const incomplete = finish === 'length';
    const detail = text.trim() === '' ? 'the answer is empty' : incomplete ? 'the answer stopped at max new tokens before the JSON was complete' : 'the answer is not valid JSON';
    return { valid: false, incomplete, matches: null, detail, pretty: null };
  }
  const pretty = JSON.stringify(got.value, null, 2);
  if (format.type === 'json_object' && (got.value === null || typeof got.value !== 'object' || Array.isArray(got.value))) {
    return { valid: true, incomplete: false, matches: false, detail: 'JSON mode asks for an object, and this is not one', pretty };
  }
  if (format.type !== 'json_schema') return { valid: true, incomplete: false, matches: null, detail: '', pretty };
  let problem: string | null;
  try {
    problem = validate(format.schema, got.value);
  } catch (e) {
    problem = `could not be checked: ${errorText(e)}`;
  }
  return { valid: true, incomplete: false, matches: problem === null, detail: problem ?? '', pretty };
}

/** A short label per verdict, for badges and table cells. */
export function verdictLabel(v: JsonVerdict): string {
  if (!v.valid) return v.incomplete ? 'incomplete JSON' : 'not JSON';
  if (v.matches === null) return 'valid JSON';
  return v.matches ? 'matches schema' : 'fails schema';
}
