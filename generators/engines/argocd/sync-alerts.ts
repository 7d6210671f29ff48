/**
 * Every environment whose Argo CD runs here (standalone or a hub, not a managed environment: its Applications live on
 * the hub, whose FleetEnvironmentNotSyncedHealthy covers its root) and which runs kube-prometheus-stack alerts on its own
 * Applications: one not Synced or not Healthy for SYNC_ALERT_WINDOW. With `retry.limit: -1` (objects.ts RETRY) a sync
 * that keeps failing is retried forever and shows nowhere else; a sync the controller terminated at its timeout
 * (addons/argo-cd.ts SYNC_TIMEOUT_SECONDS) or whose commit failed is not retried at all (argo-cd v3.4.4
 * controller/appcontroller.go:1538 `!terminating`, :2253-2257 "failed previous sync attempt"), and the Application stays
 * OutOfSync, or Degraded, until the next commit or a manual sync.
 *
 * What it reads: argocd_app_info (fleet-alerts.ts ARGOCD_APP_INFO, argo-cd v3.4.4 controller/metrics/metrics.go:65-69,
 * 423-451), one series per Application with its sync and health status. No metric carries the phase of the last
 * operation; a Failed one shows as OutOfSync (what it did not apply) or Degraded (a task that failed its health, and the
 * parent's view of it: addons/argo-cd.ts APPLICATION_HEALTH_LUA reports an Application whose operation Failed or Errored
 * as Degraded). The controller serves it with `controller.metrics.enabled` (argo-cd chart 10.1.1 values.yaml:1029-1054,
 * off by default) and the ServiceMonitor below has Prometheus scrape it. Prometheus gets in: the chart's NetworkPolicy
 * of the controller (global.networkPolicy.create, default true, values.yaml:119-123; defaultDenyIngress false) admits
 * every namespace on the container port `metrics` (templates/argocd-application-controller/networkpolicy.yaml), the
 * metrics Service's targetPort (metrics.yaml:29-31), and the IMDS denial in Argo CD's namespace is egress only.
 */
import type { EnvironmentModel } from '../../model/types.js';
import type { RenderedFile } from '../../render/types.js';
import type { Rule } from '../../validate/rules.js';
import { ABSENT_WINDOW, absentRule, badStateExpr, PROMETHEUS_INPUT, prometheusRule, runsPrometheus, warningRule, type AlertRule } from '../../render/alerts.js';
import { toYaml } from '../../lib/yaml.js';
import { ENVIRONMENT_LABEL, IN_CLUSTER, rootObjectAnnotations, type ArgoContext } from './objects.js';
import { FLEET_PROJECT, registered } from './hub.js';

/**
 * The metric the rules read (these and the hub's, fleet-alerts.ts), as argo-cd v3.4.4 exports it (controller/metrics/metrics.go):
 * labels :60, 65-69 (namespace, name, project, then autosync_enabled, repo, dest_server, dest_namespace, sync_status,
 * health_status, operation); values :423-451 (always 1; an empty sync or health status is reported as Unknown;
 * operation is "sync" while a sync runs, "delete" while deleted); dest_server the destination's server, a name resolved
 * (:395-413).
 */
export const ARGOCD_APP_INFO = {
  name: 'argocd_app_info',
  labels: ['namespace', 'name', 'project', 'autosync_enabled', 'repo', 'dest_server', 'dest_namespace', 'sync_status', 'health_status', 'operation'],
  source: 'argoproj/argo-cd v3.4.4 controller/metrics/metrics.go:60, 65-69, 395-413, 423-451',
} as const;

/** The argo-cd add-on's Helm release name (its Application's helm.releaseName: the add-on's name). */
const ARGO_CD_RELEASE = 'argo-cd';
/** The ServiceMonitor of the application controller's metrics (read by these rules and, on a hub, the fleet's). */
export const ARGOCD_METRICS_PATH = 'apps/argocd-metrics.yaml';
export const SYNC_ALERTS_PATH = 'apps/sync-alerts.yaml';
export const SYNC_ALERT = 'ArgoCDApplicationNotSyncedHealthy';
/** Fires when argocd_app_info is missing: then neither this alert nor a hub's fleet alert can fire. */
export const METRICS_ABSENT_ALERT = 'ArgoCDMetricsAbsent';
/**
 * How long an Application may be not Synced or not Healthy: a failing sync is retried at most 5 minutes apart (RETRY),
 * a first sync's root waits on every wave within an hour (the controller terminates it then), and a pool that joins
 * later than that is worth a look (the root's terminated sync needs `argocd app sync`).
 */
