/**
 * npm run promote's health gate (promotion.requireHealthy) against a kubectl stub (test/support/kubectl-stub.mjs) on a
 * real scratch Git repository (test/support/promote-repo.ts): the source's delivery objects are the very objects its
 * rendered tree holds, with the status their controllers write (the shapes below cite the upstream types), so
 * ancestry is checked against real commits. Healthy at a descendant of the bump passes; OutOfSync, Degraded,
 * Ready=False, a stale generation, a revision behind the bump, an unknown revision, a missing root, no context and
 * kubectl failing each refuse, naming the gate, the object, its revision and the commit it needed.
 */
import { mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineNamed } from '../generators/engines/registry.js';
import { prepareEnvironment } from '../generators/pipeline.js';
import { cli, fixtureSources } from './helpers.js';
import { git, scratch, type ScratchRepo } from './support/promote-repo.js';

type Obj = Record<string, any>;

const STUB = join(dirname(fileURLToPath(import.meta.url)), 'support', 'kubectl-stub.mjs');
const REQUIRE = 'promotion:\n  from: staging\n  requireHealthy: true\n';
const T = '2026-12-09T11:30:00Z';

const yamlFile = (file: string): Obj => parse(readFileSync(file, 'utf8')) as Obj;
const filesIn = (dir: string, match: RegExp): string[] => readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => match.test(f)).sort().map((f) => join(dir, f));

/** kubectl on PATH is the stub, answering from a world file the test writes. */
let world = '';
const savedPath = process.env.PATH;
beforeAll(() => {
  const bin = mkdtempSync(join(tmpdir(), 'odp-kubectl-'));
  symlinkSync(STUB, join(bin, 'kubectl'));
  world = join(bin, 'world.json');
  process.env.PATH = `${bin}:${savedPath ?? ''}`;
  process.env.KUBECTL_STUB_WORLD = world;
});
afterAll(() => {
  process.env.PATH = savedPath;
  delete process.env.KUBECTL_STUB_WORLD;
});

const serve = (contexts: Record<string, { unreachable?: string; objects?: Record<string, Obj[]> }>): void => writeFileSync(world, JSON.stringify({ contexts }));
const promote = (root: string, ...extra: string[]): ReturnType<typeof cli> => cli('promote', root, '--from', 'staging', '--to', 'prod', ...extra);

/** One commit after the bump: what a cluster that synced since then has applied (a descendant of the bump). */
function later(repo: ScratchRepo): string {
  writeFileSync(join(repo.root, 'NOTES.md'), 'later\n');
  git(repo.root, ['add', '-A']);
  git(repo.root, ['commit', '-qm', 'later'], Date.parse(T));
  return git(repo.root, ['rev-parse', 'HEAD']);
}

/**
 * An Application as Argo CD writes its status (argoproj/argo-cd v3.4.4 pkg/apis/application/v1alpha1/types.go:
 * ApplicationStatus :1184-1198, SyncStatus :1907-1916 — `revisions` one per spec.sources entry, a chart's being its
 * version —, OperationState :1419-1427, SyncOperationResult :1722-1735; health codes gitops-engine/pkg/health/health.go:18-30).
 */
function argoStatus(app: Obj, sha: string, o: { sync?: string; health?: string } = {}): Obj {
  const sources: Obj[] = app.spec.sources ?? [app.spec.source];
  const revisions = sources.map((s) => (s.chart ? s.targetRevision : sha));
  const multi = app.spec.sources !== undefined;
  const revs = multi ? { revisions } : { revision: revisions[0] };
  return {
    ...app,
    status: {
      sync: { status: o.sync ?? 'Synced', comparedTo: { destination: app.spec.destination, ...(multi ? { sources } : { source: sources[0] }) }, ...revs },
      health: { status: o.health ?? 'Healthy', lastTransitionTime: T },
      operationState: { phase: 'Succeeded', message: 'successfully synced (all tasks run)', startedAt: T, finishedAt: T, operation: { sync: { ...revs } }, syncResult: { ...revs, ...(multi ? { sources } : { source: sources[0] }) } },
      reconciledAt: T,
      sourceTypes: sources.map((s) => (s.chart ? 'Helm' : 'Directory')),
    },
  };
}

