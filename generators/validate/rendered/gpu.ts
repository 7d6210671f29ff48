/**
 * GPU nodes get the device plugin, other nodes do not: for every node config of an environment (each
 * distribution reads its own, Distribution.checks.nodeConfigs), the labels and taints it registers with
 * are matched against the nvidia-device-plugin DaemonSet's nodeSelector, required node affinity and
 * tolerations (our values in `values/nvidia-device-plugin.yaml` over the pinned chart's defaults,
 * merged as Helm does). A GPU node must be selected and tolerated, or it never gets `nvidia.com/gpu`
 * capacity; a non-GPU node must not be selected, or the plugin runs (and fails) there.
 */
import { DEVICE_PLUGIN_CHART_DEFAULTS, nvidiaDevicePlugin } from '../../catalog/nvidia-device-plugin.js';
import type { DocPath } from '../../lib/paths.js';
import { distributions } from '../../distributions/registry.js';
import { helmMerge, nodeMatches, untolerated, type NodeSelectorTerm, type Taint, type Toleration } from '../../lib/scheduling.js';
import type { Diagnostic } from '../diagnostics.js';
import type { TreeChecker } from './registry.js';
import { finding, isMap, type ParsedDoc, type ParsedFile, type RenderedTree } from './tree.js';

const RULE = 'policy.gpu-device-plugin';

/** A rendered node config as this check reads it: whether it is a GPU node, and what it registers with. */
export interface NodeConfig {
  file: ParsedFile;
  doc: ParsedDoc;
  gpu: boolean;
  labels: Record<string, string>;
  labelsPath: DocPath;
  taints: (Taint & { path: DocPath })[];
}

export const strings = (v: unknown): Record<string, string> => (isMap(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x ?? '')])) : {});

/** The DaemonSet's placement: our values over the chart defaults. */
export function devicePluginPlacement(values: unknown): { nodeSelector: Record<string, string>; terms?: NodeSelectorTerm[]; tolerations: Toleration[] } {
  const merged = helmMerge(DEVICE_PLUGIN_CHART_DEFAULTS, values) as { nodeSelector?: unknown; affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: unknown } } }; tolerations?: unknown };
  const terms = merged.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  return {
    nodeSelector: strings(merged.nodeSelector),
    terms: Array.isArray(terms) ? (terms as NodeSelectorTerm[]) : undefined,
    tolerations: Array.isArray(merged.tolerations) ? (merged.tolerations as Toleration[]) : [],
  };
}

const showTaint = (t: Taint): string => `${t.key}${t.value !== undefined ? `=${t.value}` : ''}:${t.effect}`;

export const gpuDevicePluginChecker: TreeChecker = {
  name: RULE,
  check(tree: RenderedTree): Diagnostic[] {
    const VALUES = `values/${nvidiaDevicePlugin.name}.yaml`;
    const out: Diagnostic[] = [];
    for (const env of tree.envs) {
      const files = tree.files.filter((f) => f.env === env && f.errors.length === 0);
      const nodes = files.flatMap((f) => {
        const reader = distributions().find((d) => d.checks.nodeConfigs?.pattern.test(f.path))?.checks.nodeConfigs;
        const n = reader?.read(f);
        return n ? [n] : [];
      });
      const valuesFile = files.find((f) => f.path === VALUES);
      if (!valuesFile) {
        for (const n of nodes.filter((x) => x.gpu))
          out.push(finding(n.file, n.doc, RULE, n.labelsPath, `GPU node config ${n.file.path} has no device plugin: ${VALUES} is not rendered, so the node never offers nvidia.com/gpu`, { hint: `enable the ${nvidiaDevicePlugin.name} add-on`, key: true }));
        continue;
      }
      const placement = devicePluginPlacement(valuesFile.docs[0]?.value ?? {});
      for (const n of nodes) {
        const selected = nodeMatches(n.labels, placement.nodeSelector, placement.terms);
        const blocking = untolerated(placement.tolerations, n.taints);
        if (n.gpu && !selected)
          out.push(
            finding(n.file, n.doc, RULE, n.labelsPath, `GPU node config ${n.file.path} is not selected by the ${nvidiaDevicePlugin.name} DaemonSet (nodeSelector and node affinity of ${valuesFile.file}), so the node never offers nvidia.com/gpu`, {
              hint: 'GPU nodes must carry nvidia.com/gpu.present=true (the generator sets it on GPU pools)',
              key: true,
            }),
          );
        if (n.gpu)
          for (const t of blocking)
            out.push(finding(n.file, n.doc, RULE, t.path, `GPU node config ${n.file.path} has taint ${showTaint(t)}, which the ${nvidiaDevicePlugin.name} DaemonSet does not tolerate (tolerations of ${valuesFile.file})`, { hint: 'the device plugin must tolerate every NoSchedule/NoExecute taint of a GPU pool' }));
        if (!n.gpu && selected && blocking.length === 0)
          out.push(
            finding(n.file, n.doc, RULE, n.labelsPath, `node config ${n.file.path} has no GPU but is selected by the ${nvidiaDevicePlugin.name} DaemonSet (${valuesFile.file}), which then runs and fails there`, {
              hint: 'only GPU pools may carry nvidia.com/gpu.present=true',
              key: true,
            }),
          );
      }
    }
    return out;
  },
};
