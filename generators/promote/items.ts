/**
 * What promotion moves between environments: versions only — Kubernetes, the distribution's release
 * keys (its schema fragment's `release`), chart versions an environment pins (`addons.<name>.chart.version`)
 * and workload image tags. Everything else in an environment is its own (sizes, counts, endpoints,
 * accounts, values) and never moves. Pure: read from merged environment documents.
 */
import { distributionNamed } from '../distributions/registry.js';

export type ItemKind = 'kubernetes' | 'distribution' | 'chart' | 'image';

export interface PromotableItem {
  /** Stable identity across environments, e.g. `kubernetes`, `cluster.<releaseKey>`, `chart <name>`, `image <workload>`. */
  id: string;
  kind: ItemKind;
  /** The add-on's or workload's name (chart and image items). */
  name?: string;
  /** What `--only` selects it by. */
  groups: string[];
  /** The version (an image's tag or digest); undefined: not pinned here (a chart at the catalog's pin). */
  value: string | undefined;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An image reference's tag and digest part: `1.4.2`, `@sha256:…` or `1.4.2@sha256:…` ('' when it has neither). */
export function imageVersion(image: string): string {
  const at = image.indexOf('@');
  const name = at >= 0 ? image.slice(0, at) : image;
  const colon = name.lastIndexOf(':');
  return (colon > name.lastIndexOf('/') ? name.slice(colon + 1) : '') + (at >= 0 ? image.slice(at) : '');
}

/** `image` with its tag and digest replaced by `version` (as imageVersion returns it): the repository stays the environment's. */
export function withImageVersion(image: string, version: string): string {
  const at = image.indexOf('@');
  const name = at >= 0 ? image.slice(0, at) : image;
  const colon = name.lastIndexOf(':');
  const repo = colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
  return version.startsWith('@') ? `${repo}${version}` : `${repo}:${version}`;
}

export function promotableItems(data: Record<string, unknown>): PromotableItem[] {
  const out: PromotableItem[] = [];
  const cluster = isRecord(data.cluster) ? data.cluster : {};
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  out.push({ id: 'kubernetes', kind: 'kubernetes', groups: ['kubernetes'], value: str(cluster.kubernetesVersion) });
  const distribution = str(cluster.distribution);
  const d = distributionNamed(distribution);
  for (const key of Object.keys(d?.schema.release ?? {}).sort()) out.push({ id: `cluster.${key}`, kind: 'distribution', groups: ['distribution', d!.name], value: str(cluster[key]) });
  const addons = isRecord(data.addons) ? data.addons : {};
  for (const name of Object.keys(addons).sort()) {
    const a = addons[name];
    if (isRecord(a) && a.enabled !== false) out.push({ id: `chart ${name}`, kind: 'chart', name, groups: ['charts', name], value: isRecord(a.chart) ? str(a.chart.version) : undefined });
  }
  for (const w of Array.isArray(data.workloads) ? data.workloads : []) {
    if (isRecord(w) && typeof w.name === 'string' && typeof w.image === 'string') out.push({ id: `image ${w.name}`, kind: 'image', name: w.name, groups: ['images', w.name], value: imageVersion(w.image) });
  }
  return out;
}