/** staging's Applications as rendered (root and children), each with a status. */
const argoApps = (root: string): Obj[] => [...filesIn(join(root, 'rendered/staging/apps'), /\.yaml$/), join(root, 'rendered/staging/argocd/application-root.yaml')].map(yamlFile).filter((o) => o.kind === 'Application');

describe('promote: the health gate on an Argo CD source', () => {
  let repo: ScratchRepo;
  let apps: Obj[];
  let laterSha: string;
  let prodBefore: string;
  const applications = (f: (a: Obj) => Obj): void => serve({ staging: { objects: { 'applications.argoproj.io': apps.map(f) } } });
  beforeAll(() => {
    repo = scratch(REQUIRE);
    laterSha = later(repo);
    apps = argoApps(repo.root);
    prodBefore = readFileSync(join(repo.root, 'environments/prod.yaml'), 'utf8');
  });

  it('passes when every Application is Synced and Healthy at a descendant of the commit introducing the version (--dry-run: checked, nothing written)', () => {
    expect(apps.map((a) => a.metadata.name)).toContain('root');
    expect(apps.find((a) => a.metadata.name === 'cert-manager')!.spec.sources.map((s: Obj) => s.chart ?? s.ref ?? s.path)).toStrictEqual(['cert-manager', 'values', 'rendered/staging/manifests/cert-manager']);
    applications((a) => argoStatus(a, laterSha));
    const r = promote(repo.root, '--dry-run', '--source-context', 'staging');
    expect(r.stdout).toContain(`Health: ${apps.length} Argo CD objects of staging read in staging's own cluster (Argo CD namespace argocd) (context staging); each must be applied and healthy at a descendant of ${repo.bump}.`);
    expect(r.stdout).toContain('Gates pass. Dry run: environments/prod.yaml not written.');
    expect(r.code).toBe(0);
    expect(readFileSync(join(repo.root, 'environments/prod.yaml'), 'utf8')).toBe(prodBefore);
  });

  it('OutOfSync refuses, naming the Application, its revisions and the commit it needed; nothing is written', () => {
    applications((a) => argoStatus(a, laterSha, a.metadata.name === 'cert-manager' ? { sync: 'OutOfSync' } : {}));
    const r = promote(repo.root, '--source-context', 'staging');
    expect(r.code).toBe(1);
    const l = laterSha.slice(0, 12);
    expect(r.stdout).toContain(`health gate: Application argocd/cert-manager is not applied and healthy: status.sync.status is OutOfSync; at revision ${l} (status.sync.revisions[1]), ${l} (status.sync.revisions[2]); needs commit ${repo.bump} (chart cert-manager v1.21.2)`);
    expect(r.stdout).toContain('Refused (1 gate):');
    expect(readFileSync(join(repo.root, 'environments/prod.yaml'), 'utf8')).toBe(prodBefore);
  });

  it('Degraded refuses, also with --dry-run', () => {
    applications((a) => argoStatus(a, laterSha, a.metadata.name === 'root' ? { health: 'Degraded' } : {}));
    const r = promote(repo.root, '--dry-run', '--source-context', 'staging');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`health gate: Application argocd/root is not applied and healthy: status.health.status is Degraded; at revision ${laterSha.slice(0, 12)} (status.sync.revisions[0]), ${laterSha.slice(0, 12)} (status.sync.revisions[1]); needs commit ${repo.bump} (chart cert-manager v1.21.2)`);
  });

  it('Synced and Healthy at a revision before the bump refuses: the cluster is behind', () => {
    applications((a) => argoStatus(a, repo.levelSha));
    const r = promote(repo.root, '--dry-run', '--source-context', 'staging');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`health gate: Application argocd/cert-manager is behind: it has applied ${repo.levelSha.slice(0, 12)} (status.sync.revisions[1]), which does not contain commit ${repo.bump} (chart cert-manager v1.21.2); wait for it to sync`);
    expect(r.stdout).toContain(`health gate: Application argocd/root is behind: it has applied ${repo.levelSha.slice(0, 12)} (status.sync.revisions[0])`);
  });

  it('a revision this repository does not have refuses (its ancestry is unknown, never assumed)', () => {
    const stranger = 'f'.repeat(40);
    applications((a) => argoStatus(a, stranger));
    const r = promote(repo.root, '--dry-run', '--source-context', 'staging');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`health gate: Application argocd/root has applied ffffffffffff (status.sync.revisions[0]), a commit this repository does not have (git fetch): whether it contains commit ${repo.bump} (chart cert-manager v1.21.2) is unknown`);
  });

  it('no root Application in the context (another cluster, or never bootstrapped) refuses', () => {
    serve({ staging: { objects: { 'applications.argoproj.io': apps.filter((a) => a.metadata.name !== 'root').map((a) => argoStatus(a, laterSha)) } } });
    const r = promote(repo.root, '--dry-run', '--source-context', 'staging');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`health gate: Application argocd/root (labelled odp.opendev.dev/environment=staging) is not in staging's own cluster (Argo CD namespace argocd), context staging: the source is not delivered there (or the context is another cluster's); needs commit ${repo.bump} (chart cert-manager v1.21.2)`);
  });

  it('kubectl failing refuses with its reason: an unreachable API server, an unknown context, no --source-context', () => {
    serve({ staging: { unreachable: 'api.staging.odp.internal:6443' } });
    const down = promote(repo.root, '--dry-run', '--source-context', 'staging');
    expect(down.code).toBe(1);
    expect(down.stdout).toContain("health gate: staging's cluster could not be read, so its health is unknown and not assumed: kubectl --context staging --request-timeout 30s get applications.argoproj.io --namespace argocd --selector odp.opendev.dev/environment=staging --output json exited 1: The connection to the server api.staging.odp.internal:6443 was refused - did you specify the right host or port?");
    const unknown = promote(repo.root, '--dry-run', '--source-context', 'nowhere');
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain('exited 1: error: context "nowhere" does not exist');
    const none = promote(repo.root, '--dry-run');
    expect(none.code).toBe(1);
    expect(none.stdout).toContain("health gate: promotion.requireHealthy in environments/prod.yaml needs --source-context: the kubectl context of staging's own cluster (Argo CD namespace argocd)");
    expect(readFileSync(join(repo.root, 'environments/prod.yaml'), 'utf8')).toBe(prodBefore);
  });

  it('a version not committed in the source refuses: no cluster can have applied it', () => {
    const file = join(repo.root, 'environments/staging.yaml');
    const staging = readFileSync(file, 'utf8');
    writeFileSync(file, staging.replace('version: v1.21.2', 'version: v1.21.3'));
    try {
      applications((a) => argoStatus(a, laterSha));
      const r = promote(repo.root, '--dry-run', '--source-context', 'staging');
      expect(r.code).toBe(1);
      expect(r.stdout).toContain("health gate: chart cert-manager v1.21.3 is not in staging's committed rendered tree (rendered/staging/.provenance.json): no cluster can have applied it");
    } finally {
      writeFileSync(file, staging);
    }
  });
});

