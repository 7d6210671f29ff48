/**
 * Talos' part of the environment: its input keys (talosVersion, cluster.talos, nodePools[].talos) and
 * its part of the model (cluster.extension, pools' extension), with defaults applied once.
 */
import type { EnvironmentInput, NodePoolInput } from '../../model/input.js';
import type { Arch, EnvironmentModel, NodePool } from '../../model/types.js';

export interface TalosClusterInput {
  talosVersion?: string;
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
}

/** Its key of `cluster.datastore.backup`. */
export interface TalosBackupInput {
  expireAfterDays?: number;
}

export interface TalosPoolInput {
  talos?: { extensions?: string[]; patches?: Record<string, unknown>[] };
}

/** Nodes that share an OS image: arch + GPU driver (+ a pool's own extensions). One Image Factory schematic each. */
export interface NodeClass {
  /** e.g. `amd64`, `arm64`, `amd64-nvidia`. */
  name: string;
  arch: Arch;
  gpu?: 'nvidia';
  /** System extensions of the pool that owns this class (`nodePools[].talos.extensions`), sorted. */
  extensions?: string[];
}

/** cluster.extension of a Talos environment. */
export interface TalosCluster {
  /** e.g. v1.13.9 (required by the rules). */
  version?: string;
  /** e.g. 1.13. */
  minor?: string;
  installDisk: string;
  kubeletExtraArgs: Record<string, string>;
  apiServerExtraArgs: Record<string, string>;
  sysctls: Record<string, string>;
  extensions: string[];
  /** Strategic-merge patches on every machine config (./patch.ts). */
  patches: Record<string, unknown>[];
  nvidiaDriver: 'lts' | 'production';
  /** SSM SecureString holding the `talosctl gen secrets` bundle (never read at synth). */
  secretsBundle: { parameter: string; kmsKeyId?: string };
  /** One Image Factory schematic each, sorted by name. */
  nodeClasses: NodeClass[];
  /**
   * Days the snapshot bucket keeps each etcd snapshot (`cluster.datastore.backup.expireAfterDays`,
   * default 30), when snapshots go to S3: the uploader never deletes, the bucket's lifecycle rule does.
   */
  snapshotExpireAfterDays?: number;
}

/** A pool's extension in a Talos environment. */
export interface TalosPool {
  /** Strategic-merge patches for this pool's configs (after the cluster's). */
  patches: Record<string, unknown>[];
  nodeClass: NodeClass;
}

/** Defaults applied when the environment does not say otherwise. */
export const TALOS_DEFAULTS = {
  installDisk: '/dev/xvda',
  nvidiaDriver: 'lts',
  secretsParameter: (env: string): string => `/odp/${env}/talos/secrets-bundle`,
  /** Days the snapshot bucket keeps each snapshot (its lifecycle rule; talos-backup never deletes). */
  snapshotExpireAfterDays: 30,
} as const;

/** The label a pool's Nodes carry with the pool's name (nodeLabels), by which the runbook finds them (rule talos-pool-label). */
export const POOL_NODE_LABEL = 'node.opendev.dev/pool';

export const talosCluster = (m: Pick<EnvironmentModel, 'cluster'>): TalosCluster => m.cluster.extension as TalosCluster;
export const talosPool = (p: NodePool): TalosPool => p.extension as TalosPool;

const minorOf = (version: string): string => /^v?(\d+\.\d+)/.exec(version)?.[1] ?? version;

/**
 * One Image Factory schematic per node class: arch × GPU, and a class of its own for a pool with
 * system extensions of its own (`<arch>[-nvidia]-<pool>`).
 */
export function nodeClassOf(pool: NodePoolInput): NodeClass {
  const base: NodeClass = pool.gpu ? { name: `${pool.arch}-${pool.gpu.vendor}`, arch: pool.arch, gpu: pool.gpu.vendor } : { name: pool.arch, arch: pool.arch };
  const extensions = [...new Set(pool.talos?.extensions ?? [])].sort();
  return extensions.length > 0 ? { ...base, name: `${base.name}-${pool.name}`, extensions } : base;
}

export function talosClusterModel(input: EnvironmentInput): TalosCluster {
  const t = input.cluster.talos ?? {};
  const d = input.cluster.datastore;
  const classes = new Map(input.nodePools.map((p) => nodeClassOf(p)).map((c) => [c.name, c]));
  return {
    version: input.cluster.talosVersion,
    minor: input.cluster.talosVersion ? minorOf(input.cluster.talosVersion) : undefined,
    installDisk: t.installDisk ?? TALOS_DEFAULTS.installDisk,
    kubeletExtraArgs: t.kubeletExtraArgs ?? {},
    apiServerExtraArgs: t.apiServerExtraArgs ?? {},
    sysctls: t.sysctls ?? {},
    extensions: t.extensions ?? [],
    patches: t.patches ?? [],
    nvidiaDriver: t.nvidiaDriver ?? TALOS_DEFAULTS.nvidiaDriver,
    secretsBundle: { parameter: t.secretsBundle?.parameter ?? TALOS_DEFAULTS.secretsParameter(input.name), kmsKeyId: t.secretsBundle?.kmsKeyId },
    nodeClasses: [...classes.values()].sort((a, b) => a.name.localeCompare(b.name)),
    ...(d.type === 'etcd' && d.backup ? { snapshotExpireAfterDays: d.backup.expireAfterDays ?? TALOS_DEFAULTS.snapshotExpireAfterDays } : {}),
  };
}

export const talosPoolModel = (p: NodePoolInput): TalosPool => ({ patches: p.talos?.patches ?? [], nodeClass: nodeClassOf(p) });
