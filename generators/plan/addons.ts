/** Delivery units of the add-ons: one per resolved add-on (catalog entries and third-party charts). */
import type { ResolvedAddon } from '../catalog/resolve.js';
import type { DeliveryUnit } from './types.js';

export const valuesFile = (name: string): string => `values/${name}.yaml`;
export const manifestsDir = (name: string): string => `manifests/${name}`;

export function addonUnit(a: ResolvedAddon): DeliveryUnit {
  return {
    name: a.name,
    kind: 'addon',
    description: a.description,
    tenant: a.catalog ? 'platform' : 'third-party',
    namespace: a.namespace,
    order: a.syncWave,
    chart: a.chart ? { releaseName: a.name, source: a.chart, valuesFile: valuesFile(a.name) } : undefined,
    manifestsDir: a.manifests.length > 0 ? manifestsDir(a.name) : undefined,
    serverSideApply: a.serverSideApply,
    ...(a.driftIgnore.length > 0 ? { driftIgnore: a.driftIgnore } : {}),
    clusterResources: [...new Set(a.clusterResources)].sort(),
    extraNamespaces: a.extraNamespaces,
    podSecurity: a.podSecurity,
    // A part of an add-on (CatalogEntry.parts) lands in the namespace its add-on's unit creates.
    createNamespace: a.partOf === undefined,
    onDelete: a.onDelete,
    bootstrapOrder: a.bootstrapOrder,
    inputs: a.inputs,
  };
}
