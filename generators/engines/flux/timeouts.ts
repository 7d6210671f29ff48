/**
 * How long a Flux Kustomization and the HelmReleases it applies wait: one table, read by the renderer
 * (./objects.ts) and the first-sync check (./motion.ts, motion.flux.timeout-covers-release).
 *
 * When each clock starts (Flux 2.9.0: kustomize-controller v1.9.1, helm-controller v1.6.1):
 * - the Kustomization's: right after it applied its objects, the HelmRelease among them, it waits
 *   `spec.timeout` for every one to be Current (wait: true; fluxcd/kustomize-controller v1.9.1
 *   internal/controller/kustomization_controller.go:511-522 checkHealth after the apply, :1059-1074
 *   WaitForSetWithContext Timeout: obj.GetTimeout(), then Ready=False HealthCheckFailed "health check failed
 *   after …"; api/v1/kustomization_types.go:383-392 GetTimeout: spec.timeout, else interval - 30s, at least 30s);
 * - the release's: only once its chart is there. helm-controller first waits for the chart's source artifact
 *   (Ready=False SourceNotReady, requeued every --requeue-dependency, 30s: fluxcd/helm-controller v1.6.1
 *   internal/controller/helmrelease_controller.go:298-305, main.go:122), then installs with
 *   `install.timeout`, else `spec.timeout`, else 5m (api/v2/helmrelease_types.go:633-638, 1584-1589;
 *   internal/action/install.go:90), waiting that long for its objects.
 * So with equal timeouts a release that installs within its own window still fails the Kustomization once
 * (an error event to the Alert) when its chart took a while to fetch, and recovers at the next retryInterval.
 *
 * Remediation retries: while a failed install has retries left the release is Reconciling
 * (ProgressingWithRetry, internal/reconcile/atomic_release.go:236-241), which kstatus counts InProgress, so the
 * Kustomization keeps waiting through them; the rendered install retries are unlimited
 * (objects.ts failureHandling), so no timeout covers them all. The Kustomization's timeout covers one attempt
 * and the chart's fetch: a first install that fails (pods that cannot schedule for the release's timeout) is
 * reported once, as it should be, and the release goes on retrying (motion.flux.unlimited-retries says so).
 */

/** The release's timeout (HelmRelease spec.timeout): 15 minutes, as long as the runbooks wait for an add-on, long enough for a chart's rollout. */
export const RELEASE_TIMEOUT_MINUTES = 15;
/**
 * What the Kustomization allows before the release's clock starts: the HelmRepository/OCIRepository and
 * HelmChart reconciled and the chart fetched (source-controller), helm-controller's 30s requeue while the
 * source is not ready, and the release's own reconcile picking it up.
 */
export const CHART_LEAD_MINUTES = 5;
/** The Kustomization's timeout: the release's one attempt plus the chart's lead time. */
export const KUSTOMIZATION_TIMEOUT_MINUTES = RELEASE_TIMEOUT_MINUTES + CHART_LEAD_MINUTES;

export const RELEASE_TIMEOUT = `${RELEASE_TIMEOUT_MINUTES}m`;
export const KUSTOMIZATION_TIMEOUT = `${KUSTOMIZATION_TIMEOUT_MINUTES}m`;

/**
 * How long a Kustomization waits for each kind it applies: its timeout is the longest of its objects' (renderer:
 * ./objects.ts kustomization; check: ./motion.ts motion.flux.timeout-follows-objects). With wait: true
 * kustomize-controller health-checks every object it applied with kstatus (fluxcd/kustomize-controller v1.9.1
 * internal/controller/kustomization_controller.go:1008-1016 the change set's objects, :1059-1066
 * WaitForSetWithContext, polled every 5s, FailFast: true by default, main.go:273-276: an object kstatus counts
 * Failed ends the wait at once). kstatus (fluxcd/cli-utils v1.2.1 pkg/kstatus/status/status.go:102-139 Compute):
 * the generic rules first (generic.go:22-67: deletion, observedGeneration, Reconciling/Stalled conditions), then
 * the built-in kinds' own rules (core.go:22-38 legacyTypes), then a Ready condition, and Current when none says
 * otherwise. `spec.timeout` bounds only that wait here (and a WaitForTermination deletion, :1239; the fetch, build
 * and apply messages quote it, :324, 385, 466, without a deadline), so a shorter one reports a failure sooner.
 * Keys are kstatus's: `<group>/<Kind>`, `<Kind>` for the core group (core.go:57-66).
 */
