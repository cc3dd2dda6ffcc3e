// Types for what TypeScript code imports from relaxed-simd.mjs (the bench itself is plain JavaScript).
import type { Browser } from 'playwright-core';

/** A Llama/Qwen2 decoder's config.json, the fields the step's shapes come from. */
export interface DecoderConfig {
  hidden_size: number;
  intermediate_size: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  num_hidden_layers: number;
  vocab_size: number;
  head_dim?: number;
}

export function stepShapes(config: DecoderConfig): Array<[number, number]>;

export interface GemvProbe {
  supported: boolean;
  matmuls?: number;
  weight_mb?: number;
  s16_ms?: number[];
  relaxed_ms?: number[];
  relaxed7_ms?: number[];
  stream_ms?: number[];
  relaxed_over_s16?: number | null;
  relaxed7_over_s16?: number | null;
  s16_over_stream?: number | null;
  wrong?: Record<string, string>;
}

export function relaxedSimdProbe(options: { browser: Browser; config: DecoderConfig; warmupMs?: number; runs?: number; rounds?: number }): Promise<GemvProbe>;
