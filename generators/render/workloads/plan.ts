/**
 * Facts about the workloads of an environment that several renderers share: which workload's
 * Application owns each namespace, and the document paths each object is derived from.
 */
import type { InputPath } from '../../lib/paths.js';
import type { EnvironmentModel, Workload } from '../../model/types.js';

/** Document path of one workload, selected by name (stable under reordering). */
export const workloadPath = (name: string, ...rest: string[]): InputPath => ['workloads', { name }, ...rest];

/** Namespace → the workload whose Application carries the Namespace and its default policies. */
export function namespaceOwners(model: EnvironmentModel): Map<string, Workload> {
  const owners = new Map<string, Workload>();
  for (const w of [...model.workloads].sort((a, b) => a.name.localeCompare(b.name))) {
    if (!owners.has(w.namespace)) owners.set(w.namespace, w);
  }
  return owners;
}

export function ownsNamespace(model: EnvironmentModel, w: Workload): boolean {
  return namespaceOwners(model).get(w.namespace)?.name === w.name;
}

export const hasSecretEnv = (w: Workload): boolean => Object.values(w.env).some((v) => typeof v !== 'string');

export const servesTraffic = (w: Workload): boolean => w.kind !== 'cronjob' && w.ports.length > 0;

/** The port an Ingress or probe refers to by name (default: the first). */
export function portByName(w: Workload, name: string | undefined): { name: string; port: number } | undefined {
  return name === undefined ? w.ports[0] : w.ports.find((p) => p.name === name);
}

/** Secret (from ExternalSecret) holding the workload's `{ secret: … }` environment variables. */
export const envSecretName = (w: Workload): string => `${w.name}-env`;
export const configMapName = (w: Workload): string => `${w.name}-config`;
export const headlessServiceName = (w: Workload): string => `${w.name}-headless`;

/** ConfigMap key of a config file path: `/etc/app/config.yaml` → `etc--app--config.yaml`. */
export const configKey = (path: string): string => path.slice(1).split('/').join('--');

/** A PodDisruptionBudget is rendered when declared, or by default for a replicated service. */
export function disruptionBudgetOf(w: Workload): { minAvailable?: number; maxUnavailable?: number } | undefined {
  if (w.kind === 'cronjob') return undefined;
  if (w.disruptionBudget && (w.disruptionBudget.minAvailable !== undefined || w.disruptionBudget.maxUnavailable !== undefined)) return w.disruptionBudget;
  if (w.autoscaling || w.replicas >= 2) return { maxUnavailable: 1 };
  return undefined;
}
