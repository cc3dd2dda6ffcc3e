/**
 * Command-line flags and environment of the reference server, validated once at start.
 *
 *   --port 8787 --host 127.0.0.1 --model slm-reference --dtype fp32 --models-dir public/models
 *   --api-key KEY (or SLM_SERVER_API_KEY) --allow-origin ORIGIN (repeatable; "localhost", "*" or
 *   https://host[:port]) --queue-limit 16 --max-body-bytes 1048576 --stats-limit 200 --threads N
 *   --kv-cache-mb 256 --int8-step --quiet
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { parseOriginPolicy, type OriginPolicy } from './cors';
import { DTYPES, type Dtype } from './model';

export interface ServerConfig {
  host: string;
  port: number;
  modelsDir: string;
  model: string;
  dtype: Dtype;
  apiKey: string | null;
  origins: OriginPolicy;
  queueLimit: number;
  maxBodyBytes: number;
  statsLimit: number;
  threads: number | undefined;
  /** Prefix cache memory cap, MiB (0: off). */
  kvCacheMb: number;
  /** q8 and q4 on the browser's int8 step of our own instead of native ONNX Runtime (src/inference/int8-session.ts). */
  int8Step?: boolean;
  quiet: boolean;
}

export const USAGE = `Usage: npm run server -- [options]
  --port N              port (default 8787; 0 picks a free one)
  --host H              address to bind (default 127.0.0.1)
  --model ID            model folder under --models-dir (default slm-reference, falls back to slm-pocket)
  --models-dir DIR      where the models are (default public/models, or SLM_MODELS_DIR)
  --dtype D             ${DTYPES.join(' | ')} (default fp32)
  --api-key KEY         require this key (Authorization: Bearer KEY or api-key: KEY); or SLM_SERVER_API_KEY
  --allow-origin O      browser origins allowed (repeatable): "localhost" (default), "*", or https://host[:port]
  --queue-limit N       requests that may wait while one generates (default 16; beyond: 429)
  --max-body-bytes N    request body limit (default 1048576)
  --stats-limit N       request timings kept for GET /v1/slm/stats (default 200)
  --threads N           ONNX Runtime threads (default 1: measured as fast as 2 for the embedded
                        models, and it leaves a core to the browser on a small machine)
  --kv-cache-mb N       memory cap of the prefix cache that keeps conversations' KV states across
                        requests (default 256; 0 turns it off)
  --int8-step           q8 and q4 decode on the browser's int8 step of our own (WebAssembly, one thread)
                        instead of native ONNX Runtime: the browser's answers token for token, its KV reuse
                        with them (default: native ONNX Runtime, the faster here)
  --quiet               no per-request log lines`;

/**
 * ONNX Runtime intra-op threads when --threads is not given. Measured on the 2-core dev machine
 * (onnxruntime-node, 128-token greedy decode): slm-reference 657 tok/s on 1 thread, 662 on 2;
 * slm-pocket 2070 vs 1165. A second thread buys nothing for models this small, while its spinning
 * takes the core the browser beside it needs (docs/performance.md, "Hosted").
 */
export const DEFAULT_THREADS = 1;

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const schema = z.object({
  port: int(0, 65535).default(8787),
  host: z.string().min(1).default('127.0.0.1'),
  model: z.string().regex(/^[\w.-]+$/, 'a folder name (letters, digits, . _ -)').default('slm-reference'),
  'models-dir': z.string().min(1).default('public/models'),
  dtype: z.enum(DTYPES).default('fp32'),
  'queue-limit': int(0, 10_000).default(16),
  'max-body-bytes': int(1024, 100 * 1024 * 1024).default(1024 * 1024),
  'stats-limit': int(1, 100_000).default(200),
  threads: int(1, 256).optional(),
  'kv-cache-mb': int(0, 65_536).default(256),
});

/** Parses argv (without node and the script) and the environment. Throws an Error with a readable message. */
export function parseConfig(argv: readonly string[], envVars: NodeJS.ProcessEnv = process.env): ServerConfig {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      model: { type: 'string' },
      'models-dir': { type: 'string' },
      dtype: { type: 'string' },
      'api-key': { type: 'string' },
      'allow-origin': { type: 'string', multiple: true },
      'queue-limit': { type: 'string' },
      'max-body-bytes': { type: 'string' },
      'stats-limit': { type: 'string' },
      threads: { type: 'string' },
      'kv-cache-mb': { type: 'string' },
      'int8-step': { type: 'boolean' },
      quiet: { type: 'boolean' },
    },
    strict: true,
  });
  const parsed = schema.safeParse({ ...values, 'models-dir': values['models-dir'] ?? envVars['SLM_MODELS_DIR'] });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`--${String(issue?.path[0] ?? '?')}: ${issue?.message ?? 'invalid value'}`);
  }
  const c = parsed.data;
  const apiKey = values['api-key'] ?? envVars['SLM_SERVER_API_KEY'] ?? null;
  return {
    host: c.host,
    port: c.port,
    modelsDir: path.resolve(c['models-dir']),
    model: c.model,
    dtype: c.dtype,
    apiKey: apiKey && apiKey.length > 0 ? apiKey : null,
    origins: parseOriginPolicy(values['allow-origin'] ?? []),
    queueLimit: c['queue-limit'],
    maxBodyBytes: c['max-body-bytes'],
    statsLimit: c['stats-limit'],
    threads: c.threads ?? DEFAULT_THREADS,
    kvCacheMb: c['kv-cache-mb'],
    int8Step: values['int8-step'] ?? false,
    quiet: values.quiet ?? false,
  };
}
