/**
 * The model worker's synchronous access to the store's OPFS files (src/models/opfs.ts says why they
 * exist). Every operation opens its own access handle and closes it before it returns: a handle locks
 * its file, and one left open by a load that failed half-way would lock the next Load out.
 */
import { STORE_CHANGED } from '../../../models/cache';
import { held } from '../../../models/opfs';

/** What this module uses of a FileSystemSyncAccessHandle (declared here: the tests' type check has no WebWorker library). */
interface SyncHandle {
  read(into: Uint8Array, options: { at: number }): number;
  write(from: Uint8Array, options: { at: number }): number;
  truncate(size: number): void;
  getSize(): number;
  flush(): void;
  close(): void;
}

/** Chromium 121+ lets several readers share a file ('read-only'); older engines take an exclusive lock and ignore the option. */
type SyncFile = { createSyncAccessHandle(options?: { mode?: 'read-only' | 'readwrite' }): Promise<SyncHandle> };

/** Whether this context can read and write OPFS files synchronously (dedicated workers of current browsers). */
export function syncAccessAvailable(): boolean {
  return typeof FileSystemFileHandle !== 'undefined' && 'createSyncAccessHandle' in FileSystemFileHandle.prototype;
}

async function handle(dir: FileSystemDirectoryHandle, name: string, write: boolean): Promise<SyncHandle> {
  const file = await held(dir, () => dir.getFileHandle(name, { create: write }));
  const sync = file as unknown as SyncFile;
  return held(file, () => (write ? sync.createSyncAccessHandle() : sync.createSyncAccessHandle({ mode: 'read-only' })));
}

/** The file's size in bytes, or null when there is no such file. */
export async function fileSize(dir: FileSystemDirectoryHandle, name: string): Promise<number | null> {
  try {
    const file = await held(dir, () => dir.getFileHandle(name));
    return (await held(file, () => file.getFile())).size;
  } catch (e) {
    if (e instanceof DOMException && e.name === 'NotFoundError') return null;
    throw e;
  }
}

/**
 * Writes `chunks` one after another at byte `at`, where the record's parts end (whatever the file held
 * past that, written before a record that never came, goes first), then flushes: the record that
 * counts them is written after this returns. A file shorter than `at` lost the parts the record
 * counts (the model was deleted in the Cache tab or another tab while this download stored it): the
 * write stops with STORE_CHANGED instead of extending it, which would have filled those parts with
 * zeros and left a record calling them complete.
 */
export async function writeAt(dir: FileSystemDirectoryHandle, name: string, chunks: readonly Uint8Array[], at: number): Promise<void> {
  const h = await handle(dir, name, true);
  try {
    const had = h.getSize();
    if (had < at) throw Object.assign(new Error(`its stored part (${at} bytes) is gone: ${had} bytes left`), { name: STORE_CHANGED });
    h.truncate(at);
    let o = at;
    for (const c of chunks) {
      const n = h.write(c, { at: o });
      if (n !== c.byteLength) throw new DOMException(`wrote ${n} of ${c.byteLength} bytes`, 'QuotaExceededError');
      o += n;
    }
    h.flush();
  } finally {
    h.close();
  }
}

/**
 * Reads bytes [at, at + into.length) of the file into `into`, in slices of `slice` bytes with
 * `onSlice(bytesSoFar)` after each (the Load's progress). One handle for the whole read.
 */
export async function readInto(dir: FileSystemDirectoryHandle, name: string, into: Uint8Array, at = 0, slice = 64 << 20, onSlice?: (done: number) => void): Promise<void> {
  const h = await handle(dir, name, false);
  try {
    for (let o = 0; o < into.length; ) {
      const view = into.subarray(o, Math.min(into.length, o + slice));
      const n = h.read(view, { at: at + o });
      if (n !== view.length) throw new DOMException(`the stored file ended after ${at + o + n} bytes`, 'NotReadableError');
      o += n;
      onSlice?.(o);
    }
  } finally {
    h.close();
  }
}
