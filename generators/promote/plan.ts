/**
 * A promotion from one environment to another: which versions move (those that differ, narrowed by
 * `--only`), which differ but stay (left out by `--only`, or only one side has the item), and which
 * parts of the two environments differ on purpose (everything that is not a version). Pure: merged
 * documents in, data out.
 */
import { isCatalogAddon } from '../catalog/index.js';
import { promotableItems, type PromotableItem } from './items.js';

export interface Move {
  item: PromotableItem;
  from: string | undefined;
  to: string | undefined;
}

export interface PromotionPlan {
  moves: Move[];
  /** Versions that differ but `--only` leaves out. */
  excluded: Move[];
  /** Items only the source has (e.g. a workload the target does not run), and only the target has. */
  onlySource: PromotableItem[];
  onlyTarget: PromotableItem[];
  /** Top-level (and `cluster.*`) parts that differ beyond versions: environment-specific, never moved. */
  ownSettings: string[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every `--only` word the two environments know: kinds, the distribution's name, add-on and workload names. */
export function onlyWords(...docs: Record<string, unknown>[]): Set<string> {
  return new Set(docs.flatMap((d) => promotableItems(d).flatMap((i) => i.groups)));
}

/**
 * Whether each side runs an add-on, its catalog defaults included (e.g. nvidia-device-plugin only with a GPU pool):
 * the caller asks the environments' models. A catalog chart one side does not mention runs there at the catalog's
 * pin only if that side runs it at all.
 */
export interface AddonsRun {
  source: (addon: string) => boolean;
  target: (addon: string) => boolean;
}

/** Without the models: an add-on runs unless the document disables it (`enabled: false`). */
const runsByDocument = (doc: Record<string, unknown>) => (addon: string): boolean => {
  const a = isRecord(doc.addons) ? doc.addons[addon] : undefined;
  return !(isRecord(a) && a.enabled === false);
};

export function planPromotion(source: Record<string, unknown>, target: Record<string, unknown>, only?: readonly string[], runs: AddonsRun = { source: runsByDocument(source), target: runsByDocument(target) }): PromotionPlan {
  const src = new Map(promotableItems(source).map((i) => [i.id, i]));
  const dst = new Map(promotableItems(target).map((i) => [i.id, i]));
  const selected = (i: PromotableItem): boolean => !only || only.length === 0 || i.groups.some((g) => only.includes(g));
  const plan: PromotionPlan = { moves: [], excluded: [], onlySource: [], onlyTarget: [], ownSettings: [] };
  for (const [id, s] of src) {
    const t = dst.get(id);
    // A catalog chart the source pins and the target runs at the catalog's pin: the target pins it too (one the
    // target does not run stays the source's own).
    if (!t) {
      if (s.kind === 'chart' && s.value !== undefined && isCatalogAddon(s.name!) && runs.target(s.name!)) (selected(s) ? plan.moves : plan.excluded).push({ item: s, from: undefined, to: s.value });
      else if (s.kind !== 'chart' || s.value !== undefined) plan.onlySource.push(s);
      continue;
    }
    if (t.value === s.value || s.value === undefined && t.kind !== 'chart') continue;
    (selected(t) ? plan.moves : plan.excluded).push({ item: t, from: t.value, to: s.value });
  }
  for (const [id, t] of dst) {
    if (src.has(id)) continue;
    // A catalog chart the target pins while the source runs the catalog's pin: the target's pin goes.
    // A chart outside the catalog (a third-party add-on only the target runs), or a catalog chart the source does
    // not run (disabled, or off by default there), has no pin the source ran: it is the target's own, like the
    // source-side loop above treats the source's.
    if (t.kind === 'chart' && t.value !== undefined && isCatalogAddon(t.name!) && runs.source(t.name!)) (selected(t) ? plan.moves : plan.excluded).push({ item: t, from: t.value, to: undefined });
    else if (t.kind !== 'chart' || t.value !== undefined) plan.onlyTarget.push(t);
  }
  plan.ownSettings = ownSettings(source, target);
  return plan;
}

/** Keys of the merged documents (cluster's one level deeper) whose values differ, leaving out versions. */
function ownSettings(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const skip = new Set(['name', 'extends', 'description', 'promotion', 'addons', 'workloads']);
  const out: string[] = [];
  const same = (x: unknown, y: unknown): boolean => JSON.stringify(x) === JSON.stringify(y);
  for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    if (skip.has(k)) continue;
    if (k === 'cluster' && isRecord(a.cluster) && isRecord(b.cluster)) {
      const releaseKeys = new Set(promotableItems(b).filter((i) => i.kind === 'distribution' || i.kind === 'kubernetes').map((i) => (i.kind === 'kubernetes' ? 'kubernetesVersion' : i.id.slice('cluster.'.length))));
      for (const c of [...new Set([...Object.keys(a.cluster), ...Object.keys(b.cluster)])].sort()) if (!releaseKeys.has(c) && !same(a.cluster[c], b.cluster[c])) out.push(`cluster.${c}`);
    } else if (!same(a[k], b[k])) out.push(k);
  }
  // Add-on settings and workloads beyond their versions.
  const strip = (d: Record<string, unknown>): unknown => ({
    addons: Object.fromEntries(Object.entries(isRecord(d.addons) ? d.addons : {}).map(([n, v]) => [n, isRecord(v) ? { ...v, chart: isRecord(v.chart) && Object.keys(v.chart).some((k) => k !== 'version') ? { ...v.chart, version: undefined } : undefined } : v])),
    workloads: (Array.isArray(d.workloads) ? d.workloads : []).map((w) => (isRecord(w) ? { ...w, image: undefined } : w)),
  });
  const sa = strip(a) as { addons: Record<string, unknown>; workloads: unknown[] };
  const sb = strip(b) as { addons: Record<string, unknown>; workloads: unknown[] };
  for (const n of [...new Set([...Object.keys(sa.addons), ...Object.keys(sb.addons)])].sort()) if (!same(sa.addons[n], sb.addons[n])) out.push(`addons.${n} (settings)`);
  const byName = (ws: unknown[]): Map<string, unknown> => new Map(ws.filter(isRecord).map((w) => [String(w.name), w]));
  const wa = byName(sa.workloads);
  const wb = byName(sb.workloads);
  for (const n of [...new Set([...wa.keys(), ...wb.keys()])].sort()) if (wa.has(n) && wb.has(n) && !same(wa.get(n), wb.get(n))) out.push(`workloads[${n}] (settings)`);
  return out;
}
