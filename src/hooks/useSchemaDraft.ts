/** The schema editor's draft, kept in localStorage as typed (state/schema-draft.ts). */
import { useCallback, useEffect, useState } from 'react';
import { localStore } from '../lib/local-storage';
import { parseSchemaDraft, SCHEMA_DRAFT_KEY, type SchemaDraft } from '../state/schema-draft';

const storage = localStore;

/** A change to the draft: fields to set, or a function of the latest draft (state/schema-draft.ts's transitions). */
export type DraftUpdate = Partial<SchemaDraft> | ((d: SchemaDraft) => SchemaDraft);

export function useSchemaDraft() {
  const [draft, setDraft] = useState<SchemaDraft>(() => parseSchemaDraft(storage()?.getItem(SCHEMA_DRAFT_KEY) ?? null));
  useEffect(() => {
    try {
      storage()?.setItem(SCHEMA_DRAFT_KEY, JSON.stringify(draft));
    } catch {
      // Storage full or blocked: the draft still lives for this session.
    }
  }, [draft]);
  const update = useCallback((u: DraftUpdate) => setDraft((d) => (typeof u === 'function' ? u(d) : { ...d, ...u })), []);
  return { draft, update };
}
