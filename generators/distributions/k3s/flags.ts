/**
 * K3s configuration keys (config.yaml keys = long flag names) of the pinned K3s release, one table
 * for `k3s server` and one for `k3s agent`, with each flag's value type.
 *
 * Source: k3s `pkg/cli/cmds/{server,agent,root,log,config}.go` (ServerFlags and NewAgentCommand's
 * Flags) on the release-1.35 line (identical on release-1.34, 1.36 and main as of 2026-06), extracted
 * mechanically: 124 server keys, 46 agent keys. K3s itself only WARNs about an unknown key in
 * config.yaml ("Unknown flag … found in config.yaml, skipping"), so the generator rejects them.
 */

/** The K3s release these tables describe. */
export const K3S_FLAGS_RELEASE = 'v1.35.9+k3s1';

import { checkFlagIn, checkListItems, type FlagCatalog, type FlagIssue, type FlagSpec } from '../rancher/flags.js';
import type { NodeRole } from '../rancher/config.js';

export type { FlagIssue, FlagSpec, FlagType } from '../rancher/flags.js';
export type K3sRole = NodeRole;

const SERVER = {
  "config": { type: 'string', aliases: ["c"] },
  "debug": { type: 'bool' },
  "v": { type: 'int' },
  "vmodule": { type: 'string' },
  "log": { type: 'string', aliases: ["l"] },
  "alsologtostderr": { type: 'bool' },
  "bind-address": { type: 'string' },
  "https-listen-port": { type: 'int' },
  "supervisor-port": { type: 'int', hidden: true, experimental: true },
  "apiserver-port": { type: 'int', hidden: true, experimental: true },
  "apiserver-bind-address": { type: 'string', hidden: true, experimental: true },
  "advertise-address": { type: 'string' },
  "advertise-port": { type: 'int' },
  "tls-san": { type: 'list' },
  "tls-san-security": { type: 'bool' },
  "data-dir": { type: 'string', aliases: ["d"] },
  "cluster-cidr": { type: 'list' },
  "service-cidr": { type: 'list' },
  "service-node-port-range": { type: 'string' },
  "cluster-dns": { type: 'list' },
  "cluster-domain": { type: 'string' },
  "flannel-backend": { type: 'string' },
  "flannel-ipv6-masq": { type: 'bool' },
  "flannel-external-ip": { type: 'bool' },
  "egress-selector-mode": { type: 'string' },
  "servicelb-namespace": { type: 'string' },
  "write-kubeconfig": { type: 'string', aliases: ["o"] },
  "write-kubeconfig-mode": { type: 'string' },
  "write-kubeconfig-group": { type: 'string' },
  "helm-job-image": { type: 'string' },
  "token": { type: 'string', aliases: ["t"] },
  "token-file": { type: 'string' },
  "agent-token": { type: 'string' },
  "agent-token-file": { type: 'string' },
  "server": { type: 'string', aliases: ["s"] },
  "cluster-init": { type: 'bool' },
  "cluster-reset": { type: 'bool' },
  "cluster-reset-restore-path": { type: 'string' },
  "kube-apiserver-arg": { type: 'list' },
  "etcd-arg": { type: 'list' },
  "kube-controller-manager-arg": { type: 'list' },
  "kube-scheduler-arg": { type: 'list' },
  "kube-cloud-controller-manager-arg": { type: 'list' },
  "kine-tls": { type: 'bool', hidden: true, experimental: true },
  "datastore-endpoint": { type: 'string' },
  "datastore-cafile": { type: 'string' },
  "datastore-certfile": { type: 'string' },
  "datastore-keyfile": { type: 'string' },
  "etcd-expose-metrics": { type: 'bool' },
  "etcd-disable-snapshots": { type: 'bool' },
  "etcd-snapshot-name": { type: 'string' },
  "etcd-snapshot-schedule-cron": { type: 'string' },
  "etcd-snapshot-reconcile-interval": { type: 'duration' },
  "etcd-snapshot-retention": { type: 'int' },
  "etcd-snapshot-dir": { type: 'string' },
  "etcd-snapshot-compress": { type: 'bool' },
  "etcd-s3": { type: 'bool' },
  "etcd-s3-endpoint": { type: 'string' },
  "etcd-s3-endpoint-ca": { type: 'string' },
  "etcd-s3-skip-ssl-verify": { type: 'bool' },
  "etcd-s3-access-key": { type: 'string' },
  "etcd-s3-secret-key": { type: 'string' },
  "etcd-s3-session-token": { type: 'string' },
  "etcd-s3-bucket": { type: 'string' },
  "etcd-s3-bucket-lookup-type": { type: 'string' },
  "etcd-s3-region": { type: 'string' },
  "etcd-s3-folder": { type: 'string' },
  "etcd-s3-retention": { type: 'int' },
  "etcd-s3-proxy": { type: 'string' },
  "etcd-s3-config-secret": { type: 'string' },
  "etcd-s3-insecure": { type: 'bool' },
  "etcd-s3-timeout": { type: 'duration' },
  "default-local-storage-path": { type: 'string' },
  "disable": { type: 'list' },
  "disable-scheduler": { type: 'bool' },
  "disable-cloud-controller": { type: 'bool' },
  "disable-kube-proxy": { type: 'bool' },
  "disable-network-policy": { type: 'bool' },
  "disable-helm-controller": { type: 'bool' },
  "disable-apiserver": { type: 'bool', hidden: true, experimental: true },
  "disable-controller-manager": { type: 'bool', hidden: true, experimental: true },
  "disable-etcd": { type: 'bool', hidden: true, experimental: true },
  "embedded-registry": { type: 'bool' },
  "supervisor-metrics": { type: 'bool', experimental: true },
  "node-name": { type: 'string' },
  "with-node-id": { type: 'bool' },
  "node-label": { type: 'list' },
  "node-taint": { type: 'list' },
  "image-credential-provider-bin-dir": { type: 'string' },
  "image-credential-provider-config": { type: 'string' },
  "docker": { type: 'bool', experimental: true },
  "container-runtime-endpoint": { type: 'string' },
  "default-runtime": { type: 'string' },
  "image-service-endpoint": { type: 'string' },
  "disable-default-registry-endpoint": { type: 'bool' },
  "nonroot-devices": { type: 'bool' },
  "pause-image": { type: 'string' },
  "snapshotter": { type: 'string' },
  "private-registry": { type: 'string' },
  "system-default-registry": { type: 'string' },
  "airgap-extra-registry": { type: 'list', hidden: true },
  "node-ip": { type: 'list', aliases: ["i"] },
  "node-external-ip": { type: 'list' },
  "node-internal-dns": { type: 'list' },
  "node-external-dns": { type: 'list' },
  "resolv-conf": { type: 'string' },
  "flannel-iface": { type: 'string' },
  "flannel-conf": { type: 'string' },
  "flannel-cni-conf": { type: 'string' },
  "vpn-auth": { type: 'string', experimental: true },
  "vpn-auth-file": { type: 'string', experimental: true },
  "kubelet-arg": { type: 'list' },
  "kube-proxy-arg": { type: 'list' },
  "protect-kernel-defaults": { type: 'bool' },
  "secrets-encryption": { type: 'bool' },
  "enable-pprof": { type: 'bool', experimental: true },
  "rootless": { type: 'bool', experimental: true },
  "secrets-encryption-provider": { type: 'string', experimental: true },
  "prefer-bundled-bin": { type: 'bool', experimental: true },
  "selinux": { type: 'bool' },
  "lb-server-port": { type: 'int' },
  "disable-agent": { type: 'bool', hidden: true },
  "kube-controller-arg": { type: 'list', hidden: true },
  "kube-cloud-controller-arg": { type: 'list', hidden: true },
} as const satisfies Record<string, FlagSpec>;

