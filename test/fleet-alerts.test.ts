/**
 * The hub's alert on a managed environment's root not Synced or not Healthy for an hour (a stalled RollingSync stage):
 * the metric it reads is served (the argo-cd values turn the controller's metrics on) and scraped (the ServiceMonitor
 * selects the chart's metrics Service), its expression is evaluated on sample series of argocd_app_info as argo-cd v3.4.4
 * exports them (controller/metrics/metrics.go:65-69, 423-451) through test/support/promql.ts, and both objects pass the
 * prometheus-operator models' schemas. And its alert on a managed cluster's token: the cluster ExternalSecret not Ready
 * (its template fails 14 days before expiresAt, hub.ts expiryCheck), from externalsecret_status_condition as External
 * Secrets v2.9.0 exports it (pkg/controllers/externalsecret/util.go:44-66, esmetrics.go:89-172), scraped by a PodMonitor.
 */
import { describe, expect, it } from 'vitest';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { ARGOCD_APP_INFO, EXTERNALSECRET_STATUS_CONDITION, FLEET_ALERT, FLEET_ALERT_WINDOW, FLEET_ALERTS_PATH, FLEET_SECRET_METRICS_PATH, FLEET_SYNC_ERROR_ALERT, FLEET_TOKEN_ALERT, FLEET_TOKEN_ALERT_WINDOW, fleetSyncErrorExpr } from '../generators/engines/argocd/fleet-alerts.js';
import { ARGOCD_APP_CONDITION, ARGOCD_METRICS_PATH, SYNC_ERROR_CONDITION, SYNC_ERROR_FLAG, SYNC_ERROR_WINDOW } from '../generators/engines/argocd/sync-alerts.js';
import { validateObject } from '../generators/validate/k8s-models.js';
import { fixtureSources, formatted } from './helpers.js';
import { firing, type Sample } from './support/promql.js';

const { sources } = fixtureSources('valid', 'hub.yaml');
const render = (env: string, src = sources) => {
  const r = prepareEnvironment(env, src);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  return renderEnvironment(r.prepared);
};
const doc = (files: ReturnType<typeof render>, path: string) => parseYamlStream(files.find((f) => f.path === path)!.content)[0] as any;

