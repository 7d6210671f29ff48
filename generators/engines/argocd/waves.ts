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
import { CLUSTER_REGISTRY_STORE } from './hub.js';

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
  const layers = unitLayers(g);
  const values = [...layers.values()];
  const store = g.steps.find((s) => s.provides.includes(cap.clusterSecretStore(CLUSTER_REGISTRY_STORE)))?.unit?.name;
  // The hub's cluster ExternalSecrets need the store: their wave comes after its unit's.
  const last = Math.max(0, ...values, ...(model.fleet.manages.length + model.fleet.decommission.length > 0 && store !== undefined ? [layers.get(store)! + 1] : []));
  return { app: (u) => layers.get(u) ?? 0, first: Math.min(0, ...values), last };
}
