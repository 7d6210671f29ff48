/**
 * K3s rules: extra config keys must be real flags of the pinned K3s release for the role they land
 * on (unknown keys are only a warning inside K3s, so they are caught here), keys the generator owns
 * stay with the generator, and the versions the K3s target relies on.
 */
import type { DocPath } from '../../lib/paths.js';
import { didYouMean } from '../../lib/suggest.js';
import { minorOf } from '../../model/build.js';
import { distributionsRunning } from '../registry.js';
import type { ConfigArgs as K3sArgs } from '../rancher/model.js';
import { checkFlag, K3S_MANAGED_KEYS, type K3sRole } from './flags.js';
import { K3S_RELEASES, k3sReleaseProblem } from './releases.js';
import { containerdRule, type Settings } from '../rancher/containerd.js';
import { serverArgsRule, serverDisableItems } from '../rancher/server-args.js';
import type { EnvironmentInput } from '../../model/input.js';
import { K3S_CONTAINERD } from './containerd.js';
import { inheritedHint, reportForeignSetting, type Reporter, type Rule, type RuleContext } from '../../validate/rules.js';

/** cluster.k3s and nodePools[].k3s, as the family's shared rules read them. */
const k3sSettings = (input: EnvironmentInput): Settings => ({ cluster: input.cluster.k3s, pool: (i) => input.nodePools[i]!.k3s });

/** K3s minors whose flag tables ./flags.ts holds (their releases: ./releases.ts). */
export const K3S_SUPPORTED_MINORS: readonly string[] = Object.keys(K3S_RELEASES);

/** First K3s releases whose Kine has the `litestream://` compatibility driver (kine v0.14.11). */
const LITESTREAM_KINE_MIN: Record<string, number> = { '1.35': 1, '1.36': 0 };

function checkArgs(report: Reporter, role: K3sRole, args: K3sArgs | undefined, at: DocPath): void {
  for (const [key, value] of Object.entries(args ?? {})) {
    const managed = K3S_MANAGED_KEYS[key];
    if (managed !== undefined) {
      report('k3s-extra-args', [...at, key], `'${key}' is set by the generator`, { key: true, hint: managed });
      continue;
    }
    const issue = checkFlag(role, key, value, (w, c) => didYouMean(w, c));
    if (!issue) continue;
    report('k3s-extra-args', [...at, key], issue.message, { key: issue.on === 'key', hint: issue.hint });
  }
}

const k3sExtraArgs: Rule = ({ input }: RuleContext, report) => {
  if (input.cluster.distribution !== 'k3s') return;
  checkArgs(report, 'server', input.cluster.k3s?.extraArgs, ['cluster', 'k3s', 'extraArgs']);
  input.nodePools.forEach((p, i) => checkArgs(report, p.role === 'controlplane' ? 'server' : 'agent', p.k3s?.extraArgs, ['nodePools', i, 'k3s', 'extraArgs']));
};

const k3sSettingsElsewhere: Rule = ({ input }, report) => {
  if (input.cluster.distribution === 'k3s') return;
  if (input.cluster.k3s) report('k3s-settings', ['cluster', 'k3s'], 'k3s settings are only used by distribution k3s', { key: true, hint: `remove it, or set cluster.distribution: k3s; ${inheritedHint('k3s')}` });
  input.nodePools.forEach((p, i) => {
    if (p.k3s) report('k3s-settings', ['nodePools', i, 'k3s'], 'k3s settings are only used by distribution k3s', { key: true, hint: `remove it, or set cluster.distribution: k3s; ${inheritedHint('k3s')}` });
  });
};

/** k3sVersion is on a supported line and a release of it the generator lists. */
const listedK3sRelease = (version: string): boolean =>
  (K3S_SUPPORTED_MINORS as readonly string[]).includes(minorOf(version)) && !k3sReleaseProblem(version);

