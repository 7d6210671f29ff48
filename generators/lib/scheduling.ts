/**
 * Kubernetes scheduling semantics, as data in, answer out: does a node (its labels and taints) match
 * a pod's nodeSelector and required node affinity, and does the pod tolerate the node's taints.
 * Used by the rendered-tree GPU check and by the placement and capacity rules. Follows
 * k8s.io/component-helpers/scheduling/corev1 (nodeaffinity, taints): terms are ORed, expressions
 * ANDed, an empty term matches nothing; a toleration without key and with operator Exists
 * tolerates every taint; PreferNoSchedule never keeps a pod off a node.
 */

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

export interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

function requirementMatches(labels: Readonly<Record<string, string>>, r: NodeSelectorRequirement): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = labels[r.key];
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return has && values.includes(v!);
    case 'NotIn':
      return !has || !values.includes(v!);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      if (!has || values.length !== 1) return false;
      const a = Number(v);
      const b = Number(values[0]);
      if (!Number.isInteger(a) || !Number.isInteger(b)) return false;
      return r.operator === 'Gt' ? a > b : a < b;
    }
    default:
      return false;
  }
}

/** A term matches when it has expressions and all of them match; matchFields (metadata.name) are not known here and never match. */
export function termMatches(labels: Readonly<Record<string, string>>, term: NodeSelectorTerm): boolean {
  const exprs = term.matchExpressions ?? [];
  if (exprs.length === 0 || (term.matchFields ?? []).length > 0) return false;
  return exprs.every((r) => requirementMatches(labels, r));
}

/** nodeSelector (every key=value) and required node affinity terms (any term; undefined = no affinity). */
export function nodeMatches(labels: Readonly<Record<string, string>>, nodeSelector: Readonly<Record<string, string>> | undefined, terms: readonly NodeSelectorTerm[] | undefined): boolean {
  for (const [k, v] of Object.entries(nodeSelector ?? {})) if (labels[k] !== v) return false;
  return terms === undefined || terms.some((t) => termMatches(labels, t));
}

export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (!t.key) return t.operator === 'Exists';
  if (t.key !== taint.key) return false;
  if (t.operator === 'Exists') return true;
  return (t.value ?? '') === (taint.value ?? '');
}

/** The taints that keep a pod with these tolerations off the node (NoSchedule and NoExecute ones not tolerated). */
export function untolerated<T extends Taint>(tolerations: readonly Toleration[], taints: readonly T[]): T[] {
  return taints.filter((x) => x.effect !== 'PreferNoSchedule' && !tolerations.some((t) => tolerates(t, x)));
}

/** `key=value:Effect` or `key:Effect` (kubelet --register-with-taints, a node config's node-taint). */
export function parseTaint(text: string): Taint | undefined {
  const m = /^([^=:\s]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(text.trim());
  return m ? { key: m[1]!, ...(m[2] !== undefined ? { value: m[2] } : {}), effect: m[3]! } : undefined;
}

/**
 * Helm's merge of user values over a chart's defaults: maps merge key by key, anything else
 * (lists included) replaces, and null deletes the default.
 */
export function helmMerge(defaults: unknown, values: unknown): unknown {
  const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (values === undefined) return defaults;
  if (!isMap(defaults) || !isMap(values)) return values;
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(values)) {
    if (v === null) delete out[k];
    else out[k] = helmMerge(defaults[k], v);
  }
  return out;
}
