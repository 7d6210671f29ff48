/**
 * Incremental synth and check: an environment whose sources, fleet relations and generator are
 * unchanged, and whose tree still matches its manifest, is verified instead of rendered; any other
 * change renders it; `--force` renders everything. Whatever is skipped, the tree is byte for byte
 * what a full render writes.
 */
import { cpSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main as synthMain } from '../generators/cli/synth.js';
import { main as checkMain } from '../generators/cli/check.js';
import { readState, STATE_FILE, treeStat, verifyTree } from '../generators/write/state.js';
import { listFiles } from '../generators/write/writer.js';
import { processEnvironments } from '../generators/cli/jobs.js';
import { readEnvironmentSources } from '../generators/load/loader.js';
import { fleetIndex } from '../generators/model/fleet.js';
import { InputError } from '../generators/validate/diagnostics.js';
import { FIXTURES } from './helpers.js';

vi.setConfig({ testTimeout: 120_000 });

let root: string;
const envText = (name: string, workers = 1, extra = ''): string =>
  `# yaml-language-server: $schema=../schemas/environment.schema.json\nname: ${name}\nextends: _fixture\nnodePools:\n  - { name: cp, role: controlplane, arch: amd64, instanceType: m7i.large, subnet: private-a, nodes: [{ name: cp-1, ip: 10.10.1.10 }] }\n  - { name: workers, role: worker, arch: amd64, instanceType: m7i.xlarge, subnet: private-a, count: ${workers} }\n${extra}`;

function addEnv(name: string, text = envText(name)): void {
  writeFileSync(join(root, 'environments', `${name}.yaml`), text);
  cpSync(join(FIXTURES, '_fixture.ssm.lock.json'), join(root, 'environments', `${name}.ssm.lock.json`));
}

/** The rendered tree, without the state file. */
const tree = (r = root): Map<string, string> => new Map(listFiles(join(r, 'rendered')).filter((f) => f !== STATE_FILE).map((f) => [f, readFileSync(join(r, 'rendered', f), 'utf8')]));

async function synth(...args: string[]): Promise<string> {
  let out = '';
  const code = await synthMain(['--root', root, ...args], { ssmClient: () => { throw new Error('no SSM'); }, checkAccount: false, stdout: (t) => (out += t) });
  expect(code).toBe(0);
  return out;
}

