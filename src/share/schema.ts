/**
 * What a share link holds, defined once and validated with zod on the way in. A link is data
 * from a stranger: every string has a length limit, every URL must be http(s), model ids follow
 * the hub's rule, numbers must be finite, and unknown fields are refused (strict objects), so
 * nothing that does not match this file is ever applied or rendered.
 *
 * Versioning: `v` is the schema version. A change to this file that old links would fail goes
 * into a new version with a migration in `migrate()`; tests/fixtures/share-links.json keeps a
 * real link from every version, and the tests open each one.
 */
import { z } from 'zod';
import { PRESET_IDS, type EndpointSettings, type PresetId } from '../engines/hosted/presets';
import { sourceError, type ModelSource } from '../models/sources';
import { endpointSchema as settingsEndpoint } from '../state/hosted-settings';
import { generationSchema as settingsGeneration, selectionSchema as settingsSelection, type ModelSelection } from '../state/settings';
import type { GenerationParams } from '../engines/types';
import type { RunMetrics } from '../metrics/timing';
import { loadMemorySchema, runMetricsSchema } from '../metrics/schema';
import { suiteSchema } from '../eval/suite';
import { MEASURE_IDS, type MeasureId } from '../compare/measure-ids';
import type { SessionEntry } from '../compare/agreement-tally';

/**
 * 4: the generation settings carry the output format (text, JSON object, JSON Schema with its schema).
 * 5: a suite snapshot's engines carry their measured memory peak (`memoryPeakBytes`).
 */
export const SHARE_VERSION = 5;

const MAX_TEXT = 20_000;
const text = (max = MAX_TEXT) => z.string().max(max);
const num = z.number().finite();

const httpUrl = z
  .string()
  .max(2000)
  .refine((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === 'http:' || u.protocol === 'https:') && !u.username && !u.password;
    } catch {
      return false;
    }
  }, 'must be an http(s) URL without a user name or password');

const sourceSchema = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('bundled'), modelId: text(200) }),
    z.strictObject({ type: z.literal('hub'), modelId: text(200), revision: text(100) }),
    z.strictObject({ type: z.literal('mirror'), modelId: text(200), revision: text(100), host: httpUrl }),
  ])
  .superRefine((s, ctx) => {
    const problem = sourceError(s as ModelSource);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

// The app's own settings schemas (state/), made strict (unknown fields refused) and tightened
// where a stranger's link needs it: sources checked as a whole, URLs http(s) only.
const selectionSchema = settingsSelection.extend({ source: sourceSchema }).strict();

const generationSchema = settingsGeneration.strict();
/** Formats 1–3 predate the output format: a link of theirs that names one is not one they made. */
const generationBeforeV4 = generationSchema.refine((g) => g.responseFormat === undefined, { error: 'share formats 1–3 have no output format (responseFormat)', path: ['responseFormat'] });

const endpointSchema = settingsEndpoint
  .extend({ presetId: z.enum(PRESET_IDS as [PresetId, ...PresetId[]]), baseUrl: httpUrl })
  .strict();

const answerSchema = z.strictObject({
  pane: z.enum(['local', 'hosted']),
  label: text(300),
  output: text(),
  finishReason: z.enum(['stop', 'length', 'abort', 'error', 'content_filter']),
  error: text(2000).nullable(),
  metrics: runMetricsSchema.nullable(),
  bytesSent: z.number().int().min(0),
});

const loadSchema = z.strictObject({
  downloadMs: num.min(0),
  downloadBytes: z.number().int().min(0),
  sessionCreateMs: num.min(0),
  warmupMs: num.min(0),
  totalMs: num.min(0),
  memory: loadMemorySchema.nullable().optional(),
});

/** Where the sharer ran it: enough to tell whether the viewer's numbers are comparable. */
const deviceSchema = z.strictObject({
  userAgent: text(500),
  hardwareConcurrency: z.number().int().min(0).max(4096),
  crossOriginIsolated: z.boolean(),
  /** The WebGPU adapter, "vendor architecture (description)", or null without one. */
  adapter: text(300).nullable(),
  backend: z.enum(['wasm', 'webgpu']).nullable(),
  threads: z.number().int().min(0).max(1024).nullable(),
});

const snapshotSchema = z.strictObject({
  takenAt: z.iso.datetime(),
  device: deviceSchema,
  prompt: text(),
  load: loadSchema.nullable(),
  answers: z.array(answerSchema).min(1).max(8),
});

export const shareSchemaV1 = z.strictObject({
  v: z.literal(1),
  local: selectionSchema,
  /** The hosted pane: null when the sharer had none. Never a key. */
  hosted: endpointSchema.nullable(),
  generation: generationBeforeV4,
  systemPrompt: text(),
  prompt: text(),
  snapshot: snapshotSchema.nullable(),
});

/** A bundled suite by file name (it ships with the app), or a whole suite carried in the link. */
const suiteRefSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('bundled'),
    // A file name in the app's suites/ folder, nothing else (no path, no URL).
    file: z.string().regex(/^[a-z0-9][a-z0-9-]{0,100}\.json$/, 'must be a bundled suite file name'),
    id: text(200),
    name: text(300),
    cases: z.number().int().min(1).max(5000),
  }),
  z.strictObject({ kind: z.literal('inline'), suite: suiteSchema }),
]);

