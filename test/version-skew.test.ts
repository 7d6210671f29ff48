/**
 * The version-skew rules of synth, check and validate (generators/validate/rules-skew.ts) against the versions the
 * committed rendered tree records (rendered/<env>/.provenance.json `versions`): they refuse what npm run plan refuses
 * for the same pair (one table, generators/upgrade-plan/skew.ts), a new environment is never refused, a tree without a
 * record is a warning, and a rebuild from scratch is acknowledged, never silently.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { distributionNamed } from '../generators/distributions/registry.js';
import { prepareEnvironment, renderEnvironment, type PreparedEnvironment } from '../generators/pipeline.js';
import { upgradePlan } from '../generators/upgrade-plan/plan.js';
import { skewDiagnostics, versionInputs, type RunningVersions } from '../generators/validate/rules-skew.js';
import { formatDiagnostic } from '../generators/validate/diagnostics.js';
import { PROVENANCE_FILE, runningVersions, runningVersionsOf, withManifest } from '../generators/write/provenance.js';
import { readEnvironmentSources } from '../generators/load/loader.js';
import { RENDERED_DIR, writeEnvironment } from '../generators/write/writer.js';
import { runningOf } from '../generators/cli/running.js';
import { processEnvironments } from '../generators/cli/jobs.js';
import { fleetIndex } from '../generators/model/fleet.js';
import { cli, exampleRoot, fixtureSources, formatted, prepareExample, ROOT, synthDates, TSX } from './helpers.js';

/** git in a temporary repository, failing the test on an error. */
const gitIn = (root: string) => (...args: string[]): void => {
  const r = spawnSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
};

const WHERE = 'rendered/x/.provenance.json';
const known = (versions: Record<string, string>): RunningVersions => ({ kind: 'known', where: WHERE, versions });

/** The base document: the head's with its cluster's versions replaced. */
const baseOf = (p: PreparedEnvironment, cluster: Record<string, string>): Record<string, unknown> => ({ ...p.data, cluster: { ...(p.data.cluster as object), ...cluster } });

/** The plan's refused version steps and the rule's errors, for the same base and head. */
function both(p: PreparedEnvironment, cluster: Record<string, string>): { plan: string[]; rule: string[] } {
  const base = baseOf(p, cluster);
  const plan = upgradePlan(base, p.model, p.data).steps.filter((s) => s.verdict === 'refused' && (s.gate === 'version skew' || s.gate === 'support matrix')).map((s) => s.title);
  const rule = skewDiagnostics(p.resolved, p.data, known(versionInputs(base)), undefined).filter((d) => d.severity === 'error').map((d) => d.rule);
  return { plan, rule };
}

