/**
 * The models this project trains and ships under public/models/ (see tools/slm/). Their cards
 * (card.json) and example prompts (examples.json) are fetched from the app itself, so the app
 * shows what each model can and cannot do.
 */
import { z } from 'zod';
import type { CatalogEntry } from './catalog';
import type { Dtype } from './sources';

export const EMBEDDED_MODELS = [
  { id: 'slm-pocket', label: 'slm-pocket — tiny in-browser default', params: 0.8e6 },
  { id: 'slm-reference', label: 'slm-reference — larger, stronger', params: 4e6 },
] as const;

/** Catalog entries for the embedded models; exact sizes and parameter counts come from their cards. */
export function embeddedCatalog(cards: Partial<Record<string, ModelCard | null>> = {}): CatalogEntry[] {
  return EMBEDDED_MODELS.map((m) => withCard({
    key: m.id,
    label: m.label,
    source: { type: 'bundled', modelId: m.id },
    params: m.params,
    dtypes: ['fp32', 'q8', 'q4'] satisfies Dtype[],
    preferred: { webgpu: 'fp32', wasm: 'fp32' },
    contextLength: 512,
    license: 'MIT (trained by this project on synthetic data)',
    notes: 'A tiny chat model trained by this project on synthetic tasks; it knows only those tasks.',
    embedded: true,
  }, cards[m.id] ?? null));
}

const FILE_DTYPE: Record<string, Dtype> = { 'onnx/model.onnx': 'fp32', 'onnx/model_quantized.onnx': 'q8', 'onnx/model_q4.onnx': 'q4' };

function withCard(entry: CatalogEntry, card: ModelCard | null): CatalogEntry {
  if (!card) return entry;
  const exactBytes: Partial<Record<Dtype, number>> = {};
  for (const [file, bytes] of Object.entries(card.files ?? {})) {
    const d = FILE_DTYPE[file];
    if (d) exactBytes[d] = bytes;
  }
  const dtypes = Object.keys(exactBytes).length ? entry.dtypes.filter((d) => d in exactBytes) : entry.dtypes;
  return { ...entry, params: card.architecture?.params ?? entry.params, exactBytes, dtypes };
}

const exampleSchema = z.object({
  prompt: z.string().optional(),
  messages: z.array(z.object({ role: z.string(), content: z.string() })).optional(),
  answer: z.string().optional(),
  expected: z.string().optional(),
  family: z.string().optional(),
});

export interface ModelExample {
  prompt: string;
  expected: string | null;
  family: string | null;
}

/** An accuracy as a fraction, or as the model tool writes it: {correct, total, accuracy}. */
const accuracySchema = z.union([z.number(), z.object({ accuracy: z.number(), correct: z.number().optional(), total: z.number().optional() })]);
const fraction = (a: z.infer<typeof accuracySchema> | undefined): number | null => (a === undefined ? null : typeof a === 'number' ? a : a.accuracy);

/** The parts of card.json (written by tools/slm/eval.mjs) that the app shows. */
const cardSchema = z.object({
  name: z.string(),
  description: z.string().optional(),
  architecture: z.object({ params: z.number() }).partial().optional(),
  files: z.record(z.string(), z.number()).optional(),
  training: z.object({ seconds: z.number(), steps: z.number(), examples_seen: z.number(), device_name: z.string() }).partial().optional(),
  corpus: z.object({ train_examples: z.number() }).partial().optional(),
  evaluation: z
    .object({
      node: z.record(z.string(), z.object({ per_family: z.record(z.string(), accuracySchema), overall: accuracySchema })),
    })
    .partial()
    .optional(),
  limitations: z.array(z.string()).optional(),
});
export type ModelCard = z.infer<typeof cardSchema>;

export function parseCard(data: unknown): ModelCard | null {
  const r = cardSchema.safeParse(data);
  return r.success ? r.data : null;
}

/** Held-out accuracy as a table: one row per task family, one column per dtype. */
export function accuracyTable(card: ModelCard): { dtypes: string[]; rows: { family: string; acc: (number | null)[] }[]; overall: (number | null)[] } {
  const node = card.evaluation?.node ?? {};
  const dtypes = Object.keys(node);
  const families = [...new Set(dtypes.flatMap((d) => Object.keys(node[d]?.per_family ?? {})))];
  return {
    dtypes,
    rows: families.map((family) => ({ family, acc: dtypes.map((d) => fraction(node[d]?.per_family[family])) })),
    overall: dtypes.map((d) => fraction(node[d]?.overall)),
  };
}

export interface ModelCardData {
  card: ModelCard | null;
  readme: string | null;
  examples: ModelExample[];
  /** Held-out prompts the model got wrong (examples.json `try_this`, measured by tools/slm/eval.mjs). */
  tryThis: ModelExample[];
}

function toExampleList(items: unknown[]): ModelExample[] {
  return items.flatMap((x) => {
    const e = exampleSchema.safeParse(x);
    if (!e.success) return [];
    const prompt = e.data.prompt ?? e.data.messages?.filter((m) => m.role === 'user').at(-1)?.content;
    if (!prompt) return [];
    return [{ prompt, expected: e.data.answer ?? e.data.expected ?? null, family: e.data.family ?? null }];
  });
}

/** examples.json: `{examples, try_this?}` as tools/slm/eval.mjs writes it, or a bare list of examples. */
export function parseExamples(data: unknown): Pick<ModelCardData, 'examples' | 'tryThis'> {
  const wrapped = z.object({ examples: z.array(z.unknown()), try_this: z.array(z.unknown()).optional() }).safeParse(data);
  if (wrapped.success) return { examples: toExampleList(wrapped.data.examples), tryThis: toExampleList(wrapped.data.try_this ?? []) };
  return { examples: toExampleList(z.array(z.unknown()).safeParse(data).data ?? []), tryThis: [] };
}

export async function fetchModelCard(modelId: string, appBase: string): Promise<ModelCardData> {
  const base = new URL(`models/${modelId}/`, appBase);
  const get = async (file: string) => {
    const r = await fetch(new URL(file, base));
    return r.ok ? r : null;
  };
  const [card, readme, examples] = await Promise.all([get('card.json'), get('README.md'), get('examples.json')]);
  return {
    card: card ? parseCard(await card.json()) : null,
    readme: readme ? await readme.text() : null,
    ...(examples ? parseExamples(await examples.json()) : { examples: [], tryThis: [] }),
  };
}
