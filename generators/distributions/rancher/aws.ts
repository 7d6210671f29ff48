/**
 * The AWS facts the distributions of this family share (Distribution.aws; the interface:
 * generators/infra/aws/facts.ts), parameterized by each member's descriptor and what differs
 * (its aws.ts passes both): the base AMIs, node image classes, servers schedulable until worker
 * pools exist, pool instances that join by their user data, and the boot secrets its boot scripts read.
 *
 * Base AMIs: the members install on a general-purpose Linux by user data, from the public SSM
 * parameters AWS publishes for vendor images, resolved into the lock by `--refresh-ssm` (so synth
 * stays offline and a new image is a reviewed change of the lock, not a silent one).
 *
 * - Ubuntu Server 24.04 LTS (Canonical): `/aws/service/canonical/ubuntu/server/24.04/stable/current/<arch>/hvm/ebs-gp3/ami-id`
 *   (Canonical, "Find Ubuntu images on AWS": the Parameter Store path scheme). The boot scripts use
 *   cloud-init and snap (`snap install aws-cli`), which this image has.
 * - GPU nodes: the AWS Deep Learning Base OSS Nvidia Driver GPU AMI (Ubuntu 22.04), NVIDIA driver and
 *   nvidia-container-toolkit installed, which the boot scripts of this family require
 *   (`/aws/service/deeplearning/ami/<x86_64|arm64>/base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id`;
 *   AWS DLAMI developer guide, "Finding the ID of a DLAMI": `/aws/service/deeplearning/ami/$architecture/$ami_type/latest/ami-id`).
 */
import type { ConfigTarget, EnvironmentModel, Node, NodePool } from '../../model/types.js';
import type { DistributionAwsFacts, EndpointPort, HostNeed, ImageClass, ImageFacts, PortRule, SnapshotRetention, Statement } from '../../infra/aws/facts.js';
import { ssmGet, ssmParameterArn } from '../../infra/aws/policy.js';
import { releaseParameter, releaseParameterName } from './release.js';
import { configFromParameter, configParameter, configParameterPrefix } from './node-config.js';
import { deleteOldNode, replaceOnlyServerNode } from '../../infra/aws/facts.js';
import { rancherCluster, type RancherKeys } from './model.js';
import { rancherPoolJoin } from './pool-join.js';
import { nodeUpdateFacts } from './apply-config.js';
import { USER_DATA_ENCODING } from './boot.js';

const DLAMI_ARCH = { amd64: 'x86_64', arm64: 'arm64' } as const;

export function ubuntuImage(cls: ImageClass, product: string): ImageFacts {
  if (cls.gpu === 'nvidia')
    return {
      rootDevice: '/dev/sda1',
      parameter: `/aws/service/deeplearning/ami/${DLAMI_ARCH[cls.arch]}/base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id`,
      description: `AWS Deep Learning Base OSS Nvidia Driver GPU AMI (Ubuntu 22.04, ${cls.arch}): NVIDIA driver and container toolkit for ${product}`,
    };
  return { rootDevice: '/dev/sda1', parameter: `/aws/service/canonical/ubuntu/server/24.04/stable/current/${cls.arch}/hvm/ebs-gp3/ami-id`, description: `Ubuntu Server 24.04 LTS (Canonical, ${cls.arch}) for ${product}` };
}

/** Nodes of one arch and GPU driver boot the same image. */
export const rancherImageClass = (pool: NodePool): ImageClass => (pool.gpu ? { name: `${pool.arch}-${pool.gpu.vendor}`, arch: pool.arch, gpu: pool.gpu.vendor } : { name: pool.arch, arch: pool.arch });

/** What a member's AWS facts say of its own. */
export interface RancherAwsSpec {
  /** Ports of its own components. */
  ports(m: EnvironmentModel): PortRule[];
  flannel: DistributionAwsFacts['flannel'];
  endpointPorts(m: EnvironmentModel): EndpointPort[];
  apiServerPort: DistributionAwsFacts['apiServerPort'];
  /** How a new pool instance joins, in words. */
  joins: string;
  /** Whether a pool instance's boot waits (for a join token) and records lifecycle heartbeats meanwhile (./pool-join.ts). */
  poolWaits?: boolean;
  /** Why a terminated pool instance needs no lifecycle hook, in words. */
  poolTermination: string;
  /** Host processes of its servers calling AWS besides the boot script (a datastore replica, snapshots). */
  serverNeeds(m: EnvironmentModel): HostNeed[];
  snapshotRetention?(m: EnvironmentModel): SnapshotRetention;
  /** The rendered user data of a target (raw). */
  userData(m: EnvironmentModel, t: ConfigTarget): string;
  /** The config file of a target (its fixed nodes' goes to their parameter: ./node-config.ts). */
  config(m: EnvironmentModel, t: ConfigTarget): string;
  /** The datastore side of replacing a lost server, before its replacement boots (the Node step is shared). */
  replaceServer(m: EnvironmentModel, n: Node): string;
}

