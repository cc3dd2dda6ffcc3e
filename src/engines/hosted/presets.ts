// Over 300 lines: the preset table is data (ten endpoints and what each accepts); the one function that turns a preset and a key into a client configuration is checked against it.
/**
 * Endpoint presets (pure data) and the pure function that turns the user's endpoint settings plus
 * a key into a client configuration. No network and no SDK objects here (see client.ts), so every
 * preset's URL, headers and query can be checked in unit tests.
 */
import { HostedError } from './errors';
import { endpointOrigin, keyForRequest, type BoundKey } from './keys';

export type PresetId = 'reference' | 'openai' | 'azure-openai' | 'azure-foundry' | 'github-models' | 'ollama' | 'lmstudio' | 'vllm' | 'llamacpp' | 'custom';

/** Request fields beyond OpenAI's that an endpoint understands (sent only where true). */
export interface ParamSupport {
  topK: boolean;
  /** `min_tokens` (vLLM's name): ignore end-of-sequence until this many tokens. */
  minTokens: boolean;
  repetitionPenalty: boolean;
}

export interface EndpointPreset {
  id: PresetId;
  label: string;
  /** `azure-openai` uses the deployments URL scheme and api-version (the SDK's AzureOpenAI client). */
  kind: 'openai-compatible' | 'azure-openai';
  /** Default base URL; `{resource}` is a placeholder the user must fill in. */
  baseUrl: string;
  key: 'required' | 'optional' | 'none';
  /** How the key is sent: `Authorization: Bearer` or an `api-key` header (Azure). */
  auth: 'bearer' | 'api-key';
  maxTokensParam: 'max_tokens' | 'max_completion_tokens';
  params: ParamSupport;
  /** Whether GET {baseUrl}/models lists the usable model names. */
  listModels: boolean;
  /** Suggested model; '' means "the first one the endpoint lists". */
  defaultModel: string;
  /** Default `api-version` query parameter (Azure), null for none. */
  apiVersion: string | null;
  /** What to do when the browser cannot reach it (usually CORS). */
  corsHint: string;
  /**
   * The JSON output the service constrains (`response_format`): 'json_schema' (strict schema,
   * also JSON mode), 'json_object' (JSON mode only), 'none' (the answer is asked for as text).
   * An endpoint that refuses what was sent gets the same request as plain text (HostedEngine).
   */
  structuredOutput: StructuredOutputSupport;
}

export type StructuredOutputSupport = 'json_schema' | 'json_object' | 'none';

const NONE: ParamSupport = { topK: false, minTokens: false, repetitionPenalty: false };