export interface KindWait {
  kinds: readonly string[];
  minutes: number;
  why: string;
}
const KSTATUS = 'fluxcd/cli-utils v1.2.1 pkg/kstatus/status';
/** The Deployment controller's default spec.progressDeadlineSeconds (600): the rendered Deployments leave it unset. */
export const ROLLOUT_MINUTES = 10;
/** Kinds counted Current once they exist: the API server's acknowledgement and kstatus's first 5s poll; 2m leaves room for a slow API server. */
export const AT_ONCE_MINUTES = 2;
/** An External Secrets object judged by healthCheckExprs (./objects.ts ESO_HEALTH_EXPRS): ESO's first reconcile. */
export const SECRET_SYNC_MINUTES = 5;
export const KIND_WAITS: readonly KindWait[] = [
  {
    kinds: ['helm.toolkit.fluxcd.io/HelmRelease'],
    minutes: KUSTOMIZATION_TIMEOUT_MINUTES,
    why: `the release's install or upgrade (${RELEASE_TIMEOUT}) once its chart is fetched (${CHART_LEAD_MINUTES}m): Reconciling until then, Ready once installed (kstatus's generic rules, ${KSTATUS}/generic.go:50-67; the clocks above)`,
  },
  {
    kinds: ['source.toolkit.fluxcd.io/HelmRepository', 'source.toolkit.fluxcd.io/OCIRepository'],
    minutes: CHART_LEAD_MINUTES,
    why: 'source-controller fetching the index or artifact: Ready condition (the chart\'s lead time above)',
  },
  {
    kinds: ['apps/Deployment', 'apps/StatefulSet', 'apps/DaemonSet'],
    minutes: ROLLOUT_MINUTES,
    why: `a rollout: every replica updated and available (${KSTATUS}/core.go:83-152, 158-250, 305-356); a Deployment without progress for progressDeadlineSeconds (default 600s, unset here) is ProgressDeadlineExceeded, which kstatus counts Failed (core.go:182-191) and fail-fast reports at once, so a stuck rollout is reported after ${ROLLOUT_MINUTES}m either way; the StatefulSet and DaemonSet, which have no deadline, get the same`,
  },
  {
    kinds: ['external-secrets.io/ExternalSecret', 'external-secrets.io/ClusterSecretStore', 'external-secrets.io/SecretStore'],
    minutes: SECRET_SYNC_MINUTES,
    why: 'ESO\'s first reconcile (its controller is Ready before: dependsOn): Current once Ready=True (and synced at its generation), Failed at Ready=False (a missing parameter, a refused role), reported at once (healthCheckExprs, fluxcd/pkg runtime/v0.110.1 runtime/cel/status_evaluator.go:95-125)',
  },
  {
    kinds: [
      'ConfigMap', 'Secret', 'batch/CronJob', 'policy/PodDisruptionBudget', 'Service',
      'Namespace', 'ServiceAccount', 'rbac.authorization.k8s.io/Role', 'rbac.authorization.k8s.io/RoleBinding',
      'rbac.authorization.k8s.io/ClusterRole', 'rbac.authorization.k8s.io/ClusterRoleBinding', 'networking.k8s.io/NetworkPolicy',
      'networking.k8s.io/Ingress', 'storage.k8s.io/StorageClass', 'node.k8s.io/RuntimeClass', 'autoscaling/HorizontalPodAutoscaler',
    ],
    minutes: AT_ONCE_MINUTES,
    why: `Current once they exist: ConfigMap, Secret, CronJob and PodDisruptionBudget always (${KSTATUS}/core.go:22-38, 69-75, 519-526), a Service unless a LoadBalancer without its IP (core.go:581-599; none is rendered), the others have no Ready, Reconciling or Stalled condition (status.go:102-139)`,
  },
  {
    // The three custom kinds the examples' Kustomizations applied at the unknown kind's 20m (flux-alerts, flux-sync-alerts,
    // the upgrade Plans): none reports a condition kstatus reads, so each is Current once it exists.
    kinds: ['notification.toolkit.fluxcd.io/Alert', 'notification.toolkit.fluxcd.io/Provider', 'monitoring.coreos.com/PodMonitor', 'monitoring.coreos.com/PrometheusRule', 'upgrade.cattle.io/Plan'],
    minutes: AT_ONCE_MINUTES,
    why: `Current once they exist: no status.observedGeneration and no Ready, Reconciling or Stalled condition for kstatus's generic rules (${KSTATUS}/generic.go:22-67, status.go:102-139). Alert and Provider v1beta3 have no status at all (fluxcd/notification-controller@b3e4bf2a api/v1beta3/alert_types.go: Alert is Spec only; @d0074708 provider_types.go: Provider likewise); PodMonitor and PrometheusRule have at most status.bindings, each binding with its own conditions (prometheus-operator/prometheus-operator pkg/apis/monitoring/v1 ConfigResourceStatus); a Plan's status.conditions are LatestResolved and the like, never Ready (rancher/system-upgrade-controller@c518c82e pkg/apis/upgrade.cattle.io/v1/types.go PlanStatus)`,
  },
];
/** A kind the table does not know (a custom resource: its controller's Ready condition, if any, decides): the longest wait, as before. */
export const UNKNOWN_KIND_MINUTES = KUSTOMIZATION_TIMEOUT_MINUTES;

