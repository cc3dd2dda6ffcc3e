/**
 * Persisted hosted-endpoint settings and price table (never the API key: keys live in the
 * KeyRing, in memory unless the user opts in). Validated with zod on the way in.
 */
import { z } from 'zod';
import { DEFAULT_PRICES, type Price } from '../compare/pricing';
import { defaultSettings, isPresetId, type EndpointSettings } from '../engines/hosted/presets';

export interface HostedSettings {
  /** Whether the hosted pane takes part in comparisons. null: not decided yet (first visit). */
  enabled: boolean | null;
  endpoint: EndpointSettings;
}

export const HOSTED_KEY = 'slm.hosted.v1';
export const PRICES_KEY = 'slm.prices.v1';

export const DEFAULT_HOSTED: HostedSettings = { enabled: null, endpoint: defaultSettings('reference') };

export const endpointSchema = z.object({
  presetId: z.string().refine(isPresetId),
  baseUrl: z.string().max(2000),
  model: z.string().max(500),
  apiVersion: z.string().max(100).nullable().optional(),
  auth: z.enum(['bearer', 'api-key']).optional(),
  sdkHeaders: z.boolean().optional(),
});

export function parseHostedSettings(raw: string | null): HostedSettings {
  if (!raw) return DEFAULT_HOSTED;
  try {
    const r = z.object({ enabled: z.boolean().nullable(), endpoint: endpointSchema }).safeParse(JSON.parse(raw));
    if (!r.success) return DEFAULT_HOSTED;
    const e = r.data.endpoint;
    if (!isPresetId(e.presetId)) return DEFAULT_HOSTED;
    return { enabled: r.data.enabled, endpoint: { ...e, presetId: e.presetId } };
  } catch {
    return DEFAULT_HOSTED;
  }
}

const priceSchema = z.record(z.string().max(200), z.object({ inputPerM: z.number().min(0), outputPerM: z.number().min(0) }));

export function parsePrices(raw: string | null): Record<string, Price> {
  if (!raw) return DEFAULT_PRICES;
  try {
    const r = priceSchema.safeParse(JSON.parse(raw));
    return r.success ? r.data : DEFAULT_PRICES;
  } catch {
    return DEFAULT_PRICES;
  }
}
