/**
 * Share links in and out. An incoming link (`#share=…` in the page URL, now or after a
 * hashchange) is decoded and validated, then only *shown*: nothing is applied and no endpoint is
 * called until the viewer chooses to. The fragment is removed from the address bar once read,
 * so a reload does not bring the banner back and the link is not kept in the history.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { decodeShare, encodeShare, LINK_BUDGET_CHARS, parseShareFile, payloadFromHash, shareFileText, shareUrl } from '../share/codec';
import { ShareError, type ShareState } from '../share/schema';
import { errorText } from '../lib/errors';

export type Incoming = { status: 'none' } | { status: 'reading' } | { status: 'open'; share: ShareState; from: 'link' | 'file' } | { status: 'error'; message: string };

export interface MadeLink {
  url: string;
  chars: number;
  /** Too long for a link that survives chat apps and mail: offer the share file instead. */
  tooLong: boolean;
  file: string;
}

const describe = (e: unknown) => (e instanceof ShareError ? e.message : `The share could not be read: ${errorText(e)}`);

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
    decodeShare(payload).then(
      (share) => mine === seq.current && setIncoming({ status: 'open', share, from: 'link' }),
      (e: unknown) => mine === seq.current && setIncoming({ status: 'error', message: describe(e) }),
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
    try {
      const text = await file.text();
      const share = parseShareFile(text);
      setIncoming({ status: 'open', share, from: 'file' });
    } catch (e) {
      setIncoming({ status: 'error', message: describe(e) });
    }
  }, []);

  const makeLink = useCallback(async (state: ShareState): Promise<MadeLink> => {
    const url = shareUrl(location.href, await encodeShare(state));
    return { url, chars: url.length, tooLong: url.length > LINK_BUDGET_CHARS, file: shareFileText(state) };
  }, []);

  return { incoming, dismiss, openFile, makeLink };
}
