/**
 * The schema editor's draft, persisted on its own (the settings store keeps only a valid format):
 * what the user typed, valid or not, so a reload, a tab switch or a bad paste never loses it.
 */
import { z } from 'zod';
import { SCHEMA_LIMITS } from '../inference/response-format';

export const SCHEMA_DRAFT_KEY = 'slm.schema-draft.v1';

export const schemaDraftSchema = z.object({
  /** The editor's text, as typed (bounded well above the schema limit so an over-long paste is kept and refused with its size). */
  text: z.string().max(SCHEMA_LIMITS.maxChars * 8),
  name: z.string().max(200),
  /** JSON Schema chosen while the draft is not valid yet (the active format is still the previous one). */
  pending: z.boolean(),
  /** The format the editor last made active (JSON text): a different one in the settings came from elsewhere (a share link). */
  applied: z.string().max(SCHEMA_LIMITS.maxChars * 2).nullable(),
});

export type SchemaDraft = z.infer<typeof schemaDraftSchema>;

export const EMPTY_DRAFT: SchemaDraft = { text: '', name: 'response', pending: false, applied: null };

export function parseSchemaDraft(raw: string | null): SchemaDraft {
  if (!raw) return EMPTY_DRAFT;
  try {
    const r = schemaDraftSchema.safeParse(JSON.parse(raw));
    return r.success ? r.data : EMPTY_DRAFT;
  } catch {
    return EMPTY_DRAFT;
  }
}
