/**
 * The schema editor's draft, persisted on its own (the settings store keeps only a valid format):
 * what the user typed, valid or not, so a reload, a tab switch or a bad paste never loses it.
 *
 * A schema from elsewhere (a share link applied, another tab, an example button) replaces the
 * editor's text, but never the user's own draft silently: that draft is kept (`kept`, newest
 * first) and the editor offers "Restore my draft". The text the app itself put in the editor is
 * recorded (`placed`), so replacing a link's schema with another link's keeps nothing twice.
 */
import { z } from 'zod';
import { SCHEMA_LIMITS } from '../inference/response-format';

export const SCHEMA_DRAFT_KEY = 'slm.schema-draft.v1';

/** Drafts kept at most; the oldest goes when a sixth replacement keeps one more. */
export const MAX_KEPT = 5;

const draftText = z.string().max(SCHEMA_LIMITS.maxChars * 8);
const draftName = z.string().max(200);

export const schemaDraftSchema = z.object({
  /** The editor's text, as typed (bounded well above the schema limit so an over-long paste is kept and refused with its size). */
  text: draftText,
  name: draftName,
  /** JSON Schema chosen while the draft is not valid yet (the active format is still the previous one). */
  pending: z.boolean(),
  /** The format the editor last made active (JSON text): a different one in the settings came from elsewhere (a share link). */
  applied: z.string().max(SCHEMA_LIMITS.maxChars * 2).nullable(),
  /** What the app last put in the editor (a shared schema, an example); the draft is the user's own while it differs. Absent in drafts stored before it. */
  placed: z.object({ text: draftText, name: draftName }).nullable().default(null),
  /** The user's own drafts that a schema from elsewhere replaced, newest first (`at`: epoch ms). */
  kept: z.array(z.object({ text: draftText, name: draftName, at: z.number() })).max(MAX_KEPT).default([]),
});

export type SchemaDraft = z.infer<typeof schemaDraftSchema>;
export type KeptDraft = SchemaDraft['kept'][number];

export const EMPTY_DRAFT: SchemaDraft = { text: '', name: 'response', pending: false, applied: null, placed: null, kept: [] };

export function parseSchemaDraft(raw: string | null): SchemaDraft {
  if (!raw) return EMPTY_DRAFT;
  try {
    const r = schemaDraftSchema.safeParse(JSON.parse(raw));
    return r.success ? r.data : EMPTY_DRAFT;
  } catch {
    return EMPTY_DRAFT;
  }
}

/** Whether the editor holds the user's own text (typed or edited), not what the app put there. */
export function isOwnDraft(d: SchemaDraft): boolean {
  if (d.text.trim() === '') return false;
  return !(d.placed && d.placed.text === d.text && d.placed.name === d.name);
}

/** `kept` with the current draft added first when it is the user's own, differs from `next`, and is not kept already. */
function keepCurrent(d: SchemaDraft, next: { text: string; name: string } | null, now: number): KeptDraft[] {
  if (!isOwnDraft(d)) return d.kept;
  if (next && next.text === d.text && next.name === d.name) return d.kept;
  const rest = d.kept.filter((k) => !(k.text === d.text && k.name === d.name));
  return [{ text: d.text, name: d.name, at: now }, ...rest].slice(0, MAX_KEPT);
}

/** The editor shows `text`/`name` from elsewhere (a shared schema, an example); the user's own draft is kept. */
export function placeDraft(d: SchemaDraft, text: string, name: string, now: number): SchemaDraft {
  return { ...d, text, name, placed: { text, name }, kept: keepCurrent(d, { text, name }, now) };
}

/** Whether a draft's text and name make exactly `format` (whitespace and layout aside). */
function makes(k: { text: string; name: string }, format: { name: string; schema: Record<string, unknown> }): boolean {
  if (k.name !== format.name) return false;
  try {
    return JSON.stringify(JSON.parse(k.text)) === JSON.stringify(format.schema);
  } catch {
    return false;
  }
}

/**
 * A JSON Schema format that became active elsewhere (a share link, another tab, "Back to my own
 * setup"): shown, and recorded as applied. A draft that already makes it stays as typed; a kept
 * draft that makes it comes back as typed and leaves the kept list (it is the active format again).
 */
export function adoptFormat(d: SchemaDraft, format: { name: string; schema: Record<string, unknown> }, appliedKey: string, now: number): SchemaDraft {
  const mine = d.kept.find((k) => makes(k, format));
  const next = makes(d, format)
    ? d
    : mine
      ? { ...d, text: mine.text, name: mine.name, placed: null, kept: keepCurrent(d, mine, now) }
      : placeDraft(d, JSON.stringify(format.schema, null, 2), format.name, now);
  return { ...next, kept: next.kept.filter((k) => !makes(k, format)), applied: appliedKey, pending: false };
}

/** Back to kept draft `i`; the text it replaces is kept in turn when it is the user's own. */
export function restoreKept(d: SchemaDraft, i: number, now: number): SchemaDraft {
  const k = d.kept[i];
  if (!k) return d;
  const others = d.kept.filter((_, j) => j !== i);
  return { ...d, text: k.text, name: k.name, placed: null, kept: keepCurrent({ ...d, kept: others }, k, now) };
}

export function discardKept(d: SchemaDraft, i: number): SchemaDraft {
  return { ...d, kept: d.kept.filter((_, j) => j !== i) };
}
