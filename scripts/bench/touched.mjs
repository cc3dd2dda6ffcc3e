/**
 * Memory a process touched for the first time, from the operating system's own count (Linux /proc):
 * its peak resident memory (VmHWM, reset first through clear_refs so an earlier load's peak does not
 * count) − its resident memory before. A lower bound: a page freed and touched again counts once.
 * Also each runtime's price for a first touch on this machine (the browser's: browser.mjs,
 * firstTouchMsPerGib). Feeds `exFirstTouch` (first-touch.ts). Where /proc cannot be read, null.
 */
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { median } from '../../src/metrics/stats.ts';

/** `/proc/<pid>/status`'s `key` (a "kB" field) in bytes, or null. */
export function statusBytes(pid, key) {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Chromium's renderer processes, from its own list over CDP; [] where it cannot say. */
export async function rendererPids(browser) {
  try {
    const cdp = await browser.newBrowserCDPSession();
    const { processInfo } = await cdp.send('SystemInfo.getProcessInfo');
    await cdp.detach();
    return processInfo.filter((p) => p.type === 'renderer').map((p) => p.id);
  } catch {
    return [];
  }
}

/**
 * Watches `pids` from now: each one's peak resident memory is reset (writing 5 to clear_refs), its
 * resident memory noted. `stop()` gives the process whose peak rose most over its start
 * ({ baseBytes, hwmBytes }), or null where none could be read.
 */
export function peakWatch(pids) {
  const base = new Map();
  for (const pid of pids) {
    try {
      fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    } catch {
      // Not ours to reset (another user's process): its peak may predate the watch, so it is not watched.
      continue;
    }
    const b = statusBytes(pid, 'VmRSS');
    if (b !== null) base.set(pid, b);
  }
  return {
    stop() {
      let best = null;
      for (const [pid, b] of base) {
        const hwm = statusBytes(pid, 'VmHWM');
        if (hwm !== null && (best === null || hwm - b > best.hwmBytes - best.baseBytes)) best = { baseBytes: b, hwmBytes: hwm };
      }
      return best;
    },
  };
}

/** Bytes the watch saw touched for the first time, or null. */
export const touchedBytes = (watch) => {
  const r = watch.stop();
  return r ? Math.max(0, r.hwmBytes - r.baseBytes) : null;
};

/**
 * Node's price for memory touched for the first time: a fresh 1 GiB buffer filled, in a fresh
 * process each time (median of 3), as firstTouchMsPerGib measures Chromium's. onnxruntime-node's
 * native allocations page-fault the same way; measured here 0.98–1.03 s a GiB against Chromium's 1.11–1.24 in the same runs.
 */
export function nodeFirstTouchMsPerGib() {
  const script = 'const t = performance.now(); new Uint8Array(1 << 30).fill(1); process.stdout.write(String(performance.now() - t));';
  const ms = [];
  for (let i = 0; i < 3; i++) {
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    const v = Number(r.stdout);
    if (r.status === 0 && Number.isFinite(v)) ms.push(v);
  }
  return ms.length ? Math.round(median(ms)) : null;
}
