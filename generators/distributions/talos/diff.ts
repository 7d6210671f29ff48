/**
 * What applying a changed Talos machine config does to its node, derived from Talos' own code for
 * the pinned versions (v1.12.11 and v1.13.9 agree on every rule below):
 *
 * - `talosctl apply-config` (default mode `auto`) applies a config live when `CanApplyImmediate`
 *   passes, otherwise it persists it and reboots
 *   (T@v1.13.9:internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go `ApplyConfiguration`).
 * - `CanApplyImmediate` compares ONLY the v1alpha1 document: it copies a fixed list of sections from
 *   the running config into the new one and requires the rest to be `reflect.DeepEqual`
 *   (T@v1.12.11 and T@v1.13.9:internal/app/machined/pkg/runtime/v1alpha1/v1alpha1_runtime.go
 *   `CanApplyImmediate`). Other documents (HostnameConfig, RegistryMirrorConfig, KubeSpanConfig,
 *   VolumeConfig …) never force a reboot. The machine.features members are copied only when both
 *   configs have a `features` section.
 * - `machine.install.image` is in that list: changing it is stored, NOT installed. A new Talos
 *   version or a new Image Factory schematic (extensions, kernel args baked into the image) needs
 *   `talosctl upgrade --image <machine.install.image>` (T@v1.13.9:cmd/talosctl/cmd/talos/upgrade.go;
 *   the installer writes kernel args and extensions, so install.extraKernelArgs/extensions likewise).
 * - `talosctl upgrade-k8s` patches `cluster.apiServer.image`, `cluster.controllerManager.image`,
 *   `cluster.scheduler.image`, `cluster.proxy.image` and `machine.kubelet.image` node by node with
 *   NO_REBOOT and then syncs the bootstrap manifests (CoreDNS, kube-proxy, flannel)
 *   (T@v1.13.9:pkg/cluster/kubernetes/talos_managed.go, patch.go, kubelet.go). A Kubernetes version
 *   change is therefore an `upgrade-k8s`, not a plain apply.
 * - The bootstrap manifests (flannel with kube-network-policies, kube-proxy, CoreDNS) are rendered
 *   on control planes from `cluster.network.cni`, `cluster.proxy.{disabled,mode,extraArgs}` and
 *   `cluster.coreDNS` (T@v1.13.9:internal/app/machined/pkg/controllers/k8s/control_plane.go
 *   ControlPlaneBootstrapManifestsController). apply-config stores these live, but the manifest
 *   controller only CREATES objects that do not exist yet (manifest_apply.go `apply`: an existing
 *   object is skipped), so a running cluster keeps its old DaemonSets. `talosctl upgrade-k8s --to
 *   <current version>` syncs them (talos_managed.go `PerformManifestsSync`): from Talos 1.13 with
 *   server-side apply, pruning objects no longer rendered (`--manifests-no-prune` off); on 1.12 with
 *   the legacy sync, which updates but never deletes (go-kubernetes manifests.Sync). Workers do not
 *   run that controller: for them these fields are stored and inert.
 */
import type { EnvDiff } from '../../diff/diff.js';
import { splitFile, type RenderedDoc } from '../../diff/documents.js';
import { deepEqual, diffValues, formatFieldPath, type FieldPath } from '../../diff/fields.js';
import type { EnvironmentModel } from '../../model/types.js';
import type { EnvChange } from '../types.js';
import { TALOS_RELEASES, talosMinorOfInstaller } from './release.js';

export type TalosAction = 'no-reboot' | 'reboot' | 'upgrade' | 'upgrade-k8s' | 'sync-manifests';

/** Most disruptive first: the headline of a node is its first action in this order. */
export const ACTION_ORDER: readonly TalosAction[] = ['upgrade', 'reboot', 'upgrade-k8s', 'sync-manifests', 'no-reboot'];

