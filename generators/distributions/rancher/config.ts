/**
 * Config pieces the distributions of this family share: both read a config.yaml of long flag names
 * through the same supervisor, so node labels, taints, kubelet arguments, list merging, the Pod Security admission
 * configuration and the audit policy are the same on both.
 */
import { GPU_PRESENT_LABEL } from '../../model/aws.js';
import type { ConfigTarget, EnvironmentModel } from '../../model/types.js';
import type { ConfigArgs } from './model.js';

export type NodeRole = 'server' | 'agent';

export const roleOf = (t: ConfigTarget): NodeRole => (t.pool.role === 'controlplane' ? 'server' : 'agent');

/** Whether this server is the one started first (creates the bootstrap data in the datastore). */
export const isFirstServer = (m: EnvironmentModel, t: ConfigTarget): boolean => t.node !== undefined && m.controlPlaneNodes[0]?.name === t.node.name;

/** The kubelet TLS ciphers of the family's CIS hardening guides (each distribution's guide lists these six). */
export const KUBELET_TLS_CIPHERS = [
  'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305',
  'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305',
];

/** Taint on servers when workers exist (kubeadm's control-plane taint). */
export const CONTROL_PLANE_TAINT = 'node-role.kubernetes.io/control-plane:NoSchedule';

export function kubeletArgs(t: ConfigTarget): string[] {
  return ['cloud-provider=external', `max-pods=${t.pool.maxPods}`, 'streaming-connection-idle-timeout=5m', `tls-cipher-suites=${KUBELET_TLS_CIPHERS.join(',')}`];
}

export function nodeLabels(t: ConfigTarget): string[] {
  const labels = { ...t.pool.labels };
  if (t.pool.gpu) labels[GPU_PRESENT_LABEL] = 'true'; // the label the nvidia-device-plugin DaemonSet selects
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`);
}

export function nodeTaints(m: EnvironmentModel, t: ConfigTarget): string[] {
  const taints = t.pool.taints.map((x) => `${x.key}${x.value !== undefined ? `=${x.value}` : ''}:${x.effect}`);
  if (t.pool.role === 'controlplane' && m.pools.some((p) => p.role === 'worker' && p.size > 0) && !taints.some((x) => x.startsWith('node-role.kubernetes.io/control-plane')))
    taints.unshift(CONTROL_PLANE_TAINT);
  return taints;
}

/** node-ip, node-label, node-taint and the kubelet arguments of one target. */
export function nodeKeys(m: EnvironmentModel, t: ConfigTarget): ConfigArgs {
  const keys: ConfigArgs = { 'kubelet-arg': kubeletArgs(t) };
  if (t.node) keys['node-ip'] = t.node.ip;
  const labels = nodeLabels(t);
  if (labels.length > 0) keys['node-label'] = labels;
  const taints = nodeTaints(m, t);
  if (taints.length > 0) keys['node-taint'] = taints;
  return keys;
}

/** Append list values (without duplicates), replace scalars. */
export function mergeArgs(base: ConfigArgs, extra: ConfigArgs): ConfigArgs {
  const out: ConfigArgs = { ...base };
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

/** kube-apiserver arguments of the CIS guides that go with admissionConfiguration and auditPolicy. */
export const apiServerHardeningArgs = (paths: { psa: string; auditLog: string; auditPolicy: string }): string[] => [
  'enable-admission-plugins=NodeRestriction,EventRateLimit',
  `admission-control-config-file=${paths.psa}`,
  `audit-log-path=${paths.auditLog}`,
  `audit-policy-file=${paths.auditPolicy}`,
  'audit-log-maxage=30',
  'audit-log-maxbackup=10',
  'audit-log-maxsize=100',
  'service-account-extend-token-expiration=false',
];

/**
 * The Pod Security admission configuration (plus EventRateLimit, which the CIS guides enable):
 * `restricted` everywhere, `kube-system` exempt (the CNI, DNS, CSI node plugins and the cloud
 * controller need host access); other namespaces relax through their own PSS labels.
 */
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

/** Audit policy of the CIS hardening guides: metadata of every request, no bodies. */
export function auditPolicy(): object {
  return { apiVersion: 'audit.k8s.io/v1', kind: 'Policy', rules: [{ level: 'Metadata' }] };
}

/**
 * Kernel settings protect-kernel-defaults requires (the kubelet exits without them): the four of the
 * family's CIS guides (a distribution that ships its own CIS sysctl file has these four: its userdata.ts cites it).
 */
export const KUBELET_SYSCTLS: Readonly<Record<string, string>> = {
  'vm.panic_on_oom': '0',
  'vm.overcommit_memory': '1',
  'kernel.panic': '10',
  'kernel.panic_on_oops': '1',
};