/**
 * A Kustomization as kustomize-controller writes its status (fluxcd/kustomize-controller v1.9.1
 * api/v1/kustomization_types.go:344-369; Ready and lastAppliedRevision set together on success,
 * internal/controller/kustomization_controller.go:533-540; a failed health check marks Ready=False with
 * HealthCheckFailed and leaves lastAppliedRevision at the last success, :527-529; revision `main@sha1:<sha>`,
 * docs/spec/v1/kustomizations.md:78-89).
 */
function kustomization(k: Obj, sha: string, o: { failedAt?: string; generation?: number } = {}): Obj {
  const applied = `main@sha1:${sha}`;
  const ready = o.failedAt
    ? { type: 'Ready', status: 'False', reason: 'HealthCheckFailed', message: `health check failed after 15m0s: timeout waiting for: [Deployment/${k.metadata.name}/${k.metadata.name} status: 'InProgress']`, lastTransitionTime: T, observedGeneration: 1 }
    : { type: 'Ready', status: 'True', reason: 'ReconciliationSucceeded', message: `Applied revision: ${applied}`, lastTransitionTime: T, observedGeneration: 1 };
  return {
    ...k,
    metadata: { ...k.metadata, generation: o.generation ?? 1 },
    status: { observedGeneration: 1, conditions: [ready], lastAppliedRevision: applied, lastAttemptedRevision: o.failedAt ? `main@sha1:${o.failedAt}` : applied, inventory: { entries: [] } },
  };
}

