/**
 * The one table of node-to-node ports: what each node security group admits, from whom, and why.
 * The security groups of the base stack (stacks.ts) and the README's port table (readme.ts) both
 * read it, so they cannot disagree. Rows come from the distribution's facts (its components, the
 * port its flannel uses, the endpoint ports behind the API load balancer), the CNI table below and
 * the add-ons that serve on the host network.
 *
 * Not in it: NodePorts (30000-32767). The AWS Load Balancer Controller opens exactly the NodePorts
 * of its target groups, from its own backend security group, on the node security group tagged
 * kubernetes.io/cluster/<cluster> (aws-load-balancer-controller v3.5.0 docs/deploy/security_groups.md);
 * the templates keep every rule a separate AWS::EC2::SecurityGroupIngress resource, so a stack update
 * never revokes the rules the controller added.
 */
import { resolveAddons } from '../../catalog/resolve.js';
import { hostNetworkPods } from '../../catalog/host-network.js';
import { nodesOf as schedulerNodes, placeable } from '../../plan/nodes.js';
import type { PodPlacement } from '../../plan/needs.js';
import type { EnvironmentModel } from '../../model/types.js';
import { distributionOf } from '../../distributions/registry.js';
import type { NodeGroup, Peer, PortRule } from './facts.js';

const CILIUM = 'Cilium docs operations/system_requirements.rst, "Firewall Rules" (VXLAN tunnel mode, health checks, Hubble server)';

/** Cilium's ports in its default tunnel mode, the same on every distribution. */
const ciliumPorts = (version: string): PortRule[] => [
  { protocol: 'udp', from: 8472, to: 8472, peers: ['controlplane', 'worker'], targets: ['controlplane', 'worker'], component: `Cilium ${version}`, purpose: 'VXLAN overlay: pod traffic between nodes', source: CILIUM },
  { protocol: 'tcp', from: 4240, to: 4240, peers: ['controlplane', 'worker'], targets: ['controlplane', 'worker'], component: `Cilium ${version}`, purpose: 'cilium-health: node-to-node health probes', source: CILIUM },
  { protocol: 'icmp', from: 8, to: 0, peers: ['controlplane', 'worker'], targets: ['controlplane', 'worker'], component: `Cilium ${version}`, purpose: 'cilium-health: ICMP echo between nodes', source: CILIUM },
  { protocol: 'tcp', from: 4244, to: 4244, peers: ['controlplane', 'worker'], targets: ['controlplane', 'worker'], component: `Cilium ${version}`, purpose: 'Hubble server of each agent, read by Hubble Relay', source: CILIUM },
];

/** Every node ingress rule of the environment, in table order. */
export function portTable(m: EnvironmentModel): PortRule[] {
  const facts = distributionOf(m).aws;
  const addons = resolveAddons(m);
  const rows: PortRule[] = [...facts.ports(m)];
  const cilium = addons.find((a) => a.name === 'cilium');
  if (m.cluster.network.cni === 'cilium') rows.push(...ciliumPorts(cilium?.chart?.version ?? ''));
  else rows.push({ protocol: 'udp', from: facts.flannel.port, to: facts.flannel.port, peers: ['controlplane', 'worker'], targets: ['controlplane', 'worker'], component: facts.flannel.component, purpose: 'VXLAN overlay: pod traffic between nodes', source: facts.flannel.source });
  rows.push(...hostNetworkPorts(m, addons));
  for (const e of facts.endpointPorts(m))
    rows.push({ protocol: 'tcp', from: e.port, to: e.port, peers: ['api-lb'], targets: ['controlplane'], component: `API load balancer (${e.name})`, purpose: e.purpose, source: e.source });
  return rows;
}

/**
 * The ports add-on pods serve on the host network to pods on other nodes (catalog/host-network.ts `serves`, from the
 * rendered values and the chart's defaults): open to the node groups its clients can be scheduled on, on the node
 * groups the server runs on (plan/nodes.ts placeable: their tolerations and node selectors). None when the pod is
 * not on the host network (it is then reached on its pod address, through the overlay), or no client runs.
 */
function hostNetworkPorts(m: EnvironmentModel, addons: ReturnType<typeof resolveAddons>): PortRule[] {
  const nodes = schedulerNodes(m);
  const groupsOf = (p: PodPlacement): NodeGroup[] => (['controlplane', 'worker'] as const).filter((g) => nodes.some((n) => n.role === g && placeable(p, n)));
  return hostNetworkPods(addons).flatMap((h) => {
    if (!h.serves) return [];
    const peers = groupsOf(h.serves.clients);
    const targets = groupsOf(h.placement);
    if (peers.length === 0 || targets.length === 0) return [];
    return [{ protocol: 'tcp', from: h.serves.port, to: h.serves.port, peers, targets, component: `${h.who} (${h.addon})`, purpose: h.serves.purpose, source: `${h.serves.source}; addons.${h.addon}.values.${h.serves.key}` }];
  });
}

/** The ports (for people): `6443/tcp`, `2379-2380/tcp`, `ICMP echo`. */
export function portText(r: Pick<PortRule, 'protocol' | 'from' | 'to'>): string {
  if (r.protocol === 'icmp') return r.from === 8 ? 'ICMP echo (type 8)' : `ICMP type ${r.from}`;
  return `${r.from === r.to ? r.from : `${r.from}-${r.to}`}/${r.protocol}`;
}

export const PEER_TEXT: Record<Peer, string> = {
  controlplane: 'control planes',
  worker: 'workers',
  operators: 'operators (VPC CIDR)',
  'api-lb': 'API load balancer',
};

export const GROUP_TEXT: Record<NodeGroup, string> = { controlplane: 'control planes', worker: 'workers' };

/** One ingress rule per (target group, peer, row): what the security groups hold. */
export interface IngressRule {
  target: NodeGroup;
  peer: Peer;
  row: PortRule;
}

export function ingressRules(m: EnvironmentModel): IngressRule[] {
  const groups = new Set<NodeGroup>(m.pools.some((p) => p.role === 'worker') ? ['controlplane', 'worker'] : ['controlplane']);
  const out: IngressRule[] = [];
  const seen = new Set<string>();
  for (const row of portTable(m)) {
    for (const target of row.targets) {
      if (!groups.has(target)) continue;
      for (const peer of row.peers) {
        if ((peer === 'controlplane' || peer === 'worker') && !groups.has(peer)) continue;
        const key = `${target}|${peer}|${row.protocol}|${row.from}|${row.to}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ target, peer, row });
      }
    }
  }
  return out;
}
