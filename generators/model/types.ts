/**
 * The environment model: the resolved, validated environment with defaults applied once and
 * derived values (node list, cert SANs, capacity) computed once; the distribution adds its part
 * (cluster.extension, pools' extension). Renderers read only this. Plain data, no I/O.
 */

import type { PriceLock } from '../load/price-lock.js';
import type { FreezeWindowInput } from './input.js';
import type { InstanceTypeFacts } from './instance-types.js';

/** Reference to an SSM SecureString: never read at synth, rendered as a reference. */
export interface SecretRef {
  secret: string;
}

export type Arch = 'amd64' | 'arm64';
export type Role = 'controlplane' | 'worker';

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export interface Subnet {
  name: string;
  id?: string;
  cidr: string;
  zone: string;
  /** Public tier (route to an internet gateway): where internet-facing ALBs go; private otherwise. */
  public: boolean;
}

export interface NodePool {
  name: string;
  role: Role;
  arch: Arch;
  instanceType: string;
  /** Instance family, e.g. m7g for m7g.xlarge. */
  family: string;
  /** vCPUs, memory and GPUs of the instance type (instance table or EC2 lock); undefined if unknown. */
  facts?: InstanceTypeFacts;
  subnet?: Subnet;
  maxPods: number;
  labels: Record<string, string>;
  taints: Taint[];
  gpu?: { vendor: 'nvidia'; perNode: number };
  /** Fixed nodes; empty for auto-scaled pools. */
  nodes: Node[];
  /** Auto-scaled pool size (then one config per pool); undefined for fixed nodes. */
  count?: number;
  /** Nodes the pool runs: nodes.length or count. */
  size: number;
  /** The distribution's part of the pool (its pool settings, defaults applied): read through the distribution's own accessor. */
  extension: unknown;
}

export interface Node {
  name: string;
  ip: string;
  pool: string;
  role: Role;
  subnet?: Subnet;
  /** nodePools[].nodes[].replacement: the instance's generation (part of its logical id); absent for the first. */
  replacement?: number;
}

/**
 * What gets one node config: a fixed node, or an auto-scaled pool (all its nodes share
 * one config and get their name from the cloud).
 */
export interface ConfigTarget {
  /** File stem: node name, or pool name for auto-scaled pools. */
  name: string;
  pool: NodePool;
  node?: Node;
}

export type Datastore =
  | {
      type: 'etcd';
      backup?: { bucket: string; prefix: string; schedule: string; kmsKeyId?: string; ageRecipientPublicKey?: string; retention: number };
    }
  | {
      type: 'kine-postgres';
      postgres: { host: string; port: number; database: string; user: string; password: SecretRef; caBundlePath: string };
    }
  | {
      type: 'kine-sqlite';
      litestream: { bucket: string; prefix: string; version: string };
    };

export interface AddonOverride {
  name: string;
  enabled?: boolean;
  namespace?: string;
  values: Record<string, unknown>;
  settings: Record<string, unknown>;
  /** Third-party chart (complete: repoURL, name, version). */
  chart?: { repoURL: string; name: string; version: string };
  /** Catalog add-ons: the chart version this environment runs instead of the catalog's pin. */
  chartVersion?: string;
  secrets: Record<string, Record<string, SecretRef>>;
  /** Cluster-scoped kinds a third-party chart creates (group/Kind). */
  clusterResources: string[];
  /** Third-party charts: server-side apply (default true, their CRD sizes are unknown). */
  serverSideApply?: boolean;
  /** Pod Security level of the namespace the engine creates (overrides the catalog's). */
  podSecurity?: 'privileged' | 'baseline' | 'restricted';
  /** Existing namespaces the chart writes to besides its own (AppProject destinations). */
  extraNamespaces: string[];
}

export type EnvValue = string | SecretRef;

export interface Probe {
  httpGet?: string;
  tcp?: boolean;
  port?: number;
  initialDelaySeconds?: number;
  periodSeconds?: number;
  failureThreshold?: number;
}

export interface Workload {
  name: string;
  /** Namespace (default: the workload's name). */
  namespace: string;
  kind: 'deployment' | 'statefulset' | 'cronjob';
  image: string;
  replicas: number;
  schedule?: string;
  command?: string[];
  args?: string[];
  ports: { name: string; port: number; protocol: 'TCP' | 'UDP' }[];
  metricsPort?: string;
  /** Path Prometheus scrapes on metricsPort. */
  metricsPath: string;
  env: Record<string, EnvValue>;
  configFiles: Record<string, string>;
  /**
   * Requests as declared (the rules require cpu and memory); limits with the policy applied: memory
   * defaults to the memory request, CPU has no limit unless declared.
   */
  resources: { requests: { cpu: string; memory: string }; limits: { cpu?: string; memory: string } };
  runAsUser?: number;
  liveness?: Probe;
  readiness?: Probe;
  placement: { arch: Arch | 'any'; gpu?: number; pool?: string };
  /** ALB Ingress; groupName defaults to <cluster name>-<internal|public>. */
  ingress?: { host: string; path: string; port?: string; scheme: 'internet-facing' | 'internal'; certificateArn?: string; groupName: string };
  autoscaling?: { minReplicas: number; maxReplicas: number; targetCPUUtilization: number };
  disruptionBudget?: { minAvailable?: number; maxUnavailable?: number };
  volumes: { name: string; mountPath: string; size: string }[];
  serviceAccount: { iamRoleArn?: string };
  network: { ingressFrom: string[]; egressTo: { workload?: string; cidr?: string; ports?: number[] }[] };
}