const suiteTotalsSchema = z.strictObject({
  kind: z.enum(['local', 'hosted']),
  label: text(300),
  model: text(500),
  passed: z.number().int().min(0),
  scored: z.number().int().min(0),
  errors: z.number().int().min(0),
  e2eP50: num.nullable(),
  e2eP95: num.nullable(),
  ttftP50: num.nullable(),
  decodeTps: num.nullable(),
  inputTokens: z.number().int().min(0),
  outputTokens: z.number().int().min(0),
  costUsd: num.nullable(),
});

/** A suite run's results: per-engine totals, and per cell [case, engine, pass 1/0 (null: unscored/error), e2e ms]. */
const suiteSnapshotSchema = z.strictObject({
  takenAt: z.iso.datetime(),
  device: deviceSchema,
  suiteId: text(200),
  engines: z.array(suiteTotalsSchema).min(1).max(8),
  cells: z.array(z.tuple([z.number().int().min(0), z.number().int().min(0).max(7), z.union([z.literal(0), z.literal(1), z.null()]), num.nullable()])).max(40_000),
});

export const shareSchemaV2 = shareSchemaV1.extend({
  v: z.literal(2),
  /** The suite of the setup: null when the link carries a prompt only. */
  suite: suiteRefSchema.nullable(),
  suiteSnapshot: suiteSnapshotSchema.nullable(),
});

/** Limits of a session's agreement in a link: answers are cut (the verdict is the one made on the whole answers). */
export const SESSION_LIMITS = { entries: 100, promptChars: 2000, answerChars: 4000 } as const;

const msOrNull = num.min(0).nullable();
const verdictSchema = z.strictObject({
  verdict: z.enum(['agree', 'disagree']).nullable(),
  decidedBy: z.enum(MEASURE_IDS as [MeasureId, ...MeasureId[]]).nullable(),
  reason: text(1000),
  exact: z.boolean(),
  normalized: z.boolean(),
  json: z.boolean().nullable(),
  numbers: z.boolean().nullable(),
  tokenF1: num.min(0).max(1).nullable(),
  rougeL: num.min(0).max(1).nullable(),
  judge: z.boolean().nullable(),
  judgeError: text(500).nullable(),
});

/** A session's exchanges with their agreement verdicts (the tally and the decision are recomputed from them). */
const sessionSchema = z.strictObject({
  entries: z
    .array(
      z.strictObject({
        prompt: text(SESSION_LIMITS.promptChars),
        local: text(SESSION_LIMITS.answerChars),
        hosted: text(SESSION_LIMITS.answerChars),
        localError: text(2000).nullable(),
        hostedError: text(2000).nullable(),
        localTtftMs: msOrNull,
        hostedTtftMs: msOrNull,
        localE2eMs: msOrNull,
        hostedE2eMs: msOrNull,
        hostedCostUsd: num.min(0).nullable(),
        verdict: verdictSchema,
      }),
    )
    .min(1)
    .max(SESSION_LIMITS.entries),
  /** The local model's load time (ms), for the payback point. */
  loadMs: msOrNull,
});

export const shareSchemaV3 = shareSchemaV2.extend({
  v: z.literal(3),
  /** The session's agreement with the hosted answers: null when the link carries none. */
  session: sessionSchema.nullable(),
});

export const shareSchemaV4 = shareSchemaV3.extend({
  v: z.literal(4),
  /** The output format rides in the generation settings; the same schema limits as everywhere (response-format.ts). */
  generation: generationSchema,
});

