import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../src/compare/strip';
import {
  decodeShare,
  encodeShare,
  FILE_FORMAT,
  LINK_BUDGET_CHARS,
  MAX_FRAGMENT_CHARS,
  parseShareFile,
  payloadFromHash,
  shareFileText,
  shareUrl,
} from '../../src/share/codec';
import { migrate, ShareError, SHARE_VERSION, type ShareState } from '../../src/share/schema';
import { sessionOf, setupState, snapshotOf } from '../../src/share/state';
import { tallySentence, tallySession } from '../../src/compare/agreement-tally';
import type { WorkerEnvironment } from '../../src/engines/local/protocol';

const metrics = {
  engine: 'local' as const,
  model: 'slm-pocket',
  device: 'wasm',
  dtype: 'fp32',
  threads: 2,
  crossOriginIsolated: true,
  ttftMs: 21.5,
  e2eMs: 412.25,
  prefillTps: 1441.1,
  decodeTps: 798.4,
  engineDecodeTps: 801.2,
  inputTokens: 17,
  outputTokens: 64,
  tokenCountSource: 'tokenizer' as const,
};

/** Every field set, none at its default, strings with quotes, markup, emoji and non-Latin text. */
const FULL: ShareState = {
  v: 5,
  local: { source: { type: 'mirror', modelId: 'org/My-Model.v2', revision: 'refs/pr/7', host: 'https://models.example.org/hub/' }, dtype: 'q4f16', device: 'webgpu', threads: 3, warmup: false },
  hosted: { presetId: 'azure-openai', baseUrl: 'https://res.openai.azure.com', model: 'gpt-4o-deploy', apiVersion: '2024-10-21', auth: 'bearer', sdkHeaders: true },
  generation: {
    maxNewTokens: 333,
    temperature: 1.3,
    topP: 0.85,
    topK: 17,
    repetitionPenalty: 1.2,
    greedy: false,
    minNewTokens: 5,
    responseFormat: { type: 'json_schema', name: 'person', schema: { type: 'object', properties: { name: { type: 'string', description: 'ünïcødé "q"' }, age: { type: 'integer' } }, required: ['name', 'age'] } },
  },
  systemPrompt: 'Answer in "quotes" <b>bold</b> — ünïcødé 日本語 🙂\nsecond line',
  prompt: "What's 2+2? </script><script>alert(1)</script>",
  snapshot: {
    takenAt: '2026-11-25T20:15:00.000Z',
    device: { userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/156', hardwareConcurrency: 2, crossOriginIsolated: true, adapter: 'google swiftshader (SwiftShader Device)', backend: 'wasm', threads: 2 },
    prompt: "What's 2+2? </script><script>alert(1)</script>",
    load: {
      downloadMs: 812.5,
      downloadBytes: 3_430_000,
      sessionCreateMs: 2100.1,
      warmupMs: 5238.8,
      totalMs: 8538,
      memory: { weightsBytes: 3_430_000, wasmHeapBytes: 41_943_040, pageBytes: 98_000_000, baselineBytes: 30_000_000, note: 'measured <b>late</b>' },
    },
    answers: [
      { pane: 'local', label: 'slm-pocket', output: '4 <img src=x onerror=alert(1)>', finishReason: 'stop', error: null, metrics: { ...metrics, memoryPeakBytes: 45_088_768 }, bytesSent: 0 },
      { pane: 'hosted', label: 'gpt-4o-deploy', output: '', finishReason: 'error', error: 'rejected (401)', metrics: null, bytesSent: 312 },
    ],
  },
  suite: {
    kind: 'inline',
    suite: {
      format: 'slm-playground-suite',
      version: 1,
      id: 'my-suite',
      name: 'Mine <b>bold</b>',
      description: 'ünïcødé 🙂',
      cases: [
        { id: 'a', category: 'math', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'What is 2+2?' }], expected: '4', scorer: { type: 'numeric', tolerance: 0.5 } },
        { id: 'b', category: 'style', messages: [{ role: 'user', content: 'Greet me' }], scorer: { type: 'regex', pattern: '^hello', flags: 'i' } },
        { id: 'c', category: 'style', messages: [{ role: 'user', content: 'Be nice' }], scorer: { type: 'judge', rubric: 'Kind and short.' } },
        {
          id: 'd',
          category: 'json',
          messages: [{ role: 'user', content: 'Return JSON with name Eve and age 33.' }],
          expected: '{"name": "Eve", "age": 33}',
          scorer: { type: 'json-fields', fields: [{ path: '/name', match: 'normalized' }, { path: '/age', match: 'numeric', tolerance: 0 }] },
          schema: { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } }, required: ['name', 'age'], additionalProperties: false },
        },
      ],
    },
  },
  suiteSnapshot: {
    takenAt: '2026-11-26T03:00:00.000Z',
    device: { userAgent: 'Mozilla/5.0 Chrome/156', hardwareConcurrency: 2, crossOriginIsolated: true, adapter: null, backend: 'wasm', threads: 1 },
    suiteId: 'my-suite',
    engines: [
      { kind: 'local', label: 'slm-pocket', model: 'slm-pocket', passed: 1, scored: 2, errors: 0, e2eP50: 40.5, e2eP95: 80, ttftP50: 12, decodeTps: 700.5, inputTokens: 60, outputTokens: 20, costUsd: 0, memoryPeakBytes: 52_428_800 },
      { kind: 'hosted', label: 'gpt-4o', model: 'gpt-4o', passed: 2, scored: 3, errors: 0, e2eP50: 400, e2eP95: 900.25, ttftP50: 200, decodeTps: null, inputTokens: 70, outputTokens: 30, costUsd: 0.000475, memoryPeakBytes: null },
    ],
    cells: [
      [0, 0, 1, 40],
      [1, 0, 0, 81],
      [2, 0, null, 30],
      [0, 1, 1, 400],
    ],
  },
  session: {
    entries: [
      {
        prompt: 'How many is a thousand?',
        local: '1000',
        hosted: '1,000',
        localError: null,
        hostedError: null,
        localTtftMs: 20,
        hostedTtftMs: 300.5,
        localE2eMs: 80,
        hostedE2eMs: 900,
        hostedCostUsd: 0.00012,
        verdict: { verdict: 'agree', decidedBy: 'numbers', reason: 'agree (numbers): the same value, 1000', exact: false, normalized: false, json: null, numbers: true, tokenF1: 0, rougeL: 0, judge: null, judgeError: null },
      },
      {
        prompt: 'Capital of Australia? <script>',
        local: 'Sydney',
        hosted: 'Canberra',
        localError: null,
        hostedError: null,
        localTtftMs: 15,
        hostedTtftMs: 250,
        localE2eMs: 60,
        hostedE2eMs: 700,
        hostedCostUsd: null,
        verdict: { verdict: 'disagree', decidedBy: 'similarity', reason: 'disagree (similarity): ROUGE-L 0.00 < 0.6 (judge failed: no VERDICT line)', exact: false, normalized: false, json: null, numbers: null, tokenF1: 0, rougeL: 0, judge: null, judgeError: 'no VERDICT line' },
      },
      {
        prompt: 'hi',
        local: 'hello',
        hosted: '',
        localError: null,
        hostedError: 'rejected (401)',
        localTtftMs: 10,
        hostedTtftMs: null,
        localE2eMs: 40,
        hostedE2eMs: null,
        hostedCostUsd: null,
        verdict: { verdict: null, decidedBy: null, reason: 'no verdict: the hosted answer failed (rejected (401))', exact: false, normalized: false, json: null, numbers: null, tokenF1: null, rougeL: null, judge: null, judgeError: null },
      },
    ],
    loadMs: 8538,
  },
};

