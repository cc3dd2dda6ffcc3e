/**
 * What the sandbox worker does with one request (the same code in the browser's Web Worker and in
 * Node's worker_threads). Synchronous on purpose: the time limit is enforced from outside, by
 * terminating the worker.
 */
import { compileScorerRegex } from '../scorer-regex';
import type { SandboxMessage, SandboxRequest } from './protocol';
import { errorText } from '../../lib/errors';
import { schemaMismatch } from '../../compare/schema-validator';

export function handleSandboxRequest(req: SandboxRequest): SandboxMessage {
  try {
    switch (req.kind) {
      case 'regex':
        return { kind: 'regex', id: req.id, matched: compileScorerRegex(req.pattern, req.flags).test(req.text) };
      case 'json-schema': {
        return { kind: 'json-schema', id: req.id, error: schemaMismatch(req.schema, req.value) };
      }
    }
  } catch (e) {
    return { kind: 'error', id: req.id, message: errorText(e).slice(0, 300) };
  }
}
