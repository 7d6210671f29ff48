/**
 * A hub's alert on its managed environments: a root (an Application of the ApplicationSet, project `fleet`) not Synced
 * or not Healthy for FLEET_ALERT_WINDOW. That is what a stalled RollingSync stage looks like (the ApplicationSet
 * controller moves to the next step only once every root of a step is Healthy and Synced: argo-cd v3.4.4
 * applicationset/controllers/applicationset_controller.go:997-1044, 1066-1109), and a root whose sync failed or waits on
 * an unreachable cluster (Unknown).
 *
 * What can fire: Argo CD's application controller exports argocd_app_info (ARGOCD_APP_INFO); the hub serves and scrapes it
 * as every environment running its own Argo CD and kube-prometheus-stack does (sync-alerts.ts: controller.metrics.enabled
 * and the ServiceMonitor ARGOCD_METRICS_PATH, in the root's last wave). kube-prometheus-stack's Prometheus selects every
 * ServiceMonitor, PodMonitor and rule (catalog/kube-prometheus-stack.ts: *SelectorNilUsesHelmValues false; the namespace
 * selectors default to all namespaces). The rule files are built as every rule file is (render/alerts.ts).
 *
 * And one on a managed cluster's token: FLEET_TOKEN_ALERT, from External Secrets' metric of the cluster ExternalSecrets'
 * Ready condition (EXTERNALSECRET_STATUS_CONDITION; see tokenAlertExpr), scraped by a PodMonitor (FLEET_SECRET_METRICS_PATH).
 */
import type { EnvironmentModel } from '../../model/types.js';
import type { RenderedFile } from '../../render/types.js';
import { toYaml } from '../../lib/yaml.js';
import { badStateExpr, prometheusRule, runsPrometheus, warningRule } from '../../render/alerts.js';
import type { ArgoContext } from './objects.js';
import { ARGOCD_APP_CONDITION, ARGOCD_APP_INFO, monitoringMeta, SYNC_ERROR_CONDITION, SYNC_ERROR_WINDOW, SYNC_RUNBOOK } from './sync-alerts.js';
import { FLEET_PROJECT, HUB_REGISTER_SCRIPT, HUB_TOKEN_WARNING_DAYS, registered, siblingDir } from './hub.js';
import { externalSecrets } from '../../catalog/external-secrets.js';

export const FLEET_ALERTS_PATH = 'apps/fleet-alerts.yaml';
export const FLEET_ALERT = 'FleetEnvironmentNotSyncedHealthy';
/** How long a managed root may be not Synced or not Healthy: a RollingSync stage's roots normally sync within it, and a root's sync is terminated after an hour (addons/argo-cd.ts SYNC_TIMEOUT_SECONDS). */
export const FLEET_ALERT_WINDOW = '1h';

/**
 * The SyncError alert of the managed environments (the hub's ArgoCDApplicationSyncError leaves them out): the same metric
 * and condition, read for the Applications the hub runs for them.
 */
export const FLEET_SYNC_ERROR_ALERT = 'FleetApplicationSyncError';

export const FLEET_SECRET_METRICS_PATH = 'apps/fleet-secret-metrics.yaml';
export const FLEET_TOKEN_ALERT = 'FleetClusterTokenExpiring';
/** How long a cluster ExternalSecret may stay not Ready before the alert: past a transient SSM error, far inside the 14 days' warning. */
export const FLEET_TOKEN_ALERT_WINDOW = '1h';

/**
 * The metric the token alert reads, as External Secrets v2.9.0 (the catalog's chart 2.9.0) exports it: docs/api/metrics.md:26
 * ("externalsecret_status_condition | Gauge | The status condition of a specific External Secret"); labels name, namespace
 * (the ExternalSecret's), condition, status (pkg/controllers/metrics/labels.go:49-50; the app_kubernetes_io_* ones only
 * with extendedMetricLabels, chart values.yaml:123, default false); value 1 on the condition's current status and 0 on the
 * opposite one (pkg/controllers/externalsecret/util.go:44-66 SetExternalSecretCondition,
 * esmetrics/esmetrics.go:89-172 UpdateExternalSecretCondition: "Toggle opposite Status to 0").
 */
