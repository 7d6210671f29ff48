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
 * Balancer Controller, the EBS CSI controller, the Node Termination Handler, External Secrets when it
 * assumes store roles). Only
 * that place gets IMDS hop limit 2 and their permissions:
 * - `pool`: the worker pool named by `aws.iam.controllersPool`;
 * - `controlplane` (the default): the control planes, tainted where workers exist on every
 *   distribution here, so only what tolerates that taint shares their pod network;
 * - `unpinned`: the control planes' role reads boot secrets (a node token, a datastore password:
 *   the distribution's hostNeeds) and worker pools exist. Pods on the control planes' pod network
 *   would read those through IMDS at hop limit 2 (rule secret-access refuses it), so without a named
 *   pool the controllers stay where they ran before: any untainted worker, hop limit 2 on each.
 * A pool named but missing or not a worker pool (refused by rule aws-controllers-pool) counts as unnamed.
 */
export type ControllersHost = { kind: 'controlplane' } | { kind: 'pool'; pool: NodePool } | { kind: 'unpinned'; why: string };

/** IAM actions that read an SSM parameter's value (the access graph reads the same). */
export const SSM_READ = /^ssm:(GetParameter|GetParameters|\*)$/;

export function controllersHost(m: EnvironmentModel): ControllersHost {
  const name = m.aws.iam.controllersPool;
  const pool = name === undefined ? undefined : m.pools.find((p) => p.name === name && p.role === 'worker');
  if (pool) return { kind: 'pool', pool };
  const secrets = distributionOf(m)
    .aws.hostNeeds(m, 'controlplane')
    .filter((h) => h.statements.some((s) => s.Effect === 'Allow' && s.Action.some((a) => SSM_READ.test(a))));
  if (secrets.length > 0 && m.pools.some((p) => p.role === 'worker' && p.size > 0)) return { kind: 'unpinned', why: `the control planes' role holds boot secrets (${secrets.map((h) => h.who).join('; ')})` };
  return { kind: 'controlplane' };
}

/** The toleration of one taint (exactly its key, value and effect). */
export const tolerationOf = (t: Taint): Toleration => (t.value !== undefined ? { key: t.key, operator: 'Equal', value: t.value, effect: t.effect } : { key: t.key, operator: 'Exists', effect: t.effect });

/**
 * The nodeSelector and tolerations that pin a credentialed controller to its host: the pool's labels
 * and a toleration of each of its taints; or the control planes' label and taint (the control-plane
 * taint where the distribution sets it, and the control-plane pools' own taints).
 */
export function controllersPlacement(m: EnvironmentModel): { nodeSelector: Record<string, string>; tolerations: Toleration[] } | undefined {
  const h = controllersHost(m);
  if (h.kind === 'unpinned') return undefined;
  if (h.kind === 'pool') return { nodeSelector: { ...h.pool.labels }, tolerations: h.pool.taints.map(tolerationOf) };
  const own = m.pools.filter((p) => p.role === 'controlplane').flatMap((p) => p.taints.filter((t) => t.key !== CONTROL_PLANE_TOLERATION.key));
  const seen = new Set<string>();
  const extra = own.map(tolerationOf).filter((t) => !seen.has(JSON.stringify(t)) && seen.add(JSON.stringify(t)));
  return { nodeSelector: controlPlaneSelector(m), tolerations: [{ ...CONTROL_PLANE_TOLERATION }, ...extra] };
}

/**
 * The values keys that place a credentialed controller (set by the catalog from controllersHost), per
 * add-on: an environment's own value there would move it off the only place with hop limit 2 and its
 * permissions (rule addon-controllers-placement). EBS: `node.metadataSources` too (IMDS answers no
 * node-plugin pod at hop limit 1). The charts' keys: aws-load-balancer-controller 3.5.0 values.yaml
 * :78-83, aws-ebs-csi-driver 2.64.0 :212 (controller.affinity), :271, :316, :439, external-secrets
 * 2.9.0 :439-445.
 */
export const CONTROLLER_PLACEMENT_KEYS: Readonly<Record<string, readonly string[]>> = {
  'aws-load-balancer-controller': ['nodeSelector', 'tolerations', 'affinity.nodeAffinity'],
  // aws-node-termination-handler 0.27.6 values.yaml:49-53 (templates/deployment.yaml:208-220).
  'aws-node-termination-handler': ['nodeSelector', 'tolerations', 'affinity.nodeAffinity'],
  'aws-ebs-csi-driver': ['controller.nodeSelector', 'controller.tolerations', 'controller.affinity.nodeAffinity', 'node.metadataSources'],
  'external-secrets': ['nodeSelector', 'tolerations', 'affinity.nodeAffinity'],
};