describe('the hub alerts on a managed root not Synced and Healthy for an hour', () => {
  const hub = render('hub');
  const rule = doc(hub, FLEET_ALERTS_PATH);
  const alert = rule.spec.groups[0].rules[0];
  const monitor = doc(hub, ARGOCD_METRICS_PATH);
  const values = doc(hub, 'values/argo-cd.yaml');

  it('the controller serves its metrics (off in the argo-cd chart 10.1.1 by default) and the ServiceMonitor selects that Service', () => {
    expect(values.controller).toStrictEqual({ metrics: { enabled: true }, extraArgs: ['--metrics-application-conditions=SyncError'] });
    // The chart's metrics Service: labels argo-cd.labels with name "metrics", component the controller's name; port http-metrics.
    expect(monitor.spec.selector.matchLabels).toStrictEqual({ 'app.kubernetes.io/name': 'argocd-metrics', 'app.kubernetes.io/instance': 'argo-cd', 'app.kubernetes.io/component': 'application-controller' });
    expect(monitor.spec.endpoints).toStrictEqual([{ port: 'http-metrics', path: '/metrics', interval: '30s' }]);
    expect(monitor.spec.namespaceSelector).toStrictEqual({ matchNames: ['argocd'] });
    // Applied by the root's last wave, skipping the dry run while kube-prometheus-stack's CRDs do not exist yet (as the cluster ExternalSecrets).
    const es = doc(hub, 'apps/cluster-fleet-a.yaml');
    for (const o of [monitor, rule]) expect(o.metadata.annotations).toStrictEqual(es.metadata.annotations);
    // Not the chart's ServiceMonitor: the bootstrap's helm install of argo-cd runs before the monitoring CRDs exist.
    expect(values.controller.metrics.serviceMonitor).toBeUndefined();
  });

  it('reads only argocd_app_info and the labels argo-cd v3.4.4 gives it', () => {
    const names = alert.expr.match(/\b[a-z_]+(?=\{)/g) as string[];
    expect(new Set(names)).toStrictEqual(new Set([ARGOCD_APP_INFO.name]));
    for (const sel of alert.expr.match(/\{[^}]*\}/g) as string[]) for (const [, label] of sel.matchAll(/([a-z_]+)(?:=~|!=|=)"/g)) expect(ARGOCD_APP_INFO.labels).toContain(label);
    for (const label of [...(alert.expr.match(/by \(([^)]*)\)/)![1]!.split(',')).map((s: string) => s.trim()), 'name']) expect(ARGOCD_APP_INFO.labels).toContain(label);
    expect(alert.for).toBe(FLEET_ALERT_WINDOW);
    expect(alert.annotations.runbook).toBe('rendered/{{ $labels.environment }}/README.md, "Check on the hub"');
    // The managed README has that section.
    expect(render('fleet-a').find((f) => f.path === 'README.md')!.content).toMatch(/^### \d\. Check on the hub$/m);
  });

  // argocd_app_info of one Application at one instant (value 1), labels as collectApps sets them.
  const app = (name: string, project: string, sync: string, health: string, operation = ''): Sample => ({
    labels: { __name__: 'argocd_app_info', namespace: 'argocd', name, project, autosync_enabled: 'false', repo: 'https://github.com/opendev/odp-gitops', dest_server: 'https://kubernetes.default.svc', dest_namespace: 'argocd', sync_status: sync, health_status: health, operation, job: 'argo-cd-argocd-application-controller-metrics' },
    value: 1,
  });
  const minutes = (n: number, series: () => Sample[]) => Array.from({ length: n }, series);
  const fired = (timeline: Sample[][]) => firing(alert.expr, 60, timeline);
  const envs = (labels: Record<string, string>[]) => labels.map((l) => l.environment).sort();

  it('fires after an hour for a stalled RollingSync stage, naming each environment: the Degraded one and the one waiting behind it', () => {
    const stalled = () => [app('fleet-a-root', 'fleet', 'Synced', 'Degraded'), app('fleet-b-root', 'fleet', 'OutOfSync', 'Healthy'), app('platform-root', 'platform', 'OutOfSync', 'Progressing')];
    const out = fired(minutes(61, stalled));
    expect(out[59]).toStrictEqual([]);
    expect(envs(out[60]!)).toStrictEqual(['fleet-a', 'fleet-b']);
    expect(out[60]).toContainEqual({ name: 'fleet-a-root', project: 'fleet', environment: 'fleet-a' });
  });

  it('keeps counting while the root changes state (OutOfSync, then a sync running, then Progressing) and resets once it is Synced and Healthy', () => {
    const timeline = [
      ...minutes(20, () => [app('fleet-a-root', 'fleet', 'OutOfSync', 'Healthy')]),
      ...minutes(20, () => [app('fleet-a-root', 'fleet', 'OutOfSync', 'Progressing', 'sync')]),
      ...minutes(21, () => [app('fleet-a-root', 'fleet', 'Synced', 'Unknown')]),
    ];
    expect(envs(fired(timeline)[60]!)).toStrictEqual(['fleet-a']);
    const recovered = [...minutes(50, () => [app('fleet-a-root', 'fleet', 'OutOfSync', 'Healthy')]), ...minutes(1, () => [app('fleet-a-root', 'fleet', 'Synced', 'Healthy')]), ...minutes(59, () => [app('fleet-a-root', 'fleet', 'OutOfSync', 'Healthy')])];
    expect(fired(recovered).every((f) => f.length === 0)).toBe(true);
  });

  it('stays quiet for Synced and Healthy roots, and for Applications outside the fleet project or not a root', () => {
    const quiet = () => [app('fleet-a-root', 'fleet', 'Synced', 'Healthy'), app('fleet-a-cilium', 'fleet-a-platform', 'OutOfSync', 'Degraded'), app('hub-root', 'platform', 'OutOfSync', 'Degraded')];
    expect(fired(minutes(120, quiet)).every((f) => f.length === 0)).toBe(true);
  });

  it('the hub README names the alert and its files; the managed README\'s hub check, which the runbook points at, explains it', () => {
    const readme = hub.find((f) => f.path === 'README.md')!.content;
    expect(readme).toContain(`Alert: \`rendered/hub/${FLEET_ALERTS_PATH}\` fires \`${FLEET_ALERT}\` when a root is not Synced and Healthy for 1h`);
    expect(readme).toContain(`ServiceMonitor \`rendered/hub/${ARGOCD_METRICS_PATH}\``);
    const managed = render('fleet-a').find((f) => f.path === 'README.md')!.content;
    const check = managed.slice(managed.indexOf('### 4. Check on the hub'), managed.indexOf('### 5. Leave the hub'));
    expect(check).toContain(`The hub's alert \`${FLEET_ALERT}\` (environment \`fleet-a\`; rendered where the hub runs kube-prometheus-stack) points here:`);
  });

  it('the ServiceMonitor and PrometheusRule pass the prometheus-operator schemas', async () => {
    for (const o of [monitor, rule]) expect(await validateObject(o), o.kind).toStrictEqual([]);
  });

  it('no alert and no metrics without kube-prometheus-stack on the hub, and none on a managed environment', () => {
    const off = new Map(sources);
    off.set('environments/hub.yaml', `${sources.get('environments/hub.yaml')!}addons:\n  kube-prometheus-stack: { enabled: false }\n`);
    const files = render('hub', off);
    expect(files.filter((f) => f.path === FLEET_ALERTS_PATH || f.path === ARGOCD_METRICS_PATH || f.path === FLEET_SECRET_METRICS_PATH)).toStrictEqual([]);
    expect(doc(files, 'values/argo-cd.yaml').controller).toBeUndefined();
    expect(render('fleet-a').some((f) => f.path === FLEET_ALERTS_PATH)).toBe(false);
    expect(FLEET_ALERT).toBe(alert.alert);
  });
});

describe("the hub alerts on a managed cluster's token expiring (its cluster ExternalSecret not Ready) for an hour", () => {
  const hub = render('hub');
  const rule = doc(hub, FLEET_ALERTS_PATH);
  const alert = rule.spec.groups[0].rules.find((r: { alert: string }) => r.alert === FLEET_TOKEN_ALERT);
  const monitor = doc(hub, FLEET_SECRET_METRICS_PATH);

  it("a PodMonitor scrapes External Secrets' controller pods (chart 2.9.0 selector labels, port metrics), keeping the metric's own namespace", async () => {
    expect(monitor.kind).toBe('PodMonitor');
    expect(monitor.spec.selector.matchLabels).toStrictEqual({ 'app.kubernetes.io/name': 'external-secrets', 'app.kubernetes.io/instance': 'external-secrets' });
    expect(monitor.spec.namespaceSelector).toStrictEqual({ matchNames: ['external-secrets'] });
    expect(monitor.spec.podMetricsEndpoints).toStrictEqual([{ port: 'metrics', path: '/metrics', interval: '30s', honorLabels: true }]);
    // Applied like the ServiceMonitor: the root's last wave, no dry run while the monitoring CRDs do not exist.
    expect(monitor.metadata.annotations).toStrictEqual(doc(hub, ARGOCD_METRICS_PATH).metadata.annotations);
    expect(await validateObject(monitor)).toStrictEqual([]);
  });

  it('reads only externalsecret_status_condition and its labels, for its window; the description names register.sh', () => {
    const names = alert.expr.match(/\b[a-z_]+(?=\{)/g) as string[];
    expect(new Set(names)).toStrictEqual(new Set([EXTERNALSECRET_STATUS_CONDITION.name]));
    for (const sel of alert.expr.match(/\{[^}]*\}/g) as string[]) for (const [, label] of sel.matchAll(/([a-z_]+)(?:=~|!=|=)"/g)) expect(EXTERNALSECRET_STATUS_CONDITION.labels).toContain(label);
    expect(alert.for).toBe(FLEET_TOKEN_ALERT_WINDOW);
    expect(alert.annotations.summary).toBe("The hub hub's token for {{ $labels.environment }} expires within 14 days, or its cluster Secret cannot be refreshed");
    expect(alert.annotations.description).toContain('rendered/{{ $labels.environment }}/argocd/bootstrap/register.sh');
  });

  // externalsecret_status_condition of one ExternalSecret at one instant, as SetExternalSecretCondition leaves it: the
  // current status 1, the opposite 0 (labels name, namespace, condition, status; job and the pod's target labels beside).
  const es = (name: string, ready: boolean, namespace = 'argocd'): Sample[] =>
    (['True', 'False'] as const).map((status) => ({
      labels: { __name__: 'externalsecret_status_condition', name, namespace, condition: 'Ready', status, job: 'external-secrets/external-secrets-controller', pod: 'external-secrets-6d9f7c8b5-x2x7q' },
      value: (status === 'True') === ready ? 1 : 0,
    }));
  const minutes = (n: number, series: () => Sample[]) => Array.from({ length: n }, series);
  const fired = (timeline: Sample[][]) => firing(alert.expr, 60, timeline);

  it('fires after an hour of Ready False (the template failing 14 days before expiresAt), naming the environment', () => {
    const out = fired(minutes(61, () => [...es('cluster-fleet-a', false), ...es('cluster-fleet-b', true)]));
    expect(out[59]).toStrictEqual([]);
    expect(out[60]).toStrictEqual([{ name: 'cluster-fleet-a', environment: 'fleet-a' }]);
  });

  it('resets once the ExternalSecret is Ready again (a rotated token), and stays quiet for Ready ones and other namespaces', () => {
    const rotated = [...minutes(50, () => es('cluster-fleet-a', false)), ...minutes(1, () => es('cluster-fleet-a', true)), ...minutes(59, () => es('cluster-fleet-a', false))];
    expect(fired(rotated).every((f) => f.length === 0)).toBe(true);
    const quiet = () => [...es('cluster-fleet-a', true), ...es('cluster-fleet-b', false, 'portal'), ...es('grafana-admin', false)];
    expect(fired(minutes(120, quiet)).every((f) => f.length === 0)).toBe(true);
  });

  it('the hub README names it', () => {
    const readme = hub.find((f) => f.path === 'README.md')!.content;
    expect(readme).toContain(`\`${FLEET_TOKEN_ALERT}\``);
    expect(readme).toContain(`PodMonitor \`rendered/hub/${FLEET_SECRET_METRICS_PATH}\``);
  });
});

describe("the hub alerts on a managed environment's Application with the SyncError condition (the hub's own ArgoCDApplicationSyncError leaves them out)", () => {
  const hub = render('hub');
  const rule = doc(hub, FLEET_ALERTS_PATH);
  const alert = rule.spec.groups[0].rules.find((r: any) => r.alert === FLEET_SYNC_ERROR_ALERT);
  // argocd_app_condition as argo-cd v3.4.4 exports it (controller/metrics/metrics.go:60, 462-473): one series per listed
  // condition type an Application has; the hub lists SyncError (its values' controller.extraArgs).
  const cond = (name: string, project: string, condition = SYNC_ERROR_CONDITION): Sample => ({ labels: { __name__: ARGOCD_APP_CONDITION.name, namespace: 'argocd', name, project, condition, job: 'argo-cd-argocd-application-controller-metrics' }, value: 1 });
  const window = Number(SYNC_ERROR_WINDOW.replace('m', ''));
  const fired = (series: Sample[]) => firing(alert.expr, window, Array.from({ length: window + 1 }, () => series));

  it('reads only argocd_app_condition and its labels, for the SyncError window; the hub serves it', () => {
    expect(new Set(alert.expr.match(/\b[a-z_]+(?=\{)/g))).toStrictEqual(new Set([ARGOCD_APP_CONDITION.name]));
    for (const sel of alert.expr.match(/\{[^}]*\}/g) as string[]) for (const [, label] of sel.matchAll(/([a-z_]+)(?:=~|!=|=)"/g)) expect(ARGOCD_APP_CONDITION.labels).toContain(label);
    expect(alert.for).toBe(SYNC_ERROR_WINDOW);
    expect(doc(hub, 'values/argo-cd.yaml').controller.extraArgs).toContain(SYNC_ERROR_FLAG);
    expect(hub.find((f) => f.path === 'README.md')!.content).toContain(`\`${FLEET_SYNC_ERROR_ALERT}\` fires after ${SYNC_ERROR_WINDOW} for a managed environment's Application`);
  });

  it("fires for a managed environment's Application and root, naming the environment; not for the hub's own, another condition or an unmanaged prefix", () => {
    const out = fired([cond('fleet-a-cert-manager', 'fleet-a-platform'), cond('fleet-b-root', 'fleet'), cond('cert-manager', 'platform'), cond('fleet-a-api', 'fleet-a-workloads', 'OrphanedResourceWarning'), cond('other-root', 'fleet'), cond('other-x', 'other-platform')]);
    expect(out.at(-2)).toStrictEqual([]);
    expect(out.at(-1)).toStrictEqual([
      { name: 'fleet-a-cert-manager', project: 'fleet-a-platform', environment: 'fleet-a' },
      { name: 'fleet-b-root', project: 'fleet', environment: 'fleet-b' },
    ]);
  });

  it('an environment whose name extends another\'s is told apart (the longer alternative first)', () => {
    const expr = fleetSyncErrorExpr(['fleet-a', 'fleet-a-b']);
    const out = firing(expr, 0, [[cond('fleet-a-b-x', 'fleet-a-b-platform'), cond('fleet-a-y', 'fleet-a-platform')]]);
    expect(out[0]).toStrictEqual([
      { name: 'fleet-a-b-x', project: 'fleet-a-b-platform', environment: 'fleet-a-b' },
      { name: 'fleet-a-y', project: 'fleet-a-platform', environment: 'fleet-a' },
    ]);
  });
});
