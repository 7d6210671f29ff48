/**
 * Catalog entry (data): the NVIDIA device plugin on GPU nodes, and the chart defaults its placement check reads.
 */
import { distributionOf } from '../distributions/registry.js';
import { RuntimeClass } from '../lib/k8s-objects.js';
import { GPU_PRESENT_LABEL } from '../model/aws.js';
import { placementAt, stringAt } from './facts.js';
import { cap } from '../plan/needs.js';
import { RBAC, type CatalogEntry, type ChartFacts, type K8sObject } from './types.js';

/**
 * nvidia-device-plugin 0.20.0 (NVIDIA/k8s-device-plugin tag v0.20.0, deployments/helm/nvidia-device-plugin):
 * the DaemonSets name `runtimeClassName: {{ .Values.runtimeClassName }}` when set
 * (templates/daemonset-device-plugin.yml:46-48; values.yaml:101, default null) and the chart never
 * creates a RuntimeClass (README.md:104-113): admission refuses the pods until it exists. The plugin
 * advertises nvidia.com/gpu on the nodes it runs on.
 */
const DEVICE_PLUGIN_FACTS: ChartFacts = {
  version: '0.20.0',
  provides: () => [cap.resource('nvidia.com/gpu')],
  needs: (values) => {
    const rc = stringAt(values, 'runtimeClassName');
    return rc ? [{ what: cap.runtimeClass(rc), why: 'values runtimeClassName (the DaemonSet\'s pods)' }] : [];
  },
  pods: (values) => [placementAt(values, 'the device plugin', '', DEVICE_PLUGIN_CHART_DEFAULTS as never)],
};

export { GPU_PRESENT_LABEL };
export const NVIDIA_RUNTIME_CLASS = 'nvidia';

/**
 * What the pinned chart (0.20.0 values.yaml) puts in the DaemonSet when our values do not say
 * otherwise: the rendered-tree check (validate/rendered/gpu.ts) applies our values over these, as
 * Helm does (maps merge, lists replace). A test compares them with the upstream values.yaml.
 */
export const DEVICE_PLUGIN_CHART_DEFAULTS = {
  nodeSelector: {},
  affinity: {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [
          { matchExpressions: [{ key: 'feature.node.kubernetes.io/pci-10de.present', operator: 'In', values: ['true'] }] },
          { matchExpressions: [{ key: 'feature.node.kubernetes.io/cpu-model.vendor_id', operator: 'In', values: ['NVIDIA'] }] },
          { matchExpressions: [{ key: GPU_PRESENT_LABEL, operator: 'In', values: ['true'] }] },
        ],
      },
    },
  },
  tolerations: [
    { key: 'CriticalAddonsOnly', operator: 'Exists' },
    { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
  ],
} as const;

/**
 * NVIDIA device plugin on GPU nodes only, with a RuntimeClass `nvidia` (the handler the NVIDIA
 * container toolkit registers in containerd). The pinned chart is nvidia-device-plugin 0.20.0; the
 * nodes bring driver and toolkit (each distribution's GPU node settings say how); moving to the GPU
 * Operator is a catalog change.
 */
export const nvidiaDevicePlugin: CatalogEntry = {
  name: 'nvidia-device-plugin',
  description: 'NVIDIA device plugin (nvidia.com/gpu resources) and the `nvidia` RuntimeClass, on GPU nodes only',
  chart: { repoURL: 'https://nvidia.github.io/k8s-device-plugin', name: 'nvidia-device-plugin', version: '0.20.0' },
  chartKubeVersions: { '0.20.0': { constraint: '>= 1.10.0-0', source: 'NVIDIA/k8s-device-plugin deployments/helm/nvidia-device-plugin/Chart.yaml at v0.20.0' } },
  namespace: 'nvidia-device-plugin',
  syncWave: 0,
  enabledByDefault: (m) => m.hasGpu,
  condition: 'an NVIDIA GPU node pool exists',
  facts: DEVICE_PLUGIN_FACTS,
  podSecurity: 'privileged', // the plugin mounts /var/lib/kubelet/device-plugins from the host
  // cascade: running GPU pods keep their devices; new ones wait until it is back.
  onDelete: 'cascade',
  clusterResources: [...RBAC, 'node.k8s.io/RuntimeClass'],
  values: ({ model }) => {
    const gpuPools = model.pools.filter((p) => p.gpu);
    // One selector: nvidia.com/gpu.present=true, which the generator sets on every GPU node (in each
    // distribution's node config) and on no other. It is the label the chart itself honours
    // ("a GPU deployment can be forced by setting it") and the one GPU feature discovery would set;
    // the pool's own labels are not used, since a non-GPU pool may share them. NFD's PCI labels are
    // dropped: NFD is not installed, and a label-less selector would miss the node.
    const terms = [{ matchExpressions: [{ key: GPU_PRESENT_LABEL, operator: 'In', values: ['true'] }] }];
    const taintTolerations = gpuPools.flatMap((p) => p.taints.map((t) => ({ key: t.key, operator: 'Exists', effect: t.effect })));
    const tolerations = [{ key: 'CriticalAddonsOnly', operator: 'Exists' }, { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }, ...taintTolerations];
    const unique = [...new Map(tolerations.map((t) => [JSON.stringify(t), t])).values()];
    return {
      runtimeClassName: NVIDIA_RUNTIME_CLASS,
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } },
      tolerations: unique,
    };
  },
  // A distribution that ships and owns the `nvidia` RuntimeClass (its facts say so and cite where) gets
  // none from the catalog: a second one from the engine would fight it.
  manifests: ({ model }) =>
    distributionOf(model).facts.runtimeClasses?.includes(NVIDIA_RUNTIME_CLASS) ? [] : [new RuntimeClass({ metadata: { name: NVIDIA_RUNTIME_CLASS }, handler: 'nvidia' }).toJSON() as K8sObject],
};
