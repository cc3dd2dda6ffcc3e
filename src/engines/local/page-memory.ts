/**
 * The page's memory, page and workers together: `performance.measureUserAgentSpecificMemory()`,
 * which Chromium offers only on cross-origin-isolated pages (the app is: COOP/COEP from the
 * server, public/_headers, or its service worker). Chromium answers at its next garbage
 * collection, up to ~20 s later, so callers never wait on it before showing anything.
 * Elsewhere the answer says what could not be measured.
 */
import { errorText } from '../../lib/errors';

export type PageMemory = { bytes: number; note: null } | { bytes: null; note: string };

interface MeasurablePerformance {
  measureUserAgentSpecificMemory?: () => Promise<{ bytes: number }>;
}

export async function measurePageMemory(): Promise<PageMemory> {
  const perf = performance as Performance & MeasurablePerformance;
  if (!perf.measureUserAgentSpecificMemory) {
    return { bytes: null, note: 'Page memory not measured: this browser has no performance.measureUserAgentSpecificMemory() (Chromium only); the figure is the model worker’s WASM memory alone.' };
  }
  if (!globalThis.crossOriginIsolated) {
    return { bytes: null, note: 'Page memory not measured: measureUserAgentSpecificMemory() needs a cross-origin isolated page; the figure is the model worker’s WASM memory alone.' };
  }
  try {
    return { bytes: (await perf.measureUserAgentSpecificMemory()).bytes, note: null };
  } catch (e) {
    return { bytes: null, note: `Page memory not measured (${errorText(e)}); the figure is the model worker’s WASM memory alone.` };
  }
}
