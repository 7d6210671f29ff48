/**
 * What an object inside a unit's manifests asks of the engine that applies it (its order within the
 * unit, applying it before its kind's CRD exists, staying when the unit goes), as annotations.
 */
import { engines } from '../engines/registry.js';

/** What an object asks of the engine applying it. */
export interface ManifestIntent {
  /** Its order among the unit's objects (lower first; default 0). */
  order?: number;
  /** It may be applied while its kind's CRD is still coming (with the chart of the same unit). */
  crdLater?: boolean;
  /** It stays when its unit is deleted. */
  keep?: boolean;
}

/** Every registered engine's annotations for the intent (an engine ignores the others'). */
export function deliveryAnnotations(intent: ManifestIntent): Record<string, string> {
  return Object.assign({}, ...engines().map((e) => e.manifestAnnotations?.(intent) ?? {}));
}

/**
 * The engine keeps these objects when their unit is deleted (cascade): a Namespace takes every
 * object in it (PVCs, Secrets) with it, and its baseline policies guard whatever still runs there.
 * Deleting an emptied namespace is a deliberate `kubectl delete namespace`.
 */
export const keepOnUnitDeletion = (): Record<string, string> => deliveryAnnotations({ keep: true });