const k3sVersions: Rule = ({ input }, report) => {
  const c = input.cluster;
  if (c.distribution !== 'k3s' || !c.k3sVersion) return;
  const minor = minorOf(c.k3sVersion);
  if (!(K3S_SUPPORTED_MINORS as readonly string[]).includes(minor)) {
    report('k3s-version', ['cluster', 'k3sVersion'], `K3s ${minor} is not supported by this generator`, {
      hint: `its K3s flag tables cover ${K3S_SUPPORTED_MINORS.map((m) => `v${m}.x`).join(', ')}`,
    });
    return;
  }
  const release = k3sReleaseProblem(c.k3sVersion);
  if (release) {
    report('k3s-release', ['cluster', 'k3sVersion'], `K3s ${c.k3sVersion} is not a release this generator lists (the newest listed v${minor} release is ${release.newest})`, {
      hint: release.first
        ? `K3s ${minor} starts at ${release.first} (there is no earlier ${minor} release); did you mean ${release.newest}?`
        : `did you mean ${release.newest}? newer releases are added to generators/distributions/k3s/releases.ts`,
    });
    return;
  }
  if (c.datastore.type === 'kine-sqlite') {
    const patch = Number(c.k3sVersion.slice(1).split('+')[0]!.split('.')[2]);
    const min = LITESTREAM_KINE_MIN[minor];
    if (min === undefined || patch < min)
      report('k3s-version', ['cluster', 'k3sVersion'], `K3s ${c.k3sVersion} bundles a Kine without the litestream:// driver`, {
        hint: 'kine-sqlite with Litestream needs Kine ≥ v0.14.11 (K3s ≥ v1.35.1+k3s1): without it Kine\'s WAL checkpoints stall against Litestream (kine issue #586)',
      });
  }
  const ls = c.datastore.litestream;
  if (c.datastore.type === 'kine-sqlite' && ls?.version && !/^v0\.5\./.test(ls.version))
    report('litestream-version', ['cluster', 'datastore', 'litestream', 'version'], `Litestream ${ls.version} is not supported`, {
      hint: 'the rendered litestream.yml uses the v0.5 format (one `replica:` per database); v0.3 and v0.5 replicas are not interchangeable',
    });
};

/**
 * Packaged components the environment may not disable (`disable`, `disable-network-policy`, `disable-kube-proxy` in a
 * server's extraArgs): those nothing replaces.
 * The generator disables the ones the catalog replaces itself (./config.ts K3S_DISABLED_COMPONENTS); of the others,
 * - coredns is the cluster's DNS: k3s-io/k3s manifests/coredns.yaml @66c487bd (Service kube-dns, clusterIP
 *   %{CLUSTER_DNS}%: the cluster DNS address the kubelets hand to pods); the catalog has no DNS add-on;
 * - runtimes deploys the RuntimeClass nvidia (manifests/runtimes.yaml @c77d0b85) that the NVIDIA device plugin runs
 *   with (../rancher/host.ts NVIDIA_DEVICE_PLUGIN_VALUES runtimeClassName) and that the catalog does not render on K3s
 *   (./index.ts facts.runtimeClasses: one owner); the RuntimeClass admission plugin refuses a pod naming a missing one.
 * A disabled component is removed from the server's manifests directory and its objects deleted (pkg/deploy/controller.go
 * listFilesIn: "Disabled files are not just skipped, but actively deleted"), on a running cluster too.
 */
const k3sDisable: Rule = ({ input }, report) => {
  if (input.cluster.distribution !== 'k3s') return;
  const gpuPool = input.nodePools.find((p) => p.gpu);
  for (const { item, at: where } of serverDisableItems(input, 'k3s', k3sSettings(input))) {
    if (item === 'coredns')
      report('k3s-disable', where, "'coredns' disables K3s' CoreDNS, the cluster's DNS (Service kube-dns at the address the kubelets give every pod), and no add-on replaces it: no pod could resolve a name (the GitOps engine its Git host, External Secrets the SSM endpoint, workloads each other's Services)", {
        hint: 'remove coredns from disable; K3s keeps CoreDNS as its one owner',
      });
    if (item === 'runtimes' && gpuPool)
      report('k3s-disable', where, `'runtimes' disables the RuntimeClasses K3s deploys, among them nvidia, which the GPU pool ${gpuPool.name} needs (nvidia-device-plugin runs with runtimeClassName: nvidia, and the catalog renders none on K3s, whose own is the one owner): the API server refuses every such pod (RuntimeClass "nvidia" not found)`, {
        hint: 'remove runtimes from disable',
      });
  }
  // With flannel nothing replaces K3s' own kube-proxy and network policy controller (Cilium does, and ./config.ts turns
  // both off with it): docs.k3s.io "Basic Network Options" (--disable-network-policy with another policy engine only).
  const flannel = (input.cluster.network?.cni ?? 'flannel') === 'flannel';
  const switches = (args: Record<string, unknown> | undefined, at: DocPath) => {
    if (!flannel) return;
    if (args?.['disable-network-policy'] === true)
      report('k3s-disable', [...at, 'disable-network-policy'], "disable-network-policy turns off K3s' network policy controller (kube-router), the only NetworkPolicy enforcer with flannel: every rendered NetworkPolicy (the workloads' default-deny, the GitOps engine's own) would be accepted and never enforced", {
        hint: 'remove it; with cluster.network.cni: cilium, Cilium enforces the policies and K3s\' controller is turned off by the generator',
      });
    if (args?.['disable-kube-proxy'] === true)
      report('k3s-disable', [...at, 'disable-kube-proxy'], "disable-kube-proxy turns off kube-proxy, which nothing replaces with flannel: no Service address would route (the kubernetes Service of the API server, kube-dns, every add-on's webhook)", {
        hint: 'remove it; with cluster.network.cni: cilium, Cilium replaces kube-proxy and the generator turns it off',
      });
  };
  switches(input.cluster.k3s?.extraArgs, ['cluster', 'k3s', 'extraArgs']);
  input.nodePools.forEach((p, i) => {
    if (p.role === 'controlplane') switches(p.k3s?.extraArgs, ['nodePools', i, 'k3s', 'extraArgs']);
  });
};

