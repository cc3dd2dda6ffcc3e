/**
 * Output format on the Generation tab: Text / JSON / JSON Schema. The schema editor and its
 * examples load on first use (ui/json-deferred.tsx), so the page's first JavaScript does not grow.
 * Picking JSON Schema keeps the active format until the draft is valid; the draft is never lost.
 */
import type { GenerationParams } from '../engines/types';
import { useSchemaDraft } from '../hooks/useSchemaDraft';
import { deferred } from './deferred';

/** The editor and its checker (@cfworker/json-schema) load only when JSON Schema is picked. */
const SchemaEditor = deferred(() => import('./json/json-views').then((m) => m.SchemaEditor));

type Mode = 'text' | 'json_object' | 'json_schema';
const MODES: { id: Mode; label: string; hint: string }[] = [
  { id: 'text', label: 'Text', hint: 'free text (no constraint)' },
  { id: 'json_object', label: 'JSON', hint: 'any JSON object' },
  { id: 'json_schema', label: 'JSON Schema', hint: 'JSON that matches your schema, on both sides' },
];

interface Props {
  params: GenerationParams;
  onParams: (p: GenerationParams) => void;
}

export function OutputFormat({ params, onParams }: Props) {
  const { draft, update } = useSchemaDraft();
  const active = params.responseFormat?.type ?? 'text';
  const mode: Mode = active === 'json_schema' || draft.pending ? 'json_schema' : active;
  const pick = (m: Mode) => {
    if (m === 'json_schema') {
      update({ pending: true });
      return;
    }
    update({ pending: false });
    const { responseFormat: _old, ...rest } = params;
    onParams(m === 'text' ? rest : { ...rest, responseFormat: { type: 'json_object' } });
  };
  return (
    <fieldset className="field output-format" data-testid="output-format">
      <legend>Output format</legend>
      <div className="row" role="radiogroup" aria-label="Output format">
        {MODES.map((m) => (
          <label key={m.id} className="check" title={m.hint}>
            <input type="radio" name="output-format" value={m.id} checked={mode === m.id} onChange={() => pick(m.id)} data-testid={`format-${m.id}`} /> {m.label}
          </label>
        ))}
      </div>
      {mode === 'json_object' && <p className="muted small">Both panes must answer with one JSON object (the in-browser model is constrained token by token; the hosted one gets response_format json_object).</p>}
      {mode === 'json_schema' && <SchemaEditor params={params} onParams={onParams} draft={draft} onDraft={update} />}
    </fieldset>
  );
}
