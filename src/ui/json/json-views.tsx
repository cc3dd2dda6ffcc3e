/**
 * The JSON-output views (one lazily loaded chunk, see ui/json-deferred.tsx): the schema editor
 * with its examples, the answer pretty-printed with its badges, and the strip's badges.
 */
import { useEffect, useMemo } from 'react';
import type { FinishReason, GenerationParams } from '../../engines/types';
import type { ResponseFormat } from '../../inference/response-format';
import { jsonVerdict, verdictLabel, type JsonVerdict } from '../../compare/json-verdict';
import { schemaMismatch } from '../../compare/schema-validator';
import { checkSchemaDraft, SCHEMA_EXAMPLES } from '../../eval/schema-draft';
import { adoptFormat, discardKept, placeDraft, restoreKept, type SchemaDraft } from '../../state/schema-draft';

interface EditorProps {
  params: GenerationParams;
  onParams: (p: GenerationParams) => void;
  draft: SchemaDraft;
  /** Fields to set, or a transition of the latest draft (state/schema-draft.ts). */
  onDraft: (u: Partial<SchemaDraft> | ((d: SchemaDraft) => SchemaDraft)) => void;
}

const pretty = (schema: Record<string, unknown>) => JSON.stringify(schema, null, 2);

/** The schema editor: validates as you type; only a valid schema becomes the active format. */
export function SchemaEditor({ params, onParams, draft, onDraft }: EditorProps) {
  const rf = params.responseFormat;
  const activeKey = rf?.type === 'json_schema' ? JSON.stringify(rf) : null;

  // A schema that arrived from elsewhere (a share link, another tab) is shown once; the user's
  // own draft it replaces is kept, with "Restore my draft" below. The user's own edits never
  // come back here (they are what `applied` records).
  useEffect(() => {
    if (rf?.type === 'json_schema' && activeKey !== null && activeKey !== draft.applied) onDraft((d) => adoptFormat(d, rf, activeKey, Date.now()));
    else if (!rf && !draft.text) {
      const ex = SCHEMA_EXAMPLES[0];
      if (ex) onDraft((d) => placeDraft(d, pretty(ex.schema), ex.name, Date.now()));
    }
  }, [activeKey]); // only when the active format changes

  const check = useMemo(() => checkSchemaDraft(draft.text, draft.name), [draft.text, draft.name]);
  // A valid draft becomes the active format (also when JSON Schema was just picked).
  useEffect(() => {
    if (!check.format) return;
    const key = JSON.stringify(check.format);
    if (key === activeKey) return;
    onDraft({ applied: key, pending: false });
    onParams({ ...params, responseFormat: check.format });
  }, [check.format]); // each new valid draft, once

  const inUse = rf?.type === 'json_schema' ? `the schema "${rf.name}" shown when it was last valid` : rf?.type === 'json_object' ? 'JSON (any object)' : 'plain text';
  return (
    <div className="schema-editor" data-testid="schema-editor">
      <div className="row">
        <span className="muted small">Examples:</span>
        {SCHEMA_EXAMPLES.map((ex) => (
          <button key={ex.id} type="button" className="small" onClick={() => onDraft((d) => placeDraft(d, pretty(ex.schema), ex.name, Date.now()))} data-testid={`schema-example-${ex.id}`} title={`Try with: ${ex.prompt}`}>
            {ex.label}
          </button>
        ))}
      </div>
      {draft.kept.length > 0 && (
        <div className="notice" role="status" data-testid="schema-kept">
          <p className="small">
            {draft.kept.length === 1 ? 'Your own draft was kept' : `Your own ${draft.kept.length} earlier drafts were kept`} when a schema from a share link, another tab or an example replaced
            the editor's text:
          </p>
          <ul className="small">
            {draft.kept.map((k, i) => (
              <li key={`${k.at}-${i}`} data-testid="schema-kept-item">
                “{k.name}”, {k.text.length.toLocaleString('en-US')} characters, kept {new Date(k.at).toLocaleTimeString()}{' '}
                <button type="button" className="small" onClick={() => onDraft((d) => restoreKept(d, i, Date.now()))} data-testid="schema-restore-draft">
                  Restore my draft
                </button>{' '}
                <button type="button" className="small link" onClick={() => onDraft((d) => discardKept(d, i))} data-testid="schema-discard-draft">
                  Discard
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
      <div className="field">
        <label htmlFor="schema-name">Schema name</label>
        <input id="schema-name" value={draft.name} onChange={(e) => onDraft({ name: e.target.value })} data-testid="schema-name" spellCheck={false} />
      </div>
      <div className="field">
        <label htmlFor="schema-text">JSON Schema</label>
        <textarea
          id="schema-text"
          rows={10}
          className="mono"
          value={draft.text}
          onChange={(e) => onDraft({ text: e.target.value })}
          spellCheck={false}
          aria-invalid={check.problems.length > 0}
          aria-describedby="schema-status"
          data-testid="schema-text"
        />
      </div>
      <div id="schema-status" aria-live="polite">
        {check.problems.length > 0 ? (
          <>
            <ul className="error" data-testid="schema-errors">
              {check.problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
            <p className="muted small" data-testid="schema-not-applied">
              Not applied yet: answers are asked for as {inUse} until this schema is valid. Your text is kept.
            </p>
          </>
        ) : (
          <p className="muted small" data-testid="schema-ok">
            <span className="badge ok">valid</span> Both panes answer with JSON matching this schema.
          </p>
        )}
      </div>
    </div>
  );
}

function verdictOf(text: string, finish: FinishReason | null | undefined, format: ResponseFormat): JsonVerdict {
  return jsonVerdict(text, finish, format, schemaMismatch);
}

/** Badges for one verdict: valid JSON, matches the schema (or where it fails), incomplete. */
function Badges({ v, format }: { v: JsonVerdict; format: ResponseFormat }) {
  return (
    <span className="json-badges" data-testid="json-badges" data-valid={String(v.valid)} data-matches={String(v.matches)} data-incomplete={String(v.incomplete)}>
      {v.valid ? <span className="badge ok">valid JSON</span> : <span className="badge warn">{v.incomplete ? 'incomplete JSON' : 'not valid JSON'}</span>}
      {format.type === 'json_schema' && v.valid && (v.matches ? <span className="badge ok">matches schema</span> : <span className="badge warn" title={v.detail}>fails schema</span>)}
      {format.type === 'json_object' && v.matches === false && <span className="badge warn">not an object</span>}
    </span>
  );
}

/** An answer asked for as JSON: pretty-printed when it parses, with its badges and where it fails. */
export function JsonAnswer({ text, finish, format }: { text: string; finish: FinishReason | null | undefined; format: ResponseFormat }) {
  const v = useMemo(() => verdictOf(text, finish, format), [text, finish, format]);
  return (
    <div className="json-answer">
      <pre className="json" data-testid="json-pretty">{v.pretty ?? text}</pre>
      <Badges v={v} format={format} />
      {v.detail && <p className="muted small" data-testid="json-detail">{v.detail}</p>}
    </div>
  );
}

/** The strip's cell: the verdict's badges (where it fails in the title). */
export function JsonBadges({ text, finish, format }: { text: string; finish: FinishReason | null | undefined; format: ResponseFormat }) {
  const v = useMemo(() => verdictOf(text, finish, format), [text, finish, format]);
  return (
    <span title={v.detail || verdictLabel(v)}>
      <Badges v={v} format={format} />
    </span>
  );
}
