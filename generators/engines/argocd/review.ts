/**
 * What the review comment's lead reads off Argo CD's objects (EngineReview): the charts an
 * Application installs (`spec.source(s)[].chart` at `targetRevision`, the exact chart version for a
 * Helm repository source), the namespace it creates (`CreateNamespace=true` in
 * `spec.syncPolicy.syncOptions`: Argo CD creates `spec.destination.namespace`), and the cluster-scoped
 * kinds an AppProject lets its Applications manage (`spec.clusterResourceWhitelist`).
 */
import type { ChartRef, EngineReview } from '../types.js';

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const ARGO_GROUP = 'argoproj.io/';
const isKind = (v: Record<string, unknown>, kind: string): boolean => typeof v.apiVersion === 'string' && v.apiVersion.startsWith(ARGO_GROUP) && v.kind === kind;
const spec = (v: Record<string, unknown>): Record<string, unknown> => (isMap(v.spec) ? v.spec : {});

export const ARGOCD_REVIEW: EngineReview = {
  charts: (v) => {
    if (!isKind(v, 'Application')) return [];
    const s = spec(v);
    const sources = [...(isMap(s.source) ? [s.source] : []), ...(Array.isArray(s.sources) ? s.sources.filter(isMap) : [])];
    const ns = isMap(s.destination) && typeof s.destination.namespace === 'string' ? s.destination.namespace : undefined;
    return sources.flatMap((x): ChartRef[] => (typeof x.chart === 'string' && typeof x.targetRevision === 'string' ? [{ chart: x.chart, version: x.targetRevision, ...(ns ? { namespace: ns } : {}) }] : []));
  },
  namespaces: (v) => {
    if (!isKind(v, 'Application')) return [];
    const s = spec(v);
    const options = isMap(s.syncPolicy) && Array.isArray(s.syncPolicy.syncOptions) ? s.syncPolicy.syncOptions : [];
    const ns = isMap(s.destination) ? s.destination.namespace : undefined;
    return options.includes('CreateNamespace=true') && typeof ns === 'string' ? [ns] : [];
  },
  clusterKinds: (v) => {
    if (!isKind(v, 'AppProject')) return [];
    const list = spec(v).clusterResourceWhitelist;
    return (Array.isArray(list) ? list.filter(isMap) : []).map((x) => `${String(x.group ?? '')}/${String(x.kind ?? '')}`.replace(/^\//, ''));
  },
};
