/**
 * Every Flux environment that runs kube-prometheus-stack alerts on its own Kustomizations and HelmReleases: one not Ready
 * for SYNC_ALERT_WINDOW. A first install retries without limit (objects.ts INSTALL_RETRIES_UNLIMITED), so a chart that
 * can never install fails forever; an upgrade whose retries are spent is Stalled until the next change or
 * `flux reconcile hr --reset` (helm-controller v1.6.1 internal/controller/helmrelease_controller.go:442-446); and the
 * flux-alerts unit's error events (objects.ts fluxAlerts) reach Alertmanager for flux-system's objects only (multitenant:
 * --no-cross-namespace-refs). This reads the state of every one of them, in every namespace.
 *
 * What it reads: Flux's controllers no longer export an object's Ready condition (their monitoring setup was deprecated in
 * v2.1 for kube-state-metrics' custom resource state, which kube-prometheus-stack would need configured and allowed to
 * list Flux's kinds: fluxcd/flux2 v2.9.0 manifests/monitoring/README.md:1-21). The Flux Operator exports it, as FLUX_RESOURCE_INFO, for every Flux object the FluxReport lists, refreshed with the report (every
 * 5 minutes by default: docs/guides/instance/instance-monitoring.md:35, 185 @ v0.58.1). Scraped by the PodMonitor
 * below from the operator's pods (the chart's Deployment: container port `http-metrics` 8080, pod labels
 * app.kubernetes.io/name and instance = chart name and release: controlplaneio-fluxcd/charts
 * charts/flux-operator/templates/deployment.yaml and _helpers.tpl selectorLabels; the release is the add-on's name,
 * addons/flux-operator.ts). Prometheus gets in: with `cluster.networkPolicy: true` the operator installs flux2's
 * `allow-scraping` policy in flux-system, which admits every namespace on TCP 8080 to every pod of it
 * (flux-operator v0.58.1 config/data/flux/v2.9.0/policies.yaml:16-29); the IMDS denial and the allow-egress patch
 * (objects.ts fluxInstancePatches) change egress only.
 */
import type { K8sObject } from '../../catalog/types.js';
import type { EnvironmentModel } from '../../model/types.js';
import { ABSENT_WINDOW, absentRule, badStateExpr, prometheusRule, runsPrometheus, warningRule, type AlertRule } from '../../render/alerts.js';
import { fluxOperator } from './addons/flux-operator.js';
import { FLUX_NAMESPACE } from './objects.js';

/**
 * The metric, as flux-operator v0.58.1 exports it (internal/reporter/metrics.go:119, 143-155 the gauge and its labels:
 * uid, kind, name, exported_namespace, ready, reason, suspended, then revision, url, ref, source_name, path;
 * :165-187 ready and reason from the Ready condition, "Unknown" and "" without one; :190-212 suspended "True"/"False"
 * from spec.suspend, revision from status.lastAttemptedRevision; value 1; internal/reporter/reconcilers.go:100-104 every
 * object of each Flux kind in every namespace, :159-163 the whole gauge reset and set again at each report, so a deleted
 * object's series ends).
 */
export const FLUX_RESOURCE_INFO = {
  name: 'flux_resource_info',
  labels: ['uid', 'kind', 'name', 'exported_namespace', 'ready', 'reason', 'suspended', 'revision', 'url', 'ref', 'source_name', 'path'],
  source: 'controlplaneio-fluxcd/flux-operator v0.58.1 internal/reporter/metrics.go:119, 143-212; internal/reporter/reconcilers.go:100-104, 159-163',
} as const;

/** The Kustomization of the rule and its PodMonitor: after kube-prometheus-stack, whose chart brings their CRDs. */
export const SYNC_ALERTS_UNIT = 'flux-sync-alerts';
export const SYNC_ALERT = 'FluxObjectNotReady';
/** Fires when flux_resource_info is missing (the operator down or not scraped): then SYNC_ALERT cannot fire. */
export const METRICS_ABSENT_ALERT = 'FluxMetricsAbsent';
/**
 * How long a Kustomization or HelmRelease may be not Ready: past a Kustomization's and a release's timeout (20m, 15m: ./timeouts.ts) and a few
 * retries (every 2 and 5 minutes), and the metric's 5 minutes between reports.
 */
export const SYNC_ALERT_WINDOW = '1h';
export const SYNC_RUNBOOK = 'docs/how-to/troubleshoot-a-failed-sync.md, "An alert on a sync that does not end"';

/** Whether the environment's Flux objects are watched: it runs kube-prometheus-stack. */
export const syncAlerts = (m: EnvironmentModel): boolean => runsPrometheus(m);

/** One series per Kustomization or HelmRelease, in any namespace, not Ready (False, or Unknown: reconciling) and not suspended. */
export function syncAlertExpr(): string {
  return badStateExpr(FLUX_RESOURCE_INFO.name, ['kind=~"Kustomization|HelmRelease"', 'suspended="False"'], ['kind', 'name', 'exported_namespace'], ['ready!="True"']);
}

/**
 * The flux CLI's resource words are the kinds in lower case (`flux get|reconcile kustomization|helmrelease`: fluxcd/flux2
 * v2.9.0 cmd/flux/get_kustomization.go:40-41, get_helmrelease.go:38-39 aliases; reconcile_helmrelease.go:56-57 --force,
 * --reset): `toLower` is one of Prometheus' template functions (docs, configuration/template_reference, "Strings").
 */
