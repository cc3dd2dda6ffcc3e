/**
 * A chat template's output as prompt ids, typed without casts: transformers.js's
 * `apply_chat_template(…, { return_dict: true })` is typed loosely across its overloads.
 */

interface IdTensor {
  data: ArrayLike<number | bigint>;
}

function isIdTensor(x: unknown): x is IdTensor {
  if (typeof x !== 'object' || x === null || !('data' in x)) return false;
  const data = x.data;
  return ArrayBuffer.isView(data) || Array.isArray(data);
}

/** The `input_ids` of an encoded conversation (batch of one) as numbers. */
export function promptIds(encoded: unknown): number[] {
  const ids = typeof encoded === 'object' && encoded !== null && 'input_ids' in encoded ? encoded.input_ids : null;
  if (!isIdTensor(ids)) throw new Error('The chat template returned no input_ids.');
  return Array.from(ids.data, Number);
}
