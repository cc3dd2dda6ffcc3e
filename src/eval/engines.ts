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

/** How a suite run treats cases with a response schema: as text only, constrained only, or both side by side. */
export type ConstraintMode = 'free' | 'constrained' | 'both';

const CONSTRAINED_SUFFIX = '+schema';

/** The constrained twin of a column: its own id and label, the same engine. */
export function constrainedColumn(c: EngineColumn): EngineColumn {
  return { ...c, id: `${c.id}${CONSTRAINED_SUFFIX}`, label: `${c.label} · schema-constrained`, constrained: true };
}

/** The columns a run has for `mode`: each engine free, constrained, or both (free first). */
export function columnsFor<T extends { column: EngineColumn }>(live: T[], mode: ConstraintMode): T[] {
  return live.flatMap((l) => {
    const twin = { ...l, column: constrainedColumn(l.column) };
    return mode === 'free' ? [l] : mode === 'constrained' ? [twin] : [l, twin];
  });
}

/** The live engine that continues a stored column (a constrained twin continues on its engine). */
export function liveFor<T extends { column: EngineColumn }>(stored: EngineColumn, available: T[]): T | null {
  const baseId = stored.constrained && stored.id.endsWith(CONSTRAINED_SUFFIX) ? stored.id.slice(0, -CONSTRAINED_SUFFIX.length) : stored.id;
  const now = available.find((a) => a.column.id === baseId);
  if (!now) return null;
  return stored.constrained ? { ...now, column: constrainedColumn(now.column) } : now;
}
