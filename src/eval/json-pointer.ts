/** JSON Pointer (RFC 6901) lookups in parsed JSON (the json-fields scorer's field paths): reads `pointer` in a parsed JSON value; `found: false` when a step is missing. */
export function readPointer(value: unknown, pointer: string): { found: boolean; value: unknown } {
  if (pointer === '') return { found: true, value };
  if (!pointer.startsWith('/')) return { found: false, value: undefined };
  let node: unknown = value;
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node) && /^(0|[1-9]\d*)$/.test(token) && Number(token) < node.length) node = node[Number(token)];
    else if (node !== null && typeof node === 'object' && !Array.isArray(node) && Object.hasOwn(node, token)) node = (node as Record<string, unknown>)[token];
    else return { found: false, value: undefined };
  }
  return { found: true, value: node };
}
