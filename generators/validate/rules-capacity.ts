/**
 * Capacity rules, measured with the instance table (model/instance-types.ts) and the placement the
 * renderer writes (model/placement.ts): a container request no node it may land on can hold, GPU
 * demand beyond the GPUs of its pools, and pod capacity (maxPods less the DaemonSet pods every node
 * runs) of the pools workloads can land on against plannedPods and each workload's replicas.
 */
import { distributionNamed } from '../distributions/registry.js';
import type { DocPath } from '../lib/paths.js';
import { parseQuantity } from '../lib/quantity.js';
import { DEFAULTS } from '../model/defaults.js';
import type { EnvironmentInput } from '../model/input.js';
import { systemReserve } from '../model/instance-types.js';
import { eligiblePools, gpuBudget, peakReplicas, placementOfInput, poolViewsOfInput, sharedGpuBudget, type PoolView } from '../model/placement.js';
import { factsOf, type Rule } from './rules.js';
import { CONTROL_PLANE_TAINT } from '../plan/nodes.js';

/** What each DaemonSet pod on a node is assumed to request (README, Capacity). */
export const DAEMONSET_POD_RESERVE = { cpuMilli: 50, memoryMiB: 100 };

/** The DaemonSet pods every node of a pool runs (CNI, kube-proxy, CSI node plugin, node exporter, GPU device plugin). */
export function daemonSetsPerNode(input: EnvironmentInput, pool: PoolView): string[] {
  const enabled = (name: string, byDefault: boolean): boolean => (input.addons?.[name] as { enabled?: boolean } | undefined)?.enabled ?? byDefault;
  const cilium = (input.cluster.network.cni ?? DEFAULTS.cni) === 'cilium';
  // With flannel, what the distribution runs as pods (one that runs it inside its own process: none).
  const out = cilium ? ['cilium', 'cilium-envoy'] : [...(distributionNamed(input.cluster.distribution)?.facts.flannelPods ?? [])];
  if (enabled('aws-ebs-csi-driver', true)) out.push('ebs-csi-node');
  if (enabled('kube-prometheus-stack', true)) out.push('node-exporter');
  if (pool.gpus > 0 && enabled('nvidia-device-plugin', true)) out.push('nvidia-device-plugin');
  return out;
}

/** CPU (millicores) and memory (MiB) a pod can get on one node of the pool: the instance less the system reserve and the DaemonSets. */
export function allocatable(input: EnvironmentInput, pool: PoolView): { cpuMilli: number; memoryMiB: number } | undefined {
  if (!pool.facts) return undefined;
  const reserve = systemReserve(pool.facts, pool.maxPods);
  const ds = daemonSetsPerNode(input, pool).length;
  return {
    cpuMilli: pool.facts.vcpu * 1000 - reserve.cpuMilli - ds * DAEMONSET_POD_RESERVE.cpuMilli,
    memoryMiB: pool.facts.memoryMiB - reserve.memoryMiB - ds * DAEMONSET_POD_RESERVE.memoryMiB,
  };
}

/** Pods the pool's nodes hold for workloads: nodes × (maxPods − DaemonSet pods per node). */
export const podSlots = (input: EnvironmentInput, p: PoolView): number => p.size * Math.max(0, p.maxPods - daemonSetsPerNode(input, p).length);

const workloadsOf = (input: EnvironmentInput) => (input.workloads ?? []).map((w, i) => ({ w, at: ['workloads', i] as DocPath, pl: placementOfInput(w) }));

const gib = (mib: number): string => `${(mib / 1024).toFixed(1)} GiB`;

