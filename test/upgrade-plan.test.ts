/**
 * npm run plan on a scratch git repository built from the example fixtures: a Kubernetes minor bump
 * lists the control planes one at a time before the worker pools; a two-minor jump is refused naming
 * the skew rule; a budget that allows no disruption refuses the pool's drain; a new chart major is
 * flagged; a change of the catalog's pin (no environment pins the chart) is read off rendered/ at the
 * base and shows in the plan and in the review comment's summary.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { upgradePlan } from '../generators/upgrade-plan/plan.js';
import { baseChartVersions } from '../generators/upgrade-plan/base-charts.js';
import { cli, EXAMPLES, prepareExample, renderExample } from './helpers.js';

function git(root: string, args: string[]): void {
  const r = spawnSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
}

/** The examples committed with staging at `baseVersion`; the working tree as the examples have it (1.36.3 from _base). */
function repo(baseVersion: string): string {
  const root = mkdtempSync(join(tmpdir(), 'odp-plan-'));
  cpSync(join(EXAMPLES, 'environments'), join(root, 'environments'), { recursive: true });
  const file = join(root, 'environments', 'staging.yaml');
  const text = readFileSync(file, 'utf8');
  writeFileSync(file, text.replace('  name: odp-staging\n', `  name: odp-staging\n  kubernetesVersion: ${baseVersion}\n`));
  git(root, ['init', '-q', '-b', 'main']);
  git(root, ['add', '-A']);
  git(root, ['commit', '-qm', 'base']);
  writeFileSync(file, text);
  return root;
}

/**
 * The examples and `env`'s rendered tree committed as the base, `file` there with `from` replaced by
 * `to` (what an older catalog or engine pin rendered; no environment pins it); the working tree is the
 * same, with the current pins.
 */
function repoWithRendered(env: string, file: string, from: string, to: string): string {
  const root = mkdtempSync(join(tmpdir(), 'odp-plan-'));
  cpSync(join(EXAMPLES, 'environments'), join(root, 'environments'), { recursive: true });
  let rewritten = 0;
  for (const f of renderExample(env)) {
    const out = join(root, 'rendered', env, f.path);
    mkdirSync(dirname(out), { recursive: true });
    const content = f.path === file ? f.content.replace(from, to) : f.content;
    if (content !== f.content) rewritten++;
    writeFileSync(out, content);
  }
  expect(rewritten).toBe(1);
  git(root, ['init', '-q', '-b', 'main']);
  git(root, ['add', '-A']);
  git(root, ['commit', '-qm', 'base']);
  return root;
}
const repoWithCatalogPin = (was: string): string => repoWithRendered('staging', 'apps/cert-manager.yaml', 'targetRevision: v1.21.1', `targetRevision: ${was}`);

