/**
 * K3s' facts for the AWS layer (Distribution.aws), through what this family shares (../rancher/aws.ts).
 *
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
import type { EnvironmentModel } from '../../model/types.js';
import type { DistributionAwsFacts, HostNeed, NodeGroup, PortRule, Statement } from '../../infra/aws/facts.js';
import { bucketArn, s3ReadWrite, ssmParameterArn } from '../../infra/aws/policy.js';
import { rancherAws } from '../rancher/aws.js';
import { pendingTokenStatement } from '../rancher/token-rotate.js';
import { litestreamScraped } from './addons/litestream-alerts.js';
import { LITESTREAM_METRICS_PORT, litestreamMarkerKey, litestreamReplicaPath } from './litestream.js';
import { k3sCluster, K3S_KEYS } from './model.js';
import { userDataText } from './userdata.js';
import { toYaml } from '../../lib/yaml.js';
import { k3sConfig } from './config.js';

const DOCS = 'k3s-io/docs:docs/installation/requirements.md (Inbound Rules for K3s Nodes)';

/**
 * The nodes Prometheus runs on: kube-prometheus-stack sets no placement, and the servers are tainted
 * once worker pools exist (../rancher/config.ts nodeTaints), so the workers then, the servers otherwise.
 */
const prometheusNodes = (m: EnvironmentModel): NodeGroup[] => (m.pools.some((p) => p.role === 'worker' && p.size > 0) ? ['worker'] : ['controlplane']);

const ports = (m: EnvironmentModel): PortRule[] => [
  { protocol: 'tcp', from: 6443, to: 6443, peers: ['controlplane', 'worker'], targets: ['controlplane'], component: 'K3s supervisor and kube-apiserver', purpose: 'agents (and the servers’ own agents) register and reach the API on every server', source: DOCS },
  { protocol: 'tcp', from: 10250, to: 10250, peers: ['controlplane', 'worker'], targets: ['controlplane', 'worker'], component: 'kubelet', purpose: 'kubelet metrics (metrics-server), logs and exec through the API server', source: DOCS },
  // Only from where Prometheus runs, and only when it scrapes (./addons/litestream-alerts.ts).
  ...(litestreamScraped(m)
    ? [{ protocol: 'tcp', from: LITESTREAM_METRICS_PORT, to: LITESTREAM_METRICS_PORT, peers: prometheusNodes(m), targets: ['controlplane'], component: 'Litestream metrics (systemd unit on the server)', purpose: 'Prometheus scrapes Litestream for the replication alerts (litestream-alerts)', source: 'benbjohnson/litestream v0.5.16 cmd/litestream/main.go (config addr); distributions/k3s/litestream.ts' } satisfies PortRule]
    : []),
];

/** Litestream replicates and restores the SQLite datastore with the servers' instance profile. */
function serverNeeds(m: EnvironmentModel): HostNeed[] {
  const d = m.cluster.datastore;
  // The runbook's token rotation (k3s/rotate-token.sh, ../rancher/token-rotate.ts) writes the new server token to
  // SSM from the server that rotated it, keeping the parameter's KMS key (describe-parameters, then put-parameter),
  // after recording it as the pending token (its own parameter, read back by any server).
  const rotate: HostNeed = {
    id: 'token-rotate',
    who: 'the runbook\'s token rotation records the new server token as pending (<token>-pending), then promotes it to the token parameter; a booting server whose token the datastore refuses reads the pending one',
    statements: [
      { Effect: 'Allow', Action: ['ssm:PutParameter'], Resource: [ssmParameterArn(m, k3sCluster(m).token.secret)] },
      pendingTokenStatement(m),
      // DescribeParameters has no resource-level permissions (Service Authorization Reference, SSM).
      { Effect: 'Allow', Action: ['ssm:DescribeParameters'], Resource: ['*'] },
    ],
    source: 'distributions/rancher/token-rotate.ts',
  };
  if (d.type !== 'kine-sqlite') return [rotate];
  // The restore hook's replica marker (./litestream.ts litestreamRestoreScript): read and write that one object.
  // Its check needs S3's 404 NoSuchKey for a missing marker, which S3 answers only with ListBucket on the bucket
  // ("If you don't have the s3:ListBucket permission, Amazon S3 returns an HTTP status code 403": S3 API reference,
  // GetObject, Permissions, https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html);
  // a GetObject carries no s3:prefix, so the replica's prefix-narrowed grant is widened to the bucket instead of a
  // second ListBucket statement beside it (\`listBucket: 'whole'\`). The bucket is the environment's Litestream
  // bucket (the base stack creates it for the replica alone): listing shows the replica's and the marker's key names
  // to a role that already reads and writes them. No GetBucketLocation: Litestream asks it only for a replica
  // without a region (benbjohnson/litestream v0.5.16 6d61ef5d s3/replica_client.go:345-357 Init, findBucketRegion
  // :577-620; cmd/litestream/main.go:1446,1621 pass the config's region to the client), and ./litestream.ts litestreamConfig sets the region; replicate and restore both read that config.
  const marker: Statement = { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: [`${bucketArn(m, d.litestream.bucket)}/${litestreamMarkerKey(m)}`] };
  // One policy with Litestream's own (a role holds at most 10 managed policies by default: IAM quotas).
  const who = 'Litestream replicates and restores the SQLite datastore; its restore hook reads and writes the replica marker';
  return [rotate, { id: 'litestream', who, statements: [...s3ReadWrite(m, d.litestream.bucket, litestreamReplicaPath(m, d), { listBucket: 'whole' }), marker], source: 'distributions/k3s/litestream.ts' }];
}

let facts: DistributionAwsFacts | undefined;

/** K3s' AWS facts (made on first use: the shared module may still be loading when this one is). */
export const k3sAws = (): DistributionAwsFacts =>
  (facts ??= rancherAws(K3S_KEYS, {
    ports,
    flannel: { port: 8472, component: 'flannel (VXLAN)', source: DOCS },
    endpointPorts: (m) => [{ port: m.cluster.endpointPort, name: 'api', purpose: 'K3s supervisor and Kubernetes API: agents register here first, kubectl and the hub use it', source: DOCS }],
    // The supervisor and the API share https-listen-port (6443 unless the servers' config sets it).
    apiServerPort: (m) => {
      const server = m.configTargets.find((t) => t.pool.role === 'controlplane');
      const port = server ? k3sConfig(m, server)['https-listen-port'] : undefined;
      return { port: port === undefined ? 6443 : Number(port), source: `${DOCS}; k3s server --https-listen-port (default 6443)` };
    },
    joins: 'the user data installs K3s and joins with the agent token read from SSM at first boot: a new instance joins unattended',
    poolTermination: 'agents are no datastore members (Kine); the AWS cloud controller deletes the Node of a terminated instance and K3s its node-password Secret with it',
    serverNeeds,
    userData: (m, t) => userDataText(m, t),
    config: (m, t) => toYaml(k3sConfig(m, t)),
    // The restore runs in K3s' unit before it starts (./litestream.ts, ./readme.ts "Restore runs before K3s starts").
    replaceServer: (m) =>
      m.cluster.datastore.type === 'kine-sqlite'
        ? 'the new server restores the Litestream replica before K3s starts and comes back with the replicated state; the old instance must be terminated first (two servers must never replicate to one replica)'
        : 'the datastore is the Kine PostgreSQL database, which the new server reads as the old one did: nothing to remove',
  }));