describe('the rule and npm run plan agree (one table)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('Kubernetes on Talos: a two-minor jump and a downgrade refused by both, one minor and a patch by neither', () => {
    const p = prepareExample('staging').prepared!; // 1.36.3
    expect(both(p, { kubernetesVersion: '1.34.2' })).toStrictEqual({ plan: ['Kubernetes 1.34.2 → 1.36.3'], rule: ['version-skew'] });
    expect(both(p, { kubernetesVersion: '1.37.0' })).toStrictEqual({ plan: ['Kubernetes 1.37.0 → 1.36.3'], rule: ['version-downgrade'] });
    expect(both(p, { kubernetesVersion: '1.35.4' })).toStrictEqual({ plan: [], rule: [] });
    expect(both(p, { kubernetesVersion: '1.36.1' })).toStrictEqual({ plan: [], rule: [] });
  });

  it('a K3s release: the Kubernetes it ships jumps, refused by both, at the release key', () => {
    const { name, sources } = fixtureSources('valid', 'k3s-audit-sqlite.yaml'); // v1.35.9+k3s1
    const p = prepareEnvironment(name, sources).prepared!;
    expect(both(p, { k3sVersion: 'v1.33.1+k3s1', kubernetesVersion: '1.33.1' })).toStrictEqual({ plan: ['Kubernetes 1.33.1 → 1.35.9 (shipped by v1.35.9+k3s1)'], rule: ['version-skew'] });
    expect(both(p, { k3sVersion: 'v1.34.6+k3s1', kubernetesVersion: '1.34.6' })).toStrictEqual({ plan: [], rule: [] });
    const [d] = skewDiagnostics(p.resolved, p.data, known({ 'cluster.k3sVersion': 'v1.33.1+k3s1', 'cluster.kubernetesVersion': '1.33.1' }), undefined);
    expect(d!.path).toStrictEqual(['cluster', 'k3sVersion']);
    expect(d!.hint).toContain('set cluster.k3sVersion to a K3s release of Kubernetes 1.34 first');
  });

  it('Talos and Kubernetes together where neither order keeps a supported pair (a narrower table): version-order, as the plan refuses it', () => {
    const talos = distributionNamed('talos')!.upgrade!;
    // Stand-in table: v1.12 runs Kubernetes 1.35 at most, v1.13 from 1.36 (the real ranges overlap more).
    vi.spyOn(talos, 'unsupported').mockImplementation((release, kubernetes) => {
      const ok = release.startsWith('v1.12.') ? kubernetes.startsWith('1.35') || kubernetes.startsWith('1.34') : kubernetes.startsWith('1.36');
      return ok ? undefined : `Talos ${release} does not run ${kubernetes}`;
    });
    const p = prepareExample('staging').prepared!; // v1.13.9, 1.36.3
    expect(both(p, { talosVersion: 'v1.12.11', kubernetesVersion: '1.35.4' })).toStrictEqual({ plan: ['cluster.talosVersion: v1.12.11 → v1.13.9'], rule: ['version-order'] });
    const [d] = skewDiagnostics(p.resolved, p.data, known(versionInputs(baseOf(p, { talosVersion: 'v1.12.11', kubernetesVersion: '1.35.4' }))), undefined);
    expect(formatDiagnostic(d!)).toContain('cluster.talosVersion: Talos v1.12.11 → v1.13.9 with Kubernetes 1.35.4 → 1.36.3');
    expect(d!.message).toContain('neither order keeps a supported pair: Talos v1.13.9 does not run 1.35.4; Talos v1.12.11 does not run 1.36.3');
    expect(d!.hint).toBe('Split the change: move to a release that runs both Kubernetes versions first, one change (PR) each');
  });
});

describe('what the rendered tree records', () => {
  it('the manifest records the versions the tree was rendered at', () => {
    const p = prepareExample('staging').prepared!;
    const manifest = withManifest('staging', renderEnvironment(p)).find((f) => f.path === PROVENANCE_FILE)!.content;
    expect(manifest).toContain('\n  "versions": {"cluster.kubernetesVersion":"1.36.3","cluster.talosVersion":"v1.13.9"},\n');
    expect(runningVersionsOf(manifest, WHERE)).toStrictEqual(known({ 'cluster.kubernetesVersion': '1.36.3', 'cluster.talosVersion': 'v1.13.9' }));
  });

  it('no tree: a new environment; a tree without a manifest, an unparsable one or one without versions: unknown', () => {
    const root = mkdtempSync(join(tmpdir(), 'odp-skew-'));
    expect(runningVersions(root, 'rendered', 'fresh')).toStrictEqual({ kind: 'new' });
    mkdirSync(join(root, 'bare'));
    expect(runningVersions(root, 'rendered', 'bare')).toStrictEqual({ kind: 'unknown', where: `rendered/bare/${PROVENANCE_FILE}`, why: 'is missing (the tree has no manifest)' });
    mkdirSync(join(root, 'broken'));
    writeFileSync(join(root, 'broken', PROVENANCE_FILE), '{ not json');
    expect(runningVersions(root, 'rendered', 'broken')).toMatchObject({ kind: 'unknown', why: 'is not a provenance manifest' });
    expect(runningVersionsOf('{"version":"0.1.0","inputs":{},"files":{}}', WHERE)).toMatchObject({ kind: 'unknown', why: 'records no versions (written before the generator recorded them)' });
  });

  it('a new environment is never refused; an unknown record is a warning at the Kubernetes key, and the environment prepares', () => {
    const { name, sources } = fixtureSources('valid', 'minimal.yaml');
    expect(formatted(prepareEnvironment(name, sources, { running: { kind: 'new' } }))).toStrictEqual(formatted(prepareEnvironment(name, sources)));
    const r = prepareEnvironment(name, sources, { running: { kind: 'unknown', where: WHERE, why: 'is not a provenance manifest' } });
    expect(r.prepared).toBeDefined();
    expect(formatted(r)).toContain(
      `environments/_fixture.yaml:16:22  cluster.kubernetesVersion: warning: which versions the cluster runs is not known: ${WHERE} is not a provenance manifest, so a Kubernetes jump or downgrade is not refused here  (npm run synth records them there; before merging a version change, compare with the running cluster (kubectl version) and npm run plan)`,
    );
  });
});

