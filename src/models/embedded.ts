/**
 * The models this project trains and ships under public/models/ (see tools/slm/). Their cards
 * (card.json) and example prompts (examples.json) are fetched from the app itself, so the app
 * shows what each model can and cannot do.
 */
import { z } from 'zod';
import type { CatalogEntry } from './catalog';
import type { Dtype } from './sources';

export const EMBEDDED_MODELS = [
  { id: 'slm-pocket', label: 'Pocket (embedded, ~0.8M params)', params: 0.8e6 },
  { id: 'slm-reference', label: 'Reference (embedded, larger)', params: 4e6 },
] as const;

export function embeddedCatalog(): CatalogEntry[] {
  return EMBEDDED_MODELS.map((m) => ({
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
  }));
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

export interface ModelCardData {
  /** The whole card as the model tool wrote it (shown as key facts + raw JSON). */
  card: Record<string, unknown>;
  readme: string | null;
  examples: ModelExample[];
}

function toExamples(data: unknown): ModelExample[] {
  const wrapped = z.object({ examples: z.array(z.unknown()) }).safeParse(data);
  const items = wrapped.success ? wrapped.data.examples : (z.array(z.unknown()).safeParse(data).data ?? []);
  return items.flatMap((x) => {
    const e = exampleSchema.safeParse(x);
    if (!e.success) return [];
    const prompt = e.data.prompt ?? e.data.messages?.filter((m) => m.role === 'user').at(-1)?.content;
    if (!prompt) return [];
    return [{ prompt, expected: e.data.answer ?? e.data.expected ?? null, family: e.data.family ?? null }];
  });
}

export async function fetchModelCard(modelId: string, appBase: string): Promise<ModelCardData> {
  const base = new URL(`models/${modelId}/`, appBase);
  const get = async (file: string) => {
    const r = await fetch(new URL(file, base));
    return r.ok ? r : null;
  };
  const [card, readme, examples] = await Promise.all([get('card.json'), get('README.md'), get('examples.json')]);
  const cardJson = card ? z.record(z.string(), z.unknown()).safeParse(await card.json()) : null;
  return {
    card: cardJson?.success ? cardJson.data : {},
    readme: readme ? await readme.text() : null,
    examples: examples ? toExamples(await examples.json()) : [],
  };
}
