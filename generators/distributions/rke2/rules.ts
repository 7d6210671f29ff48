/**
 * RKE2 rules: the release is one the generator lists; extra config keys must be real flags of the
 * pinned RKE2 release for the role they land on (RKE2 only warns about unknown keys); supervisor flags RKE2
 * dropped are refused with what to do instead; generator-owned and cluster-wide keys stay where
 * they belong; and the datastore and backup settings RKE2 can actually honour.
 */
import type { DocPath } from '../../lib/paths.js';
import { didYouMean } from '../../lib/suggest.js';
import { addonOwner } from '../../catalog/index.js';
import { minorOf } from '../../model/build.js';
import { distributionNamed, distributionsRunning } from '../registry.js';
import type { ConfigArgs } from '../rancher/model.js';
import type { NodeRole } from '../rancher/config.js';
import { checkRke2Flag, RKE2_CLUSTER_WIDE_KEYS, RKE2_MANAGED_KEYS } from './flags.js';
import { containerdRule, type Settings } from '../rancher/containerd.js';
import { serverArgsRule, serverDisableItems } from '../rancher/server-args.js';
import type { EnvironmentInput } from '../../model/input.js';
import { RKE2_CONTAINERD } from './containerd.js';
import { inheritedHint, reportForeignSetting, type Reporter, type Rule } from '../../validate/rules.js';

/**
 * RKE2 releases the generator renders for (rancher/rke2 release tags, no release candidates), per
 * minor, oldest first. The flag tables (./flags.ts) are those of v1.35.7+rke2r1 and the
 * same on v1.34.10+rke2r1 and v1.36.3+rke2r1. A new release is a new entry here.
 */
export const RKE2_RELEASES: Readonly<Record<string, readonly string[]>> = {
  '1.34': ['v1.34.8+rke2r1', 'v1.34.8+rke2r2', 'v1.34.9+rke2r1', 'v1.34.10+rke2r1'],
  '1.35': ['v1.35.4+rke2r1', 'v1.35.5+rke2r1', 'v1.35.5+rke2r2', 'v1.35.6+rke2r1', 'v1.35.7+rke2r1'],
  '1.36': ['v1.36.1+rke2r2', 'v1.36.2+rke2r1', 'v1.36.3+rke2r1'],
};

/** The Kubernetes version an RKE2 release ships (v1.35.7+rke2r1 → 1.35.7). */
export const rke2Kubernetes = (version: string): string => version.slice(1).split('+')[0]!;

function checkArgs(report: Reporter, role: NodeRole, args: ConfigArgs | undefined, at: DocPath, clusterWide: boolean): void {
  for (const [key, value] of Object.entries(args ?? {})) {
    const managed = RKE2_MANAGED_KEYS[key];
    if (managed !== undefined) {
      report('rke2-extra-args', [...at, key], `'${key}' is set by the generator`, { key: true, hint: managed });
      continue;
    }
    const issue = checkRke2Flag(role, key, value, (w, c) => didYouMean(w, c));
    if (issue) {
      report('rke2-extra-args', [...at, key], issue.message, { key: issue.on === 'key', hint: issue.hint });
      continue;
    }
    if (!clusterWide && role === 'server' && RKE2_CLUSTER_WIDE_KEYS.includes(key))
      report('rke2-extra-args', [...at, key], `'${key}' must be the same on every server`, { key: true, hint: 'set it once in cluster.rke2.extraArgs: a server whose value differs refuses to join' });
  }
}

const rke2ExtraArgs: Rule = ({ input }, report) => {
  if (input.cluster.distribution !== 'rke2') return;
  checkArgs(report, 'server', input.cluster.rke2?.extraArgs, ['cluster', 'rke2', 'extraArgs'], true);
  input.nodePools.forEach((p, i) => checkArgs(report, p.role === 'controlplane' ? 'server' : 'agent', p.rke2?.extraArgs, ['nodePools', i, 'rke2', 'extraArgs'], false));
};

