/**
 * One environment's row of the fleet matrix (rendered/README.md, ./matrix.ts): its distribution and
 * release, Kubernetes, engine, every chart version, workload images, where its versions are promoted
 * from, and its monthly cost when the SSM lock carries prices. Pure: read from the prepared
 * environment (model and lock), so a row can be kept in the incremental state and reused while the
 * environment's inputs are unchanged.
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
}

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
  const out: string[] = [];
  const cmp = (label: string, mine: string | undefined, theirs: string | undefined): void => {
    if (mine !== undefined && theirs !== undefined && mine !== theirs) out.push(`${label} ${mine} → ${theirs}`);
  };
  for (const r of row.releases) cmp(r.label, r.value, source.releases.find((s) => s.label === r.label)?.value);
  cmp('Kubernetes', row.kubernetes, source.kubernetes);
  for (const name of Object.keys(row.charts).sort()) cmp(name, row.charts[name], source.charts[name]);
  const tag = (image: string | undefined): string | undefined => image?.replace(/^.*?(?=[:@][^/]*$)/, '').replace(/^:/, '');
  for (const name of Object.keys(row.images).sort()) cmp(name, tag(row.images[name]), tag(source.images[name]));
  return out;
}
