/** README sections every environment has: the overview table and the node pools. */
import { distributionOf } from '../../distributions/registry.js';
import { compileTemplate } from '../../lib/templates.js';
import type { EnvironmentModel } from '../../model/types.js';
import type { ReadmeSection } from './sections.js';

const overview = compileTemplate(`| | |
|---|---|
| Cluster | {{code cluster.name}} ({{distribution}}) |
| Kubernetes | {{code cluster.kubernetesVersion}} |
{{#each rows}}| {{label}} | {{code value}} |
{{/each}}| API endpoint | {{code cluster.endpoint}} |
| Datastore | {{datastore}} |
| AWS | account {{code aws.accountId}}, region {{code aws.region}} |
| Pod / service CIDR | {{code cluster.network.podCIDR}} / {{code cluster.network.serviceCIDR}} ({{cni}}) |
| Worker capacity | {{capacity}} pods for {{cluster.plannedPods}} planned |
`);

const pools = compileTemplate(`| Pool | Role | Arch | Instance type | Nodes | Max pods | GPU |
|---|---|---|---|---|---|---|
{{#each pools}}| {{name}} | {{role}} | {{arch}} | {{code instanceType}} | {{nodes}} | {{maxPods}} | {{gpu}} |
{{/each}}`);

export function overviewSections(m: EnvironmentModel): ReadmeSection[] {
  const d = distributionOf(m);
  return [
    {
      order: 0,
      title: 'Overview',
      inputs: [['cluster'], ['aws', 'region'], ['aws', 'accountId'], ['nodePools']],
      body: overview({
        cluster: m.cluster,
        aws: m.aws,
        distribution: d.readme.overviewName(m),
        rows: d.readme.overviewRows?.(m) ?? [],
        datastore: d.readme.datastore(m),
        cni: d.readme.cni?.(m) ?? m.cluster.network.cni,
        capacity: m.podCapacity,
      }),
    },
    {
      order: 10,
      title: 'Node pools',
      inputs: [['nodePools']],
      body: pools({
        pools: m.pools.map((p) => ({
          name: p.name,
          role: p.role,
          arch: p.arch,
          instanceType: p.instanceType,
          nodes: p.count !== undefined ? `${p.count} (auto-scaled)` : p.nodes.map((n) => `${n.name} (${n.ip})`).join(', '),
          maxPods: p.maxPods,
          gpu: p.gpu ? `${p.gpu.perNode}× NVIDIA` : '—',
        })),
      }),
    },
  ];
}