async function refusal(payload: string): Promise<string> {
  try {
    await decodeShare(payload);
  } catch (e) {
    expect(e).toBeInstanceOf(ShareError);
    return (e as Error).message;
  }
  throw new Error('the payload was accepted');
}

async function deflate(text: string): Promise<string> {
  const bytes = new Uint8Array(await new Response(new Blob([text]).stream().pipeThrough(new CompressionStream('deflate-raw'))).arrayBuffer());
  return 'z' + Buffer.from(bytes).toString('base64url');
}

describe('share links: round trip', () => {
  it('every field survives encode → decode exactly', async () => {
    const payload = await encodeShare(FULL);
    expect(payload).toMatch(/^z[A-Za-z0-9_-]+$/);
    expect(await decodeShare(payload)).toEqual(FULL);
  });

  it('a setup without hosted pane or snapshot round-trips', async () => {
    const s: ShareState = { ...FULL, hosted: null, snapshot: null, suite: { kind: 'bundled', file: 'slm-skills-20.json', id: 'slm-skills-20', name: 'Skills', cases: 20 }, suiteSnapshot: null };
    expect(await decodeShare(await encodeShare(s))).toEqual(s);
  });

  it('goes into the fragment of any page URL and comes back out', async () => {
    const payload = await encodeShare(FULL);
    const url = shareUrl('https://user.github.io/repo/sub/?x=1#old', payload);
    expect(url.startsWith('https://user.github.io/repo/sub/?x=1#share=z')).toBe(true);
    expect(payloadFromHash(new URL(url).hash)).toBe(payload);
    expect(payloadFromHash('#other=1')).toBeNull();
    expect(payloadFromHash('')).toBeNull();
  });

  it('a share file round-trips and is told apart from other JSON', () => {
    expect(parseShareFile(shareFileText(FULL))).toEqual(FULL);
    expect(() => parseShareFile('{"v":1}')).toThrow(/not an SLM Playground share file/);
    expect(() => parseShareFile('not json')).toThrow(/not JSON/);
    expect(() => parseShareFile(JSON.stringify({ format: FILE_FORMAT, ...FULL, v: 'one' }))).toThrow(/schema version/);
  });

  it('links made by earlier versions keep opening (frozen fixtures)', async () => {
    const fixtures = JSON.parse(readFileSync('tests/fixtures/share-links.json', 'utf8')) as { version: number; payload: string; expect: { prompt: string; model: string } }[];
    expect(fixtures.map((f) => f.version)).toEqual(Array.from({ length: SHARE_VERSION }, (_, i) => i + 1));
    for (const f of fixtures) {
      const s = await decodeShare(f.payload);
      expect(s.v).toBe(SHARE_VERSION); // opened in the current version
      expect(s.prompt).toBe(f.expect.prompt);
      expect(s.local.source.modelId).toBe(f.expect.model);
      if (f.version === 1) expect([s.suite, s.suiteSnapshot]).toEqual([null, null]);
      if (f.version === 2) expect(s.suite).toMatchObject({ kind: 'bundled', file: 'slm-skills-20.json' });
      if (f.version < 3) expect(s.session).toBeNull();
      if (f.version < 4) expect(s.generation.responseFormat).toBeUndefined();
      if (f.version === 4) expect(s.generation.responseFormat).toMatchObject({ type: 'json_schema', name: 'person', schema: { required: ['name', 'age'] } });
      if (f.version < 5) expect(s.suiteSnapshot?.engines.map((e) => e.memoryPeakBytes) ?? []).toEqual(s.suiteSnapshot?.engines.map(() => null) ?? []);
      if (f.version === 5) {
        expect(s.suiteSnapshot!.engines.map((e) => [e.kind, e.memoryPeakBytes])).toEqual([['local', 24_313_856]]);
        expect(s.snapshot!.load!.memory).toMatchObject({ weightsBytes: 3_430_000, wasmHeapBytes: 24_248_320 });
        expect(s.snapshot!.answers[0]!.metrics!.memoryPeakBytes).toBe(24_313_856);
      }
      if (f.version === 3) {
        expect(s.session!.entries.length).toBeGreaterThanOrEqual(2);
        expect(tallySentence(tallySession(s.session!.entries))).toMatch(/^Local agreed with hosted on \d+ of \d+ prompts/);
      }
    }
  });

  it('a suite file name in a link cannot point anywhere but the bundled suites', async () => {
    for (const file of ['../models/x.json', 'https://evil.example/x.json', 'a/b.json', 'x.js']) {
      const bad = { ...FULL, suite: { kind: 'bundled', file, id: 'x', name: 'x', cases: 1 } };
      expect(await refusal(await deflate(JSON.stringify(bad)))).toMatch(/suite\.file: must be a bundled suite file name/);
    }
  });
});

