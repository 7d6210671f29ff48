/**
 * What changes in the cluster: the facts the review comment leads with, read off the changed
 * documents of one environment (base and head values by identity). Kubernetes objects are read by
 * kind (Namespace; the cluster-scoped permission kinds below); the GitOps engines' delivery objects
 * through each engine's `review` (charts, namespaces it creates, cluster-scoped kinds a tenant may
 * manage); node steps come from each distribution's `diff.report.rollout`, AWS changes from
 * aws-impact.ts (format.ts puts them together).
 *
 * Only changed files are read: a namespace counts as new when no changed base document created it
 * and no Namespace object for it existed in base.
 */
import { engines } from '../engines/registry.js';
import type { ChartRef } from '../engines/types.js';
import { objectConsequences, type ObjectConsequence } from './consequences.js';
import type { DocKind } from './documents.js';
import type { FieldChange } from './fields.js';

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Kinds that grant or extend what runs cluster-wide: RBAC, new APIs, admission. */
export const CLUSTER_PERMISSION_KINDS: readonly string[] = [
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'APIService',
];

export interface ChartChange {
  chart: string;
  /** Absent for a new chart. */
  from?: string;
  /** Absent for a removed chart. */
  to?: string;
  namespace?: string;
  /** The object installing it (its label in the diff, kind namespace/name). */
  object: string;
  /** A new major version (or a new minor of a 0.x chart, which semver lets break). */
  major: boolean;
}

export interface PermissionChange {
  /** The object (its label in the diff: `ClusterRole reloader`). */
  object: string;
  change: 'added' | 'changed' | 'removed' | 'allows';
  /** For `allows`: the cluster-scoped kinds (`group/Kind`) newly allowed. */
  kinds?: string[];
}

/** A container's image from → to in a pod template. */
export interface ImageChange {
  container: string;
  from: string;
  to: string;
}

/**
 * A workload object whose pod template changed: its pods are replaced (a Deployment, StatefulSet or
 * DaemonSet rolls them by its update strategy; a CronJob's next Job runs the new template). Objects
 * added or removed are not rollouts.
 */
export interface WorkloadRollout {
  /** The object (its label in the diff: `Deployment opendev/portal`). */
  object: string;
  /** Deployment, StatefulSet, DaemonSet or CronJob. */
  kind: string;
  /** Containers (and init containers) whose image changed. */
  images: ImageChange[];
  /** Changed fields of the pod template besides those images (env, config checksums, resources …). */
  otherChanges: number;
}

/** The lead facts of one environment (JSON: `envs[].lead`). */
export interface EnvLead {
  /** Namespaces created by this change. */
  namespaces: string[];
  /** New or changed cluster-scoped permissions: RBAC, CRDs, webhooks, a tenant's allowed cluster kinds. */
  permissions: PermissionChange[];
  /** Chart versions from → to. */
  charts: ChartChange[];
  /** Workloads whose pods are replaced (pod template changed), with their image changes. */
  rollouts: WorkloadRollout[];
  /**
   * Every other changed GitOps object with its consequence, most disruptive group first (consequences.ts): none is
   * left unmentioned. Empty for a new or removed environment (every object is new, or gone).
   */
  objects: ObjectConsequence[];
}

/** One node's step, as a distribution reports it (Distribution.diff.report.rollout). */
export interface RolloutStep {
  /** Node, or auto-scaled pool, as named in the environment. */
  node: string;
  /** An auto-scaled pool: every instance of it. */
  pool?: boolean;
  controlPlane: boolean;
  /** What happens to it, in a few words: `reboots`, `restarts the service`, `applied live`, `new node`. */
  effect: string;
  /** Whether the node goes down (reboot, restart, replacement): the reason for one control plane at a time. */
  disruptive: boolean;
  /** The commands, in order (plain shell; no placeholders in angle brackets). */
  commands: string[];
  /** A command that must succeed before the next control plane (etcd and the API healthy again). */
  gate?: string;
}

/** A distribution's node steps and the steps run once for the cluster after them. */
export interface Rollout {
  steps: RolloutStep[];
  after?: { what: string; command: string }[];
}

