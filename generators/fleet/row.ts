/**
 * One environment's row of the fleet matrix (rendered/README.md, ./matrix.ts): its distribution and
 * release, Kubernetes, engine, every chart version, workload images, where its versions are promoted
 * from, and its monthly cost when the SSM lock carries prices. Pure: read from the prepared
 * environment (model and lock), so a row can be kept in the incremental state and reused while the
 * environment's inputs are unchanged (its dates as its tree records them: cli/fleet.ts). Each version has a key (rowVersions): the provenance manifest records since when
 * the tree has carried it under that key (write/since.ts), and the row keeps those dates for the matrix.
 */
import { resolveAddons } from '../catalog/resolve.js';
import { distributionNamed, distributionOf } from '../distributions/registry.js';
import { engineOf } from '../engines/registry.js';
import type { EnvironmentModel } from '../model/types.js';

export interface FleetRow {
  env: string;
  /** The distribution's product name. */
  distribution: string;
  /** Its release keys (`cluster.<key>`) and versions. */
  releases: { label: string; value: string }[];
  kubernetes: string;
  engine: string;
  /** Chart add-ons: name → chart version. */
  charts: Record<string, string>;
  /** Workloads: name → image. */
  images: Record<string, string>;
  /** `promotion.from`, when declared. */
  promotionFrom?: string;
  /** Monthly on-demand cost in USD from the lock's prices; undefined when a price is missing. */
  monthlyCost?: number;
  /** Version key (rowVersions) → the UTC day its rendered tree first carried its value (write/since.ts). */
  since?: Record<string, string>;
}

/** A version the matrix compares, by its key in the provenance manifest's `since`. */
export interface RowVersion {
  key: string;
  /** What the matrix calls it (a release key, `Kubernetes`, a chart or workload name). */
  label: string;
  value: string;
  /** What is compared: an image's tag, else the value. */
  compared: string;
}

const tagOf = (image: string): string => image.replace(/^.*?(?=[:@][^/]*$)/, '').replace(/^:/, '');

/** The row's versions, in the matrix's order: release keys, Kubernetes, charts, then workload images (by name). */
export function rowVersionList(row: FleetRow): RowVersion[] {
  const v = (key: string, label: string, value: string, compared = value): RowVersion => ({ key, label, value, compared });
  return [
    ...row.releases.map((r) => v(`cluster.${r.label}`, r.label, r.value)),
    v('cluster.kubernetesVersion', 'Kubernetes', row.kubernetes),
    ...Object.keys(row.charts).sort().map((n) => v(`addons.${n}.chart.version`, n, row.charts[n]!)),
    ...Object.keys(row.images).sort().map((n) => v(`workloads[name=${n}].image`, n, row.images[n]!, tagOf(row.images[n]!))),
  ];
}

/** Version key → value: what the provenance manifest dates (write/since.ts carryDates). */
export const rowVersions = (row: FleetRow): Record<string, string> => Object.fromEntries(rowVersionList(row).map((x) => [x.key, x.value]));

/** The distribution's release keys (its schema fragment's `release`) with their values in `cluster` of the merged document. */
export function releaseVersions(distribution: string, data: Record<string, unknown>): { key: string; value: string }[] {
  const d = distributionNamed(distribution);
  const cluster = (data.cluster ?? {}) as Record<string, unknown>;
  return Object.keys(d?.schema.release ?? {}).flatMap((key) => (typeof cluster[key] === 'string' ? [{ key, value: cluster[key] as string }] : []));
}

export function fleetRow(model: EnvironmentModel, data: Record<string, unknown>, monthlyCost?: number): FleetRow {
  const d = distributionOf(model);
  const promotion = data.promotion as { from?: unknown } | undefined;
  const promotionFrom = typeof promotion?.from === 'string' ? promotion.from : undefined;
  const charts: Record<string, string> = {};
  for (const a of resolveAddons(model)) if (a.chart) charts[a.name] = a.chart.version;
  const images: Record<string, string> = {};
  for (const w of model.workloads) images[w.name] = w.image;
  return {
    env: model.name,
    distribution: d.title,
    releases: releaseVersions(d.name, data).map((r) => ({ label: r.key, value: r.value })),
    kubernetes: model.cluster.kubernetesVersion,
    engine: engineOf(model).title,
    charts,
    images,
    ...(promotionFrom ? { promotionFrom } : {}),
    ...(monthlyCost !== undefined ? { monthlyCost } : {}),
  };
}

/** What `row` differs from `source` by, in versions (source's value after the arrow), sorted by kind then name. */
export function versionsBehind(row: FleetRow, source: FleetRow): string[] {
  return versionsBehindKeyed(row, source).map((b) => b.text);
}

/** versionsBehind with each difference's version key (the source's date for it is `source.since[key]`). */
export function versionsBehindKeyed(row: FleetRow, source: FleetRow): { key: string; text: string }[] {
  const theirs = new Map(rowVersionList(source).map((x) => [x.key, x]));
  return rowVersionList(row).flatMap((mine) => {
    const t = theirs.get(mine.key);
    return t && t.compared !== mine.compared ? [{ key: mine.key, text: `${mine.label} ${mine.compared} → ${t.compared}` }] : [];
  });
}
