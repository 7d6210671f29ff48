/**
 * AWS facts of K3s (the pinned release; docs = k3s-io/docs installation/requirements.md, "Inbound
 * Rules for K3s Nodes").
 *
 * - Ports: 6443 on servers (agents → servers: "K3s supervisor and Kubernetes API Server"), 10250 on
 *   every node ("Kubelet metrics"), 8472/udp between all nodes ("Required only for Flannel VXLAN").
 *   2379-2380 only for embedded etcd, which this platform never runs on K3s (Kine, rule
 *   k3s-datastore); WireGuard (51820/51821) and Spegel (5001) are not enabled.
 * - Nodes join by themselves: the user data (k3s/userdata/<target>.yaml) reads the tokens from SSM
 *   through the instance profile and runs the pinned installer, so a new pool instance needs nobody.
 * - Agents are no datastore members (Kine): a terminated agent's Node is deleted by the AWS cloud
 *   controller, and K3s removes the node's password Secret with it (docs architecture.md, "How Agent
 *   Node Registration Works"): no termination lifecycle hook.
 */
import type { EnvironmentModel } from '../../../model/types.js';
import { litestreamReplicaPath } from '../../../render/k3s/litestream.js';
import { userDataText } from '../../../render/k3s/userdata.js';
import { s3ReadWrite, ssmGet } from '../policy.js';
import type { DistributionAwsFacts, HostNeed, PortRule } from './types.js';
import { ubuntuImage } from './ubuntu.js';

const DOCS = 'k3s-io/docs:docs/installation/requirements.md (Inbound Rules for K3s Nodes)';

const ports = (): PortRule[] => [
  { protocol: 'tcp', from: 6443, to: 6443, peers: ['controlplane', 'worker'], targets: ['controlplane'], component: 'K3s supervisor and kube-apiserver', purpose: 'agents (and the servers’ own agents) register and reach the API on every server', source: DOCS },
  { protocol: 'tcp', from: 10250, to: 10250, peers: ['controlplane', 'worker'], targets: ['controlplane', 'worker'], component: 'kubelet', purpose: 'kubelet metrics (metrics-server), logs and exec through the API server', source: DOCS },
];

function hostNeeds(m: EnvironmentModel, role: 'controlplane' | 'worker'): HostNeed[] {
  const k = m.cluster.k3s;
  const d = m.cluster.datastore;
  if (role === 'worker') return [{ id: 'boot-secrets', who: 'the agent boot script reads the agent token', statements: [ssmGet(m, [k.agentToken.secret])], source: 'render/k3s/userdata.ts' }];
  const secrets = [k.token.secret, k.agentToken.secret, ...(d.type === 'kine-postgres' ? [d.postgres.password.secret] : [])];
  const needs: HostNeed[] = [{ id: 'boot-secrets', who: 'the server boot script reads the tokens (and the Kine PostgreSQL password)', statements: [ssmGet(m, secrets)], source: 'render/k3s/userdata.ts' }];
  if (d.type === 'kine-sqlite')
    needs.push({ id: 'litestream', who: 'Litestream replicates and restores the SQLite datastore', statements: s3ReadWrite(m, d.litestream.bucket, litestreamReplicaPath(m, d)), source: 'render/k3s/litestream.ts' });
  return needs;
}

export const k3sFacts: DistributionAwsFacts = {
  name: 'k3s',
  ports,
  flannel: { port: 8472, component: 'flannel (VXLAN)', source: DOCS },
  endpointPorts: (m) => [{ port: m.cluster.endpointPort, name: 'api', purpose: 'K3s supervisor and Kubernetes API: agents register here first, kubectl and the hub use it', source: DOCS }],
  image: (_m, cls) => ubuntuImage(cls, 'K3s'),
  // K3s taints servers only when worker pools exist (render/rancher/config.ts nodeTaints).
  controlPlaneSchedulable: (m) => !m.pools.some((p) => p.role === 'worker' && p.size > 0),
  poolJoin: { kind: 'user-data', why: 'the user data installs K3s and joins with the agent token read from SSM at first boot: a new instance joins unattended' },
  poolTermination: { hook: false, why: 'agents are no datastore members (Kine); the AWS cloud controller deletes the Node of a terminated instance and K3s its node-password Secret with it' },
  hostNeeds,
  controlPlanePodsWithNodeCredentials: () => [],
  userData: (m, t) => userDataText(m, t),
  userDataFile: (t) => `k3s/userdata/${t.name}.yaml`,
  fixedNodeConfig: 'runs its user data at first boot (writes the config, reads the tokens from SSM, installs and starts K3s)',
};


