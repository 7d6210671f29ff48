/**
 * The Argo CD Applications of an environment: one AppSpec per unit of the engine-neutral delivery
 * plan (generators/plan/). The Argo CD renderer and the AppProjects use all of them.
 */
import type { EnvironmentModel } from '../../model/types.js';
import { deliveryPlan, namespaceCreators, type UnitSource } from '../../plan/index.js';
import { appWaves } from './waves.js';
import { appSpecOf, type AppSpec } from './spec.js';

export function allAppSpecs(model: EnvironmentModel, sources?: readonly UnitSource[]): AppSpec[] {
  const waves = appWaves(model);
  const plan = deliveryPlan(model, sources);
  // One Application creates and labels (managedNamespaceMetadata) a namespace several share; the others sync into it
  // after it. A unit that labels nothing (kube-system's) keeps CreateNamespace: it only creates a missing namespace.
  const creators = namespaceCreators(plan);
  return plan.map((u) => {
    const creator = creators.get(u.namespace);
    const owner = creator?.unit === u.name;
    const own = !u.createNamespace || creator === undefined ? u : owner ? { ...u, podSecurity: creator.podSecurity } : u.podSecurity ? { ...u, createNamespace: false } : u;
    return appSpecOf(own, waves.app(u.name));
  });
}
