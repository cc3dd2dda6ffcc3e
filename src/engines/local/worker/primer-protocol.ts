/**
 * The model worker ↔ kernel primer worker messages (primer-helper.ts, primer.worker.ts): one message
 * type per direction, `kind` and request id, as the page ↔ model worker protocol.
 */
import type { PrimerReport } from '../protocol';

export type ToPrimerHelper = { kind: 'start'; id: number; modelUrl: string; ortBase: string } | { kind: 'stop'; id: number };

export type FromPrimerHelper = { kind: 'ended'; id: number; report: PrimerReport };