/** snapshotter and default-runtime against what K3s' containerd has (../rancher/containerd.ts). */
const k3sContainerd: Rule = containerdRule('k3s', 'k3sVersion', K3S_CONTAINERD, k3sSettings);

/**
 * cluster-dns and the split-role flags (../rancher/server-args.ts). On K3s the DNS address is the clusterIP of
 * manifests/coredns.yaml's kube-dns Service (`clusterIP: %{CLUSTER_DNS}%`, which pkg/server/server.go stages from
 * ControlConfig.ClusterDNS); split roles, refused: docs.k3s.io/installation/server-roles ("Managing Server Roles": an
 * etcd-only server with --disable-apiserver --disable-controller-manager --disable-scheduler, a control-plane-only one
 * with --disable-etcd --server <etcd-only node>; "This document is only relevant when using embedded etcd. When not
 * using embedded etcd, all servers will have the control-plane role", which K3s here, on Kine, always is).
 */
const k3sServerArgs: Rule = serverArgsRule('k3s', 'K3s', 'docs.k3s.io/installation/server-roles', k3sSettings);

export const K3S_RULES: readonly Rule[] = [k3sExtraArgs, k3sDisable, k3sSettingsElsewhere, k3sVersions, k3sContainerd, k3sServerArgs];

/** The k3s target runs Kine, not etcd. */
export const k3sDatastore: Rule = ({ input }, report) => {
  const c = input.cluster;
  if (c.distribution === 'k3s' && c.datastore.type === 'etcd')
    report('k3s-datastore', ['cluster', 'datastore', 'type'], 'the k3s target is for Kine: choose kine-postgres or kine-sqlite', {
      hint: `for etcd, use ${distributionsRunning('etcd')
        .map((d) => `distribution: ${d.name}${d.schema.datastoreNotes?.['type.etcd'] ? ` (etcd: ${d.schema.datastoreNotes['type.etcd']})` : ''}`)
        .join(' or ')}`,
    });
};

/** k3sVersion: required, and the Kubernetes version it ships; only on K3s. */
export const k3sVersionKey: Rule = (ctx, report) => {
  const c = ctx.input.cluster;
  if (c.distribution !== 'k3s') {
    if (c.k3sVersion !== undefined) reportForeignSetting(ctx, report, 'k3sVersion', { message: 'k3sVersion is only used by distribution k3s' });
    return;
  }
  if (!c.k3sVersion) report('k3s-version', ['cluster'], 'distribution k3s needs k3sVersion (e.g. v1.35.1+k3s1)', { key: true, hint: 'add cluster.k3sVersion: a K3s release tag (vX.Y.Z+k3sN) whose Kubernetes minor the catalog supports' });
  // Only for a release the generator lists: for any other, k3sVersions names the release itself, and "ships Kubernetes
  // 1.35.99" would only send the user to change kubernetesVersion to a Kubernetes no K3s ships.
  else if (listedK3sRelease(c.k3sVersion) && c.k3sVersion.slice(1).split('+')[0] !== c.kubernetesVersion) {
    const ships = c.k3sVersion.slice(1).split('+')[0]!;
    report('k3s-version', ['cluster', 'k3sVersion'], `K3s ${c.k3sVersion} ships Kubernetes ${ships}, not kubernetesVersion ${c.kubernetesVersion}`, { hint: `a K3s release pins its Kubernetes version; set kubernetesVersion: ${ships}, or choose the K3s release of the Kubernetes you want` });
  }
};

/** File names in k3s/ next to the per-node configs (k3s/<node or auto-scaled pool>.yaml). */
export const K3S_RESERVED_TARGETS: readonly string[] = ['litestream'];

export const configTargetNames: Rule = ({ input }, report) => {
  if (input.cluster.distribution !== 'k3s') return;
  input.nodePools.forEach((p, i) => {
    const targets = p.count !== undefined ? [{ name: p.name, at: ['nodePools', i, 'name'] }] : (p.nodes ?? []).map((n, j) => ({ name: n.name, at: ['nodePools', i, 'nodes', j, 'name'] }));
    for (const t of targets)
      if (K3S_RESERVED_TARGETS.includes(t.name))
        report('config-target-name', t.at, `'${t.name}' would name the config k3s/${t.name}.yaml, which is the Litestream config of kine-sqlite`, { hint: `reserved under k3s/: ${K3S_RESERVED_TARGETS.join(', ')}; rename the ${p.count !== undefined ? 'pool' : 'node'}` });
  });
};
