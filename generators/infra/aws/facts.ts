/**
 * What the AWS layer needs to know about a distribution (`Distribution.aws`): the ports its
 * components listen on and who connects to them, the ports its load-balanced endpoint serves, the
 * image class of each pool and the image its nodes boot, how a node of an auto-scaled pool gets its
 * configuration, whether a node must leave the cluster before its instance terminates, which of its
 * host processes call AWS and what they need, how its etcd snapshots expire, and the user data of
 * each node. Each distribution implements it in its own folder (distributions/<name>/aws.ts); the
 * rest of generators/infra/aws/ names no distribution. Every fact cites its upstream source.
 */
import type { UserDataEncoding } from './user-data.js';
import type { Arch, ConfigTarget, EnvironmentModel, Node, NodePool } from '../../model/types.js';

/** A node security group: one per node role. */
export type NodeGroup = 'controlplane' | 'worker';

/**
 * Who opens a connection: the nodes of a role, the operators' workstations (kubectl, the distribution's CLI;
 * admitted from the VPC's CIDR: they reach the private subnets through a VPN, a peering or SSM port
 * forwarding into the VPC), or the API load balancer (its own security group).
 */
export type Peer = NodeGroup | 'operators' | 'api-lb';

export interface PortRule {
  protocol: 'tcp' | 'udp' | 'icmp';
  /** Port range (ICMP: type in `from`, code in `to`, -1 for any). */
  from: number;
  to: number;
  /** Who connects. */
  peers: readonly Peer[];
  /** Where the port is open. */
  targets: readonly NodeGroup[];
  /** The component listening (`etcd`, `kubelet`, `<product> apid`). */
  component: string;
  /** Why the peers connect, in words. */
  purpose: string;
  /** Upstream source of the fact (repository@tag:path, or a documentation page). */
  source: string;
}

/** A port the API load balancer forwards to the control planes. */
export interface EndpointPort {
  port: number;
  /** Short name for resource names (`api`, `supervisor`). */
  name: string;
  purpose: string;
  source: string;
}

/**
 * Nodes that boot the same image: one AMI (a parameter of the nodes stack) each. The distribution
 * decides the classes (arch and GPU driver at least; more where its images differ by pool).
 */
export interface ImageClass {
  /** e.g. `amd64`, `arm64`, `amd64-nvidia`: the image's parameter and script names derive from it. */
  name: string;
  arch: Arch;
  gpu?: 'nvidia';
}

/** Where the AMI of a node class comes from. */
export interface ImageFacts {
  /** The SSM String parameter holding the AMI id (locked by `--refresh-ssm`). */
  parameter: string;
  /** The AMI's root device (its block device mapping sizes and encrypts the root volume). */
  rootDevice: string;
  /** What the image is, in words. */
  description: string;
  /**
   * A script (rendered as aws/images/<class>.sh) that builds the AMI and writes its id to
   * `parameter`; undefined when the parameter is a public one (a vendor's).
   */
  registration?: { script: string; needsImportBucket: boolean };
}

/** Names the image registration needs from the AWS layer. */
export interface ImageContext {
  /** Bucket the disk image is uploaded to for `ec2 import-snapshot`. */
  importBucket: string;
  /** The VM Import service role `import-snapshot --role-name` uses. */
  importRole: string;
}

/** How a node of an auto-scaled pool gets its configuration. */
export type PoolJoin =
  | { kind: 'user-data'; why: string }
  | {
      kind: 'boot';
      /**
       * Launch lifecycle hook (DefaultResult ABANDON) holding a new instance in Pending:Wait until its own
       * boot script completes it: CONTINUE once the node joined, ABANDON when the boot fails.
       */
      hookName: string;
      heartbeatSeconds: number;
      /** The boot script records heartbeats while it waits (RecordLifecycleActionHeartbeat: its role needs that action too). */
      heartbeats?: boolean;
      why: string;
    }
  | {
      kind: 'apply';
      /** Launch lifecycle hook holding new instances in Pending:Wait until the operator applied the config. */
      hookName: string;
      heartbeatSeconds: number;
      why: string;
      /** The script (rendered as aws/<file>) that applies the config to waiting instances and releases them. */
      script: (m: EnvironmentModel, names: { asg: (pool: NodePool) => string; region: string }) => { file: string; content: string };
    };

