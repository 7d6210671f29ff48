/**
 * What each changed GitOps object does to the cluster, in one line, grouped by consequence: nodes upgraded or
 * restarted, access granted or changed, workloads started or stopped, configuration only. The review comment's
 * lead lists them (lead-sections.ts) so that no GitOps object reaches the cluster unmentioned: every changed
 * Kubernetes object and Helm values file gets an item unless another lead section already names it (its chart
 * version, its pod template, a new cluster-scoped permission, a new Namespace) and nothing more specific is said.
 *
 * The core reads the upstream Kubernetes kinds itself (RBAC, NetworkPolicy, ConfigMap, Secret, PrometheusRule,
 * ExternalSecret, workloads); an engine's delivery objects through EngineReview.consequences, a distribution's
 * objects (its upgrade Plans) through DistributionDiffReport.consequences. Sources of the core's rules:
 * - external-secrets (v1 API, external-secrets.io docs "SecretStore", "ClusterSecretStore", "ClusterExternalSecret"): a
 *   ClusterSecretStore without `conditions` serves ExternalSecrets of every namespace; a ClusterExternalSecret creates
 *   its ExternalSecret in each namespace its selectors match.
 * - RBAC is purely additive (kubernetes.io/docs/reference/access-authn-authz/rbac/, "Role and ClusterRole":
 *   "Permissions are purely additive (there are no 'deny' rules)"): a rule or subject added widens access.
 * - NetworkPolicies are additive and a pod selected by none is not isolated
 *   (kubernetes.io/docs/concepts/services-networking/network-policies/, "The two sorts of pod isolation"):
 *   removing the last policy selecting a pod opens it to all traffic.
 * - A ConfigMap or Secret mounted as a volume is updated in running pods eventually; consumed as environment
 *   variables it is read only when the container starts (kubernetes.io/docs/concepts/configuration/configmap/,
 *   "Mounted ConfigMaps are updated automatically", "ConfigMaps consumed as environment variables are not updated").
 */
import { distributions } from '../distributions/registry.js';
import { engines } from '../engines/registry.js';
import { changedPaths, diffValues, formatFieldPath, type FieldChange } from './fields.js';
import { plural, some } from './words.js';
import type { DocPair } from './lead.js';

/** What a change does, most disruptive first (the order of the lead's sections). */
export type ConsequenceGroup = 'nodes' | 'access' | 'workloads' | 'config';
export const CONSEQUENCE_GROUPS: readonly ConsequenceGroup[] = ['nodes', 'access', 'workloads', 'config'];

/** One consequence of one object's change, as a core rule, an engine or a distribution words it. */
export interface Consequence {
  group: ConsequenceGroup;
  /** One line: what happens in the cluster (no object name: the lead puts it in front). */
  text: string;
  /**
   * The fields the line accounts for (printed paths, each with what lies under it: `spec.syncPolicy`); the object's
   * other changed fields are still said (`changed: …`). Absent: the line accounts for the whole change of the object.
   */
  paths?: string[];
}

/** A consequence with its object. */
export interface ObjectConsequence {
  /** The object: its label in the diff (`RoleBinding team/view`), a values file as `Helm values values/<name>.yaml`. */
  object: string;
  /** nodes, access, workloads or config: the lead's section. */
  group: ConsequenceGroup;
  /** One line: what happens in the cluster. */
  text: string;
}