describe('a cluster rebuilt from scratch', () => {
  const ACK = 'acknowledge:\n  - { rule: version-skew, path: cluster.kubernetesVersion, reason: rebuilt from scratch on 1.35 }\n';
  const prepare = (body: string, running: RunningVersions | undefined) => {
    const { sources } = fixtureSources('valid', 'minimal.yaml');
    sources.set('environments/rebuild.yaml', `name: rebuild\nextends: _fixture\ncluster:\n  kubernetesVersion: 1.35.2\n${body}`);
    sources.set('environments/rebuild.ssm.lock.json', sources.get('environments/_fixture.ssm.lock.json')!);
    return prepareEnvironment('rebuild', sources, running ? { running } : {});
  };

  it('an acknowledgement turns the refusal into a warning that stays printed, with its reason', () => {
    const running = known({ 'cluster.kubernetesVersion': '1.33.5', 'cluster.talosVersion': 'v1.13.9' });
    expect(prepare('', running).prepared).toBeUndefined();
    const r = prepare(ACK, running);
    expect(r.prepared).toBeDefined();
    expect(r.acknowledged).toBe(1);
    expect(formatted(r).filter((l) => l.includes('version-skew') || l.includes('jumps'))).toStrictEqual([
      `environments/rebuild.yaml:4:22  cluster.kubernetesVersion: warning: Kubernetes 1.33.5 → 1.35.2 jumps 2 minors (${WHERE} records 1.33.5 as what the cluster runs): kube-apiserver upgrades one minor at a time, never skipping one (Kubernetes version-skew policy, https://kubernetes.io/releases/version-skew-policy/); acknowledged as a rebuild from scratch: rebuilt from scratch on 1.35  (remove the acknowledgement once the rebuild is merged (it is refused as stale then))`,
    ]);
  });

  it('once the tree records the new version, the acknowledgement is refused as stale', () => {
    const r = prepare(ACK, known({ 'cluster.kubernetesVersion': '1.35.2', 'cluster.talosVersion': 'v1.13.9' }));
    expect(r.prepared).toBeUndefined();
    expect(formatted(r).filter((l) => !l.includes(': warning: '))).toStrictEqual([
      'environments/rebuild.yaml:6:33  acknowledge[0].path: acknowledges no warning: there is no version-skew warning at cluster.kubernetesVersion  (the rendered tree records the new version now: remove the entry once the rebuild is merged (until then, compare with the base branch as CI does: --base main))',
    ]);
  });

  it('an acknowledgement of one skew rule at a key where another reports is not called stale: the other is the did-you-mean', () => {
    // 1.33 → 1.35 jumps (acknowledged, the loud warning); a version-downgrade entry at the same key matches nothing there.
    const both = `${ACK}  - { rule: version-downgrade, path: cluster.kubernetesVersion, reason: restored from a backup }\n`;
    const r = prepare(both, known({ 'cluster.kubernetesVersion': '1.33.5', 'cluster.talosVersion': 'v1.13.9' }));
    expect(r.prepared).toBeUndefined();
    expect(formatted(r).filter((l) => !l.includes(': warning: '))).toStrictEqual([
      "environments/rebuild.yaml:7:38  acknowledge[1].path: acknowledges no warning: there is no version-downgrade warning at cluster.kubernetesVersion  (did you mean 'version-skew at cluster.kubernetesVersion'?)",
    ]);
  });
});

