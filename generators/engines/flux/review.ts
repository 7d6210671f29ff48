/**
 * What the review comment's lead reads off Flux's objects (EngineReview): the chart a HelmRelease
 * installs (`spec.chart.spec.chart` at `version`, into `targetNamespace`), and for an `oci://` chart
 * the OCIRepository's artifact (`spec.url`'s last segment at `spec.ref.tag`, the exact chart version;
 * the HelmRelease then only names it by `chartRef`). Cluster-scoped permissions are ClusterRoles and
 * bindings the core reads itself.
 *
 * Consequences of a changed Kustomization (fluxcd/kustomize-controller v1.7 docs/spec/v1/kustomizations.md, "Prune",
 * "Wait", "Dependencies", "Suspend", "Force", "Role-based access control"): `prune` deletes the objects removed from
 * the source; `wait` holds the Kustomization not Ready until every object it applied is healthy; `dependsOn` orders it
 * after others; `suspend` stops reconciling; `force` recreates objects whose immutable fields change;
 * `serviceAccountName` is the identity it applies as (what it may change). A HelmRelease's inline `values` change
 * upgrades the release (fluxcd/helm-controller docs/spec/v2/helmreleases.md, "Values"); its `dependsOn` orders it after other
 * HelmReleases, as a Kustomization's does (same file, "Dependencies").
 */
import type { Consequence } from '../../diff/consequences.js';
import type { ChartRef, EngineReview } from '../types.js';

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isKind = (v: Record<string, unknown>, group: string, kind: string): boolean => typeof v.apiVersion === 'string' && v.apiVersion.startsWith(`${group}/`) && v.kind === kind;
const spec = (v: Record<string, unknown>): Record<string, unknown> => (isMap(v.spec) ? v.spec : {});

const json = (v: unknown): string => JSON.stringify(v ?? null);
const names = (v: unknown): string[] => (Array.isArray(v) ? v.map((d) => (isMap(d) ? `${d.namespace ? `${String(d.namespace)}/` : ''}${String(d.name)}` : String(d))) : []);

/** What a Kustomization's reconciliation settings change does. */
function kustomizationConsequences(base: Record<string, unknown> | undefined, head: Record<string, unknown>): Consequence[] {
  const b = base ? spec(base) : undefined;
  const h = spec(head);
  if (!b) return [{ group: 'config', text: `new Kustomization: applies ${String(h.path ?? '.')} (prune ${h.prune === true ? 'on' : 'off'}, wait ${h.wait === true ? 'on' : 'off'}${names(h.dependsOn).length ? `, after ${names(h.dependsOn).join(', ')}` : ''})` }];
  const out: Consequence[] = [];
  const flag = (key: string, on: string, off: string) => {
    if ((b[key] === true) !== (h[key] === true)) out.push({ group: 'config', text: `${key} turned ${h[key] === true ? 'on' : 'off'}: ${h[key] === true ? on : off}`, paths: [`spec.${key}`] });
  };
  flag('prune', 'objects removed from the source are deleted from the cluster', 'objects removed from the source stay in the cluster');
  flag('wait', 'it is Ready only once every object it applied is healthy (its dependents wait for that)', 'it is Ready once applied, before its objects are healthy (its dependents start sooner)');
  flag('suspend', 'it is no longer reconciled: later commits are not applied', 'it is reconciled again');
  flag('force', 'objects whose immutable fields change are deleted and recreated', 'immutable field changes fail instead of recreating the object');
  out.push(...dependsOnChange(b, h));
  if (json(b.serviceAccountName) !== json(h.serviceAccountName))
    out.push({ group: 'access', text: `applies as service account ${String(b.serviceAccountName ?? '(the controller)')} → ${String(h.serviceAccountName ?? '(the controller)')}: what it may change follows that account's RBAC`, paths: ['spec.serviceAccountName'] });
  for (const key of ['path', 'targetNamespace', 'sourceRef'])
    if (json(b[key]) !== json(h[key])) out.push({ group: 'config', text: `${key} ${json(b[key])} → ${json(h[key])}: it applies other objects${h.prune === true ? ' (and prunes the ones no longer there)' : ''}`, paths: [`spec.${key}`] });
  return out;
}

/** A Kustomization's or a HelmRelease's order changed (`spec.dependsOn`): what it now waits for. */
function dependsOnChange(b: Record<string, unknown>, h: Record<string, unknown>): Consequence[] {
  const was = names(b.dependsOn);
  const now = names(h.dependsOn);
  if (json(was) === json(now)) return [];
  return [{ group: 'config', text: `dependsOn ${was.join(', ') || '(none)'} → ${now.join(', ') || '(none)'}: it is applied ${now.length ? `only once ${now.join(', ')} ${now.length === 1 ? 'is' : 'are'} Ready` : 'without waiting for another'}`, paths: ['spec.dependsOn'] }];
}

/** What a HelmRelease's change does besides its chart version (the lead's charts): its values, its order. */
function helmReleaseConsequences(base: Record<string, unknown>, head: Record<string, unknown>): Consequence[] {
  const b = spec(base);
  const h = spec(head);
  return [
    ...(json(b.values) !== json(h.values) ? [{ group: 'config' as const, text: 'chart values changed: the release is upgraded; only pods whose template reads them are replaced', paths: ['spec.values'] }] : []),
    ...dependsOnChange(b, h),
  ];
}

export const FLUX_REVIEW: EngineReview = {
  consequences: ({ base, head }) => {
    if (!head) return [];
    if (isKind(head, 'kustomize.toolkit.fluxcd.io', 'Kustomization')) return kustomizationConsequences(base, head);
    if (isKind(head, 'helm.toolkit.fluxcd.io', 'HelmRelease') && base) return helmReleaseConsequences(base, head);
    return [];
  },
  charts: (v) => {
    const s = spec(v);
    if (isKind(v, 'helm.toolkit.fluxcd.io', 'HelmRelease')) {
      const c = isMap(s.chart) && isMap(s.chart.spec) ? s.chart.spec : undefined;
      const ns = typeof s.targetNamespace === 'string' ? s.targetNamespace : undefined;
      return c && typeof c.chart === 'string' && typeof c.version === 'string' ? [{ chart: c.chart, version: c.version, ...(ns ? { namespace: ns } : {}) }] : [];
    }
    if (isKind(v, 'source.toolkit.fluxcd.io', 'OCIRepository') && typeof s.url === 'string' && isMap(s.ref) && typeof s.ref.tag === 'string') {
      return [{ chart: s.url.replace(/\/$/, '').replace(/^.*\//, ''), version: s.ref.tag }];
    }
    return [];
  },
  // The Flux distribution the FluxInstance pins (spec.distribution.version; objects.ts FLUX_VERSION): the operator upgrades the controllers to it.
  versions: (v) => {
    const d = isKind(v, 'fluxcd.controlplane.io', 'FluxInstance') && isMap(spec(v).distribution) ? (spec(v).distribution as Record<string, unknown>) : undefined;
    return d && typeof d.version === 'string' ? [{ name: 'Flux', version: d.version }] : [];
  },
};
