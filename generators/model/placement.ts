/**
 * Where a workload's pods may land, from the same facts the renderer writes into the pod spec
 * (render/workloads/objects.ts): worker pools whose nodes match its nodeSelector (arch, the labels
 * of placement.pool) and whose NoSchedule/NoExecute taints it tolerates (GPU workloads tolerate
 * `nvidia.com/gpu:NoSchedule`, nothing else tolerates anything); GPU workloads only on GPU pools.
 * Plus the rollout arithmetic of a Deployment (surge) and the node sizes from the instance table.
 * Works on the schema-valid input (rules) and on the model (renderer) alike. Pure.
 */
import { nodeMatches, untolerated, type Toleration } from '../lib/scheduling.js';
import { DEFAULTS } from './defaults.js';
import type { EnvironmentInput, NodePoolInput, WorkloadInput } from './input.js';
import { instanceTypeFacts, type InstanceTypeFacts } from './instance-types.js';
import type { Arch, EnvironmentModel, Taint } from './types.js';

export const GPU_RESOURCE = 'nvidia.com/gpu';
/** The only toleration the renderer gives a pod (GPU workloads). */
export const GPU_TOLERATION: Toleration = { key: GPU_RESOURCE, operator: 'Exists', effect: 'NoSchedule' };

export interface PoolView {
  name: string;
  role: 'controlplane' | 'worker';
  arch: Arch;
  instanceType: string;
  labels: Record<string, string>;
  taints: Taint[];
  /** GPUs per node (0 for a pool without gpu). */
  gpus: number;
  /** Nodes (fixed nodes, or count). */
  size: number;
  maxPods: number;
  facts?: InstanceTypeFacts;
}

export interface PlacementView {
  arch: Arch | 'any';
  gpu?: number;
  pool?: string;
}

export type FactsOf = (instanceType: string) => InstanceTypeFacts | undefined;

export function poolViewOfInput(p: NodePoolInput, factsOf: FactsOf = instanceTypeFacts): PoolView {
  const facts = factsOf(p.instanceType);
  return {
    name: p.name,
    role: p.role,
    arch: p.arch,
    instanceType: p.instanceType,
    labels: p.labels ?? {},
    taints: p.taints ?? [],
    gpus: p.gpu ? (p.gpu.perNode ?? facts?.gpus ?? 1) : 0,
    size: p.nodes ? p.nodes.length : (p.count ?? 0),
    maxPods: p.maxPods ?? DEFAULTS.maxPods,
    facts,
  };
}

export const poolViewsOfInput = (input: EnvironmentInput, factsOf?: FactsOf): PoolView[] => input.nodePools.map((p) => poolViewOfInput(p, factsOf));

export const poolViewsOfModel = (m: EnvironmentModel): PoolView[] =>
  m.pools.map((p) => ({
    name: p.name,
    role: p.role,
    arch: p.arch,
    instanceType: p.instanceType,
    labels: p.labels,
    taints: p.taints,
    gpus: p.gpu?.perNode ?? 0,
    size: p.size,
    maxPods: p.maxPods,
    facts: p.facts,
  }));

export const placementOfInput = (w: WorkloadInput): PlacementView => ({ arch: w.placement?.arch ?? 'any', gpu: w.placement?.gpu, pool: w.placement?.pool });

/** The tolerations the renderer gives a pod with this placement. */
export const tolerationsOf = (pl: PlacementView): Toleration[] => (pl.gpu ? [GPU_TOLERATION] : []);

/** The nodeSelector the renderer gives a pod with this placement. */
export function nodeSelectorOf(pools: readonly PoolView[], pl: PlacementView): Record<string, string> {
  const sel: Record<string, string> = {};
  if (pl.arch !== 'any') sel['kubernetes.io/arch'] = pl.arch;
  const pool = pl.pool ? pools.find((p) => p.name === pl.pool) : undefined;
  if (pool) Object.assign(sel, pool.labels);
  return sel;
}

/** Whether a pool's taints keep pods with these tolerations off it. */
export const taintsBlock = (p: PoolView, tolerations: readonly Toleration[]): boolean => untolerated(tolerations, p.taints).length > 0;

/** The worker pools a workload's pods may land on. */
export function eligiblePools(pools: readonly PoolView[], pl: PlacementView): PoolView[] {
  const selector = nodeSelectorOf(pools, pl);
  const tolerations = tolerationsOf(pl);
  return pools.filter(
    (p) => p.role === 'worker' && p.size > 0 && nodeMatches({ ...p.labels, 'kubernetes.io/arch': p.arch }, selector, undefined) && !taintsBlock(p, tolerations) && (!pl.gpu || p.gpus > 0),
  );
}

/** Kubernetes' default maxSurge for a Deployment: 25 %, rounded up. */
export const defaultSurge = (replicas: number): number => Math.ceil(replicas * 0.25);

/**
 * GPU demand and supply of a GPU workload: `needed` GPUs for its replicas (the HPA's maximum when
 * it scales), `surge` more during a rollout with the default 25 % surge, `available` on the pools
 * it may land on (Σ nodes × GPUs per node).
 */
export function gpuBudget(pools: readonly PoolView[], pl: PlacementView, replicas: number): { needed: number; surge: number; available: number; pools: PoolView[] } {
  const gpu = pl.gpu ?? 0;
  const on = eligiblePools(pools, pl);
  return { needed: replicas * gpu, surge: defaultSurge(replicas) * gpu, available: on.reduce((n, p) => n + p.size * p.gpus, 0), pools: on };
}

/** A GPU workload's demand, from the input (rules) or the model (renderer). */
export interface GpuDemand {
  name: string;
  placement: PlacementView;
  /** The most replicas it runs (peakReplicas). */
  replicas: number;
  /** Whether a rollout surges (a Deployment; a StatefulSet or CronJob replaces pods without surge). */
  surges: boolean;
}

/**
 * GPU demand and supply of the GPU workloads that share pools with `demands[i]`: every GPU workload
 * one of whose pools it may land on too (itself included), against the GPUs of all their pools
 * together. The scheduler places their pods on any of those pools, so what fits is the sum: one
 * workload alone may fit while the ones beside it take the GPUs it counted on. `surge` is what
 * their rollouts take at once with the default 25 % surge (an engine applies them in one sync).
 */
export function sharedGpuBudget(pools: readonly PoolView[], demands: readonly GpuDemand[], i: number): { needed: number; surge: number; available: number; pools: PoolView[]; sharers: number[] } {
  const on = demands.map((d) => (d.placement.gpu ? eligiblePools(pools, d.placement) : []));
  const mine = new Set(on[i]!.map((p) => p.name));
  const sharers = demands.flatMap((_, j) => (on[j]!.some((p) => mine.has(p.name)) ? [j] : []));
  const union = pools.filter((p) => sharers.some((j) => on[j]!.includes(p)));
  const gpu = (j: number): number => demands[j]!.placement.gpu ?? 0;
  return {
    needed: sharers.reduce((n, j) => n + demands[j]!.replicas * gpu(j), 0),
    surge: sharers.reduce((n, j) => n + (demands[j]!.surges ? defaultSurge(demands[j]!.replicas) * gpu(j) : 0), 0),
    available: union.reduce((n, p) => n + p.size * p.gpus, 0),
    pools: union,
    sharers,
  };
}

/** The most replicas a workload runs (the HPA's maximum when it scales). */
export const peakReplicas = (replicas: number, autoscaling?: { maxReplicas: number }): number => Math.max(replicas, autoscaling?.maxReplicas ?? 0);
