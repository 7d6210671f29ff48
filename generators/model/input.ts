/** The shape of a resolved environment document once the JSON Schema has accepted it. */
import type { Arch, GitOpsEngine, K3sArgs, Probe, Role, SecretRef, Taint } from './types.js';

export interface SubnetInput { name: string; id?: string; cidr: string; zone: string; public?: boolean }
export interface NodeInput { name: string; ip: string; subnet?: string }
export interface NodePoolInput {
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
  k3s?: { extraArgs?: K3sArgs };
  talos?: { extensions?: string[]; patches?: Record<string, unknown>[] };
  rke2?: { extraArgs?: K3sArgs };
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
export interface EnvironmentInput {
  name: string;
  extends?: string;
  description?: string;
  /** Warnings seen and accepted: rule id + document path (generators/validate/acknowledge.ts). */
  acknowledge?: { rule: string; path: string; reason: string }[];
  git: { repoURL: string; targetRevision: string };
  aws: {
    region: string;
    accountId: string;
    vpc: { id: string; cidr: string; subnets: SubnetInput[] };
    iam?: { mode?: 'instance-profile' | 'irsa'; issuerURL?: string };
  };
  cluster: {
    name: string;
    distribution: 'talos' | 'k3s' | 'rke2';
    talosVersion?: string;
    k3sVersion?: string;
    rke2Version?: string;
    kubernetesVersion: string;
    endpoint: string;
    extraSANs?: string[];
    datastore: {
      type: 'etcd' | 'kine-postgres' | 'kine-sqlite';
      backup?: { bucket: string; prefix?: string; schedule?: string; kmsKeyId?: string; ageRecipientPublicKey?: string; retention?: number; expireAfterDays?: number };
      postgres?: { host: string; port?: number; database: string; user: string; password: SecretRef; caBundlePath?: string };
      litestream?: { bucket: string; prefix?: string; version?: string };
    };
    network: { podCIDR: string; serviceCIDR: string; cni?: 'flannel' | 'cilium'; dnsDomain?: string };
    plannedPods?: number;
    talos?: {
      installDisk?: string;
      kubeletExtraArgs?: Record<string, string>;
      apiServerExtraArgs?: Record<string, string>;
      sysctls?: Record<string, string>;
      extensions?: string[];
      patches?: Record<string, unknown>[];
      nvidiaDriver?: 'lts' | 'production';
      secretsBundle?: { parameter?: string; kmsKeyId?: string };
    };
    k3s?: { token?: SecretRef; agentToken?: SecretRef; extraArgs?: K3sArgs };
    rke2?: { token?: SecretRef; agentToken?: SecretRef; extraArgs?: K3sArgs };
  };
  gitops?: GitOpsEngine;
  argocd?: { automated?: boolean; prune?: boolean; selfHeal?: boolean; manages?: string[] };
  nodePools: NodePoolInput[];
  addons?: Record<string, AddonInput>;
  workloads?: WorkloadInput[];
}
