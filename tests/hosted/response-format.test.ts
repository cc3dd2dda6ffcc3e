// Structured output on the hosted side (issue 15): the app's output format → OpenAI's
// response_format per preset, refused before anything is sent when the schema is bad, and a
// plain-text retry with the specific message when an endpoint refuses response_format.
import { describe, expect, it } from 'vitest';
import { HostedEngine, refusedResponseFormat } from '../../src/engines/hosted/HostedEngine';
import { HostedError } from '../../src/engines/hosted/errors';
import { PRESET_IDS, PRESETS } from '../../src/engines/hosted/presets';
import { buildChatRequest, FORMAT_FALLBACK_MESSAGE, JSON_MODE_ONLY_MESSAGE, responseFormatParam } from '../../src/engines/hosted/request';
import type { ResponseFormat } from '../../src/inference/response-format';
import { DEFAULT_GENERATION, type GenerationParams } from '../../src/engines/types';
import { errorText } from '../../src/lib/errors';
import { sendJson, fakeServersPerTest, streamAnswer, type FakeServer, type Handler } from './fake-server';

const SCHEMA = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } }, required: ['name', 'age'], additionalProperties: false };
const JSON_SCHEMA: ResponseFormat = { type: 'json_schema', name: 'person', schema: SCHEMA };
const params = (responseFormat: ResponseFormat): GenerationParams => ({ ...DEFAULT_GENERATION, responseFormat });
const msgs = [{ role: 'user' as const, content: 'Ann, 31' }];

const serve = fakeServersPerTest();
const engineFor = (s: FakeServer, presetId: 'custom' | 'reference' = 'custom') => new HostedEngine({ endpoint: { presetId, baseUrl: s.baseURL, model: 'fake-model' } });

describe('response_format per preset', () => {
  it('sends a strict json_schema where the service supports it, json_object for JSON mode, nothing for text', () => {
    for (const id of ['reference', 'openai', 'azure-openai'] as const) {
      expect(PRESETS[id].structuredOutput).toBe('json_schema');
      expect(buildChatRequest('m', msgs, params(JSON_SCHEMA), PRESETS[id]).response_format).toEqual({ type: 'json_schema', json_schema: { name: 'person', schema: SCHEMA, strict: true } });
      expect(buildChatRequest('m', msgs, params({ type: 'json_object' }), PRESETS[id]).response_format).toEqual({ type: 'json_object' });
      expect(buildChatRequest('m', msgs, params({ type: 'text' }), PRESETS[id])).not.toHaveProperty('response_format');
      expect(buildChatRequest('m', msgs, DEFAULT_GENERATION, PRESETS[id])).not.toHaveProperty('response_format');
    }
  });
  it('says so where a preset cannot constrain to a schema', () => {
    expect(responseFormatParam(JSON_SCHEMA, 'json_object')).toEqual({ param: { type: 'json_object' }, note: JSON_MODE_ONLY_MESSAGE });
    expect(responseFormatParam(JSON_SCHEMA, 'none')).toEqual({ param: null, note: FORMAT_FALLBACK_MESSAGE });
    expect(responseFormatParam({ type: 'json_object' }, 'json_object')).toEqual({ param: { type: 'json_object' }, note: null });
    expect(responseFormatParam({ type: 'text' }, 'none')).toEqual({ param: null, note: null });
    expect(buildChatRequest('m', msgs, params(JSON_SCHEMA), PRESETS['azure-foundry']).response_format).toEqual({ type: 'json_object' });
    for (const id of PRESET_IDS) expect(['json_schema', 'json_object', 'none']).toContain(PRESETS[id].structuredOutput);
  });
});

describe('HostedEngine with a response format', () => {
  it('sends the schema and marks nothing when the endpoint takes it', async () => {
    const s = await serve((_req, res) => streamAnswer(res, ['{"name": "Ann", "age": 31}']));
    const r = await engineFor(s).generate({ messages: msgs, params: params(JSON_SCHEMA) });
    expect(JSON.parse(s.requests[0]?.body ?? '{}').response_format).toEqual({ type: 'json_schema', json_schema: { name: 'person', schema: SCHEMA, strict: true } });
    expect(r.text).toBe('{"name": "Ann", "age": 31}');
    expect(r.formatFallback).toBeUndefined();
  });

  it('retries as plain text with the specific message when the endpoint refuses response_format', async () => {
    const s = await serve((_req, res, c) => {
      if (JSON.parse(c.body).response_format) sendJson(res, 400, { error: { message: "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model.", type: 'invalid_request_error', param: 'response_format' } });
      else streamAnswer(res, ['Ann is 31.']);
    });
    const r = await engineFor(s).generate({ messages: msgs, params: params(JSON_SCHEMA) });
    expect(s.requests).toHaveLength(2);
    expect(JSON.parse(s.requests[1]?.body ?? '{}')).not.toHaveProperty('response_format');
    expect(r.text).toBe('Ann is 31.');
    expect(r.formatFallback).toBe('this endpoint does not support JSON Schema output; the answer was requested as plain text');
  });

  it('does not retry other 400s (the error stays the error)', async () => {
    const s = await serve((_req, res) => sendJson(res, 400, { error: { message: 'max_tokens is too large' } }));
    const e = await engineFor(s).generate({ messages: msgs, params: params(JSON_SCHEMA) }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HostedError);
    expect(s.requests).toHaveLength(1);
    expect(refusedResponseFormat(e)).toBe(false);
    expect(refusedResponseFormat(new HostedError({ code: 'bad_request', status: 422, message: 'x rejected the request (422). The server said: "json_schema unsupported"' }))).toBe(true);
    expect(refusedResponseFormat(new HostedError({ code: 'server_error', status: 500, message: 'response_format' }))).toBe(false);
  });

  it('refuses a bad schema before anything is sent, with the keyword and path', async () => {
    const s = await serve((_req, res) => streamAnswer(res, ['x']));
    const bad: ResponseFormat = { type: 'json_schema', name: 'p', schema: { type: 'object', properties: { a: { not: {} } } } };
    const e = await engineFor(s).generate({ messages: msgs, params: params(bad) }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HostedError);
    expect(errorText(e)).toContain('"not" at #/properties/a/not');
    const deep = await engineFor(s).generate({ messages: msgs, params: params({ type: 'json_schema', name: 'p', schema: { type: 'integer', minimum: 3, maximum: 1 } }) }).catch((x: unknown) => x);
    expect(errorText(deep)).toContain('The range at # is empty');
    expect(s.requests).toHaveLength(0);
  });
});
