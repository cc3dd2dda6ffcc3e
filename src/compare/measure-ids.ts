/**
 * The agreement measures' ids, in the order that decides the verdict (compare/agreement.ts).
 * A leaf module: the share format's schema names them, and importing them from agreement.ts
 * brought the whole agreement family into the page's first load.
 */
export type MeasureId = 'exact' | 'normalized' | 'json' | 'numbers' | 'judge' | 'similarity';
export const MEASURE_IDS: readonly MeasureId[] = ['exact', 'normalized', 'json', 'numbers', 'judge', 'similarity'];
