/**
 * The results record's format marker and version, apart from its schema (results.ts, zod): the page
 * starts a run with them, and parses a record only when one is imported.
 */
export const RESULTS_FORMAT = 'slm-playground-results';
/** 2: engine columns may run constrained, cells carry their structure verdict and a refused constraint. */
export const RESULTS_VERSION = 2;