/** What each action does, for the text report (the commands themselves: `nodeCommand`, `clusterStep`). */
export const ACTION_TEXT: Record<TalosAction, string> = {
  upgrade: 'talosctl upgrade with the new installer image (Talos version or schematic)',
  reboot: 'talosctl apply-config: reboots the node (a field outside the live-apply list changed)',
  'upgrade-k8s': 'talosctl upgrade-k8s, once for the cluster (Kubernetes component images changed)',
  'sync-manifests': 'talosctl apply-config (live), then talosctl upgrade-k8s --to <the current version>, once for the cluster, to sync the bootstrap manifests (CNI, kube-proxy, CoreDNS)',
  'no-reboot': 'talosctl apply-config: applied live, no reboot',
};

export interface TalosReason {
  path: string;
  action: TalosAction;
  why: string;
}

/** What the diff knows about a config target beyond its file (from the head environment's model). */
export interface TalosTarget {
  /** An auto-scaled pool: its config is the launch template's user data. */
  pool: boolean;
  /** The node's IP (fixed nodes). */
  address?: string;
}

export interface TalosImpact {
  /** Node (or auto-scaled pool) the config is for: the file stem. */
  node: string;
  file: string;
  /** Known from the environment model: an auto-scaled pool (else a fixed node or unknown). */
  pool?: boolean;
  /** The node's IP when known. */
  address?: string;
  /** machine.type of the config (head, or base for a removed node) is not `worker`. */
  controlPlane: boolean;
  /** machine.install.image of the head config (base for a removed node). */
  installImage?: string;
  /** Kubernetes version from machine.kubelet.image, base and head (without the `v`). */
  kubernetes: { from?: string; to?: string };
  status: 'changed' | 'added' | 'removed';
  /** Actions needed, most disruptive first; empty when nothing in the config changed. */
  actions: TalosAction[];
  headline: TalosAction | 'new node' | 'removed node' | 'none';
  reasons: TalosReason[];
}

/** v1alpha1 sections `CanApplyImmediate` copies from the running config (v1alpha1_runtime.go L149–L205 at v1.13.9). */
const IMMEDIATE: readonly string[][] = [
  ['debug'],
  ['cluster'],
  ['machine', 'ca'],
  ['machine', 'acceptedCAs'],
  ['machine', 'time'],
  ['machine', 'certSANs'],
  ['machine', 'install'],
  ['machine', 'network'],
  ['machine', 'sysfs'],
  ['machine', 'sysctls'],
  ['machine', 'logging'],
  ['machine', 'controlPlane'],
  ['machine', 'kubelet'],
  ['machine', 'kernel'],
  ['machine', 'registries'],
  ['machine', 'pods'],
  ['machine', 'seccompProfiles'],
  ['machine', 'nodeAnnotations'],
  ['machine', 'nodeLabels'],
  ['machine', 'nodeTaints'],
];

/** machine.features members copied only when both configs have machine.features (same function). */
const IMMEDIATE_FEATURES: readonly string[] = ['kubernetesTalosAPIAccess', 'kubePrism', 'hostDNS', 'imageCache', 'nodeAddressSortAlgorithm'];

/** The five images `upgrade-k8s` patches (pkg/cluster/kubernetes/talos_managed.go, kubelet.go). */
const K8S_IMAGES: readonly string[][] = [
  ['machine', 'kubelet', 'image'],
  ['cluster', 'apiServer', 'image'],
  ['cluster', 'controllerManager', 'image'],
  ['cluster', 'scheduler', 'image'],
  ['cluster', 'proxy', 'image'],
];

/** Stored live, but only the installer acts on them: they take effect with `talosctl upgrade`. */
const INSTALLER_FIELDS: readonly string[][] = [
  ['machine', 'install', 'image'],
  ['machine', 'install', 'extensions'],
  ['machine', 'install', 'extraKernelArgs'],
];

/** Inputs of Talos' bootstrap manifests that apply-config alone does not roll out (see the header). */
const BOOTSTRAP_MANIFEST_FIELDS: readonly string[][] = [
  ['cluster', 'network', 'cni'],
  ['cluster', 'proxy', 'disabled'],
  ['cluster', 'proxy', 'mode'],
  ['cluster', 'proxy', 'extraArgs'],
  ['cluster', 'coreDNS'],
];

