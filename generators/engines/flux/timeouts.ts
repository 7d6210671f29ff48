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
 * reported once, as it should be, and the release goes on retrying.
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
