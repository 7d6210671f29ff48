/** The Argo CD Application of each workload, as AppSpecs for the Argo CD renderer. */
import type { InputPath } from '../../lib/paths.js';
import type { EnvironmentModel } from '../../model/types.js';
import type { AppSpec } from '../argocd/spec.js';
import { WORKLOAD_GUEST_SYNC_WAVE, WORKLOAD_SYNC_WAVE } from './constants.js';
import { namespaceOwners } from './plan.js';

/**
 * One Application per workload, delivering rendered/<env>/manifests/<workload>/. The workload that
 * owns its namespace (the alphabetically first in it) carries the Namespace object, with its Pod
 * Security Standards labels, so its Application creates the cluster-scoped kind Namespace; the
 * other workloads of that namespace sync one wave later.
 */
export function workloadAppSpecs(model: EnvironmentModel): AppSpec[] {
  const owners = namespaceOwners(model);
  return model.workloads
    .map((w) => {
      const owner = owners.get(w.namespace)?.name === w.name;
      return {
        name: w.name,
        project: 'workloads' as const,
        namespace: w.namespace,
        syncWave: owner ? WORKLOAD_SYNC_WAVE : WORKLOAD_GUEST_SYNC_WAVE,
        manifests: true,
        // The Namespace (with its Pod Security labels) is one of the owner's manifests.
        createNamespace: false,
        clusterResources: owner ? ['/Namespace'] : [],
        // The Application depends on the workloads' names and namespaces (its wave: who owns the namespace).
        inputs: model.workloads.map((o) => o.name).sort().map((name): InputPath => ['workloads', { name }, 'namespace']),
        projectInputs: [['workloads', { name: w.name }, 'namespace']],
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}
