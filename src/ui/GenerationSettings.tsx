/** System prompt and sampling settings; invalid values are flagged before anything is sent. */
import { validateGenerationParams, type GenerationParams } from '../engines/types';
import { OutputFormat } from './json-deferred';

interface Props {
  params: GenerationParams;
  systemPrompt: string;
  onParams: (p: GenerationParams) => void;
  onSystemPrompt: (s: string) => void;
}

export function GenerationSettings({ params, systemPrompt, onParams, onSystemPrompt }: Props) {
  const problems = validateGenerationParams(params);
  const num = (key: keyof GenerationParams, label: string, step: number, min: number, max: number) => (
    <div className="field" key={key}>
      <label htmlFor={`gen-${key}`}>{label}</label>
      <input
        id={`gen-${key}`}
        type="number"
        step={step}
        min={min}
        max={max}
        value={Number(params[key])}
        disabled={params.greedy && key !== 'maxNewTokens' && key !== 'repetitionPenalty'}
        onChange={(e) => {
          const v = e.target.value === '' ? NaN : Number(e.target.value);
          const next = { ...params, [key]: v };
          // Fixed length follows max new tokens.
          if (key === 'maxNewTokens' && (params.minNewTokens ?? 0) > 0) next.minNewTokens = v;
          onParams(next);
        }}
        data-testid={`gen-${key}`}
      />
    </div>
  );
  return (
    <section className="panel" aria-label="Generation settings">
      <div className="field">
        <label htmlFor="system-prompt">System prompt</label>
        <textarea id="system-prompt" rows={2} value={systemPrompt} onChange={(e) => onSystemPrompt(e.target.value)} placeholder="(none)" data-testid="system-prompt" />
      </div>
      <label className="check">
        <input type="checkbox" checked={params.greedy} onChange={(e) => onParams({ ...params, greedy: e.target.checked })} data-testid="gen-greedy" /> Greedy (deterministic; ignores temperature, top-p, top-k)
      </label>
      <label className="check">
        <input
          type="checkbox"
          checked={(params.minNewTokens ?? 0) > 0}
          onChange={(e) => onParams({ ...params, minNewTokens: e.target.checked ? params.maxNewTokens : undefined })}
          data-testid="gen-fixed-length"
        />{' '}
        Fixed length: ignore end-of-sequence until max new tokens (for speed comparisons)
      </label>
      <div className="grid">
        {num('maxNewTokens', 'Max new tokens', 1, 1, 32768)}
        {num('temperature', 'Temperature', 0.05, 0.05, 5)}
        {num('topP', 'Top-p', 0.05, 0.05, 1)}
        {num('topK', 'Top-k (0 = off)', 1, 0, 1000)}
        {num('repetitionPenalty', 'Repetition penalty', 0.05, 1, 3)}
      </div>
      <OutputFormat params={params} onParams={onParams} />
      {problems.length > 0 && (
        <ul className="error" role="alert" data-testid="gen-errors">
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
    </section>
  );
}