describe('an acknowledgement of a skew rule where the run cannot judge it', () => {
  const ACK = 'acknowledge:\n  - { rule: version-skew, path: cluster.kubernetesVersion, reason: rebuilt from scratch on 1.35 }\n';
  const prepare = (running: RunningVersions | undefined) => {
    const { sources } = fixtureSources('valid', 'minimal.yaml');
    sources.set('environments/rebuild.yaml', `name: rebuild\nextends: _fixture\ncluster:\n  kubernetesVersion: 1.35.2\n${ACK}`);
    sources.set('environments/rebuild.ssm.lock.json', sources.get('environments/_fixture.ssm.lock.json')!);
    return prepareEnvironment('rebuild', sources, running ? { running } : {});
  };
  const errors = (r: ReturnType<typeof prepare>): string[] => formatted(r).filter((l) => !l.includes(': warning: '));

  it('no running versions compared (plan, diff, promote, fleet, --print-resolved): neither matched nor refused', () => {
    const r = prepare(undefined);
    expect(r.prepared).toBeDefined();
    expect(errors(r)).toStrictEqual([]);
    expect(r.acknowledged ?? 0).toBe(0);
  });

  it('a new environment (no tree) or a tree without a readable record: no stale-acknowledgement error', () => {
    const fresh = prepare({ kind: 'new' });
    expect(fresh.prepared).toBeDefined();
    expect(errors(fresh)).toStrictEqual([]);
    const unknown = prepare({ kind: 'unknown', where: WHERE, why: 'records no versions (written before the generator recorded them)' });
    expect(unknown.prepared).toBeDefined();
    expect(errors(unknown)).toStrictEqual([]);
    expect(formatted(unknown).join('\n')).toContain('which versions the cluster runs is not known');
    expect(formatted(unknown).join('\n')).not.toContain('the rendered tree records the new version now');
  });

  it('npm run plan of an environment carrying such an acknowledgement succeeds', () => {
    const staging = readFileSync(join(exampleRoot(), 'environments', 'staging.yaml'), 'utf8');
    const acked = staging.replace('acknowledge:\n', ACK);
    expect(acked).not.toBe(staging);
    const root = exampleRoot({ extra: { 'staging.yaml': acked } });
    const git = gitIn(root);
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-qm', 'base');
    const plan = cli('plan', root, '--env', 'staging', '--base', 'HEAD');
    expect(plan.stdout + plan.stderr).not.toContain('acknowledge-unmatched');
    expect(plan.stdout + plan.stderr).not.toContain('acknowledges no warning');
    expect(plan.code).toBe(0);
  });
});

describe('synth, validate and plan on the same change', () => {
  it('a tree rendered at 1.34.2, the file at 1.36.3: synth refuses before writing, validate and plan refuse it too', () => {
    const staging = readFileSync(join(exampleRoot(), 'environments', 'staging.yaml'), 'utf8');
    const at134 = staging.replace('  name: odp-staging\n', '  name: odp-staging\n  kubernetesVersion: 1.34.2\n');
    // Only staging's tree is rendered (at 1.34.2), as synth writes it.
    const root = exampleRoot({ extra: { 'staging.yaml': at134 } });
    const r = prepareEnvironment('staging', readEnvironmentSources(root), { dates: synthDates(root, 'staging') });
    writeEnvironment(join(root, RENDERED_DIR), 'staging', renderEnvironment(r.prepared!));
    const git = gitIn(root);
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-qm', 'base');
    writeFileSync(join(root, 'environments', 'staging.yaml'), staging);
    const manifest = join(root, 'rendered', 'staging', PROVENANCE_FILE);
    const before = readFileSync(manifest, 'utf8');
    expect(before).toContain('"cluster.kubernetesVersion":"1.34.2"');
    const error = 'environments/_base.yaml:13:22  cluster.kubernetesVersion: Kubernetes 1.34.2 → 1.36.3 jumps 2 minors (rendered/staging/.provenance.json records 1.34.2 as what the cluster runs)';

    const synth = cli('synth', root, '--env', 'staging');
    expect(synth.code).toBe(2);
    expect(synth.stderr).toContain(error);
    expect(synth.stderr).toContain('set cluster.kubernetesVersion to a 1.35 release first');
    expect(readFileSync(manifest, 'utf8')).toBe(before);

    const validate = cli('validate', root, '--env', 'staging');
    expect(validate.code).toBe(1);
    expect(validate.stdout).toContain(error);

    const plan = cli('plan', root, '--env', 'staging', '--base', 'HEAD');
    expect(plan.code).toBe(1);
    expect(plan.stdout).toContain('Kubernetes 1.34.2 → 1.36.3\n     gate: version skew — REFUSED: two or more minors at once (1.34 → 1.36)');
  });
});