/** A HelmRelease as helm-controller writes its status (fluxcd/helm-controller v1.6.1 api/v2/helmrelease_types.go:1287-1308, history: docs/spec/v2/helmreleases.md:1995-2014). */
function helmRelease(h: Obj, o: { ready?: boolean } = {}): Obj {
  // A chart from a HelmRepository (spec.chart.spec) or an OCIRepository (spec.chartRef: the version is the source's).
  const chart = h.spec.chart?.spec ?? { chart: h.metadata.name, version: 'oci' };
  const ready = o.ready === false
    ? { type: 'Ready', status: 'False', reason: 'UpgradeFailed', message: `Helm upgrade failed for release ${h.spec.targetNamespace}/${h.spec.releaseName} with chart ${chart.chart}@${chart.version}: context deadline exceeded`, lastTransitionTime: T, observedGeneration: 1 }
    : { type: 'Ready', status: 'True', reason: 'UpgradeSucceeded', message: `Helm upgrade succeeded for release ${h.spec.targetNamespace}/${h.spec.releaseName}.v2 with chart ${chart.chart}@${chart.version}`, lastTransitionTime: T, observedGeneration: 1 };
  return {
    ...h,
    metadata: { ...h.metadata, generation: 1 },
    status: {
      observedGeneration: 1,
      lastAttemptedGeneration: 1,
      conditions: [ready],
      history: [{ chartName: chart.chart, chartVersion: chart.version, name: h.spec.releaseName, namespace: h.spec.targetNamespace, status: o.ready === false ? 'failed' : 'deployed', version: 2 }],
      lastAttemptedRevision: chart.version,
    },
  };
}

