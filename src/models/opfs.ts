/**
 * Where the model store keeps a file's bytes when the browser offers it: one file per model file in
 * the Origin Private File System (folder OPFS_DIR, named by the SHA-256 of the file's URL), its record
 * staying in Cache Storage (src/models/cache.ts). Why: the model worker reads such a file with one
 * synchronous read straight into the buffer ONNX Runtime is given; Cache Storage hands its parts over
 * as Blobs that are streamed and copied. Measured (2026-12-01, headless Chromium 156, 652 MB in 16 MiB
 * parts, a dedicated worker, 5 interleaved rounds): Cache Storage parts streamed into one buffer (the
 * store's read until then) 1.40–1.86 s; the same parts' Blob `arrayBuffer()` 0.96–1.41 s; OPFS files
 * read as 4 MiB chunks into one buffer 1.33–1.55 s; OPFS through a sync access handle straight into
 * the buffer 0.66–0.73 s (docs/performance.md).
 *
 * Here: the async part, usable on pages and in workers (naming, opening the folder, removing files).
 * The synchronous reads and writes live with the worker (engines/local/worker/opfs-file.ts).
 */
export const OPFS_DIR = 'slm-models';

type Root = { getDirectory?: () => Promise<FileSystemDirectoryHandle> };

const inFlight = new Set<{ owner: object }>();

/**
 * Runs `call`, an operation of the handle `owner`, keeping `owner` referenced until it settles.
 * Measured (headless Chromium 156, a 334 MB download stored in OPFS): a handle that nothing else
 * referred to while its `createSyncAccessHandle()` was under way took the call with it when it was
 * collected, and the promise never settled: 3 of 8 such loads hung for good (the load waits for its
 * writes); with the handles held, none of 8. A download allocates hundreds of MB meanwhile, so a
 * collection is likely. Every OPFS call of the store goes through this.
 */
export async function held<T>(owner: object, call: () => Promise<T>): Promise<T> {
  const token = { owner };
  inFlight.add(token);
  try {
    return await call();
  } finally {
    inFlight.delete(token);
  }
}

function storageRoot(): Root | undefined {
  return typeof navigator !== 'undefined' ? (navigator.storage as unknown as Root | undefined) : undefined;
}

/** The OPFS name of the file at `url`: its SHA-256, hex (a URL may be longer than a name may be, and holds '/'). */
export async function opfsName(url: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(url)));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The store's OPFS folder, or null where the browser has none (or refuses it: some off-the-record modes). */
export async function opfsDir(create: boolean): Promise<FileSystemDirectoryHandle | null> {
  const root = storageRoot();
  if (!root?.getDirectory) return null;
  try {
    const top = await held(root, () => root.getDirectory!());
    return await held(top, () => top.getDirectoryHandle(OPFS_DIR, { create }));
  } catch {
    return null;
  }
}

/** Removes the OPFS files of these URLs, where there are any (a file another context holds open stays: it is that load's). */
export async function removeOpfsFiles(urls: Iterable<string>): Promise<void> {
  const list = [...urls];
  if (!list.length) return;
  const dir = await opfsDir(false);
  if (!dir) return;
  await Promise.all(list.map(async (u) => {
    const name = await opfsName(u);
    await held(dir, () => dir.removeEntry(name)).catch(() => undefined);
  }));
}

/** Removes the whole folder (every model's bytes). */
export async function clearOpfs(): Promise<void> {
  const root = storageRoot();
  if (!root?.getDirectory) return;
  try {
    const top = await held(root, () => root.getDirectory!());
    await held(top, () => top.removeEntry(OPFS_DIR, { recursive: true }));
  } catch {
    // Not there, or a file in it is open in a load right now: what is left goes with its record.
  }
}
