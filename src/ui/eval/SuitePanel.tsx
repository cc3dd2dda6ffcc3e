/** The Suites tab: choose or import a suite, choose engines and a judge, run / stop, and the saved runs. */
import { useState } from 'react';
import type { BundledSuite, SuiteRef } from '../../hooks/useSuites';
import type { Progress } from '../../hooks/useEvalRuns';
import type { EngineChoice } from '../../hooks/useSuiteRunner';
import type { RunSummary } from '../../eval/store';
import type { Suite } from '../../eval/suite';
import type { ConstraintMode } from '../../eval/engines';

interface Props {
  bundled: BundledSuite[];
  imported: Suite[];
  suitesError: string | null;
  engines: EngineChoice[];
  progress: Progress | null;
  runs: RunSummary[];
  openRunId: string | null;
  storeError: string | null;
  onImportSuite: (f: File) => Promise<{ suite: Suite | null; error: string | null }>;
  onRemoveSuite: (id: string) => void;
  onRun: (ref: SuiteRef, engineIds: string[], judgeId: string | null, concurrency: number, mode: ConstraintMode) => void;
  onStop: () => void;
  onOpen: (id: string) => void;
  onResume: (id: string, concurrency: number) => void;
  onCompare: (id: string) => void;
  onDelete: (id: string) => void;
  onImportResults: (f: File) => Promise<string | null>;
  /** The chosen suite: "b:<file>" or "i:<id>". */
  suiteKey: string;
  onSuiteKey: (key: string) => void;
}

const refKey = (r: SuiteRef) => (r.type === 'bundled' ? `b:${r.file}` : `i:${r.id}`);
function parseRef(key: string): SuiteRef {
  return key.startsWith('b:') ? { type: 'bundled', file: key.slice(2) } : { type: 'imported', id: key.slice(2) };
}