/** The local engine's model worker WASM memory at its peak over the run (bytes); null: hosted, or not measured. */
const suiteTotalsSchemaV5 = suiteTotalsSchema.extend({ memoryPeakBytes: z.number().int().min(0).nullable() }).strict();
const suiteSnapshotSchemaV5 = suiteSnapshotSchema.extend({ engines: z.array(suiteTotalsSchemaV5).min(1).max(8) }).strict();

export const shareSchemaV5 = shareSchemaV4.extend({
  v: z.literal(5),
  suiteSnapshot: suiteSnapshotSchemaV5.nullable(),
});

export type ShareState = z.infer<typeof shareSchemaV5>;
export type ShareSession = z.infer<typeof sessionSchema>;
export type ShareSuiteRef = z.infer<typeof suiteRefSchema>;
export type ShareSuiteSnapshot = z.infer<typeof suiteSnapshotSchemaV5>;
export type ShareSuiteTotals = z.infer<typeof suiteTotalsSchemaV5>;
export type ShareSnapshot = z.infer<typeof snapshotSchema>;
export type ShareAnswer = z.infer<typeof answerSchema>;
export type ShareDevice = z.infer<typeof deviceSchema>;

// The schema's types must stay assignable to the app's own: a compile error here means the app
// gained a field the link format does not carry yet (add it, in a new version if needed).
type Assignable<A extends B, B> = A;
export type _Checks = [
  Assignable<ShareState['local'], ModelSelection>,
  Assignable<ShareState['generation'], GenerationParams>,
  Assignable<NonNullable<ShareState['hosted']>, EndpointSettings>,
  Assignable<NonNullable<ShareAnswer['metrics']>, RunMetrics>,
  Assignable<ShareSession['entries'][number], SessionEntry>,
];

/** One line per problem, naming the field: "snapshot.answers.0.metrics.ttftMs: expected number, received string". */
export function describeIssues(error: z.ZodError): string {
  const lines = error.issues.slice(0, 5).map((i) => `${i.path.length ? i.path.join('.') : '(top level)'}: ${i.message}`);
  if (error.issues.length > 5) lines.push(`…and ${error.issues.length - 5} more`);
  return lines.join('; ');
}

export class ShareError extends Error {
  override name = 'ShareError';
}

/** Validates decoded JSON as a share of any known version and returns it in the current one. */
export function migrate(data: unknown): ShareState {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new ShareError('This is not an SLM Playground share: it holds no settings object.');
  const v = (data as { v?: unknown }).v;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ShareError('This is not an SLM Playground share: it has no schema version.');
  if (v > SHARE_VERSION) throw new ShareError(`This link was made by a newer SLM Playground (share format ${v}; this app reads up to ${SHARE_VERSION}). Reload the page to get the latest version.`);
  if (v < 1) throw new ShareError(`Unknown share format version ${v}.`);
  const bad = (e: z.ZodError) => new ShareError(`This share does not match the share format, so nothing from it was applied. ${describeIssues(e)}`);
  // Versions 2–4 had no memory in a suite snapshot: not measured.
  const withMemory = (s: z.infer<typeof suiteSnapshotSchema> | null): ShareSuiteSnapshot | null => s && { ...s, engines: s.engines.map((e) => ({ ...e, memoryPeakBytes: null })) };
  if (v === 1) {
    // Version 1 had no suites: the same setup, with none.
    const r = shareSchemaV1.safeParse(data);
    if (!r.success) throw bad(r.error);
    return { ...r.data, v: SHARE_VERSION, suite: null, suiteSnapshot: null, session: null };
  }
  if (v === 2) {
    // Version 2 had no session agreement.
    const r = shareSchemaV2.safeParse(data);
    if (!r.success) throw bad(r.error);
    return { ...r.data, v: SHARE_VERSION, suiteSnapshot: withMemory(r.data.suiteSnapshot), session: null };
  }
  if (v === 3) {
    // Version 3 had no output format: answers were plain text.
    const r = shareSchemaV3.safeParse(data);
    if (!r.success) throw bad(r.error);
    return { ...r.data, v: SHARE_VERSION, suiteSnapshot: withMemory(r.data.suiteSnapshot) };
  }
  if (v === 4) {
    const r = shareSchemaV4.safeParse(data);
    if (!r.success) throw bad(r.error);
    return { ...r.data, v: SHARE_VERSION, suiteSnapshot: withMemory(r.data.suiteSnapshot) };
  }
  const r = shareSchemaV5.safeParse(data);
  if (!r.success) throw bad(r.error);
  return r.data;
}