/** One changed (or added, or removed) document, by identity, as the diff paired them. */
export interface DocPair {
  label: string;
  /** The document's kind (documents.ts): Kubernetes object, Helm values, a distribution's, YAML or text. */
  kind: DocKind;
  /** Env-relative file holding it (head; base when removed). */
  file: string;
  base?: unknown;
  head?: unknown;
}

const kindOf = (v: unknown): string | undefined => (isMap(v) && typeof v.kind === 'string' ? v.kind : undefined);
const nameOf = (v: unknown): string | undefined => (isMap(v) && isMap(v.metadata) && typeof v.metadata.name === 'string' ? v.metadata.name : undefined);

/** Semver-ish: `v1.2.3` → [1, 2, 3]; undefined when it does not start with a number. */
function versionParts(v: string): number[] | undefined {
  const m = /^v?(\d+)(?:\.(\d+))?/.exec(v);
  return m ? [Number(m[1]), Number(m[2] ?? 0)] : undefined;
}

export function isMajorBump(from: string, to: string): boolean {
  const a = versionParts(from);
  const b = versionParts(to);
  if (!a || !b) return false;
  if (a[0] !== b[0]) return true;
  return a[0] === 0 && a[1] !== b[1];
}

const ask = <T>(f: (e: ReturnType<typeof engines>[number]) => T[] | undefined): T[] => engines().flatMap((e) => f(e) ?? []);
/** The engine releases a delivery object pins besides charts (EngineReview.versions). */
export const versionsOf = (v: unknown): { name: string; version: string }[] => (isMap(v) ? ask((e) => e.review?.versions?.(v)) : []);
/** The charts a delivery object installs, as its engine reads them (EngineReview.charts). */
export const chartsOf = (v: unknown): ChartRef[] => (isMap(v) ? ask((e) => e.review?.charts?.(v)) : []);
const namespacesOf = (v: unknown): string[] => {
  if (!isMap(v)) return [];
  const own = kindOf(v) === 'Namespace' && v.apiVersion === 'v1' && nameOf(v) ? [nameOf(v)!] : [];
  return [...own, ...ask((e) => e.review?.namespaces?.(v))];
};
const clusterKindsOf = (v: unknown): string[] => (isMap(v) ? ask((e) => e.review?.clusterKinds?.(v)) : []);

