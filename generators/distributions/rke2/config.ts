/**
 * RKE2 config.yaml of one config target (a fixed node or an auto-scaled pool): servers are the
 * controlplane pools, agents the worker pools. Every key is a flag of the pinned RKE2 release
 * (flags.ts); nothing secret is in it (tokens are files written at boot from SSM; the node name and
 * the PostgreSQL DSN go at boot into the root-only drop-in config.yaml.d/10-node.yaml; S3 is reached
 * with the instance profile).
 *
 * Sources (rancher/rke2 v1.35.7+rke2r1 unless noted):
 * - supervisor port 9345, API 6443, embedded etcd unless datastore-endpoint: pkg/cli/defaults/defaults.go
 * - `profile: cis` (not cis-1.23 on this release): pkg/rke2/rke2.go ProfileCIS; with it RKE2 checks
 *   the kernel parameters and the `etcd` user (pkg/cli/cmds/profile_linux.go), sets
 *   protect-kernel-defaults, adds the audit log flags, service-account-extend-token-expiration=false
 *   and admission-control-config-file=<pod-security-admission-config-file>
 *   (pkg/executor/staticpod/staticpod.go), and installs the kube-system/kube-public/default
 *   NetworkPolicies (pkg/rke2/np.go); rke2-docs security/hardening_guide.md.
 * - Secrets encryption is always on (pkg/rke2/rke2.go Server sets secrets-encryption).
 * - `ingress-controller: none` disables every packaged ingress chart, `cni` picks the CNI chart
 *   (pkg/cli/cmds/server.go disableExceptSelected); `disable` takes pkg/cli/types.go DisableItems.
 * - etcd snapshots and etcd-s3*: rke2-docs datastore/backup_restore.md; without access keys the
 *   S3 client uses the instance profile's credentials.
 * - kine-postgres: rke2-docs datastore/external.md (RKE2_DATASTORE_ENDPOINT, datastore-cafile).
 */
import type { ConfigTarget, EnvironmentModel } from '../../model/types.js';
import type { ConfigArgs } from '../rancher/model.js';
import { mergeArgs, nodeKeys, roleOf } from '../rancher/config.js';
import { rke2Cluster, rke2Pool } from './model.js';

/** Host paths the config, the user-data and the runbook agree on. */
export const RKE2_PATHS = {
  config: '/etc/rancher/rke2/config.yaml',
  token: '/etc/rancher/rke2/token',
  agentToken: '/etc/rancher/rke2/agent-token',
  /** RKE2's own default path for it (pkg/rke2/psa.go defaultPSAConfigFile). */
  psa: '/etc/rancher/rke2/rke2-pss.yaml',
  /** RKE2's default (pkg/podtemplate/types.go DefaultAuditPolicyFile); RKE2 keeps an existing file. */
  auditPolicy: '/etc/rancher/rke2/audit-policy.yaml',
  auditLog: '/var/lib/rancher/rke2/server/logs/audit.log',
  /** Where the hardening guide copies rke2-cis-sysctl.conf to. */
  sysctl: '/etc/sysctl.d/60-rke2-cis.conf',
  dataDir: '/var/lib/rancher/rke2',
  snapshots: '/var/lib/rancher/rke2/server/db/snapshots',
  /** The secure (K10) tokens RKE2 writes once it runs (rke2-docs security/token.md lines 50, 66). */
  secureToken: '/var/lib/rancher/rke2/server/token',
  secureAgentToken: '/var/lib/rancher/rke2/server/agent-token',
  bin: '/usr/local/bin/rke2',
} as const;

/** The supervisor port servers serve joins on (pkg/cli/defaults/defaults.go SupervisorPort). */
export const SUPERVISOR_PORT = 9345;

/** Packaged components the catalog replaces: metrics-server (catalog add-on); ingress via ingress-controller: none. */
export const RKE2_DISABLED_COMPONENTS = ['rke2-metrics-server'];

/** The CIS profile value of the pinned release. */
export const RKE2_PROFILE = 'cis';

export const supervisorUrl = (m: EnvironmentModel): string => `https://${m.cluster.endpointHost}:${SUPERVISOR_PORT}`;

