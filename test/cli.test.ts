import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { listFiles } from '../generators/write/writer.js';
import { STATE_FILE } from '../generators/write/state.js';
import { cli, EXAMPLES, exampleRoot, renderedExamples } from './helpers.js';

// Each test runs the commands as processes (about 2 s each alone, far more on a loaded machine).
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

/** A scratch repository: the example environments and their rendered tree. */
const scratch = (): string => exampleRoot({ rendered: true });

const snapshot = (dir: string): Record<string, string> =>
  Object.fromEntries(listFiles(join(dir, 'rendered')).filter((f) => f !== STATE_FILE).map((f) => [f, readFileSync(join(dir, 'rendered', f), 'utf8')]));

describe('synth', () => {
  let dir: string;
  beforeAll(() => {
    dir = exampleRoot();
  });

  it('writes from an empty tree byte for byte what the pipeline renders, and says so in one line', () => {
    const r = cli('synth', dir);
    expect(r.code).toBe(0);
    expect(snapshot(dir)).toStrictEqual(snapshot(renderedExamples()));
    const files = listFiles(join(dir, 'rendered')).filter((f) => f !== STATE_FILE).length;
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

  it('fails naming a deleted, an extra and a stale file (with the inputs that changed), and where the manifest disagrees', () => {
    const d = scratch();
    rmSync(join(d, 'rendered', 'dev', 'README.md'));
    writeFileSync(join(d, 'rendered', 'staging', 'stray.yaml'), 'x: 1\n');
    const values = join(d, 'rendered', 'staging', 'values', 'metrics-server.yaml');
    writeFileSync(values, `${readFileSync(values, 'utf8')}replicas: 9\n`);
    const prod = join(d, 'environments', 'prod.yaml');
    writeFileSync(prod, readFileSync(prod, 'utf8').replace('plannedPods: 300', 'plannedPods: 310'));
    const r = cli('check', d);
    expect(r.code).toBe(1);
    const lines = r.stderr.split('\n');
    expect(lines).toContain('missing  rendered/dev/README.md');
    expect(lines).toContain('extra    rendered/staging/stray.yaml');
    expect(lines).toContain('stale    rendered/prod/README.md  (inputs changed: cluster)');
    expect(lines).toContain('stale    rendered/prod/.provenance.json');
    expect(lines).toContain('stale    rendered/staging/values/metrics-server.yaml  (same inputs: the generator changed, or the file was edited)');
    expect(lines).toContain('manifest rendered/dev/.provenance.json: lists README.md, which is not in the tree');
    expect(lines).toContain('manifest rendered/staging/.provenance.json: values/metrics-server.yaml does not match its hash (edited after synth?)');
    expect(lines).toContain('manifest rendered/staging/.provenance.json: does not list stray.yaml');
    expect(r.stderr).toContain('run npm run synth and commit');
    expect(r.stdout).toMatch(/^check: 5 environments, \d+ files: 8 findings \(\d+\.\d s\)$/m);
    // --env: only those environments.
    const only = cli('check', d, '--env', 'prod');
    expect(only.code).toBe(1);
    expect(only.stderr.split('\n').filter((l) => / rendered\//.test(l)).every((l) => l.includes('rendered/prod/'))).toBe(true);
    expect(only.stdout).toMatch(/^check: 1 environment, \d+ files: 2 findings/m);
    expect(cli('check', d, '--env', 'prdo')).toMatchObject({ code: 2, stderr: expect.stringContaining("no such environment: prdo (did you mean 'prod'?)") });
  });

  it('fails on the tree of an environment that no longer exists', () => {
    const d = scratch();
    rmSync(join(d, 'environments', 'dev.yaml'));
    const r = cli('check', d);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('extra    rendered/dev/README.md  (no environments/dev.yaml)');
  });
});

describe('check: files under rendered/ that belong to no environment', () => {
  it('reports a stray file directly under rendered/ and a folder no environment can have; git-ignored .odp-* entries are left out', () => {
    const d = scratch();
    writeFileSync(join(d, 'rendered', 'notes.md'), '# not rendered\n');
    mkdirSync(join(d, 'rendered', 'Prod'));
    writeFileSync(join(d, 'rendered', 'Prod', 'app.yaml'), 'x: 1\n');
    // What a killed run leaves (synth repairs it) and the incremental state: git-ignored, not the tree's.
    mkdirSync(join(d, 'rendered', '.odp-tmp-dev-99999'));
    writeFileSync(join(d, 'rendered', '.odp-tmp-dev-99999', 'README.md'), 'partial\n');
    const r = cli('check', d);
    expect(r.code).toBe(1);
    const extra = r.stderr.split('\n').filter((l) => l.startsWith('extra'));
    expect(extra).toStrictEqual([
      "extra    rendered/Prod/app.yaml  (outside every environment's tree: synth writes only rendered/<env>/)",
      "extra    rendered/notes.md  (outside every environment's tree: synth writes only rendered/<env>/)",
    ]);
    expect(r.stderr).toContain("Delete the files outside every environment's tree, or move them out of rendered/ (synth never touches them).");
    expect(r.stderr).not.toContain('run npm run synth');
    expect(r.stdout).toMatch(/^check: 5 environments, \d+ files: 2 findings/m);
  });
});

describe('talos and diff', () => {
  it('talos without a command prints its help as a usage error (exit 2)', () => {
    const r = cli('talos', EXAMPLES);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^Usage: npm run talos -- <command>/);
  });

  it('talos commands and diff end with their summary line', () => {
    const root = renderedExamples();
    expect(cli('talos', root, 'commands', '--env', 'prod').stdout).toMatch(/^talos commands: prod: commands for \d+ node configs \(\d+\.\d s\)$/m);
    const diff = cli('diff', root, '--committed');
    expect(diff.code).toBe(0);
    expect(diff.stdout).toMatch(/^diff: no change against rendered\/ \(on disk\) \(\d+\.\d s\)$/m);
    const md = cli('diff', root, '--committed', '--format', 'json');
    expect(JSON.parse(md.stdout)).toBeTypeOf('object');
    expect(md.stderr).toMatch(/^diff: no change/m);
  });
});

describe('validate', () => {
  it('passes on the example environments, with the Kubernetes API note once, in one line', () => {
    const r = cli('validate', renderedExamples());
    expect(r.code).toBe(0);
    // Acknowledged: the agent token on the controllers pools (2) and node-exporter's host network (rule host-network-role: 7).
    expect(r.stdout).toMatch(/^validate: 5 environments, \d+ rendered files: 0 errors, \d+ warnings \(9 acknowledged\) \(\d+\.\d s\)$/m);
    const notes = r.stdout.split('\n').filter((l) => l.startsWith('note: '));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/^note: built-in kinds checked against the Kubernetes 1\.34 API; .*--kubernetes-schemas DIR/);
  });
});
