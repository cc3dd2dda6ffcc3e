// Types for what TypeScript code imports from own-step.mjs (the bench itself is plain JavaScript).
import type { Browser } from 'playwright-core';

export const OWN_STEP_PROMPT: number[];

export interface OwnStepFigures {
  own_step_tps: number;
  native_1t_tps: number;
  own_over_native_1t: number;
  own_over_native_1t_chunks: number[];
  own_gemv_share: number;
  same_tokens: boolean;
  first_difference: number | null;
  margin_at_difference?: { own: number; native: number };
  native_margin_min: number;
  tokens: number;
  own_ms: number;
  native_ms: number;
}

export function ownStep(options: {
  browser: Browser;
  base: string;
  host: { url: string };
  root: string;
  model: { name: string; dir: string };
  steps?: number;
}): Promise<OwnStepFigures>;