/** The two sides of a changed object for an engine's or a distribution's consequences (either absent: added/removed). */
export interface ObjectSides {
  base?: Record<string, unknown>;
  head?: Record<string, unknown>;
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const groupOf = (v: Record<string, unknown>): string => (str(v.apiVersion)?.includes('/') ? str(v.apiVersion)!.split('/')[0]! : '');
const isKind = (v: Record<string, unknown> | undefined, group: string, kind: string): boolean => v !== undefined && groupOf(v) === group && v.kind === kind;


/** `verbs on resources` of each rule of a Role or ClusterRole. */
function grants(role: Record<string, unknown> | undefined): string[] {
  return list(role?.rules)
    .filter(isMap)
    .map((r) => {
      const res = [...list(r.resources), ...list(r.nonResourceURLs)].map(String);
      const groups = list(r.apiGroups).map(String).filter((g) => g !== '');
      return `${list(r.verbs).map(String).join(',')} on ${res.join(',') || '(none)'}${groups.length > 0 ? ` (${groups.join(',')})` : ''}`;
    });
}

function roleConsequence(base?: Record<string, unknown>, head?: Record<string, unknown>): Consequence {
  if (!head) return { group: 'access', text: 'removed: the access it granted goes (bindings to it grant nothing)' };
  const now = grants(head);
  if (!base) return { group: 'access', text: `new: grants ${some(now)} to whoever is bound to it` };
  const was = grants(base);
  const added = now.filter((g) => !was.includes(g));
  const removed = was.filter((g) => !now.includes(g));
  const parts = [...(added.length > 0 ? [`now also grants ${some(added)}`] : []), ...(removed.length > 0 ? [`no longer grants ${some(removed)}`] : [])];
  return parts.length > 0 ? { group: 'access', text: parts.join('; '), paths: ['rules'] } : { group: 'access', text: `changed: ${some(changedPaths(base, head))}` };
}

const subjectsOf = (b: Record<string, unknown> | undefined): string[] =>
  list(b?.subjects)
    .filter(isMap)
    .map((s) => `${String(s.kind)} ${s.namespace ? `${String(s.namespace)}/` : ''}${String(s.name)}`);
const roleRefOf = (b: Record<string, unknown>): string => (isMap(b.roleRef) ? `${String(b.roleRef.kind)} ${String(b.roleRef.name)}` : '(no role)');

function bindingConsequence(kind: string, base?: Record<string, unknown>, head?: Record<string, unknown>): Consequence {
  const where = kind === 'ClusterRoleBinding' ? 'cluster-wide' : `in namespace ${isMap(head?.metadata) ? String(head.metadata.namespace) : '?'}`;
  if (!head) return { group: 'access', text: `removed: ${some(subjectsOf(base))} lose ${roleRefOf(base!)}` };
  const now = subjectsOf(head);
  if (!base) return { group: 'access', text: `new: gives ${some(now) || 'no subject'} ${roleRefOf(head)} ${where}` };
  const was = subjectsOf(base);
  const added = now.filter((s) => !was.includes(s));
  const removed = was.filter((s) => !now.includes(s));
  const parts = [
    ...(roleRefOf(base) !== roleRefOf(head) ? [`role ${roleRefOf(base)} → ${roleRefOf(head)} (roleRef is immutable: the engine must replace the binding)`] : []),
    ...(added.length > 0 ? [`now also gives ${some(added)} ${roleRefOf(head)} ${where}`] : []),
    ...(removed.length > 0 ? [`${some(removed)} lose ${roleRefOf(head)}`] : []),
  ];
  return parts.length > 0 ? { group: 'access', text: parts.join('; '), paths: ['subjects', 'roleRef'] } : { group: 'access', text: `changed: ${some(changedPaths(base, head))}` };
}

const selectorText = (v: unknown): string => {
  const labels = isMap(v) && isMap(v.matchLabels) ? Object.entries(v.matchLabels).map(([k, x]) => `${k}=${String(x)}`) : [];
  const exprs = isMap(v) ? list(v.matchExpressions).length : 0;
  return labels.length === 0 && exprs === 0 ? 'every pod' : `pods ${[...labels, ...(exprs > 0 ? [`${exprs} expression(s)`] : [])].join(', ')}`;
};

function networkPolicyConsequence(base?: Record<string, unknown>, head?: Record<string, unknown>): Consequence {
  const spec = (v: Record<string, unknown> | undefined) => (isMap(v?.spec) ? v.spec : {});
  if (!head) return { group: 'access', text: `removed: ${selectorText(spec(base).podSelector)} lose its rules (a pod no other policy selects is open to all traffic)` };
  const types = list(spec(head).policyTypes).map(String);
  const rules = (v: Record<string, unknown> | undefined, k: string) => list(spec(v)[k]).map((x) => JSON.stringify(x));
  if (!base) {
    const allows = (['ingress', 'egress'] as const).filter((k) => rules(head, k).length > 0).map((k) => plural(rules(head, k).length, `${k} rule`));
    return { group: 'access', text: `new: isolates ${selectorText(spec(head).podSelector)} (${types.join(', ') || 'Ingress'}); allows ${allows.join(' and ') || 'nothing'}` };
  }
  const parts: string[] = [];
  for (const k of ['ingress', 'egress']) {
    const was = rules(base, k);
    const now = rules(head, k);
    const added = now.filter((r) => !was.includes(r)).length;
    const removed = was.filter((r) => !now.includes(r)).length;
    if (added > 0) parts.push(`allows more ${k}: ${plural(added, 'rule')} added or widened`);
    if (removed > 0) parts.push(`${plural(removed, `${k} rule`)} removed or narrowed`);
  }
  const other = changedPaths(base, head).filter((x) => !/^spec\.(ingress|egress)\b/.test(x));
  if (other.length > 0) parts.push(`changed: ${some(other)}`);
  return { group: 'access', text: parts.join('; ') };
}

/** ExternalSecret: which secret reaches which namespace, from where. */
function externalSecretConsequence(base?: Record<string, unknown>, head?: Record<string, unknown>): Consequence {
  const v = head ?? base!;
  const spec = isMap(v.spec) ? v.spec : {};
  const ns = isMap(v.metadata) ? str(v.metadata.namespace) : undefined;
  const target = (isMap(spec.target) ? str(spec.target.name) : undefined) ?? (isMap(v.metadata) ? str(v.metadata.name) : undefined) ?? '?';
  const store = isMap(spec.secretStoreRef) ? `${String(spec.secretStoreRef.kind ?? 'SecretStore')} ${String(spec.secretStoreRef.name)}` : 'its store';
  const keys = [...list(spec.data).filter(isMap).map((d) => (isMap(d.remoteRef) ? String(d.remoteRef.key) : '?')), ...list(spec.dataFrom).filter(isMap).map((d) => (isMap(d.extract) ? String(d.extract.key) : isMap(d.find) ? 'keys found by a pattern' : '?'))];
  const what = `secret ${target} in namespace ${ns ?? '?'} from ${store} (${some([...new Set(keys)])})`;
  if (!head) return { group: 'access', text: `removed: no longer syncs ${what}` };
  if (!base) return { group: 'access', text: `new: delivers ${what}` };
  return { group: 'access', text: `changed (${some(changedPaths(base, head))}): delivers ${what}` };
}

/** A SecretStore or ClusterSecretStore: which provider, and for a cluster store which namespaces may read through it. */
function storeConsequence(kind: string, base?: Record<string, unknown>, head?: Record<string, unknown>): Consequence {
  const v = head ?? base!;
  const spec = isMap(v.spec) ? v.spec : {};
  const provider = isMap(spec.provider) ? Object.keys(spec.provider).join(', ') || '?' : '?';
  const conditions = list(spec.conditions).filter(isMap);
  const who = kind === 'ClusterSecretStore' ? (conditions.length === 0 ? 'ExternalSecrets of every namespace' : 'ExternalSecrets of the namespaces its conditions select') : 'ExternalSecrets of its namespace';
  if (!head) return { group: 'access', text: `removed: ExternalSecrets reading through it stop syncing` };
  if (!base) return { group: 'access', text: `new: ${who} may read ${provider} through it` };
  return { group: 'access', text: `changed (${some(changedPaths(base, head))}): ${who} read ${provider} through it` };
}

/** PrometheusRule: the alerts (and recording rules) added, removed or changed. */
function alertsConsequence(base?: Record<string, unknown>, head?: Record<string, unknown>): Consequence {
  const rules = (v: Record<string, unknown> | undefined): Map<string, string> => {
    const m = new Map<string, string>();
    for (const g of list(isMap(v?.spec) ? v.spec.groups : undefined).filter(isMap))
      for (const r of list(g.rules).filter(isMap)) m.set(str(r.alert) ?? `record ${String(r.record)}`, JSON.stringify(r));
    return m;
  };
  const was = rules(base);
  const now = rules(head);
  const added = [...now.keys()].filter((k) => !was.has(k));
  const removed = [...was.keys()].filter((k) => !now.has(k));
  const changed = [...now.keys()].filter((k) => was.has(k) && was.get(k) !== now.get(k));
  const parts = [...(added.length ? [`alerts added: ${some(added)}`] : []), ...(removed.length ? [`removed: ${some(removed)}`] : []), ...(changed.length ? [`changed: ${some(changed)}`] : [])];
  if (parts.length > 0) return { group: 'config', text: parts.join('; '), paths: ['spec.groups'] };
  return { group: 'config', text: head && base ? `changed: ${some(changedPaths(base, head))}` : head ? 'new, no rule' : 'removed' };
}

/** ConfigMap or Secret: the keys changed (never their values: Secrets are masked) and when pods see them. */
function dataConsequence(base?: Record<string, unknown>, head?: Record<string, unknown>): Consequence {
  const keys = (v: Record<string, unknown> | undefined) => new Map([...['data', 'stringData', 'binaryData'].flatMap((k) => Object.entries(isMap(v?.[k]) ? (v![k] as Record<string, unknown>) : {}))].map(([k, x]) => [k, JSON.stringify(x)]));
  const was = keys(base);
  const now = keys(head);
  const changed = [...new Set([...was.keys(), ...now.keys()])].filter((k) => was.get(k) !== now.get(k)).sort();
  const when = 'mounted: seen by running pods within about a minute; as environment variables: at the next pod start';
  if (!head) return { group: 'config', text: 'removed (pods still referring to it fail to start)' };
  if (!base) return { group: 'config', text: `new: keys ${some([...now.keys()])}` };
  if (changed.length > 0) return { group: 'config', text: `keys ${some(changed)} changed (${when})`, paths: ['data', 'stringData', 'binaryData'] };
  return { group: 'config', text: `fields ${some(changedPaths(base, head))} changed (${when})` };
}

const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob', 'Job'];

/** The core's consequences of one object, by kind; empty when it has nothing specific to say. */
function coreConsequences(p: DocPair): Consequence[] {
  const base = isMap(p.base) ? p.base : undefined;
  const head = isMap(p.head) ? p.head : undefined;
  const v = head ?? base;
  if (!v) return [];
  if (p.kind === 'values') {
    const paths = changedPaths(base ?? {}, head ?? {});
    return [{ group: 'config', text: `Helm values ${head && base ? `changed: ${some(paths)}` : head ? 'new' : 'removed'} — the chart is rendered again; only pods whose template reads them are replaced` }];
  }
  const g = groupOf(v);
  const kind = str(v.kind) ?? '';
  if (g === 'rbac.authorization.k8s.io' && (kind === 'Role' || kind === 'ClusterRole')) return [roleConsequence(base, head)];
  if (g === 'rbac.authorization.k8s.io' && (kind === 'RoleBinding' || kind === 'ClusterRoleBinding')) return [bindingConsequence(kind, base, head)];
  if (isKind(v, 'networking.k8s.io', 'NetworkPolicy')) return [networkPolicyConsequence(base, head)];
  if (g === 'external-secrets.io' && kind === 'ExternalSecret') return [externalSecretConsequence(base, head)];
  if (g === 'external-secrets.io' && (kind === 'SecretStore' || kind === 'ClusterSecretStore')) return [storeConsequence(kind, base, head)];
  if (g === 'external-secrets.io' && kind === 'ClusterExternalSecret')
    return [{ group: 'access', text: `${!head ? 'removed' : !base ? 'new' : `changed (${some(changedPaths(base, head))})`}: the ExternalSecret it creates in every namespace it selects` }];
  if (isKind(v, 'monitoring.coreos.com', 'PrometheusRule')) return [alertsConsequence(base, head)];
  if (g === '' && (kind === 'ConfigMap' || kind === 'Secret')) return [dataConsequence(base, head)];
  if (g === 'apps' || g === 'batch') {
    if (WORKLOAD_KINDS.includes(kind) && !base) return [{ group: 'workloads', text: 'new: its pods start' }];
    if (WORKLOAD_KINDS.includes(kind) && !head) return [{ group: 'workloads', text: 'removed: its pods stop (where the engine prunes)' }];
  }
  return [];
}

/** An engine's and the distributions' consequences of one object (each answers for its own kinds). */
function memberConsequences(p: DocPair): Consequence[] {
  const sides: ObjectSides = { ...(isMap(p.base) ? { base: p.base } : {}), ...(isMap(p.head) ? { head: p.head } : {}) };
  if (!sides.base && !sides.head) return [];
  return [...engines().flatMap((e) => e.review?.consequences?.(sides) ?? []), ...distributions().flatMap((d) => d.diff.report.consequences?.(sides) ?? [])];
}

/** The catch-all of an added or removed object no rule and no other lead section names. */
function generic(p: DocPair): Consequence {
  return p.base === undefined ? { group: 'config', text: 'new' } : { group: 'config', text: 'removed (where the engine prunes)' };
}

/** Whether printed path `path` lies under `prefix` (or is it). */
const under = (path: string, prefix: string): boolean => path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);