describe('share links: a session\'s agreement (format 3)', () => {
  it('round-trips, and the receiver recomputes the same tally and decision from it', async () => {
    const back = await decodeShare(await encodeShare(FULL));
    expect(back.session).toEqual(FULL.session);
    expect(tallySentence(tallySession(back.session!.entries))).toBe(
      'Local agreed with hosted on 1 of 2 prompts (50%, 95% interval 9–91%), answered first on 2, cost $0 against $0.00012 (+1 at an unknown price); 1 without a verdict (an engine failed).',
    );
  });

  it('sessionOf keeps the last 100 exchanges and cuts long answers; none without exchanges', () => {
    const e = FULL.session!.entries[0]!;
    const many = Array.from({ length: 130 }, (_, i) => ({ ...e, prompt: `p${i}`, local: 'x'.repeat(9000) }));
    const s = sessionOf(many, null)!;
    expect(s.entries).toHaveLength(100);
    expect(s.entries[0]!.prompt).toBe('p30');
    expect(s.entries[0]!.local).toHaveLength(4000);
    expect(sessionOf([], 5)).toBeNull();
    expect(migrate(JSON.parse(JSON.stringify({ ...FULL, session: s })))).toEqual({ ...FULL, session: s });
  });

  it('a bad verdict in a link is refused naming the field', async () => {
    const s = structuredClone(FULL) as Record<string, any>;
    s.session.entries[0].verdict.rougeL = 7;
    expect(await refusal(await deflate(JSON.stringify(s)))).toMatch(/session\.entries\.0\.verdict\.rougeL/);
    s.session.entries[0].verdict.rougeL = 0;
    s.session.entries[0].verdict.decidedBy = 'vibes';
    expect(await refusal(await deflate(JSON.stringify(s)))).toMatch(/session\.entries\.0\.verdict\.decidedBy/);
  });
});