export function syncAlertRule(m: EnvironmentModel): AlertRule {
  const obj = '{{ $labels.kind | toLower }} {{ $labels.name }}';
  const ns = '-n {{ $labels.exported_namespace }}';
  return warningRule(SYNC_ALERT, syncAlertExpr(), SYNC_ALERT_WINDOW, {
    summary: `The {{ $labels.kind }} {{ $labels.exported_namespace }}/{{ $labels.name }} of ${m.name} has not been Ready for ${SYNC_ALERT_WINDOW}`,
    description:
      `The {{ $labels.kind }} {{ $labels.exported_namespace }}/{{ $labels.name }} has not been Ready for over ${SYNC_ALERT_WINDOW}: it keeps failing (a first install retries ` +
      'without limit), waits on something that does not get ready (a pool that has not joined, a dependency, a Pod that never starts), or its upgrade ' +
      `retries are spent (Stalled). Why: flux ${ns} get ${obj}; kubectl ${ns} describe ${obj}; flux ${ns} events --for {{ $labels.kind }}/{{ $labels.name }}. ` +
      `Once the cause is fixed (a commit, or the pool joined): flux ${ns} reconcile ${obj} (a Stalled HelmRelease: add --reset).`,
    runbook: SYNC_RUNBOOK,
  });
}

/**
 * A source that cannot fetch (a Git credential expired or rotated out of SSM, a deleted branch, an unreachable host)
 * leaves every Kustomization Ready at the last revision it applied, so SYNC_ALERT stays silent while nothing new is
 * applied. GitRepository and OCIRepository only: both are reconciled and report Ready (fluxcd/source-controller
 * docs/spec/v1/gitrepositories.md and ocirepositories.md, "Conditions"), while a HelmRepository of type `oci` is "a data
 * container … that does not produce an Artifact" (docs/spec/v1/helmrepositories.md, opening): not reconciled, no Ready
 * condition, so flux_resource_info reads it as ready="Unknown" (metrics.go:165-187 above) and would fire for ever. The flux CLI's words for them are `sources git` / `source git` and `sources oci` / `source oci`
 * (fluxcd/flux2 v2.9.0 cmd/flux/get_source_git.go, reconcile_source_git.go, get_source_oci.go).
 */
export const SOURCE_ALERT = 'FluxSourceNotReady';
const SOURCE_KINDS = ['GitRepository', 'OCIRepository'] as const;

export function sourceAlertExpr(): string {
  return badStateExpr(FLUX_RESOURCE_INFO.name, [`kind=~"${SOURCE_KINDS.join('|')}"`, 'suspended="False"'], ['kind', 'name', 'exported_namespace'], ['ready!="True"']);
}

export function sourceAlertRule(m: EnvironmentModel): AlertRule {
  const ns = '-n {{ $labels.exported_namespace }}';
  const word = '{{ if eq $labels.kind "GitRepository" }}git{{ else }}oci{{ end }}';
  return warningRule(SOURCE_ALERT, sourceAlertExpr(), SYNC_ALERT_WINDOW, {
    summary: `The {{ $labels.kind }} {{ $labels.exported_namespace }}/{{ $labels.name }} of ${m.name} has not been Ready for ${SYNC_ALERT_WINDOW}: nothing new is applied from it`,
    description:
      `The {{ $labels.kind }} {{ $labels.exported_namespace }}/{{ $labels.name }} has not fetched for over ${SYNC_ALERT_WINDOW} (its credentials, its URL or branch, the host): ` +
      'the Kustomizations reading it stay Ready at the last revision they applied, so no commit since reaches the cluster. ' +
      `Why: flux ${ns} get sources ${word} {{ $labels.name }}; kubectl ${ns} describe {{ $labels.kind | toLower }} {{ $labels.name }}; flux ${ns} events --for {{ $labels.kind }}/{{ $labels.name }}. ` +
      `Once fixed: flux ${ns} reconcile source ${word} {{ $labels.name }}.`,
    runbook: SYNC_RUNBOOK,
  });
}

export function metricsAbsentRule(m: EnvironmentModel): AlertRule {
  return absentRule(METRICS_ABSENT_ALERT, FLUX_RESOURCE_INFO.name, {
    summary: `Prometheus has no ${FLUX_RESOURCE_INFO.name} from ${m.name}'s Flux Operator: no alert on its Kustomizations and HelmReleases can fire`,
    description:
      `No ${FLUX_RESOURCE_INFO.name} series for ${ABSENT_WINDOW}: the Flux Operator is down, has not reported yet (every 5 minutes), or Prometheus does not scrape it. ` +
      `kubectl -n ${FLUX_NAMESPACE} get pods -l app.kubernetes.io/name=${fluxOperator.name}; kubectl -n ${FLUX_NAMESPACE} get fluxreport flux; ` +
      `kubectl -n ${FLUX_NAMESPACE} get podmonitor ${fluxOperator.name}; then Prometheus' targets (its /targets page) for that PodMonitor.`,
    runbook: SYNC_RUNBOOK,
  });
}

/** The PodMonitor and the PrometheusRule (both in flux-system). */
export function syncAlertObjects(m: EnvironmentModel): K8sObject[] {
  const podMonitor: K8sObject = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PodMonitor',
    metadata: { name: 'flux-operator', namespace: FLUX_NAMESPACE },
    spec: {
      podMetricsEndpoints: [{ port: 'http-metrics', path: '/metrics', interval: '60s' }],
      namespaceSelector: { matchNames: [FLUX_NAMESPACE] },
      selector: { matchLabels: { 'app.kubernetes.io/name': fluxOperator.name, 'app.kubernetes.io/instance': fluxOperator.name } },
    },
  };
  return [podMonitor, prometheusRule({ name: 'flux-sync-alerts', namespace: FLUX_NAMESPACE }, 'flux-sync', [syncAlertRule(m), metricsAbsentRule(m), sourceAlertRule(m)])];
}