/** What a changed config is for: control planes render the bootstrap manifests; 1.13+ prunes on sync. */
export interface ClassifyContext {
  controlPlane: boolean;
  /** The target Talos minor's manifest sync prunes removed objects (server-side apply, 1.13+). */
  prunes: boolean;
}

const startsWith = (path: FieldPath, prefix: readonly string[]): boolean => prefix.every((p, i) => path[i] === p);
const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function featuresInBoth(a: unknown, b: unknown): boolean {
  const fa = isMap(a) && isMap(a.machine) ? a.machine.features : undefined;
  const fb = isMap(b) && isMap(b.machine) ? b.machine.features : undefined;
  return isMap(fa) && isMap(fb);
}

/** Classify one changed path of the v1alpha1 document. */
export function classifyV1Alpha1Path(path: FieldPath, featuresBoth: boolean, ctx: ClassifyContext = { controlPlane: true, prunes: true }): { action: TalosAction; why: string } {
  // The field itself, something inside it, or a section holding it (cluster.network added whole).
  const manifest = BOOTSTRAP_MANIFEST_FIELDS.find((p) => startsWith(path, p) || (path.length >= 2 && startsWith(p as FieldPath, path.map(String))));
  if (manifest) {
    const field = path.length < manifest.length ? path.join('.') : manifest.join('.');
    if (!ctx.controlPlane) return { action: 'no-reboot', why: `${field} is applied live; only control planes render the bootstrap manifests from it` };
    return {
      action: 'sync-manifests',
      why: `${field} feeds Talos' bootstrap manifests: apply-config stores it live, but Talos only creates missing manifest objects; upgrade-k8s syncs them${ctx.prunes ? ' and prunes what is no longer rendered' : ' (Talos 1.12 does not prune: delete DaemonSets no longer rendered, e.g. kube-flannel or kube-proxy, by hand)'}`,
    };
  }
  if (K8S_IMAGES.some((p) => startsWith(path, p) && path.length === p.length)) return { action: 'upgrade-k8s', why: 'Kubernetes component image: upgrade-k8s patches it (no reboot) and syncs bootstrap manifests' };
  if (INSTALLER_FIELDS.some((p) => startsWith(path, p))) return { action: 'upgrade', why: 'read by the installer only: apply stores it, talosctl upgrade installs it' };
  if (path.length >= 2 && path[0] === 'machine' && path[1] === 'features' && path.length >= 3 && IMMEDIATE_FEATURES.includes(String(path[2]))) {
    return featuresBoth
      ? { action: 'no-reboot', why: `machine.features.${String(path[2])} is applied live` }
      : { action: 'reboot', why: 'machine.features is added or removed as a whole: only its members present on both sides apply live' };
  }
  const prefix = IMMEDIATE.find((p) => startsWith(path, p));
  if (prefix) return { action: 'no-reboot', why: `${prefix.join('.')} is applied live` };
  return { action: 'reboot', why: 'not in CanApplyImmediate\'s live-apply list' };
}

/** Role of a v1alpha1 document, and whether its Talos minor (installer image tag) prunes on manifest sync. */
function classifyContext(doc: unknown): ClassifyContext {
  const machine = isMap(doc) && isMap(doc.machine) ? doc.machine : {};
  const minor = talosMinorOfInstaller(isMap(machine.install) ? machine.install.image : undefined);
  return { controlPlane: machine.type !== 'worker', prunes: minor ? TALOS_RELEASES[minor].manifestSyncPrunes : true };
}

function v1alpha1(docs: readonly RenderedDoc[]): unknown {
  return docs.find((d) => d.kind === 'talos' && d.label === 'v1alpha1 machine config')?.value;
}

const sortActions = (s: Set<TalosAction>): TalosAction[] => ACTION_ORDER.filter((a) => s.has(a));

/** The Kubernetes version a config runs: the tag of machine.kubelet.image, without `v`. */
export function kubeletVersion(doc: unknown): string | undefined {
  const machine = isMap(doc) && isMap(doc.machine) ? doc.machine : undefined;
  const image = machine && isMap(machine.kubelet) ? machine.kubelet.image : undefined;
  const m = typeof image === 'string' ? /:v?([0-9][^@:]*)(@.*)?$/.exec(image) : null;
  return m ? m[1] : undefined;
}

