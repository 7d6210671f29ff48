/**
 * What Talos adds to the catalog's Cilium add-on (../../../catalog/cilium.ts): its values, as the Talos
 * guide configures Cilium, and the note on the add-on's description.
 *
 * The Talos guide: the cgroup v2 and bpffs mounts Talos already provides (no auto-mount), no SYS_MODULE
 * capability (Talos forbids loading kernel modules from workloads), and the API server through KubePrism,
 * since kube-proxy is gone. Requires cluster.network.cni none and cluster.proxy.disabled in the Talos
 * config (../machineconfig.ts). It installs exactly this set with `helm install cilium cilium/cilium
 * --version 1.18.0 --set ipam.mode=kubernetes --set kubeProxyReplacement=true --set securityContext.capabilities.ciliumAgent=…
 * --set securityContext.capabilities.cleanCiliumState=… --set cgroup.autoMount.enabled=false
 * --set cgroup.hostRoot=/sys/fs/cgroup --set k8sServiceHost=localhost --set k8sServicePort=7445`
 * (siderolabs/docs@5debdd92:public/kubernetes-guides/cni/deploying-cilium.mdx, "Without kube-proxy");
 * cilium/cilium:install/kubernetes/cilium/values.yaml documents securityContext.capabilities.{ciliumAgent,cleanCiliumState}.
 */
import { KUBEPRISM_PORT } from '../release.js';

/** Talos' KubePrism: a local load balancer for the API server on every node. */
export const KUBEPRISM = { host: 'localhost', port: KUBEPRISM_PORT };

export const ciliumValues = (): Record<string, unknown> => ({
  k8sServiceHost: KUBEPRISM.host,
  k8sServicePort: KUBEPRISM.port,
  securityContext: {
    capabilities: {
      ciliumAgent: ['CHOWN', 'KILL', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'SYS_ADMIN', 'SYS_RESOURCE', 'DAC_OVERRIDE', 'FOWNER', 'SETGID', 'SETUID'],
      cleanCiliumState: ['NET_ADMIN', 'SYS_ADMIN', 'SYS_RESOURCE'],
    },
  },
  cgroup: { autoMount: { enabled: false }, hostRoot: '/sys/fs/cgroup' },
});

export const CILIUM_NOTE = ' (Talos settings: KubePrism, cgroup v2, no SYS_MODULE)';
