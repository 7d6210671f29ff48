/** Shared wiring for the commands: argument parsing, the project root, errors → exit codes. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { formatDiagnostic, sortDiagnostics, UsageError, type Diagnostic } from '../validate/diagnostics.js';
import { PROJECT_ROOT } from '../lib/project-root.js';
import { acquireRenderedLock, DEFAULT_WAIT_SECONDS, describeHolder } from '../write/lock.js';
import { RENDERED_DIR } from '../write/writer.js';

/** The repository this generator lives in (environments/, rendered/ …). `--root` overrides it. */
export { PROJECT_ROOT };

export interface CommonFlags {
  root: string;
  debug: boolean;
}

type Options = NonNullable<ParseArgsConfig['options']>;

const COMMON_OPTIONS: Options = {
  help: { type: 'boolean', short: 'h' },
  debug: { type: 'boolean' },
  root: { type: 'string' },
};

export function parseCommand<O extends Options>(argv: string[], options: O, help: string, allowPositionals = false) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...options }, allowPositionals, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n\n${help}`);
  }
  const values = parsed.values as Record<string, unknown>;
  if (values.help) {
    process.stdout.write(help.trimEnd() + '\n');
    process.exit(0);
  }
  const common: CommonFlags = { root: resolve(String(values.root ?? PROJECT_ROOT)), debug: Boolean(values.debug) };
  return { values, positionals: parsed.positionals, common };
}

export function splitList(v: unknown): string[] | undefined {
  if (typeof v !== 'string') return undefined;
  return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/**
 * A diagnostic as the commands print it: a warning about an environment file ends with its rule
 * id, which `acknowledge: [{ rule, path, reason }]` in that file takes to silence it.
 */
export function formatReported(d: Diagnostic): string {
  const ackable = d.severity === 'warning' && d.file.startsWith('environments/');
  return formatDiagnostic(d) + (ackable ? `  [${d.rule}]` : '');
}

export function printDiagnostics(ds: readonly Diagnostic[], stream: NodeJS.WritableStream = process.stderr): void {
  for (const d of sortDiagnostics(ds)) stream.write(formatReported(d) + '\n');
}

export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Whether this process printed its summary line (run() prints one for a command that failed before it). */
let summarized = false;

/**
 * Every command ends with one summary line, on a terminal or not (CI logs show it too):
 * `synth: 5 environments, 312 files: 3 written, 309 unchanged, 0 removed (1.4 s)`. It goes to
 * stdout unless stdout carries the command's own output (JSON, Markdown, a config), then to stderr.
 */
export function summary(command: string, text: string, startedAt: number, stream: NodeJS.WritableStream | ((text: string) => void) = process.stdout): void {
  summarized = true;
  const line = `${command}: ${text} (${((performance.now() - startedAt) / 1000).toFixed(1)} s)\n`;
  if (typeof stream === 'function') stream(line);
  else stream.write(line);
}

/** A progress line on a terminal, nothing when output is piped (CI logs stay quiet). */
export function progress(text: string): void {
  if (process.stderr.isTTY) process.stderr.write(text + '\n');
}

/** What one environment's line says: how many files, how long, where the time went, and a note. */
export interface EnvProgress {
  env: string;
  files: number;
  ms: number;
  /** Milliseconds per phase (load, validate, model, render, serialize, write, checks …). */
  phases: Readonly<Record<string, number>>;
  /** After the counts, e.g. `3 changed` or `2 errors`. */
  note?: string;
}

const seconds = (ms: number): string => (ms / 1000).toFixed(1);

/** `prod  42 files  0.8 s (render 0.5 s)`: the environment padded to `width`, the slowest phase named. */
export function progressLine(p: EnvProgress, width: number): string {
  const slowest = Object.entries(p.phases).reduce<[string, number] | undefined>((best, e) => (best === undefined || e[1] > best[1] ? e : best), undefined);
  const phase = slowest && slowest[1] > 0 ? ` (${slowest[0]} ${seconds(slowest[1])} s)` : '';
  return `${p.env.padEnd(width)}  ${plural(p.files, 'file')}${p.note ? `, ${p.note}` : ''}  ${seconds(p.ms)} s${phase}`;
}

/** The progress paragraph of a command's help. */
export const PROGRESS_HELP = `On a terminal, one line per environment on stderr as it finishes: its files (and what changed or
was found), its time and the slowest phase, e.g. "prod  91 files, unchanged  0.8 s (render 0.5 s)".
Piped, only the summary line.`;

/**
 * One line per environment as it finishes (worker threads report to the main thread, which
 * prints), on stderr and only on a terminal: piped output keeps only the summary line.
 */
export function progressReporter(names: readonly string[]): ((p: EnvProgress) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  const width = Math.max(0, ...names.map((n) => n.length));
  return (p) => process.stderr.write(progressLine(p, width) + '\n');
}

/** What a failure was, for the summary line it still ends with. */
function failure(e: Error & { exitCode?: number; diagnostics?: Diagnostic[] } | undefined): string {
  if (e?.diagnostics) {
    const errors = e.diagnostics.filter((d) => d.severity === 'error').length;
    const warnings = e.diagnostics.length - errors;
    return `${plural(errors, 'error')}${warnings > 0 ? `, ${plural(warnings, 'warning')}` : ''}`;
  }
  switch (e?.name) {
    case 'UsageError':
      return 'invalid usage';
    case 'ExternalError':
      return 'AWS or network';
    case 'SsmRefreshError':
      return 'SSM refresh';
    case 'LockBusyError':
      return 'another run holds rendered/';
    case 'FindingsError':
      return 'findings';
    case undefined:
      return 'see above';
    default:
      return e!.exitCode === undefined ? 'internal error' : e!.message.split('\n')[0]!;
  }
}

/**
 * Run a command: user mistakes (InputError, UsageError) print their message and exit 2; findings
 * exit 1; external failures exit 3. A stack trace only with --debug. Whatever happens, the command
 * ends with its summary line: one that failed before printing it gets `<command>: failed (exit N):
 * what (t s)` on stderr (stdout may carry the command's own output).
 */
export async function run(main: (argv: string[]) => Promise<number | void> | number | void, command: string): Promise<void> {
  const started = performance.now();
  const argv = process.argv.slice(2);
  const debug = argv.includes('--debug');
  summarized = false;
  let failed: (Error & { exitCode?: number; diagnostics?: Diagnostic[] }) | undefined;
  try {
    const code = await main(argv);
    process.exitCode = typeof code === 'number' ? code : 0;
  } catch (e) {
    const err = e as Error & { exitCode?: number; diagnostics?: Diagnostic[] };
    failed = err;
    if (err.diagnostics) printDiagnostics(err.diagnostics);
    else if (err.exitCode !== undefined) { if (err.message !== '') process.stderr.write(err.message.trimEnd() + '\n'); }
    else process.stderr.write(`internal error: ${err.message}${debug ? '' : ' (run again with --debug for the stack trace)'}\n`);
    if (debug && err.stack) process.stderr.write(err.stack + '\n');
    process.exitCode = err.exitCode ?? 70;
  }
  const code = Number(process.exitCode ?? 0);
  if (code !== 0 && !summarized) summary(command, `failed (exit ${code}): ${failure(failed)}`, started, process.stderr);
}

/** `--wait SECONDS`: how long a command waits for another run holding rendered/ (default 300). */
export const WAIT_OPTION = { wait: { type: 'string' } } as const;

/** The --wait line of a command's help, its text starting at `column`. */
export function waitHelp(column: number): string {
  return `${'  --wait SECONDS'.padEnd(column)}wait at most this long for another run that holds rendered/\n${' '.repeat(column)}(its lock, rendered/.odp-lock; default ${DEFAULT_WAIT_SECONDS}; 0: refuse at once)`;
}

export function parseWait(v: unknown): number {
  if (v === undefined) return DEFAULT_WAIT_SECONDS;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isInteger(n) || n < 0) throw new UsageError(`--wait ${String(v)}: expected a whole number of seconds (0: do not wait)`);
  return n;
}

/**
 * Run `fn` holding the lock of <root>/rendered/ (write/lock.ts): synth writes the tree, check,
 * validate and diff read it for a verdict, so none may see another's half-swapped tree. A second run
 * says once which run it waits for, and gives up after `waitSeconds` (exit 3).
 */
export async function withRenderedLock<T>(root: string, command: string, waitSeconds: number, fn: () => Promise<T> | T, opts: { readOnly?: boolean } = {}): Promise<T> {
  // A reader of a repository with no rendered/ yet has nothing to protect (and creates nothing).
  if (opts.readOnly && !existsSync(join(root, RENDERED_DIR))) return fn();
  const lock = await acquireRenderedLock(join(root, RENDERED_DIR), {
    command: `npm run ${command}`,
    waitMs: waitSeconds * 1000,
    onWait: (holder) => process.stderr.write(`${command}: waiting for ${describeHolder(holder)} to finish with ${RENDERED_DIR}/ (at most ${waitSeconds} s; --wait)\n`),
  });
  try {
    return await fn();
  } finally {
    lock.release();
  }
}
