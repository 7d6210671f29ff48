import { compileTemplate } from '../../lib/templates.js';
import type { EnvironmentModel } from '../../model/types.js';
import type { ReadmeSection } from './sections.js';

const overview = compileTemplate(`| | |
|---|---|
| Cluster | {{code cluster.name}} ({{distribution}}) |
| Kubernetes | {{code cluster.kubernetesVersion}} |
{{#if talos}}| Talos | {{code talos}} |
{{/if}}| API endpoint | {{code cluster.endpoint}} |
| Datastore | {{datastore}} |
| AWS | account {{code aws.accountId}}, region {{code aws.region}} |
| Pod / service CIDR | {{code cluster.network.podCIDR}} / {{code cluster.network.serviceCIDR}} ({{cni}}) |
| Worker capacity | {{capacity}} pods for {{cluster.plannedPods}} planned |
`);

const pools = compileTemplate(`| Pool | Role | Arch | Instance type | Nodes | Max pods | GPU |
|---|---|---|---|---|---|---|
{{#each pools}}| {{name}} | {{role}} | {{arch}} | {{code instanceType}} | {{nodes}} | {{maxPods}} | {{gpu}} |
{{/each}}`);

function datastoreText(m: EnvironmentModel): string {
  const d = m.cluster.datastore;
  switch (d.type) {
    case 'etcd':
      return m.cluster.distribution === 'talos'
        ? `Talos-managed etcd${d.backup ? `, encrypted snapshots to \`s3://${d.backup.bucket}/${d.backup.prefix}\` on \`${d.backup.schedule}\`` : ' (no backup configured)'}. Talos cannot use Kine: it hard-codes kube-apiserver's \`--etcd-servers\` and always runs etcd.`
        : `RKE2's embedded etcd${d.backup ? `, snapshots to \`s3://${d.backup.bucket}/${d.backup.prefix}\` on \`${d.backup.schedule}\` (${d.backup.retention} kept), with the instance profile` : ' (no backup configured)'}`;
    case 'kine-postgres':
      return `Kine (embedded in ${m.cluster.distribution === 'rke2' ? 'RKE2' : 'K3s'}) on PostgreSQL \`${d.postgres.host}:${d.postgres.port}/${d.postgres.database}\``;
    case 'kine-sqlite':
      return `Kine (embedded in K3s) on SQLite, replicated by Litestream to \`s3://${d.litestream.bucket}/${d.litestream.prefix}\``;
  }
}

export function overviewSections(m: EnvironmentModel): ReadmeSection[] {
  return [
    {
      order: 0,
      title: 'Overview',
      inputs: [['cluster'], ['aws', 'region'], ['aws', 'accountId'], ['nodePools']],
      body: overview({
        cluster: m.cluster,
        aws: m.aws,
        distribution: { talos: 'Talos Linux', k3s: 'K3s', rke2: `RKE2 ${m.cluster.rke2Version ?? ''}, CIS profile` }[m.cluster.distribution],
        talos: m.cluster.talosVersion ?? false,
        datastore: datastoreText(m),
        cni: m.cluster.distribution === 'rke2' && m.cluster.network.cni === 'flannel' ? 'flannel: RKE2 Canal' : m.cluster.network.cni,
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