/**
 * The boot scripts' SSM reads: agents the agent token, servers both tokens (and the Kine PostgreSQL password), and
 * every node the release parameter of the base stack (./release.ts), with ssm:GetParameter on exactly that one: the
 * boot reads it with `aws ssm get-parameter` (GetParameter's resource is the parameter: Service Authorization
 * Reference, Systems Manager). A fixed node also reads its config parameter (./node-config.ts): one role serves every
 * node of a role, so the grant covers the environment's config parameters (none secret).
 */
function bootSecrets(keys: RancherKeys, m: EnvironmentModel, role: 'controlplane' | 'worker'): HostNeed {
  const c = rancherCluster(m);
  const d = m.cluster.datastore;
  const source = `distributions/${keys.name}/userdata.ts; distributions/rancher/release.ts`;
  const fixed = m.pools.some((p) => (p.role === 'controlplane') === (role === 'controlplane') && p.nodes.length > 0);
  const release: Statement = { Effect: 'Allow', Action: ['ssm:GetParameter'], Resource: [ssmParameterArn(m, releaseParameterName(keys, m))] };
  const configs: Statement[] = fixed ? [{ Effect: 'Allow', Action: ['ssm:GetParameter'], Resource: [ssmParameterArn(m, `${configParameterPrefix(keys, m)}*`)] }] : [];
  if (role === 'worker') return { id: 'boot-secrets', who: `the agent boot script reads the agent token and the release${fixed ? ' (a fixed node: its config)' : ''}`, statements: [ssmGet(m, [c.agentToken.secret]), release, ...configs], source };
  const secrets = [c.token.secret, c.agentToken.secret, ...(d.type === 'kine-postgres' ? [d.postgres.password.secret] : [])];
  return { id: 'boot-secrets', who: 'the server boot script reads the tokens (and the Kine PostgreSQL password), the release and its config', statements: [ssmGet(m, secrets), release, ...configs], source };
}

export function rancherAws(keys: RancherKeys, spec: RancherAwsSpec): DistributionAwsFacts {
  return {
    ports: (m) => spec.ports(m),
    flannel: spec.flannel,
    endpointPorts: (m) => spec.endpointPorts(m),
    apiServerPort: (m) => spec.apiServerPort(m),
    imageClass: (_m, pool) => rancherImageClass(pool),
    image: (_m, cls) => ubuntuImage(cls, keys.title),
    // Servers are tainted only when worker pools exist (./config.ts nodeTaints).
    controlPlaneSchedulable: (m) => !m.pools.some((p) => p.role === 'worker' && p.size > 0),
    poolJoin: rancherPoolJoin(keys.title, spec.joins, spec.poolWaits ?? false),
    poolTermination: { hook: false, why: spec.poolTermination },
    ...(spec.snapshotRetention ? { snapshotRetention: (m: EnvironmentModel) => spec.snapshotRetention!(m) } : {}),
    // The release the nodes install at first boot (./release.ts): a bump changes this value, no node's user data.
    // And each fixed node's config (./node-config.ts): a settings change changes these values, no instance's user data.
    bootParameters: (m) => [releaseParameter(keys, m, rancherCluster(m).version!), ...m.configTargets.filter(configFromParameter).map((t) => configParameter(keys, m, t.node, spec.config(m, t)))],
    hostNeeds: (m, role) => (role === 'worker' ? [bootSecrets(keys, m, role)] : [bootSecrets(keys, m, role), ...spec.serverNeeds(m)]),
    controlPlanePodsWithNodeCredentials: () => [],
    userData: (m, t) => spec.userData(m, t),
    userDataEncoding: USER_DATA_ENCODING,
    userDataFile: (t) => `${keys.name}/userdata/${t.name}.yaml`,
    replaceNode: (m, n) =>
      n.role === 'controlplane'
        ? `${spec.replaceServer(m, n)}; ${m.controlPlaneNodes.length === 1 ? replaceOnlyServerNode(n, `systemctl restart ${keys.unit('server')}`) : deleteOldNode(n)}. The new instance runs the server's user data at its first boot and joins by itself`
        : `${deleteOldNode(n)}. The new instance runs the agent's user data at its first boot and joins by itself`,
    nodeUpdate: (m) => nodeUpdateFacts(m),
    fixedNodeConfig: `runs its user data at first boot (reads its config and the tokens from SSM, installs and starts ${keys.title}); a settings change reaches a running one through \`${keys.name}/apply-config.sh\`, one server at a time`,
  };
}
