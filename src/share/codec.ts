/**
 * Share links: the share state as JSON, deflate-compressed and base64url-encoded into the URL
 * fragment (`#share=z…`), which browsers never send to a server. Also the share *file*, for
 * snapshots too big for a link.
 *
 * Compression uses the platform's CompressionStream ('deflate-raw'): no library in the main
 * bundle, and the same code runs in Node 20 for the tests. Decompression is capped, so a tiny
 * link cannot expand into a huge document (a "zip bomb").
 */
import { migrate, ShareError, SHARE_VERSION, type ShareState } from './schema';
import { base64ToBytes, bytesToBase64 } from '../lib/base64';
import { errorText } from '../lib/errors';

export { FRAGMENT_KEY, payloadFromHash, shareUrl } from './fragment';
/** Encoding marker: 'z' = deflate-raw + base64url. Another marker means another encoding. */
const DEFLATE = 'z';
/** Links longer than this are offered as a share file instead (many chat apps and mail clients cut longer URLs). */
export const LINK_BUDGET_CHARS = 8_000;
/** A fragment longer than this is refused before any decoding. */
export const MAX_FRAGMENT_CHARS = 200_000;
/** Decompressed JSON larger than this is refused. */
export const MAX_JSON_BYTES = 1_000_000;
/** A share file larger than this is refused before reading it. */
export const MAX_FILE_BYTES = 2_000_000;
export const FILE_FORMAT = 'slm-playground-share';

async function pipeBytes(data: Uint8Array, stream: CompressionStream | DecompressionStream, limit: number): Promise<Uint8Array> {
  const reader = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(stream).getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new ShareError(`This share expands to more than ${Math.round(limit / 1000)} kB, far more than any real setup: it was refused.`);
    }
    parts.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

function toBase64Url(bytes: Uint8Array): string {
  return bytesToBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(s: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new ShareError('The link is damaged: it holds characters a share link never contains (was it edited, or cut and pasted in pieces?).');
  if (s.length % 4 === 1) throw new ShareError('The link is damaged: it was cut short. Ask for the link again, or for a share file.');
  return base64ToBytes(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4));
}

/** The fragment payload (without `#share=`) for a state. */
export async function encodeShare(state: ShareState): Promise<string> {
  const json = new TextEncoder().encode(JSON.stringify(state));
  const packed = await pipeBytes(json, new CompressionStream('deflate-raw'), Infinity);
  return DEFLATE + toBase64Url(packed);
}

/** Decodes and validates a fragment payload; throws ShareError with a sentence for the user. */
export async function decodeShare(payload: string): Promise<ShareState> {
  if (payload.length > MAX_FRAGMENT_CHARS) throw new ShareError(`This link is ${payload.length.toLocaleString('en')} characters long, more than the ${MAX_FRAGMENT_CHARS.toLocaleString('en')} a share link may have: it was refused.`);
  if (!payload) throw new ShareError('The link has an empty share: nothing to open.');
  if (payload[0] !== DEFLATE) throw new ShareError('The link was not made by this app (unknown share encoding).');
  const packed = fromBase64Url(payload.slice(1));
  let json: Uint8Array;
  try {
    json = await pipeBytes(packed, new DecompressionStream('deflate-raw'), MAX_JSON_BYTES);
  } catch (e) {
    if (e instanceof ShareError) throw e;
    throw new ShareError('The link is damaged: its compressed data is incomplete or corrupted (often a link cut off by a chat app or mail client). Ask for the link again, or for a share file.');
  }
  let data: unknown;
  try {
    data = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch {
    throw new ShareError('The link is damaged: its contents are not readable settings.');
  }
  return migrate(data);
}

/** A share file: readable JSON, the same schema, marked so that other JSON files are told apart. */
export function shareFileText(state: ShareState): string {
  return JSON.stringify({ format: FILE_FORMAT, ...state }, null, 2);
}

export function parseShareFile(textContent: string): ShareState {
  if (textContent.length > MAX_FILE_BYTES) throw new ShareError(`This file is larger than ${MAX_FILE_BYTES / 1_000_000} MB: not a share file.`);
  let data: unknown;
  try {
    data = JSON.parse(textContent);
  } catch (e) {
    throw new ShareError(`This file is not JSON (${errorText(e)}), so it is not a share file.`);
  }
  if (typeof data !== 'object' || data === null || (data as { format?: unknown }).format !== FILE_FORMAT) {
    throw new ShareError(`This JSON file is not an SLM Playground share file (it has no "format": "${FILE_FORMAT}").`);
  }
  const { format: _format, ...rest } = data as Record<string, unknown>;
  return migrate(rest);
}

export { SHARE_VERSION };
