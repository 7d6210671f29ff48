/**
 * The semantic diff of two rendered trees held in memory (paths relative to rendered/, e.g.
 * `prod/values/cert-manager.yaml`). Pure: git and the renderer only supply the two maps.
 *
 * Grouped by environment → object (Kubernetes kind/namespace/name, Talos document, Helm values file)
 * → field path. Header comments are ignored (a provenance-only change is no change); objects that
 * moved to another file are recognised by identity, files renamed without change by content; every
 * printed value goes through the secret mask.
 */
import { PROVENANCE_FILE } from '../render/header.js';
import { contentKey, splitFile, type DocKind, type RenderedDoc, isTalosConfigPath } from './documents.js';
import { deepEqual, diffValues, maskChange, maskValue, type FieldChange } from './fields.js';
import { ACTION_ORDER, talosImpact, type TalosAction, type TalosImpact, type TalosTarget } from './talos-impact.js';
import { rke2Impacts, type NodeImpact } from './rke2-impact.js';
import { awsImpacts, type AwsResourceImpact } from './aws-impact.js';

export type FileMap = ReadonlyMap<string, string>;

export type ObjectStatus = 'added' | 'removed' | 'changed' | 'moved';

export interface ObjectChange {
  id: string;
  label: string;
  kind: DocKind;
  status: ObjectStatus;
  /** Env-relative file holding the object in head (base for removed objects). */
  file: string;
  /** Where it was, when it moved. */
  from?: string;
  /** Field changes, values masked. Empty for added/removed objects. */
  fields: FieldChange[];
  /** Added/removed objects: the (masked) document. */
  value?: unknown;
  /** Text documents: lines removed and added. */
  lines?: { removed: string[]; added: string[] };
}

export interface EnvCounts {
  added: number;
  removed: number;
  changed: number;
  moved: number;
  fields: number;
}

/**
 * A step run once for the whole cluster: `talosctl upgrade-k8s` patches every node itself, so a
 * Kubernetes version change (or a bootstrap-manifest sync) is one command, not one per node.
 */
export interface ClusterStep {
  action: 'upgrade-k8s' | 'sync-manifests';
  /** The version `--to` takes: the new one for an upgrade, the running one for a manifest sync. */
  to?: string;
  from?: string;
  /** The control plane talosctl talks to (IP when known, else node name). */
  via?: string;
  /** Nodes whose configs the step covers. */
  nodes: string[];
}

export interface EnvDiff {
  env: string;
  status: 'added' | 'removed' | 'changed';
  objects: ObjectChange[];
  /** Files renamed without a content change. */
  renamed: { from: string; to: string }[];
  talos: TalosImpact[];
  /** Once-per-cluster Talos steps (upgrade-k8s), after the node steps. */
  cluster: ClusterStep[];
  /** RKE2 nodes: what applying the change takes (only present when an RKE2 node changed). */
  rke2?: NodeImpact[];
  /** AWS layer: what each changed CloudFormation resource does (only present when a template or its parameters changed). */
  aws?: AwsResourceImpact[];
  counts: EnvCounts;
}

/** What the head environment's model says about its Talos config targets (file stem → target). */
export interface EnvContext {
  talosTargets?: ReadonlyMap<string, TalosTarget>;
  /** Address (or name) of the first control plane: where cluster-wide talosctl commands go. */
  firstControlPlane?: string;
}

export type DiffContext = ReadonlyMap<string, EnvContext>;

export interface TreeDiff {
  envs: EnvDiff[];
  totals: EnvCounts & { talos: Record<TalosAction | 'new node' | 'removed node', number> };
}

function byEnv(files: FileMap): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const [p, c] of files) {
    const i = p.indexOf('/');
    if (i <= 0) continue;
    // The provenance manifest changes with every change: the diff is about what the files say.
    if (p.slice(i + 1) === PROVENANCE_FILE) continue;
    const env = p.slice(0, i);
    if (!out.has(env)) out.set(env, new Map());
    out.get(env)!.set(p.slice(i + 1), c);
  }
  return out;
}

interface Located {
  doc: RenderedDoc;
  file: string;
}

