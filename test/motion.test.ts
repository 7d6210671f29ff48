/**
 * The first-sync simulator (generators/validate/motion/): the rendered examples converge under their
 * engine; the rendered tree edited to reintroduce each defect of issue 19 (test/fixtures/motion-bad/)
 * fails with the chain; containment (what one failing unit blocks) and the graph's must-shows.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readRenderedDir } from '../generators/diff/sources.js';
import { formatDiagnostic } from '../generators/validate/diagnostics.js';
import { checkMotion, failureBlocks, motionOf, type MotionReport } from '../generators/validate/motion/index.js';
import { simulate, upstreamOf, type SimUnit } from '../generators/validate/motion/simulate.js';
import { ARGOCD_MOTION_RULES, argocdMotion, hookPhaseOf, retriesOf, waveOf } from '../generators/engines/argocd/motion.js';
import { FLUX_MOTION_RULES } from '../generators/engines/flux/motion.js';
import {
  AT_ONCE_MINUTES,
  CHART_LEAD_MINUTES,
  goDurationMs,
  kindKey,
  KUSTOMIZATION_TIMEOUT,
  KUSTOMIZATION_TIMEOUT_MINUTES,
  kustomizationTimeoutMs,
  RELEASE_TIMEOUT,
  RELEASE_TIMEOUT_MINUTES,
  releaseTimeoutMs,
  ROLLOUT_MINUTES,
  SECRET_SYNC_MINUTES,
  timeoutMinutesFor,
  UNKNOWN_KIND_MINUTES,
} from '../generators/engines/flux/timeouts.js';
import { parseRenderedTree } from '../generators/validate/rendered/tree.js';
import type { EnvironmentModel } from '../generators/model/types.js';
import { cli, FIXTURES, prepareExample, renderedExamples } from './helpers.js';

const BAD = join(FIXTURES, 'motion-bad');
const models = new Map<string, EnvironmentModel>();
const modelOf = (env: string): EnvironmentModel => {
  if (!models.has(env)) models.set(env, prepareExample(env).prepared!.model);
  return models.get(env)!;
};
const files = (): Map<string, string> => readRenderedDir(renderedExamples());

function report(env: string, edit: (f: Map<string, string>) => void = () => {}): MotionReport {
  const f = files();
  edit(f);
  return motionOf(parseRenderedTree(f), env, modelOf(env))!;
}

interface BadCase {
  env: string;
  edits: { file: string; replace: string; with: string }[];
  expect: { rule: string; message: string }[];
}

describe('first-sync simulator', () => {
  it('every rendered example converges under its engine: no motion error', () => {
    const envs = ['dev', 'dev-k3s', 'prod', 'staging', 'staging-k3s'];
    const tree = parseRenderedTree(files());
    const errors = checkMotion(tree, envs.map(modelOf)).filter((d) => d.severity === 'error');
    expect(errors.map(formatDiagnostic)).toStrictEqual([]);
    // Each example is judged by an engine: the simulator ran.
    for (const env of envs) expect(motionOf(tree, env, modelOf(env))?.units.length).toBeGreaterThan(5);
  });

  /** Each fixture edits the rendered examples in one place and must produce its findings. */
  for (const file of readdirSync(BAD).filter((f) => f.endsWith('.yaml'))) {
    it(`reintroduced defect: ${file}`, () => {
      const c = parse(readFileSync(join(BAD, file), 'utf8')) as BadCase;
      const r = report(c.env, (f) => {
        for (const e of c.edits) {
          const text = f.get(e.file);
          expect(text, e.file).toContain(e.replace);
          f.set(e.file, text!.replace(e.replace, e.with));
        }
      });
      const found = r.findings.map((d) => ({ rule: d.rule, message: d.message }));
      for (const x of c.expect) expect(found.filter((d) => d.rule === x.rule && d.message.startsWith(x.message)), `${x.rule}: ${x.message}\n${found.map((d) => `${d.rule}: ${d.message}`).join('\n')}`).not.toHaveLength(0);
      // Nothing the fixture does not expect is an error of another rule.
      const rules = new Set(c.expect.map((x) => x.rule));
      expect(r.findings.filter((d) => d.severity === 'error' && !rules.has(d.rule)).map(formatDiagnostic)).toStrictEqual([]);
    });
  }

  it('staging-k3s: Grafana\'s admin ExternalSecret does not wait for the chart; monitoring waits for nothing GPU; cert-manager, ESO and the EBS driver not for the operator', () => {
    const r = report('staging-k3s');
    const up = upstreamOf(r.units);
    const unitOf = (label: string): string => r.units.find((u) => u.phases.flat().some((i) => i.label.startsWith(label)))!.id;
    const grafana = unitOf('ExternalSecret monitoring/grafana-admin');
    const chart = unitOf('HelmRelease flux-system/kube-prometheus-stack');
    expect(grafana).not.toBe(chart);
    expect([...up.get(grafana)!]).not.toContain(chart);
    expect([...up.get(chart)!].filter((u) => u.includes('nvidia'))).toStrictEqual([]);
    for (const u of ['cert-manager', 'external-secrets', 'aws-ebs-csi-driver']) expect([...up.get(u)!].filter((x) => x.startsWith('flux-operator'))).toStrictEqual([]);
  });

  it('containment: a failing unit blocks only the units that need it', () => {
    const r = report('staging-k3s');
    // A GPU node without drivers: the device plugin never becomes Ready; nothing else waits for it.
    expect(failureBlocks(r, 'nvidia-device-plugin')).toStrictEqual([]);
    // A store that is not Ready (its role missing or not assumable): what reads Secrets through it is
    // blocked, nothing else, not even what reads through another namespace's store (one unit per store).
    // (and the sync alert's rule and PodMonitor, after kube-prometheus-stack: their CRDs come with its chart)
    expect(failureBlocks(r, 'external-secrets-store-monitoring')).toStrictEqual(['flux-sync-alerts', 'kube-prometheus-stack', 'kube-prometheus-stack-prerequisites']);
    expect(failureBlocks(r, 'external-secrets-store-flux-system')).toStrictEqual(['flux-operator-manifests']);
    // Every unit with no need on the failed one is still applied (no containment finding on the examples).
    expect(r.findings.filter((d) => d.rule === 'motion.containment')).toStrictEqual([]);
  });

  it('the simulator reads the rendered tree, not the model: an edited tree is judged as edited', () => {
    const before = report('staging-k3s').units.find((u) => u.id === 'metrics-server')!.gates.map((g) => g.id);
    const after = report('staging-k3s', (f) => {
      const p = 'staging-k3s/flux/kustomizations/metrics-server.yaml';
      f.set(p, f.get(p)!.replace('    - name: aws-load-balancer-controller\n', '    - name: aws-load-balancer-controller\n    - name: cert-manager\n'));
    }).units.find((u) => u.id === 'metrics-server')!.gates.map((g) => g.id);
    expect(after).toStrictEqual([...before, 'cert-manager']);
  });

  it('validate --env dev (a hub) reads the fleet files of the environments it manages without selecting them', () => {
    const r = cli('validate', renderedExamples(), '--env', 'dev');
    expect(r.stdout).not.toContain('matches no file in the rendered tree');
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });
});

