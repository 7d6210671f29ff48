/**
 * Findings (errors, warnings) with their file:line:col and document path, and the errors commands exit with.
 */
import { formatPath, type DocPath } from '../lib/paths.js';

export type Severity = 'error' | 'warning';

export interface SourcePos {
  file: string;
  line: number;
  col: number;
}

/** One finding about an environment or a rendered file: where, what, what was expected, a hint. */
export interface Diagnostic {
  severity: Severity;
  /** Stable identifier of the rule that fired, e.g. `schema.additionalProperties` or `etcd-odd`. */
  rule: string;
  file: string;
  line?: number;
  col?: number;
  path: DocPath;
  message: string;
  hint?: string;
  /** A warning that stays printed when an acknowledgement matches it (the acknowledgement still counts as used). */
  loud?: boolean;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line === undefined ? d.file : `${d.file}:${d.line}:${d.col ?? 1}`;
  const level = d.severity === 'warning' ? 'warning: ' : '';
  const hint = d.hint ? `  (${d.hint})` : '';
  return `${where}  ${formatPath(d.path)}: ${level}${d.message}${hint}`;
}

export function sortDiagnostics(ds: readonly Diagnostic[]): Diagnostic[] {
  return [...ds].sort(
    (a, b) =>
      a.file.localeCompare(b.file) ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.col ?? 0) - (b.col ?? 0) ||
      a.message.localeCompare(b.message),
  );
}

export const hasErrors = (ds: readonly Diagnostic[]): boolean => ds.some((d) => d.severity === 'error');

/** A mistake in the user's input: printed as diagnostics, exit code 2, never a stack trace. */
export class InputError extends Error {
  readonly exitCode = 2;
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.name = 'InputError';
  }
}

/** A failure outside our control (AWS, network): exit code 3. */
export class ExternalError extends Error {
  readonly exitCode = 3;
  constructor(message: string) {
    super(message);
    this.name = 'ExternalError';
  }
}

/** Wrong command-line usage: exit code 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Findings from check/validate: exit code 1. */
export class FindingsError extends Error {
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = 'FindingsError';
  }
}
