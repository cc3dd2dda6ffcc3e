/**
 * The one schema for the generation settings a user sets (zod): the settings store parses stored
 * values with it, the UI shows its messages, the worker refuses what it rejects, share links and
 * result files carry values it accepts, and the reference server checks a request's limits
 * against the same bounds. One message per broken rule, in field order.
 */
import { z } from 'zod';
import { checkResponseFormat, responseFormatSchema } from './response-format';

/** The bounds every layer enforces. */
export const LIMITS = {
  maxNewTokens: 32768,
  temperature: 5,
  topK: 100_000,
  repetitionPenalty: 3,
} as const;

export const PARAM_MESSAGES = {
  maxNewTokens: `Max new tokens must be a whole number from 1 to ${LIMITS.maxNewTokens}.`,
  temperature: `Temperature must be above 0 and at most ${LIMITS.temperature} (use greedy for 0).`,
  topP: 'Top-p must be above 0 and at most 1.',
  topK: 'Top-k must be a whole number ≥ 0 (0 turns it off).',
  topKMax: `Top-k must be at most ${LIMITS.topK}.`,
  minNewTokens: 'Min new tokens must be a whole number from 0 to max new tokens.',
  repetitionPenalty: `Repetition penalty must be from 1 (off) to ${LIMITS.repetitionPenalty}.`,
  greedy: 'Greedy must be on or off.',
} as const;

const M = PARAM_MESSAGES;

/** Min new tokens may not exceed max new tokens (equal: fixed length). The server checks its min_tokens/max_tokens with it too. */
export function minWithinMax(min: number | null | undefined, max: number | null | undefined): boolean {
  return min == null || max == null || !(min > max);
}
const num = (error: string) => z.number({ error });

export const generationParamsSchema = z
  .object({
    maxNewTokens: num(M.maxNewTokens).int({ error: M.maxNewTokens }).min(1, { error: M.maxNewTokens }).max(LIMITS.maxNewTokens, { error: M.maxNewTokens }),
    temperature: num(M.temperature).gt(0, { error: M.temperature }).max(LIMITS.temperature, { error: M.temperature }),
    topP: num(M.topP).gt(0, { error: M.topP }).max(1, { error: M.topP }),
    topK: num(M.topK).int({ error: M.topK }).min(0, { error: M.topK }).max(LIMITS.topK, { error: M.topKMax }),
    /** Ignore end-of-sequence until this many tokens; equal to maxNewTokens: fixed length (benchmarks). */
    minNewTokens: num(M.minNewTokens).int({ error: M.minNewTokens }).min(0, { error: M.minNewTokens }).max(LIMITS.maxNewTokens, { error: M.minNewTokens }).optional(),
    repetitionPenalty: num(M.repetitionPenalty).min(1, { error: M.repetitionPenalty }).max(LIMITS.repetitionPenalty, { error: M.repetitionPenalty }),
    /** Greedy (argmax) overrides the sampling knobs. */
    greedy: z.boolean({ error: M.greedy }),
    /** Text (absent: text), any JSON object, or JSON matching a schema; see response-format.ts. */
    responseFormat: responseFormatSchema.optional(),
  })
  .refine((p) => minWithinMax(p.minNewTokens, p.maxNewTokens), { error: M.minNewTokens, path: ['minNewTokens'] })
  .superRefine((p, ctx) => {
    for (const message of checkResponseFormat(p.responseFormat ?? { type: 'text' })) ctx.addIssue({ code: 'custom', message, path: ['responseFormat'] });
  });

/** Sampling settings, in one shape for every engine. */
export type GenerationParams = z.infer<typeof generationParamsSchema>;

export const DEFAULT_GENERATION: GenerationParams = {
  maxNewTokens: 128,
  temperature: 0.7,
  topP: 0.9,
  topK: 40,
  repetitionPenalty: 1.0,
  greedy: true,
};

const FIELD_ORDER: readonly string[] = ['maxNewTokens', 'temperature', 'topP', 'topK', 'minNewTokens', 'repetitionPenalty', 'greedy', 'responseFormat'];

/** The schema's messages for `p`: one per bad field (its first broken rule), in field order; [] when valid. */
export function validateGenerationParams(p: unknown): string[] {
  const r = generationParamsSchema.safeParse(p);
  if (r.success) return [];
  const byField = new Map<string, string>();
  for (const issue of r.error.issues) {
    const field = String(issue.path[0] ?? '');
    if (!byField.has(field)) byField.set(field, issue.message);
  }
  const rank = (f: string) => (FIELD_ORDER.includes(f) ? FIELD_ORDER.indexOf(f) : FIELD_ORDER.length);
  return [...byField.entries()].sort((a, b) => rank(a[0]) - rank(b[0])).map(([, m]) => m);
}