export const PRESETS: Readonly<Record<PresetId, EndpointPreset>> = {
  reference: {
    id: 'reference',
    label: 'SLM reference server (npm run server)',
    kind: 'openai-compatible',
    baseUrl: 'http://127.0.0.1:8787/v1',
    key: 'optional',
    auth: 'bearer',
    maxTokensParam: 'max_tokens',
    params: { topK: true, minTokens: true, repetitionPenalty: true },
    listModels: true,
    defaultModel: '',
    apiVersion: null,
    corsHint: 'Start it with "npm run server"; it allows localhost pages by default, other pages with --allow-origin <origin>.',
    // The reference server constrains with the same grammar engine as the browser (server/model.ts).
    structuredOutput: 'json_schema',
  },
  openai: {
    id: 'openai',
    label: 'OpenAI',
    kind: 'openai-compatible',
    baseUrl: 'https://api.openai.com/v1',
    key: 'required',
    auth: 'bearer',
    maxTokensParam: 'max_completion_tokens',
    params: NONE,
    listModels: true,
    defaultModel: 'gpt-4.1-mini',
    apiVersion: null,
    corsHint: 'api.openai.com accepts browser requests, so check your network, VPN or proxy.',
    // Structured Outputs (strict JSON Schema) and JSON mode.
    structuredOutput: 'json_schema',
  },
  'azure-openai': {
    id: 'azure-openai',
    label: 'Azure OpenAI (deployment)',
    kind: 'azure-openai',
    baseUrl: 'https://{resource}.openai.azure.com',
    key: 'required',
    auth: 'api-key',
    maxTokensParam: 'max_completion_tokens',
    params: NONE,
    listModels: false,
    defaultModel: '',
    apiVersion: '2024-10-21',
    corsHint: 'Check the resource endpoint, and that the resource has no network restriction (firewall, private endpoint) that excludes you.',
    // Structured Outputs from api-version 2024-08-01-preview (the default here is 2024-10-21).
    structuredOutput: 'json_schema',
  },
  // Also right for Azure's OpenAI v1 endpoint (https://{resource}.openai.azure.com/openai/v1) with apiVersion null.
  'azure-foundry': {
    id: 'azure-foundry',
    label: 'Azure AI Foundry models (OpenAI-compatible inference endpoint)',
    kind: 'openai-compatible',
    baseUrl: 'https://{resource}.services.ai.azure.com/models',
    key: 'required',
    auth: 'api-key',
    maxTokensParam: 'max_tokens',
    params: NONE,
    listModels: false,
    defaultModel: '',
    apiVersion: '2024-05-01-preview',
    corsHint: 'Check the endpoint address, and that the resource has no network restriction that excludes you.',
    // The model inference API's response_format documents json_object; json_schema depends on the model, so only JSON mode is asked for.
    structuredOutput: 'json_object',
  },
  'github-models': {
    id: 'github-models',
    label: 'GitHub Models',
    kind: 'openai-compatible',
    baseUrl: 'https://models.github.ai/inference',
    key: 'required',
    auth: 'bearer',
    maxTokensParam: 'max_tokens',
    params: NONE,
    listModels: false,
    defaultModel: 'openai/gpt-4.1-mini',
    apiVersion: null,
    corsHint: 'If the service does not accept requests from browser pages, call it through a server-side proxy.',
    // Passed through to the model's provider; a model that refuses it falls back to text.
    structuredOutput: 'json_schema',
  },
  ollama: {
    id: 'ollama',
    label: 'Ollama',
    kind: 'openai-compatible',
    baseUrl: 'http://localhost:11434/v1',
    key: 'none',
    auth: 'bearer',
    maxTokensParam: 'max_tokens',
    params: NONE,
    listModels: true,
    defaultModel: '',
    apiVersion: null,
    corsHint: 'Start Ollama with OLLAMA_ORIGINS set to this page\'s origin (e.g. OLLAMA_ORIGINS=http://localhost:5173 ollama serve).',
    // Structured outputs since Ollama 0.5 (response_format json_schema).
    structuredOutput: 'json_schema',
  },
  lmstudio: {
    id: 'lmstudio',
    label: 'LM Studio',
    kind: 'openai-compatible',
    baseUrl: 'http://localhost:1234/v1',
    key: 'none',
    auth: 'bearer',
    maxTokensParam: 'max_tokens',
    params: { topK: true, minTokens: false, repetitionPenalty: false },
    listModels: true,
    defaultModel: '',
    apiVersion: null,
    corsHint: 'In LM Studio\'s Developer tab, start the server with "Enable CORS" turned on.',
    // Structured output (json_schema) through its llama.cpp / MLX engines.
    structuredOutput: 'json_schema',
  },
  vllm: {
    id: 'vllm',
    label: 'vLLM',
    kind: 'openai-compatible',
    baseUrl: 'http://localhost:8000/v1',
    key: 'optional',
    auth: 'bearer',
    maxTokensParam: 'max_tokens',
    params: { topK: true, minTokens: true, repetitionPenalty: true },
    listModels: true,
    defaultModel: '',
    apiVersion: null,
    corsHint: 'Start vLLM with --allowed-origins \'["<this page\'s origin>"]\'.',
    // Guided decoding (xgrammar / outlines) behind response_format.
    structuredOutput: 'json_schema',
  },
  llamacpp: {
    id: 'llamacpp',
    label: 'llama.cpp server',
    kind: 'openai-compatible',
    baseUrl: 'http://localhost:8080/v1',
    key: 'optional',
    auth: 'bearer',
    maxTokensParam: 'max_tokens',
    params: { topK: true, minTokens: false, repetitionPenalty: false },
    listModels: true,
    defaultModel: '',
    apiVersion: null,
    corsHint: 'Check llama-server is running with the host and port in this URL.',
    // llama-server turns response_format's schema into a grammar.
    structuredOutput: 'json_schema',
  },
  custom: {
    id: 'custom',
    label: 'Custom OpenAI-compatible endpoint',
    kind: 'openai-compatible',
    baseUrl: '',
    key: 'optional',
    auth: 'bearer',
    maxTokensParam: 'max_tokens',
    params: NONE,
    listModels: true,
    defaultModel: '',
    apiVersion: null,
    corsHint: 'Allow this page\'s origin in the server\'s CORS settings.',
    // Unknown: asked for, and a refusal falls back to text.
    structuredOutput: 'json_schema',
  },
};

export const PRESET_IDS: readonly PresetId[] = Object.values(PRESETS).map((p) => p.id);

export function isPresetId(id: string): id is PresetId {
  return Object.hasOwn(PRESETS, id);
}

