/**
 * K3s config.yaml of one config target (a fixed node or an auto-scaled pool): servers are the
 * controlplane pools, agents the worker pools. Every key is a flag of the pinned K3s release
 * (flags.ts); nothing secret is in it (tokens are files written at boot from SSM, the Postgres DSN
 * is written at boot into the service's root-only environment file).
 */
import { GPU_PRESENT_LABEL } from '../../model/aws.js';
import type { ConfigTarget, EnvironmentModel, K3sArgs } from '../../model/types.js';
import type { K3sRole } from './flags.js';

/** Host paths the config, the user-data and the runbook agree on. */
export const K3S_PATHS = {
  config: '/etc/rancher/k3s/config.yaml',
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

/** CIS hardening guide (K3s ≥ v1.29) kubelet TLS ciphers. */
const KUBELET_TLS_CIPHERS = [
  'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305',
  'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305',
];

/** Packaged components replaced by platform add-ons: ALB controller, EBS CSI, metrics-server. */
export const K3S_DISABLED_COMPONENTS = ['local-storage', 'metrics-server', 'servicelb', 'traefik'];

/** Taint on servers when workers exist (the same one Talos puts on control planes). */
export const CONTROL_PLANE_TAINT = 'node-role.kubernetes.io/control-plane:NoSchedule';

export const roleOf = (t: ConfigTarget): K3sRole => (t.pool.role === 'controlplane' ? 'server' : 'agent');

/** Whether this server is the one started first (creates the bootstrap data in the datastore). */
export const isFirstServer = (m: EnvironmentModel, t: ConfigTarget): boolean => t.node !== undefined && m.controlPlaneNodes[0]?.name === t.node.name;

function kubeletArgs(t: ConfigTarget): string[] {
  return ['cloud-provider=external', `max-pods=${t.pool.maxPods}`, 'streaming-connection-idle-timeout=5m', `tls-cipher-suites=${KUBELET_TLS_CIPHERS.join(',')}`];
}

function nodeLabels(t: ConfigTarget): string[] {
  const labels = { ...t.pool.labels };
  // The label the nvidia-device-plugin DaemonSet selects (catalog/nvidia-device-plugin.ts).
  if (t.pool.gpu) labels[GPU_PRESENT_LABEL] = 'true';
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`);
}

function nodeTaints(m: EnvironmentModel, t: ConfigTarget): string[] {
  const taints = t.pool.taints.map((x) => `${x.key}${x.value !== undefined ? `=${x.value}` : ''}:${x.effect}`);
  if (t.pool.role === 'controlplane' && m.pools.some((p) => p.role === 'worker' && p.size > 0) && !taints.some((x) => x.startsWith('node-role.kubernetes.io/control-plane')))
    taints.unshift(CONTROL_PLANE_TAINT);
  return taints;
}

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
    'kube-apiserver-arg': [
      'enable-admission-plugins=NodeRestriction,EventRateLimit',
      `admission-control-config-file=${K3S_PATHS.psa}`,
      `audit-log-path=${K3S_PATHS.auditLog}`,
      `audit-policy-file=${K3S_PATHS.auditPolicy}`,
      'audit-log-maxage=30',
      'audit-log-maxbackup=10',
      'audit-log-maxsize=100',
      'service-account-extend-token-expiration=false',
    ],
    'kube-controller-manager-arg': ['terminated-pod-gc-threshold=100'],
  };
  // Cilium enforces NetworkPolicies and replaces kube-proxy (kubeProxyReplacement in its values):
  // K3s' own policy controller and kube-proxy stay off (agents take disable-kube-proxy from the server).
  if (c.network.cni === 'cilium') Object.assign(keys, { 'disable-network-policy': true, 'disable-kube-proxy': true });
  const d = c.datastore;
  if (d.type === 'kine-sqlite') keys['datastore-endpoint'] = kineLitestreamEndpoint();
  // kine-postgres: the DSN carries the password, so it is assembled at boot (K3S_DATASTORE_ENDPOINT
  // in the root-only k3s.service.env). Kine maps datastore-cafile to sslrootcert.
  if (d.type === 'kine-postgres') keys['datastore-cafile'] = d.postgres.caBundlePath;
  return keys;
}

/** Append list values (without duplicates), replace scalars. */
export function mergeArgs(base: K3sArgs, extra: K3sArgs): K3sArgs {
  const out: K3sArgs = { ...base };
  for (const [k, v] of Object.entries(extra)) {
    const cur = out[k];
    if (Array.isArray(cur) || (Array.isArray(v) && typeof cur === 'string')) {
      const add = Array.isArray(v) ? v : String(v).split(',');
      const list = Array.isArray(cur) ? cur : [String(cur)];
      out[k] = [...list, ...add.filter((x) => !list.includes(x))];
    } else out[k] = v;
  }
  return out;
}

/** The config.yaml of one target, as data. */
export function k3sConfig(m: EnvironmentModel, t: ConfigTarget): K3sArgs {
  const role = roleOf(t);
  let keys: K3sArgs = role === 'server' ? serverKeys(m) : { server: m.cluster.endpoint, 'token-file': K3S_PATHS.agentToken };
  keys['protect-kernel-defaults'] = true;
  keys['kubelet-arg'] = kubeletArgs(t);
  if (t.node) keys['node-ip'] = t.node.ip;
  const labels = nodeLabels(t);
  if (labels.length > 0) keys['node-label'] = labels;
  const taints = nodeTaints(m, t);
  if (taints.length > 0) keys['node-taint'] = taints;
  // NVIDIA: K3s finds nvidia-container-runtime (installed on the GPU AMI) at start and adds the
  // `nvidia` containerd runtime; making it the default lets the device plugin and GPU pods run
  // without runtimeClassName.
  if (t.pool.gpu) keys['default-runtime'] = 'nvidia';
  if (role === 'server') keys = mergeArgs(keys, m.cluster.k3s.extraArgs);
  return mergeArgs(keys, t.pool.k3sExtraArgs);
}

/** The Pod Security admission configuration (plus EventRateLimit, which the CIS guide enables). */
export function admissionConfiguration(): object {
  return {
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'AdmissionConfiguration',
    plugins: [
      {
        name: 'PodSecurity',
        configuration: {
          apiVersion: 'pod-security.admission.config.k8s.io/v1',
          kind: 'PodSecurityConfiguration',
          defaults: { enforce: 'restricted', 'enforce-version': 'latest', audit: 'restricted', 'audit-version': 'latest', warn: 'restricted', 'warn-version': 'latest' },
          exemptions: { usernames: [], runtimeClasses: [], namespaces: ['kube-system'] },
        },
      },
      {
        name: 'EventRateLimit',
        configuration: { apiVersion: 'eventratelimit.admission.k8s.io/v1alpha1', kind: 'Configuration', limits: [{ type: 'Server', qps: 5000, burst: 20000 }] },
      },
    ],
  };
}

/** Audit policy of the K3s CIS hardening guide: metadata of every request, no bodies. */
export function auditPolicy(): object {
  return { apiVersion: 'audit.k8s.io/v1', kind: 'Policy', rules: [{ level: 'Metadata' }] };
}

/** Kernel settings protect-kernel-defaults requires (the kubelet exits without them). */
export const KUBELET_SYSCTLS: Readonly<Record<string, string>> = {
  'vm.panic_on_oom': '0',
  'vm.overcommit_memory': '1',
  'kernel.panic': '10',
  'kernel.panic_on_oops': '1',
};
