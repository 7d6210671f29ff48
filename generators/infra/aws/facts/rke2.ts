/**
 * AWS facts of RKE2 (rancher/rke2 v1.35.7+rke2r1; docs = rancher/rke2-docs docs/install/requirements.md,
 * "Inbound Network Rules" and "CNI Specific Inbound Network Rules").
 *
 * - Ports: 6443 and the supervisor 9345 on servers (all nodes → servers), 10250 on all nodes, etcd
 *   2379 (client) and 2380 (peer) between servers with the embedded etcd. Left out: 2381 (etcd's
 *   metrics and probes listen on 127.0.0.1 unless etcd-expose-metrics, which is off:
 *   pkg/podtemplate/spec.go HealthPort 2381), the NodePort range (NodePorts are opened by the AWS Load
 *   Balancer Controller from its own security group only), WireGuard (not enabled).
 * - Canal (cni: canal): 8472/udp (flannel VXLAN) and 9099/tcp ("Canal CNI health checks") between all
 *   nodes. With Cilium (cni: none) the Cilium rows of the CNI table apply instead.
 * - Nodes join by themselves through the supervisor port of the endpoint (user data, tokens from SSM).
 * - Agents are no etcd members: no termination lifecycle hook (the AWS cloud controller deletes the
 *   Node of a terminated instance). Servers are fixed instances (rule controlplane-fixed); replacing
 *   one is the runbook's member removal, not an auto-scaling event.
 */
import type { EnvironmentModel } from '../../../model/types.js';
import { SUPERVISOR_PORT } from '../../../render/rke2/config.js';
import { rke2UserDataText } from '../../../render/rke2/userdata.js';
import { s3ReadWrite, ssmGet } from '../policy.js';
import type { DistributionAwsFacts, HostNeed, PortRule } from './types.js';
import { ubuntuImage } from './ubuntu.js';

const DOCS = 'rancher/rke2-docs@9477b7b1:docs/install/requirements.md (Inbound Network Rules)';

function ports(m: EnvironmentModel): PortRule[] {
  const rules: PortRule[] = [
    { protocol: 'tcp', from: 6443, to: 6443, peers: ['controlplane', 'worker'], targets: ['controlplane'], component: 'kube-apiserver', purpose: 'Kubernetes API (all RKE2 nodes → servers)', source: DOCS },
    { protocol: 'tcp', from: SUPERVISOR_PORT, to: SUPERVISOR_PORT, peers: ['controlplane', 'worker'], targets: ['controlplane'], component: 'RKE2 supervisor', purpose: 'nodes register and fetch their config and certificates (all RKE2 nodes → servers)', source: DOCS },
    { protocol: 'tcp', from: 10250, to: 10250, peers: ['controlplane', 'worker'], targets: ['controlplane', 'worker'], component: 'kubelet', purpose: 'kubelet metrics, logs and exec', source: DOCS },
  ];
  if (m.cluster.datastore.type === 'etcd')
    rules.push({ protocol: 'tcp', from: 2379, to: 2380, peers: ['controlplane'], targets: ['controlplane'], component: 'etcd', purpose: 'etcd client (2379) and peer (2380) traffic between servers', source: DOCS });
  if (m.cluster.network.cni === 'flannel')
    rules.push({ protocol: 'tcp', from: 9099, to: 9099, peers: ['controlplane', 'worker'], targets: ['controlplane', 'worker'], component: 'Canal (calico-node)', purpose: 'Canal CNI health checks', source: `${DOCS}, Canal tab` });
  return rules;
}

function hostNeeds(m: EnvironmentModel, role: 'controlplane' | 'worker'): HostNeed[] {
  const r = m.cluster.rke2;
  const d = m.cluster.datastore;
  if (role === 'worker') return [{ id: 'boot-secrets', who: 'the agent boot script reads the agent token', statements: [ssmGet(m, [r.agentToken.secret])], source: 'render/rke2/userdata.ts' }];
  const secrets = [r.token.secret, r.agentToken.secret, ...(d.type === 'kine-postgres' ? [d.postgres.password.secret] : [])];
  const needs: HostNeed[] = [{ id: 'boot-secrets', who: 'the server boot script reads the tokens (and the Kine PostgreSQL password)', statements: [ssmGet(m, secrets)], source: 'render/rke2/userdata.ts' }];
  if (d.type === 'etcd' && d.backup)
    needs.push({ id: 'etcd-snapshots', who: 'RKE2 uploads, lists, prunes and restores etcd snapshots (etcd-s3 with the instance profile)', statements: s3ReadWrite(m, d.backup.bucket, d.backup.prefix), source: 'rke2-docs datastore/backup_restore.md' });
  return needs;
}

export const rke2Facts: DistributionAwsFacts = {
  name: 'rke2',
  ports,
  flannel: { port: 8472, component: 'Canal (flannel VXLAN)', source: `${DOCS}, Canal tab` },
  endpointPorts: (m) => [
    { port: m.cluster.endpointPort, name: 'api', purpose: 'Kubernetes API (kubectl, the hub)', source: DOCS },
    { port: SUPERVISOR_PORT, name: 'supervisor', purpose: 'RKE2 supervisor: joining servers and agents register through the endpoint', source: DOCS },
  ],
  image: (_m, cls) => ubuntuImage(cls, 'RKE2'),
  // RKE2 taints servers only when worker pools exist (render/rancher/config.ts nodeTaints).
  controlPlaneSchedulable: (m) => !m.pools.some((p) => p.role === 'worker' && p.size > 0),
  poolJoin: { kind: 'user-data', why: 'the user data installs RKE2 and joins through the supervisor port with the agent token read from SSM at first boot: a new instance joins unattended' },
  poolTermination: { hook: false, why: 'agents are no etcd members; the AWS cloud controller deletes the Node of a terminated instance' },
  hostNeeds,
  controlPlanePodsWithNodeCredentials: () => [],
  userData: (m, t) => rke2UserDataText(m, t),
  userDataFile: (t) => `rke2/userdata/${t.name}.yaml`,
  fixedNodeConfig: 'runs its user data at first boot (writes the config, reads the tokens from SSM, installs and starts RKE2)',
};
