export { HostedEngine, DEFAULT_FIRST_CHUNK_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS, mapFinishReason, type HostedEngineOptions } from './HostedEngine';
export { HostedError, isHostedError, parseRetryAfter, redact, type HostedErrorCode } from './errors';
export { KeyRing, MemoryKeyStorage, bindKey, browserKeyStorage, endpointOrigin, keyForRequest, type BoundKey, type KeyStorage } from './keys';
export { PRESETS, PRESET_IDS, buildClientConfig, defaultSettings, isPresetId, type ClientConfig, type EndpointPreset, type EndpointSettings, type PresetId } from './presets';
export { buildChatRequest, estimateTokens } from './request';