describe('promote: the health gate on a Flux source', () => {
  let repo: ScratchRepo;
  let laterSha: string;
  let ks: Obj[];
  let hrs: Obj[];
  const flux = (k: (x: Obj) => Obj, h: (x: Obj) => Obj = (x) => helmRelease(x)): void =>
    serve({ staging: { objects: { 'kustomizations.kustomize.toolkit.fluxcd.io': ks.map(k), 'helmreleases.helm.toolkit.fluxcd.io': hrs.map(h) } } });
  beforeAll(() => {
    repo = scratch(REQUIRE, (t) => t.replace(/^name: staging$/m, 'name: staging\ngitops: flux'));
    laterSha = later(repo);
    const dir = join(repo.root, 'rendered/staging/flux');
    // The root Kustomization the FluxInstance's sync creates (flux-system, from the GitRepository flux-system, at its path).
    const instance = yamlFile(join(dir, 'flux-instance.yaml'));
    const root = { apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization', metadata: { name: 'flux-system', namespace: 'flux-system' }, spec: { interval: '10m', path: instance.spec.sync.path, prune: true, sourceRef: { kind: 'GitRepository', name: 'flux-system' } } };
    ks = [root, ...filesIn(join(dir, 'kustomizations'), /\.yaml$/).map(yamlFile)];
    hrs = filesIn(join(dir, 'units'), /helmrelease-[^/]*\.yaml$/).map(yamlFile);
  });

  it('passes when every Kustomization and HelmRelease is Ready at its generation and each Kustomization applied a descendant', () => {
    expect(hrs.map((h) => h.metadata.name)).toContain('cert-manager');
    flux((k) => kustomization(k, laterSha));
    const r = promote(repo.root, '--dry-run', '--source-context', 'staging');
    expect(r.stdout).toContain(`Health: ${ks.length + hrs.length} Flux objects of staging read in staging's own cluster (its Kustomizations and HelmReleases, every namespace) (context staging); each must be applied and healthy at a descendant of ${repo.bump}.`);
    expect(r.code).toBe(0);
  });

  it('Ready=False refuses with the controller\'s reason and message, at the last applied revision', () => {
    flux((k) => (k.metadata.name === 'cert-manager' ? kustomization(k, repo.levelSha, { failedAt: laterSha }) : kustomization(k, laterSha)));
    const r = promote(repo.root, '--dry-run', '--source-context', 'staging');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`health gate: Kustomization flux-system/cert-manager is not applied and healthy: Ready=False (HealthCheckFailed: health check failed after 15m0s: timeout waiting for: [Deployment/cert-manager/cert-manager status: 'InProgress']); at revision ${repo.levelSha.slice(0, 12)} (status.lastAppliedRevision main@sha1:${repo.levelSha}); needs commit ${repo.bump} (chart cert-manager v1.21.2)`);
  });

  it('a HelmRelease Ready=False refuses (it has no Git revision: held to Ready at its generation)', () => {
    flux(
      (k) => kustomization(k, laterSha),
      (h) => helmRelease(h, { ready: h.metadata.name !== 'cert-manager' }),
    );
    const r = promote(repo.root, '--dry-run', '--source-context', 'staging');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`health gate: HelmRelease flux-system/cert-manager is not applied and healthy: Ready=False (UpgradeFailed: Helm upgrade failed for release cert-manager/cert-manager with chart cert-manager@v1.21.2: context deadline exceeded); at revision no Git revision; needs commit ${repo.bump} (chart cert-manager v1.21.2)`);
  });

  it('a spec not yet reconciled (observedGeneration behind) refuses, and so does a suspended object (Ready left as it was)', () => {
    flux(
      (k) => kustomization(k, laterSha, k.metadata.name === 'flux-system' ? { generation: 2 } : {}),
      (h) => (h.metadata.name === 'cert-manager' ? { ...helmRelease(h), spec: { ...h.spec, suspend: true } } : helmRelease(h)),
    );
    const r = promote(repo.root, '--dry-run', '--source-context', 'staging');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`health gate: HelmRelease flux-system/cert-manager is not applied and healthy: spec.suspend is true (suspended: its controller applies nothing); at revision no Git revision; needs commit ${repo.bump} (chart cert-manager v1.21.2)`);
    expect(r.stdout).toContain('health gate: Kustomization flux-system/flux-system is not applied and healthy: status.observedGeneration 1 < metadata.generation 2 (not reconciled since its spec changed)');
  });

  it('kubectl failing refuses with its reason (an unknown context, read across namespaces)', () => {
    flux((k) => kustomization(k, laterSha));
    const r = promote(repo.root, '--dry-run', '--source-context', 'staging-old');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("health gate: staging's cluster could not be read, so its health is unknown and not assumed: kubectl --context staging-old --request-timeout 30s get kustomizations.kustomize.toolkit.fluxcd.io --all-namespaces --output json exited 1: Error in configuration: context was not found for specified context: staging-old");
  });

  it('Ready=True at a revision before the bump refuses: behind', () => {
    flux((k) => kustomization(k, repo.levelSha));
    const r = promote(repo.root, '--dry-run', '--source-context', 'staging');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`health gate: Kustomization flux-system/flux-system is behind: it has applied ${repo.levelSha.slice(0, 12)} (status.lastAppliedRevision main@sha1:${repo.levelSha}), which does not contain commit ${repo.bump} (chart cert-manager v1.21.2); wait for it to sync`);
  });
});

describe('the engines\' health reads (pure)', () => {
  it('a hub-managed environment is read on its hub: the hub\'s Argo CD namespace, its root <env>-root', () => {
    const { sources } = fixtureSources('valid', 'hub.yaml');
    const model = prepareEnvironment('fleet-a', sources).prepared!.model;
    const health = engineNamed(model.gitops)!.health!;
    expect(model.fleet.hub?.name).toBe('hub');
    expect(health.where(model)).toBe(`the hub hub's cluster (its Argo CD namespace ${model.fleet.hub!.namespace} holds fleet-a's Applications)`);
    expect(health.queries(model)).toStrictEqual([{ resource: 'applications.argoproj.io', namespace: model.fleet.hub!.namespace, selector: 'odp.opendev.dev/environment=fleet-a' }]);
    expect(health.observe(model, [[]]).missing).toStrictEqual([`Application ${model.fleet.hub!.namespace}/fleet-a-root (labelled odp.opendev.dev/environment=fleet-a)`]);
  });
});
