/** Loads the model, builds the app and listens: used by main.ts and by the tests (port 0). */
import type { AddressInfo } from 'node:net';
import { createApp, type App } from './app';
import type { ServerConfig } from './config';
import { ReferenceModel, resolveModelId, type ChatModel } from './model';

export interface RunningServer extends App {
  model: ChatModel;
  /** http://host:port */
  url: string;
  /** http://host:port/v1, what an OpenAI client takes as baseURL. */
  baseURL: string;
  port: number;
  close(): Promise<void>;
}

export interface StartOptions extends Omit<ServerConfig, 'quiet' | 'kvCacheMb'> {
  /** Prefix cache cap, MiB (0: off; default 256). */
  kvCacheMb?: number;
  log: (line: string) => void;
  /** An already loaded model (tests share one between servers); otherwise it is loaded here. */
  preloaded?: ChatModel;
  /** Whether close() disposes the model (default: when it was loaded here). */
  disposeModel?: boolean;
}

export async function loadModel(config: Pick<ServerConfig, 'modelsDir' | 'model' | 'dtype' | 'threads' | 'int8Step'> & { kvCacheMb?: number }, log: (line: string) => void): Promise<ChatModel> {
  const modelId = resolveModelId(config.modelsDir, config.model, log);
  const t0 = performance.now();
  const model = await ReferenceModel.load({ modelsDir: config.modelsDir, modelId, dtype: config.dtype, ...(config.threads ? { threads: config.threads } : {}), ...(config.kvCacheMb !== undefined ? { kvCacheMb: config.kvCacheMb } : {}), ...(config.int8Step ? { int8Step: true } : {}) });
  log(`loaded ${model.id} (${model.dtype}${config.int8Step ? ', on the int8 step' : ''}, context ${model.maxContext ?? '?'}) in ${Math.round(performance.now() - t0)} ms`);
  for (const p of model.int8Weights) {
    const kept = p.kept ? `; ${p.kept} left int8 (${p.keptReasons.join('; ')})` : '';
    log(`int8 weights of ${p.converted} MatMulInteger made uint8 in ${Math.round(p.ms)} ms (the same answers on every CPU)${kept}`);
  }
  return model;
}

export async function startServer(opts: StartOptions): Promise<RunningServer> {
  const model = opts.preloaded ?? (await loadModel(opts, opts.log));
  const disposeModel = opts.disposeModel ?? opts.preloaded === undefined;
  const app = createApp({
    model,
    apiKey: opts.apiKey,
    origins: opts.origins,
    queueLimit: opts.queueLimit,
    maxBodyBytes: opts.maxBodyBytes,
    statsLimit: opts.statsLimit,
    log: opts.log,
  });
  await new Promise<void>((resolve, reject) => {
    app.server.once('error', reject);
    app.server.listen(opts.port, opts.host, () => {
      app.server.off('error', reject);
      resolve();
    });
  });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? (address satisfies AddressInfo).port : opts.port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const url = `http://${host}:${port}`;
  return {
    ...app,
    model,
    url,
    baseURL: `${url}/v1`,
    port,
    close: async () => {
      await new Promise<void>((resolve) => {
        app.server.close(() => resolve());
        app.server.closeAllConnections();
      });
      if (disposeModel) await model.dispose();
    },
  };
}