describe('--base REF: the running versions at the pull request\'s base, not its own re-rendered tree', () => {
  it('a change that ran synth twice (1.34 → 1.35 → 1.36) passes check against itself, and is refused against the base', () => {
    const staging = readFileSync(join(exampleRoot(), 'environments', 'staging.yaml'), 'utf8');
    const at = (v: string): string => staging.replace('  name: odp-staging\n', `  name: odp-staging\n  kubernetesVersion: ${v}\n`);
    const root = exampleRoot({ extra: { 'staging.yaml': at('1.34.2') } });
    const synth = (): void => {
      const r = prepareEnvironment('staging', readEnvironmentSources(root), { dates: synthDates(root, 'staging') });
      writeEnvironment(join(root, RENDERED_DIR), 'staging', renderEnvironment(r.prepared!));
    };
    synth();
    // Not a git repository yet: --base falls back to the working tree, with a note (the only fallback left).
    const noGit = cli('check', root, '--env', 'staging', '--base', 'HEAD');
    expect(noGit.stderr).toContain(`note: --base HEAD: no git here (no git binary, or ${root} is in no git work tree): the running versions are read from rendered/ in the working tree`);
    expect(noGit.code).toBe(0);
    const git = gitIn(root);
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-qm', 'base at 1.34.2');
    // The pull request: 1.35.4, synth, then 1.36.3, synth again (each step alone is one minor).
    writeFileSync(join(root, 'environments', 'staging.yaml'), at('1.35.4'));
    synth();
    writeFileSync(join(root, 'environments', 'staging.yaml'), staging);
    synth();
    expect(readFileSync(join(root, 'rendered', 'staging', PROVENANCE_FILE), 'utf8')).toContain('"cluster.kubernetesVersion":"1.36.3"');

    expect(cli('check', root, '--env', 'staging').code).toBe(0);
    const error = 'environments/_base.yaml:13:22  cluster.kubernetesVersion: Kubernetes 1.34.2 → 1.36.3 jumps 2 minors (HEAD:rendered/staging/.provenance.json records 1.34.2 as what the cluster runs)';
    const check = cli('check', root, '--env', 'staging', '--base', 'HEAD');
    expect(check.stderr).toContain(error);
    expect(check.code).toBe(2);
    const synthAgainstBase = cli('synth', root, '--env', 'staging', '--base', 'HEAD');
    expect(synthAgainstBase.stderr).toContain(error);
    expect(synthAgainstBase.code).toBe(2);
    const validate = cli('validate', root, '--env', 'staging', '--base', 'main');
    expect(validate.stdout).toContain(error.replace('HEAD:', 'main:'));
    expect(validate.code).toBe(1);
  });

  it('an environment the base has no tree of is new there: never refused', () => {
    const root = exampleRoot();
    const git = gitIn(root);
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-qm', 'no rendered tree');
    expect(runningOf(root, 'staging', 'HEAD')).toStrictEqual({ kind: 'new' });
    const r = prepareEnvironment('staging', readEnvironmentSources(root), { dates: synthDates(root, 'staging') });
    writeEnvironment(join(root, RENDERED_DIR), 'staging', renderEnvironment(r.prepared!));
    git('add', '-A');
    git('commit', '-qm', 'rendered');
    expect(runningOf(root, 'staging', 'HEAD')).toStrictEqual({ kind: 'known', where: 'HEAD:rendered/staging/.provenance.json', versions: { 'cluster.kubernetesVersion': '1.36.3', 'cluster.talosVersion': 'v1.13.9' } });
    expect(runningOf(root, 'staging', 'HEAD~1')).toStrictEqual({ kind: 'new' });
  });
});