export const EXTERNALSECRET_STATUS_CONDITION = {
  name: 'externalsecret_status_condition',
  labels: ['name', 'namespace', 'condition', 'status'],
  source: 'external-secrets/external-secrets helm-chart-2.9.0 (cc5bfbc) docs/api/metrics.md:26, pkg/controllers/metrics/labels.go:49-50, pkg/controllers/externalsecret/util.go:44-66',
} as const;

export { ARGOCD_APP_INFO };

/** Whether a hub renders the alert: it manages environments and runs kube-prometheus-stack (enabled by default). */
export const fleetAlerts = (m: EnvironmentModel): boolean => m.fleet.manages.length > 0 && runsPrometheus(m);

/**
 * One series per managed root that is not Synced or not Healthy, labelled with its environment. `max by (name, project)`
 * drops the labels that change while it stays so (sync_status, health_status, operation), so `for` keeps counting across
 * them; the environment is the root's name without `-root` (the ApplicationSet's template names it `<environment>-root`).
 */
export function fleetAlertExpr(): string {
  const root = badStateExpr(ARGOCD_APP_INFO.name, [`project="${FLEET_PROJECT}"`, 'name=~".+-root"'], ['name', 'project'], ['sync_status!="Synced"', 'health_status!="Healthy"']);
  return `label_replace(${root}, "environment", "$1", "name", "(.+)-root")`;
}

/**
 * One series per Application the hub runs for a managed environment with the SyncError condition (sync-alerts.ts
 * SYNC_ERROR_CONDITION, ARGOCD_APP_CONDITION: labels namespace, name, project, condition; no destination), labelled with
 * its environment: its Applications by their AppProject (`<env>-<project>`, managed.ts), its root by its name
 * (`<env>-root`, project fleet). The environments are alternatives longest first: a regex alternation takes the first
 * that matches (leftmost-first, Go regexp as Prometheus uses it; anchored), so `fleet-a-b-platform` is fleet-a-b's, not
 * fleet-a's. The hub's own Applications match neither.
 */
export function fleetSyncErrorExpr(managed: readonly string[]): string {
  const envs = `(${[...managed].sort((a, b) => b.length - a.length || a.localeCompare(b)).join('|')})`;
  const metric = (selector: string) => `max by (name, project) (${ARGOCD_APP_CONDITION.name}{condition="${SYNC_ERROR_CONDITION}", ${selector}}) > 0`;
  return (
    `label_replace(${metric(`project=~"${envs}-.+"`)}, "environment", "$1", "project", "${envs}-.+") or ` +
    `label_replace(${metric(`project="${FLEET_PROJECT}", name=~"${envs}-root"`)}, "environment", "$1", "name", "${envs}-root")`
  );
}

/**
 * One series per managed environment whose cluster ExternalSecret (hub.ts clusterSecret, `cluster-<env>` in Argo CD's
 * namespace) is not Ready, labelled with its environment. From HUB_TOKEN_WARNING_DAYS before the token's expiresAt its
 * template fails (hub.ts expiryCheck), so External Secrets sets Ready False (reason SecretSyncedError, the message naming
 * register.sh); a parameter it cannot read (not registered yet, or gone) does the same. Either way the cluster Secret is no
 * longer refreshed. External Secrets exports no reason label, so the alert names both.
 */
export function tokenAlertExpr(argoNamespace: string): string {
  const m = EXTERNALSECRET_STATUS_CONDITION.name;
  return `label_replace(max by (name) (${m}{namespace="${argoNamespace}", name=~"cluster-.+", condition="Ready", status="False"} == 1), "environment", "$1", "name", "cluster-(.+)")`;
}