/** What the user chose for one endpoint. */
export interface EndpointSettings {
  presetId: PresetId;
  /** Base URL; for Azure OpenAI the resource endpoint (https://NAME.openai.azure.com). */
  baseUrl: string;
  /** Model name; for Azure OpenAI the deployment name. '' = the first the endpoint lists. */
  model: string;
  /** Overrides the preset's api-version; null sends none. */
  apiVersion?: string | null;
  /** Overrides how the key is sent (Azure: 'bearer' for a Microsoft Entra token). */
  auth?: 'bearer' | 'api-key';
  /** Send the SDK's x-stainless-* telemetry headers (off by default: fewer CORS preflight problems). */
  sdkHeaders?: boolean;
}

export function defaultSettings(presetId: PresetId): EndpointSettings {
  const p = PRESETS[presetId];
  return { presetId, baseUrl: p.baseUrl, model: p.defaultModel, apiVersion: p.apiVersion, auth: p.auth };
}

/** Headers removed from every request: the openai SDK's telemetry (each would need a CORS allowance). */
export const SDK_TELEMETRY_HEADERS = [
  'X-Stainless-Lang',
  'X-Stainless-Package-Version',
  'X-Stainless-OS',
  'X-Stainless-Arch',
  'X-Stainless-Runtime',
  'X-Stainless-Runtime-Version',
  'X-Stainless-Retry-Count',
  'X-Stainless-Timeout',
] as const;

/** Header values; null removes a header the SDK would otherwise send. */
export type HeaderMap = Record<string, string | null>;

interface CommonConfig {
  /** Origin requests go to (the only one the key may be sent to). */
  origin: string;
  defaultHeaders: HeaderMap;
  corsHint: string;
}

export type ClientConfig =
  | (CommonConfig & {
      kind: 'openai-compatible';
      baseURL: string;
      /** Sent as `Authorization: Bearer`; null: no Authorization header at all. */
      bearer: string | null;
      defaultQuery: Record<string, string>;
    })
  | (CommonConfig & {
      kind: 'azure-openai';
      endpoint: string;
      deployment: string;
      apiVersion: string;
      credential: { type: 'api-key'; key: string } | { type: 'bearer'; token: string };
    });

const invalid = (message: string) => new HostedError({ code: 'invalid_config', message });

/**
 * Client configuration for `settings` with `key`. Throws HostedError: 'invalid_config' (bad or
 * unfinished URL, missing key or deployment) or 'key_origin_mismatch' (the key belongs elsewhere).
 */
export function buildClientConfig(settings: EndpointSettings, key: BoundKey | null): ClientConfig {
  const preset = PRESETS[settings.presetId];
  const baseUrl = settings.baseUrl.trim().replace(/\/+$/, '');
  if (!baseUrl) throw invalid(`Enter the base URL of the ${preset.label} endpoint.`);
  if (baseUrl.includes('{') || baseUrl.includes('}')) throw invalid(`Replace the {placeholder} in ${baseUrl} with your resource name.`);
  const origin = endpointOrigin(baseUrl);
  const secret = keyForRequest(key, baseUrl);
  if (preset.key === 'required' && !secret) throw invalid(`${preset.label} needs an API key. Enter one for ${origin}.`);
  const auth = settings.auth ?? preset.auth;
  const apiVersion = settings.apiVersion === undefined ? preset.apiVersion : settings.apiVersion;
  const defaultHeaders: HeaderMap = {};
  if (!settings.sdkHeaders) for (const h of SDK_TELEMETRY_HEADERS) defaultHeaders[h] = null;

  if (preset.kind === 'azure-openai') {
    if (!settings.model.trim()) throw invalid('Enter the Azure OpenAI deployment name.');
    if (!apiVersion) throw invalid('Azure OpenAI needs an api-version (e.g. 2024-10-21).');
    if (!secret) throw invalid(`Azure OpenAI needs an API key or token for ${origin}.`);
    return {
      kind: 'azure-openai',
      origin,
      endpoint: baseUrl,
      deployment: settings.model.trim(),
      apiVersion,
      credential: auth === 'bearer' ? { type: 'bearer', token: secret } : { type: 'api-key', key: secret },
      defaultHeaders,
      corsHint: preset.corsHint,
    };
  }
  if (secret && auth === 'api-key') {
    defaultHeaders['api-key'] = secret;
    defaultHeaders['Authorization'] = null;
  }
  return {
    kind: 'openai-compatible',
    origin,
    baseURL: baseUrl,
    bearer: secret && auth === 'bearer' ? secret : null,
    defaultQuery: apiVersion ? { 'api-version': apiVersion } : {},
    defaultHeaders,
    corsHint: preset.corsHint,
  };
}