/** The hub managing an environment (hub mode). */
export interface ManagingHub {
  name: string;
  namespace: string;
  region: string;
  accountId: string;
  /** The hub's VPC CIDR as its environment writes it (absent when it is an SSM reference): its engine calls this cluster's API from there. */
  vpcCidr?: string;
  /** The hub is letting this environment go (its `decommission` list): no longer generated, still registered. */
  leaving?: boolean;
}

export interface EnvironmentModel {
  name: string;
  /** Repo-relative environment file and its bases, most specific first. */
  sourceFiles: string[];
  description?: string;
  git: { repoURL: string; targetRevision: string; renderedPath: string };
  /** Repo-relative path of this environment's rendered tree, e.g. rendered/prod. */
  renderedDir: string;
  aws: {
    region: string;
    accountId: string;
    /** `operatorCidrs`: networks outside the VPC admitted where operators are (sorted, [] by default). */
    vpc: { id: string; cidr: string; operatorCidrs: string[]; subnets: Subnet[] };
    /** `controllersPool`: the worker pool running the AWS controllers (undefined: the control planes). */
    iam: { mode: 'instance-profile' | 'irsa'; issuerURL?: string; controllersPool?: string };
    /** AMI ids by the SSM parameter naming them (node classes' images), from the lock; filled by the pipeline. */
    images: Record<string, string>;
    /** The AMI each fixed node was created with (node name → AMI id), from the lock; filled by the pipeline. */
    nodeImages: Record<string, string>;
    /** The architecture of each pinned AMI (node name → arch) where the lock records it; filled by the pipeline. */
    nodeImageArch: Record<string, Arch>;
    /** The non-secret SSM String parameters the environment references, with their locked values (name → value); filled by the pipeline. */
    parameters: Record<string, string>;
    /** On-demand prices of the pools' instance types and root volume type in the region, from the lock; filled by the pipeline (undefined: none locked). */
    prices?: PriceLock;
  };
  cluster: {
    name: string;
    /** The distribution's name (`cluster.distribution`; distributions/registry.ts). */
    distribution: string;
    /** e.g. 1.35.2 */
    kubernetesVersion: string;
    /** e.g. 1.35 */
    kubernetesMinor: string;
    endpoint: string;
    endpointHost: string;
    endpointPort: number;
    /** API server certificate SANs: endpoint host, control-plane IPs, extra SANs (sorted, unique). */
    certSANs: string[];
    datastore: Datastore;
    network: { podCIDR: string; serviceCIDR: string; cni: 'flannel' | 'cilium'; dnsDomain: string };
    plannedPods: number;
    /** The distribution's part of the cluster (its release and settings, defaults applied): read through the distribution's own accessor. */
    extension: unknown;
  };
  /** The GitOps engine's name (`gitops`; engines/registry.ts). */
  gitops: string;
  /** The sync policy every engine follows (environment key engines/registry.ts SYNC_POLICY_KEY). */
  sync: {
    automated: boolean;
    prune: boolean;
    selfHeal: boolean;
  };
  /** Hub mode, for engines that have it: the environments this one's engine manages, and the hub managing this one. */
  fleet: {
    /** The environments this environment's engine manages (sorted; empty: not a hub). */
    manages: string[];
    /** Environments the hub is letting go (sorted): out of its generator, still registered until decommissioned. */
    decommission: string[];
    /** Roll the managed environments in stages of their promotion chain (opt-in). */
    rollingSync?: { maxUpdate?: number | string };
    /** Per environment it manages, its stage in their promotion chain (model/fleet.ts promotionStages). */
    stages: Record<string, number>;
    /** Per environment it manages or lets go: its cluster.name and its cluster.endpoint (written as a URL, or an { ssm } endpoint's locked value: the hub pins them in its cluster Secrets). */
    clusters: Record<string, { name?: string; server?: string }>;
    /** Set when a hub manages this environment: the hub's name, its engine's namespace, and the AWS region and account holding its SSM parameters. */
    hub?: ManagingHub;
  };
  pools: NodePool[];
  /** Every fixed node, pools in order. */
  nodes: Node[];
  controlPlaneNodes: Node[];
  /** One node config per entry (fixed node or auto-scaled pool). */
  configTargets: ConfigTarget[];
  hasGpu: boolean;
  arches: Arch[];
  /** Pods the worker nodes can hold: Σ size × maxPods. */
  podCapacity: number;
  addons: AddonOverride[];
  workloads: Workload[];
  /** `promotion.freeze`: windows in which nothing is promoted here (npm run promote refuses; an engine may also hold syncs). */
  freeze: FreezeWindowInput[];
}
