/**
 * The shape of a resolved environment document once the JSON Schema has accepted it: the core's keys,
 * and each distribution's and engine's (their registries gather those).
 */
import type { BackupInputs, ClusterInputs, PoolInputs } from '../distributions/registry.js';
import type { EngineInputs } from '../engines/registry.js';
import type { Arch, Probe, Role, SecretRef, Taint } from './types.js';

export interface SubnetInput { name: string; id?: string; cidr: string; zone: string; public?: boolean }
export interface NodeInput { name: string; ip: string; subnet?: string; replacement?: number }
export interface NodePoolInput extends PoolInputs {
  name: string;
  role: Role;
  arch: Arch;
  instanceType: string;
  subnet?: string;
  maxPods?: number;
  labels?: Record<string, string>;
  taints?: Taint[];
  gpu?: { vendor: 'nvidia'; perNode?: number };
  count?: number;
  nodes?: NodeInput[];
}
export interface AddonInput {
  enabled?: boolean;
  namespace?: string;
  values?: Record<string, unknown>;
  settings?: Record<string, unknown>;
  syncWave?: number;
  /** Third-party charts: all three; catalog add-ons: only `version` (a version tried in this environment). */
  chart?: { repoURL?: string; name?: string; version?: string };
  secrets?: Record<string, Record<string, SecretRef>>;
  clusterResources?: string[];
  serverSideApply?: boolean;
  podSecurity?: 'privileged' | 'baseline' | 'restricted';
  extraNamespaces?: string[];
}
export interface WorkloadInput {
  name: string;
  namespace?: string;
  kind?: 'deployment' | 'statefulset' | 'cronjob';
  image: string;
  replicas?: number;
  schedule?: string;
  command?: string[];
  args?: string[];
  ports?: { name: string; port: number; protocol?: 'TCP' | 'UDP' }[];
  metricsPort?: string;
  metricsPath?: string;
  env?: Record<string, string | SecretRef>;
  /** After SSM resolution: one map per `{ ssmPath }`, parameter base name → value. */
  envFrom?: Record<string, string>[];
  configFiles?: Record<string, string>;
  resources?: { requests?: { cpu?: string; memory?: string }; limits?: { cpu?: string; memory?: string } };
  runAsUser?: number;
  liveness?: Probe;
  readiness?: Probe;
  placement?: { arch?: Arch | 'any'; gpu?: number; pool?: string };
  ingress?: { host: string; path?: string; port?: string; scheme?: 'internet-facing' | 'internal'; certificateArn?: string; groupName?: string };
  autoscaling?: { minReplicas?: number; maxReplicas: number; targetCPUUtilization?: number };
  disruptionBudget?: { minAvailable?: number; maxUnavailable?: number };
  volumes?: { name: string; mountPath: string; size: string }[];
  serviceAccount?: { iamRoleArn?: string };
  network?: { ingressFrom?: string[]; egressTo?: { workload?: string; cidr?: string; ports?: number[] }[] };
}
/** The sync policy every engine follows (its key: engines/registry.ts SYNC_POLICY_KEY). */
export interface SyncPolicyInput {
  automated?: boolean;
  prune?: boolean;
  selfHeal?: boolean;
  /** Hub mode: the environments this environment's engine manages. */
  manages?: string[];
  /** Hub mode: environments being let go (no longer generated, still registered until their decommission script ran). */
  decommission?: string[];
  /** Hub mode: roll the managed environments' roots in stages of their promotion chain (opt-in). */
  rollingSync?: { maxUpdate?: number | string };
}

export interface EnvironmentInput extends EngineInputs {
  name: string;
  extends?: string;
  description?: string;
  /** Warnings seen and accepted: rule id + document path (generators/validate/acknowledge.ts). */
  acknowledge?: { rule: string; path: string; reason: string }[];
  git: { repoURL: string; targetRevision: string };
  aws: {
    region: string;
    accountId: string;
    vpc: { id: string; cidr: string; operatorCidrs?: string[]; subnets: SubnetInput[] };
    iam?: { mode?: 'instance-profile' | 'irsa'; issuerURL?: string; controllersPool?: string };
  };
  cluster: {
    name: string;
    distribution: string;
    kubernetesVersion: string;
    endpoint: string;
    extraSANs?: string[];
    datastore: {
      type: 'etcd' | 'kine-postgres' | 'kine-sqlite';
      backup?: { bucket: string; prefix?: string; schedule?: string; kmsKeyId?: string; ageRecipientPublicKey?: string; retention?: number } & BackupInputs;
      postgres?: { host: string; port?: number; database: string; user: string; password: SecretRef; caBundlePath?: string };
      litestream?: { bucket: string; prefix?: string; version?: string };
    };
    network: { podCIDR: string; serviceCIDR: string; cni?: 'flannel' | 'cilium'; dnsDomain?: string };
    plannedPods?: number;
  } & ClusterInputs;
  gitops?: string;
  /** How versions reach this environment (generators/promote/). */
  promotion?: PromotionInput;
  nodePools: NodePoolInput[];
  addons?: Record<string, AddonInput>;
  workloads?: WorkloadInput[];
}

/** `promotion`: where versions come from, how long they soak there, when nothing is promoted. */
export interface PromotionInput {
  from: string;
  soak?: string;
  freeze?: FreezeWindowInput[];
  /** npm run promote checks that `from`'s cluster has applied and is healthy at a revision containing each version moved. */
  requireHealthy?: boolean;
}

/** A freeze window: a cron schedule with a duration, or a date range; always with its reason. */
export interface FreezeWindowInput {
  schedule?: string;
  duration?: string;
  start?: string;
  end?: string;
  reason: string;
}
