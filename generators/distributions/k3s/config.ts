/**
 * K3s config.yaml of one config target (a fixed node or an auto-scaled pool): servers are the
 * controlplane pools, agents the worker pools. Every key is a flag of the pinned K3s release
 * (flags.ts); nothing secret is in it (tokens are files written at boot from SSM; the node name and
 * the Postgres DSN are written at boot into a root-only drop-in, config.yaml.d/10-node.yaml).
 */
import { GPU_PRESENT_LABEL } from '../../model/aws.js';
import type { ConfigTarget, EnvironmentModel } from '../../model/types.js';
import type { ConfigArgs as K3sArgs } from '../rancher/model.js';
import { admissionConfiguration, apiServerHardeningArgs, auditPolicy, isFirstServer, KUBELET_SYSCTLS, mergeArgs, nodeKeys, roleOf } from '../rancher/config.js';
import { k3sCluster, k3sPool } from './model.js';

export { admissionConfiguration, auditPolicy, isFirstServer, KUBELET_SYSCTLS, mergeArgs, roleOf };
export { CONTROL_PLANE_TAINT } from '../rancher/config.js';

/** Host paths the config, the user-data and the runbook agree on. */
export const K3S_PATHS = {
  config: '/etc/rancher/k3s/config.yaml',
  /** Where K3s writes the admin kubeconfig (k3s server --write-kubeconfig default; server https://127.0.0.1:6443). */
  kubeconfig: '/etc/rancher/k3s/k3s.yaml',
  token: '/etc/rancher/k3s/token',
  agentToken: '/etc/rancher/k3s/agent-token',
  psa: '/var/lib/rancher/k3s/server/psa.yaml',
  auditPolicy: '/var/lib/rancher/k3s/server/audit.yaml',
  auditLogDir: '/var/lib/rancher/k3s/server/logs',
  auditLog: '/var/lib/rancher/k3s/server/logs/audit.log',
  sqliteDb: '/var/lib/rancher/k3s/server/db/state.db',
  serverTls: '/var/lib/rancher/k3s/server/tls',
  litestreamConfig: '/etc/litestream.yml',
  sysctl: '/etc/sysctl.d/90-kubelet.conf',
} as const;

/**
 * Kine's SQLite DSN parameters (kine v0.16 `DefaultParams`; they are not added when a DSN is given),
 * with the `litestream` scheme: Litestream compatibility mode, which disables Kine's WAL checkpoints
 * and startup VACUUM so that Litestream owns checkpointing (kine ≥ v0.14.11, kine issue #586).
 */
export const KINE_SQLITE_PARAMS = '_journal_mode=WAL&_busy_timeout=30000&_synchronous=NORMAL&_txlock=immediate&cache=shared';
export const kineLitestreamEndpoint = (): string => `litestream://${K3S_PATHS.sqliteDb}?${KINE_SQLITE_PARAMS}`;

/** Packaged components replaced by platform add-ons: ALB controller, EBS CSI, metrics-server. */
export const K3S_DISABLED_COMPONENTS = ['local-storage', 'metrics-server', 'servicelb', 'traefik'];

function serverKeys(m: EnvironmentModel): K3sArgs {
  const c = m.cluster;
  const keys: K3sArgs = {
    'token-file': K3S_PATHS.token,
    'agent-token-file': K3S_PATHS.agentToken,
    'tls-san': c.certSANs,
    'cluster-cidr': c.network.podCIDR,
    'service-cidr': c.network.serviceCIDR,
    'cluster-domain': c.network.dnsDomain,
    'flannel-backend': c.network.cni === 'cilium' ? 'none' : 'vxlan',
    disable: K3S_DISABLED_COMPONENTS,
    'disable-cloud-controller': true,
    'secrets-encryption': true,
    'write-kubeconfig-mode': '0600',
    'kube-apiserver-arg': apiServerHardeningArgs(K3S_PATHS),
    'kube-controller-manager-arg': ['terminated-pod-gc-threshold=100'],
  };
  // Cilium enforces NetworkPolicies and replaces kube-proxy (kubeProxyReplacement in its values):
  // K3s' own policy controller and kube-proxy stay off (agents take disable-kube-proxy from the server).
  if (c.network.cni === 'cilium') Object.assign(keys, { 'disable-network-policy': true, 'disable-kube-proxy': true });
  const d = c.datastore;
  if (d.type === 'kine-sqlite') keys['datastore-endpoint'] = kineLitestreamEndpoint();
  // kine-postgres: the DSN carries the password, so it is assembled at boot into the root-only drop-in
  // config.yaml.d/10-node.yaml (../rancher/host.ts). Kine maps datastore-cafile to sslrootcert.
  if (d.type === 'kine-postgres') keys['datastore-cafile'] = d.postgres.caBundlePath;
  return keys;
}

/** The config.yaml of one target, as data. */
export function k3sConfig(m: EnvironmentModel, t: ConfigTarget): K3sArgs {
  const role = roleOf(t);
  let keys: K3sArgs = role === 'server' ? serverKeys(m) : { server: m.cluster.endpoint, 'token-file': K3S_PATHS.agentToken };
  keys['protect-kernel-defaults'] = true;
  keys = { ...keys, ...nodeKeys(m, t) };
  // NVIDIA: K3s finds nvidia-container-runtime (installed on the GPU AMI) at start and adds the
  // `nvidia` containerd runtime; making it the default lets the device plugin and GPU pods run
  // without runtimeClassName.
  if (t.pool.gpu) keys['default-runtime'] = 'nvidia';
  if (role === 'server') keys = mergeArgs(keys, k3sCluster(m).extraArgs);
  return mergeArgs(keys, k3sPool(t.pool).extraArgs);
}