const rke2SettingsElsewhere: Rule = ({ input }, report) => {
  if (input.cluster.distribution === 'rke2') return;
  if (input.cluster.rke2) report('rke2-settings', ['cluster', 'rke2'], 'rke2 settings are only used by distribution rke2', { key: true, hint: `remove it, or set cluster.distribution: rke2; ${inheritedHint('rke2')}` });
  input.nodePools.forEach((p, i) => {
    if (p.rke2) report('rke2-settings', ['nodePools', i, 'rke2'], 'rke2 settings are only used by distribution rke2', { key: true, hint: `remove it, or set cluster.distribution: rke2; ${inheritedHint('rke2')}` });
  });
  const b = input.cluster.datastore.backup;
  if (b?.retention !== undefined) {
    const d = distributionNamed(input.cluster.distribution);
    report('rke2-settings', ['cluster', 'datastore', 'backup', 'retention'], 'backup.retention is only used by distribution rke2', {
      key: true,
      hint: `on ${d?.title ?? input.cluster.distribution}, ${d?.facts.snapshotExpiry ?? 'expire snapshots with an S3 lifecycle rule on the bucket'}`,
    });
  }
};

const rke2Version: Rule = ({ input }, report) => {
  const c = input.cluster;
  if (c.distribution !== 'rke2') return;
  if (!c.rke2Version) {
    report('rke2-version', ['cluster'], `distribution rke2 needs rke2Version (e.g. ${RKE2_RELEASES['1.35']!.at(-1)})`, { key: true, hint: 'add cluster.rke2Version: an RKE2 release tag (vX.Y.Z+rke2rN) whose Kubernetes minor the catalog supports' });
    return;
  }
  const minor = minorOf(c.rke2Version);
  const known = RKE2_RELEASES[minor];
  if (!known) {
    report('rke2-version', ['cluster', 'rke2Version'], `RKE2 ${minor} is not supported by this generator`, { hint: `supported: ${Object.keys(RKE2_RELEASES).map((m) => `v${m}.x`).join(', ')}` });
    return;
  }
  if (!known.includes(c.rke2Version)) {
    report('rke2-version', ['cluster', 'rke2Version'], `${c.rke2Version} is not an RKE2 release this generator lists`, { hint: `the newest v${minor} release listed is ${known.at(-1)}; listed: ${known.join(', ')}` });
    return;
  }
  const k8s = rke2Kubernetes(c.rke2Version);
  if (k8s !== c.kubernetesVersion)
    report('rke2-version', ['cluster', 'kubernetesVersion'], `RKE2 ${c.rke2Version} ships Kubernetes ${k8s}, not ${c.kubernetesVersion}`, { hint: `an RKE2 release pins its Kubernetes version; set kubernetesVersion: ${k8s}` });
};

const rke2Datastore: Rule = ({ input }, report) => {
  const c = input.cluster;
  if (c.distribution !== 'rke2') return;
  const d = c.datastore;
  if (d.type === 'kine-sqlite')
    report('rke2-datastore', ['cluster', 'datastore', 'type'], 'kine-sqlite is not offered on RKE2', {
      hint: `RKE2 calls embedded SQLite experimental, for one short-lived server without HA (rke2-docs datastore/embedded.md), and the Litestream replication is ${distributionsRunning('kine-sqlite').map((d) => d.title).join('/')}-only here; use etcd (embedded, snapshots to S3) or kine-postgres`,
    });
  const b = d.backup;
  if (!b) return;
  if (b.kmsKeyId !== undefined)
    report('rke2-backup', ['cluster', 'datastore', 'backup', 'kmsKeyId'], "RKE2's etcd-s3 snapshots cannot choose a KMS key", {
      key: true,
      hint: 'RKE2 has no etcd-s3 server-side-encryption flag (rke2-docs datastore/backup_restore.md); set SSE-KMS with this key as the bucket\'s default encryption and remove kmsKeyId',
    });
  if (b.ageRecipientPublicKey !== undefined)
    report('rke2-backup', ['cluster', 'datastore', 'backup', 'ageRecipientPublicKey'], 'RKE2 uploads its etcd snapshots unencrypted by age', {
      key: true,
      hint: `age encryption belongs to the ${addonOwner('etcd-backup') ?? 'distribution'} etcd-backup add-on; on RKE2 rely on the bucket's default encryption and remove ageRecipientPublicKey`,
    });
};

/** cluster.rke2 and nodePools[].rke2, as the family's shared rules read them. */
const rke2Settings = (input: EnvironmentInput): Settings => ({ cluster: input.cluster.rke2, pool: (i) => input.nodePools[i]!.rke2 });

/** snapshotter and default-runtime against what RKE2's containerd has (../rancher/containerd.ts). */
const rke2Containerd: Rule = containerdRule('rke2', 'rke2Version', RKE2_CONTAINERD, rke2Settings);