const requestFit: Rule = (ctx, report) => {
  const { input } = ctx;
  const pools = poolViewsOfInput(input, factsOf(ctx));
  for (const { w, at, pl } of workloadsOf(input)) {
    const on = eligiblePools(pools, pl).flatMap((p) => {
      const a = allocatable(input, p);
      return a ? [{ p, a }] : [];
    });
    if (on.length === 0) continue; // no pool at all: the placement rules say why; unknown types: the instance-type rule
    const req = w.resources?.requests;
    const want = { cpu: req?.cpu === undefined ? undefined : parseQuantity(req.cpu), memory: req?.memory === undefined ? undefined : parseQuantity(req.memory) };
    const best = (k: 'cpuMilli' | 'memoryMiB') => on.reduce((x, y) => (y.a[k] > x.a[k] ? y : x));
    const where = (x: { p: PoolView }): string => `${x.p.name} (${x.p.instanceType})`;
    const hint = 'allocatable = the instance type less the system reserve (kubelet, OS, eviction threshold) and the DaemonSet pods of the node (see docs/concepts/validation.md, Instance types and capacity); lower the request or use a larger instance type';
    if (want.cpu !== undefined && on.every((x) => want.cpu! * 1000 > x.a.cpuMilli)) {
      const b = best('cpuMilli');
      report('workload-request-fit', [...at, 'resources', 'requests', 'cpu'], `workload '${w.name}' requests cpu ${req!.cpu}, more than any node it may land on can give a pod (at most ${b.a.cpuMilli}m on ${where(b)})`, { hint });
    }
    if (want.memory !== undefined && on.every((x) => want.memory! / 2 ** 20 > x.a.memoryMiB)) {
      const b = best('memoryMiB');
      report('workload-request-fit', [...at, 'resources', 'requests', 'memory'], `workload '${w.name}' requests memory ${req!.memory}, more than any node it may land on can give a pod (at most ${gib(b.a.memoryMiB)} on ${where(b)})`, { hint });
    }
  }
};

const gpuCapacity: Rule = (ctx, report) => {
  const { input } = ctx;
  const pools = poolViewsOfInput(input, factsOf(ctx));
  for (const { w, at, pl } of workloadsOf(input)) {
    if (!pl.gpu) continue;
    const replicas = peakReplicas(w.replicas ?? (w.kind === 'cronjob' ? 1 : DEFAULTS.replicas), w.autoscaling);
    const b = gpuBudget(pools, pl, replicas);
    if (b.pools.length === 0 || b.needed <= b.available) continue;
    // More GPUs per pod than any of its nodes has: workload-gpu-pool says so at placement.gpu; no replica count helps.
    if (b.pools.every((p) => p.gpus < pl.gpu!)) continue;
    const supply = b.pools.map((p) => `${p.name}: ${p.size} × ${p.gpus}`).join(', ');
    const path: DocPath = w.autoscaling ? [...at, 'autoscaling', 'maxReplicas'] : w.replicas !== undefined ? [...at, 'replicas'] : [...at, 'placement', 'gpu'];
    const surge = (w.kind ?? 'deployment') === 'deployment' ? `; a Deployment also needs ${b.surge} more for a rollout surge unless it rolls without surge (the generator sets maxSurge 0 when there is no room)` : '';
    report('workload-gpu-capacity', path, `workload '${w.name}' needs ${b.needed} GPUs (${replicas} replica${replicas === 1 ? '' : 's'} × ${pl.gpu}), but the pools it may land on have ${b.available} (${supply})`, {
      hint: `add GPU nodes or lower the replicas${surge}`,
    });
  }
};

/**
 * GPU workloads that share pools, together: each may fit alone (gpuCapacity) while their sum does
 * not, and the pods beyond the GPUs stay Pending. Reported once, at the last of them in the file.
 */
const sharedGpuCapacity: Rule = (ctx, report) => {
  const { input } = ctx;
  const pools = poolViewsOfInput(input, factsOf(ctx));
  const list = workloadsOf(input);
  const demands = list.map(({ w, pl }) => ({ name: w.name, placement: pl, replicas: peakReplicas(w.replicas ?? (w.kind === 'cronjob' ? 1 : DEFAULTS.replicas), w.autoscaling), surges: (w.kind ?? 'deployment') === 'deployment' }));
  list.forEach(({ w, at, pl }, i) => {
    if (!pl.gpu) return;
    const b = sharedGpuBudget(pools, demands, i);
    if (b.sharers.length < 2 || b.sharers[b.sharers.length - 1] !== i || b.needed <= b.available) return;
    // One that does not fit alone is gpuCapacity's finding.
    if (b.sharers.some((j) => { const own = gpuBudget(pools, demands[j]!.placement, demands[j]!.replicas); return own.needed > own.available; })) return;
    const each = b.sharers.map((j) => `${demands[j]!.name} ${demands[j]!.replicas} × ${demands[j]!.placement.gpu}`).join(', ');
    const supply = b.pools.map((p) => `${p.name}: ${p.size} × ${p.gpus}`).join(', ');
    const path: DocPath = w.autoscaling ? [...at, 'autoscaling', 'maxReplicas'] : w.replicas !== undefined ? [...at, 'replicas'] : [...at, 'placement', 'gpu'];
    report('workload-gpu-capacity', path, `the GPU workloads sharing pools with '${w.name}' need ${b.needed} GPUs together (${each}), but those pools have ${b.available} (${supply})`, {
      hint: `add GPU nodes, lower the replicas, or give the workloads pools of their own (placement.pool); rollouts surge by ${b.surge} more unless they roll without surge (the generator sets maxSurge 0 when there is no room)`,
    });
  });
};