export function SuitePanel(p: Props) {
  const { suiteKey, onSuiteKey: setSuiteKey } = p;
  const [picked, setPicked] = useState<Record<string, boolean>>({});
  const [judgeId, setJudgeId] = useState<string>('');
  const [concurrency, setConcurrency] = useState('4');
  const [mode, setMode] = useState<ConstraintMode>('free');
  const [importError, setImportError] = useState<string | null>(null);
  const [resultsError, setResultsError] = useState<string | null>(null);
  const running = p.progress !== null;
  const available = p.engines.filter((e) => e.unavailable === null);
  const chosen = available.filter((e) => picked[e.id] ?? true).map((e) => e.id);
  const conc = Number(concurrency);
  const concError = Number.isInteger(conc) && conc >= 1 && conc <= 16 ? null : 'Concurrency must be a whole number from 1 to 16.';
  const selected = suiteKey.startsWith('b:') ? p.bundled.find((s) => `b:${s.file}` === suiteKey) : p.imported.find((s) => `i:${s.id}` === suiteKey);
  const description = selected ? ('cases' in selected && typeof selected.cases === 'number' ? selected.description : (selected as Suite).description ?? '') : '';
  const count = selected ? (typeof selected.cases === 'number' ? selected.cases : selected.cases.length) : 0;

  return (
    <section className="panel" data-testid="suite-panel">
      <h2>Evaluation suite</h2>
      {p.storeError && <p className="error-box">{p.storeError}</p>}
      {p.suitesError && <p className="error-box">{p.suitesError}</p>}
      <div className="field">
        <label htmlFor="suite-select">Suite</label>
        <select id="suite-select" value={suiteKey} onChange={(e) => setSuiteKey(e.target.value)} disabled={running} data-testid="suite-select">
          <optgroup label="For the embedded models">
            {p.bundled.filter((s) => s.for === 'embedded').map((s) => (
              <option key={s.file} value={`b:${s.file}`}>{s.name}</option>
            ))}
          </optgroup>
          <optgroup label="For real models">
            {p.bundled.filter((s) => s.for === 'general').map((s) => (
              <option key={s.file} value={`b:${s.file}`}>{s.name}</option>
            ))}
          </optgroup>
          {p.imported.length > 0 && (
            <optgroup label="Imported">
              {p.imported.map((s) => (
                <option key={s.id} value={`i:${s.id}`}>{s.name} ({s.cases.length})</option>
              ))}
            </optgroup>
          )}
        </select>
        {selected && (
          <p className="muted small" data-testid="suite-description">
            {count} cases. {description}
          </p>
        )}
        {suiteKey.startsWith('i:') && !running && (
          <button type="button" className="link" onClick={() => { p.onRemoveSuite(suiteKey.slice(2)); setSuiteKey('b:slm-skills-20.json'); }}>
            Remove this imported suite
          </button>
        )}
      </div>
      <div className="field">
        <label htmlFor="suite-import">Import a suite (JSONL, CSV or suite JSON; format in docs/suites.md)</label>
        <input
          id="suite-import"
          type="file"
          accept=".jsonl,.ndjson,.csv,.json,application/json,text/csv"
          data-testid="suite-import"
          disabled={running}
          onChange={async (e) => {
            const f = e.target.files?.[0];
            e.target.value = '';
            if (!f) return;
            const r = await p.onImportSuite(f);
            setImportError(r.error);
            if (r.suite) setSuiteKey(`i:${r.suite.id}`);
          }}
        />
        {importError && (
          <pre className="error-box" data-testid="suite-import-error">{importError}</pre>
        )}
      </div>
      <fieldset className="field" disabled={running}>
        <legend>Engines</legend>
        {p.engines.map((e) => (
          <label key={e.id} className="check" title={e.unavailable ?? ''}>
            <input
              type="checkbox"
              checked={e.unavailable === null && (picked[e.id] ?? true)}
              disabled={e.unavailable !== null}
              onChange={(ev) => setPicked((x) => ({ ...x, [e.id]: ev.target.checked }))}
              data-testid={`suite-engine-${e.id}`}
            />
            {e.label}
            {e.unavailable && <span className="muted small"> — {e.unavailable}</span>}
          </label>
        ))}
        <label htmlFor="suite-judge">Judge for rubric cases</label>
        <select id="suite-judge" value={judgeId} onChange={(e) => setJudgeId(e.target.value)} data-testid="suite-judge">
          <option value="">none (rubric cases stay unscored)</option>
          {available.map((e) => (
            <option key={e.id} value={e.id}>{e.label}</option>
          ))}
        </select>
        <label htmlFor="suite-concurrency">Hosted requests in flight</label>
        <input id="suite-concurrency" inputMode="numeric" value={concurrency} onChange={(e) => setConcurrency(e.target.value)} data-testid="suite-concurrency" />
        {concError && <span className="error-text">{concError}</span>}
        <label htmlFor="suite-constraint">Cases with a response schema</label>
        <select id="suite-constraint" value={mode} onChange={(e) => setMode(e.target.value === 'constrained' ? 'constrained' : e.target.value === 'both' ? 'both' : 'free')} data-testid="suite-constraint">
          <option value="free">free text (the schema only scores)</option>
          <option value="constrained">constrained: the schema is the output constraint</option>
          <option value="both">both, side by side (a column per engine and mode)</option>
        </select>
        <p className="muted small">Uses the Generation tab's settings, but not its output format: each case brings its own schema. Local models run one case at a time.</p>
      </fieldset>
      {running ? (
        <button type="button" onClick={p.onStop} data-testid="suite-stop">Stop</button>
      ) : (
        <button
          type="button"
          disabled={chosen.length === 0 || !selected || concError !== null}
          onClick={() => p.onRun(parseRef(suiteKey), chosen, judgeId || null, conc, mode)}
          data-testid="suite-run"
        >
          Run suite
        </button>
      )}
      {chosen.length === 0 && !running && <p className="muted small">Load a model (Model tab) or enable a hosted endpoint (Hosted tab) first.</p>}

      <h3>Saved runs</h3>
      <ul className="runs" data-testid="suite-runs">
        {p.runs.length === 0 && <li className="muted small">None yet. Finished cells are saved in this browser as they complete.</li>}
        {p.runs.map((r) => (
          <li key={r.id} data-testid="suite-run-item" data-status={r.status} className={r.id === p.openRunId ? 'current' : ''}>
            <div>
              <strong>{r.name}</strong>
              <div className="muted small">
                {r.engines.join(' vs ')} · {r.cells}/{r.total} cells · {r.status === 'running' && p.progress?.runId !== r.id ? 'interrupted' : r.status}
              </div>
            </div>
            <div className="row">
              <button type="button" className="small" onClick={() => p.onOpen(r.id)} data-testid="suite-run-open">Open</button>
              {r.status !== 'done' && !running && (
                <button type="button" className="small" onClick={() => p.onResume(r.id, concError ? 4 : conc)} data-testid="suite-run-resume">Resume</button>
              )}
              {p.openRunId && p.openRunId !== r.id && (
                <button type="button" className="small" onClick={() => p.onCompare(r.id)} data-testid="suite-run-compare">Compare</button>
              )}
              {p.progress?.runId !== r.id && (
                <button type="button" className="small" onClick={() => p.onDelete(r.id)} data-testid="suite-run-delete">Delete</button>
              )}
            </div>
          </li>
        ))}
      </ul>
      <div className="field">
        <label htmlFor="results-import">Import results (JSON exported by this app or the headless runner)</label>
        <input
          id="results-import"
          type="file"
          accept=".json,application/json"
          data-testid="results-import"
          onChange={async (e) => {
            const f = e.target.files?.[0];
            e.target.value = '';
            if (f) setResultsError(await p.onImportResults(f));
          }}
        />
        {resultsError && <pre className="error-box" data-testid="results-import-error">{resultsError}</pre>}
      </div>
    </section>
  );
}

export { refKey };
