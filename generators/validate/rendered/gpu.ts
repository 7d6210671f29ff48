/**
 * GPU nodes get the device plugin, other nodes do not: for every node config of an environment
 * (Talos `talos/<x>.yaml`, K3s `k3s/<x>.yaml`), the labels and taints it registers with are matched
 * against the nvidia-device-plugin DaemonSet's nodeSelector, required node affinity and tolerations
 * (our values in `values/nvidia-device-plugin.yaml` over the pinned chart's defaults, merged as
 * Helm does). A GPU node (Talos: loads the nvidia kernel modules; K3s and RKE2: default-runtime nvidia) must
 * be selected and tolerated, or it never gets `nvidia.com/gpu` capacity; a non-GPU node must not
 * be selected, or the plugin runs (and fails) there.
 */
import { DEVICE_PLUGIN_CHART_DEFAULTS, nvidiaDevicePlugin } from '../../catalog/nvidia-device-plugin.js';
import type { DocPath } from '../../lib/paths.js';
import { helmMerge, nodeMatches, parseTaint, untolerated, type NodeSelectorTerm, type Taint, type Toleration } from '../../lib/scheduling.js';
import type { Diagnostic } from '../diagnostics.js';
import type { TreeChecker } from './registry.js';
import { finding, isMap, type ParsedDoc, type ParsedFile, type RenderedTree } from './tree.js';

const RULE = 'policy.gpu-device-plugin';
const VALUES = `values/${nvidiaDevicePlugin.name}.yaml`;
const CONTROL_PLANE_TAINT: Taint = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };

interface NodeConfig {
  file: ParsedFile;
  doc: ParsedDoc;
  gpu: boolean;
  labels: Record<string, string>;
  labelsPath: DocPath;
  taints: (Taint & { path: DocPath })[];
}

const strings = (v: unknown): Record<string, string> => (isMap(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x ?? '')])) : {});

function talosNode(file: ParsedFile): NodeConfig | undefined {
  const doc = file.docs.find((d) => isMap(d.value) && isMap(d.value.machine));
  if (!doc) return undefined;
  const v = doc.value as { machine: Record<string, unknown>; cluster?: Record<string, unknown> };
  const m = v.machine;
  const modules = isMap(m.kernel) && Array.isArray(m.kernel.modules) ? m.kernel.modules : [];
  const gpu = modules.some((x) => isMap(x) && typeof x.name === 'string' && x.name.startsWith('nvidia'));
  const taints: NodeConfig['taints'] = [];
  const args = isMap(m.kubelet) && isMap(m.kubelet.extraArgs) ? m.kubelet.extraArgs : {};
  const registered = args['register-with-taints'];
  if (typeof registered === 'string')
    for (const t of registered.split(',')) {
      const taint = parseTaint(t);
      if (taint) taints.push({ ...taint, path: ['machine', 'kubelet', 'extraArgs', 'register-with-taints'] });
    }
  for (const [key, value] of Object.entries(strings(m.nodeTaints))) {
    const taint = parseTaint(`${key}${value.includes(':') ? `=${value}` : `:${value}`}`);
    if (taint) taints.push({ ...taint, path: ['machine', 'nodeTaints', key] });
  }
  // Talos taints control planes unless cluster.allowSchedulingOnControlPlanes.
  if (m.type === 'controlplane' && v.cluster?.allowSchedulingOnControlPlanes !== true) taints.push({ ...CONTROL_PLANE_TAINT, path: ['machine', 'type'] });
  return { file, doc, gpu, labels: strings(m.nodeLabels), labelsPath: isMap(m.nodeLabels) ? ['machine', 'nodeLabels'] : ['machine'], taints };
}

function k3sNode(file: ParsedFile): NodeConfig | undefined {
  const doc = file.docs[0];
  if (!doc || !isMap(doc.value) || !('token-file' in doc.value || 'server' in doc.value || 'cluster-init' in doc.value)) return undefined;
  const v = doc.value;
  const list = (k: string): string[] => (Array.isArray(v[k]) ? (v[k] as unknown[]).map(String) : typeof v[k] === 'string' ? [v[k]] : []);
  const labels: Record<string, string> = {};
  for (const l of list('node-label')) {
    const i = l.indexOf('=');
    labels[i === -1 ? l : l.slice(0, i)] = i === -1 ? '' : l.slice(i + 1);
  }
  const taints: NodeConfig['taints'] = [];
  list('node-taint').forEach((t, i) => {
    const taint = parseTaint(t);
    if (taint) taints.push({ ...taint, path: ['node-taint', i] });
  });
  return { file, doc, gpu: v['default-runtime'] === 'nvidia', labels, labelsPath: 'node-label' in v ? ['node-label'] : [], taints };
}

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
    const out: Diagnostic[] = [];
    for (const env of tree.envs) {
      const files = tree.files.filter((f) => f.env === env && f.errors.length === 0);
      const nodes = files.flatMap((f) => {
        const n = /^talos\/[^/]+\.yaml$/.test(f.path) ? talosNode(f) : /^(k3s|rke2)\/[^/]+\.yaml$/.test(f.path) ? k3sNode(f) : undefined;
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
