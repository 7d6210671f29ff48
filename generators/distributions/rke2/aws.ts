/**
 * RKE2's facts for the AWS layer (Distribution.aws), through what this family shares (../rancher/aws.ts).
 *
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
 * - Agents are no datastore members: no termination lifecycle hook (the AWS cloud controller deletes the
 *   Node of a terminated instance). Servers are fixed instances (rule controlplane-fixed); replacing
 *   one is the runbook's member removal, not an auto-scaling event.
 */
import type { EnvironmentModel } from '../../model/types.js';
import type { DistributionAwsFacts, HostNeed, PortRule } from '../../infra/aws/facts.js';
import { s3ReadWrite, ssmParameterArn } from '../../infra/aws/policy.js';
import { rancherAws } from '../rancher/aws.js';
import { pendingTokenStatement } from '../rancher/token-rotate.js';
import { rke2Config, SUPERVISOR_PORT } from './config.js';
import { toYaml } from '../../lib/yaml.js';
import { RKE2_DIR } from './render.js';
import { RKE2_KEYS, rke2Cluster } from './model.js';
import { rke2UserDataText } from './userdata.js';

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

/** RKE2 uploads, lists, prunes and restores its etcd snapshots with the servers' instance profile (etcd-s3). */
function serverNeeds(m: EnvironmentModel): HostNeed[] {
  const d = m.cluster.datastore;
  const c = rke2Cluster(m);
  // The first server replaces the short tokens in SSM with RKE2's secure (K10…) ones, keeping each
  // parameter's KMS key (./userdata.ts publish_token: describe-parameters, then put-parameter); every
  // other node waits for them, so without this grant no second node ever joins. Every server's role
  // has it (the role is per node group); only the first server's boot script writes.
  const publish: HostNeed = {
    id: 'token-publish',
    who: 'the first server publishes the secure tokens to SSM; the token rotation records a new server token as pending (<token>-pending), then promotes it; a booting server whose token the datastore refuses reads the pending one',
    statements: [
      { Effect: 'Allow', Action: ['ssm:PutParameter'], Resource: [...new Set([c.token.secret, c.agentToken.secret])].sort().map((n) => ssmParameterArn(m, n)) },
      // The runbook's token rotation (rke2/rotate-token.sh) promotes a new server token through the grant above,
      // after recording it as the pending token (its own parameter, read back by any server).
      pendingTokenStatement(m),
      // DescribeParameters has no resource-level permissions (Service Authorization Reference, SSM).
      { Effect: 'Allow', Action: ['ssm:DescribeParameters'], Resource: ['*'] },
    ],
    source: 'rke2-docs security/token.md (secure token format); distributions/rke2/userdata.ts',
  };
  // The supervisor's S3 client first checks the bucket exists (pkg/etcd/s3/s3.go:124, 244-250 @ 0d0a789a,
  // GetClient: minio BucketExists, a HEAD of the bucket; an error is "failed to test for existence of bucket" and no snapshot is uploaded, listed or restored
  // from S3): a HEAD carries no s3:prefix, so ListBucket is on the whole snapshot bucket (listBucket: 'whole').
  // No s3:GetBucketLocation: the client is built with the region (GetClient: minio.Options{Region: etcdS3.Region}, s3.go:227-233, and
  // ./config.ts always writes etcd-s3-region), and minio-go asks the bucket's location only without one
  // (minio/minio-go bucket-cache.go getBucketLocation: "Region set then no need to fetch bucket location", `if c.region
  // != "" { return c.region, nil }`, lines 90-92 at v7.0.0 fac3b874 and 48-51 at v7.1.0 f29e5687, the version
  // RKE2 builds with: rancher/rke2 go.mod:294 @ v1.35.7+rke2r1; api.go newRequest calls it for every bucket request). The supervisor itself never calls
  // GetBucketLocation (pkg/etcd/s3/s3.go @0d0a789a: BucketExists, FPutObject, FGetObject, GetObject, ListObjects,
  // StatObject, RemoveObject).
  return [publish, ...(d.type === 'etcd' && d.backup ? [{ id: 'etcd-snapshots', who: 'RKE2 uploads, lists, prunes and restores etcd snapshots (etcd-s3 with the instance profile)', statements: s3ReadWrite(m, d.backup.bucket, d.backup.prefix, { listBucket: 'whole' }), source: 'rke2-docs datastore/backup_restore.md; the supervisor\'s pkg/etcd/s3/s3.go (BucketExists; the region set, so minio-go never asks GetBucketLocation)' }] : [])];
}

let facts: DistributionAwsFacts | undefined;

/** RKE2's AWS facts (made on first use: the shared module may still be loading when this one is). */
export const rke2Aws = (): DistributionAwsFacts =>
  (facts ??= rancherAws(RKE2_KEYS, {
    ports,
    flannel: { port: 8472, component: 'Canal (flannel VXLAN)', source: `${DOCS}, Canal tab` },
    endpointPorts: (m) => [
      { port: m.cluster.endpointPort, name: 'api', purpose: 'Kubernetes API (kubectl, the hub)', source: DOCS },
      { port: SUPERVISOR_PORT, name: 'supervisor', purpose: 'RKE2 supervisor: joining servers and agents register through the endpoint', source: DOCS },
    ],
    // https-listen-port and apiserver-port are refused (./flags.ts): the API stays on 6443, the supervisor on 9345.
    apiServerPort: () => ({ port: 6443, source: DOCS }),
    joins: 'the user data installs RKE2 and joins through the supervisor port with the agent token read from SSM at first boot: a new instance joins unattended',
    // An agent waits for the secure agent token (./userdata.ts), recording lifecycle heartbeats meanwhile.
    poolWaits: true,
    poolTermination: 'agents are no datastore members (only the servers are); the AWS cloud controller deletes the Node of a terminated instance',
    serverNeeds,
    // RKE2 prunes its own snapshots by count (etcd-snapshot-retention, etcd-s3-retention).
    snapshotRetention: (m) => {
      const d = m.cluster.datastore;
      const kept = d.type === 'etcd' ? d.backup?.retention : undefined;
      // Per server: each server prunes only its own snapshots (./config.ts etcdKeys).
      return { retention: `each server keeps its newest ${kept} snapshots (cluster.datastore.backup.retention, per server: up to ${(kept ?? 0) * m.controlPlaneNodes.length} in all) and deletes older ones; deleted versions stay 7 days` };
    },
    userData: (m, t) => rke2UserDataText(m, t),
    config: (m, t) => toYaml(rke2Config(m, t)),
    // Embedded etcd refuses a second member with the node's name (./runbooks.ts replaceServerScript).
    replaceServer: (m, n) =>
      m.cluster.datastore.type === 'etcd'
        ? `remove its etcd member: \`sh ${m.renderedDir}/${RKE2_DIR}/replace-server.sh ${n.name}\` where kubectl reaches the cluster (it annotates the old Node for removal and deletes it, then removes a member etcd still lists at the server's address, through etcdctl in a running etcd pod of another server)`
        : 'the datastore is the Kine PostgreSQL database, which the new server reads as the old one did; it has no member to remove, so the member step (replace-server.sh) is skipped and not rendered: nothing to remove',
  }));
