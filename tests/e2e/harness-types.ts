/** The harness page's API (src/harness/types.ts), for the Node-side tests. */
export type { Harness, HarnessLoad, HarnessRun, HarnessSuiteResult, HarnessSuiteRun } from '../../src/harness/types';
