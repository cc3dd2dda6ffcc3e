/**
 * What the sandbox worker does with one request (the same code in the browser's Web Worker and in
 * Node's worker_threads). Synchronous on purpose: the time limit is enforced from outside, by
 * terminating the worker.
 */
import { Validator, type Schema, type SchemaDraft } from '@cfworker/json-schema';
import { compileScorerRegex } from '../scorer-regex';
import type { SandboxMessage, SandboxRequest } from './protocol';
import { errorText } from '../../lib/errors';

/** Validators by schema text: a suite's json-schema cases reuse a handful of schemas. */
const validators = new Map<string, Validator>();
const MAX_CACHED = 200;

/** The draft a schema declares in `$schema`; 2020-12 when it declares none. */
function draftOf(schema: Record<string, unknown>): SchemaDraft {
  const s = typeof schema['$schema'] === 'string' ? schema['$schema'] : '';
  if (s.includes('draft-04')) return '4';
  if (s.includes('draft-06') || s.includes('draft-07')) return '7';
  if (s.includes('2019-09')) return '2019-09';
  return '2020-12';
}

function validatorFor(schema: Record<string, unknown>): Validator {
  const text = JSON.stringify(schema);
  let v = validators.get(text);
  if (!v) {
    // shortCircuit: stop at the first failure (one reason is shown, and it bounds the work).
    v = new Validator(schema as Schema, draftOf(schema), true);
    if (validators.size >= MAX_CACHED) validators.clear();
    validators.set(text, v);
  }
  return v;
}

/** The most specific reason: the validator lists the outer failures first ("Property "age" does not match"). */
function reason(errors: { instanceLocation: string; error: string }[]): string {
  const e = errors[errors.length - 1];
  if (!e) return 'does not match';
  const at = e.instanceLocation.replace(/^#/, '') || '(root)';
  return `${at}: ${e.error}`;
}

export function handleSandboxRequest(req: SandboxRequest): SandboxMessage {
  try {
    switch (req.kind) {
      case 'regex':
        return { kind: 'regex', id: req.id, matched: compileScorerRegex(req.pattern, req.flags).test(req.text) };
      case 'json-schema': {
        const r = validatorFor(req.schema).validate(req.value);
        return { kind: 'json-schema', id: req.id, error: r.valid ? null : reason(r.errors) };
      }
    }
  } catch (e) {
    return { kind: 'error', id: req.id, message: errorText(e).slice(0, 300) };
  }
}
