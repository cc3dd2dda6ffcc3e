/**
 * The timing record (timing.ts) as a strict zod schema, for everything read back from outside the
 * app: results files, IndexedDB, share links. One definition, so they accept the same records.
 */
import { z } from 'zod';
import type { LoadMemory, RunMetrics } from './timing';

const ms = z.number().min(0);

export const runMetricsSchema = z.strictObject({
  engine: z.enum(['local', 'hosted']),
  model: z.string().max(500),
  device: z.string().max(100),
  dtype: z.string().max(20).nullable(),
  threads: z.number().int().min(0).max(1024).nullable(),
  crossOriginIsolated: z.boolean().nullable(),
  ttftMs: ms.nullable(),
  e2eMs: ms,
  prefillTps: ms.nullable(),
  decodeTps: ms.nullable(),
  engineDecodeTps: ms.nullable(),
  inputTokens: z.number().int().min(0),
  // Optional: records written before it existed stay readable.
  reusedInputTokens: z.number().int().min(0).nullable().optional(),
  prefillNote: z.string().max(300).nullable().optional(),
  outputTokens: z.number().int().min(0),
  tokenCountSource: z.enum(['tokenizer', 'usage', 'estimated']),
  memoryPeakBytes: z.number().int().min(0).nullable().optional(),
});

const bytes = z.number().int().min(0).nullable();
/** A load's measured memory (LoadMemory); optional wherever it is stored, so older files stay valid. */
export const loadMemorySchema = z.strictObject({
  weightsBytes: bytes,
  wasmHeapBytes: bytes,
  pageBytes: bytes,
  baselineBytes: bytes,
  note: z.string().max(500).nullable(),
});

type Assignable<A extends B, B> = A;
export type _LoadMemoryCheck = [Assignable<z.infer<typeof loadMemorySchema>, LoadMemory>, Assignable<LoadMemory, z.infer<typeof loadMemorySchema>>];
export type _RunMetricsCheck = [Assignable<z.infer<typeof runMetricsSchema>, RunMetrics>, Assignable<RunMetrics, z.infer<typeof runMetricsSchema>>];
