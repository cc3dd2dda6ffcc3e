// Resuming a cut download: the part size the store writes in, and what a host's answer to a range request allows.
import { storedBytes, type FileMeta } from './cache';

/** Stored files are written in parts of at most this size, so a cut download keeps what came before the cut and no single Cache Storage entry is large (off-the-record profiles refuse one of ~250 MB or more). */
export const PART_BYTES = 16 * 1024 * 1024;

/** `Content-Range: bytes a-b/total` → its numbers (null when absent or malformed). */
export function parseContentRange(h: string | null): { start: number; end: number; total: number | null } | null {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec((h ?? '').trim());
  if (!m) return null;
  const start = Number(m[1]);
  const end = Number(m[2]);
  const total = m[3] === '*' ? null : Number(m[3]);
  if (end < start || (total !== null && end >= total)) return null;
  return { start, end, total };
}

/**
 * What to do with the answer to a resume request (`Range: bytes={have}-`, If-Range: the stored ETag):
 * continue after the stored bytes only when the host sent exactly the rest of the same file (206,
 * the range starting at `have`, the same total); any other good answer restarts the file.
 */
export function resumeDecision(
  meta: FileMeta,
  res: { status: number; contentRange: string | null; etag: string | null },
): { resume: true } | { resume: false; why: string } {
  const have = storedBytes(meta);
  if (res.status === 200) return { resume: false, why: 'the host sent the whole file (it does not serve byte ranges, or the file changed)' };
  if (res.status !== 206) return { resume: false, why: `the host answered HTTP ${res.status} to the range request` };
  const r = parseContentRange(res.contentRange);
  if (!r) return { resume: false, why: 'the host sent a partial answer without a valid Content-Range' };
  if (r.start !== have) return { resume: false, why: `the host sent bytes from ${r.start}, ${have} were stored` };
  if (r.total !== meta.size || r.end !== meta.size - 1) return { resume: false, why: `the host's file is now ${r.total ?? 'of unknown size'} bytes, the stored part was of ${meta.size}` };
  if (meta.etag && res.etag && meta.etag !== res.etag) return { resume: false, why: 'the file changed on the host (another ETag)' };
  return { resume: true };
}
