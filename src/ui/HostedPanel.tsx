/** The hosted endpoint: preset, URL, model, key (and where it goes), on/off for comparisons. */
import { useEffect, useRef, useState } from 'react';
import { defaultSettings, PRESET_IDS, PRESETS, isPresetId, type EndpointSettings } from '../engines/hosted/presets';

interface Props {
  settings: { enabled: boolean | null; endpoint: EndpointSettings };
  error: string | null;
  models: string[];
  keyOrigin: string | null;
  hasKey: boolean;
  remembered: boolean;
  onUpdate: (endpoint: EndpointSettings, enabled: boolean) => void;
  onKey: (secret: string, remember: boolean) => string | null;
  onListModels: () => void;
}

export function HostedPanel({ settings, error, models, keyOrigin, hasKey, remembered, onUpdate, onKey, onListModels }: Props) {
  const [draft, setDraft] = useState<EndpointSettings>(settings.endpoint);
  const [enabled, setEnabled] = useState(settings.enabled ?? false);
  // The key field is uncontrolled: a controlled input would mirror the key into the page's HTML.
  const keyInput = useRef<HTMLInputElement>(null);
  const [keyTyped, setKeyTyped] = useState(false);
  const [remember, setRemember] = useState(remembered);
  const [keyMsg, setKeyMsg] = useState<string | null>(null);
  useEffect(() => setDraft(settings.endpoint), [settings.endpoint]);
  useEffect(() => setEnabled(settings.enabled ?? false), [settings.enabled]);
  const preset = PRESETS[draft.presetId];

  const applyKey = () => {
    const secret = keyInput.current?.value ?? '';
    const problem = onKey(secret, remember);
    setKeyMsg(problem ?? (secret.trim() ? (remember ? 'Key saved in this browser for this endpoint.' : 'Key kept in memory for this visit.') : 'Key removed.'));
    if (!problem && keyInput.current) {
      keyInput.current.value = '';
      setKeyTyped(false);
    }
  };

  return (
    <section className="panel" aria-label="Hosted model" data-testid="hosted-panel">
      <label className="check">
        <input
          type="checkbox"
          checked={enabled}
          onChange={(e) => {
            setEnabled(e.target.checked);
            onUpdate(draft, e.target.checked);
          }}
          data-testid="hosted-enabled"
        />
        Compare with a hosted model (a second pane)
      </label>
      <div className="field">
        <label htmlFor="preset">Endpoint</label>
        <select
          id="preset"
          value={draft.presetId}
          onChange={(e) => isPresetId(e.target.value) && setDraft(defaultSettings(e.target.value))}
          data-testid="hosted-preset"
        >
          {PRESET_IDS.map((id) => (
            <option key={id} value={id}>
              {PRESETS[id].label}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="base-url">{preset.kind === 'azure-openai' ? 'Resource endpoint' : 'Base URL'}</label>
        <input id="base-url" value={draft.baseUrl} onChange={(e) => setDraft({ ...draft, baseUrl: e.target.value })} spellCheck={false} data-testid="hosted-base-url" />
      </div>
      <div className="row">
        <div className="field">
          <label htmlFor="hosted-model">{preset.kind === 'azure-openai' ? 'Deployment' : 'Model'}</label>
          <input id="hosted-model" list="hosted-models" value={draft.model} placeholder={preset.listModels ? '(first listed)' : ''} onChange={(e) => setDraft({ ...draft, model: e.target.value })} spellCheck={false} data-testid="hosted-model" />
          <datalist id="hosted-models">
            {models.map((m) => (
              <option key={m} value={m} />
            ))}
          </datalist>
        </div>
        {preset.listModels && (
          <button type="button" onClick={onListModels} disabled={!enabled}>
            List models
          </button>
        )}
      </div>
      {preset.kind === 'azure-openai' && (
        <div className="field">
          <label htmlFor="api-version">api-version</label>
          <input id="api-version" value={draft.apiVersion ?? ''} onChange={(e) => setDraft({ ...draft, apiVersion: e.target.value || null })} />
        </div>
      )}
      <div className="row">
        <button className="primary" onClick={() => onUpdate(draft, enabled)} data-testid="hosted-apply">
          Apply
        </button>
      </div>

      {preset.key !== 'none' && (
        <div className="key-box">
          <div className="field">
            <label htmlFor="api-key">API key {preset.key === 'optional' ? '(optional)' : ''}</label>
            <input
              id="api-key"
              ref={keyInput}
              type="password"
              autoComplete="off"
              defaultValue=""
              onChange={(e) => setKeyTyped(e.target.value.trim() !== '')}
              placeholder={hasKey ? '•••••••• (set)' : ''}
              data-testid="hosted-key"
            />
          </div>
          <label className="check">
            <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.target.checked)} data-testid="hosted-remember" /> Remember in this browser (localStorage)
          </label>
          <div className="row">
            <button onClick={applyKey} data-testid="hosted-set-key">
              {keyTyped ? 'Use this key' : 'Forget key'}
            </button>
          </div>
          <p className="small muted" data-testid="key-destination">
            Your key is sent only to <strong>{keyOrigin ?? 'this endpoint'}</strong>, as {preset.auth === 'api-key' ? 'an api-key header' : 'an Authorization: Bearer header'}
            , and never to any other address. It stays in this tab's memory {remembered ? '— and is remembered in this browser (you opted in).' : 'and is forgotten when you close it, unless you tick Remember.'} It is never put in a URL, a share
            link, an export or a log.
          </p>
          {keyMsg && <p className="small">{keyMsg}</p>}
        </div>
      )}
      {error && (
        <p className="error" role="alert" data-testid="hosted-error">
          {error}
        </p>
      )}
      <p className="small muted">{preset.corsHint}</p>
    </section>
  );
}
