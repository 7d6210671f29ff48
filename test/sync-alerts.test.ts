/**
 * Every environment alerts on its own GitOps objects when a sync does not end (engines/<engine>/sync-alerts.ts): the
 * metric each rule reads is served and scraped, and the rule is evaluated through test/support/promql.ts on series shaped
 * as the upstream exporter emits them:
 * - Argo CD: argocd_app_info, argo-cd v3.4.4 controller/metrics/metrics.go:65-69 (labels), 423-451 (value 1, sync and
 *   health status, operation "sync" while an operation is set);
 * - Flux: flux_resource_info, flux-operator v0.58.1 internal/reporter/metrics.go:119, 143-212 (labels; ready and reason
 *   from the Ready condition, "Unknown" without one; suspended from spec.suspend; revision the last attempted one).
 * It fires for a stuck Application / HelmRelease / Kustomization, and stays silent for a healthy one, a suspended one and
 * a sync in progress shorter than the bound.
 */
import { describe, expect, it } from 'vitest';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { ARGOCD_APP_INFO } from '../generators/engines/argocd/fleet-alerts.js';
import { ARGOCD_APP_CONDITION, SYNC_ERROR_ALERT, SYNC_ERROR_FLAG, SYNC_ERROR_WINDOW, ARGOCD_METRICS_PATH, METRICS_ABSENT_ALERT as ARGO_ABSENT, SYNC_ALERT as ARGO_ALERT, SYNC_ALERT_WINDOW as ARGO_WINDOW, SYNC_ALERTS_PATH } from '../generators/engines/argocd/sync-alerts.js';
import { FLUX_RESOURCE_INFO, METRICS_ABSENT_ALERT as FLUX_ABSENT, SOURCE_ALERT as FLUX_SOURCE_ALERT, SYNC_ALERT as FLUX_ALERT, SYNC_ALERT_WINDOW as FLUX_WINDOW, SYNC_ALERTS_UNIT } from '../generators/engines/flux/sync-alerts.js';
import { validateObject } from '../generators/validate/k8s-models.js';
import { fixtureSources, formatted } from './helpers.js';
import { firing, type Sample } from './support/promql.js';
import { fluxOperatorPolicies, ingressAdmits, type Policy } from './support/netpol.js';

