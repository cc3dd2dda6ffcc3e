/** A shared session's agreement: the sharer's tally, decision sentence and disagreements (text only). */
import { sessionDecision, tallySentence, tallySession } from '../compare/agreement-tally';
import type { ShareState } from '../share/schema';

export function ShareSession({ s }: { s: ShareState }) {
  const session = s.session;
  if (!session) return null;
  const t = tallySession(session.entries);
  const d = sessionDecision(session.entries, session.loadMs);
  return (
    <div data-testid="share-session">
      <h3>The sharer's agreement with the hosted answers</h3>
      <p data-testid="share-session-tally">{tallySentence(t)}</p>
      <p data-testid="share-session-decision">{d.sentence}</p>
      {t.disagreements.length > 0 && (
        <details>
          <summary>Disagreements ({t.disagreements.length})</summary>
          <ul className="small">
            {t.disagreements.map((i) => {
              const e = session.entries[i]!;
              return (
                <li key={i}>
                  <strong>{e.prompt.slice(0, 200)}</strong> — local: “{e.local.slice(0, 200)}”, hosted: “{e.hosted.slice(0, 200)}” ({e.verdict.reason})
                </li>
              );
            })}
          </ul>
        </details>
      )}
    </div>
  );
}
