/** The Argo CD Applications of the workloads and of their namespaces, as AppSpecs for the Argo CD renderer. */
import type { InputPath } from '../../lib/paths.js';
import type { EnvironmentModel } from '../../model/types.js';
import type { AppSpec } from '../argocd/spec.js';
import { NAMESPACE_SYNC_WAVE, WORKLOAD_SYNC_WAVE } from './constants.js';
import { namespaceAppName, workloadNamespaces, workloadPath } from './plan.js';

/**
 * One Application per workload namespace, `namespace-<ns>`, delivering the Namespace (Pod Security
 * Standards labels) and its baseline NetworkPolicies from rendered/<env>/manifests/namespace-<ns>/;
 * then one Application per workload, delivering rendered/<env>/manifests/<workload>/ one wave later.
 * No object belongs to two Applications, and no workload's Application owns anything another
 * workload needs.
 */
export function workloadAppSpecs(model: EnvironmentModel): AppSpec[] {
  const namespaces: AppSpec[] = [...workloadNamespaces(model)].map(([namespace, members]) => {
    // The Application exists because these workloads live in the namespace.
    const inputs = members.map((w): InputPath => workloadPath(w.name, 'namespace'));
    return {
      name: namespaceAppName(namespace),
      project: 'workloads',
      namespace,
      syncWave: NAMESPACE_SYNC_WAVE,
      manifests: true,
      // The Namespace (with its Pod Security labels) is one of the Application's manifests.
      createNamespace: false,
      clusterResources: ['/Namespace'],
      inputs,
      projectInputs: inputs,
    };
  });
  const workloads: AppSpec[] = model.workloads.map((w) => ({
    name: w.name,
    project: 'workloads',
    namespace: w.namespace,
    syncWave: WORKLOAD_SYNC_WAVE,
    manifests: true,
    createNamespace: false,
    clusterResources: [],
    inputs: [workloadPath(w.name, 'namespace')],
    projectInputs: [workloadPath(w.name, 'namespace')],
  }));
  return [...namespaces, ...workloads].sort((a, b) => a.name.localeCompare(b.name));
}