const AGENT = {
  "config": { type: 'string', aliases: ["c"] },
  "debug": { type: 'bool' },
  "v": { type: 'int' },
  "vmodule": { type: 'string' },
  "log": { type: 'string', aliases: ["l"] },
  "alsologtostderr": { type: 'bool' },
  "token": { type: 'string', aliases: ["t"] },
  "token-file": { type: 'string' },
  "server": { type: 'string', aliases: ["s"] },
  "data-dir": { type: 'string', aliases: ["d"] },
  "node-name": { type: 'string' },
  "with-node-id": { type: 'bool' },
  "node-label": { type: 'list' },
  "node-taint": { type: 'list' },
  "image-credential-provider-bin-dir": { type: 'string' },
  "image-credential-provider-config": { type: 'string' },
  "selinux": { type: 'bool' },
  "lb-server-port": { type: 'int' },
  "protect-kernel-defaults": { type: 'bool' },
  "container-runtime-endpoint": { type: 'string' },
  "default-runtime": { type: 'string' },
  "image-service-endpoint": { type: 'string' },
  "pause-image": { type: 'string' },
  "snapshotter": { type: 'string' },
  "private-registry": { type: 'string' },
  "disable-default-registry-endpoint": { type: 'bool' },
  "nonroot-devices": { type: 'bool' },
  "airgap-extra-registry": { type: 'list', hidden: true },
  "node-ip": { type: 'list', aliases: ["i"] },
  "bind-address": { type: 'string' },
  "node-external-ip": { type: 'list' },
  "node-internal-dns": { type: 'list' },
  "node-external-dns": { type: 'list' },
  "resolv-conf": { type: 'string' },
  "flannel-iface": { type: 'string' },
  "flannel-conf": { type: 'string' },
  "flannel-cni-conf": { type: 'string' },
  "kubelet-arg": { type: 'list' },
  "kube-proxy-arg": { type: 'list' },
  "enable-pprof": { type: 'bool', experimental: true },
  "rootless": { type: 'bool', experimental: true },
  "prefer-bundled-bin": { type: 'bool', experimental: true },
  "docker": { type: 'bool', experimental: true },
  "vpn-auth": { type: 'string', experimental: true },
  "vpn-auth-file": { type: 'string', experimental: true },
  "disable-apiserver-lb": { type: 'bool', experimental: true },
} as const satisfies Record<string, FlagSpec>;