describe('share links: what goes in', () => {
  it('setupState copies the setup field by field: a key held beside the endpoint never gets in', async () => {
    const endpoint = { presetId: 'openai' as const, baseUrl: 'https://api.openai.com/v1', model: 'gpt-4o-mini', apiKey: 'sk-secret-123', key: 'sk-secret-123' };
    const s = setupState({ local: FULL.local, hosted: endpoint, generation: FULL.generation, systemPrompt: '', prompt: 'hi' });
    const text = JSON.stringify(s) + (await encodeShare(s)) + shareFileText(s);
    expect(text).not.toContain('sk-secret');
    expect(s.hosted).toEqual({ presetId: 'openai', baseUrl: 'https://api.openai.com/v1', model: 'gpt-4o-mini' });
    expect(migrate(JSON.parse(JSON.stringify(s)))).toEqual(s);
  });

  it('snapshotOf keeps every answer with its numbers, the device and the load', () => {
    const env: WorkerEnvironment = {
      crossOriginIsolated: true,
      hardwareConcurrency: 8,
      userAgent: 'UA',
      webgpuUnavailableReason: null,
      webgpu: { vendor: 'nvidia', architecture: 'ampere', device: '', description: 'RTX', isFallbackAdapter: false, features: ['shader-f16'], maxBufferSize: 1, maxStorageBufferBindingSize: 1 },
    };
    const exchange: Exchange = {
      prompt: 'p',
      answers: [
        { paneId: 'local', label: 'slm-pocket', metrics, bytesSent: 0, error: null, output: 'out', finishReason: 'length' },
        { paneId: 'hosted', label: 'h', metrics: null, bytesSent: 99, error: 'boom', output: '', finishReason: 'error' },
      ],
    };
    const snap = snapshotOf({ exchange, env, loaded: null, load: { downloadMs: 1, downloadBytes: 2, fromCache: false, sessionCreateMs: 3, warmupMs: 4, warmupTokens: 5, totalMs: 6 }, now: new Date('2026-01-02T03:04:05Z') });
    expect(snap).toEqual({
      takenAt: '2026-01-02T03:04:05.000Z',
      device: { userAgent: 'UA', hardwareConcurrency: 8, crossOriginIsolated: true, adapter: 'nvidia ampere (RTX)', backend: null, threads: null },
      prompt: 'p',
      load: { downloadMs: 1, downloadBytes: 2, sessionCreateMs: 3, warmupMs: 4, totalMs: 6 },
      answers: [
        { pane: 'local', label: 'slm-pocket', output: 'out', finishReason: 'length', error: null, metrics, bytesSent: 0 },
        { pane: 'hosted', label: 'h', output: '', finishReason: 'error', error: 'boom', metrics: null, bytesSent: 99 },
      ],
    });
    expect(migrate({ ...FULL, snapshot: snap })).toEqual({ ...FULL, snapshot: snap });
  });

  it('a setup with a typical prompt fits a link easily; a long snapshot goes past the link budget', async () => {
    const setup = await encodeShare({ ...FULL, snapshot: null, suite: null, suiteSnapshot: null, session: null });
    expect(setup.length).toBeLessThan(1000);
    const long = { ...FULL, snapshot: { ...FULL.snapshot!, answers: FULL.snapshot!.answers.map((a) => ({ ...a, output: Array.from({ length: 4000 }, (_, i) => `w${(i * 7919) % 10007}`).join(' ') })) } };
    expect((await encodeShare(long)).length).toBeGreaterThan(LINK_BUDGET_CHARS);
  });
});

