/**
 * What the review comment's lead reads off Argo CD's objects (EngineReview): the charts an
 * Application installs (`spec.source(s)[].chart` at `targetRevision`, the exact chart version for a
 * Helm repository source), the namespace it creates (`CreateNamespace=true` in
 * `spec.syncPolicy.syncOptions`: Argo CD creates `spec.destination.namespace`), and the cluster-scoped
 * kinds an AppProject lets its Applications manage (`spec.clusterResourceWhitelist`).
 *
 * Consequences of a changed Application or AppProject (argoproj/argo-cd docs/user-guide/auto_sync.md, release-3.3,
 * "Automatic Pruning", "Automatic Self-Healing"; sync-options.md; projects.md):
 * - `syncPolicy.automated` absent, or `enabled: false`: nothing is applied until someone syncs; present (`enabled`
 *   null or true): every new revision is applied.
 * - `automated.prune`: resources no longer in Git are deleted by the automated sync ("by default ... will not delete").
 * - `automated.selfHeal`: changes made in the live cluster are reverted.
 * - `syncOptions` (Replace=true, ServerSideApply=true, PruneLast=true, ...): how each sync applies.
 * - An AppProject's `sourceRepos` and `destinations`: which repositories may deploy into which namespaces.
 */
import type { Consequence } from '../../diff/consequences.js';
import type { ChartRef, EngineReview } from '../types.js';

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const ARGO_GROUP = 'argoproj.io/';
const isKind = (v: Record<string, unknown>, kind: string): boolean => typeof v.apiVersion === 'string' && v.apiVersion.startsWith(ARGO_GROUP) && v.kind === kind;
const spec = (v: Record<string, unknown>): Record<string, unknown> => (isMap(v.spec) ? v.spec : {});

const at = (v: Record<string, unknown> | undefined, ...path: string[]): unknown => path.reduce<unknown>((o, k) => (isMap(o) ? o[k] : undefined), v);
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map((x) => (isMap(x) ? `${String(x.namespace ?? '*')}@${String(x.server ?? x.name ?? '*')}` : String(x))) : []);
const onOff = (v: unknown): string => (v === true ? 'on' : 'off');

/** The fields the sync policy lines account for: the Application's other changes are said besides (consequences.ts). */
const SYNC_POLICY = ['spec.syncPolicy'];

/** What an Application's sync policy change does. */
function applicationConsequences(base: Record<string, unknown> | undefined, head: Record<string, unknown>): Consequence[] {
  const out: Consequence[] = [];
  // `automated` present and not `enabled: false` (null or absent `enabled` counts as on).
  const auto = (v?: Record<string, unknown>) => at(v, 'spec', 'syncPolicy', 'automated') !== undefined && at(v, 'spec', 'syncPolicy', 'automated', 'enabled') !== false;
  if (!base) {
    out.push({ group: 'config', text: `new Application: ${auto(head) ? `synced automatically (prune ${onOff(at(head, 'spec', 'syncPolicy', 'automated', 'prune'))}, self-heal ${onOff(at(head, 'spec', 'syncPolicy', 'automated', 'selfHeal'))})` : 'applied only when someone syncs it'}` });
    return out;
  }
  if (auto(base) !== auto(head))
    out.push({ group: 'config', text: auto(head) ? 'automated sync turned on: every new revision is applied without a person' : 'automated sync turned off: nothing is applied until someone syncs', paths: SYNC_POLICY });
  for (const [key, name, on, off] of [
    ['prune', 'prune', 'resources removed from Git are deleted from the cluster', 'resources removed from Git stay in the cluster'],
    ['selfHeal', 'self-heal', 'changes made in the live cluster are reverted', 'changes made in the live cluster stay'],
  ] as const) {
    const was = at(base, 'spec', 'syncPolicy', 'automated', key) === true;
    const now = at(head, 'spec', 'syncPolicy', 'automated', key) === true;
    if (was !== now) out.push({ group: 'config', text: `${name} turned ${onOff(now)}: ${now ? on : off}`, paths: SYNC_POLICY });
  }
  const opts = (v: Record<string, unknown>) => list(at(v, 'spec', 'syncPolicy', 'syncOptions'));
  const added = opts(head).filter((o) => !opts(base).includes(o));
  const removed = opts(base).filter((o) => !opts(head).includes(o));
  if (added.length + removed.length > 0) out.push({ group: 'config', text: `sync options ${[...added.map((o) => `+${o}`), ...removed.map((o) => `-${o}`)].join(' ')}: how every later sync applies`, paths: SYNC_POLICY });
  return out;
}

/** Who may deploy what where: an AppProject's source repositories and destinations. */
function projectConsequences(base: Record<string, unknown> | undefined, head: Record<string, unknown>): Consequence[] {
  const out: Consequence[] = [];
  for (const [key, what] of [
    ['sourceRepos', 'repositories its Applications may deploy from'],
    ['destinations', 'namespaces@clusters its Applications may deploy into'],
  ] as const) {
    const was = list(at(base, 'spec', key));
    const now = list(at(head, 'spec', key));
    const added = now.filter((x) => !was.includes(x));
    if (added.length > 0) out.push({ group: 'access', text: `${base ? 'widens' : 'new:'} ${what}: ${added.join(', ')}`, paths: [`spec.${key}`] });
    const removed = was.filter((x) => !now.includes(x));
    if (removed.length > 0) out.push({ group: 'access', text: `narrows ${what}: ${removed.join(', ')} no longer`, paths: [`spec.${key}`] });
  }
  return out;
}

export const ARGOCD_REVIEW: EngineReview = {
  consequences: ({ base, head }) => {
    if (!head) return [];
    if (isKind(head, 'Application')) return applicationConsequences(base, head);
    if (isKind(head, 'AppProject')) return projectConsequences(base, head);
    return [];
  },
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