function installImageOf(doc: unknown): string | undefined {
  const machine = isMap(doc) && isMap(doc.machine) ? doc.machine : undefined;
  const image = machine && isMap(machine.install) ? machine.install.image : undefined;
  return typeof image === 'string' ? image : undefined;
}

const isControlPlane = (doc: unknown): boolean => !(isMap(doc) && isMap(doc.machine) && doc.machine.type === 'worker');

/** The impact of changing one node's config from `base` to `head` (either may be absent). */
export function talosImpact(file: string, base: readonly RenderedDoc[] | undefined, head: readonly RenderedDoc[] | undefined, target?: TalosTarget): TalosImpact {
  const node = file.replace(/^.*\//, '').replace(/\.ya?ml$/, '');
  const a = base ? v1alpha1(base) : undefined;
  const b = head ? v1alpha1(head) : undefined;
  const known = target ? { pool: target.pool, ...(target.address ? { address: target.address } : {}) } : {};
  const image = installImageOf(b ?? a);
  const facts = { node, file, ...known, controlPlane: isControlPlane(b ?? a), ...(image ? { installImage: image } : {}), kubernetes: { from: kubeletVersion(a), to: kubeletVersion(b) } };
  if (!base) {
    const why = target?.pool
      ? 'new auto-scaled pool: the config is new launch template user data; instances boot with it (no apply-config)'
      : 'new config: its join script applies it to the node in maintenance mode (talosctl apply-config --insecure)';
    return { ...facts, status: 'added', actions: [], headline: 'new node', reasons: [{ path: '(file)', action: 'no-reboot', why }] };
  }
  if (!head) return { ...facts, status: 'removed', actions: [], headline: 'removed node', reasons: [{ path: '(file)', action: 'no-reboot', why: 'config removed: before the merge, its remove script (quorum checked, drained, etcd left, reset, Node deleted)' }] };
  const reasons: TalosReason[] = [];
  const actions = new Set<TalosAction>();
  const featuresBoth = featuresInBoth(a, b);
  const ctx = classifyContext(b ?? a);
  if ((a === undefined) !== (b === undefined)) {
    reasons.push({ path: 'v1alpha1', action: 'reboot', why: 'the v1alpha1 document appears or disappears: CanApplyImmediate fails' });
    actions.add('reboot');
  } else if (!deepEqual(a, b)) {
    for (const c of diffValues(a, b)) {
      const { action, why } = classifyV1Alpha1Path(c.path, featuresBoth, ctx);
      actions.add(action);
      reasons.push({ path: formatFieldPath(c.path), action, why });
    }
  }
  // Every other document: not compared by CanApplyImmediate, applied live.
  const others = (docs: readonly RenderedDoc[]): Map<string, unknown> => new Map(docs.filter((d) => d.label !== 'v1alpha1 machine config').map((d) => [d.label, d.value]));
  const oa = others(base);
  const ob = others(head);
  for (const label of [...new Set([...oa.keys(), ...ob.keys()])].sort()) {
    if (deepEqual(oa.get(label), ob.get(label))) continue;
    actions.add('no-reboot');
    reasons.push({ path: label, action: 'no-reboot', why: 'documents other than v1alpha1 are applied live' });
  }
  const sorted = sortActions(actions);
  return { ...facts, status: 'changed', actions: sorted, headline: sorted[0] ?? 'none', reasons };
}

/** A Talos machine configuration file (multi-doc with a v1alpha1 document), env-relative. */
export const TALOS_NODE_CONFIG = /^talos\/(?!schematics\/)[^/]+\.ya?ml$/;

/** The identity of a Talos document in a rendered file, else undefined. */
export function identifyTalosDocument(path: string, value: Record<string, unknown>): { id: string; label: string } | undefined {
  // The v1alpha1 document has `version: v1alpha1` and no kind (T@v1.13.9:pkg/machinery/config/types/v1alpha1/v1alpha1_types.go).
  if (value.version === 'v1alpha1' && value.kind === undefined && (isMap(value.machine) || isMap(value.cluster))) return { id: `talos:${path}:v1alpha1`, label: 'v1alpha1 machine config' };
  // Multi-doc documents: `apiVersion: v1alpha1`, `kind`, optional `name` (T@v1.13.9:pkg/machinery/config/config/document.go).
  if (value.apiVersion === 'v1alpha1' && typeof value.kind === 'string') {
    const name = typeof value.name === 'string' ? ` ${value.name}` : '';
    return { id: `talos:${path}:${value.kind}${name}`, label: `${value.kind}${name}` };
  }
  return undefined;
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
  /** Nodes whose configs the step covers. */
  nodes: string[];
}

/** What the head environment's model says about its config targets (file stem → target). */
export interface TalosDiffContext {
  talosTargets: ReadonlyMap<string, TalosTarget>;
}

/** The keys Talos adds to every environment's diff: node impacts, then once-per-cluster steps. */
export interface TalosDiffEntries {
  talos: TalosImpact[];
  /** Once-per-cluster Talos steps (upgrade-k8s), after the node steps. */
  cluster: ClusterStep[];
}

/** The key Talos adds to the diff's totals: node impacts by headline. */
export interface TalosDiffTotals {
  talos: Record<TalosAction | 'new node' | 'removed node', number>;
}

export function talosDiffContext(model: EnvironmentModel): TalosDiffContext {
  const talosTargets = new Map<string, TalosTarget>(model.configTargets.map((t) => [t.name, t.node ? { pool: false, address: t.node.ip } : { pool: true }]));
  return { talosTargets };
}

function clusterSteps(talos: readonly TalosImpact[]): ClusterStep[] {
  const upgrading = talos.filter((t) => t.actions.includes('upgrade-k8s'));
  const syncing = talos.filter((t) => t.actions.includes('sync-manifests'));
  const action = upgrading.length > 0 ? 'upgrade-k8s' : syncing.length > 0 ? 'sync-manifests' : undefined;
  if (!action) return [];
  const covered = talos.filter((t) => t.actions.includes('upgrade-k8s') || t.actions.includes('sync-manifests'));
  // The control planes' versions lead: upgrade-k8s upgrades them first and checks workers against them.
  const ordered = [...covered.filter((t) => t.controlPlane && !t.pool), ...covered];
  const first = ordered[0]!;
  const step: ClusterStep = { action, nodes: covered.map((t) => t.node) };
  if (first.kubernetes.to) step.to = first.kubernetes.to;
  if (action === 'upgrade-k8s' && first.kubernetes.from && first.kubernetes.from !== first.kubernetes.to) step.from = first.kubernetes.from;
  return [step];
}

/** The impact per node config file whose documents changed, and the cluster steps they need. */
export function talosEnvImpact(change: EnvChange, context: unknown): { entries: TalosDiffEntries; nodes: number } {
  const ctx = (context ?? {}) as Partial<TalosDiffContext>;
  const { base, head } = change;
  const talos: TalosImpact[] = [];
  const files = new Set([...base.keys(), ...head.keys()].filter((p) => TALOS_NODE_CONFIG.test(p) && change.changed(p)));
  for (const f of [...files].sort()) {
    const bd = base.has(f) ? splitFile(f, base.get(f)!) : undefined;
    const hd = head.has(f) ? splitFile(f, head.get(f)!) : undefined;
    const impact = talosImpact(f, bd, hd, ctx.talosTargets?.get(f.replace(/^.*\//, '').replace(/\.ya?ml$/, '')));
    if (impact.status !== 'changed' || impact.actions.length > 0) talos.push(impact);
  }
  return { entries: { talos, cluster: clusterSteps(talos) }, nodes: talos.length };
}

/** Node impacts over every environment, by headline. */
export function talosTotals(envs: readonly EnvDiff[]): TalosDiffTotals {
  const totals: TalosDiffTotals = { talos: { upgrade: 0, reboot: 0, 'upgrade-k8s': 0, 'sync-manifests': 0, 'no-reboot': 0, 'new node': 0, 'removed node': 0 } };
  for (const e of envs) for (const t of e.talos) if (t.headline !== 'none') totals.talos[t.headline]++;
  return totals;
}