/** The RKE2 CNI chart: flannel means Canal (flannel + Calico policy), Cilium comes from the catalog. */
export const rke2Cni = (m: EnvironmentModel): string => (m.cluster.network.cni === 'cilium' ? 'none' : 'canal');

function etcdKeys(m: EnvironmentModel): ConfigArgs {
  const d = m.cluster.datastore;
  if (d.type !== 'etcd' || !d.backup) return {};
  const b = d.backup;
  const keys: ConfigArgs = {
    'etcd-snapshot-schedule-cron': b.schedule,
    // Per server: each server snapshots on the schedule and prunes only its own snapshots, named
    // etcd-snapshot-<node>-<timestamp> (rke2-docs@9477b7b1 docs/datastore/backup_restore.md line 24;
    // the supervisor's pkg/etcd/snapshot.go snapshotRetention, by that name prefix): S3 keeps up to
    // retention × servers.
    'etcd-snapshot-retention': b.retention,
    'etcd-s3': true,
    'etcd-s3-bucket': b.bucket,
    'etcd-s3-region': m.aws.region,
    'etcd-s3-retention': b.retention,
  };
  const folder = b.prefix.replace(/^\/+|\/+$/g, '');
  if (folder) keys['etcd-s3-folder'] = folder;
  return keys;
}

function serverKeys(m: EnvironmentModel): ConfigArgs {
  const c = m.cluster;
  const keys: ConfigArgs = {
    'token-file': RKE2_PATHS.token,
    'agent-token-file': RKE2_PATHS.agentToken,
  };
  // Embedded etcd: every server's config joins through the supervisor, the first one's too, so that
  // a replaced first server joins the running cluster instead of starting a second one. Whether the
  // first server bootstraps instead is decided at boot (./userdata.ts: no cluster, and the SSM token
  // not yet the secure one). Once etcd data exists on disk, `server` is ignored (rke2-docs
  // install/ha.md line 96). Kine: every server talks to the database, none joins another.
  if (c.datastore.type === 'etcd') keys.server = supervisorUrl(m);
  Object.assign(keys, {
    'tls-san': c.certSANs,
    'cluster-cidr': c.network.podCIDR,
    'service-cidr': c.network.serviceCIDR,
    'cluster-domain': c.network.dnsDomain,
    cni: [rke2Cni(m)],
    'ingress-controller': ['none'],
    disable: RKE2_DISABLED_COMPONENTS,
    'disable-cloud-controller': true,
    profile: RKE2_PROFILE,
    'pod-security-admission-config-file': RKE2_PATHS.psa,
    'audit-policy-file': RKE2_PATHS.auditPolicy,
    'write-kubeconfig-mode': '0600',
    // RKE2 adds the audit log flags, admission-control-config-file and
    // service-account-extend-token-expiration=false itself in CIS mode.
    'kube-apiserver-arg': ['enable-admission-plugins=NodeRestriction,EventRateLimit'],
    'kube-controller-manager-arg': ['terminated-pod-gc-threshold=100'],
  });
  // Cilium replaces kube-proxy (kubeProxyReplacement in its values).
  if (c.network.cni === 'cilium') keys['disable-kube-proxy'] = true;
  if (c.datastore.type === 'kine-postgres') keys['datastore-cafile'] = c.datastore.postgres.caBundlePath;
  return { ...keys, ...etcdKeys(m) };
}

/** The config.yaml of one target, as data. */
export function rke2Config(m: EnvironmentModel, t: ConfigTarget): ConfigArgs {
  const role = roleOf(t);
  let keys: ConfigArgs = role === 'server' ? serverKeys(m) : { server: supervisorUrl(m), 'token-file': RKE2_PATHS.agentToken, profile: RKE2_PROFILE };
  keys = { ...keys, ...nodeKeys(m, t) };
  // NVIDIA: RKE2 finds nvidia-container-runtime at start and adds the `nvidia` containerd runtime
  // (its rke2-runtimeclasses chart owns the RuntimeClass); the default lets the device plugin and
  // GPU pods run without runtimeClassName.
  if (t.pool.gpu) keys['default-runtime'] = 'nvidia';
  if (role === 'server') keys = mergeArgs(keys, rke2Cluster(m).extraArgs);
  return mergeArgs(keys, rke2Pool(t.pool).extraArgs);
}