/**
 * Packaged components the environment may not disable (`disable` in cluster.rke2.extraArgs; RKE2_CLUSTER_WIDE_KEYS keeps
 * it off the pools): those nothing replaces. What `disable` takes at the pinned release is RKE2_DISABLE_ITEMS
 * (./flags.ts: rancher/rke2 pkg/cli/types.go:9 DisableItems @ v1.35.7+rke2r1); of those,
 * - rke2-coredns is the cluster's DNS (the rke2-coredns chart's Service at the cluster DNS address the kubelets hand to
 *   pods: rancher/rke2 pkg/bootstrap/bootstrap.go:409-414 @ v1.35.7+rke2r1, setChartValues `global.clusterDNS`, the chart's clusterDNSServerIP helper), and the
 *   catalog has no DNS add-on: refused;
 * - rke2-metrics-server: disabled by the generator already (./config.ts RKE2_DISABLED_COMPONENTS, the catalog's replaces it);
 * - rke2-snapshot-controller, -crd, -validation-webhook: nothing rendered uses VolumeSnapshots (no VolumeSnapshotClass
 *   or VolumeSnapshot in the catalog or the workloads), and the EBS CSI chart adds its snapshotter sidecar only when
 *   the snapshot API exists (aws-ebs-csi-driver 2.64.0 values.yaml sidecars.snapshotter.forceEnable: false, "Enables
 *   the snapshotter sidecar even if the snapshot CRDs are not installed"): allowed.
 * The other ways to take away what the cluster runs on are generator-owned keys, refused by rke2-extra-args
 * (RKE2_MANAGED_KEYS): `cni` (none without Cilium: no pod network), `disable-kube-proxy` (with Canal: no Service
 * routes), `ingress-controller`. rke2-runtimeclasses (the nvidia RuntimeClass, ./index.ts facts.runtimeClasses) is not a
 * `disable` item of the pinned release.
 */
const rke2Disable: Rule = ({ input }, report) => {
  if (input.cluster.distribution !== 'rke2') return;
  for (const { item, at } of serverDisableItems(input, 'rke2', rke2Settings(input)))
    if (item === 'rke2-coredns')
      report('rke2-disable', at, "'rke2-coredns' disables RKE2's CoreDNS, the cluster's DNS (Service rke2-coredns-rke2-coredns at the address the kubelets give every pod), and no add-on replaces it: no pod could resolve a name (the GitOps engine its Git host, External Secrets the SSM endpoint, workloads each other's Services)", {
        hint: 'remove rke2-coredns from disable; RKE2 keeps CoreDNS as its one owner',
      });
};

/**
 * cluster-dns and the split-role flags (../rancher/server-args.ts). On RKE2 the DNS address reaches the rke2-coredns
 * chart as `global.clusterDNS` (rancher/rke2 pkg/bootstrap/bootstrap.go:414, 453 @ v1.35.7+rke2r1: setChartValues,
 * rewriteChart), whose clusterDNSServerIP helper makes it the Service's clusterIP; split roles, refused:
 * docs.rke2.io/install/server_roles ("Managing Server Roles": disable-apiserver, disable-controller-manager and
 * disable-scheduler in config.yaml make an etcd-only server, disable-etcd with `server:` a control-plane-only one,
 * which "cannot be the first server in the cluster").
 */
const rke2ServerArgs: Rule = serverArgsRule('rke2', 'RKE2', 'docs.rke2.io/install/server_roles', rke2Settings);

export const RKE2_RULES: readonly Rule[] = [rke2ExtraArgs, rke2Disable, rke2SettingsElsewhere, rke2Version, rke2Datastore, rke2Containerd, rke2ServerArgs];

/** rke2Version in another distribution's environment (rke2Version itself: rke2Version above). */
export const rke2VersionKey: Rule = (ctx, report) => {
  const c = ctx.input.cluster;
  if (c.distribution !== 'rke2' && c.rke2Version !== undefined) reportForeignSetting(ctx, report, 'rke2Version', { message: 'rke2Version is only used by distribution rke2' });
};

/** How an RKE2 environment words another distribution's setting. */
export const rke2ForeignSetting = (key: string): { message: string; hint: string } => ({ message: `${key} is not used by distribution rke2`, hint: inheritedHint(key) });