/** An IAM statement in policy-document form (Resource always explicit). */
export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: Record<string, unknown>;
  Action: string[];
  /** ARNs, or intrinsics yielding one (a key or bucket of the same stack). */
  Resource: unknown[];
  Condition?: Record<string, Record<string, unknown>>;
}

/** A host process (not a pod) that calls AWS with the node's instance profile. */
export interface HostNeed {
  /** Short id (managed policy names): `boot-secrets`, `etcd-snapshots`. */
  id: string;
  /** What calls, in words (`the boot script reads the <product> tokens`). */
  who: string;
  statements: Statement[];
  source: string;
}

/**
 * A non-secret SSM String parameter the base stack owns for the nodes' first boot (e.g. the release a boot script
 * installs): a change of its value is an update of the base stack only, no node's user data.
 */
export interface BootParameter {
  /** Its name (leading slash). */
  name: string;
  value: string;
  /** Advanced for a value over 4 KB (at most 8 KB); Standard when absent. */
  tier?: 'Advanced';
  /** A regular expression SSM checks the value against on every write (AWS::SSM::Parameter AllowedPattern). */
  allowedPattern?: string;
  /** What it holds and who reads it, in words. */
  description: string;
  source: string;
  /** The pool whose node reads it, where a value too large for SSM is refused (rules.ts aws.boot-parameter-size). */
  pool?: string;
}

/** SSM Standard parameters hold 4 KB, Advanced 8 KB (AWS Systems Manager user guide, "Managing parameter tiers"). */
export const SSM_STANDARD_LIMIT = 4096;
export const SSM_ADVANCED_LIMIT = 8192;

/** The bucket of the etcd snapshots: how long the distribution's snapshots stay there. */
export interface SnapshotRetention {
  /** Days after which snapshots below the prefix expire (undefined: the writer prunes its own). */
  expireAfterDays?: number;
  /** Where the retention comes from, in words (README). */
  retention: string;
}

export interface DistributionAwsFacts {
  /** Ports of the distribution's own components (not the overlay network's). */
  ports(m: EnvironmentModel): PortRule[];
  /** The overlay port of flannel as this distribution deploys it (its VXLAN port differs per distribution). */
  flannel: { port: number; component: string; source: string };
  /** Ports the API load balancer serves (the API's, and a supervisor every joining node registers at). */
  endpointPorts(m: EnvironmentModel): EndpointPort[];
  /**
   * The port the control planes serve the Kubernetes API on. The load balancer forwards each endpoint port to the same
   * port on the control planes (stacks.ts), so `cluster.endpoint` must name this one (rules.ts aws.endpoint-port).
   */
  apiServerPort(m: EnvironmentModel): { port: number; source: string };
  /** The image class of a pool's nodes. */
  imageClass(m: EnvironmentModel, pool: NodePool): ImageClass;
  /** The AMI of an image class. */
  image(m: EnvironmentModel, cls: ImageClass, ctx: ImageContext): ImageFacts;
  /** Whether control-plane nodes take ordinary pods (no control-plane taint) in this environment. */
  controlPlaneSchedulable(m: EnvironmentModel): boolean;
  poolJoin: PoolJoin;
  /**
   * Whether an instance of an auto-scaled pool must leave the cluster (etcd membership, a
   * registration the cluster does not clean up by itself) before it terminates, and why. Pools
   * hold workers only (rule controlplane-fixed), so no pool member is an etcd member.
   */
  poolTermination: { hook: boolean; why: string };
  /** How long its etcd snapshots stay in their bucket (cluster.datastore.backup), when it takes them to S3. */
  snapshotRetention?(m: EnvironmentModel): SnapshotRetention;
  /** Non-secret SSM String parameters the base stack owns, which the boot scripts read (none when absent). */
  bootParameters?(m: EnvironmentModel): BootParameter[];
  /** Host processes calling AWS with the node's credentials, per node role. */
  hostNeeds(m: EnvironmentModel, role: NodeGroup): HostNeed[];
  /**
   * Add-ons pinned to control-plane nodes that run on the pod network and use the node's
   * credentials through IMDS (they need hop limit 2 there); empty when none.
   */
  controlPlanePodsWithNodeCredentials(m: EnvironmentModel): string[];
  /** The EC2 user data of a config target (raw, before base64); undefined: the instance boots without. */
  userData(m: EnvironmentModel, t: ConfigTarget): string | undefined;
  /**
   * How the template carries it (./user-data.ts): `gzip` when what reads it on the instance decompresses gzip (cite
   * where); plain text (`Fn::Base64`) when absent.
   */
  userDataEncoding?: UserDataEncoding;
  /** Where the rendered user data of a target is (for messages), when there is one. */
  userDataFile?(t: ConfigTarget): string;
  /** How a fixed node gets its configuration, in words, after "Every node" (README). */
  fixedNodeConfig: string;
  /**
   * The cluster side of replacing a lost fixed node (README, "Replacing a lost fixed node"), in words: what runs
   * after the old instance is terminated and before \`replacement\` is raised (datastore membership, the old
   * Node object), and what the new instance needs once it exists.
   */
  replaceNode(m: EnvironmentModel, n: Node): string;
  /** What \`aws/deploy.sh node-update <node>\` (deploy.ts) asks of the distribution: cluster access and the datastore's gate. */
  nodeUpdate(m: EnvironmentModel): NodeUpdateFacts;
}