const capacity: Rule = (ctx, report) => {
  const { input } = ctx;
  const pools = poolViewsOfInput(input, factsOf(ctx));
  const planned = input.cluster.plannedPods ?? DEFAULTS.plannedPods;
  const general = eligiblePools(pools, { arch: 'any' });
  const cap = general.reduce((n, p) => n + podSlots(input, p), 0);
  // Left out: pools without nodes (count 0) and pools whose taints or labels keep ordinary pods off.
  const left = pools.filter((p) => p.role === 'worker' && !general.includes(p));
  const empty = left.filter((p) => p.size === 0).map((p) => p.name);
  const kept = left.filter((p) => p.size > 0).map((p) => p.name);
  const leftText = [kept.length ? `tainted pools ${kept.join(', ')}` : '', empty.length ? `pools without nodes ${empty.join(', ')}` : ''].filter(Boolean).join(' and ');
  if (cap < planned)
    report('capacity', ['nodePools'], `capacity for workloads is ${cap} pods (Σ nodes × (maxPods − DaemonSet pods per node) over ${general.map((p) => p.name).join(', ') || 'no pool'}${leftText ? `; ${leftText} left out` : ''}), below the ${planned} planned pods`, {
      severity: 'warning',
      hint: 'add worker nodes, raise maxPods, or set cluster.plannedPods',
    });
  for (const { w, at, pl } of workloadsOf(input)) {
    if (pl.arch === 'any' && !pl.gpu && !pl.pool) continue;
    const on = eligiblePools(pools, pl);
    const slots = on.reduce((n, p) => n + podSlots(input, p), 0);
    const replicas = peakReplicas(w.replicas ?? DEFAULTS.replicas, w.autoscaling);
    if (on.length > 0 && replicas > slots)
      report('capacity', [...at, 'placement'], `workload '${w.name}' runs up to ${replicas} pods, but the pools it may land on (${on.map((p) => p.name).join(', ')}) hold ${slots}`, { severity: 'warning', hint: 'add nodes to those pools or widen the placement' });
  }
};

/**
 * `untainted-pool`: once workers exist the control planes are tainted (every distribution's renderer; the bootstrap
 * scripts wait for a node the engine's pods tolerate), so a pod that tolerates no taint needs a worker pool without
 * NoSchedule/NoExecute taints. The GitOps engine's controllers tolerate none (their charts' defaults), nor do most
 * add-ons' controllers: with every worker pool tainted they stay Pending (kubernetes pkg/scheduler/framework/plugins/
 * tainttoleration/taint_toleration.go:54-77 at 007f7ae7), the bootstrap stops after its wait, and nothing is delivered.
 */
const untaintedPool: Rule = (ctx, report) => {
  const pools = poolViewsOfInput(ctx.input, factsOf(ctx));
  const workers = pools.filter((p) => p.role === 'worker' && p.size > 0);
  if (workers.length === 0 || eligiblePools(pools, { arch: 'any' }).length > 0) return;
  const taints = workers.map((p) => `${p.name}: ${p.taints.filter((t) => t.effect !== 'PreferNoSchedule').map((t) => `${t.key}${t.value !== undefined ? `=${t.value}` : ''}:${t.effect}`).join(', ')}`);
  report('untainted-pool', ['nodePools'], `no node takes a pod that tolerates no taint: every worker pool is tainted (${taints.join('; ')}), and the control planes carry ${CONTROL_PLANE_TAINT.key}:${CONTROL_PLANE_TAINT.effect} once workers exist; the GitOps engine's controllers and most add-ons' tolerate neither, so they would run nowhere (the bootstrap waits for such a node, then stops)`, {
    hint: 'add a worker pool without NoSchedule or NoExecute taints',
  });
};

export const CAPACITY_RULES: readonly Rule[] = [requestFit, gpuCapacity, sharedGpuCapacity, capacity, untaintedPool];
