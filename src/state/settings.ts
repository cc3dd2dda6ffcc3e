/**
 * User settings, persisted in localStorage and validated with zod on the way in: a damaged or
 * old entry falls back to defaults field by field instead of breaking the app.
 */
import { z } from 'zod';
import { DEFAULT_GENERATION, generationParamsSchema, type GenerationParams } from '../inference/params';
import { DTYPES, type Dtype, type ModelSource } from '../models/sources';
import type { DevicePreference } from '../models/device';
import type { ThreadSetting } from '../models/threads';

export interface ModelSelection {
  source: ModelSource;
  dtype: Dtype;
  device: DevicePreference;
  threads: ThreadSetting;
  warmup: boolean;
}

export interface Settings {
  selection: ModelSelection;
  generation: GenerationParams;
  systemPrompt: string;
}

export const DEFAULT_SETTINGS: Settings = {
  selection: { source: { type: 'bundled', modelId: 'slm-pocket' }, dtype: 'fp32', device: 'auto', threads: 'auto', warmup: true },
  generation: DEFAULT_GENERATION,
  systemPrompt: '',
};

const sourceSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('bundled'), modelId: z.string() }),
  z.object({ type: z.literal('hub'), modelId: z.string(), revision: z.string() }),
  z.object({ type: z.literal('mirror'), modelId: z.string(), revision: z.string(), host: z.string() }),
]);

export const selectionSchema = z.object({
  source: sourceSchema,
  dtype: z.enum(DTYPES),
  device: z.enum(['auto', 'webgpu', 'wasm']),
  threads: z.union([z.literal('auto'), z.number().int().min(1).max(64)]),
  warmup: z.boolean(),
});

/** The one generation-parameter schema (src/inference/params.ts), under the name the stores use. */
export const generationSchema = generationParamsSchema;

export const SETTINGS_KEY = 'slm.settings.v1';

/** Parses stored settings; each part that fails validation falls back to its default. */
export function parseSettings(raw: string | null): Settings {
  if (!raw) return DEFAULT_SETTINGS;
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return DEFAULT_SETTINGS;
  }
  const parsed = z.record(z.string(), z.unknown()).safeParse(data);
  const obj = parsed.success ? parsed.data : {};
  const sel = selectionSchema.safeParse(obj['selection']);
  const gen = generationSchema.safeParse(obj['generation']);
  const sys = z.string().max(20000).safeParse(obj['systemPrompt']);
  return {
    selection: sel.success ? sel.data : DEFAULT_SETTINGS.selection,
    generation: gen.success ? gen.data : DEFAULT_SETTINGS.generation,
    systemPrompt: sys.success ? sys.data : DEFAULT_SETTINGS.systemPrompt,
  };
}

export function serializeSettings(s: Settings): string {
  return JSON.stringify(s);
}
