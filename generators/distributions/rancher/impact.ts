/**
 * What applying a changed RKE2 node config takes, per config target (node or auto-scaled pool),
 * from the rendered `rke2/<target>.yaml` and `rke2/userdata/<target>.yaml`:
 *
 * - RKE2 reads /etc/rancher/rke2/config.yaml when the service starts (K3s' configfilearg parser):
 *   a changed key applies after editing the file on the node and `systemctl restart rke2-<role>`.
 * - Labels and taints (`node-label`, `node-taint`) are applied only when the node registers; on a
 *   running node they change with kubectl (K3s/RKE2 docs: "node labels and taints are only applied
 *   at registration").
 * - The CNI, kube-proxy's presence, the pod/service CIDRs, the cluster domain and DNS, and the
 *   datastore are fixed when the cluster is created: changing them needs the cluster rebuilt.
 * - Anything else in the user-data (boot script, kernel parameters, PSA and audit files, the RKE2
 *   release) runs once at first boot: the instance is replaced (or the change made by hand).
 */
import { parseYamlStream } from '../../lib/yaml.js';

export type NodeAction = 'rebuild' | 'replace' | 'restart' | 'relabel';
export const NODE_ACTION_ORDER: readonly NodeAction[] = ['rebuild', 'replace', 'restart', 'relabel'];

export const NODE_ACTION_TEXT: Record<NodeAction, string> = {
  rebuild: 'rebuild the cluster (a setting fixed at cluster creation changed: CNI, CIDRs, DNS, datastore)',
  replace: 'replace the instance with the new user-data (it runs once, at first boot), or apply the change by hand',
  restart: 'edit /etc/rancher/rke2/config.yaml on the node (or replace it) and systemctl restart the RKE2 service',
  relabel: 'kubectl label/taint the node (labels and taints apply only when a node registers)',
};

/** Keys fixed when the cluster is created. */
const REBUILD_KEYS = ['cni', 'disable-kube-proxy', 'cluster-cidr', 'service-cidr', 'cluster-domain', 'cluster-dns', 'datastore-endpoint', 'datastore-cafile'];
const RELABEL_KEYS = ['node-label', 'node-taint'];

export interface NodeImpact {
  /** Config target: node name or auto-scaled pool. */
  node: string;
  status: 'added' | 'removed' | 'changed';
  headline: NodeAction | 'new node' | 'removed node';
  actions: NodeAction[];
  reasons: { path: string; action: NodeAction }[];
}

const configOf = (text: string | undefined): Record<string, unknown> => (text === undefined ? {} : ((parseYamlStream(text)[0] ?? {}) as Record<string, unknown>));

/** The user-data without the config it embeds (so a config change is not counted twice). */
function userDataRest(text: string | undefined, configPath: string): string {
  if (text === undefined) return '';
  const data = (parseYamlStream(text)[0] ?? {}) as { write_files?: { path: string }[] };
  return JSON.stringify({ ...data, write_files: (data.write_files ?? []).filter((f) => f.path !== configPath) });
}

/** Impact of one target's changes; `dir` is the distribution folder (`rke2`). */
export function nodeImpact(dir: string, node: string, base: ReadonlyMap<string, string>, head: ReadonlyMap<string, string>, configPath: string): NodeImpact | undefined {
  const cfg = `${dir}/${node}.yaml`;
  const ud = `${dir}/userdata/${node}.yaml`;
  if (!base.has(cfg) && head.has(cfg)) return { node, status: 'added', headline: 'new node', actions: [], reasons: [] };
  if (base.has(cfg) && !head.has(cfg)) return { node, status: 'removed', headline: 'removed node', actions: [], reasons: [] };
  const b = configOf(base.get(cfg));
  const h = configOf(head.get(cfg));
  const reasons: NodeImpact['reasons'] = [];
  for (const key of [...new Set([...Object.keys(b), ...Object.keys(h)])].sort()) {
    if (JSON.stringify(b[key]) === JSON.stringify(h[key])) continue;
    reasons.push({ path: key, action: REBUILD_KEYS.includes(key) ? 'rebuild' : RELABEL_KEYS.includes(key) ? 'relabel' : 'restart' });
  }
  if (userDataRest(base.get(ud), configPath) !== userDataRest(head.get(ud), configPath)) reasons.push({ path: 'user-data', action: 'replace' });
  if (reasons.length === 0) return undefined;
  const actions = NODE_ACTION_ORDER.filter((a) => reasons.some((r) => r.action === a));
  return { node, status: 'changed', headline: actions[0]!, actions, reasons };
}

/** Impacts of every changed RKE2 target of one environment (paths relative to rendered/<env>/). */
export function rke2Impacts(base: ReadonlyMap<string, string>, head: ReadonlyMap<string, string>): NodeImpact[] {
  const re = /^rke2\/([^/]+)\.yaml$/;
  const nodes = new Set([...base.keys(), ...head.keys()].map((p) => re.exec(p)?.[1]).filter((n): n is string => n !== undefined));
  return [...nodes].sort().flatMap((n) => nodeImpact('rke2', n, base, head, '/etc/rancher/rke2/config.yaml') ?? []);
}

export const nodeImpactLines = (i: NodeImpact): string[] => [
  `${i.node}: ${i.headline}${i.actions.length > 1 ? ` (then ${i.actions.slice(1).join(', ')})` : ''}`,
  ...i.actions.map((a) => `    ${a}: ${NODE_ACTION_TEXT[a]}`),
  ...i.reasons.map((r) => `    ${r.path}: ${r.action}`),
];
