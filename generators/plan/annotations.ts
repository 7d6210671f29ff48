/**
 * What an object inside a unit's manifests asks of the engine that applies it (its order within the
 * unit, applying it before its kind's CRD exists, staying when the unit goes), as annotations.
 */
import { engineOf } from '../engines/registry.js';
import type { EnvironmentModel } from '../model/types.js';

/** What an object asks of the engine applying it. */
export interface ManifestIntent {
  /** Its order among the unit's objects (lower first; default 0). */
  order?: number;
  /** It may be applied while its kind's CRD is still coming (with the chart of the same unit). */
  crdLater?: boolean;
  /** It stays when its unit is deleted. */
  keep?: boolean;
}

/** The environment's engine's annotations for the intent (no other engine's: an object carries only what its engine reads). */
export function deliveryAnnotations(model: Pick<EnvironmentModel, 'gitops'>, intent: ManifestIntent): Record<string, string> {
  return engineOf(model).manifestAnnotations?.(intent) ?? {};
}

/**
 * The engine keeps these objects when their unit is deleted (cascade): a Namespace takes every
 * object in it (PVCs, Secrets) with it, and its baseline policies guard whatever still runs there.
 * Deleting an emptied namespace is a deliberate `kubectl delete namespace`.
 */
export const keepOnUnitDeletion = (model: Pick<EnvironmentModel, 'gitops'>): Record<string, string> => deliveryAnnotations(model, { keep: true });