export const SYNC_ALERT_WINDOW = '1h';
/** Where the alert's runbook is: the how-to's section on a sync that does not end. */
export const SYNC_RUNBOOK = 'docs/how-to/troubleshoot-a-failed-sync.md, "An alert on a sync that does not end"';

/** Whether the environment's own Argo CD is watched: it runs Argo CD (not a managed environment) and kube-prometheus-stack. */
export const syncAlerts = (m: EnvironmentModel): boolean => !m.fleet.hub && runsPrometheus(m);

/**
 * The Application condition an automated sync leaves when it will not sync a revision (argo-cd v3.4.4
 * pkg/apis/application/v1alpha1/types.go:1870-1871): set or cleared at every refresh from autoSync's answer
 * (controller/appcontroller.go:1866-1878) — "Failed last sync attempt to <revision>" once that revision's sync ended
 * Failed (a terminated sync, a commit's failed sync; automated sync never starts it again: :2253-2257), auto-sync refused
 * (:2299), or its sync could not be started (:2318). Never while a sync (its retries included) runs: autoSync skips then
 * and the condition is cleared (:2194-2196).
 */
export const SYNC_ERROR_CONDITION = 'SyncError';

/**
 * argocd_app_condition: per Application, one series per condition type listed by the controller flag that it has, the
 * number of them; without the flag the metric does not exist (argo-cd v3.4.4 controller/metrics/metrics.go:178-185,
 * 462-473; labels the default ones, namespace, name, project (:60), and condition). The flag has no environment variable
 * nor argocd-cmd-params-cm key (cmd/argocd-application-controller/commands/argocd_application_controller.go:281) and the
 * chart no value for it (its controller.metrics values cover applicationLabels only): it goes through
 * controller.extraArgs (argoproj/argo-helm argo-cd-10.1.1 charts/argo-cd/values.yaml:846-847,
 * templates/argocd-application-controller/statefulset.yaml:76-78).
 */
export const ARGOCD_APP_CONDITION = {
  name: 'argocd_app_condition',
  labels: ['namespace', 'name', 'project', 'condition'],
  flag: '--metrics-application-conditions',
  source: 'argoproj/argo-cd v3.4.4 cmd/argocd-application-controller/commands/argocd_application_controller.go:281, controller/metrics/metrics.go:60, 178-185, 462-473',
} as const;

/** The controller argument that makes it export argocd_app_condition for SyncError. */
export const SYNC_ERROR_FLAG = `${ARGOCD_APP_CONDITION.flag}=${SYNC_ERROR_CONDITION}`;

/** What the argo-cd values add for it: the controller's metrics Service (the ServiceMonitor is rendered here) and the SyncError condition metric. */
export const controllerMetricsValues = (m: EnvironmentModel): Record<string, unknown> =>
  syncAlerts(m) ? { controller: { metrics: { enabled: true }, extraArgs: [SYNC_ERROR_FLAG] } } : {};

/**
 * Each setting of the condition flag in a list of controller arguments: its index and the condition types it lists.
 * pflag takes `--flag=a,b` or `--flag` followed by `a,b` (a StringSlice: the value is one CSV record, and a flag given
 * again appends to the first one's list: spf13/pflag string_slice.go Set, readAsCSV).
 */
export function conditionFlags(args: readonly unknown[]): { index: number; conditions: string[] }[] {
  const out: { index: number; conditions: string[] }[] = [];
  args.forEach((a, index) => {
    if (typeof a !== 'string') return;
    const value = a === ARGOCD_APP_CONDITION.flag ? args[index + 1] : a.startsWith(`${ARGOCD_APP_CONDITION.flag}=`) ? a.slice(ARGOCD_APP_CONDITION.flag.length + 1) : undefined;
    if (value === undefined) return;
    out.push({ index, conditions: typeof value === 'string' && value !== '' ? value.split(',') : [] });
  });
  return out;
}

const hasSyncError = (args: readonly unknown[]): boolean => conditionFlags(args).some((f) => f.conditions.includes(SYNC_ERROR_CONDITION));

/**
 * The argo-cd values once the environment's are merged over the catalog's: Helm (and the merge before it) replaces a
 * list whole, so an environment's own `controller.extraArgs` would drop SYNC_ERROR_FLAG and silence SYNC_ERROR_ALERT
 * (ArgoCDMetricsAbsent reads argocd_app_info, which stays). The flag is appended to the environment's list unless a
 * setting of the flag there already lists SyncError; a setting that does not is refused (syncErrorFlagRule).
 */