/**
 * The distribution's part of \`deploy.sh node-update\` (deploy.ts nodeUpdateFunction), which stops one fixed node and starts
 * it again: how its kubectl reaches this cluster, and the health of the datastore before the stop and after the start,
 * as the distribution's own runbook judges it. Shell text; every value in it is the distribution's own (no input).
 */
export interface NodeUpdateFacts {
  /** Shell function definitions \`access\` and \`datastore\` use (none: empty). */
  functions: string[];
  /**
   * Lines run first (before any read of the cluster): make kubectl reach this cluster (export KUBECONFIG), or exit 1
   * naming the exact commands that give the access. Empty: the operator's KUBECONFIG (the script then checks that it
   * reaches this cluster: a Node with the node's address).
   */
  access: string[];
  /** The body of \`datastore_ok\`: return 0 when the datastore is healthy, else set NOT_OK (what is not, in words) and return 1. */
  datastore: string[];
  /**
   * How many passing gates in a row count after the node is back: more than one when the datastore's health is a status
   * refreshed on a timer (a value written before the stop must not pass alone).
   */
  stable: number;
  /** What the gate checks, in words (the script's refusal inside double quotes, and README): no backquote, no dollar sign. */
  gate: string;
}

/**
 * The old Node goes before the new instance boots: the replacement registers under the same name (the EC2 private
 * DNS name of the same address), and a kubelet finding its Node already there keeps that object, reconciling only
 * labels and annotations, so spec.providerID still names the old instance (kubernetes/kubernetes
 * pkg/kubelet/kubelet_node_status.go tryRegisterWithAPIServer, the AlreadyExists branch). The cloud controller
 * deletes a Node whose instance is gone only while it is not Ready (kubernetes/cloud-provider@9cbe875
 * controllers/nodelifecycle/node_lifecycle_controller.go:152-158 skips a Ready Node, 160-188 deletes a NotReady one
 * whose instance no longer exists), a race the new kubelet may win: the runbook deletes the Node itself.
 */
export const deleteOldNode = (n: Node): string =>
  `delete its old Node (\`kubectl delete node <name>\`, the Node whose InternalIP is ${n.ip}) if it is still there, so the new instance registers afresh under the same name`;

/**
 * The only server: no API server answers until its replacement runs, so its old Node cannot go first (deleteOldNode).
 * The replacement finds its Node in the datastore it reads (restored, or the external database) and keeps it, with
 * the old instance's spec.providerID (immutable once set); the kubelet registers only at its start (kubernetes/kubernetes
 * pkg/kubelet/kubelet_node_status.go registerWithAPIServer returns once registrationCompleted). So: once the new server
 * runs, delete that Node and restart the server's service: its kubelet registers the Node afresh, tainted
 * uninitialized, and the cloud controller sets the new instance's providerID. `restart`: the command on the node.
 */
export const replaceOnlyServerNode = (n: Node, restart: string): string =>
  `there is no API server until the new instance runs, so its old Node cannot go first: once the new server runs, \`kubectl delete node <name>\` (the Node whose InternalIP is ${n.ip}, restored with the old instance's providerID), then on the new server \`${restart}\`: its kubelet registers the Node afresh and the cloud controller sets the new instance's providerID`;
