/**
 * Builds the results' engine columns from live engines: what a record says about each engine
 * (label, model, dtype, device, endpoint base URL), and whether an engine in front of the user now
 * is the one a stored run used (so a resumed run never mixes two models in one column).
 */
import type { EngineColumn } from './results';

/** An endpoint URL reduced to what may be stored or shared: no credentials, query or fragment. */
export function publicEndpoint(baseUrl: string): string | null {
  try {
    const u = new URL(baseUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    u.username = '';
    u.password = '';
    u.search = '';
    u.hash = '';
    return u.href.replace(/\/$/, '');
  } catch {
    return null;
  }
}

export function localColumn(info: { modelId: string; dtype: string; device: string }, label: string): EngineColumn {
  return { id: 'local', kind: 'local', label, model: info.modelId, dtype: info.dtype, device: info.device, endpoint: null };
}

export function hostedColumn(model: string, label: string, baseUrl: string): EngineColumn {
  return { id: 'hosted', kind: 'hosted', label, model, dtype: null, device: null, endpoint: publicEndpoint(baseUrl) };
}

/** Why `now` cannot continue `stored`'s column; null when it can. */
export function mismatch(stored: EngineColumn, now: EngineColumn | null): string | null {
  if (!now) return `This run used ${stored.label}: ${stored.kind === 'local' ? 'load that model' : 'enable that hosted endpoint'} to resume it.`;
  if (stored.model !== now.model || (stored.dtype ?? null) !== (now.dtype ?? null) || (stored.endpoint ?? null) !== (now.endpoint ?? null)) {
    const what = (c: EngineColumn) => [c.model, c.dtype, c.endpoint].filter(Boolean).join(', ');
    return `This run's ${stored.kind} column is ${what(stored)}, but ${what(now)} is set up now. Set up the same ${stored.kind === 'local' ? 'model and dtype' : 'endpoint and model'} to resume it.`;
  }
  return null;
}