/**
 * The changed fields of an object on both sides that nothing else accounts for: neither another lead section (its
 * chart version, its pod template: `told`) nor a line that names its paths. A line without paths accounts for all.
 */
function unaccounted(p: DocPair, specific: readonly Consequence[], told: (c: FieldChange) => boolean): string[] {
  if (specific.some((c) => c.paths === undefined)) return [];
  const said = specific.flatMap((c) => c.paths ?? []);
  return diffValues(p.base, p.head)
    .filter((c) => !told(c))
    .map((c) => formatFieldPath(c.path))
    .filter((x) => !said.some((prefix) => under(x, prefix)));
}

/** Documents the lead reads as GitOps objects: Kubernetes objects and Helm values (not node configs, AWS templates, text). */
export const isGitOpsObject = (p: DocPair): boolean => p.kind === 'kubernetes' || p.kind === 'values';

/**
 * What another lead section says of an object, by its label: which of its field changes that section accounts for
 * (its chart version; its pod template; all, for a cluster-scoped permission).
 */
export type Told = ReadonlyMap<string, (c: FieldChange) => boolean>;

/**
 * Every changed GitOps object's consequences; `told`: the objects another lead section already names. An added or
 * removed object another section names gets no catch-all line; a changed one gets `changed: …` for the fields neither
 * that section nor a specific line accounts for (a sync wave changed with the chart version is said, not swallowed).
 * Identical lines of one object are said once.
 */
export function objectConsequences(pairs: readonly DocPair[], told: Told): ObjectConsequence[] {
  const out: ObjectConsequence[] = [];
  for (const p of pairs) {
    if (!isGitOpsObject(p)) continue;
    const object = p.kind === 'values' ? `Helm values ${p.file}` : p.label;
    const specific = [...coreConsequences(p), ...memberConsequences(p)];
    const by = told.get(p.label);
    const all = [...specific];
    if (p.base !== undefined && p.head !== undefined) {
      const rest = unaccounted(p, specific, by ?? (() => false));
      if (rest.length > 0) all.push({ group: 'config', text: `changed: ${some(rest)}` });
    } else if (specific.length === 0 && !by) all.push(generic(p));
    const seen = new Set<string>();
    for (const c of all) {
      const key = `${c.group}\n${c.text}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ object, group: c.group, text: c.text });
    }
  }
  return out.sort((x, y) => CONSEQUENCE_GROUPS.indexOf(x.group) - CONSEQUENCE_GROUPS.indexOf(y.group) || x.object.localeCompare(y.object));
}
