import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { listFiles } from '../generators/write/writer.js';
import { cli, EXAMPLES, exampleRoot, renderedExamples } from './helpers.js';

/** A scratch repository: the example environments and their rendered tree. */
const scratch = (): string => exampleRoot({ rendered: true });

const snapshot = (dir: string): Record<string, string> =>
  Object.fromEntries(listFiles(join(dir, 'rendered')).map((f) => [f, readFileSync(join(dir, 'rendered', f), 'utf8')]));

describe('synth', () => {
  let dir: string;
  beforeAll(() => {
    dir = exampleRoot();
  });

  it('writes from an empty tree byte for byte what the pipeline renders, and says so in one line', () => {
    const r = cli('synth', dir);
    expect(r.code).toBe(0);
    expect(snapshot(dir)).toStrictEqual(snapshot(renderedExamples()));
    const files = listFiles(join(dir, 'rendered')).length;
    expect(r.stdout).toMatch(new RegExp(`^synth: 5 environments, ${files} files: ${files} written, 0 unchanged, 0 removed \\(\\d+\\.\\d s\\)$`, 'm'));
  });

  it('reports a misspelt key with file:line:col, exit 2, no stack trace, and writes nothing', () => {
    const d = scratch();
    const before = snapshot(d);
    const file = join(d, 'environments', 'dev.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('    instanceType: m7i.large', '    instanceTpye: m7i.large'));
    const r = cli('synth', d);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^environments\/dev\.yaml:\d+:\d+  nodePools\[0\]\.instanceTpye: unknown key 'instanceTpye'.*\(did you mean 'instanceType'\?\)$/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
    expect(snapshot(d)).toStrictEqual(before);
  });

  it('prints the resolved environment', () => {
    const r = cli('synth', EXAMPLES, '--print-resolved', 'dev');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('# environments/dev.yaml merged with its bases (environments/dev.yaml ← environments/_base.yaml)');
    expect(r.stdout).toMatch(/^ {2}repoURL: https:\/\/github.com\/opendev\/odp-gitops.git$/m);
  });

  it('refuses an unknown environment and an unknown flag with exit 2', () => {
    expect(cli('synth', EXAMPLES, '--env', 'nope')).toMatchObject({ code: 2, stderr: expect.stringContaining('no such environment: nope') });
    expect(cli('synth', EXAMPLES, '--env', 'dev,prdo')).toMatchObject({ code: 2, stderr: expect.stringContaining("no such environment: prdo (did you mean 'prod'?)") });
    expect(cli('synth', EXAMPLES, '--frobnicate')).toMatchObject({ code: 2, stderr: expect.stringContaining("Unknown option '--frobnicate'") });
  });

  it('prints help with exit 0', () => {
    expect(cli('synth', EXAMPLES, '--help')).toMatchObject({ code: 0, stdout: expect.stringContaining('Usage: npm run synth') });
  });

  it('removes the tree of an environment whose file was deleted, and only then', () => {
    const d = scratch();
    rmSync(join(d, 'environments', 'staging.yaml'));
    expect(cli('synth', d, '--env', 'dev').code).toBe(0);
    expect(existsSync(join(d, 'rendered', 'staging'))).toBe(true);
    expect(cli('synth', d).code).toBe(0);
    expect(existsSync(join(d, 'rendered', 'staging'))).toBe(false);
    expect(existsSync(join(d, 'rendered', 'dev', 'README.md'))).toBe(true);
  });

  it('leaves unchanged files untouched when re-run', () => {
    const d = scratch();
    const f = join(d, 'rendered', 'dev', 'README.md');
    const before = statSync(f).mtimeMs;
    expect(cli('synth', d).code).toBe(0);
    expect(statSync(f).mtimeMs).toBe(before);
  });
});

describe('check', () => {
  it('passes on a tree synth wrote', () => {
    const r = cli('check', renderedExamples());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^check: 5 environments, \d+ files: rendered\/ is up to date \(\d+\.\d s\)$/m);
  });

  it('fails naming a deleted, an extra and a stale file', () => {
    const d = scratch();
    rmSync(join(d, 'rendered', 'dev', 'README.md'));
    writeFileSync(join(d, 'rendered', 'staging', 'stray.yaml'), 'x: 1\n');
    const prod = join(d, 'environments', 'prod.yaml');
    writeFileSync(prod, readFileSync(prod, 'utf8').replace('plannedPods: 300', 'plannedPods: 310'));
    const r = cli('check', d);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('missing  rendered/dev/README.md');
    expect(r.stderr).toContain('extra    rendered/staging/stray.yaml');
    expect(r.stderr).toMatch(/^stale    rendered\/prod\/README\.md$/m);
    expect(r.stderr).toContain('run npm run synth and commit');
  });

  it('fails on the tree of an environment that no longer exists', () => {
    const d = scratch();
    rmSync(join(d, 'environments', 'dev.yaml'));
    const r = cli('check', d);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('extra    rendered/dev/README.md  (no environments/dev.yaml)');
  });
});

describe('validate', () => {
  it('passes on the example environments, with the Kubernetes API note once, in one line', () => {
    const r = cli('validate', renderedExamples());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^validate: 5 environments, \d+ rendered files: 0 errors, \d+ warnings \(\d+\.\d s\)$/m);
    const notes = r.stdout.split('\n').filter((l) => l.startsWith('note: '));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/^note: built-in kinds checked against the Kubernetes 1\.34 API; .*--kubernetes-schemas DIR/);
  });
});
