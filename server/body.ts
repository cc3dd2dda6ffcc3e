/** Reads a request body up to a byte limit and parses it as JSON (413 / 400 otherwise). */
import type { IncomingMessage } from 'node:http';
import { apiErrors } from './errors';

export async function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) throw apiErrors.tooLarge(limitBytes);
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req) {
    const buf = Buffer.isBuffer(part) ? part : Buffer.from(String(part));
    size += buf.length;
    if (size > limitBytes) throw apiErrors.tooLarge(limitBytes);
    parts.push(buf);
  }
  return Buffer.concat(parts);
}

export async function readJson(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  const body = await readBody(req, limitBytes);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw apiErrors.invalidJson();
  }
}
