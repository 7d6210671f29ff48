/**
 * Facts about the workloads of an environment that several renderers share: the namespaces they use
 * (each delivered by its own Application), and the document paths each object is derived from.
 */
import type { InputPath } from '../lib/paths.js';
import type { EnvironmentModel, Workload } from '../model/types.js';

/** Document path of one workload, selected by name (stable under reordering). */
export const workloadPath = (name: string, ...rest: string[]): InputPath => ['workloads', { name }, ...rest];

/**
 * Namespace → the workloads in it (sorted by name). Each namespace's own objects (the Namespace and
 * its baseline NetworkPolicies) belong to a dedicated Application, `namespace-<ns>`, not to any
 * workload: removing or renaming one workload never touches what the others share.
 */
export function workloadNamespaces(model: EnvironmentModel): Map<string, Workload[]> {
  const out = new Map<string, Workload[]>();
  for (const w of [...model.workloads].sort((a, b) => a.name.localeCompare(b.name))) {
    const list = out.get(w.namespace) ?? out.set(w.namespace, []).get(w.namespace)!;
    list.push(w);
  }
  return new Map([...out].sort(([a], [b]) => a.localeCompare(b)));
}

/** The unit (and manifests directory) of one workload namespace. */
export const NAMESPACE_APP_PREFIX = 'namespace-';
export const namespaceAppName = (namespace: string): string => `${NAMESPACE_APP_PREFIX}${namespace}`;

export const hasSecretEnv = (w: Workload): boolean => Object.values(w.env).some((v) => typeof v !== 'string');

export const servesTraffic = (w: Workload): boolean => w.kind !== 'cronjob' && w.ports.length > 0;

/** The port an Ingress or probe refers to by name (default: the first). */
export function portByName(w: Workload, name: string | undefined): { name: string; port: number } | undefined {
  return name === undefined ? w.ports[0] : w.ports.find((p) => p.name === name);
}

/** Secret (from ExternalSecret) holding the workload's `{ secret: … }` environment variables. */
export const envSecretName = (w: Pick<Workload, 'name'>): string => `${w.name}-env`;
export const configMapName = (w: Pick<Workload, 'name'>): string => `${w.name}-config`;
export const headlessServiceName = (w: Pick<Workload, 'name'>): string => `${w.name}-headless`;

/** ConfigMap key of a config file path: `/etc/app/config.yaml` → `etc--app--config.yaml`. */
export const configKey = (path: string): string => path.slice(1).split('/').join('--');

/** A PodDisruptionBudget is rendered when declared, or by default for a replicated service. */
export function disruptionBudgetOf(w: Workload): { minAvailable?: number; maxUnavailable?: number } | undefined {
  if (w.kind === 'cronjob') return undefined;
  if (w.disruptionBudget && (w.disruptionBudget.minAvailable !== undefined || w.disruptionBudget.maxUnavailable !== undefined)) return w.disruptionBudget;
  if (w.autoscaling || w.replicas >= 2) return { maxUnavailable: 1 };
  return undefined;
}
