/** The problems an import collects (line and field as the file names them) and the error it throws. */
import { SUITE_LIMITS } from './suite';

export const IMPORT_LIMITS = {
  /** UTF-8 bytes of the file's text. */
  maxBytes: 5 * 1024 * 1024,
  maxCases: SUITE_LIMITS.maxCases,
  /** Problems collected before giving up. */
  maxErrors: 20,
} as const;

export interface ImportIssue {
  /** 1-based line in the file (JSONL: the physical line; CSV: where the record starts); null when not line-based. */
  line: number | null;
  /** The field as the file names it ("tolerance", "answer", "scorer.pattern", "cases[3].id"); null for the whole line. */
  field: string | null;
  message: string;
}

export function formatImportIssue(i: ImportIssue): string {
  if (i.line !== null) return `Line ${i.line}${i.field !== null ? `, field "${i.field}"` : ''}: ${i.message}`;
  if (i.field !== null) return `Field "${i.field}": ${i.message}`;
  return i.message;
}

export class SuiteImportError extends Error {
  override name = 'SuiteImportError';
  /** The first problem's line and field (also in `issues[0]`). */
  readonly line: number | null;
  readonly field: string | null;
  constructor(readonly issues: ImportIssue[]) {
    const first = issues[0] ?? { line: null, field: null, message: 'The file could not be imported.' };
    const more = issues.length - 1;
    super(`${formatImportIssue(first)}${more > 0 ? ` (and ${more} more problem${more === 1 ? '' : 's'}${issues.length >= IMPORT_LIMITS.maxErrors ? `; stopped after ${IMPORT_LIMITS.maxErrors}` : ''})` : ''}`);
    this.line = first.line;
    this.field = first.field;
  }
}

/** Thrown internally once maxErrors problems are collected. */
export class TooManyIssues extends Error {}

export class Issues {
  readonly list: ImportIssue[] = [];
  add(line: number | null, field: string | null, message: string): void {
    this.list.push({ line, field, message });
    if (this.list.length >= IMPORT_LIMITS.maxErrors) throw new TooManyIssues();
  }
  get count(): number {
    return this.list.length;
  }
}