type Files = ReturnType<typeof renderEnvironment>;
const render = (file: string, edit: (s: string) => string = (s) => s, env = file.replace(/\.yaml$/, '')): Files => {
  const { sources } = fixtureSources('valid', file);
  const src = new Map(sources);
  src.set(`environments/${env}.yaml`, edit(src.get(`environments/${env}.yaml`)!));
  const r = prepareEnvironment(env, src);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  return renderEnvironment(r.prepared);
};
const doc = (files: Files, path: string) => parseYamlStream(files.find((f) => f.path === path)!.content)[0] as any;
const noKps = (s: string) => `${s}${/^addons:/m.test(s) ? '' : 'addons:\n'}`.replace(/^addons:\n/m, 'addons:\n  kube-prometheus-stack: { enabled: false }\n');
const minutes = (n: number, series: () => Sample[]) => Array.from({ length: n }, series);
const quiet = (out: unknown[][]) => out.every((f) => f.length === 0);
/** The NetworkPolicies rendered into `namespace`, which holds the IMDS denial. */
const renderedPolicies = (files: Files, namespace: string): Policy[] => {
  const out = files.filter((f) => f.path.endsWith('.yaml')).flatMap((f) => parseYamlStream(f.content) as any[]).filter((o) => o?.kind === 'NetworkPolicy' && o.metadata.namespace === namespace);
  expect(out.map((o) => o.metadata.name)).toContain('odp-deny-imds');
  return out;
};
/** The labels an expression reads: metric names before a selector, label names inside one, and the `by` labels. */
const readLabels = (expr: string) => ({
  metrics: new Set(expr.match(/\b[a-z_]+(?=\{)/g)),
  labels: new Set([...(expr.match(/\{[^}]*\}/g) ?? []).flatMap((sel) => [...sel.matchAll(/([a-z_]+)(?:=~|!~|!=|=)"/g)].map((m) => m[1]!)), ...expr.match(/by \(([^)]*)\)/)![1]!.split(',').map((s) => s.trim())]),
});

/**
 * Walks a manual environment's README runbook ("Manual sync") the way Argo CD v3.4.4 runs it, and returns its lines:
 * - each `argocd app sync root` selects the root's objects its `--resource '!GROUP:*:*'` filters leave (every exclusion
 *   applies: util/argo/argo.go:969-1004 IncludeResource), after `argocd app get root --refresh` (a filter is expanded
 *   over the root's status.resources and refused when it matches nothing: cmd/argocd/commands/app.go:2348-2353);
 * - that sync must be one step: a second wave among its objects makes it multi-step (gitops-engine/pkg/sync/
 *   sync_tasks.go:274-276), which keeps the wave-0 Applications running until Healthy (sync_context.go:562-583) — a manual
 *   Application is not, until its own sync below;
 * - a custom resource it applies needs its CRD: the Application bringing it (kube-prometheus-stack: monitoring.coreos.com,
 *   external-secrets: external-secrets.io, their charts' CRDs) must have been synced and waited for before (an apply
 *   without the CRD fails the root's sync, sync_context.go:1667-1698).
 */
function walkManualRunbook(files: Files): string[] {
  const CRD_FROM: Record<string, string> = { 'monitoring.coreos.com': 'kube-prometheus-stack', 'external-secrets.io': 'external-secrets' };
  const readme = files.find((f) => f.path === 'README.md')!.content;
  const runbook = readme.slice(readme.indexOf('### Manual sync'));
  const start = runbook.indexOf('```sh');
  const lines = runbook.slice(start, runbook.indexOf('```', start + 5)).split('\n').filter((l) => l !== '');
  const rootObjects = files.filter((f) => /^(apps|argocd)\/[^/]+\.yaml$/.test(f.path)).flatMap((f) => parseYamlStream(f.content) as any[]).filter((o) => o?.kind);
  const synced = new Set<string>();
  let refreshed = false;
  let rootSyncs = 0;
  for (const line of lines) {
    if (/^argocd app get root --refresh --timeout \d+ > \/dev\/null$/.test(line)) refreshed = true;
    const root = /^argocd app sync root((?: --resource '![^']+')*) --timeout \d+$/.exec(line);
    if (root) {
      rootSyncs++;
      const excluded = [...root[1]!.matchAll(/'!([^:]+):\*:\*'/g)].map((m) => m[1]!);
      if (excluded.length > 0) expect(refreshed, line).toBe(true);
      const selected = rootObjects.filter((o) => !excluded.includes(o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : ''));
      expect(new Set(selected.map((o) => o.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? '0')).size, line).toBe(1);
      for (const o of selected) {
        const group = o.apiVersion.split('/')[0];
        if (CRD_FROM[group]) expect(synced.has(CRD_FROM[group]), `${line}: ${o.kind} ${o.metadata.name} before ${CRD_FROM[group]}`).toBe(true);
      }
      continue;
    }
    const wait = /^argocd app wait (.+) --health --timeout \d+$/.exec(line);
    if (wait) for (const a of wait[1]!.split(' ')) synced.add(a);
  }
  expect(rootSyncs).toBe(2);
  return lines;
}

describe('Argo CD: an Application of the environment\'s own not Synced and Healthy for an hour', () => {
  const env = render('talos-argocd-pools.yaml');
  const rule = doc(env, SYNC_ALERTS_PATH);
  const alert = rule.spec.groups[0].rules[0];
  const monitor = doc(env, ARGOCD_METRICS_PATH);

  it('a standalone environment with kube-prometheus-stack serves the controller metrics and scrapes them; the rule and monitor pass the schemas', async () => {
    expect(doc(env, 'values/argo-cd.yaml').controller.metrics).toStrictEqual({ enabled: true });
    expect(monitor.spec.selector.matchLabels).toStrictEqual({ 'app.kubernetes.io/name': 'argocd-metrics', 'app.kubernetes.io/instance': 'argo-cd', 'app.kubernetes.io/component': 'application-controller' });
    expect(monitor.spec.endpoints).toStrictEqual([{ port: 'http-metrics', path: '/metrics', interval: '30s' }]);
    // The root applies both in its last wave, without a dry run while kube-prometheus-stack's CRDs do not exist.
    expect(rule.metadata.annotations['argocd.argoproj.io/sync-options']).toBe('SkipDryRunOnMissingResource=true');
    expect(monitor.metadata.annotations).toStrictEqual(rule.metadata.annotations);
    for (const o of [monitor, rule]) expect(await validateObject(o), o.kind).toStrictEqual([]);
    expect(alert.alert).toBe(ARGO_ALERT);
    expect(alert.for).toBe(ARGO_WINDOW);
  });

  it("kube-prometheus-stack, which nothing else here waits for, is a wave before the root's monitoring objects (and the root): the root has waited for it, so their CRDs exist when they are applied", () => {
    // Without rootObjectNeeds kube-prometheus-stack was in the last wave with them: the apply found no ServiceMonitor
    // type and the root's operation failed until a retry (argo-cd v3.4.4 gitops-engine/pkg/sync/sync_context.go:1667-1698, 669-690).
    const wave = (o: any) => Number(o.metadata.annotations['argocd.argoproj.io/sync-wave']);
    const kps = wave(doc(env, 'apps/kube-prometheus-stack.yaml'));
    const root = wave(doc(env, 'argocd/application-root.yaml'));
    expect(wave(monitor)).toBe(root);
    expect(wave(rule)).toBe(root);
    expect(kps).toBeLessThan(root);
    // The units nothing waits for stay in the last wave, which the root does not wait on.
    expect(wave(doc(env, 'apps/metrics-server.yaml'))).toBe(root);
  });

  it("Prometheus (namespace monitoring) gets into the controller's metrics port through Argo CD's namespace policies: the rendered ones and the chart's", () => {
    const rendered = renderedPolicies(env, 'argocd');
    // The chart's policy of the controller (argo-helm argo-cd-10.1.1 templates/argocd-application-controller/networkpolicy.yaml,
    // on by default: values.yaml:119-123 global.networkPolicy.create true, defaultDenyIngress false); the container port
    // `metrics` is 8082 (values.yaml:927-929), the metrics Service's targetPort (metrics.yaml:29-31).
    const chart: Policy = {
      metadata: { name: 'argo-cd-argocd-application-controller', namespace: 'argocd' },
      spec: { policyTypes: ['Ingress'], podSelector: { matchLabels: { 'app.kubernetes.io/name': 'argocd-application-controller', 'app.kubernetes.io/instance': 'argo-cd' } }, ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 'metrics' }] }] },
    };
    expect(doc(env, 'values/argo-cd.yaml').global?.networkPolicy).toBeUndefined();
    const pod = { 'app.kubernetes.io/name': 'argocd-application-controller', 'app.kubernetes.io/instance': 'argo-cd' };
    expect(ingressAdmits([...rendered, chart] as Policy[], 'argocd', pod, 'monitoring', { port: 8082, name: 'metrics' })).toBe(true);
    expect(ingressAdmits([...rendered, chart] as Policy[], 'argocd', pod, 'monitoring', { port: 8083, name: 'other' })).toBe(false);
  });

  it('reads only argocd_app_info and labels argo-cd v3.4.4 gives it; the description says what to run', () => {
    const read = readLabels(alert.expr);
    expect(read.metrics).toStrictEqual(new Set([ARGOCD_APP_INFO.name]));
    for (const l of read.labels) expect(ARGOCD_APP_INFO.labels).toContain(l);
    for (const cmd of ['argocd app get {{ $labels.name }}', 'argocd app sync {{ $labels.name }}', 'argocd app terminate-op {{ $labels.name }}']) expect(alert.annotations.description).toContain(cmd);
    expect(alert.annotations.runbook).toMatch(/^docs\/how-to\/troubleshoot-a-failed-sync\.md, "An alert on a sync that does not end"$/);
  });

  // argocd_app_info of one Application at one instant, as collectApps sets it (job and the target's labels beside).
  const app = (name: string, sync: string, health: string, o: { operation?: string; project?: string; server?: string; auto?: boolean } = {}): Sample => ({
    labels: {
      __name__: 'argocd_app_info', namespace: 'argocd', name, project: o.project ?? 'platform', autosync_enabled: String(o.auto ?? true), repo: 'https://github.com/opendev/odp-gitops',
      dest_server: o.server ?? 'https://kubernetes.default.svc', dest_namespace: 'kube-system', sync_status: sync, health_status: health, operation: o.operation ?? '',
      job: 'argo-cd-argocd-application-controller-metrics', instance: '10.0.3.17:8082',
    },
    value: 1,
  });
  const fired = (timeline: Sample[][]) => firing(alert.expr, 60, timeline);

  it('fires after an hour for an Application whose sync keeps failing (retried: the operation set, OutOfSync, then Degraded), naming it', () => {
    const timeline = [
      ...minutes(10, () => [app('aws-ebs-csi-driver', 'OutOfSync', 'Missing', { operation: 'sync' }), app('cert-manager', 'Synced', 'Healthy')]),
      ...minutes(51, () => [app('aws-ebs-csi-driver', 'Synced', 'Degraded', { operation: 'sync' }), app('cert-manager', 'Synced', 'Healthy')]),
    ];
    const out = fired(timeline);
    expect(out[59]).toStrictEqual([]);
    expect(out[60]).toStrictEqual([{ name: 'aws-ebs-csi-driver', project: 'platform' }]);
  });

  it('fires for a root whose sync ended Failed at the sync timeout (no operation any more, OutOfSync, not retried)', () => {
    const timeline = [...minutes(60, () => [app('root', 'OutOfSync', 'Progressing', { operation: 'sync' })]), ...minutes(30, () => [app('root', 'OutOfSync', 'Progressing')])];
    expect(fired(timeline)[89]).toStrictEqual([{ name: 'root', project: 'platform' }]);
  });

  it('stays silent for a sync in progress shorter than the bound, for Synced and Healthy Applications, and resets once Synced and Healthy', () => {
    const first = [...minutes(45, () => [app('kube-prometheus-stack', 'OutOfSync', 'Progressing', { operation: 'sync' })]), ...minutes(120, () => [app('kube-prometheus-stack', 'Synced', 'Healthy')])];
    expect(quiet(fired(first))).toBe(true);
    const flapping = [...minutes(50, () => [app('api', 'OutOfSync', 'Healthy')]), ...minutes(1, () => [app('api', 'Synced', 'Healthy')]), ...minutes(50, () => [app('api', 'Synced', 'Progressing')])];
    expect(quiet(fired(flapping))).toBe(true);
  });

  it('with manual sync, OutOfSync is a change waiting for its operator (silent); Degraded still fires', () => {
    expect(quiet(fired(minutes(120, () => [app('api', 'OutOfSync', 'Healthy', { auto: false })])))).toBe(true);
    expect(fired(minutes(61, () => [app('api', 'OutOfSync', 'Degraded', { auto: false })]))[60]).toStrictEqual([{ name: 'api', project: 'platform' }]);
  });

  it('with manual sync, the root stays one step: its monitoring objects carry the runbook\'s wave, not a sync-wave; the runbook applies them last', () => {
    // A sync-wave of its own in the root makes the root's sync multi-step (gitops-engine sync_context.go:274-276
    // multiStep, :562-583 a multi-step sync waits while a task runs, :688-697 the non-final waves stay running): the root
    // would wait at wave 0 for every Application to be Healthy, which a manual one never is until it is synced by hand,
    // and for itself (engines/argocd/motion.ts rootSelf). Argo CD reads no other annotation (syncwaves/waves.go:12-21).
    const manual = render('talos-argocd-pools.yaml', (s) => `${s}\nargocd:\n  automated: false\n`);
    const rootDirs = manual.filter((f) => /^(apps|argocd)\/[^/]+\.yaml$/.test(f.path)).flatMap((f) => parseYamlStream(f.content) as any[]);
    expect(rootDirs.filter((o) => o?.metadata?.annotations?.['argocd.argoproj.io/sync-wave'] !== undefined).map((o) => `${o.kind}/${o.metadata.name}`)).toStrictEqual([]);
    for (const path of [SYNC_ALERTS_PATH, ARGOCD_METRICS_PATH]) {
      const o = doc(manual, path);
      const appWaves = rootDirs.filter((a) => a?.kind === 'Application').map((a) => Number(a.metadata.annotations?.['odp.opendev.dev/manual-sync-wave'] ?? 0));
      expect(Number(o.metadata.annotations['odp.opendev.dev/manual-sync-wave']), path).toBe(Math.max(...appWaves));
    }
    // The runbook: the root first without them (their CRDs come with kube-prometheus-stack, synced later by hand), the
    // whole root last. argo-cd v3.4.4 cmd/argocd/commands/app.go:2097 ('!' excludes, '*' matches), :2639-2655 (the CLI
    // expands the filter over the root's resources).
    const readme = manual.find((f) => f.path === 'README.md')!.content;
    const runbook = readme.slice(readme.indexOf('### Manual sync'));
    const lines = runbook.slice(runbook.indexOf('```sh'), runbook.indexOf('```', runbook.indexOf('```sh') + 5)).split('\n');
    expect(lines[1]).toBe('argocd app get root --refresh --timeout 300 > /dev/null');
    expect(lines[3]).toBe("argocd app sync root --resource '!monitoring.coreos.com:*:*' --timeout 900");
    walkManualRunbook(manual);
    expect(lines.at(-2)).toBe('argocd app sync root --timeout 900');
    // An automated environment keeps the root's last wave.
    expect(doc(env, SYNC_ALERTS_PATH).metadata.annotations['argocd.argoproj.io/sync-wave']).toBeDefined();
  });

  it("a hub with manual sync: its runbook's root syncs are one step each and apply no custom resource before the Application bringing its CRD (its cluster ExternalSecrets carried a sync-wave: the first root sync waited an hour at wave 0)", () => {
    const hub = render('hub.yaml', (s) => s.replace(/^argocd:\n/m, 'argocd:\n  automated: false\n'));
    const es = doc(hub, 'apps/cluster-fleet-a.yaml');
    expect(es.metadata.annotations['argocd.argoproj.io/sync-wave']).toBeUndefined();
    expect(es.metadata.annotations['argocd.argoproj.io/sync-options']).toBe('SkipDryRunOnMissingResource=true');
    const lines = walkManualRunbook(hub);
    expect(lines[3]).toBe("argocd app sync root --resource '!monitoring.coreos.com:*:*' --resource '!external-secrets.io:*:*' --timeout 900");
  });

  it("SyncError: an environment's own controller.extraArgs keeps the flag (Helm replaces lists: without it the alert went silent), and a setting of the flag without SyncError is refused", () => {
    const withArgs = (list: string) => (s: string) => `${s}${/^addons:/m.test(s) ? '' : 'addons:\n'}`.replace(/^addons:\n/m, `addons:\n  argo-cd:\n    values:\n      controller:\n        extraArgs: ${list}\n`);
    const args = (list: string, edit: (s: string) => string = (s) => s) => doc(render('talos-argocd-pools.yaml', (s) => edit(withArgs(list)(s))), 'values/argo-cd.yaml').controller;
    // The environment's flags first, the generator's appended (the chart passes the list after its own arguments:
    // argo-helm argo-cd-10.1.1 statefulset.yaml:76-78); the metrics Service stays on.
    expect(args('[--kubectl-parallelism-limit=10]')).toStrictEqual({ extraArgs: ['--kubectl-parallelism-limit=10', SYNC_ERROR_FLAG], metrics: { enabled: true } });
    expect(args('null').extraArgs).toStrictEqual([SYNC_ERROR_FLAG]);
    // A setting that already lists SyncError (either pflag form) is the environment's, kept as written: no second one.
    expect(args(`["${ARGOCD_APP_CONDITION.flag}=OrphanedResourceWarning,SyncError"]`).extraArgs).toStrictEqual([`${ARGOCD_APP_CONDITION.flag}=OrphanedResourceWarning,SyncError`]);
    expect(args(`[${ARGOCD_APP_CONDITION.flag}, SyncError]`).extraArgs).toStrictEqual([ARGOCD_APP_CONDITION.flag, 'SyncError']);
    // Without kube-prometheus-stack there is no alert: the environment's list is its own.
    expect(args('[--kubectl-parallelism-limit=10]', noKps).extraArgs).toStrictEqual(['--kubectl-parallelism-limit=10']);
    expect(() => args(`[--kubectl-parallelism-limit=10, ${ARGOCD_APP_CONDITION.flag}, OrphanedResourceWarning]`)).toThrow(`addons.argo-cd.values.controller.extraArgs[1]: ${ARGOCD_APP_CONDITION.flag} lists OrphanedResourceWarning without SyncError`);
    expect(args(`[${ARGOCD_APP_CONDITION.flag}=OrphanedResourceWarning]`, noKps).extraArgs).toStrictEqual([`${ARGOCD_APP_CONDITION.flag}=OrphanedResourceWarning`]);
  });

  it("on a hub, leaves the managed environments' roots (project fleet: the fleet alert) and their Applications (another destination) alone", () => {
    const managed = () => [app('fleet-a-root', 'OutOfSync', 'Degraded', { project: 'fleet' }), app('fleet-a-cilium', 'OutOfSync', 'Degraded', { project: 'fleet-a-platform', server: 'https://api.fleet-a.internal:6443' })];
    expect(quiet(fired(minutes(120, managed)))).toBe(true);
    const hub = render('hub.yaml');
    expect(hub.map((f) => f.path)).toEqual(expect.arrayContaining([SYNC_ALERTS_PATH, ARGOCD_METRICS_PATH]));
  });

  it('SyncError: the controller exports argocd_app_condition for it (a flag the chart takes only through extraArgs), and the rule fires for an Application of its own automated sync will not retry', () => {
    // argo-cd v3.4.4 cmd/argocd-application-controller/commands/argocd_application_controller.go:281 (the flag, no env
    // variable), controller/metrics/metrics.go:178-185 (the metric only with it), 462-473 (one series per listed condition
    // type an Application has, its count); argo-helm argo-cd-10.1.1 statefulset.yaml:76-78 (controller.extraArgs).
    expect(doc(env, 'values/argo-cd.yaml').controller.extraArgs).toStrictEqual([`${ARGOCD_APP_CONDITION.flag}=SyncError`]);
    const r = rule.spec.groups[0].rules.find((x: any) => x.alert === SYNC_ERROR_ALERT);
    expect(r.for).toBe(SYNC_ERROR_WINDOW);
    const metric = new Set(r.expr.match(/\b[a-z_]+(?=\{)/g));
    expect(metric).toStrictEqual(new Set([ARGOCD_APP_CONDITION.name]));
    const labels = [...(r.expr.match(/\{[^}]*\}/g) ?? []).flatMap((sel: string) => [...sel.matchAll(/([a-z_]+)(?:=~|!~|!=|=)"/g)].map((m) => m[1]!)), ...r.expr.match(/by \(([^)]*)\)/)![1]!.split(',').map((x: string) => x.trim())];
    for (const l of labels) expect(ARGOCD_APP_CONDITION.labels).toContain(l);
    const cond = (name: string, condition: string, project = 'platform'): Sample => ({ labels: { __name__: ARGOCD_APP_CONDITION.name, namespace: 'argocd', name, project, condition, job: 'argo-cd-argocd-application-controller-metrics' }, value: 1 });
    const window = Number(SYNC_ERROR_WINDOW.replace('m', ''));
    const out = firing(r.expr, window, minutes(window + 1, () => [cond('cert-manager', 'SyncError'), cond('api', 'OrphanedResourceWarning', 'workloads'), cond('fleet-a-root', 'SyncError', 'fleet')]));
    expect(out.at(-2)).toStrictEqual([]);
    expect(out.at(-1)).toStrictEqual([{ name: 'cert-manager', project: 'platform' }]);
    // Gone as soon as the condition is (a new revision synced, or argocd app sync).
    expect(firing(r.expr, window, [...minutes(window + 1, () => [cond('cert-manager', 'SyncError')]), []]).at(-1)).toStrictEqual([]);
    // A hub: the managed environments' Applications (project <env>-…) are left out, as the other rule does by destination.
    const hubRule = parseYamlStream(render('hub.yaml').find((f) => f.path === SYNC_ALERTS_PATH)!.content)[0] as any;
    const hubExpr = hubRule.spec.groups[0].rules.find((x: any) => x.alert === SYNC_ERROR_ALERT).expr;
    expect(firing(hubExpr, 0, [[cond('fleet-a-cert-manager', 'SyncError', 'fleet-a-platform'), cond('cert-manager', 'SyncError')]])[0]).toStrictEqual([{ name: 'cert-manager', project: 'platform' }]);
  });

  it('nothing without kube-prometheus-stack, and nothing in a managed environment (its Applications live on the hub)', () => {
    const off = render('talos-argocd-pools.yaml', noKps);
    expect(off.filter((f) => f.path === SYNC_ALERTS_PATH || f.path === ARGOCD_METRICS_PATH)).toStrictEqual([]);
    expect(doc(off, 'values/argo-cd.yaml').controller).toBeUndefined();
    const { sources } = fixtureSources('valid', 'hub.yaml');
    const r = prepareEnvironment('fleet-a', sources);
    if (!r.prepared) throw new Error(formatted(r).join('\n'));
    expect(renderEnvironment(r.prepared).some((f) => f.path === SYNC_ALERTS_PATH || f.path === ARGOCD_METRICS_PATH)).toBe(false);
  });

  it('a second rule fires when argocd_app_info is missing for 15 minutes (nothing served or scraped: no alert could fire), and only then', () => {
    const absent = rule.spec.groups[0].rules[1];
    expect(absent.alert).toBe(ARGO_ABSENT);
    expect(absent.expr).toBe('absent(argocd_app_info)');
    expect(absent.for).toBe('15m');
    const gone = firing(absent.expr, 15, [...minutes(30, () => [app('root', 'Synced', 'Healthy')]), ...minutes(16, () => [])]);
    expect(gone.slice(0, 45).every((f) => f.length === 0)).toBe(true);
    expect(gone[45]).toStrictEqual([{}]);
    expect(absent.annotations.description).toContain('kubectl -n argocd get servicemonitor argocd-application-controller');
  });

  it('the README names the alert, its file and the runbook', () => {
    const readme = env.find((f) => f.path === 'README.md')!.content;
    expect(readme).toContain(`Alert on a sync that does not end: \`rendered/talos-argocd-pools/${SYNC_ALERTS_PATH}\` fires \`${ARGO_ALERT}\``);
    expect(readme).toContain(`\`${SYNC_ERROR_ALERT}\` fires sooner, after ${SYNC_ERROR_WINDOW}, for one with the \`SyncError\` condition`);
  });
});

describe('Flux: a Kustomization or HelmRelease not Ready for an hour', () => {
  const env = render('talos-flux-pools.yaml');
  const dir = `flux/units/${SYNC_ALERTS_UNIT}`;
  const rule = doc(env, `${dir}/prometheusrule-flux-sync-alerts.yaml`);
  const alert = rule.spec.groups[0].rules[0];
  const monitor = doc(env, `${dir}/podmonitor-flux-operator.yaml`);

  it("a PodMonitor scrapes the Flux Operator's pods (chart labels, port http-metrics), applied after kube-prometheus-stack; both pass the schemas", async () => {
    expect(monitor.spec.selector.matchLabels).toStrictEqual({ 'app.kubernetes.io/name': 'flux-operator', 'app.kubernetes.io/instance': 'flux-operator' });
    expect(monitor.spec.namespaceSelector).toStrictEqual({ matchNames: ['flux-system'] });
    expect(monitor.spec.podMetricsEndpoints).toStrictEqual([{ port: 'http-metrics', path: '/metrics', interval: '60s' }]);
    const k = doc(env, `flux/kustomizations/${SYNC_ALERTS_UNIT}.yaml`);
    expect(k.spec.dependsOn).toStrictEqual([{ name: 'kube-prometheus-stack' }]);
    expect(k.spec.path).toBe(`./rendered/talos-flux-pools/${dir}`);
    expect(doc(env, `${dir}/kustomization.yaml`).resources).toStrictEqual(['podmonitor-flux-operator.yaml', 'prometheusrule-flux-sync-alerts.yaml']);
    expect(doc(env, 'flux/kustomization.yaml').resources).toContain(`kustomizations/${SYNC_ALERTS_UNIT}.yaml`);
    for (const o of [monitor, rule]) expect(await validateObject(o), o.kind).toStrictEqual([]);
    expect(alert.alert).toBe(FLUX_ALERT);
    expect(alert.for).toBe(FLUX_WINDOW);
  });

  it("Prometheus (namespace monitoring) gets into the operator's metrics port 8080 (the chart's http-metrics) through flux-system's policies: the rendered ones and the operator's, patches applied", () => {
    const rendered = renderedPolicies(env, 'flux-system');
    const policies = [...rendered, ...fluxOperatorPolicies(doc(env, 'flux/flux-instance.yaml'))] as Policy[];
    const pod = { 'app.kubernetes.io/name': 'flux-operator', 'app.kubernetes.io/instance': 'flux-operator' };
    expect(ingressAdmits(policies, 'flux-system', pod, 'monitoring', 8080)).toBe(true);
    // Not vacuous: without flux2's allow-scraping, allow-egress admits flux-system's own pods only.
    const without = policies.filter((p) => p.metadata.name !== 'allow-scraping');
    expect(ingressAdmits(without, 'flux-system', pod, 'monitoring', 8080)).toBe(false);
    expect(ingressAdmits(without, 'flux-system', pod, 'flux-system', 8080)).toBe(true);
    expect(ingressAdmits(policies, 'flux-system', pod, 'monitoring', 8081)).toBe(false);
  });

  it('reads only flux_resource_info and labels flux-operator v0.58.1 gives it; the description says what to run', () => {
    const read = readLabels(alert.expr);
    expect(read.metrics).toStrictEqual(new Set([FLUX_RESOURCE_INFO.name]));
    for (const l of read.labels) expect(FLUX_RESOURCE_INFO.labels).toContain(l);
    expect(alert.annotations.description).toContain('flux -n {{ $labels.exported_namespace }} reconcile {{ $labels.kind | toLower }} {{ $labels.name }} (a Stalled HelmRelease: add --reset)');
    expect(alert.annotations.description).toContain('kubectl -n {{ $labels.exported_namespace }} describe {{ $labels.kind | toLower }} {{ $labels.name }}');
  });

  // flux_resource_info of one object at one report, as fluxLabelsToValues sets it (the target's labels beside; the
  // metric's namespace label is exported_namespace, so the pod's `namespace` target label does not clash).
  const obj = (kind: string, name: string, ns: string, ready: string, reason: string, o: { suspended?: boolean; revision?: string } = {}): Sample => ({
    labels: {
      __name__: 'flux_resource_info', uid: `${kind}-${name}`, kind, name, exported_namespace: ns, ready, reason, suspended: o.suspended ? 'True' : 'False',
      revision: o.revision ?? '', url: '', ref: '', source_name: kind === 'HelmRelease' ? name : 'flux-system', path: kind === 'Kustomization' ? `./rendered/talos-flux-pools/flux/units/${name}` : '',
      namespace: 'flux-system', pod: 'flux-operator-7c9d8f6b5-qx2lm', job: 'flux-system/flux-operator',
    },
    value: 1,
  });
  const fired = (timeline: Sample[][]) => firing(alert.expr, 60, timeline);

  it('fires after an hour for a HelmRelease whose install keeps failing (retried without limit: Unknown while it installs, False between attempts), naming it', () => {
    const timeline = Array.from({ length: 61 }, (_, t) => [
      t % 20 < 15 ? obj('HelmRelease', 'aws-ebs-csi-driver', 'kube-system', 'Unknown', 'Progressing', { revision: '2.50.1' }) : obj('HelmRelease', 'aws-ebs-csi-driver', 'kube-system', 'False', 'InstallFailed', { revision: '2.50.1' }),
      obj('Kustomization', 'cert-manager', 'flux-system', 'True', 'ReconciliationSucceeded', { revision: 'refs/heads/main@sha1:4be6c1f' }),
    ]);
    const out = fired(timeline);
    expect(out[59]).toStrictEqual([]);
    expect(out[60]).toStrictEqual([{ kind: 'HelmRelease', name: 'aws-ebs-csi-driver', exported_namespace: 'kube-system' }]);
  });

  it('fires for a Kustomization waiting on a dependency that never gets Ready, across new revisions', () => {
    const timeline = Array.from({ length: 61 }, (_, t) => [obj('Kustomization', 'inference', 'flux-system', 'False', 'DependencyNotReady', { revision: t < 30 ? 'refs/heads/main@sha1:aa11' : 'refs/heads/main@sha1:bb22' })]);
    expect(fired(timeline)[60]).toStrictEqual([{ kind: 'Kustomization', name: 'inference', exported_namespace: 'flux-system' }]);
  });

  it('stays silent for Ready objects, a reconcile in progress shorter than the bound, suspended objects and the sources', () => {
    const progress = [...minutes(40, () => [obj('HelmRelease', 'kube-prometheus-stack', 'monitoring', 'Unknown', 'Progressing')]), ...minutes(100, () => [obj('HelmRelease', 'kube-prometheus-stack', 'monitoring', 'True', 'InstallSucceeded')])];
    expect(quiet(fired(progress))).toBe(true);
    const others = () => [obj('Kustomization', 'api', 'flux-system', 'False', 'BuildFailed', { suspended: true }), obj('GitRepository', 'flux-system', 'flux-system', 'False', 'GitOperationFailed'), obj('HelmRelease', 'cert-manager', 'flux-system', 'True', 'UpgradeSucceeded')];
    expect(quiet(fired(minutes(120, others)))).toBe(true);
  });

  it('a third rule fires for a GitRepository or OCIRepository not Ready for an hour (the Kustomizations stay Ready on the old revision); never for a static OCI HelmRepository', () => {
    const source = rule.spec.groups[0].rules[2];
    expect(source.alert).toBe(FLUX_SOURCE_ALERT);
    expect(source.for).toBe(FLUX_WINDOW);
    expect(readLabels(source.expr).metrics).toStrictEqual(new Set([FLUX_RESOURCE_INFO.name]));
    expect(source.annotations.description).toContain('flux -n {{ $labels.exported_namespace }} reconcile source {{ if eq $labels.kind "GitRepository" }}git{{ else }}oci{{ end }} {{ $labels.name }}');
    const stuck = (t: number) => [
      obj('GitRepository', 'flux-system', 'flux-system', t < 5 ? 'True' : 'False', t < 5 ? 'Succeeded' : 'GitOperationFailed', { revision: 'refs/heads/main@sha1:4be6c1f' }),
      obj('Kustomization', 'cert-manager', 'flux-system', 'True', 'ReconciliationSucceeded', { revision: 'refs/heads/main@sha1:4be6c1f' }),
      obj('HelmRepository', 'charts-oci', 'flux-system', 'Unknown', ''),
    ];
    const out = firing(source.expr, 60, Array.from({ length: 66 }, (_, t) => stuck(t)));
    expect(out[64]).toStrictEqual([]);
    expect(out[65]).toStrictEqual([{ kind: 'GitRepository', name: 'flux-system', exported_namespace: 'flux-system' }]);
    // The Kustomization reading it stays Ready: the sync rule alone would say nothing.
    expect(quiet(fired(Array.from({ length: 66 }, (_, t) => stuck(t))))).toBe(true);
    const oci = firing(source.expr, 60, minutes(120, () => [obj('OCIRepository', 'podinfo', 'apps', 'False', 'OCIArtifactPullFailed'), obj('GitRepository', 'x', 'apps', 'False', 'GitOperationFailed', { suspended: true })]));
    expect(oci[90]).toStrictEqual([{ kind: 'OCIRepository', name: 'podinfo', exported_namespace: 'apps' }]);
  });

  it('a second rule fires when flux_resource_info is missing for 15 minutes (the operator down or not scraped), and only then', () => {
    const absent = rule.spec.groups[0].rules[1];
    expect(absent.alert).toBe(FLUX_ABSENT);
    expect(absent.expr).toBe('absent(flux_resource_info)');
    const gone = firing(absent.expr, 15, [...minutes(10, () => []), ...minutes(30, () => [obj('Kustomization', 'cert-manager', 'flux-system', 'True', 'ReconciliationSucceeded')]), ...minutes(16, () => [])]);
    expect(gone.slice(0, 55).every((f) => f.length === 0)).toBe(true);
    expect(gone[55]).toStrictEqual([{}]);
    expect(absent.annotations.description).toContain('kubectl -n flux-system get podmonitor flux-operator');
  });

  it('with manual sync its Kustomization is suspended like every other and the README resumes it last, after kube-prometheus-stack', () => {
    const manual = render('talos-flux-pools.yaml', (s) => `${s}\nargocd:\n  automated: false\n`);
    expect(doc(manual, `flux/kustomizations/${SYNC_ALERTS_UNIT}.yaml`).spec.suspend).toBe(true);
    const resumes = manual.find((f) => f.path === 'README.md')!.content.split('\n').filter((l) => l.startsWith('flux resume kustomization ') && !l.includes('--all'));
    expect(resumes.at(-1)).toBe(`flux resume kustomization ${SYNC_ALERTS_UNIT} -n flux-system && flux suspend kustomization ${SYNC_ALERTS_UNIT} -n flux-system`);
    expect(resumes.findIndex((l) => l.includes(' kube-prometheus-stack '))).toBeGreaterThanOrEqual(0);
  });

  it('nothing without kube-prometheus-stack; the README names the alert', () => {
    const off = render('talos-flux-pools.yaml', (s) => s.replace(/^  kube-prometheus-stack:.*$/m, '  kube-prometheus-stack: { enabled: false }'));
    expect(off.some((f) => f.path.includes(SYNC_ALERTS_UNIT))).toBe(false);
    const readme = env.find((f) => f.path === 'README.md')!.content;
    expect(readme).toContain(`Alert on a sync that does not end: \`${FLUX_ALERT}\` fires when a Kustomization or HelmRelease`);
  });
});

describe("Argo CD: an environment's argo-cd values may not replace the settings the health rules and alerts rely on (rule argocd-pinned-setting)", () => {
  const withConfigs = (yaml: string) => (s: string) => `${s}${/^addons:/m.test(s) ? '' : 'addons:\n'}`.replace(/^addons:\n/m, `addons:\n  argo-cd:\n    values:\n      configs:\n${yaml}`);
  const values = (yaml: string) => doc(render('talos-argocd-pools.yaml', withConfigs(yaml)), 'values/argo-cd.yaml').configs;

  it('the sync timeout set otherwise, or the refresh turned off, is refused; the same value and a refresh period are kept', () => {
    // argo-cd v3.4.4 controller/appcontroller.go:1460-1465 (a waiting sync terminated at the timeout; 0 never), and
    // cmd/argocd-application-controller/commands/argocd_application_controller.go:140-145 (--app-resync 0: no periodic refresh).
    expect(() => values('        params:\n          controller.sync.timeout.seconds: "0"\n')).toThrow('addons.argo-cd.values.configs.params["controller.sync.timeout.seconds"]: "0" would replace the rendered "3600": the sync alerts and the runbooks count on a waiting sync ending after it');
    expect(() => values('        cm:\n          timeout.reconciliation: 0s\n')).toThrow(`addons.argo-cd.values.configs.cm["timeout.reconciliation"]: "0s" turns the controller's periodic refresh off`);
    expect(values('        params:\n          controller.sync.timeout.seconds: 3600\n').params['controller.sync.timeout.seconds']).toBe(3600);
    expect(values('        cm:\n          timeout.reconciliation: 180s\n').cm['timeout.reconciliation']).toBe('180s');
  });

  it("a managed environment's argo-cd values are never rendered (the hub's Argo CD runs its Applications): refused there as unused, not as a timeout; the hub's are checked", () => {
    const { sources } = fixtureSources('valid', 'hub.yaml');
    const timeout0 = `values: { configs: { params: { controller.sync.timeout.seconds: "0" } } }`;
    const managed = new Map(sources).set('environments/fleet-a.yaml', sources.get('environments/fleet-a.yaml')!.replace('argo-cd: { enabled: false }', `argo-cd: { enabled: false, ${timeout0} }`));
    const r = prepareEnvironment('fleet-a', managed);
    // Refused once, by the rule for what a managed environment never renders (argocd-managed-unused), not by this check.
    expect(r.prepared).toBeUndefined();
    const said = formatted(r).filter((l) => !l.includes(': warning: '));
    expect(said, said.join("\n")).toHaveLength(1);
    expect(said[0]).toContain('no argo-cd is installed here, so this setting (values: { configs }) is never rendered');
    expect(said[0]).not.toContain('would replace the rendered');
    const plain = prepareEnvironment('fleet-a', sources);
    expect(plain.prepared && renderEnvironment(plain.prepared).some((f) => f.path === 'values/argo-cd.yaml')).toBe(false);
    // The hub's values make its argocd-cm and argocd-cmd-params-cm: refused there.
    const hubFile = sources.get('environments/hub.yaml')!;
    const hub = new Map(sources).set('environments/hub.yaml', `${hubFile}${/^addons:/m.test(hubFile) ? '' : 'addons:\n'}`.replace(/^addons:\n/m, `addons:\n  argo-cd: { ${timeout0} }\n`));
    const h = prepareEnvironment('hub', hub);
    expect(h.prepared).toBeUndefined();
    expect(formatted(h).join('\n')).toContain('addons.argo-cd.values.configs.params["controller.sync.timeout.seconds"]: "0" would replace the rendered "3600"');
  });

  it('a health Lua written into the legacy resource.customizations key does not replace the split key (argo-cd v3.4.4 util/settings/settings.go:1016-1024, 1104-1140): kept, and the split key is rendered', () => {
    const cm = values('        cm:\n          resource.customizations: |\n            argoproj.io/Application:\n              health.lua: return {}\n').cm;
    expect(cm['resource.customizations.health.argoproj.io_Application']).toContain('waiting to be Synced');
  });
});