describe('npm run plan', () => {
  it('after a Kubernetes minor bump: control planes one at a time, then the worker pools', () => {
    const r = cli('plan', repo('1.35.4'), '--env', 'staging', '--base', 'HEAD');
    expect(r.code).toBe(0);
    const titles = [...r.stdout.matchAll(/^\s+\d+\. (.*)$/gm)].map((m) => m[1]);
    expect(titles).toStrictEqual(['Kubernetes 1.35.4 → 1.36.3', 'control plane 1/3: stg-cp-1', 'control plane 2/3: stg-cp-2', 'control plane 3/3: stg-cp-3', 'pool general-amd64 (2 nodes)', 'pool general-arm64 (2 nodes)']);
    expect(r.stdout).toContain('2 of 3 members stay up, quorum is 2');
  });

  it('refuses a two-minor jump with the skew rule', () => {
    const r = cli('plan', repo('1.34.2'), '--env', 'staging', '--base', 'HEAD');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('gate: version skew — REFUSED: two or more minors at once (1.34 → 1.36): kube-apiserver instances may differ by at most one minor');
    expect(r.stdout).toContain('https://kubernetes.io/releases/version-skew-policy/');
  });

  it('puts the plan\'s summary in the review comment (npm run diff --format markdown)', () => {
    const r = cli('diff', repo('1.34.2'), '--base', 'HEAD', '--format', 'markdown', '--env', 'staging');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('**Upgrade plan for `staging`** (npm run plan -- --env staging)');
    expect(r.stdout).toContain('⛔ Kubernetes 1.34.2 → 1.36.3 (version skew): two or more minors at once');
  });

  it('refuses a drain no budget allows, and flags a chart\'s new major version', () => {
    const p = prepareExample('staging').prepared!;
    const model = { ...p.model, workloads: p.model.workloads.map((w) => (w.name === 'api' ? { ...w, disruptionBudget: { minAvailable: w.replicas } } : w)) };
    const base = { ...p.data, cluster: { ...(p.data.cluster as object), kubernetesVersion: '1.35.1' }, addons: { 'cert-manager': { chart: { version: 'v0.16.0' } } } };
    const plan = upgradePlan(base, model, p.data);
    expect(plan.steps.find((s) => s.title.startsWith('pool general-amd64'))).toMatchObject({ verdict: 'refused', gate: 'PodDisruptionBudget' });
    expect(plan.steps.find((s) => s.title.startsWith('chart cert-manager'))).toMatchObject({ verdict: 'caution', gate: 'new major version' });
  });

  it('says how an instance refresh of an auto-scaled pool drains: through the Node Termination Handler, or not at all when it is disabled', () => {
    const p = prepareExample('staging').prepared!;
    const base = { ...p.data, cluster: { ...(p.data.cluster as object), kubernetesVersion: '1.35.1' } };
    const scaled = p.model.pools.filter((x) => x.role !== 'controlplane' && x.count !== undefined);
    expect(scaled.length).toBeGreaterThan(0);
    const on = upgradePlan(base, p.model, p.data);
    for (const x of scaled)
      expect(on.steps.find((s) => s.title.startsWith(`pool ${x.name} `))!.reason).toContain('drains each old instance through the eviction API too (budgets hold), by the AWS Node Termination Handler under the group\'s EC2_INSTANCE_TERMINATING hook, for at most its 300 s');
    const off = upgradePlan(base, { ...p.model, addons: [...p.model.addons.filter((a) => a.name !== 'aws-node-termination-handler'), { name: 'aws-node-termination-handler', enabled: false, values: {}, settings: {}, secrets: {}, clusterResources: [], extraNamespaces: [] }] }, p.data);
    for (const x of scaled) expect(off.steps.find((s) => s.title.startsWith(`pool ${x.name} `))!.reason).toContain('an instance refresh of the pool terminates old instances without a drain (aws-node-termination-handler is disabled)');
  });

  it('sees a change of the catalog\'s pin (read off rendered/ at the base), in the plan and the review comment', () => {
    const minor = cli('plan', repoWithCatalogPin('v1.20.2'), '--env', 'staging', '--base', 'HEAD');
    expect(minor.code).toBe(0);
    expect(minor.stdout).toContain('1. chart cert-manager v1.20.2 → v1.21.1\n     gate: chart version — safe: same major version');
    const root = repoWithCatalogPin('v0.16.0');
    const major = cli('plan', root, '--env', 'staging', '--base', 'HEAD');
    expect(major.stdout).toContain('chart cert-manager v0.16.0 → v1.21.1\n     gate: new major version — CAUTION: read the chart\'s upgrade notes for v1.21.1 (https://cert-manager.io/docs/installation/upgrade/)');
    const review = cli('diff', root, '--base', 'HEAD', '--format', 'markdown', '--env', 'staging');
    expect(review.code).toBe(0);
    expect(review.stdout).toContain('**Upgrade plan for `staging`** (npm run plan -- --env staging): 1 step; 1 needs attention:\n- ⚠️ chart cert-manager v0.16.0 → v1.21.1 (new major version)');
  });

  it('sees a change of the engine\'s own release (the base\'s FluxInstance against the head\'s render)', () => {
    const r = cli('plan', repoWithRendered('staging-k3s', 'flux/flux-instance.yaml', 'version: 2.9.0', 'version: 2.8.3'), '--env', 'staging-k3s', '--base', 'HEAD');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("1. Flux 2.8.3 → 2.9.0\n     gate: engine release — CAUTION: the GitOps engine upgrades its own controllers to 2.9.0 when this syncs; read Flux's release notes for 2.9.0");
  });

  it('the base\'s charts: its rendered tree wins over its document\'s pins, which fill in where there is no tree', () => {
    const p = prepareExample('staging').prepared!;
    const data = { ...p.data, addons: { 'cert-manager': { chart: { version: 'v1.20.2' } } } };
    expect(baseChartVersions('staging', data, new Map(), p.model)).toStrictEqual(new Map([['cert-manager', 'v1.20.2']]));
    const tree = new Map(renderExample('staging').map((f) => [`staging/${f.path}`, f.content.replace('targetRevision: v1.21.1', 'targetRevision: v1.19.4')]));
    const ran = baseChartVersions('staging', data, tree, p.model);
    expect(ran.get('cert-manager')).toBe('v1.19.4');
    expect(ran.get('external-secrets')).toBe('2.9.0');
    // Another environment's files are not read.
    expect(baseChartVersions('prod', {}, tree, p.model)).toStrictEqual(new Map());
  });
});
