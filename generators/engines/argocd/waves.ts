/**
 * Sync waves from the delivery graph (plan/graph.ts): an Application's wave is its unit's layer (as
 * late as its consumers allow, after everything it needs), so the root waits for a wave only where a
 * later Application needs it. The root Application and the hub's cluster Secrets are in the last wave,
 * which gitops-engine never waits on (argoproj/argo-cd v3.4.4 gitops-engine/pkg/sync/sync_context.go:688-697:
 * "if it is the last phase/wave ... then we are successful EVEN if those objects subsequently
 * degrades"): the root is never gated on its own health (its own task is a sync task of its own
 * operation, controller/sync.go:307-339, unlike its health aggregation, controller/health.go:50-54).
 */
import type { EnvironmentModel } from '../../model/types.js';
import { cap } from '../../plan/needs.js';
import { deliveryGraph, unitLayers } from '../../plan/graph.js';
import { CLUSTER_REGISTRY_STORE, CLUSTER_SECRET_GROUP, registered } from './hub.js';
import { syncAlerts } from './sync-alerts.js';
import { fleetAlerts } from './fleet-alerts.js';
import type { AppSpec } from './spec.js';

/** The API group of kube-prometheus-stack's CRDs: the root's ServiceMonitor, PodMonitor and PrometheusRule. */
const MONITORING = 'monitoring.coreos.com';

/**
 * What the root's own objects (besides Applications and AppProjects, whose CRDs the bootstrap's Argo CD installed) need
 * from the Applications it applies: the CRDs of its custom resources and the hub's cluster registry store. A custom
 * resource applied in the same wave as the Application bringing its CRD fails: the dry run is skipped
 * (SkipDryRunOnMissingResource, argo-cd v3.4.4 gitops-engine/pkg/sync/sync_context.go:1047-1064), but the apply itself
 * finds no resource ("the server could not find the requested resource", :1667-1698, kinds in order, one kind at a time), which fails the root's operation
 * ("one or more objects failed to apply", :669-690) until a retry after the child synced (objects.ts RETRY). The
 * root waits for an Application of an earlier wave until it is Healthy (the health Lua, addons/argo-cd.ts
 * APPLICATION_HEALTH_LUA: Healthy only once Synced), so one wave later is enough (motion.ts crdWave checks it).
 */
export function rootObjectNeeds(model: EnvironmentModel): string[] {
  const needs = new Set<string>();
  if (syncAlerts(model)) needs.add(cap.crd(MONITORING, 'ServiceMonitor')).add(cap.crd(MONITORING, 'PrometheusRule'));
  if (fleetAlerts(model)) needs.add(cap.crd(MONITORING, 'PodMonitor')).add(cap.crd(MONITORING, 'PrometheusRule'));
  if (registered(model).length > 0) needs.add(cap.crd(CLUSTER_SECRET_GROUP, 'ExternalSecret')).add(cap.clusterSecretStore(CLUSTER_REGISTRY_STORE));
  return [...needs];
}

export interface AppWaves {
  /** The wave of a unit's Application. */
  app(unit: string): number;
  /** The first wave (a managed root's AppProjects go one before it). */
  readonly first: number;
  /** The last wave: the root itself and what may stay Degraded (the hub's cluster Secrets). */
  readonly last: number;
}

/** Once per model, as its delivery graph: the renderer, its objects and the README ask for it a dozen times per environment. */
const waves = new WeakMap<EnvironmentModel, AppWaves>();

export function appWaves(model: EnvironmentModel): AppWaves {
  let w = waves.get(model);
  if (!w) waves.set(model, (w = computeWaves(model)));
  return w;
}

function computeWaves(model: EnvironmentModel): AppWaves {
  const g = deliveryGraph(model);
  // The root's own objects go with the last layer: what they need is in a layer before it (rootObjectNeeds).
  const layers = unitLayers(g, rootObjectNeeds(model));
  const values = [...layers.values()];
  return { app: (u) => layers.get(u) ?? 0, first: Math.min(0, ...values), last: Math.max(0, ...values) };
}

/** Application (unit) names per sync wave, lowest first, each wave's names sorted: the order the root applies them in (automated sync), or the runbooks sync them in (manual). */
export function namesByWave(specs: readonly AppSpec[]): { wave: number; names: string[] }[] {
  const by = new Map<number, string[]>();
  for (const s of specs) by.set(s.syncWave, [...(by.get(s.syncWave) ?? []), s.name]);
  return [...by.entries()].sort(([a], [b]) => a - b).map(([wave, names]) => ({ wave, names: names.sort() }));
}
