import { useEffect, useState } from 'react';
import { EMBEDDED_MODELS, fetchModelCard, type ModelCard } from '../models/embedded';
import { appBase } from './urls';

/** The embedded models' cards (exact sizes, parameter counts), read once from the app itself. */
export function useEmbeddedCards(): Partial<Record<string, ModelCard | null>> {
  const [cards, setCards] = useState<Partial<Record<string, ModelCard | null>>>({});
  useEffect(() => {
    let live = true;
    void Promise.all(
      EMBEDDED_MODELS.map(async (m) => [m.id, (await fetchModelCard(m.id, appBase()).catch(() => null))?.card ?? null] as const),
    ).then((pairs) => live && setCards(Object.fromEntries(pairs)));
    return () => {
      live = false;
    };
  }, []);
  return cards;
}