describe('share links: hostile or broken links are refused with a reason', () => {
  const mutate = async (f: (s: Record<string, any>) => void) => {
    const s = structuredClone(FULL) as Record<string, any>;
    f(s);
    return refusal(await deflate(JSON.stringify(s)));
  };

  it('script URLs, credentials in URLs and bad model ids', async () => {
    expect(await mutate((s) => (s.hosted.baseUrl = 'javascript:alert(1)'))).toMatch(/hosted\.baseUrl: must be an http\(s\) URL/);
    expect(await mutate((s) => (s.hosted.baseUrl = 'https://user:pw@evil.example'))).toMatch(/hosted\.baseUrl/);
    expect(await mutate((s) => (s.local.source.host = 'data:text/html,<script>alert(1)</script>'))).toMatch(/local\.source\.host/);
    expect(await mutate((s) => (s.local.source.modelId = '<script>alert(1)</script>'))).toMatch(/local\.source/);
    expect(await mutate((s) => (s.local.source.modelId = '../../etc/passwd'))).toMatch(/local\.source/);
  });

  it('wrong types, unknown fields and out-of-range values, naming the field', async () => {
    expect(await mutate((s) => (s.generation.temperature = '0.7'))).toMatch(/generation\.temperature/);
    expect(await mutate((s) => (s.generation.maxNewTokens = 1e9))).toMatch(/generation\.maxNewTokens/);
    expect(await mutate((s) => (s.snapshot.answers[0].metrics.ttftMs = 'fast'))).toMatch(/snapshot\.answers\.0\.metrics\.ttftMs/);
    expect(await mutate((s) => (s.snapshot.answers[0].html = '<b>x</b>'))).toMatch(/snapshot\.answers\.0.*html/);
    expect(await mutate((s) => (s.onload = 'alert(1)'))).toMatch(/onload/);
    expect(await mutate((s) => (s.local.dtype = 'fp64'))).toMatch(/local\.dtype/);
    expect(await mutate((s) => (s.hosted.presetId = 'evil'))).toMatch(/hosted\.presetId/);
    expect(await mutate((s) => (s.snapshot.takenAt = 'yesterday'))).toMatch(/snapshot\.takenAt/);
    expect(await mutate((s) => (s.prompt = 'x'.repeat(20_001)))).toMatch(/prompt/);
    expect(await mutate((s) => (s.snapshot.answers = Array(9).fill(s.snapshot.answers[0])))).toMatch(/snapshot\.answers/);
    expect(await refusal(await deflate('[1,2,3]'))).toMatch(/not an SLM Playground share/);
    expect(await refusal(await deflate('"just a string"'))).toMatch(/not an SLM Playground share/);
    expect(await refusal(await deflate('{"__proto__": {"v": 1}}'))).toMatch(/no schema version/);
  });

  it('format 4 → 5: a suite snapshot without memory opens with the memory "not measured"; a format-4 link that names it is refused', async () => {
    const v4 = { ...FULL, v: 4, suiteSnapshot: { ...FULL.suiteSnapshot!, engines: FULL.suiteSnapshot!.engines.map(({ memoryPeakBytes: _m, ...e }) => e) } };
    const opened = await decodeShare(await deflate(JSON.stringify(v4)));
    expect(opened).toEqual({ ...FULL, suiteSnapshot: { ...FULL.suiteSnapshot!, engines: FULL.suiteSnapshot!.engines.map((e) => ({ ...e, memoryPeakBytes: null })) } });
    // Formats 2 and 3 carried suite snapshots too: the same migration.
    const v3 = { ...v4, v: 3, generation: { ...FULL.generation, responseFormat: undefined }, snapshot: { ...FULL.snapshot!, load: { ...FULL.snapshot!.load!, memory: undefined } } };
    expect((await decodeShare(await deflate(JSON.stringify(v3)))).suiteSnapshot?.engines.map((e) => e.memoryPeakBytes)).toEqual([null, null]);
    expect(await refusal(await deflate(JSON.stringify({ ...FULL, v: 4 })))).toMatch(/suiteSnapshot\.engines\.0: unknown|memoryPeakBytes/);
    // Format 5 requires it (null when not measured) and refuses anything else beside it.
    expect(await mutate((s) => delete (s['suiteSnapshot'] as { engines: Record<string, unknown>[] }).engines[0]!['memoryPeakBytes'])).toMatch(/suiteSnapshot\.engines\.0\.memoryPeakBytes/);
    expect(await mutate((s) => ((s['suiteSnapshot'] as { engines: Record<string, unknown>[] }).engines[0]!['extra'] = 1))).toMatch(/suiteSnapshot\.engines\.0/);
  });

  it('versions: newer links say so, nonsense versions are refused', async () => {
    expect(await mutate((s) => (s.v = SHARE_VERSION + 1))).toMatch(/newer SLM Playground/);
    expect(await mutate((s) => (s.v = 0))).toMatch(/Unknown share format/);
    expect(await mutate((s) => delete s.v)).toMatch(/no schema version/);
  });

  it('truncated, corrupted, non-base64, empty, foreign and oversized payloads', async () => {
    const good = await encodeShare(FULL);
    expect(await refusal(good.slice(0, Math.floor(good.length / 2)))).toMatch(/damaged/);
    expect(await refusal(good.slice(0, good.length - 3))).toMatch(/damaged/);
    const flipped = good.slice(0, 40) + (good[40] === 'A' ? 'B' : 'A') + good.slice(41);
    expect(await refusal(flipped)).toMatch(/damaged|does not match/);
    expect(await refusal('z%3Cscript%3E')).toMatch(/characters a share link never contains/);
    expect(await refusal('')).toMatch(/empty/);
    expect(await refusal('x' + good.slice(1))).toMatch(/not made by this app/);
    expect(await refusal('z' + 'A'.repeat(MAX_FRAGMENT_CHARS))).toMatch(/more than the 200,000/);
    expect(await refusal(await deflate('{"v":1,'))).toMatch(/not readable settings/);
  });

  it('a small link that expands hugely (a zip bomb) is refused without expanding it all', async () => {
    const bomb = await deflate(' '.repeat(50_000_000));
    expect(bomb.length).toBeLessThan(100_000);
    expect(await refusal(bomb)).toMatch(/expands to more than 1000 kB/);
  });
});