function lineChanges(a: string[], b: string[]): { removed: string[]; added: string[] } {
  const count = (xs: string[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
    return m;
  };
  const ca = count(a);
  const cb = count(b);
  const removed = a.filter((x) => {
    const n = cb.get(x) ?? 0;
    if (n > 0) {
      cb.set(x, n - 1);
      return false;
    }
    return true;
  });
  const added = b.filter((x) => {
    const n = ca.get(x) ?? 0;
    if (n > 0) {
      ca.set(x, n - 1);
      return false;
    }
    return true;
  });
  return { removed: removed.map((l) => String(maskValue(l))), added: added.map((l) => String(maskValue(l))) };
}

const emptyCounts = (): EnvCounts => ({ added: 0, removed: 0, changed: 0, moved: 0, fields: 0 });

function clusterSteps(talos: readonly TalosImpact[], ctx: EnvContext): ClusterStep[] {
  const upgrading = talos.filter((t) => t.actions.includes('upgrade-k8s'));
  const syncing = talos.filter((t) => t.actions.includes('sync-manifests'));
  const action = upgrading.length > 0 ? 'upgrade-k8s' : syncing.length > 0 ? 'sync-manifests' : undefined;
  if (!action) return [];
  const covered = talos.filter((t) => t.actions.includes('upgrade-k8s') || t.actions.includes('sync-manifests'));
  // The control planes' versions lead: upgrade-k8s upgrades them first and checks workers against them.
  const ordered = [...covered.filter((t) => t.controlPlane && !t.pool), ...covered];
  const first = ordered[0]!;
  const viaImpact = talos.find((t) => t.controlPlane && !t.pool && t.status !== 'removed');
  const via = ctx.firstControlPlane ?? viaImpact?.address ?? viaImpact?.node;
  const step: ClusterStep = { action, nodes: covered.map((t) => t.node) };
  if (first.kubernetes.to) step.to = first.kubernetes.to;
  if (action === 'upgrade-k8s' && first.kubernetes.from && first.kubernetes.from !== first.kubernetes.to) step.from = first.kubernetes.from;
  if (via) step.via = via;
  return [step];
}

export function diffEnvironment(env: string, base: ReadonlyMap<string, string>, head: ReadonlyMap<string, string>, ctx: EnvContext = {}): EnvDiff | undefined {
  // Files renamed without a content change: same documents (comments aside) at another path. Not
  // Talos node configs: a config under another node's name is another node to apply it to.
  const baseOnly = [...base.keys()].filter((p) => !head.has(p) && !isTalosConfigPath(p));
  const headOnly = [...head.keys()].filter((p) => !base.has(p) && !isTalosConfigPath(p));
  const renamed: { from: string; to: string }[] = [];
  const baseByContent = new Map<string, string>();
  for (const p of baseOnly) baseByContent.set(contentKey(p, base.get(p)!), p);
  /** head path → base path, for document identities of renamed files. */
  const alias = new Map<string, string>();
  for (const p of headOnly) {
    const key = contentKey(p, head.get(p)!);
    const from = baseByContent.get(key);
    if (from !== undefined) {
      baseByContent.delete(key);
      renamed.push({ from, to: p });
      alias.set(p, from);
    }
  }
  const renamedFrom = new Set(renamed.map((r) => r.from));
  const renamedTo = new Set(renamed.map((r) => r.to));

  const collect = (files: ReadonlyMap<string, string>, skip: Set<string>, aliasOf: (p: string) => string): Map<string, Located> => {
    const out = new Map<string, Located>();
    for (const [p, c] of files) {
      if (skip.has(p)) continue;
      for (const doc of splitFile(aliasOf(p), c)) {
        let id = doc.id;
        for (let n = 2; out.has(id); n++) id = `${doc.id}#${n}`;
        out.set(id, { doc: { ...doc, id }, file: p });
      }
    }
    return out;
  };
  const same = new Set([...base.keys()].filter((p) => head.get(p) === base.get(p)));
  const bDocs = collect(base, new Set([...same, ...renamedFrom]), (p) => p);
  const hDocs = collect(head, new Set([...same, ...renamedTo]), (p) => alias.get(p) ?? p);

  const objects: ObjectChange[] = [];
  for (const [id, b] of bDocs) {
    const h = hDocs.get(id);
    if (!h) {
      objects.push({ id, label: b.doc.label, kind: b.doc.kind, status: 'removed', file: b.file, fields: [], value: maskValue(b.doc.value) });
      continue;
    }
    const moved = h.file !== b.file && alias.get(h.file) !== b.file;
    if (deepEqual(b.doc.value, h.doc.value)) {
      if (moved) objects.push({ id, label: h.doc.label, kind: h.doc.kind, status: 'moved', file: h.file, from: b.file, fields: [] });
      continue;
    }
    const change: ObjectChange = { id, label: h.doc.label, kind: h.doc.kind, status: moved ? 'moved' : 'changed', file: h.file, fields: [] };
    if (moved) change.from = b.file;
    if (h.doc.kind === 'text') change.lines = lineChanges(b.doc.value as string[], h.doc.value as string[]);
    else change.fields = diffValues(b.doc.value, h.doc.value).map((c) => maskChange(c, h.doc.value));
    objects.push(change);
  }
  for (const [id, h] of hDocs) {
    if (!bDocs.has(id)) objects.push({ id, label: h.doc.label, kind: h.doc.kind, status: 'added', file: h.file, fields: [], value: maskValue(h.doc.value) });
  }
  objects.sort((x, y) => x.file.localeCompare(y.file) || x.label.localeCompare(y.label));

  // Talos impact per node config file whose documents changed.
  const talos: TalosImpact[] = [];
  const talosFiles = new Set([...base.keys(), ...head.keys()].filter((p) => isTalosConfigPath(p) && !same.has(p) && !renamedFrom.has(p) && !renamedTo.has(p)));
  for (const f of [...talosFiles].sort()) {
    const bd = base.has(f) ? splitFile(f, base.get(f)!) : undefined;
    const hd = head.has(f) ? splitFile(f, head.get(f)!) : undefined;
    const impact = talosImpact(f, bd, hd, ctx.talosTargets?.get(f.replace(/^.*\//, '').replace(/\.ya?ml$/, '')));
    if (impact.status !== 'changed' || impact.actions.length > 0) talos.push(impact);
  }

  const rke2 = rke2Impacts(base, head);
  const aws = awsImpacts(base, head);
  if (objects.length === 0 && renamed.length === 0 && talos.length === 0) return undefined;
  const counts = emptyCounts();
  for (const o of objects) {
    counts[o.status]++;
    counts.fields += o.fields.length + (o.lines ? o.lines.added.length + o.lines.removed.length : 0);
  }
  counts.moved += renamed.length;
  const status = base.size === 0 ? 'added' : head.size === 0 ? 'removed' : 'changed';
  return { env, status, objects, renamed, talos, cluster: clusterSteps(talos, ctx), ...(rke2.length > 0 ? { rke2 } : {}), ...(aws.length > 0 ? { aws } : {}), counts };
}

export function diffTrees(baseFiles: FileMap, headFiles: FileMap, context: DiffContext = new Map()): TreeDiff {
  const b = byEnv(baseFiles);
  const h = byEnv(headFiles);
  const envs: EnvDiff[] = [];
  for (const env of [...new Set([...b.keys(), ...h.keys()])].sort()) {
    const d = diffEnvironment(env, b.get(env) ?? new Map(), h.get(env) ?? new Map(), context.get(env));
    if (d) envs.push(d);
  }
  const totals: TreeDiff['totals'] = { ...emptyCounts(), talos: { upgrade: 0, reboot: 0, 'upgrade-k8s': 0, 'sync-manifests': 0, 'no-reboot': 0, 'new node': 0, 'removed node': 0 } };
  for (const e of envs) {
    for (const k of ['added', 'removed', 'changed', 'moved', 'fields'] as const) totals[k] += e.counts[k];
    for (const t of e.talos) if (t.headline !== 'none') totals.talos[t.headline]++;
  }
  return { envs, totals };
}

export { ACTION_ORDER };
