/**
 * Delivery units of the workloads: one per workload namespace, `namespace-<ns>`, delivering the
 * Namespace (Pod Security Standards labels) and its baseline NetworkPolicies from
 * rendered/<env>/manifests/namespace-<ns>/; then one per workload, delivering
 * rendered/<env>/manifests/<workload>/ one order later. No object belongs to two units, and no
 * workload's unit owns anything another workload needs.
 */
import type { InputPath } from '../lib/paths.js';
import type { EnvironmentModel } from '../model/types.js';
import { NAMESPACE_SYNC_WAVE, WORKLOAD_SYNC_WAVE } from './workload-constants.js';
import { manifestsDir } from './addons.js';
import type { DeliveryUnit } from './types.js';
import { namespaceAppName, workloadNamespaces, workloadPath } from './workloads.js';

export function workloadUnits(model: EnvironmentModel): DeliveryUnit[] {
  const namespaces: DeliveryUnit[] = [...workloadNamespaces(model)].map(([namespace, members]) => {
    // The unit exists because these workloads live in the namespace.
    const inputs = members.map((w): InputPath => workloadPath(w.name, 'namespace'));
    const name = namespaceAppName(namespace);
    return {
      name,
      kind: 'workload-namespace',
      description: `namespace ${namespace}: Namespace and baseline NetworkPolicies`,
      tenant: 'workloads',
      namespace,
      order: NAMESPACE_SYNC_WAVE,
      manifestsDir: manifestsDir(name),
      serverSideApply: false,
      // The Namespace (with its Pod Security labels) is one of the unit's manifests.
      createNamespace: false,
      clusterResources: ['/Namespace'],
      extraNamespaces: [],
      // The Namespace itself carries the keep-on-deletion marker (plan/workload-constants.ts).
      onDelete: 'cascade',
      inputs,
      tenantInputs: inputs,
    };
  });
  const workloads: DeliveryUnit[] = model.workloads.map((w) => ({
    name: w.name,
    kind: 'workload',
    description: `workload ${w.name}`,
    tenant: 'workloads',
    namespace: w.namespace,
    order: WORKLOAD_SYNC_WAVE,
    manifestsDir: manifestsDir(w.name),
    serverSideApply: false,
    createNamespace: false,
    clusterResources: [],
    extraNamespaces: [],
    onDelete: 'cascade',
    inputs: [workloadPath(w.name, 'namespace')],
    tenantInputs: [workloadPath(w.name, 'namespace')],
  }));
  return [...namespaces, ...workloads].sort((a, b) => a.name.localeCompare(b.name));
}
