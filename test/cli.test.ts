import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { listFiles } from '../generators/write/writer.js';
import { ROOT } from './helpers.js';

const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

function cli(command: string, root: string, ...args: string[]) {
  const r = spawnSync(TSX, [join(ROOT, 'generators', 'cli', `${command}.ts`), '--root', root, ...args], {
    encoding: 'utf8',
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A scratch copy of the project's environments and committed rendered tree. */
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'odp-cli-'));
  cpSync(join(ROOT, 'environments'), join(dir, 'environments'), { recursive: true });
  cpSync(join(ROOT, 'rendered'), join(dir, 'rendered'), { recursive: true });
  return dir;
}

const snapshot = (dir: string): Record<string, string> =>
  Object.fromEntries(listFiles(join(dir, 'rendered')).map((f) => [f, readFileSync(join(dir, 'rendered', f), 'utf8')]));

describe('synth', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'odp-synth-'));
    cpSync(join(ROOT, 'environments'), join(dir, 'environments'), { recursive: true });
  });

  it('reproduces the committed rendered/ byte for byte from an empty tree', () => {
    const r = cli('synth', dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(snapshot(dir)).toStrictEqual(snapshot(ROOT));
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
    const r = cli('synth', ROOT, '--print-resolved', 'dev');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('# environments/dev.yaml merged with its bases (environments/dev.yaml ← environments/_base.yaml)');
    expect(r.stdout).toMatch(/^ {2}repoURL: https:\/\/github.com\/opendev\/odp-gitops.git$/m);
  });

  it('refuses an unknown environment and an unknown flag with exit 2', () => {
    expect(cli('synth', ROOT, '--env', 'nope')).toMatchObject({ code: 2, stderr: expect.stringContaining('no such environment: nope') });
    expect(cli('synth', ROOT, '--frobnicate')).toMatchObject({ code: 2, stderr: expect.stringContaining("Unknown option '--frobnicate'") });
  });

  it('prints help with exit 0', () => {
    expect(cli('synth', ROOT, '--help')).toMatchObject({ code: 0, stdout: expect.stringContaining('Usage: npm run synth') });
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
  it('passes on the committed tree', () => {
    const r = cli('check', ROOT);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^rendered\/ is up to date \(\d+ environments, \d+ files\)$/m);
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
  it('passes on the example environments', () => {
    const r = cli('validate', ROOT);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/rendered files in rendered\/: 0 errors, \d+ warnings$/m);
    // prod pins 1.35.4: the reader is told which API its built-in kinds were checked against.
    expect(r.stdout).toContain(
      'note: built-in kinds were checked against the Kubernetes 1.34 API (kubernetes-models 5.1.0, the newest schemas on npm), not the version each environment runs (dev-k3s, prod, staging-k3s, staging-rke2 on 1.35; dev, staging on 1.36).',
    );
  });
});
