/**
 * Helpers for the catalog's chart facts (CatalogEntry.facts): reading a release's merged values and
 * naming what its templates create. The facts themselves live with each entry, citing the template.
 */
import { cap, type Need, type PodPlacement } from '../plan/needs.js';
import type { Toleration } from '../lib/scheduling.js';

type Obj = Record<string, unknown>;
export const isMap = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The value at a dotted path of merged values (undefined when absent). */
export function valueAt(values: unknown, path: string): unknown {
  let cur: unknown = values;
  for (const k of path.split('.')) cur = isMap(cur) ? cur[k] : undefined;
  return cur;
}

export const stringAt = (values: unknown, path: string): string | undefined => {
  const v = valueAt(values, path);
  return typeof v === 'string' && v !== '' ? v : undefined;
};

/** CRDs of one group. */
export const crds = (group: string, kinds: readonly string[]): string[] => kinds.map((k) => cap.crd(group, k));

/** The chart creates Services: with a Service admission webhook that fails closed, it is applied before that webhook exists or after it serves. */
export const createsServices = (chart: string): Need => ({ what: cap.webhook('', 'Service'), why: `chart ${chart}: its Services`, mode: 'webhook' });

/** Pods placed by `<prefix>tolerations`, `<prefix>nodeSelector` and `<prefix>affinity` of the values (a chart's usual keys). */
export function placementAt(values: unknown, who: string, prefix = '', fallback?: { tolerations?: Toleration[]; nodeSelector?: Record<string, string> }): PodPlacement {
  const tol = valueAt(values, `${prefix}tolerations`);
  const sel = valueAt(values, `${prefix}nodeSelector`);
  const aff = valueAt(values, `${prefix}affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`);
  const tolerations = Array.isArray(tol) && tol.length > 0 ? (tol as Toleration[]) : (fallback?.tolerations ?? []);
  const nodeSelector = isMap(sel) && Object.keys(sel).length > 0 ? (sel as Record<string, string>) : fallback?.nodeSelector;
  return { who, tolerations, ...(nodeSelector ? { nodeSelector } : {}), ...(Array.isArray(aff) ? { terms: aff as PodPlacement['terms'] } : {}) };
}
