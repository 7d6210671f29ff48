/**
 * What the review comment's lead reads off Flux's objects (EngineReview): the chart a HelmRelease
 * installs (`spec.chart.spec.chart` at `version`, into `targetNamespace`), and for an `oci://` chart
 * the OCIRepository's artifact (`spec.url`'s last segment at `spec.ref.tag`, the exact chart version;
 * the HelmRelease then only names it by `chartRef`). Cluster-scoped permissions are ClusterRoles and
 * bindings the core reads itself.
 */
import type { ChartRef, EngineReview } from '../types.js';

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isKind = (v: Record<string, unknown>, group: string, kind: string): boolean => typeof v.apiVersion === 'string' && v.apiVersion.startsWith(`${group}/`) && v.kind === kind;
const spec = (v: Record<string, unknown>): Record<string, unknown> => (isMap(v.spec) ? v.spec : {});

export const FLUX_REVIEW: EngineReview = {
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
