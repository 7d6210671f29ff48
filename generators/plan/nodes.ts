/**
 * The environment's nodes as the scheduler sees them once every pool has joined: each pool's labels
 * (arch, os, GPU, the distribution's control-plane label) and taints, control planes tainted
 * `node-role.kubernetes.io/control-plane:NoSchedule` where workers exist (every distribution here
 * taints them then). Read by the first-sync simulator and by the bootstrap script's wait for a node
 * a release's pods can run on.
 */
import { distributionOf } from '../distributions/registry.js';
import { nodeMatches, untolerated, type Taint } from '../lib/scheduling.js';
import type { EnvironmentModel } from '../model/types.js';
import type { PodPlacement } from './needs.js';

export const CONTROL_PLANE_TAINT: Taint = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };

export interface PoolNode {
  /** The pool's name ("any" without a model). */
  name: string;
  role?: 'controlplane' | 'worker';
  taints: Taint[];
  labels: Record<string, string>;
}

/** One node per pool with nodes (no model: one untainted node). */
export function nodesOf(model: EnvironmentModel | undefined): PoolNode[] {
  if (!model) return [{ name: 'any', taints: [], labels: {} }];
  const workers = model.pools.some((p) => p.role === 'worker' && p.size > 0);
  return model.pools
    .filter((p) => p.size > 0)
    .map((p) => ({
      name: p.name,
      role: p.role,
      labels: {
        ...p.labels,
        'kubernetes.io/arch': p.arch,
        'kubernetes.io/os': 'linux',
        ...(p.gpu ? { 'nvidia.com/gpu.present': 'true' } : {}),
        ...(p.role === 'controlplane' ? { 'node-role.kubernetes.io/control-plane': distributionOf(model).facts.controlPlaneLabel } : {}),
      },
      taints: [...p.taints, ...(p.role === 'controlplane' && workers && !p.taints.some((t) => t.key === CONTROL_PLANE_TAINT.key) ? [CONTROL_PLANE_TAINT] : [])],
    }));
}

/** Whether a node tolerates and matches a pod placement. */
export const placeable = (p: PodPlacement, n: PoolNode): boolean => untolerated(p.tolerations, n.taints).length === 0 && nodeMatches(n.labels, p.nodeSelector, p.terms as never);
