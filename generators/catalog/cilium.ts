import { RBAC, type CatalogEntry } from './types.js';

/** Talos' KubePrism: a local load balancer for the API server on every node. */
export const KUBEPRISM = { host: 'localhost', port: 7445 };

/**
 * Cilium as CNI with kube-proxy replacement, configured as the Talos guide says: IPAM from
 * Kubernetes, the cgroup v2 and bpffs mounts Talos already provides (no auto-mount), no SYS_MODULE
 * capability (Talos forbids loading kernel modules from workloads), and the API server through
 * KubePrism, since kube-proxy is gone. Requires cluster.network.cni none and cluster.proxy.disabled
 * in the Talos config.
 *
 * Keys checked for chart 1.18.0 (no values.yaml of it under shared/upstream/charts, so no key file):
 * the Talos guide installs exactly this set with `helm install cilium cilium/cilium --version 1.18.0
 * --set ipam.mode=kubernetes --set kubeProxyReplacement=true --set securityContext.capabilities.ciliumAgent=…
 * --set securityContext.capabilities.cleanCiliumState=… --set cgroup.autoMount.enabled=false
 * --set cgroup.hostRoot=/sys/fs/cgroup --set k8sServiceHost=localhost --set k8sServicePort=7445`
 * (siderolabs/docs@5debdd92:public/kubernetes-guides/cni/deploying-cilium.mdx, "Without kube-proxy");
 * cilium/cilium:install/kubernetes/cilium/values.yaml documents k8sServiceHost, k8sServicePort
 * (string or integer) and securityContext.capabilities.{ciliumAgent,cleanCiliumState}, and
 * `k8sNetworkPolicy.enabled: true` by default: Cilium enforces the workloads' NetworkPolicies
 * without further values.
 */
export const cilium: CatalogEntry = {
  name: 'cilium',
  description: 'Cilium CNI with kube-proxy replacement (Talos settings: KubePrism, cgroup v2, no SYS_MODULE)',
  chart: { repoURL: 'https://helm.cilium.io/', name: 'cilium', version: '1.18.0' },
  namespace: 'kube-system',
  syncWave: -3,
  enabledByDefault: (m) => m.cluster.network.cni === 'cilium',
  condition: 'cluster.network.cni is cilium',
  bootstrapOrder: 10,
  // orphan: the CNI: deleting it takes every pod's network, Argo CD's included.
  onDelete: 'orphan',
  clusterResources: RBAC,
  values: ({ model }) => {
    const talos = model.cluster.distribution === 'talos';
    return {
      ipam: { mode: 'kubernetes' },
      kubeProxyReplacement: true,
      k8sServiceHost: talos ? KUBEPRISM.host : model.cluster.endpointHost,
      k8sServicePort: talos ? KUBEPRISM.port : model.cluster.endpointPort,
      // Hubble is on by default with TLS from `method: helm`: genCA/genSignedCert (and a `lookup` that
      // Argo CD cannot run) at every render, so the Application is always OutOfSync and self-heal
      // rotates the certificates on each sync. `certmanager` cannot work here: Cilium is the CNI and is
      // installed by helm in the bootstrap, before cert-manager (wave -1, and it needs pod networking
      // itself), so its Certificate objects would have no CRD. `cronJob` renders a certgen Job (a
      // post-install hook, host network: it runs before the CNI is ready) and a CronJob that create the
      // CA (reused: --ca-reuse-secret) and the Hubble server certificates as Secrets in the cluster, not
      // in the rendered chart: the render is deterministic (catalog/determinism.ts).
      hubble: { tls: { auto: { method: 'cronJob' } } },
      ...(talos
        ? {
            securityContext: {
              capabilities: {
                ciliumAgent: ['CHOWN', 'KILL', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'SYS_ADMIN', 'SYS_RESOURCE', 'DAC_OVERRIDE', 'FOWNER', 'SETGID', 'SETUID'],
                cleanCiliumState: ['NET_ADMIN', 'SYS_ADMIN', 'SYS_RESOURCE'],
              },
            },
            cgroup: { autoMount: { enabled: false }, hostRoot: '/sys/fs/cgroup' },
          }
        : {}),
    };
  },
};
