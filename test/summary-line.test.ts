/**
 * Every command ends with its summary line, on every exit path: run() (generators/cli/common.ts)
 * prints `<command>: failed (exit N): what (t s)` on stderr for a command that failed before its own.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { run, summary } from '../generators/cli/common.js';
import { FindingsError, InputError, UsageError, type Diagnostic } from '../generators/validate/diagnostics.js';
import { LockBusyError } from '../generators/write/lock.js';
import { cli, EXAMPLES } from './helpers.js';

const out = { stdout: '', stderr: '' };
let argv: string[];
beforeEach(() => {
  argv = process.argv;
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out.stdout += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((out.stderr += String(s)), true));
});
afterEach(() => {
  vi.restoreAllMocks();
  process.argv = argv;
  process.exitCode = undefined;
  out.stdout = '';
  out.stderr = '';
});

const lastLine = (s: string): string => s.trimEnd().split('\n').pop()!;
const error = (message: string): Diagnostic => ({ severity: 'error', rule: 'x', file: 'environments/a.yaml', line: 1, col: 1, path: [], message });

const fails = (e: Error) => (): number => {
  throw e;
};

describe('run(): the summary line on every exit path', () => {
  const cases: [string, () => number, number, string][] = [
    ['invalid input', fails(new InputError([error('one'), error('two'), { ...error('w'), severity: 'warning' }])), 2, 'synth: failed (exit 2): 2 errors, 1 warning'],
    ['usage', fails(new UsageError('--frobnicate: unknown')), 2, 'synth: failed (exit 2): invalid usage'],
    ['another run holds rendered/', fails(new LockBusyError('rendered/ is locked by …')), 3, 'synth: failed (exit 3): another run holds rendered/'],
    ['an internal error', fails(new Error('boom')), 70, 'synth: failed (exit 70): internal error'],
    ['a non-zero return without a summary', () => 2, 2, 'synth: failed (exit 2): see above'],
  ];
  it.each(cases)('%s', async (_what, main, code, line) => {
    await run(main, 'synth');
    expect(process.exitCode).toBe(code);
    expect(lastLine(out.stderr)).toMatch(new RegExp(`^${line.replace(/[()]/g, '\\$&')} \\(\\d+\\.\\d s\\)$`));
    expect(out.stdout).toBe('');
  });

  it('a command that printed its summary before failing gets no second one', async () => {
    await run(() => {
      summary('check', '5 environments: 2 findings', performance.now());
      throw new FindingsError('');
    }, 'check');
    expect(process.exitCode).toBe(1);
    expect(out.stdout).toMatch(/^check: 5 environments: 2 findings \(\d+\.\d s\)\n$/);
    expect(out.stderr).toBe('');
  });

  it('success prints nothing more', async () => {
    await run(() => 0, 'synth');
    expect(out.stderr + out.stdout).toBe('');
  });
});

describe('as processes', () => {
  it('a usage error and an unknown environment end with the summary line on stderr', () => {
    const r = cli('synth', EXAMPLES, '--frobnicate');
    expect(r.code).toBe(2);
    expect(lastLine(r.stderr)).toMatch(/^synth: failed \(exit 2\): invalid usage \(\d+\.\d s\)$/);
    const v = cli('validate', EXAMPLES, '--env', 'nope');
    expect(v.code).toBe(2);
    expect(lastLine(v.stderr)).toMatch(/^validate: failed \(exit 2\): invalid usage \(\d+\.\d s\)$/);
  });
});
