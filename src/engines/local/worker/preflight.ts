/**
 * Before any large download: read config.json and ask the host for every file the load will need.
 * This gives the total size up front (for the progress bar) and turns a missing file into a
 * specific error ("no tokenizer.json at …") instead of a failure deep inside the runtime.
 */
import { fileUrl, modelFiles, type Dtype, type TransformersJsConfig, type TransformersLocation } from '../../../models/sources';
import type { PlannedFile } from '../protocol';
import { fail } from './errors';
import { errorText } from '../../../lib/errors';

export interface Preflight {
  config: Record<string, unknown>;
  files: PlannedFile[];
  totalBytes: number | null;
}

/** A complete cached copy of a file, for when the host cannot be reached (engines/local/worker/model-store.ts). */
export type OfflineCopy = (url: string) => Promise<Response | null>;

async function request(url: string, method: 'GET' | 'HEAD', offline: OfflineCopy | null): Promise<Response> {
  try {
    return await fetch(url, { method, cache: 'no-cache' });
  } catch (e) {
    const copy = offline ? await offline(url).catch(() => null) : null;
    if (copy) return copy;
    const host = new URL(url).host;
    return fail('network', `Could not reach ${host}. Check the address and your connection; a host on another origin must allow this page through CORS.`, {
      url,
      detail: errorText(e),
    });
  }
}

function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function contentLength(res: Response): number | null {
  const n = Number(res.headers.get('content-length') ?? res.headers.get('x-linked-size') ?? NaN);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

export async function preflight(loc: TransformersLocation, dtype: Dtype, device: string, offline: OfflineCopy | null = null): Promise<Preflight> {
  const configUrl = fileUrl(loc, 'config.json');
  const res = await request(configUrl, 'GET', offline);
  if (res.status === 404) {
    fail('model-not-found', `No model "${loc.modelId}" at ${new URL(configUrl).origin} (config.json: HTTP 404). Check the id, the revision and the host.`, {
      url: configUrl,
      file: 'config.json',
    });
  }
  if (res.status === 401 || res.status === 403) {
    fail('model-not-found', `"${loc.modelId}" is private or gated (HTTP ${res.status}). This app does not send Hugging Face tokens; use a public model or a mirror.`, {
      url: configUrl,
    });
  }
  if (!res.ok) fail('network', `The host answered HTTP ${res.status} for ${loc.modelId}/config.json.`, { url: configUrl });
  const body = await res.text();
  let config: unknown;
  try {
    config = JSON.parse(body);
  } catch {
    const hint = body.trimStart().startsWith('<') ? ' (the host sent an HTML page: is the path right?)' : '';
    return fail('unsupported-model', `config.json of ${loc.modelId} is not JSON${hint}.`, { url: configUrl, file: 'config.json' });
  }
  if (!isJsonObject(config)) return fail('unsupported-model', `config.json of ${loc.modelId} is not a JSON object.`, { url: configUrl });

  const jsCfg = config['transformers.js_config'];
  const wanted = modelFiles(dtype, isJsonObject(jsCfg) ? (jsCfg as TransformersJsConfig) : undefined, device);
  const files: PlannedFile[] = await Promise.all(
    wanted.map(async ({ file, required, role }): Promise<PlannedFile | null> => {
      const url = fileUrl(loc, file);
      if (file === 'config.json') return { file, url, bytes: body.length };
      const head = await request(url, 'HEAD', offline);
      if (head.status === 404) {
        if (!required) return null;
        if (role === 'tokenizer') {
          fail('tokenizer-missing', `The model folder has no ${file} (${url}): a text model needs tokenizer.json and tokenizer_config.json.`, { url, file });
        }
        fail('file-missing', `${loc.modelId} has no ${file} (HTTP 404): it does not offer the ${dtype} dtype there. Pick another dtype.`, { url, file });
      }
      if (!head.ok) fail('network', `The host answered HTTP ${head.status} for ${file}.`, { url, file });
      const type = head.headers.get('content-type') ?? '';
      if (type.startsWith('text/html')) {
        fail('file-missing', `${file} came back as an HTML page, not a model file: the host answers missing files with a page. Check the path.`, { url, file });
      }
      return { file, url, bytes: contentLength(head), etag: head.headers.get('etag') };
    }),
  ).then((list) => list.filter((f): f is PlannedFile => f !== null));
  const totalBytes = files.every((f) => f.bytes !== null) ? files.reduce((s, f) => s + (f.bytes ?? 0), 0) : null;
  return { config, files, totalBytes };
}
