import { useEffect, useState } from 'react';
import type { Price } from '../compare/pricing';
import { parsePrices, PRICES_KEY } from '../state/hosted-settings';

/** The price table, persisted in localStorage. */
export function usePrices() {
  const [prices, setPrices] = useState<Record<string, Price>>(() => {
    try {
      return parsePrices(localStorage.getItem(PRICES_KEY));
    } catch {
      return parsePrices(null);
    }
  });
  useEffect(() => {
    try {
      localStorage.setItem(PRICES_KEY, JSON.stringify(prices));
    } catch {
      // storage blocked: prices last for this visit
    }
  }, [prices]);
  return { prices, setPrices };
}
