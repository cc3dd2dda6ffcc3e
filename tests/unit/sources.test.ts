import { describe, expect, it } from 'vitest';
import {
  DTYPE_SUFFIX,
  DTYPES,
  F16_DTYPES,
  HUB_HOST,
  PATH_TEMPLATE,
  fileUrl,
  isDtype,
  locate,
  modelFiles,
  modelIdError,
  normalizeHost,
  sourceError,
  sourceLabel,
  type Dtype,
  type ModelSource,
  type TransformersLocation,
} from '../../src/models/sources';

const APP_BASE = 'http://localhost:5173/sub/';

/**
 * How transformers.js 4.x builds a remote URL (src/utils/hub.js buildResourcePaths + hub/utils.js
 * pathJoin), reproduced here so fileUrl can be checked against it for any location.
 */
function pathJoin(...parts: string[]): string {
  return parts
    .map((part, index) => {
      let p = part;
      if (index) p = p.replace(/^\//, '');
      if (index !== parts.length - 1) p = p.replace(/\/$/, '');
      return p;
    })
    .join('/');
}
function transformersUrl(loc: TransformersLocation, file: string): string {
  // A local path is fetched by the browser relative to the page (worker) origin.
  if (loc.allowLocalModels) return new URL(pathJoin(loc.localModelPath, pathJoin(loc.modelId, file)), APP_BASE).href;
  return pathJoin(
    loc.remoteHost,
    loc.remotePathTemplate.replaceAll('{model}', loc.modelId).replaceAll('{revision}', encodeURIComponent(loc.revision)),
    file,
  );
}

describe('modelIdError', () => {
  it.each([
    'onnx-community/Qwen2.5-0.5B-Instruct',
    'HuggingFaceTB/SmolLM2-135M-Instruct',
    'gpt2',
    'org_name/model_name',
    'a/b',
    'x'.repeat(96),
    '  gpt2  ',
  ])('accepts %j', (id) => {
    expect(modelIdError(id)).toBeNull();
  });

  it('asks for an id when empty or blank', () => {
    expect(modelIdError('')).toMatch(/Enter a model id/);
    expect(modelIdError('   ')).toMatch(/Enter a model id/);
  });

  it.each(['https://huggingface.co/gpt2', 'http://example.com/org/name', 'HTTPS://huggingface.co/org/name'])('explains that %j is a URL', (id) => {
    expect(modelIdError(id)).toMatch(/That is a URL/);
  });

  it.each(['a/b/c', 'org/name with space', 'org name', 'org/', '/name', 'org/na:me', 'org/na%20me', 'x'.repeat(97), 'ftp://x/y'])(
    'rejects the malformed id %j',
    (id) => {
      expect(modelIdError(id)).toMatch(/is not a valid model id: use org\/name/);
    },
  );

  it.each(['..', 'org/..', 'org/a..b', '--', 'org/a--b', 'a--b/name'])('rejects %j for .. or --', (id) => {
    expect(modelIdError(id)).toMatch(/'\.\.' and '--' are not allowed/);
  });

  it.each(['org/.name', 'org/name.', 'org/-name', 'org/name-', '-name', 'name.'])('rejects %j for a leading/trailing . or -', (id) => {
    expect(modelIdError(id)).toMatch(/cannot start or end with/);
  });

  it('quotes the trimmed id in the message', () => {
    expect(modelIdError('  a/b/c ')).toContain('"a/b/c"');
  });
});

describe('normalizeHost', () => {
  it.each([
    ['http://127.0.0.1:9000/mirror', 'http://127.0.0.1:9000/mirror/'],
    ['http://127.0.0.1:9000/mirror/', 'http://127.0.0.1:9000/mirror/'],
    ['https://models.example.com', 'https://models.example.com/'],
    ['https://models.example.com/hf/', 'https://models.example.com/hf/'],
    ['  https://models.example.com/a/b  ', 'https://models.example.com/a/b/'],
    ['HTTPS://Models.Example.COM/Path', 'https://models.example.com/Path/'],
    ['https://example.com:443/x', 'https://example.com/x/'],
    ['http://localhost:8080', 'http://localhost:8080/'],
  ])('%j → %j', (input, host) => {
    expect(normalizeHost(input)).toEqual({ ok: true, host });
  });

  it('is idempotent', () => {
    const once = normalizeHost('http://127.0.0.1:9000/mirror');
    if (!once.ok) throw new Error('expected ok');
    expect(normalizeHost(once.host)).toEqual(once);
  });

  it.each(['ftp://example.com/', 'file:///tmp/models/', 'ws://example.com/', 'javascript:alert(1)'])('rejects the non-http(s) %j', (input) => {
    const r = normalizeHost(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/must use http or https, not [a-z]+:/);
  });

  it('names the offending protocol', () => {
    const r = normalizeHost('ftp://example.com/');
    expect(r).toEqual({ ok: false, error: 'A model host must use http or https, not ftp:' });
  });

  it.each(['https://example.com/?token=1', 'https://example.com/hf?x', 'https://example.com/#frag', 'https://example.com/hf/#x'])(
    'rejects the query or fragment in %j',
    (input) => {
      expect(normalizeHost(input)).toEqual({ ok: false, error: 'A model host URL cannot carry a query or a #fragment.' });
    },
  );

  it.each(['https://user:pass@example.com/', 'https://user@example.com/', 'https://:pw@example.com/'])('rejects the credentials in %j', (input) => {
    expect(normalizeHost(input)).toEqual({ ok: false, error: 'Put no credentials in a model host URL.' });
  });

  it.each(['', '   ', 'not a url', 'example.com/hf', '//example.com/', 'http://', 'https://exa mple.com/'])('rejects the garbage %j', (input) => {
    const r = normalizeHost(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/is not a URL/);
  });
});

describe('locate', () => {
  it('bundled: local files under {appBase}models/, remote off', () => {
    expect(locate({ type: 'bundled', modelId: 'slm-pocket' }, APP_BASE)).toEqual({
      modelId: 'slm-pocket',
      revision: 'main',
      allowLocalModels: true,
      allowRemoteModels: false,
      localModelPath: '/sub/models/',
      localModelUrl: 'http://localhost:5173/sub/models/',
      remoteHost: HUB_HOST,
      remotePathTemplate: PATH_TEMPLATE,
    });
  });

  it('hub: remote from huggingface.co, local off', () => {
    expect(locate({ type: 'hub', modelId: 'org/name', revision: 'v2' }, APP_BASE)).toEqual({
      modelId: 'org/name',
      revision: 'v2',
      allowLocalModels: false,
      allowRemoteModels: true,
      localModelPath: '/sub/models/',
      localModelUrl: 'http://localhost:5173/sub/models/',
      remoteHost: 'https://huggingface.co/',
      remotePathTemplate: '{model}/resolve/{revision}/',
    });
  });

  it('hub: an empty revision means main', () => {
    expect(locate({ type: 'hub', modelId: 'org/name', revision: '' }, APP_BASE).revision).toBe('main');
  });

  it('mirror: remote from the mirror host', () => {
    const loc = locate({ type: 'mirror', modelId: 'org/name', revision: '', host: 'http://127.0.0.1:9000/mirror/' }, APP_BASE);
    expect(loc).toEqual({
      modelId: 'org/name',
      revision: 'main',
      allowLocalModels: false,
      allowRemoteModels: true,
      localModelPath: '/sub/models/',
      localModelUrl: 'http://localhost:5173/sub/models/',
      remoteHost: 'http://127.0.0.1:9000/mirror/',
      remotePathTemplate: PATH_TEMPLATE,
    });
  });

  it('resolves models/ against an app base at the origin root', () => {
    const loc = locate({ type: 'bundled', modelId: 'm' }, 'https://example.com/');
    expect(loc.localModelPath).toBe('/models/');
    expect(loc.localModelUrl).toBe('https://example.com/models/');
  });

  it('localModelPath is root-relative, not a URL (transformers.js skips URL-shaped local paths)', () => {
    const loc = locate({ type: 'bundled', modelId: 'm' }, 'http://localhost:5173/a/b/');
    expect(loc.localModelPath).toBe('/a/b/models/');
    expect(() => new URL(loc.localModelPath)).toThrow();
    expect(new URL(loc.localModelPath, loc.localModelUrl).href).toBe(loc.localModelUrl);
  });
});

describe('fileUrl', () => {
  it('hub, main', () => {
    const loc = locate({ type: 'hub', modelId: 'onnx-community/Qwen2.5-0.5B-Instruct', revision: 'main' }, APP_BASE);
    expect(fileUrl(loc, 'onnx/model_q4f16.onnx')).toBe('https://huggingface.co/onnx-community/Qwen2.5-0.5B-Instruct/resolve/main/onnx/model_q4f16.onnx');
    expect(fileUrl(loc, 'config.json')).toBe('https://huggingface.co/onnx-community/Qwen2.5-0.5B-Instruct/resolve/main/config.json');
  });

  it('hub, a model id without an org', () => {
    const loc = locate({ type: 'hub', modelId: 'gpt2', revision: 'main' }, APP_BASE);
    expect(fileUrl(loc, 'tokenizer.json')).toBe('https://huggingface.co/gpt2/resolve/main/tokenizer.json');
  });

  it('hub: the revision is URL-encoded (refs/pr/1 → refs%2Fpr%2F1)', () => {
    const loc = locate({ type: 'hub', modelId: 'org/name', revision: 'refs/pr/1' }, APP_BASE);
    expect(fileUrl(loc, 'config.json')).toBe('https://huggingface.co/org/name/resolve/refs%2Fpr%2F1/config.json');
  });

  it('mirror host with a path prefix', () => {
    const loc = locate({ type: 'mirror', modelId: 'org/name', revision: 'main', host: 'http://127.0.0.1:9000/mirror/' }, APP_BASE);
    expect(fileUrl(loc, 'onnx/model.onnx')).toBe('http://127.0.0.1:9000/mirror/org/name/resolve/main/onnx/model.onnx');
  });

  it('bundled: under the app base', () => {
    const loc = locate({ type: 'bundled', modelId: 'slm-pocket' }, APP_BASE);
    expect(fileUrl(loc, 'onnx/model.onnx')).toBe('http://localhost:5173/sub/models/slm-pocket/onnx/model.onnx');
    const loc2 = locate({ type: 'bundled', modelId: 'org/name' }, APP_BASE);
    expect(fileUrl(loc2, 'config.json')).toBe('http://localhost:5173/sub/models/org/name/config.json');
  });

  const normalizedSources: ModelSource[] = [
    { type: 'hub', modelId: 'onnx-community/Qwen2.5-0.5B-Instruct', revision: 'main' },
    { type: 'hub', modelId: 'gpt2', revision: 'refs/pr/1' },
    { type: 'hub', modelId: 'org/name', revision: 'v1.0' },
    { type: 'hub', modelId: 'org/name', revision: '0123456789abcdef0123456789abcdef01234567' },
    { type: 'mirror', modelId: 'org/name', revision: 'main', host: 'http://127.0.0.1:9000/mirror/' },
    { type: 'mirror', modelId: 'org/name', revision: 'refs/pr/7', host: 'https://models.example.com/' },
    { type: 'mirror', modelId: 'name', revision: 'main', host: 'https://models.example.com/a/b/' },
    { type: 'bundled', modelId: 'slm-pocket' },
  ];
  const files = ['config.json', 'tokenizer.json', 'onnx/model_q4f16.onnx', 'onnx/model.onnx_data_1'];

  it.each(normalizedSources.map((s) => [sourceLabel(s), s] as const))('matches transformers.js for %s', (_label, source) => {
    const loc = locate(source, APP_BASE);
    for (const f of files) expect(fileUrl(loc, f)).toBe(transformersUrl(loc, f));
  });

  // BUG (src/models/sources.ts fileUrl/locate): a mirror host without a trailing slash passes
  // sourceError (normalizeHost accepts it), but fileUrl resolves with `new URL(rel, host)`, which
  // drops the last path segment of the host ("/mirror"), while transformers.js joins the strings
  // and keeps it. Preflight then probes a different URL than the one the model is loaded from.
  it('matches transformers.js for a valid mirror host given without a trailing slash', () => {
    const source: ModelSource = { type: 'mirror', modelId: 'org/name', revision: 'main', host: 'http://127.0.0.1:9000/mirror' };
    expect(sourceError(source)).toBeNull();
    const loc = locate(source, APP_BASE);
    expect(fileUrl(loc, 'config.json')).toBe(transformersUrl(loc, 'config.json'));
    expect(fileUrl(loc, 'config.json')).toBe('http://127.0.0.1:9000/mirror/org/name/resolve/main/config.json');
  });
});

describe('DTYPE_SUFFIX / isDtype', () => {
  it('has transformers.js suffixes', () => {
    expect(DTYPE_SUFFIX).toEqual({
      fp32: '',
      fp16: '_fp16',
      q8: '_quantized',
      int8: '_int8',
      uint8: '_uint8',
      q4: '_q4',
      q4f16: '_q4f16',
      bnb4: '_bnb4',
    });
  });

  it('isDtype accepts exactly DTYPES', () => {
    for (const d of DTYPES) expect(isDtype(d)).toBe(true);
    for (const d of ['', 'auto', 'FP32', 'q2', 'fp64', 'q4 ', 'toString']) expect(isDtype(d)).toBe(false);
  });

  it('F16 dtypes are fp16 and q4f16', () => {
    expect([...F16_DTYPES].sort()).toEqual(['fp16', 'q4f16']);
  });
});

describe('modelFiles', () => {
  const expectedOnnx: Record<Dtype, string> = {
    fp32: 'onnx/model.onnx',
    fp16: 'onnx/model_fp16.onnx',
    q8: 'onnx/model_quantized.onnx',
    int8: 'onnx/model_int8.onnx',
    uint8: 'onnx/model_uint8.onnx',
    q4: 'onnx/model_q4.onnx',
    q4f16: 'onnx/model_q4f16.onnx',
    bnb4: 'onnx/model_bnb4.onnx',
  };

  it.each(DTYPES.map((d) => [d] as const))('%s: config, tokenizer, generation config, weights in order', (dtype) => {
    expect(modelFiles(dtype)).toEqual([
      { file: 'config.json', required: true, role: 'config' },
      { file: 'tokenizer.json', required: true, role: 'tokenizer' },
      { file: 'tokenizer_config.json', required: true, role: 'tokenizer' },
      { file: 'generation_config.json', required: false, role: 'config' },
      { file: expectedOnnx[dtype], required: true, role: 'weights' },
    ]);
  });

  const weights = (dtype: Dtype, cfg?: Parameters<typeof modelFiles>[1]) =>
    modelFiles(dtype, cfg)
      .filter((f) => f.role === 'weights')
      .map((f) => f.file);

  it('no external data for false, 0, a negative number or an empty config', () => {
    expect(weights('q4', { use_external_data_format: false })).toEqual(['onnx/model_q4.onnx']);
    expect(weights('q4', { use_external_data_format: 0 })).toEqual(['onnx/model_q4.onnx']);
    expect(weights('q4', { use_external_data_format: -2 })).toEqual(['onnx/model_q4.onnx']);
    expect(weights('q4', {})).toEqual(['onnx/model_q4.onnx']);
  });

  it('true → one _data file', () => {
    expect(weights('q4f16', { use_external_data_format: true })).toEqual(['onnx/model_q4f16.onnx', 'onnx/model_q4f16.onnx_data']);
  });

  it('a number N → N chunks: _data, _data_1, …', () => {
    expect(weights('fp32', { use_external_data_format: 3 })).toEqual([
      'onnx/model.onnx',
      'onnx/model.onnx_data',
      'onnx/model.onnx_data_1',
      'onnx/model.onnx_data_2',
    ]);
    expect(weights('fp16', { use_external_data_format: 1 })).toEqual(['onnx/model_fp16.onnx', 'onnx/model_fp16.onnx_data']);
  });

  it('external data files are required weights', () => {
    const files = modelFiles('q4', { use_external_data_format: 2 });
    expect(files.slice(5)).toEqual([
      { file: 'onnx/model_q4.onnx_data', required: true, role: 'weights' },
      { file: 'onnx/model_q4.onnx_data_1', required: true, role: 'weights' },
    ]);
  });

  it('a per-file map applies only to the file it names', () => {
    const cfg = { use_external_data_format: { 'model_q4f16.onnx': true, 'model_fp16.onnx': 2 } };
    expect(weights('q4f16', cfg)).toEqual(['onnx/model_q4f16.onnx', 'onnx/model_q4f16.onnx_data']);
    expect(weights('fp16', cfg)).toEqual(['onnx/model_fp16.onnx', 'onnx/model_fp16.onnx_data', 'onnx/model_fp16.onnx_data_1']);
    expect(weights('q4', cfg)).toEqual(['onnx/model_q4.onnx']);
    expect(weights('fp32', cfg)).toEqual(['onnx/model.onnx']);
  });

  it('a per-file false entry turns external data off', () => {
    expect(weights('fp32', { use_external_data_format: { 'model.onnx': false } })).toEqual(['onnx/model.onnx']);
  });

  // BUG (src/models/sources.ts externalChunks): transformers.js (utils/model-loader.js
  // resolveExternalDataFormat) looks a map up by the full file name, then by the base file name
  // ("model"), never by dtype. `{ model: 2 }` means two chunks for every dtype of model.onnx.
  it('a per-file map falls back to the base name "model", as transformers.js does', () => {
    expect(weights('q4', { use_external_data_format: { model: 2 } })).toEqual([
      'onnx/model_q4.onnx',
      'onnx/model_q4.onnx_data',
      'onnx/model_q4.onnx_data_1',
    ]);
  });

  // Same bug, other side: a dtype key ("q4") is not something transformers.js reads, so it loads
  // no _data file, yet modelFiles plans a required one (preflight would then fail on its 404).
  it('a dtype-named key is ignored, as transformers.js ignores it', () => {
    expect(weights('q4', { use_external_data_format: { q4: 1 } })).toEqual(['onnx/model_q4.onnx']);
  });
});

describe('sourceLabel', () => {
  it('bundled', () => {
    expect(sourceLabel({ type: 'bundled', modelId: 'slm-pocket' })).toBe('bundled:slm-pocket');
  });
  it('hub, with the revision defaulting to main', () => {
    expect(sourceLabel({ type: 'hub', modelId: 'org/name', revision: 'v2' })).toBe('hf:org/name@v2');
    expect(sourceLabel({ type: 'hub', modelId: 'org/name', revision: '' })).toBe('hf:org/name@main');
  });
  it('mirror', () => {
    expect(sourceLabel({ type: 'mirror', modelId: 'org/name', revision: '', host: 'http://127.0.0.1:9000/mirror/' })).toBe(
      'http://127.0.0.1:9000/mirror/org/name@main',
    );
  });
  it('distinguishes the same id on different sources and revisions', () => {
    const labels = [
      sourceLabel({ type: 'bundled', modelId: 'org/name' }),
      sourceLabel({ type: 'hub', modelId: 'org/name', revision: 'main' }),
      sourceLabel({ type: 'hub', modelId: 'org/name', revision: 'dev' }),
      sourceLabel({ type: 'mirror', modelId: 'org/name', revision: 'main', host: 'https://a.example/' }),
      sourceLabel({ type: 'mirror', modelId: 'org/name', revision: 'main', host: 'https://b.example/' }),
    ];
    expect(new Set(labels).size).toBe(labels.length);
  });
});

describe('sourceError', () => {
  it('accepts valid sources of every type', () => {
    expect(sourceError({ type: 'bundled', modelId: 'slm-pocket' })).toBeNull();
    expect(sourceError({ type: 'hub', modelId: 'org/name', revision: 'main' })).toBeNull();
    expect(sourceError({ type: 'hub', modelId: 'org/name', revision: '' })).toBeNull();
    expect(sourceError({ type: 'hub', modelId: 'org/name', revision: 'refs/pr/1' })).toBeNull();
    expect(sourceError({ type: 'hub', modelId: 'org/name', revision: 'v1.0_rc-2' })).toBeNull();
    expect(sourceError({ type: 'mirror', modelId: 'org/name', revision: 'main', host: 'http://127.0.0.1:9000/mirror/' })).toBeNull();
  });

  it('reports the model id problem first', () => {
    expect(sourceError({ type: 'hub', modelId: 'a/b/c', revision: 'bad rev' })).toBe(modelIdError('a/b/c'));
    expect(sourceError({ type: 'bundled', modelId: '' })).toBe(modelIdError(''));
    expect(sourceError({ type: 'mirror', modelId: 'https://x/y', revision: 'main', host: 'ftp://x' })).toMatch(/That is a URL/);
  });

  it('reports a bad mirror host', () => {
    expect(sourceError({ type: 'mirror', modelId: 'org/name', revision: 'main', host: 'ftp://example.com/' })).toMatch(/http or https/);
    expect(sourceError({ type: 'mirror', modelId: 'org/name', revision: 'main', host: 'nope' })).toMatch(/is not a URL/);
    expect(sourceError({ type: 'mirror', modelId: 'org/name', revision: 'main', host: 'https://u:p@example.com/' })).toMatch(/credentials/);
  });

  it.each(['bad rev', 'main?x', 'a#b', 'x'.repeat(129), 'rev%2F', 'ü'])('rejects the revision %j', (revision) => {
    expect(sourceError({ type: 'hub', modelId: 'org/name', revision })).toBe(`"${revision}" is not a valid revision (a branch, tag or commit).`);
    expect(sourceError({ type: 'mirror', modelId: 'org/name', revision, host: 'https://example.com/' })).toMatch(/not a valid revision/);
  });

  it('accepts a 128-character revision', () => {
    expect(sourceError({ type: 'hub', modelId: 'org/name', revision: 'x'.repeat(128) })).toBeNull();
  });
});
