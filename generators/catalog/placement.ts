/**
 * Where add-ons run on the control planes: the node selector, whose label value is the distribution's.
 * And where the add-ons that call AWS with the node's credentials run (controllersHost).
 * Apart from ./types.ts (and its CONTROL_PLANE_TOLERATION), which imports no registry: its constants are read while modules load.
 */
import { distributionOf } from '../distributions/registry.js';
import type { Toleration } from '../lib/scheduling.js';
import type { EnvironmentModel, NodePool, Taint } from '../model/types.js';
import { CONTROL_PLANE_TOLERATION } from './types.js';

/**
 * Node selector for control-plane nodes: the label value is the distribution's (its facts say which
 * and where that comes from); a nodeSelector matches values exactly.
 */
export const controlPlaneSelector = (m: EnvironmentModel): Record<string, string> => ({ 'node-role.kubernetes.io/control-plane': distributionOf(m).facts.controlPlaneLabel });

/**
 * Where the credentialed controllers run (infra/aws/plan.ts credentialedControllers: the AWS Load
 * Balancer Controller, the EBS CSI controller, External Secrets when it assumes store roles): the
 * worker pool named by `aws.iam.controllersPool`, else the control planes. Only that place gets IMDS
 * hop limit 2 and their permissions; a pool named but missing or not a worker pool (refused by rule
 * aws-controllers-pool) falls back to the control planes.
 */
export type ControllersHost = { kind: 'controlplane' } | { kind: 'pool'; pool: NodePool };

export function controllersHost(m: EnvironmentModel): ControllersHost {
  const name = m.aws.iam.controllersPool;
  const pool = name === undefined ? undefined : m.pools.find((p) => p.name === name && p.role === 'worker');
  return pool ? { kind: 'pool', pool } : { kind: 'controlplane' };
}

/** The toleration of one taint (exactly its key, value and effect). */
export const tolerationOf = (t: Taint): Toleration => (t.value !== undefined ? { key: t.key, operator: 'Equal', value: t.value, effect: t.effect } : { key: t.key, operator: 'Exists', effect: t.effect });

/**
 * The nodeSelector and tolerations that pin a credentialed controller to its host: the pool's labels
 * and a toleration of each of its taints; or the control planes' label and taint (the control-plane
 * taint where the distribution sets it, and the control-plane pools' own taints).
 */
export function controllersPlacement(m: EnvironmentModel): { nodeSelector: Record<string, string>; tolerations: Toleration[] } {
  const h = controllersHost(m);
  if (h.kind === 'pool') return { nodeSelector: { ...h.pool.labels }, tolerations: h.pool.taints.map(tolerationOf) };
  const own = m.pools.filter((p) => p.role === 'controlplane').flatMap((p) => p.taints.filter((t) => t.key !== CONTROL_PLANE_TOLERATION.key));
  const seen = new Set<string>();
  const extra = own.map(tolerationOf).filter((t) => !seen.has(JSON.stringify(t)) && seen.add(JSON.stringify(t)));
  return { nodeSelector: controlPlaneSelector(m), tolerations: [{ ...CONTROL_PLANE_TOLERATION }, ...extra] };
}