describe('--base REF that names no revision: refused in a git work tree, never a comparison of the tree with itself', () => {
  /** The example environments with staging and dev (both on _base's Kubernetes) rendered at 1.34.2 and committed, then at 1.36.3 in the working tree. */
  const jumped = (): string => {
    const base = readFileSync(join(exampleRoot(), 'environments', '_base.yaml'), 'utf8');
    const at134 = base.replace('  kubernetesVersion: 1.36.3\n', '  kubernetesVersion: 1.34.2\n');
    expect(at134).not.toBe(base);
    const root = exampleRoot({ extra: { '_base.yaml': at134 } });
    const synth = (): void => {
      const sources = readEnvironmentSources(root);
      for (const env of ['staging', 'dev']) writeEnvironment(join(root, RENDERED_DIR), env, renderEnvironment(prepareEnvironment(env, sources, { dates: synthDates(root, env) }).prepared!));
    };
    synth();
    const git = gitIn(root);
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-qm', 'base at 1.34.2');
    writeFileSync(join(root, 'environments', '_base.yaml'), base);
    synth();
    return root;
  };
  const jump = (env: string, base: string): string => `environments/_base.yaml:13:22  cluster.kubernetesVersion: Kubernetes 1.34.2 → 1.36.3 jumps 2 minors (${base}:rendered/${env}/.provenance.json records 1.34.2 as what the cluster runs)`;

  it('an empty --base (a failed $(git merge-base …) in CI) is exit 2 naming the flag, the value and the fix, for every command', () => {
    const root = jumped();
    for (const command of ['check', 'validate', 'synth', 'plan', 'diff']) {
      const r = cli(command, root, '--env', 'staging', '--base', '');
      expect(r.stderr, command).toContain('--base "": an empty revision (a command substitution that failed, such as $(git merge-base …), expands to nothing)  (compute the revision in its own shell statement first, so that its failure stops the script: base=$(git merge-base HEAD origin/main), then --base "$base")');
      expect(r.stdout, command).not.toContain('jumps 2 minors');
      expect(r.code, command).toBe(2);
    }
    // synth refused before writing: the working tree still records 1.36.3.
    expect(readFileSync(join(root, 'rendered', 'staging', PROVENANCE_FILE), 'utf8')).toContain('"cluster.kubernetesVersion":"1.36.3"');
  });

  it('a revision git does not know is exit 2 too (it used to read the working tree and pass the jump)', () => {
    const root = jumped();
    for (const command of ['check', 'validate', 'synth']) {
      const r = cli(command, root, '--env', 'staging', '--base', 'no-such-branch');
      expect(r.stderr, command).toContain(`--base no-such-branch: not a git revision in ${root}  (a branch, tag or commit of this repository, e.g. what git merge-base HEAD origin/main prints; a shallow clone lacks older commits: fetch them, e.g. fetch-depth: 0 in actions/checkout)`);
      expect(r.stderr, command).not.toContain('note: --base');
      expect(r.code, command).toBe(2);
    }
    // The same tree against the revision that exists: the jump is refused.
    expect(cli('validate', root, '--env', 'staging', '--base', 'main').stdout).toContain(jump('staging', 'main'));
  });

  it('without a git binary the running versions come from the working tree, with a note', () => {
    const root = jumped();
    // PATH with node alone (tsx starts with it): git is not found, as on a machine without it.
    const bin = mkdtempSync(join(tmpdir(), 'odp-nogit-'));
    symlinkSync(process.execPath, join(bin, 'node'));
    const r = spawnSync(TSX, [join(ROOT, 'generators', 'cli', 'check.ts'), '--root', root, '--env', 'staging', '--base', 'HEAD'], { encoding: 'utf8', env: { ...process.env, PATH: bin } });
    expect(r.stderr).toContain(`note: --base HEAD: no git here (no git binary, or ${root} is in no git work tree): the running versions are read from rendered/ in the working tree`);
    expect(r.stderr).not.toContain('jumps 2 minors');
    expect(r.status).toBe(0);
  });

  it('synth --jobs 2 gives the base to its worker threads', async () => {
    const root = jumped();
    // Through the command: both environments refused against the base, whichever thread rendered each.
    const synth = cli('synth', root, '--env', 'staging,dev', '--jobs', '2', '--base', 'HEAD');
    expect(synth.stderr).toContain(jump('staging', 'HEAD'));
    expect(synth.stderr).toContain(jump('dev', 'HEAD'));
    expect(synth.code).toBe(2);
    // This thread renders one environment at most (recycleAfter 1): a worker renders the other, and refuses it too.
    const sources = readEnvironmentSources(root);
    const ctx = { root, sources, fleet: fleetIndex(sources), generator: 'test', mode: 'check' as const, base: 'HEAD', today: '2026-12-08' };
    const run = await processEnvironments(['staging', 'dev'], ctx, 2, { recycleAfter: 1 });
    expect(run.threads).toBe(2);
    // (Refused before the model: a worker's time is validating.)
    expect(run.workerTimes.validate).toBeGreaterThan(0);
    expect(run.outcomes.map((o) => [o.env, o.diagnostics.filter((d) => d.severity === 'error').map((d) => formatDiagnostic(d))])).toStrictEqual([
      ['staging', [expect.stringContaining(jump('staging', 'HEAD'))]],
      ['dev', [expect.stringContaining(jump('dev', 'HEAD'))]],
    ]);
  });
});