export function keepSyncErrorFlag(values: Record<string, unknown>, m: EnvironmentModel): Record<string, unknown> {
  if (!syncAlerts(m)) return values;
  const controller = isRecord(values.controller) ? values.controller : {};
  const args = Array.isArray(controller.extraArgs) ? (controller.extraArgs as unknown[]) : [];
  if (hasSyncError(args)) return values;
  return { ...values, controller: { ...controller, extraArgs: [...args, SYNC_ERROR_FLAG] } };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * An environment's `controller.extraArgs` that sets the condition flag without SyncError, where the SyncError alert is
 * rendered: the generator's own setting would then be a second one (pflag appends it), so the result would no longer be
 * the list the environment wrote; refused, with the list to write instead.
 */
export const syncErrorFlagRule: Rule = ({ input }, report) => {
  if ((input.gitops ?? 'argocd') !== 'argocd' || input.addons?.[PROMETHEUS_INPUT[1]]?.enabled === false) return;
  const controller = input.addons?.[ARGO_CD_RELEASE]?.values?.controller;
  const args = isRecord(controller) && Array.isArray(controller.extraArgs) ? (controller.extraArgs as unknown[]) : [];
  if (hasSyncError(args)) return;
  for (const f of conditionFlags(args))
    report('argocd-sync-error-flag', ['addons', ARGO_CD_RELEASE, 'values', 'controller', 'extraArgs', f.index], `${ARGOCD_APP_CONDITION.flag} lists ${f.conditions.length > 0 ? f.conditions.join(',') : 'no condition'} without ${SYNC_ERROR_CONDITION}: alert ${SYNC_ERROR_ALERT} reads ${ARGOCD_APP_CONDITION.name}{condition="${SYNC_ERROR_CONDITION}"}, which the controller exports only for the types listed`, {
      hint: `list it: ${ARGOCD_APP_CONDITION.flag}=${[...f.conditions, SYNC_ERROR_CONDITION].join(',')}; or drop the flag: the generator adds ${SYNC_ERROR_FLAG} to the list`,
    });
};
export const controllerMetricsInputs = [PROMETHEUS_INPUT] as const;

/**
 * One series per Application of this environment's own (the hub's managed roots and their Applications excluded: project
 * fleet, and destinations other than this cluster) that is not Synced (only where automated sync is on: with manual
 * sync, OutOfSync is a change waiting for its operator) or not Healthy.
 */
export function syncAlertExpr(): string {
  return badStateExpr(ARGOCD_APP_INFO.name, [`project!="${FLEET_PROJECT}"`, `dest_server="${IN_CLUSTER}"`], ['name', 'project'], ['autosync_enabled="true", sync_status!="Synced"', 'health_status!="Healthy"']);
}

export function syncAlertRule(ctx: ArgoContext): AlertRule {
  const ns = ctx.argoNamespace;
  return warningRule(SYNC_ALERT, syncAlertExpr(), SYNC_ALERT_WINDOW, {
    summary: `The Application {{ $labels.name }} of ${ctx.model.name} has not been Synced and Healthy for ${SYNC_ALERT_WINDOW}`,
    description:
      `{{ $labels.name }} (project {{ $labels.project }}) has been OutOfSync or not Healthy for over ${SYNC_ALERT_WINDOW}: its sync keeps failing and is retried ` +
      'every 5 minutes at most, it waits on something that does not turn Healthy (a pool that has not joined, a Pod that never gets ready), or its last ' +
      "sync ended Failed and is not retried (terminated at the controller's timeout, an hour after it began). " +
      `Why: argocd app get {{ $labels.name }} (or kubectl -n ${ns} get application {{ $labels.name }} -o yaml: status.operationState, status.conditions). ` +
      `Once the cause is gone, if the operation ended Failed: argocd app sync {{ $labels.name }}; a sync still waiting on a broken commit: argocd app terminate-op {{ $labels.name }}, then push the fix.`,
    runbook: SYNC_RUNBOOK,
  });
}

export const SYNC_ERROR_ALERT = 'ArgoCDApplicationSyncError';
/** A condition re-evaluated at every refresh (every 2 to 3 minutes by default: cmd/argocd-application-controller/commands/argocd_application_controller.go:45-47): a few refreshes with it. */
export const SYNC_ERROR_WINDOW = '10m';

/**
 * One series per Application of this environment's own with the SyncError condition (a hub's managed roots, project
 * fleet, and the managed environments' Applications, whose projects carry their environment's prefix, left out: the
 * metric has no destination label).
 */
export function syncErrorExpr(managed: readonly string[] = []): string {
  const selector = [`condition="${SYNC_ERROR_CONDITION}"`, `project!="${FLEET_PROJECT}"`, ...(managed.length > 0 ? [`project!~"(${managed.join('|')})-.+"`] : [])];
  return `max by (name, project) (${ARGOCD_APP_CONDITION.name}{${selector.join(', ')}}) > 0`;
}

export function syncErrorRule(ctx: ArgoContext): AlertRule {
  const ns = ctx.argoNamespace;
  return warningRule(SYNC_ERROR_ALERT, syncErrorExpr(registered(ctx.model)), SYNC_ERROR_WINDOW, {
    summary: `The Application {{ $labels.name }} of ${ctx.model.name} is not synced automatically (${SYNC_ERROR_CONDITION})`,
    description:
      `{{ $labels.name }} (project {{ $labels.project }}) has the ${SYNC_ERROR_CONDITION} condition: its last sync ended Failed (terminated at the controller's timeout, or a task failed) ` +
      'and automated sync does not try that revision again, or automated sync refused to start. ' +
      `Why: kubectl -n ${ns} get application {{ $labels.name }} -o jsonpath='{.status.conditions}' (and status.operationState). ` +
      `Once the cause is gone: argocd app sync {{ $labels.name }}, or push a fix (a new revision is synced automatically).`,
    runbook: SYNC_RUNBOOK,
  });
}

export function metricsAbsentRule(ctx: ArgoContext): AlertRule {
  const ns = ctx.argoNamespace;
  return absentRule(METRICS_ABSENT_ALERT, ARGOCD_APP_INFO.name, {
    summary: `Prometheus has no ${ARGOCD_APP_INFO.name} from ${ctx.model.name}'s Argo CD: no alert on its Applications can fire`,
    description:
      `No ${ARGOCD_APP_INFO.name} series for ${ABSENT_WINDOW}: the application controller is down, does not serve its metrics (controller.metrics.enabled), ` +
      `or Prometheus does not scrape them. kubectl -n ${ns} get pods -l app.kubernetes.io/name=argocd-application-controller; ` +
      `kubectl -n ${ns} get service -l app.kubernetes.io/name=argocd-metrics; kubectl -n ${ns} get servicemonitor argocd-application-controller; ` +
      "then Prometheus' targets (its /targets page) for that ServiceMonitor.",
    runbook: SYNC_RUNBOOK,
  });
}

/** What the root's monitoring files (these and the hub's) share: their inputs, the root's objects' annotations (./objects.ts rootObjectAnnotations), the environment label. */
export function monitoringMeta(ctx: ArgoContext): { inputs: RenderedFile['inputs']; annotations: Record<string, string>; labels: Record<string, string> } {
  return {
    inputs: [['argocd'], ['name'], [...PROMETHEUS_INPUT], ['addons', 'argo-cd']],
    annotations: rootObjectAnnotations(ctx.model),
    labels: { [ENVIRONMENT_LABEL]: ctx.model.name },
  };
}

/** The API group of the root's monitoring objects: the manual runbook's first root sync leaves it out (./readme.ts). */
export const MONITORING_GROUP = 'monitoring.coreos.com';

export function syncAlertFiles(ctx: ArgoContext): RenderedFile[] {
  const m = ctx.model;
  if (!syncAlerts(m)) return [];
  const { inputs, annotations, labels } = monitoringMeta(ctx);
  // The chart's metrics Service, by the labels the chart gives it (argoproj/argo-helm charts/argo-cd/templates/_common.tpl:51-73
  // @ argo-cd-10.1.1, argo-cd.labels → argo-cd.selectorLabels: name `<nameOverride argocd>-metrics`, instance the release,
  // component `application-controller`, values.yaml:6, 763; port http-metrics, templates/argocd-application-controller/
  // metrics.yaml:1-8, 29-31). Not the chart's ServiceMonitor (serviceMonitor.enabled): it would put a monitoring.coreos.com
  // kind into the argo-cd release, which the bootstrap installs with helm before kube-prometheus-stack's CRDs exist.
  const serviceMonitor = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: { name: 'argocd-application-controller', namespace: ctx.argoNamespace, labels, annotations },
    spec: {
      endpoints: [{ port: 'http-metrics', path: '/metrics', interval: '30s' }],
      namespaceSelector: { matchNames: [ctx.argoNamespace] },
      selector: { matchLabels: { 'app.kubernetes.io/name': 'argocd-metrics', 'app.kubernetes.io/instance': ARGO_CD_RELEASE, 'app.kubernetes.io/component': 'application-controller' } },
    },
  };
  const rule = prometheusRule({ name: 'sync-alerts', namespace: ctx.argoNamespace, labels, annotations }, 'sync', [syncAlertRule(ctx), metricsAbsentRule(ctx), syncErrorRule(ctx)]);
  return [
    { path: ARGOCD_METRICS_PATH, content: toYaml(serviceMonitor), inputs },
    { path: SYNC_ALERTS_PATH, content: toYaml(rule), inputs },
  ];
}
