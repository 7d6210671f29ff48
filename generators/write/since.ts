/**
 * Since when an environment's rendered tree has carried each of its promoted versions (the distribution's release
 * keys, Kubernetes, every chart, every workload image: fleet/row.ts rowVersions), recorded in its provenance manifest
 * (`since` of rendered/<env>/.provenance.json) and shown by the fleet matrix ("behind `staging` by … since
 * 2026-12-08"). Git cannot say it at synth time: the tree and its manifest are committed in the same commit. So the
 * date is carried forward: a key whose value the committed manifest records unchanged keeps the committed date; a new
 * or changed value (or a manifest without dates) gets today's (lib/source-date.ts). An unchanged environment renders
 * byte-identical on any day, so `check` reports nothing for a date carried forward.
 */
export interface VersionSince {
  /** The value the tree carries (a chart version, an image, a release). */
  value: string;
  /** The UTC day (YYYY-MM-DD) the tree first carried it. */
  date: string;
}

/** Version key (`cluster.kubernetesVersion`, `addons.cert-manager.chart.version`, `workloads[name=api].image`) → since when. */
export type VersionDates = Record<string, VersionSince>;

/** What synth knows of the dates before rendering: the committed manifest's (if any) and today. */
export interface DatesInput {
  committed?: VersionDates;
  today: string;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Each version of `versions` with its date: the committed one while the value is the same, else `today`. */
export function carryDates(committed: VersionDates | undefined, versions: Readonly<Record<string, string>>, today: string): VersionDates {
  const out: VersionDates = {};
  for (const key of Object.keys(versions).sort()) {
    const value = versions[key]!;
    const before = committed?.[key];
    out[key] = { value, date: before && before.value === value && DAY.test(before.date) ? before.date : today };
  }
  return out;
}

/** A manifest's `since` when it is one (else undefined: an older manifest, or not an object of dated values). */
export function datesOf(since: unknown): VersionDates | undefined {
  if (typeof since !== 'object' || since === null || Array.isArray(since)) return undefined;
  const out: VersionDates = {};
  for (const [k, v] of Object.entries(since as Record<string, unknown>)) {
    const e = v as Partial<VersionSince> | null;
    if (typeof e !== 'object' || e === null || typeof e.value !== 'string' || typeof e.date !== 'string') return undefined;
    out[k] = { value: e.value, date: e.date };
  }
  return out;
}