/** kstatus's key of an object's kind: `<group>/<Kind>`, or `<Kind>` for the core group. */
export const kindKey = (apiVersion: string, kind: string): string => (apiVersion.includes('/') ? `${apiVersion.slice(0, apiVersion.lastIndexOf('/'))}/${kind}` : kind);
const WAIT_OF = new Map(KIND_WAITS.flatMap((w) => w.kinds.map((k) => [k, w.minutes] as const)));
/** Minutes a Kustomization allows for one kind. */
export const kindWaitMinutes = (key: string): number => WAIT_OF.get(key) ?? UNKNOWN_KIND_MINUTES;
/** The Kustomization's timeout in minutes for the kinds (kindKey) it applies: the longest; at once for none. */
export const timeoutMinutesFor = (keys: Iterable<string>): number => Math.max(AT_ONCE_MINUTES, ...[...keys].map(kindWaitMinutes));
/** helm-controller's default when neither install.timeout nor spec.timeout is set (api/v2/helmrelease_types.go:1584-1589). */
export const HELM_DEFAULT_TIMEOUT_MS = 300_000;

const GO_UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
/** A Go duration (metav1.Duration: `15m`, `1h30m`, `90s`) in milliseconds; undefined when it is not one. */
export function goDurationMs(text: unknown): number | undefined {
  if (typeof text !== 'string' || !/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(text)) return undefined;
  let ms = 0;
  for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(n) * GO_UNIT_MS[unit!]!;
  return ms;
}

/** kustomize-controller's effective timeout: spec.timeout, else interval - 30s, at least 30s (api/v1/kustomization_types.go:383-392). */
export function kustomizationTimeoutMs(spec: { timeout?: unknown; interval?: unknown }): number | undefined {
  const t = spec.timeout !== undefined ? goDurationMs(spec.timeout) : (goDurationMs(spec.interval) ?? Number.NaN) - 30_000;
  if (t === undefined || Number.isNaN(t)) return undefined;
  return Math.max(t, 30_000);
}

/** helm-controller's install (or upgrade) timeout: the action's own, else spec.timeout, else 5m (api/v2/helmrelease_types.go:633-638, 914-919, 1584-1589). */
export function releaseTimeoutMs(spec: { timeout?: unknown; install?: unknown; upgrade?: unknown }): number | undefined {
  const own = (a: unknown): unknown => (a !== null && typeof a === 'object' ? (a as { timeout?: unknown }).timeout : undefined);
  const base = spec.timeout !== undefined ? goDurationMs(spec.timeout) : HELM_DEFAULT_TIMEOUT_MS;
  const actions = [own(spec.install), own(spec.upgrade)].map((t) => (t !== undefined ? goDurationMs(t) : base));
  if (actions.some((t) => t === undefined)) return undefined;
  return Math.max(...(actions as number[]));
}
