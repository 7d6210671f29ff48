/**
 * The environment model: the resolved, validated environment with defaults applied once and
 * derived values (node list, cert SANs, schematic classes, capacity) computed once. Renderers read
 * only this. Plain data, no I/O.
 */

import type { InstanceTypeFacts } from './instance-types.js';

/** Reference to an SSM SecureString: never read at synth, rendered as a reference. */
export interface SecretRef {
  secret: string;
}

export type Arch = 'amd64' | 'arm64';
export type Role = 'controlplane' | 'worker';
export type Distribution = 'talos' | 'k3s' | 'rke2';
/** The GitOps engine delivering add-ons and workloads (environment key `gitops`). */
export type GitOpsEngine = 'argocd' | 'flux';

/** K3s/RKE2 config.yaml keys and values (flag long name → value; lists become repeated flags). */
export type K3sArgs = Record<string, string | number | boolean | string[]>;

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

/** Nodes that share an OS image: arch + GPU driver. One Image Factory schematic each (Talos). */
export interface NodeClass {
  /** e.g. `amd64`, `arm64`, `amd64-nvidia`. */
  name: string;
  arch: Arch;
  gpu?: 'nvidia';
  /** System extensions of the pool that owns this class (`nodePools[].talos.extensions`), sorted. */
  extensions?: string[];
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
  nodeClass: NodeClass;
  /** Fixed nodes; empty for auto-scaled pools. */
  nodes: Node[];
  /** Auto-scaled pool size (then one config per pool); undefined for fixed nodes. */
  count?: number;
  /** Nodes the pool runs: nodes.length or count. */
  size: number;
  /** Extra K3s config keys of this pool (distribution k3s). */
  k3sExtraArgs: K3sArgs;
  /** Strategic-merge patches for this pool's Talos configs (after the cluster's). */
  talosPatches: Record<string, unknown>[];
  /** Extra RKE2 config keys of this pool (distribution rke2). */
  rke2ExtraArgs: K3sArgs;
}

export interface Node {
  name: string;
  ip: string;
  pool: string;
  role: Role;
  subnet?: Subnet;
}

/**
 * What gets one machine/node config: a fixed node, or an auto-scaled pool (all its nodes share
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
      backup?: { bucket: string; prefix: string; schedule: string; kmsKeyId?: string; ageRecipientPublicKey?: string; retention: number; expireAfterDays?: number };
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
  syncWave?: number;
  /** Third-party chart (complete: repoURL, name, version). */
  chart?: { repoURL: string; name: string; version: string };
  /** Catalog add-ons: the chart version this environment runs instead of the catalog's pin. */
  chartVersion?: string;
  secrets: Record<string, Record<string, SecretRef>>;
  /** Cluster-scoped kinds a third-party chart creates (group/Kind). */
  clusterResources: string[];
  /** Third-party charts: server-side apply (default true, their CRD sizes are unknown). */
  serverSideApply?: boolean;
  /** Pod Security level of the namespace Argo CD creates (overrides the catalog's). */
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
    vpc: { id: string; cidr: string; subnets: Subnet[] };
    iam: { mode: 'instance-profile' | 'irsa'; issuerURL?: string };
    /** AMI ids by the SSM parameter naming them (node classes' images), from the lock; filled by the pipeline. */
    images: Record<string, string>;
    /** The AMI each fixed node was created with (node name → AMI id), from the lock; filled by the pipeline. */
    nodeImages: Record<string, string>;
    /** The non-secret SSM String parameters the environment references, with their locked values (name → value); filled by the pipeline. */
    parameters: Record<string, string>;
  };
  cluster: {
    name: string;
    distribution: Distribution;
    /** e.g. v1.13.9 (talos only). */
    talosVersion?: string;
    /** e.g. 1.13 (talos only). */
    talosMinor?: string;
    k3sVersion?: string;
    /** e.g. v1.35.7+rke2r1 (rke2 only). */
    rke2Version?: string;
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
    talos: {
      installDisk: string;
      kubeletExtraArgs: Record<string, string>;
      apiServerExtraArgs: Record<string, string>;
      sysctls: Record<string, string>;
      extensions: string[];
      /** Strategic-merge patches on every machine config (generators/talos/patch.ts). */
      patches: Record<string, unknown>[];
      nvidiaDriver: 'lts' | 'production';
      /** SSM SecureString holding the `talosctl gen secrets` bundle (never read at synth). */
      secretsBundle: { parameter: string; kmsKeyId?: string };
    };
    /** K3s settings (defaults filled in; unused by talos). */
    k3s: {
      /** SSM SecureString with the server token. */
      token: SecretRef;
      /** SSM SecureString with the agent token (workers join with it). */
      agentToken: SecretRef;
      /** Extra `k3s server` keys for every server. */
      extraArgs: K3sArgs;
    };
    /** RKE2 settings (defaults filled in; unused by other distributions). */
    rke2: {
      /** SSM SecureString with the server token. */
      token: SecretRef;
      /** SSM SecureString with the agent token (workers join with it). */
      agentToken: SecretRef;
      /** Extra `rke2 server` keys for every server. */
      extraArgs: K3sArgs;
    };
  };
  gitops: GitOpsEngine;
  /** Sync policy (both engines; see the schema's description for Flux). */
  argocd: {
    automated: boolean;
    prune: boolean;
    selfHeal: boolean;
    /** Hub mode: the environments this environment's Argo CD manages (sorted; empty: not a hub). */
    manages: string[];
    /** Set when a hub manages this environment: the hub's name, its Argo CD namespace, and the AWS region and account holding its SSM parameters. */
    hub?: ManagingHub;
  };
  pools: NodePool[];
  /** Every fixed node, pools in order. */
  nodes: Node[];
  controlPlaneNodes: Node[];
  /** One machine config per entry (fixed node or auto-scaled pool). */
  configTargets: ConfigTarget[];
  nodeClasses: NodeClass[];
  hasGpu: boolean;
  arches: Arch[];
  /** Pods the worker nodes can hold: Σ size × maxPods. */
  podCapacity: number;
  addons: AddonOverride[];
  workloads: Workload[];
}