export function fleetAlertFiles(ctx: ArgoContext): RenderedFile[] {
  const m = ctx.model;
  if (!fleetAlerts(m)) return [];
  const { inputs, annotations, labels } = monitoringMeta(ctx);
  // External Secrets' controller pods (chart 2.9.0: selectorLabels name and instance, _helpers.tpl:141-144; release = the
  // add-on's name; the container port `metrics`, deployment.yaml:162-165). A PodMonitor, not the chart's ServiceMonitor
  // (serviceMonitor.enabled): that would put a monitoring.coreos.com kind into the external-secrets release, which every
  // environment installs before kube-prometheus-stack's CRDs exist. honorLabels: the metric's own `namespace` (the
  // ExternalSecret's) wins over the pod's target label (Prometheus honor_labels; otherwise exported_namespace).
  const esoNamespace = m.addons.find((a) => a.name === externalSecrets.name)?.namespace ?? externalSecrets.namespace;
  const podMonitor = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PodMonitor',
    metadata: { name: 'external-secrets-controller', namespace: ctx.argoNamespace, labels, annotations },
    spec: {
      podMetricsEndpoints: [{ port: 'metrics', path: '/metrics', interval: '30s', honorLabels: true }],
      namespaceSelector: { matchNames: [esoNamespace] },
      selector: { matchLabels: { 'app.kubernetes.io/name': externalSecrets.name, 'app.kubernetes.io/instance': externalSecrets.name } },
    },
  };
  const register = `${siblingDir(m, '{{ $labels.environment }}')}/${HUB_REGISTER_SCRIPT}`;
  const rule = prometheusRule({ name: 'fleet-alerts', namespace: ctx.argoNamespace, labels, annotations }, 'fleet', [
    warningRule(FLEET_ALERT, fleetAlertExpr(), FLEET_ALERT_WINDOW, {
      summary: `The hub ${m.name}'s root of {{ $labels.environment }} has not been Synced and Healthy for ${FLEET_ALERT_WINDOW}`,
      description: `{{ $labels.name }} (project ${FLEET_PROJECT}) on the hub ${m.name} is OutOfSync, or not Healthy (Progressing, Degraded, Missing or Unknown: the hub cannot reach the cluster), for over ${FLEET_ALERT_WINDOW}. With argocd.rollingSync its stage holds every later stage until it is Synced and Healthy. kubectl -n ${ctx.argoNamespace} get application {{ $labels.name }}`,
      runbook: `${siblingDir(m, '{{ $labels.environment }}')}/README.md, "Check on the hub"`,
    }),
    warningRule(FLEET_TOKEN_ALERT, tokenAlertExpr(ctx.argoNamespace), FLEET_TOKEN_ALERT_WINDOW, {
      summary: `The hub ${m.name}'s token for {{ $labels.environment }} expires within ${HUB_TOKEN_WARNING_DAYS} days, or its cluster Secret cannot be refreshed`,
      description: `The ExternalSecret {{ $labels.name }} (namespace ${ctx.argoNamespace}) on the hub ${m.name} has not been Ready for over ${FLEET_TOKEN_ALERT_WINDOW}: its config's expiresAt is less than ${HUB_TOKEN_WARNING_DAYS} days away, or its SSM parameter cannot be read. The cluster Secret keeps its last token until it expires; then the hub cannot reach {{ $labels.environment }}. Its message says which: kubectl -n ${ctx.argoNamespace} get externalsecret {{ $labels.name }}. Rotate the token: ${register} with {{ $labels.environment }}'s kubeconfig.`,
      runbook: `${siblingDir(m, '{{ $labels.environment }}')}/README.md, "Bootstrap and join the hub"`,
    }),
    warningRule(FLEET_SYNC_ERROR_ALERT, fleetSyncErrorExpr(registered(m)), SYNC_ERROR_WINDOW, {
      summary: `The hub ${m.name}'s Application {{ $labels.name }} of {{ $labels.environment }} is not synced automatically (${SYNC_ERROR_CONDITION})`,
      description:
        `{{ $labels.name }} (project {{ $labels.project }}) on the hub ${m.name}, deploying {{ $labels.environment }}, has the ${SYNC_ERROR_CONDITION} condition: its last sync ended Failed ` +
        '(terminated at the controller\'s timeout, or a task failed: the cluster unreachable is one cause) and automated sync does not try that revision again, or automated sync refused to start. ' +
        `Why: kubectl -n ${ctx.argoNamespace} get application {{ $labels.name }} -o jsonpath='{.status.conditions}' (and status.operationState). ` +
        'Once the cause is gone: argocd app sync {{ $labels.name }}, or push a fix (a new revision is synced automatically).',
      runbook: SYNC_RUNBOOK,
    }),
  ]);
  return [
    { path: FLEET_SECRET_METRICS_PATH, content: toYaml(podMonitor), inputs: [...(inputs ?? []), ['addons', externalSecrets.name]] },
    { path: FLEET_ALERTS_PATH, content: toYaml(rule), inputs },
  ];
}
