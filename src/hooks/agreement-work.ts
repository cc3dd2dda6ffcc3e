/**
 * What useAgreement needs once an exchange has both answers — the measures, the judge's rubric,
 * the verdict record — as one module it loads with the first such exchange, not with the page
 * (a page with no hosted pane never needs them; bench `initial_js_gzip_kb`).
 */
export { agreementOf, decide, diffAnswers, lcsCells, measureAgreement } from '../compare/agreement';
export { buildAgreementJudgeMessages, parseAgreementJudge } from '../compare/agreement-judge';
export { verdictRecord } from '../compare/agreement-tally';
