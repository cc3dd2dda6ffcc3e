/**
 * The only place that constructs SDK clients: the official `openai` package (OpenAI, or AzureOpenAI
 * for Azure deployments) from a ClientConfig. Retries are off by default (a retry would hide in the
 * timing record), the SDK's console logging is off (errors are reported as HostedError), and
 * redirects are refused so a key can never follow one to another origin. Its `fetch` notes when
 * each read of a streamed body arrived (arrival.ts), which the engine's timing record uses.
 */
import OpenAI, { AzureOpenAI } from 'openai';
import { timedFetch } from './arrival';
import type { ClientConfig } from './presets';

export interface ClientOptions {
  maxRetries?: number;
  /** The SDK's whole-request timeout (ms); the engine's own idle timeout is usually the one that fires. */
  timeoutMs?: number;
}

/** Stand-in for "no key": the SDK insists on one, and the Authorization header is then removed. */
const NO_KEY = 'no-key';

export function createClient(config: ClientConfig, options: ClientOptions = {}): OpenAI {
  const common = {
    dangerouslyAllowBrowser: true,
    maxRetries: options.maxRetries ?? 0,
    timeout: options.timeoutMs ?? 10 * 60_000,
    logLevel: 'off' as const,
    organization: null,
    project: null,
    fetchOptions: { redirect: 'error' as const },
    fetch: timedFetch(),
  };
  if (config.kind === 'azure-openai') {
    const credential = config.credential;
    return new AzureOpenAI({
      ...common,
      baseURL: null,
      endpoint: config.endpoint,
      deployment: config.deployment,
      apiVersion: config.apiVersion,
      defaultHeaders: config.defaultHeaders,
      ...(credential.type === 'api-key' ? { apiKey: credential.key } : { azureADTokenProvider: () => Promise.resolve(credential.token) }),
    });
  }
  return new OpenAI({
    ...common,
    baseURL: config.baseURL,
    apiKey: config.bearer ?? NO_KEY,
    // No bearer (no key, or the key goes in an api-key header): send no Authorization header at all.
    defaultHeaders: config.bearer === null ? { ...config.defaultHeaders, Authorization: null } : config.defaultHeaders,
    defaultQuery: config.defaultQuery,
  });
}
