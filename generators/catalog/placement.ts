/**
 * Where add-ons run on the control planes: the node selector, whose label value is the distribution's.
 * Apart from ./types.ts (and its CONTROL_PLANE_TOLERATION), which imports no registry: its constants are read while modules load.
 */
import { distributionOf } from '../distributions/registry.js';
import type { EnvironmentModel } from '../model/types.js';

/**
 * Node selector for control-plane nodes: the label value is the distribution's (its facts say which
 * and where that comes from); a nodeSelector matches values exactly.
 */
export const controlPlaneSelector = (m: EnvironmentModel): Record<string, string> => ({ 'node-role.kubernetes.io/control-plane': distributionOf(m).facts.controlPlaneLabel });