/**
 * Every engine-semantics rule of the simulator has its own test here (or a motion-bad fixture that
 * expects a finding of it): the last test checks that none is left out.
 */
describe('engine rules, one test each', () => {
  const edit = (file: string, from: string, to: string) => (f: Map<string, string>) => {
    const text = f.get(file);
    expect(text, file).toContain(from);
    f.set(file, text!.replace(from, to));
  };
  const unit = (r: MotionReport, id: string) => r.units.find((u) => u.id === id)!;
  const items = (r: MotionReport, id: string) => unit(r, id).phases.flat();
  const WIDGET = 'apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: monitoring\n---\n';
  const covered = new Set<string>();
  const rule = (id: string, title: string, fn: () => void) => {
    covered.add(id);
    it(`${id}: ${title}`, fn);
  };

  rule(ARGOCD_MOTION_RULES.waves.id, 'an Application waits for every Application of a lower wave, none of its own or a higher one', () => {
    const r = report('dev');
    const api = unit(r, 'api');
    expect(api.gates.length).toBeGreaterThan(3);
    for (const g of api.gates) expect(g.rule).toMatch(/^wave -?\d+ < \d+, motion\.argocd\.waves$/);
    expect(unit(r, 'cert-manager').gates.map((g) => g.id)).not.toContain('api');
  });

  rule(ARGOCD_MOTION_RULES.failedWave.id, 'waves couple every later wave to each earlier one: a failed Application blocks all later ones (the engine\'s coupling rule)', () => {
    const r = report('dev');
    expect(argocdMotion({ tree: parseRenderedTree(files()), env: 'dev', files: new Map(parseRenderedTree(files()).files.filter((f) => f.env === 'dev').map((f) => [f.path, f])) })!.coupling).toBe(ARGOCD_MOTION_RULES.failedWave);
    expect(failureBlocks(r, 'cert-manager')).toContain('api');
  });

  rule(ARGOCD_MOTION_RULES.lastWave.id, 'the root in the last wave of its own source is not waited on: no finding; in an earlier wave the hint says so', () => {
    expect(report('dev').findings.filter((d) => d.rule === ARGOCD_MOTION_RULES.rootSelf.id)).toStrictEqual([]);
    const f = report('dev', edit('dev/argocd/application-root.yaml', 'sync-wave: "5"', 'sync-wave: "1"')).findings.find((d) => d.rule === ARGOCD_MOTION_RULES.rootSelf.id)!;
    expect(f.hint).toContain(ARGOCD_MOTION_RULES.lastWave.source);
  });

  rule(ARGOCD_MOTION_RULES.waveOrder.id, 'sync-wave (strconv.Atoi), else helm.sh/hook-weight, else 0', () => {
    const o = (a: Record<string, string>) => ({ kind: 'ConfigMap', metadata: { name: 'x', annotations: a } });
    expect(waveOf(o({ 'argocd.argoproj.io/sync-wave': '-2', 'helm.sh/hook-weight': '5' }))).toBe(-2);
    expect(waveOf(o({ 'argocd.argoproj.io/sync-wave': '+3' }))).toBe(3);
    expect(waveOf(o({ 'argocd.argoproj.io/sync-wave': 'x', 'helm.sh/hook-weight': '5' }))).toBe(5);
    expect(waveOf(o({}))).toBe(0);
  });

  rule(ARGOCD_MOTION_RULES.dryRun.id, 'a custom resource whose CRD nothing provides refuses the whole Application before any wave', () => {
    const r = report('dev', edit('dev/manifests/kube-prometheus-stack/externalsecret-grafana-admin.yaml', 'apiVersion: external-secrets.io/v1\n', `${WIDGET}apiVersion: external-secrets.io/v1\n`));
    const f = r.findings.find((d) => d.rule === 'motion.never-ready' && d.message.includes('kube-prometheus-stack never becomes Ready'))!;
    expect(f.message).toContain('needs CRD example.com/Widget (Widget monitoring/w: kind Widget, validated before any wave (motion.argocd.dry-run)), which nothing provides');
  });

  rule(ARGOCD_MOTION_RULES.appHealth.id, 'without the Lua Application health in argocd-cm the root does not wait for an Application', () => {
    expect(unit(report('dev'), 'api').waitsForHealth).toBe(true);
    const r = report('dev', edit('dev/values/argo-cd.yaml', 'resource.customizations.health.argoproj.io_Application:', 'resource.customizations.health.argoproj.io_Removed:'));
    expect(unit(r, 'api').waitsForHealth).toBe(false);
  });

  rule(ARGOCD_MOTION_RULES.rootSelf.id, 'the root in an early wave of its own source: an error at its annotations (motion-bad/root-self.yaml has the message)', () => {
    const f = report('dev', edit('dev/argocd/application-root.yaml', 'sync-wave: "5"', 'sync-wave: "0"')).findings.find((d) => d.rule === ARGOCD_MOTION_RULES.rootSelf.id)!;
    expect([f.severity, f.path]).toStrictEqual(['error', ['metadata', 'annotations']]);
  });

  rule(ARGOCD_MOTION_RULES.missingProject.id, 'an Application of an AppProject that does not exist never becomes Ready, and the later waves wait', () => {
    const r = report('dev', edit('dev/apps/api.yaml', 'project: workloads', 'project: nowhere'));
    expect(r.findings.find((d) => d.message.startsWith('Argo CD first sync: api never becomes Ready'))!.message).toContain('needs AppProject nowhere (Application api: spec.project (motion.argocd.missing-project)), which nothing provides');
  });

  rule(ARGOCD_MOTION_RULES.externalSecretHealth.id, 'a hub\'s cluster ExternalSecret is Degraded (fails) while its parameters are missing, expectedly pending until the managed bootstrap writes them', () => {
    const cluster = ['apiVersion: external-secrets.io/v1', 'kind: ExternalSecret', 'metadata:', '  name: cluster-x', '  namespace: argocd', 'spec:', '  secretStoreRef: { kind: ClusterSecretStore, name: aws-ssm-parameter-store }', '  target:', '    name: cluster-x', '    template:', '      metadata:', '        labels: { argocd.argoproj.io/secret-type: cluster, odp.opendev.dev/environment: x }', ''].join('\n');
    const es = report('dev', (f) => f.set('dev/apps/cluster-x.yaml', cluster)).units.flatMap((u) => u.phases.flat()).filter((i) => i.label.startsWith('ExternalSecret') && i.pendingUntil !== undefined);
    expect(es.map((i) => i.label)).toStrictEqual(['ExternalSecret argocd/cluster-x']);
    for (const i of es) {
      expect(i.onUnmet).toStrictEqual({ fail: true, why: 'is Degraded (motion.argocd.external-secret-health)' });
      expect(i.pendingUntil).toContain('the SSM parameters its managed cluster\'s bootstrap writes');
    }
  });

  rule(ARGOCD_MOTION_RULES.crdWave.id, 'the root\'s custom resources come a wave after the Application bringing their CRD; one in that Application\'s wave is an error at its annotations (kube-prometheus-stack in the last wave: motion-bad/crd-wave.yaml)', () => {
    const crdWave = (r: MotionReport) => r.findings.filter((d) => d.rule === ARGOCD_MOTION_RULES.crdWave.id).map((d) => `${d.file}: ${d.message.split(':')[0]}`);
    for (const env of ['dev', 'staging']) expect(crdWave(report(env)), env).toStrictEqual([]);
    // The root's ServiceMonitor moved into kube-prometheus-stack's wave (an earlier one than the root's).
    const r = report('dev', edit('dev/apps/argocd-metrics.yaml', 'sync-wave: "5"', 'sync-wave: "4"'));
    expect(crdWave(r)).toStrictEqual(['rendered/dev/apps/argocd-metrics.yaml: ServiceMonitor argocd-application-controller is applied by the root in wave 4 and needs CRD monitoring.coreos.com/ServiceMonitor']);
  });

  rule(FLUX_MOTION_RULES.crdDependsOn.id, 'every custom resource of the Flux trees comes after the Kustomization bringing its CRD, by its dependsOn chain (without it: motion-bad/flux-crd-depends-on.yaml)', () => {
    expect(report('staging-k3s').findings.filter((d) => d.rule === FLUX_MOTION_RULES.crdDependsOn.id).map(formatDiagnostic)).toStrictEqual([]);
    // kube-prometheus-stack's Kustomization not waiting: its HelmRelease (and the CRDs it installs) may not be there yet.
    const r = report('staging-k3s', edit('staging-k3s/flux/kustomizations/kube-prometheus-stack.yaml', 'wait: true', 'wait: false'));
    expect(r.findings.filter((d) => d.rule === FLUX_MOTION_RULES.crdDependsOn.id).map((d) => d.message.split(' (fluxcd/')[0])).toContain(
      'Kustomization flux-sync-alerts applies PodMonitor flux-system/flux-operator, which needs CRD monitoring.coreos.com/PodMonitor: it comes with kube-prometheus-stack, which does not wait (wait: true or healthChecks)',
    );
  });

  rule(ARGOCD_MOTION_RULES.hooks.id, 'a PreSync hook runs before the Application\'s first Sync wave (a never-synced hook: motion-bad/hook-never-synced.yaml)', () => {
    const r = report('dev', edit('dev/manifests/kube-prometheus-stack/externalsecret-grafana-admin.yaml', '    argocd.argoproj.io/sync-wave: "-1"', '    argocd.argoproj.io/hook: PreSync\n    argocd.argoproj.io/sync-wave: "5"'));
    const phases = unit(r, 'kube-prometheus-stack').phases;
    // [validation], [the PreSync hook, although its wave is 5], [the chart, wave 0]
    expect(phases[1]!.map((i) => i.label)).toStrictEqual(['ExternalSecret monitoring/grafana-admin (PreSync hook)']);
    expect(phases[2]!.map((i) => i.label)[0]).toMatch(/^chart of Application kube-prometheus-stack/);
    expect(r.findings.filter((d) => d.severity === 'error')).toStrictEqual([]);
    expect(hookPhaseOf({ metadata: { annotations: { 'helm.sh/hook': 'post-install,post-upgrade' } } })).toStrictEqual({ phase: 'PostSync', type: 'post-install,post-upgrade', deletedOnSuccess: false });
    expect(hookPhaseOf({ metadata: { annotations: { 'helm.sh/hook': 'crd-install' } } })).toBeUndefined();
    expect(hookPhaseOf({ metadata: { annotations: { 'argocd.argoproj.io/hook': 'Skip' } } })?.phase).toBe('never');
  });

  rule(ARGOCD_MOTION_RULES.hookDeletePolicy.id, 'HookSucceeded (or helm\'s hook-succeeded) deletes the hook once it succeeds; BeforeHookCreation, the default, keeps it (the finding: motion-bad/hook-delete-policy.yaml)', () => {
    expect(hookPhaseOf({ metadata: { annotations: { 'helm.sh/hook': 'pre-install', 'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded' } } })).toStrictEqual({ phase: 'PreSync', type: 'pre-install', deletedOnSuccess: true });
    expect(hookPhaseOf({ metadata: { annotations: { 'argocd.argoproj.io/hook': 'Sync' } } })?.deletedOnSuccess).toBe(false);
  });

  rule(ARGOCD_MOTION_RULES.retry.id, 'a failed attempt is retried retry.limit times (default 5 when automated, none when manual, negative forever): a provider ready within them is in time', () => {
    expect(retriesOf({ spec: { syncPolicy: {} } }, true)).toBe(5);
    expect(retriesOf({ spec: { syncPolicy: {} } }, false)).toBe(0);
    expect(retriesOf({ spec: { syncPolicy: { retry: { limit: 2 } } } }, false)).toBe(2);
    expect(retriesOf({ spec: { syncPolicy: { retry: { limit: -1 } } } }, true)).toBe(Number.POSITIVE_INFINITY);
    // The rendered Applications retry without limit (a pool joining late: test/talos-flux-motion.test.ts): their failing items carry it.
    expect(items(report('dev'), 'kube-prometheus-stack').find((i) => i.label.startsWith('ExternalSecret'))!.retries).toBe(Number.POSITIVE_INFINITY);
    // The driver: B's Secret appears two rounds after A tried; A fails without retries and converges with 2.
    const mk = (retries: number): SimUnit[] => [
      { id: 'A', gates: [], phases: [[{ label: 'ExternalSecret a', provides: [], needs: [{ what: 'Secret s', why: 'test' }], pods: [], onUnmet: { fail: true, why: 'is Degraded' }, retries }]], phasesWait: true, waitsForHealth: true, phaseAtomic: true },
      { id: 'B0', gates: [], phases: [[{ label: 'ConfigMap b0', provides: ['x'], needs: [], pods: [], onUnmet: { fail: false } }]], phasesWait: true, waitsForHealth: true, phaseAtomic: true },
      { id: 'B', gates: [{ id: 'B0', rule: 'test' }], phases: [[{ label: 'Secret s', provides: ['Secret s'], needs: [], pods: [], onUnmet: { fail: false } }]], phasesWait: true, waitsForHealth: true, phaseAtomic: true },
    ];
    expect(simulate(mk(0), new Set(), [{ name: 'n', taints: [], labels: {} }]).state.get('A')).toBe('failed');
    expect(simulate(mk(2), new Set(), [{ name: 'n', taints: [], labels: {} }]).state.get('A')).toBe('ready');
  });

  rule(FLUX_MOTION_RULES.dependsOn.id, 'a Kustomization is applied once every dependsOn is Ready (the chain: motion-bad/grafana-admin-deadlock.yaml)', () => {
    const r = report('staging-k3s');
    expect(unit(r, 'metrics-server').gates).toContainEqual({ id: 'aws-load-balancer-controller', rule: 'dependsOn, motion.flux.depends-on' });
  });

  rule(FLUX_MOTION_RULES.wait.id, 'wait: true makes a Kustomization Ready only once what it applied is Current; without, at once', () => {
    expect(unit(report('staging-k3s'), 'metrics-server').waitsForHealth).toBe(true);
    expect(unit(report('staging-k3s', edit('staging-k3s/flux/kustomizations/metrics-server.yaml', '  wait: true\n', '')), 'metrics-server').waitsForHealth).toBe(false);
  });

  rule(FLUX_MOTION_RULES.firstPoll.id, 'External Secrets objects without healthCheckExprs count Current at the first poll (the finding: motion-bad/eso-health.yaml)', () => {
    const r = report('staging-k3s', edit('staging-k3s/flux/kustomizations/kube-prometheus-stack-prerequisites.yaml', '  healthCheckExprs:\n', '  healthCheckExprsRemoved:\n'));
    expect(items(r, 'kube-prometheus-stack-prerequisites').find((i) => i.label.startsWith('ExternalSecret'))!.healthyAtOnce).toBe(true);
  });

  rule(FLUX_MOTION_RULES.healthCheckExprs.id, 'healthCheckExprs for external-secrets.io judge its objects: not Current until their Ready condition', () => {
    expect(items(report('staging-k3s'), 'kube-prometheus-stack-prerequisites').find((i) => i.label.startsWith('ExternalSecret'))!.healthyAtOnce).toBeUndefined();
  });

  rule(FLUX_MOTION_RULES.stage.id, 'one object refused at the dry run (its CRD missing) blocks every object of its stage', () => {
    const r = report('staging-k3s', edit('staging-k3s/flux/units/platform-namespaces/namespace-monitoring.yaml', 'apiVersion: v1\nkind: Namespace\n', `${WIDGET}apiVersion: v1\nkind: Namespace\n`));
    expect(r.findings.find((d) => d.message.startsWith('Flux first sync: platform-namespaces never becomes Ready'))!.message).toContain('needs CRD example.com/Widget');
    // The Namespaces of the same stage are not applied: what waits for them is never applied.
    expect(r.findings.some((d) => d.rule === 'motion.never-applied' && d.message.includes('waits for platform-namespaces (dependsOn, motion.flux.depends-on)'))).toBe(true);
  });

  rule(FLUX_MOTION_RULES.helmStall.id, 'a HelmRelease install stalls once its remediation retries are spent (none: at the first failure); RetryOnFailure retries forever (onUnmet, citing helm-controller)', () => {
    const release = (r: MotionReport, unit = 'metrics-server') => items(r, unit).find((i) => i.label.startsWith('HelmRelease'))!;
    const HR = 'staging-k3s/flux/units/metrics-server/helmrelease-metrics-server.yaml';
    const INSTALL = '  install:\n    remediation:\n      retries: -1\n';
    // As rendered: unlimited (negative retries, helm-controller v1.6.1 api/v2/helmrelease_types.go:698).
    expect(release(report('staging-k3s')).onUnmet).toStrictEqual({ fail: false });
    // remediation.retries: 3 — three remediated retries, then RetriesExhausted → ErrExceededMaxRetries, a terminal
    // error (helm-controller v1.6.1 internal/reconcile/atomic_release.go:509-513, Stalled RetriesExceeded at :204-207).
    const three = release(report('staging-k3s', edit(HR, INSTALL, '  install:\n    remediation:\n      retries: 3\n')));
    expect(three.onUnmet).toStrictEqual({ fail: true, why: `stalls after 3 remediated retries (motion.flux.helm-install-stall: ${FLUX_MOTION_RULES.helmStall.source})` });
    expect(three.retries).toBe(3);
    const r = report('staging-k3s', edit(HR, INSTALL, '  install:\n'));
    expect(release(r).onUnmet).toStrictEqual({ fail: true, why: `stalls (motion.flux.helm-install-stall: ${FLUX_MOTION_RULES.helmStall.source})` });
    expect(release(r).retries).toBeUndefined();
    // RetryOnFailure (a chart owning CRDs): forever.
    expect(release(report('staging-k3s'), 'kube-prometheus-stack').onUnmet).toStrictEqual({ fail: false });
  });

  rule(FLUX_MOTION_RULES.prune.id, 'an object the cluster ships, applied by a pruning unit, is reported; with prune: disabled it is not (the finding: motion-bad/prune-cluster-object.yaml)', () => {
    const runtimeClass = 'apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata:\n  name: nvidia\n  annotations:\n    kustomize.toolkit.fluxcd.io/prune: disabled\nhandler: nvidia\n---\n';
    const r = report('staging-k3s', edit('staging-k3s/flux/units/platform-namespaces/namespace-monitoring.yaml', 'apiVersion: v1\nkind: Namespace\n', `${runtimeClass}apiVersion: v1\nkind: Namespace\n`));
    expect(r.findings.filter((d) => d.rule === FLUX_MOTION_RULES.prune.id)).toStrictEqual([]);
  });

  rule(FLUX_MOTION_RULES.pruneUnit.id, 'the rendered Namespaces are kept when their unit goes (prune: disabled): no finding (without: motion-bad/prune-unit.yaml)', () => {
    expect(report('staging-k3s').findings.filter((d) => d.rule === FLUX_MOTION_RULES.pruneUnit.id)).toStrictEqual([]);
  });

  rule(FLUX_MOTION_RULES.timeoutCoversRelease.id, "a Kustomization's timeout must be longer than the releases it waits for: the rendered ones are (the release's time plus the chart's fetch); 15m over a 15m release, or the default interval - 30s, is an error at its timeout", () => {
    const KS = 'staging-k3s/flux/kustomizations/metrics-server.yaml';
    const timeouts = (r: MotionReport) => r.findings.filter((d) => d.rule === FLUX_MOTION_RULES.timeoutCoversRelease.id);
    expect(timeouts(report('staging-k3s')).map(formatDiagnostic)).toStrictEqual([]);
    expect(KUSTOMIZATION_TIMEOUT_MINUTES).toBeGreaterThan(RELEASE_TIMEOUT_MINUTES);
    const equal = timeouts(report('staging-k3s', edit(KS, `  timeout: ${KUSTOMIZATION_TIMEOUT}\n`, `  timeout: ${RELEASE_TIMEOUT}\n`)));
    expect(equal.map((d) => [d.file, d.path, d.message.split(' (fluxcd/')[0]])).toStrictEqual([
      ['rendered/staging-k3s/flux/kustomizations/metrics-server.yaml', ['spec', 'timeout'], 'Kustomization metrics-server waits 15m (timeout) for HelmRelease flux-system/metrics-server, whose install or upgrade may take 15m once its chart is fetched: it fails while the release is still within its time'],
    ]);
    expect(equal[0]!.severity).toBe('error');
    // No timeout: kustomize-controller's interval - 30s (9m30s) against the release's 15m.
    expect(timeouts(report('staging-k3s', edit(KS, `  timeout: ${KUSTOMIZATION_TIMEOUT}\n`, '')))[0]!.message).toMatch(/^Kustomization metrics-server waits 9\.5m \(timeout\)/);
    // Without wait: true it does not wait for the release: no finding.
    expect(timeouts(report('staging-k3s', edit(KS, `  timeout: ${KUSTOMIZATION_TIMEOUT}\n  wait: true\n`, `  timeout: ${RELEASE_TIMEOUT}\n`)))).toStrictEqual([]);
    // The controllers' own reading of the durations and defaults (api/v1/kustomization_types.go:383-392, api/v2/helmrelease_types.go:633-638, 1584-1589).
    expect(goDurationMs('1h30m')).toBe(5_400_000);
    expect(goDurationMs('15 minutes')).toBeUndefined();
    expect(kustomizationTimeoutMs({ interval: '30s' })).toBe(30_000);
    expect(releaseTimeoutMs({})).toBe(300_000);
    expect(releaseTimeoutMs({ timeout: '10m', upgrade: { timeout: '25m' } })).toBe(1_500_000);
  });

  rule(FLUX_MOTION_RULES.timeoutFollowsObjects.id, "a Kustomization's timeout follows the kinds it applies: one without a HelmRelease has the shorter bound (Namespaces 2m, External Secrets 5m, a rollout 10m), the releases' keep 20m; 20m over Namespaces is a warning (reported late), 2m over a Deployment an error", () => {
    const timeoutOf = (f: string) => /\n {2}timeout: (\S+)\n/.exec(files().get(`staging-k3s/flux/kustomizations/${f}.yaml`)!)![1];
    // Without a HelmRelease: the shorter bound of what it holds.
    expect(timeoutOf('platform-namespaces')).toBe(`${AT_ONCE_MINUTES}m`);
    expect(timeoutOf('external-secrets-store-monitoring')).toBe(`${SECRET_SYNC_MINUTES}m`);
    expect(timeoutOf('system-upgrade-controller')).toBe(`${ROLLOUT_MINUTES}m`);
    for (const m of [AT_ONCE_MINUTES, SECRET_SYNC_MINUTES, ROLLOUT_MINUTES]) expect(m).toBeLessThan(KUSTOMIZATION_TIMEOUT_MINUTES);
    // With one: the release's time and its chart's fetch (motion.flux.timeout-covers-release holds).
    expect(timeoutOf('metrics-server')).toBe(KUSTOMIZATION_TIMEOUT);
    expect(timeoutMinutesFor([kindKey('helm.toolkit.fluxcd.io/v2', 'HelmRelease'), kindKey('v1', 'Namespace')])).toBe(KUSTOMIZATION_TIMEOUT_MINUTES);
    expect(timeoutMinutesFor([kindKey('example.com/v1', 'Widget')])).toBe(UNKNOWN_KIND_MINUTES);
    // The custom kinds kstatus finds no condition on are Current once they exist (KIND_WAITS): the three Kustomizations
    // that applied only them waited the unknown kind's 20m; a HelmRelease's stays 20m (the README says why).
    for (const f of ['flux-alerts', 'flux-sync-alerts', 'system-upgrade-plans']) expect(timeoutOf(f), f).toBe(`${AT_ONCE_MINUTES}m`);
    for (const [v, k] of [['notification.toolkit.fluxcd.io/v1beta3', 'Alert'], ['notification.toolkit.fluxcd.io/v1beta3', 'Provider'], ['monitoring.coreos.com/v1', 'PodMonitor'], ['monitoring.coreos.com/v1', 'PrometheusRule'], ['upgrade.cattle.io/v1', 'Plan']])
      expect(timeoutMinutesFor([kindKey(v!, k!)]), k).toBe(AT_ONCE_MINUTES);
    const stillLong = [...files()].filter(([p, t]) => p.startsWith('staging-k3s/flux/kustomizations/') && t.includes(`\n  timeout: ${KUSTOMIZATION_TIMEOUT}\n`)).map(([p]) => p.replace(/^.*\/(.*)\.yaml$/, '$1'));
    for (const k of stillLong) expect([...files()].some(([p, t]) => p.startsWith(`staging-k3s/flux/units/${k}/`) && t.includes('kind: HelmRelease')), k).toBe(true);
    expect(stillLong.length).toBeGreaterThan(0);
    expect(timeoutMinutesFor([])).toBe(AT_ONCE_MINUTES);
    const found = (r: MotionReport) => r.findings.filter((d) => d.rule === FLUX_MOTION_RULES.timeoutFollowsObjects.id);
    expect(found(report('staging-k3s')).map(formatDiagnostic)).toStrictEqual([]);
    const late = found(report('staging-k3s', edit('staging-k3s/flux/kustomizations/platform-namespaces.yaml', `  timeout: ${AT_ONCE_MINUTES}m\n`, `  timeout: ${KUSTOMIZATION_TIMEOUT}\n`)));
    expect(late.map((d) => [d.file, d.path, d.severity, d.message.split(' (fluxcd/')[0]])).toStrictEqual([
      ['rendered/staging-k3s/flux/kustomizations/platform-namespaces.yaml', ['spec', 'timeout'], 'warning', `Kustomization platform-namespaces waits 20m (timeout) for objects that need at most 2m (Namespace): a stuck one is reported 18m late`],
    ]);
    const short = found(report('staging-k3s', edit('staging-k3s/flux/kustomizations/system-upgrade-controller.yaml', `  timeout: ${ROLLOUT_MINUTES}m\n`, `  timeout: ${AT_ONCE_MINUTES}m\n`)));
    expect(short.map((d) => [d.path, d.severity, d.message.split(' (fluxcd/')[0]])).toStrictEqual([
      [['spec', 'timeout'], 'error', 'Kustomization system-upgrade-controller waits 2m (timeout) for its objects, and an object of kind apps/Deployment may take 10m: it fails while that object is still within its time'],
    ]);
  });

  rule(FLUX_MOTION_RULES.unlimitedRetries.id, "the rendered installs are retried without limit, which no timeout covers: each Kustomization of a release allows one attempt and its chart's fetch, and the upgrades are bounded (3) or RetryOnFailure's", () => {
    const f = files();
    const releases = [...f].filter(([p]) => /^staging-k3s\/flux\/units\/[^/]+\/helmrelease-[^/]+\.yaml$/.test(p));
    expect(releases.length).toBeGreaterThan(5);
    for (const [p, text] of releases) {
      const hr = parse(text) as { spec: { install: Record<string, { retries?: number; name?: string }>; upgrade: Record<string, { retries?: number; name?: string }> } };
      const { install, upgrade } = hr.spec;
      // Install: unlimited (-1) or RetryOnFailure; upgrade: 3 remediated retries, or RetryOnFailure with the install's.
      if (install.strategy) expect([install.strategy.name, upgrade.strategy?.name], p).toStrictEqual(['RetryOnFailure', 'RetryOnFailure']);
      else expect([install.remediation?.retries, upgrade.remediation?.retries], p).toStrictEqual([-1, 3]);
      const unit = p.split('/')[3]!;
      const ks = parse(f.get(`staging-k3s/flux/kustomizations/${unit}.yaml`)!) as { spec: { timeout: string } };
      expect(kustomizationTimeoutMs(ks.spec), unit).toBe(releaseTimeoutMs(hr.spec)! + CHART_LEAD_MINUTES * 60_000);
    }
  });

  it('every rule of both engines has its test above or a motion-bad fixture expecting it', () => {
    const fixtures = readdirSync(BAD).filter((f) => f.endsWith('.yaml')).flatMap((f) => (parse(readFileSync(join(BAD, f), 'utf8')) as BadCase).expect.map((x) => x.rule));
    // The driver's own findings (validate/motion/index.ts) are each expected by a fixture.
    const all = [...Object.values(ARGOCD_MOTION_RULES), ...Object.values(FLUX_MOTION_RULES)].map((r) => r.id).concat(['motion.never-applied', 'motion.never-ready', 'motion.containment', 'motion.webhook-race', 'motion.false-edge']);
    expect(all.filter((id) => !covered.has(id) && !fixtures.includes(id))).toStrictEqual([]);
    // Each cites an upstream file and line.
    for (const r of [...Object.values(ARGOCD_MOTION_RULES), ...Object.values(FLUX_MOTION_RULES)]) expect(r.source, r.id).toMatch(/^\S+\/\S+ v?\S+ \S+\.(go|lua):\d+/);
  });
});