/** Kinds whose pod template, where it lives: a change replaces their pods. */
const POD_TEMPLATE_AT: Readonly<Record<string, readonly string[]>> = {
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

const at = (v: unknown, path: readonly string[]): unknown => path.reduce<unknown>((o, k) => (isMap(o) ? o[k] : undefined), v);

/** `name → image` of a pod template's containers and init containers. */
function imagesOf(template: unknown): Map<string, string> {
  const out = new Map<string, string>();
  for (const key of ['initContainers', 'containers']) {
    const list = at(template, ['spec', key]);
    if (!Array.isArray(list)) continue;
    for (const c of list) if (isMap(c) && typeof c.name === 'string' && typeof c.image === 'string') out.set(c.name, c.image);
  }
  return out;
}

/** Leaf paths whose values differ between two plain values (a count: the size of the rest of the change). */
function changedLeaves(a: unknown, b: unknown): number {
  if (isMap(a) && isMap(b)) return [...new Set([...Object.keys(a), ...Object.keys(b)])].reduce((n, k) => n + changedLeaves(a[k], b[k]), 0);
  if (Array.isArray(a) && Array.isArray(b)) return Array.from({ length: Math.max(a.length, b.length) }, (_, i) => changedLeaves(a[i], b[i])).reduce((x, y) => x + y, 0);
  return JSON.stringify(a) === JSON.stringify(b) ? 0 : 1;
}

/** The pod template change of a workload object present on both sides, if any. */
function rolloutOf(p: DocPair): WorkloadRollout | undefined {
  const kind = kindOf(p.head);
  const path = kind ? POD_TEMPLATE_AT[kind] : undefined;
  if (!path || p.base === undefined || kindOf(p.base) !== kind) return undefined;
  const before = at(p.base, path);
  const after = at(p.head, path);
  if (JSON.stringify(before) === JSON.stringify(after)) return undefined;
  const was = imagesOf(before);
  const now = imagesOf(after);
  const images = [...now].filter(([c, img]) => was.has(c) && was.get(c) !== img).map(([container, to]) => ({ container, from: was.get(container)!, to }));
  // The image fields themselves are counted in `images`, not again in the rest.
  return { object: p.label, kind: kind!, images, otherChanges: Math.max(0, changedLeaves(before, after) - images.length) };
}

/** The lead facts of one environment's changed documents; `whole`: the environment is new or removed. */
export function envLead(pairs: readonly DocPair[], whole = false): EnvLead {
  const before = new Set(pairs.flatMap((p) => namespacesOf(p.base)));
  const namespaces = [...new Set(pairs.flatMap((p) => namespacesOf(p.head)))].filter((n) => !before.has(n)).sort();

  const permissions: PermissionChange[] = [];
  const charts: ChartChange[] = [];
  for (const p of pairs) {
    const kind = kindOf(p.head ?? p.base);
    if (kind && CLUSTER_PERMISSION_KINDS.includes(kind)) permissions.push({ object: p.label, change: p.base === undefined ? 'added' : p.head === undefined ? 'removed' : 'changed' });
    const had = new Set(clusterKindsOf(p.base));
    const allows = [...new Set(clusterKindsOf(p.head))].filter((k) => !had.has(k)).sort();
    if (allows.length > 0) permissions.push({ object: p.label, change: 'allows', kinds: allows });

    const b = chartsOf(p.base);
    const h = chartsOf(p.head);
    for (const c of h) {
      const old = b.find((x) => x.chart === c.chart);
      if (old?.version === c.version) continue;
      charts.push({ chart: c.chart, ...(old ? { from: old.version } : {}), to: c.version, ...(c.namespace ? { namespace: c.namespace } : {}), object: p.label, major: old ? isMajorBump(old.version, c.version) : false });
    }
    for (const c of b) if (!h.some((x) => x.chart === c.chart)) charts.push({ chart: c.chart, from: c.version, ...(c.namespace ? { namespace: c.namespace } : {}), object: p.label, major: false });
  }
  charts.sort((x, y) => x.chart.localeCompare(y.chart) || x.object.localeCompare(y.object));
  permissions.sort((x, y) => x.object.localeCompare(y.object));
  const rollouts = pairs.flatMap((p) => rolloutOf(p) ?? []).sort((x, y) => x.object.localeCompare(y.object));
  // Named by their label in another section, with the field changes it accounts for (a new Namespace is named by its
  // name only: it keeps its own item). The rest of their change is still said (consequences.ts objectConsequences).
  const told = new Map<string, (c: FieldChange) => boolean>();
  const tell = (object: string, f: (c: FieldChange) => boolean) => {
    const was = told.get(object);
    told.set(object, was ? (c) => was(c) || f(c) : f);
  };
  for (const p of permissions) tell(p.object, () => true);
  for (const c of charts) tell(c.object, (f) => c.from === undefined || c.to === undefined || (f.op === 'changed' && f.old === c.from && f.new === c.to));
  for (const r of rollouts) tell(r.object, (f) => POD_TEMPLATE_AT[r.kind]!.every((k, i) => f.path[i] === k));
  return { namespaces, permissions, charts, rollouts, objects: whole ? [] : objectConsequences(pairs, told) };
}

/** Whether the lead has anything to say. */
export const leadEmpty = (l: EnvLead | undefined): boolean => !l || (l.namespaces.length === 0 && l.permissions.length === 0 && l.charts.length === 0 && l.rollouts.length === 0 && l.objects.length === 0);

/**
 * Node steps in the order to run them: control planes first, one at a time (each gated on etcd and
 * the API being healthy before the next), then workers and pools.
 */
export function orderSteps(steps: readonly RolloutStep[]): RolloutStep[] {
  const byName = (a: RolloutStep, b: RolloutStep) => a.node.localeCompare(b.node);
  return [...steps.filter((s) => s.controlPlane).sort(byName), ...steps.filter((s) => !s.controlPlane).sort(byName)];
}