/** check in this process: its summary line, and whether it found anything. */
async function check(...args: string[]): Promise<{ summary: string; findings: string; failed: boolean }> {
  let summary = '';
  let findings = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((t) => ((summary += String(t)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((t) => ((findings += String(t)), true));
  let failed = false;
  try {
    await checkMain(['--root', root, ...args]);
  } catch {
    failed = true;
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return { summary, findings, failed };
}

/** A full render of the same sources into a fresh repository (no state): what the tree must equal. */
async function fullRender(): Promise<Map<string, string>> {
  const other = mkdtempSync(join(tmpdir(), 'odp-incr-full-'));
  cpSync(join(root, 'environments'), join(other, 'environments'), { recursive: true });
  await synthMain(['--root', other], { ssmClient: () => { throw new Error('no SSM'); }, checkAccount: false, stdout: () => {} });
  const t = tree(other);
  rmSync(other, { recursive: true, force: true });
  return t;
}

/** The state the last synth wrote, read under the generator it names. */
const stateOf = () => {
  const { generator } = JSON.parse(readFileSync(join(root, 'rendered', STATE_FILE), 'utf8')) as { generator: string };
  return readState(join(root, 'rendered'), generator);
};

const notRendered = (out: string): number => Number(/; (\d+) of \d+ not rendered/.exec(out)?.[1] ?? 0);

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'odp-incr-'));
  mkdirSync(join(root, 'environments'));
  cpSync(join(FIXTURES, '_fixture.yaml'), join(root, 'environments', '_fixture.yaml'));
  for (const e of ['alpha', 'beta', 'gamma']) addEnv(e);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('incremental synth', () => {
  it('renders everything the first time, nothing the second, and the tree stays byte for byte', async () => {
    expect(notRendered(await synth())).toBe(0);
    const first = tree();
    const again = await synth();
    expect(again).toMatch(/^synth: 3 environments, \d+ files: 0 written, \d+ unchanged, 0 removed; 3 of 3 not rendered: inputs, lock and generator unchanged, tree verified \(--force renders them\)/);
    expect(tree()).toStrictEqual(first);
    expect(notRendered(await synth('--force'))).toBe(0);
    expect(tree()).toStrictEqual(first);
  });

  it('a changed environment file renders that environment only, to what a full render writes', async () => {
    await synth();
    addEnv('beta', envText('beta', 3));
    const out = await synth();
    expect(notRendered(out)).toBe(2);
    expect(out).toMatch(/: [1-9]\d* written/);
    expect(tree()).toStrictEqual(await fullRender());
  });

  it('a changed base renders every environment extending it; a changed lock renders its environment', async () => {
    await synth();
    const base = join(root, 'environments', '_fixture.yaml');
    writeFileSync(base, readFileSync(base, 'utf8') + '\n# a comment changes the file, so its environments render again\n');
    expect(notRendered(await synth())).toBe(0);
    const lock = join(root, 'environments', 'gamma.ssm.lock.json');
    writeFileSync(lock, readFileSync(lock, 'utf8').replace(/\n$/, '\n\n'));
    expect(notRendered(await synth())).toBe(2);
  });

  it('an edited, deleted or added file in a tree renders that environment again and repairs it', async () => {
    await synth();
    const first = tree();
    writeFileSync(join(root, 'rendered', 'alpha', 'README.md'), 'edited by hand\n');
    expect(notRendered(await synth())).toBe(2);
    rmSync(join(root, 'rendered', 'beta', 'README.md'));
    expect(notRendered(await synth())).toBe(2);
    writeFileSync(join(root, 'rendered', 'gamma', 'stray.yaml'), 'a: 1\n');
    expect(notRendered(await synth())).toBe(2);
    expect(tree()).toStrictEqual(first);
  });

  it('an edit in place of the same size with its mtime set back is found by the file\'s ctime (its directory\'s times do not change)', async () => {
    await synth();
    const first = tree();
    const file = join(root, 'rendered', 'alpha', 'README.md');
    // A whole second, which utimes sets back exactly (a nanosecond mtime through a double seconds value and libuv's
    // conversion came back 1.1 µs off once in CI); the next synth records the tree with it.
    const whole = Math.floor(Number(lstatSync(file, { bigint: true }).mtimeNs / 1_000_000_000n)) - 60;
    utimesSync(file, whole, whole);
    await synth();
    const dir = lstatSync(join(root, 'rendered', 'alpha'), { bigint: true });
    const before = lstatSync(file, { bigint: true });
    const text = readFileSync(file, 'utf8');
    // Same length, same inode: only the file's own ctime tells (an index of directory mtimes would miss it).
    writeFileSync(file, text.replace(/[a-z]/, (c) => (c === 'a' ? 'b' : 'a')));
    utimesSync(file, whole, whole);
    const after = lstatSync(file, { bigint: true });
    expect([after.ino, after.size, after.mtimeNs]).toStrictEqual([before.ino, before.size, before.mtimeNs]);
    expect(lstatSync(join(root, 'rendered', 'alpha'), { bigint: true }).mtimeNs).toBe(dir.mtimeNs);
    expect(notRendered(await synth())).toBe(2);
    expect(tree()).toStrictEqual(first);
  });

  it('adding an environment renders only it; deleting one removes its tree and its state', async () => {
    await synth();
    addEnv('delta');
    expect(notRendered(await synth())).toBe(3);
    rmSync(join(root, 'environments', 'delta.yaml'));
    const out = await synth();
    expect(out).toContain('trees of delta removed');
    expect(readdirSync(join(root, 'rendered')).filter((e) => !e.startsWith('.') && e !== 'README.md')).toStrictEqual(['alpha', 'beta', 'gamma']);
    expect(Object.keys(stateOf().environments).sort()).toStrictEqual(['alpha', 'beta', 'gamma']);
  });

  it('deleting the environment another promotes from renders that one again, which then refuses its promotion.from', async () => {
    addEnv('beta', envText('beta', 1, 'promotion: { from: gamma }\n'));
    await synth();
    addEnv('delta');
    // An environment that is not the promotion source changes nobody else.
    expect(notRendered(await synth())).toBe(3);
    rmSync(join(root, 'environments', 'gamma.yaml'));
    rmSync(join(root, 'environments', 'gamma.ssm.lock.json'));
    const failure = (await synthMain(['--root', root], { ssmClient: () => { throw new Error('no SSM'); }, checkAccount: false, stdout: () => {} }).catch((e: unknown) => e)) as InputError;
    expect(failure).toBeInstanceOf(InputError);
    expect(failure.diagnostics.filter((d) => d.severity === 'error').map((d) => [d.file, d.rule, d.message])).toStrictEqual([['environments/beta.yaml', 'promotion-from', 'no environment gamma']]);
  });

  it('closing a promotion.from cycle validates every environment on it again, not only the edited one (rule promotion-cycle)', async () => {
    addEnv('alpha', envText('alpha', 1, 'promotion: { from: beta }\n'));
    addEnv('beta', envText('beta', 1, 'promotion: { from: gamma }\n'));
    await synth();
    // alpha's own file and its relation to beta ({ from, exists }) are unchanged: only the chain beyond beta changed.
    addEnv('gamma', envText('gamma', 2, 'promotion: { from: alpha }\n'));
    const failure = (await synthMain(['--root', root], { ssmClient: () => { throw new Error('no SSM'); }, checkAccount: false, stdout: () => {} }).catch((e: unknown) => e)) as InputError;
    expect(failure).toBeInstanceOf(InputError);
    expect(failure.diagnostics.filter((d) => d.severity === 'error').map((d) => [d.file, d.rule, d.message]).sort()).toStrictEqual([
      ['environments/alpha.yaml', 'promotion-cycle', 'promotion.from goes round in a cycle: alpha ← beta ← gamma ← alpha'],
      ['environments/beta.yaml', 'promotion-cycle', 'promotion.from goes round in a cycle: beta ← gamma ← alpha ← beta'],
      ['environments/gamma.yaml', 'promotion-cycle', 'promotion.from goes round in a cycle: gamma ← alpha ← beta ← gamma'],
    ]);
  });

  it('a state made by another generator, or a corrupt one, renders everything', async () => {
    await synth();
    const file = join(root, 'rendered', STATE_FILE);
    const state = JSON.parse(readFileSync(file, 'utf8')) as { generator: string };
    writeFileSync(file, JSON.stringify({ ...state, generator: 'another' }));
    expect(notRendered(await synth())).toBe(0);
    writeFileSync(file, '{ not json');
    expect(notRendered(await synth())).toBe(0);
    expect(notRendered(await synth())).toBe(3);
  });

  it('warnings of skipped environments are still reported', async () => {
    addEnv('beta', envText('beta').replace('# yaml-language-server: $schema=../schemas/environment.schema.json\n', ''));
    await synth();
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let printed = '';
    try {
      expect(notRendered(await synth())).toBe(3);
      printed = err.mock.calls.map((c) => String(c[0])).join('');
    } finally {
      err.mockRestore();
    }
    expect(printed).toMatch(/^environments\/beta\.yaml:1:1 {2}.*warning: the file does not start with the yaml-language-server schema comment/m);
  });

  it('the running versions are part of the key: after an acknowledged rebuild is synthesised, the next synth refuses the stale acknowledgement instead of replaying the warning', async () => {
    addEnv('beta', envText('beta', 1, 'cluster:\n  kubernetesVersion: 1.33.5\n'));
    await synth();
    const ack = 'acknowledge:\n  - { rule: version-skew, path: cluster.kubernetesVersion, reason: rebuilt from scratch on 1.35 }\n';
    addEnv('beta', envText('beta', 1, ack));
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let printed = '';
    let failed: unknown;
    try {
      await synth();
      expect(err.mock.calls.map((c) => String(c[0])).join('')).toContain('acknowledged as a rebuild from scratch: rebuilt from scratch on 1.35');
      err.mockClear();
      // Nothing changed but the tree, which records 1.35.2 now: beta renders again, and its acknowledgement is stale.
      await synthMain(['--root', root], { ssmClient: () => { throw new Error('no SSM'); }, checkAccount: false, stdout: () => {} }).catch((e: unknown) => (failed = e));
      printed = err.mock.calls.map((c) => String(c[0])).join('');
    } finally {
      err.mockRestore();
    }
    expect(failed).toBeInstanceOf(InputError);
    expect((failed as InputError).diagnostics.map((d) => d.message)).toContain('acknowledges no warning: there is no version-skew warning at cluster.kubernetesVersion');
    expect(printed).not.toContain('acknowledged as a rebuild from scratch');
  });

  it('a version-skew-unknown warning is not replayed once the manifest records the versions again', async () => {
    await synth();
    const manifest = join(root, 'rendered', 'beta', '.provenance.json');
    const text = readFileSync(manifest, 'utf8');
    const without = text.replace(/\n {2}"versions": \{[^\n]*\},/, '');
    expect(without).not.toBe(text);
    writeFileSync(manifest, without);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const runs: string[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        err.mockClear();
        await synth();
        runs.push(err.mock.calls.map((c) => String(c[0])).join(''));
      }
    } finally {
      err.mockRestore();
    }
    expect(runs[0]).toContain('beta.yaml');
    expect(runs[0]).toContain('which versions the cluster runs is not known: rendered/beta/.provenance.json records no versions');
    expect(readFileSync(manifest, 'utf8')).toBe(text);
    expect(runs[1]).not.toContain('which versions the cluster runs is not known');
    expect(runs[2]).not.toContain('which versions the cluster runs is not known');
  });

  it('an unchanged tree\'s running versions come from the state (what its manifest gave when written), not from reading every manifest again', async () => {
    await synth();
    const file = join(root, 'rendered', STATE_FILE);
    const entries = () => (JSON.parse(readFileSync(file, 'utf8')) as { environments: Record<string, { running?: unknown }> }).environments;
    expect(Object.values(entries()).map((e) => e.running)).toStrictEqual(['current', 'current', 'current']);
    // A state without them (written before they were recorded): the manifests are read, nothing renders, and the state gains them.
    const raw = JSON.parse(readFileSync(file, 'utf8')) as { environments: Record<string, { running?: unknown }> };
    for (const e of Object.values(raw.environments)) delete e.running;
    writeFileSync(file, JSON.stringify(raw));
    expect(notRendered(await synth())).toBe(3);
    expect(Object.values(entries()).map((e) => e.running)).toStrictEqual(['current', 'current', 'current']);
    // The recorded value is what the key is computed with: another one no longer matches, and beta renders again.
    const tampered = JSON.parse(readFileSync(file, 'utf8')) as { environments: Record<string, { running?: unknown }> };
    tampered.environments.beta!.running = { kind: 'unknown', where: 'rendered/beta/.provenance.json', why: 'records no versions' };
    writeFileSync(file, JSON.stringify(tampered));
    const out = await synth();
    expect(notRendered(out)).toBe(2);
    expect(out).toMatch(/: 0 written, \d+ unchanged, 0 removed;/);
    expect(entries().beta!.running).toBe('current');
  });

  it('a secret in another environment\'s tree is warned about at the next synth once that environment exists, and no longer once it is gone, without the reader\'s files changing (rule secret-other-environment)', async () => {
    const workload = 'workloads:\n  - name: api\n    namespace: apps\n    image: ghcr.io/opendev/api:2.7.0\n    ports: [{ name: http, port: 8080 }]\n    env:\n      DATABASE_URL: { secret: /odp/delta/api/database-url }\n    resources: { requests: { cpu: 250m, memory: 256Mi } }\n    readiness: { httpGet: /ready }\n';
    addEnv('alpha', envText('alpha', 1, workload));
    const warned = async (): Promise<{ skipped: number; warnings: string[] }> => {
      const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      try {
        const skipped = notRendered(await synth());
        return { skipped, warnings: err.mock.calls.map((c) => String(c[0])).join('').split('\n').filter((l) => l.includes('[secret-other-environment]')) };
      } finally {
        err.mockRestore();
      }
    };
    // /odp/delta/ names no environment yet: no warning.
    expect(await warned()).toStrictEqual({ skipped: 0, warnings: [] });
    // delta is added; alpha's files are unchanged, but the environment its secret's tree names now exists: alpha is
    // validated and rendered again (its fleet relations changed), beta and gamma are not.
    addEnv('delta');
    const added = await warned();
    expect(added.skipped).toBe(2);
    expect(added.warnings).toStrictEqual([expect.stringMatching(/^environments\/alpha\.yaml:\d+:\d+ {2}workloads\[0\]\.env\.DATABASE_URL\.secret: warning: SSM parameter \/odp\/delta\/api\/database-url is in environment delta's tree/)]);
    // Unchanged since: skipped, its warning replayed.
    const again = await warned();
    expect(again).toStrictEqual({ skipped: 4, warnings: added.warnings });
    // delta is deleted: alpha is rendered again, without the warning.
    rmSync(join(root, 'environments', 'delta.yaml'));
    rmSync(join(root, 'environments', 'delta.ssm.lock.json'));
    expect(await warned()).toStrictEqual({ skipped: 2, warnings: [] });
  });

  it('--jobs 2 renders in worker threads to the same tree', async () => {
    await synth('--jobs', '1');
    const one = tree();
    rmSync(join(root, 'rendered'), { recursive: true, force: true });
    const out = await synth('--jobs', '2');
    expect(out).toMatch(/; 2 threads \(/);
    expect(tree()).toStrictEqual(one);
  });

  it('workers retire after their share and fresh ones finish the queue, with the outcomes of one thread', async () => {
    await synth();
    const sources = readEnvironmentSources(root);
    const ctx = { root, sources, fleet: fleetIndex(sources), generator: 'test', mode: 'check' as const, today: '2026-12-08' };
    const names = ['alpha', 'beta', 'gamma'];
    const one = await processEnvironments(names, ctx, 1);
    const recycled = await processEnvironments(names, ctx, 2, { recycleAfter: 1 });
    expect(recycled.threads).toBe(2);
    // The same outcomes but for their timings.
    const untimed = (os: typeof one.outcomes) => os.map(({ ms: _ms, phases: _phases, ...o }) => o);
    expect(untimed(recycled.outcomes)).toStrictEqual(untimed(one.outcomes));
    expect(recycled.outcomes.every((o) => o.ms > 0 && o.phases.render > 0)).toBe(true);
    expect(one.outcomes.map((o) => [o.env, o.findings])).toStrictEqual(names.map((n) => [n, []]));
    expect(recycled.workerTimes.render).toBeGreaterThan(0);
  });

  it('--jobs must be a whole number', async () => {
    await expect(synthMain(['--root', root, '--jobs', 'many'], { ssmClient: () => { throw new Error('no SSM'); }, checkAccount: false, stdout: () => {} })).rejects.toThrow(/--jobs many: expected a whole number of worker threads/);
  });
});

describe('incremental synth across a hub', () => {
  beforeEach(() => {
    for (const f of ['fleet-a', 'fleet-b']) addEnv(f, readFileSync(join(FIXTURES, 'valid', 'hub.fleet', `${f}.yaml`), 'utf8'));
    addEnv('hub', readFileSync(join(FIXTURES, 'valid', 'hub.yaml'), 'utf8'));
  });

  it('a fleet the run reads in its threads (nothing to skip) gives the outcomes of one read up front, in one thread or several', async () => {
    await synth();
    const sources = readEnvironmentSources(root);
    const names = ['alpha', 'beta', 'fleet-a', 'fleet-b', 'gamma', 'hub'];
    const upFront = { root, sources, fleet: fleetIndex(sources), generator: 'test', mode: 'check' as const, today: '2026-12-08' };
    const deferred = { ...upFront, fleet: new Map(), fleetPending: names };
    // Outcomes without their timings (ms, phases), which differ from run to run.
    const untimed = (os: Awaited<ReturnType<typeof processEnvironments>>['outcomes']) => os.map(({ ms: _ms, phases: _phases, ...o }) => o);
    const reference = await processEnvironments(names, upFront, 1);
    expect(reference.outcomes.map((o) => [o.env, o.findings])).toStrictEqual(names.map((n) => [n, []]));
    expect(untimed((await processEnvironments(names, deferred, 1)).outcomes)).toStrictEqual(untimed(reference.outcomes));
    const threads = await processEnvironments(names, deferred, 2, { recycleAfter: 2 });
    expect(threads.threads).toBe(2);
    expect(untimed(threads.outcomes)).toStrictEqual(untimed(reference.outcomes));
    expect(threads.workerTimes.load).toBeGreaterThan(0);
    // Without the hub's entry, its managed environments would render as standalone ones: the fleet mattered.
    const noHub = await processEnvironments(['fleet-a'], { ...upFront, fleet: new Map([...upFront.fleet].filter(([n]) => n !== 'hub')) }, 1);
    expect(noHub.outcomes[0]!.findings).not.toStrictEqual([]);
  });

  it('a change in what the hub manages renders the hub and the environments it manages or managed, nobody else', async () => {
    await synth();
    const hub = join(root, 'environments', 'hub.yaml');
    const text = readFileSync(hub, 'utf8');
    expect(text).toMatch(/manages: \[fleet-a, fleet-b\]|- fleet-b/);
    writeFileSync(hub, text.includes('manages: [fleet-a, fleet-b]') ? text.replace('manages: [fleet-a, fleet-b]', 'manages: [fleet-a]') : text.replace(/\n\s*- fleet-b/, ''));
    const out = await synth();
    // hub, fleet-b (standalone now) and fleet-a (its hub's entry changed) render; alpha, beta and gamma do not.
    expect(notRendered(out)).toBe(3);
    expect(tree()).toStrictEqual(await fullRender());
  });
});

describe('incremental check', () => {
  it('verifies unchanged environments without rendering, and still finds an edited file', async () => {
    await synth();
    const ok = await check();
    expect(ok.failed).toBe(false);
    expect(ok.summary).toMatch(/^check: 3 environments, \d+ files: rendered\/ is up to date \(3 of 3 verified against the last synth's manifests, not rendered; --force renders them\)/);
    writeFileSync(join(root, 'rendered', 'alpha', 'README.md'), 'edited by hand\n');
    const bad = await check();
    expect(bad.failed).toBe(true);
    expect(bad.findings).toMatch(/^stale {4}rendered\/alpha\/README\.md {2}\(same inputs: the generator changed, or the file was edited\)$/m);
    expect(bad.summary).toMatch(/2 of 3 verified/);
    const forced = await check('--force');
    expect(forced.failed).toBe(true);
    expect(forced.summary).not.toMatch(/verified/);
  });

  it('with no state (a clean clone) renders everything', async () => {
    await synth();
    rmSync(join(root, 'rendered', STATE_FILE));
    const r = await check();
    expect(r.failed).toBe(false);
    expect(r.summary).not.toMatch(/verified/);
  });

  it('a tree is trusted by its metadata signature; without a matching one its files are hashed, and the signature recorded', async () => {
    await synth();
    const file = join(root, 'rendered', STATE_FILE);
    const state = stateOf();
    expect(state.environments.alpha!.stat).toBe(treeStat(join(root, 'rendered'), 'alpha'));
    state.environments.alpha!.stat = 'f'.repeat(64);
    writeFileSync(file, JSON.stringify(state));
    expect(notRendered(await synth())).toBe(3);
    expect(stateOf().environments.alpha!.stat).toBe(treeStat(join(root, 'rendered'), 'alpha'));
    // Content rewritten byte for byte the same: new ctime, so the files are hashed, and they match.
    const readme = join(root, 'rendered', 'beta', 'README.md');
    writeFileSync(readme, readFileSync(readme));
    expect(notRendered(await synth())).toBe(3);
  });

  it('the signature covers the layout recorded with it: a file or a directory added below the tree, at any depth, is found without listing it', async () => {
    await synth();
    const first = tree();
    const dir = join(root, 'rendered', 'alpha');
    expect(stateOf().environments.alpha!.layout).toStrictEqual(listFiles(dir));
    const sub = listFiles(dir).find((f) => f.split('/').length >= 3)!;
    const deep = join(dir, sub.slice(0, sub.lastIndexOf('/')));
    const cases: [() => void, number][] = [
      [() => writeFileSync(join(deep, 'stray.yaml'), 'a: 1\n'), 2],
      [() => { mkdirSync(join(dir, 'new')); writeFileSync(join(dir, 'new', 'x.yaml'), 'a: 1\n'); }, 2],
      // An empty directory is no file of the tree: its parent changed, so the files are hashed, and they match.
      [() => mkdirSync(join(deep, 'empty')), 3],
    ];
    for (const [add, skipped] of cases) {
      const before = stateOf().environments.alpha!.stat;
      add();
      expect(notRendered(await synth())).toBe(skipped);
      expect(stateOf().environments.alpha!.layout).toStrictEqual(listFiles(dir));
      expect(stateOf().environments.alpha!.stat).not.toBe(before);
      expect(notRendered(await synth())).toBe(3);
    }
    expect(tree()).toStrictEqual(first);
  });

  it('a file replaced by a symlink to the same content is not the tree the writer wrote', async () => {
    await synth();
    const readme = join(root, 'rendered', 'alpha', 'README.md');
    const copy = join(root, 'readme-copy.md');
    writeFileSync(copy, readFileSync(readme));
    rmSync(readme);
    symlinkSync(copy, readme);
    expect(notRendered(await synth())).toBe(2);
    expect(lstatSync(readme).isFile()).toBe(true);
  });

  /** alpha edited, then synth with the writer's own calls, and `touch` right after alpha's new tree is swapped in; its output. */
  async function synthTouchingAlpha(touch: () => void): Promise<string> {
    await synth();
    addEnv('alpha', envText('alpha', 2));
    let out = '';
    const io = {
      writeFile: (path: string, content: string) => writeFileSync(path, content),
      link: (from: string, to: string) => linkSync(from, to),
      rename: (from: string, to: string) => {
        renameSync(from, to);
        if (to === join(root, 'rendered', 'alpha')) touch();
      },
    };
    expect(await synthMain(['--root', root], { ssmClient: () => { throw new Error('no SSM'); }, checkAccount: false, stdout: (t) => (out += t), writerIo: io })).toBe(0);
    return out;
  }

  it('an edit made while the run goes on, after the writer signed the tree it wrote, is not trusted', async () => {
    const readme = join(root, 'rendered', 'alpha', 'README.md');
    expect(await synthTouchingAlpha(() => writeFileSync(readme, 'edited during the run\n'))).toMatch(/2 of 3 not rendered/);
    expect(stateOf().environments.alpha!.stat).toBeUndefined();
    expect(stateOf().environments.beta!.stat).toBe(treeStat(join(root, 'rendered'), 'beta'));
    // The next run does not trust alpha's tree: it renders it again, and the edit is gone.
    expect(notRendered(await synth())).toBe(2);
    expect(readFileSync(readme, 'utf8')).not.toMatch(/edited during the run/);
  });

  it('a file added while the run goes on, after the writer signed the tree it wrote, is not trusted', async () => {
    const extra = join(root, 'rendered', 'alpha', 'notes.md');
    await synthTouchingAlpha(() => writeFileSync(extra, 'added during the run\n'));
    expect(notRendered(await synth())).toBe(2);
    expect(existsSync(extra)).toBe(false);
    expect(tree()).toStrictEqual(await fullRender());
  });

  it('verifyTree accepts exactly the tree of the recorded manifest', async () => {
    await synth();
    const state = stateOf();
    const sha = state.environments.alpha!.manifest;
    expect(verifyTree(join(root, 'rendered'), 'alpha', sha)).toBe(true);
    expect(verifyTree(join(root, 'rendered'), 'alpha', 'f'.repeat(64))).toBe(false);
    expect(verifyTree(join(root, 'rendered'), 'nope', sha)).toBe(false);
  });
});
