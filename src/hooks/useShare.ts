/**
 * Share links in and out. An incoming link (`#share=…` in the page URL, now or after a
 * hashchange) is decoded and validated, then only *shown*: nothing is applied and no endpoint is
 * called until the viewer chooses to. The fragment is removed from the address bar once read,
 * so a reload does not bring the banner back and the link is not kept in the history.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { payloadFromHash, shareUrl } from '../share/fragment';
import type { ShareState } from '../share/schema';
import { errorText } from '../lib/errors';

export type Incoming = { status: 'none' } | { status: 'reading' } | { status: 'open'; share: ShareState; from: 'link' | 'file' } | { status: 'error'; message: string };

export interface MadeLink {
  url: string;
  chars: number;
  /** Too long for a link that survives chat apps and mail: offer the share file instead. */
  tooLong: boolean;
  file: string;
}

/**
 * The codec and the share schemas (zod) load when a link or file is first read or made, not with
 * the page: most visits carry no share (bench `initial_js_gzip_kb`).
 */
const codec = () => Promise.all([import('../share/codec'), import('../share/schema')]).then(([c, s]) => ({ ...c, ShareError: s.ShareError }));

const describe = (e: unknown, ShareError: (typeof import('../share/schema'))['ShareError'] | null) =>
  ShareError && e instanceof ShareError ? e.message : `The share could not be read: ${errorText(e)}`;

function clearFragment(): void {
  try {
    history.replaceState(history.state, '', location.pathname + location.search);
  } catch {
    // a sandboxed frame without history access: the banner still works
  }
}

export function useShare() {
  const [incoming, setIncoming] = useState<Incoming>({ status: 'none' });

  // Read during the first render (idempotent), decoded after mount; later links via hashchange.
  const [initial] = useState(() => payloadFromHash(location.hash));
  const seq = useRef(0);
  const open = useCallback((payload: string) => {
    const mine = ++seq.current;
    setIncoming({ status: 'reading' });
    clearFragment();
    codec().then(
      (c) =>
        c.decodeShare(payload).then(
          (share) => mine === seq.current && setIncoming({ status: 'open', share, from: 'link' }),
          (e: unknown) => mine === seq.current && setIncoming({ status: 'error', message: describe(e, c.ShareError) }),
        ),
      (e: unknown) => mine === seq.current && setIncoming({ status: 'error', message: describe(e, null) }),
    );
  }, []);

  useEffect(() => {
    if (initial !== null) open(initial);
    const onHash = () => {
      const payload = payloadFromHash(location.hash);
      if (payload !== null) open(payload);
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, [initial, open]);

  const dismiss = useCallback(() => {
    seq.current++;
    setIncoming({ status: 'none' });
  }, []);

  const openFile = useCallback(async (file: File) => {
    seq.current++; // a link still being decoded must not replace the file
    let c: Awaited<ReturnType<typeof codec>> | null = null;
    try {
      c = await codec();
      const text = await file.text();
      const share = c.parseShareFile(text);
      setIncoming({ status: 'open', share, from: 'file' });
    } catch (e) {
      setIncoming({ status: 'error', message: describe(e, c?.ShareError ?? null) });
    }
  }, []);

  const makeLink = useCallback(async (state: ShareState): Promise<MadeLink> => {
    const c = await codec();
    const url = shareUrl(location.href, await c.encodeShare(state));
    return { url, chars: url.length, tooLong: url.length > c.LINK_BUDGET_CHARS, file: c.shareFileText(state) };
  }, []);

  return { incoming, dismiss, openFile, makeLink };
}
