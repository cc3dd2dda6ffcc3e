/**
 * Share: a link holding the whole setup (never a key), optionally with the last exchange's
 * results; a share file when that is too long for a link; and opening a share file.
 */
import { useState } from 'react';
import type { MadeLink } from '../hooks/useShare';
import { LINK_BUDGET_CHARS } from '../share/codec';
import { download } from './download';
import { errorText } from '../lib/errors';

interface Props {
  /** Whether there is a finished exchange to include. */
  hasResults: boolean;
  /** Builds the link for the current setup (with the last results when asked). */
  onMake: (withResults: boolean, suite: 'none' | 'suite' | 'suite-results', withSession: boolean) => Promise<MadeLink>;
  /** Exchanges of this session with an agreement verdict, which a link can carry with its tally. */
  sessionPrompts?: number;
  /** The suite run open on the Suites tab, which a link can carry. */
  suiteRun: { name: string; cases: number; cells: number } | null;
  onOpenFile: (f: File) => void;
}

export function SharePanel({ hasResults, onMake, onOpenFile, suiteRun, sessionPrompts = 0 }: Props) {
  const [withResults, setWithResults] = useState(true);
  const [withSession, setWithSession] = useState(true);
  const [suiteMode, setSuiteMode] = useState<'none' | 'suite' | 'suite-results'>('suite-results');
  const [made, setMade] = useState<MadeLink | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);

  const make = async () => {
    setError(null);
    setCopied(false);
    try {
      setMade(await onMake(withResults && hasResults, suiteRun ? (suiteRun.cells > 0 ? suiteMode : suiteMode === 'none' ? 'none' : 'suite') : 'none', withSession && sessionPrompts > 0));
    } catch (e) {
      setMade(null);
      setError(`The link could not be made: ${errorText(e)}`);
    }
  };
  const copy = async () => {
    if (!made) return;
    try {
      await navigator.clipboard.writeText(made.url);
      setCopied(true);
    } catch {
      setError('The browser refused the clipboard: select the link and copy it by hand.');
    }
  };

  return (
    <section className="panel" aria-label="Share">
      <h2>Share</h2>
      <p className="small muted">
        The link holds the models, endpoint (never its key), generation settings, system prompt, prompt and the open suite, in the part after <span className="mono">#</span>, which
        browsers do not send to any server. Whoever opens it sees the setup first; nothing runs until they choose to.
      </p>
      <label className="check">
        <input type="checkbox" checked={withResults && hasResults} disabled={!hasResults} onChange={(e) => setWithResults(e.target.checked)} data-testid="share-with-results" />
        Include the last answers and their numbers{hasResults ? '' : ' (send a prompt first)'}
      </label>
      <label className="check">
        <input type="checkbox" checked={withSession && sessionPrompts > 0} disabled={sessionPrompts === 0} onChange={(e) => setWithSession(e.target.checked)} data-testid="share-with-session" />
        Include the session's agreement with the hosted answers{sessionPrompts > 0 ? ` (${sessionPrompts} prompt${sessionPrompts === 1 ? '' : 's'}, answers cut to 4,000 characters)` : ' (answer prompts with both panes first)'}
      </label>
      {suiteRun && (
        <div className="field">
          <label htmlFor="share-suite">Suite: {suiteRun.name} ({suiteRun.cases} cases)</label>
          <select id="share-suite" value={suiteMode} onChange={(e) => setSuiteMode(e.target.value as typeof suiteMode)} data-testid="share-suite">
            <option value="suite-results">include the suite and its results</option>
            <option value="suite">include the suite, no results</option>
            <option value="none">leave the suite out</option>
          </select>
        </div>
      )}
      <div className="row">
        <button type="button" className="primary" onClick={() => void make()} data-testid="share-make">
          Create link
        </button>
      </div>
      {error && (
        <p className="error" role="alert" data-testid="share-make-error">
          {error}
        </p>
      )}
      {made && (
        <div data-testid="share-made">
          {made.tooLong ? (
            <p className="error" data-testid="share-too-long">
              This share is {made.chars.toLocaleString('en')} characters as a link, more than the {LINK_BUDGET_CHARS.toLocaleString('en')} that survive most chat apps and
              mail clients. Send the share file instead (or share without results).
            </p>
          ) : (
            <>
              <div className="row">
                <input readOnly value={made.url} onFocus={(e) => e.currentTarget.select()} data-testid="share-url" aria-label="Share link" />
                <button type="button" onClick={() => void copy()} data-testid="share-copy">
                  {copied ? 'Copied' : 'Copy'}
                </button>
              </div>
              <p className="small muted" data-testid="share-length">
                {made.chars.toLocaleString('en')} characters
              </p>
            </>
          )}
          <button type="button" onClick={() => download('slm-playground-share.json', made.file)} data-testid="share-download">
            Download share file
          </button>
        </div>
      )}
      <div className="field">
        <label htmlFor="share-file">Open a share file</label>
        <input
          id="share-file"
          type="file"
          accept="application/json,.json"
          data-testid="share-file"
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) onOpenFile(f);
            e.target.value = '';
          }}
        />
      </div>
    </section>
  );
}
