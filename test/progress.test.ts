/**
 * Progress: on a terminal, synth, check, validate, diff and bench print one line per environment
 * as it finishes (worker threads included), naming the slowest phase; piped, only the summary line.
 * The terminal is simulated: process.stderr.isTTY set for the in-process command.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { main as synth } from '../generators/cli/synth.js';
import { main as check } from '../generators/cli/check.js';
import { main as validate } from '../generators/cli/validate.js';
import { main as diff } from '../generators/cli/diff.js';
import { main as bench } from '../generators/cli/bench.js';
import { progressLine } from '../generators/cli/common.js';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { exampleRoot, ROOT } from './helpers.js';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const ENVS = ['dev', 'dev-k3s', 'prod', 'staging', 'staging-k3s'];
const PHASE = '(load|validate|model|render|serialize|write|rendered checks)';
const out = { stdout: '', stderr: '' };
let root: string;

const setTty = (tty: boolean): void => {
  Object.defineProperty(process.stderr, 'isTTY', { value: tty, configurable: true });
};
/** The per-environment lines printed: `<env>  <n> files…  <t> s (<phase> <t> s)`. */
const envLines = (text: string): string[] => text.split('\n').filter((l) => new RegExp(`^[a-z0-9-]+ +\\d+ files?.*  \\d+\\.\\d s( \\(${PHASE} \\d+\\.\\d s\\))?$`).test(l));
const synthDeps = { ssmClient: () => { throw new Error('no SSM'); }, checkAccount: false, stdout: (t: string) => void (out.stdout += t) };

beforeAll(() => {
  root = exampleRoot({ rendered: true });
  // bench measures its floor with a bare node process that imports yaml from the repository.
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
});
beforeEach(() => {
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out.stdout += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((out.stderr += String(s)), true));
});
afterEach(() => {
  vi.restoreAllMocks();
  setTty(false);
  out.stdout = '';
  out.stderr = '';
});

describe('progressLine', () => {
  it('pads the environment, counts files, names the slowest phase', () => {
    expect(progressLine({ env: 'prod', files: 42, ms: 812, phases: { load: 10, render: 512, write: 90 } }, 7)).toBe('prod     42 files  0.8 s (render 0.5 s)');
    expect(progressLine({ env: 'dev', files: 1, ms: 40, phases: { validate: 30 }, note: '2 errors' }, 3)).toBe('dev  1 file, 2 errors  0.0 s (validate 0.0 s)');
  });
});

describe('on a terminal: a line per environment as it finishes', () => {
  it('synth in worker threads (--jobs 2): every environment, with what changed and the slowest phase; then the summary', async () => {
    setTty(true);
    expect(await synth(['--root', root, '--force', '--jobs', '2'], synthDeps)).toBe(0);
    const lines = envLines(out.stderr);
    expect(lines.map((l) => l.split(' ')[0]).sort()).toStrictEqual(ENVS);
    for (const l of lines) expect(l).toMatch(new RegExp(`^[a-z0-9-]+ +\\d+ files, unchanged  \\d+\\.\\d s \\(${PHASE} \\d+\\.\\d s\\)$`));
    // Padded to the longest name, so the counts line up.
    expect(new Set(lines.map((l) => /^\S+ +/.exec(l)![0].length)).size).toBe(1);
    expect(out.stdout).toMatch(/^synth: 5 environments, \d+ files: 0 written, \d+ unchanged, 0 removed; 2 threads \(\d+\.\d s\)\n$/);
  });

  it('check, validate and diff', async () => {
    setTty(true);
    expect(await check(['--root', root, '--force'])).toBe(0);
    expect(envLines(out.stderr).map((l) => l.replace(/ .*/, ''))).toStrictEqual(ENVS);
    expect(envLines(out.stderr).every((l) => / files, up to date  /.test(l))).toBe(true);
    out.stderr = '';
    expect(await validate(['--root', root])).toBe(0);
    expect(envLines(out.stderr).map((l) => l.replace(/ .*/, ''))).toStrictEqual(ENVS);
    // Warnings only from artifact-sha256 (the example K3s releases' hashes are not recorded yet: no network here).
    expect(envLines(out.stderr).every((l) => / files, 0 errors, \d+ warnings?  /.test(l))).toBe(true);
    expect(out.stderr.split('\n').filter((l) => l.includes('warning:') && !l.includes('[artifact-sha256]'))).toStrictEqual([]);
    out.stderr = '';
    expect(await diff(['--root', root, '--committed'])).toBe(0);
    expect(envLines(out.stderr).map((l) => l.replace(/ .*/, ''))).toStrictEqual(ENVS);
  });

  it('bench (in memory): a line per synthetic environment', async () => {
    setTty(true);
    expect(await bench(['--root', root, '--n', '0', '--changed-of', '0', '--in-memory', '2'])).toBe(0);
    expect(out.stderr).toContain('bench: in memory, 2 environments\n');
    expect(envLines(out.stderr).map((l) => l.replace(/ .*/, ''))).toStrictEqual(['bench-1', 'bench-2']);
  });
});

describe('piped: only the summary line', () => {
  it('synth (worker threads), check, validate', async () => {
    setTty(false);
    expect(await synth(['--root', root, '--force', '--jobs', '2'], synthDeps)).toBe(0);
    expect(await check(['--root', root, '--force'])).toBe(0);
    expect(await validate(['--root', root])).toBe(0);
    // Piped: no progress lines; only the findings (artifact-sha256 warnings of the example K3s releases, no network here).
    expect(out.stderr.split('\n').filter((l) => l !== '' && !l.includes('[artifact-sha256]'))).toStrictEqual([]);
    expect(out.stdout.split('\n').filter((l) => l !== '' && !l.startsWith('note: ') && !l.includes('[artifact-sha256]')).map((l) => l.replace(/:.*/, ''))).toStrictEqual(['synth', 'check', 'validate']);
  });
});