export const K3S_FLAGS: Record<K3sRole, Readonly<Record<string, FlagSpec>>> = { server: SERVER, agent: AGENT };

/** Every long name of a role. */
export const flagNames = (role: K3sRole): string[] => Object.keys(K3S_FLAGS[role]);

/** Valid items of the server's `disable` list (pkg/cli/cmds/stage.go). */
export const K3S_DISABLE_ITEMS = ['coredns', 'servicelb', 'traefik', 'local-storage', 'metrics-server', 'runtimes'] as const;

/** Valid `flannel-backend` values (deprecated `ipsec` and `wireguard` are refused). */
export const K3S_FLANNEL_BACKENDS = ['none', 'vxlan', 'host-gw', 'wireguard-native'] as const;

/**
 * Keys the generator sets itself, with why. An environment may not set them through extraArgs:
 * they carry secrets (which never enter git) or the cluster's topology, which comes from the model.
 */
export const K3S_MANAGED_KEYS: Readonly<Record<string, string>> = {
  token: 'the cluster token is read from SSM at boot into token-file; a token in config.yaml would be a secret in git',
  'token-file': 'written at boot from the SSM SecureString cluster.k3s.token',
  'agent-token': 'the agent token is read from SSM at boot into agent-token-file',
  'agent-token-file': 'written at boot from the SSM SecureString cluster.k3s.agentToken',
  server: 'agents join through cluster.endpoint',
  'datastore-endpoint': 'set from cluster.datastore (the Postgres password is read from SSM at boot and never written to git)',
  'datastore-cafile': 'set from cluster.datastore.postgres.caBundlePath',
  'cluster-init': 'embedded etcd is not used: the K3s target runs Kine (cluster.datastore)',
  'cluster-cidr': 'set from cluster.network.podCIDR',
  'service-cidr': 'set from cluster.network.serviceCIDR',
  'cluster-domain': 'set from cluster.network.dnsDomain',
  'flannel-backend': 'set from cluster.network.cni',
  'tls-san': 'set from cluster.endpoint, the server IPs and cluster.extraSANs',
  'node-label': 'set from the pool\'s labels',
  'node-taint': 'set from the pool\'s taints',
  'node-name': 'set at boot to the EC2 private DNS name, which the AWS cloud controller manager needs',
  'disable-cloud-controller': 'always true: the AWS cloud controller manager replaces the built-in one',
  'data-dir': 'the Litestream replication and the runbooks assume /var/lib/rancher/k3s',
  config: 'the config file location is fixed (/etc/rancher/k3s/config.yaml)',
};

export const K3S_CATALOG: FlagCatalog = {
  command: 'k3s',
  article: 'a',
  release: `K3s ${K3S_FLAGS_RELEASE}`,
  tables: K3S_FLAGS,
  serverHint: 'set it on a controlplane pool or in cluster.k3s.extraArgs',
  valueCheck: (_role, key, value, didYouMean) => {
    if (key === 'disable') return checkListItems(key, value, K3S_DISABLE_ITEMS, 'a packaged component K3s can disable', didYouMean);
    if (key === 'flannel-backend' && !(K3S_FLANNEL_BACKENDS as readonly string[]).includes(value as string))
      return { key, on: 'value', message: `flannel-backend '${String(value)}' is not supported`, hint: `one of: ${K3S_FLANNEL_BACKENDS.join(', ')}` };
    return undefined;
  },
};

/**
 * Check one key of a K3s config for a role: unknown (with did-you-mean), an alias, a flag of the
 * other role only, or a value of the wrong type. `didYouMean` is passed in to keep this module
 * dependency-free.
 */
export function checkFlag(role: K3sRole, key: string, value: unknown, didYouMean: (w: string, c: string[]) => string | undefined): FlagIssue | undefined {
  return checkFlagIn(K3S_CATALOG, role, key, value, didYouMean);
}
