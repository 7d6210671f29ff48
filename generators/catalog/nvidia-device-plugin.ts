import { RuntimeClass } from 'kubernetes-models/node.k8s.io/v1/RuntimeClass';
import { RBAC, type CatalogEntry, type K8sObject } from './types.js';

export const NVIDIA_RUNTIME_CLASS = 'nvidia';
/** Label GPU nodes carry (set by the Talos node config, or by NVIDIA GPU feature discovery). */
export const GPU_PRESENT_LABEL = 'nvidia.com/gpu.present';

/**
 * NVIDIA device plugin on GPU nodes only. Talos 1.12's NVIDIA guide installs this chart with a
 * RuntimeClass `nvidia` (the handler the nvidia-container-toolkit extension registers in containerd);
 * Talos 1.13 recommends the GPU Operator with driver and toolkit disabled instead. The pinned chart
 * here is nvidia-device-plugin 0.20.0, which works on both (the extensions provide driver and
 * toolkit); moving to the GPU Operator is a catalog change.
 */
export const nvidiaDevicePlugin: CatalogEntry = {
  name: 'nvidia-device-plugin',
  description: 'NVIDIA device plugin (nvidia.com/gpu resources) and the `nvidia` RuntimeClass, on GPU nodes only',
  chart: { repoURL: 'https://nvidia.github.io/k8s-device-plugin', name: 'nvidia-device-plugin', version: '0.20.0' },
  namespace: 'nvidia-device-plugin',
  syncWave: 0,
  enabledByDefault: (m) => m.hasGpu,
  condition: 'an NVIDIA GPU node pool exists',
  podSecurity: 'privileged', // the plugin mounts /var/lib/kubelet/device-plugins from the host
  clusterResources: [...RBAC, 'node.k8s.io/RuntimeClass'],
  values: ({ model }) => {
    const gpuPools = model.pools.filter((p) => p.gpu);
    // A node is a GPU node if it carries the GPU label or all labels of one of the GPU pools.
    const terms = [
      { matchExpressions: [{ key: GPU_PRESENT_LABEL, operator: 'In', values: ['true'] }] },
      ...gpuPools
        .filter((p) => Object.keys(p.labels).length > 0)
        .map((p) => ({ matchExpressions: Object.entries(p.labels).map(([key, value]) => ({ key, operator: 'In', values: [value] })) })),
    ];
    const taintTolerations = gpuPools.flatMap((p) => p.taints.map((t) => ({ key: t.key, operator: 'Exists', effect: t.effect })));
    const tolerations = [{ key: 'CriticalAddonsOnly', operator: 'Exists' }, { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }, ...taintTolerations];
    const unique = [...new Map(tolerations.map((t) => [JSON.stringify(t), t])).values()];
    return {
      runtimeClassName: NVIDIA_RUNTIME_CLASS,
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } },
      tolerations: unique,
    };
  },
  // RKE2 ships and owns the `nvidia` RuntimeClass (its rke2-runtimeclasses chart, takeOwnership:
  // rancher/rke2 v1.35.7+rke2r1 charts/chart_versions.yaml; rke2-docs architecture.md): a second
  // one from Argo CD would fight it.
  manifests: ({ model }) => (model.cluster.distribution === 'rke2' ? [] : [new RuntimeClass({ metadata: { name: NVIDIA_RUNTIME_CLASS }, handler: 'nvidia' }).toJSON() as K8sObject]),
};
