/**
 * The Argo CD Applications of an environment: one AppSpec per unit of the engine-neutral delivery
 * plan (generators/plan/). The Argo CD renderer and the AppProjects use all of them.
 */
import type { EnvironmentModel } from '../../model/types.js';
import { deliveryPlan, type UnitSource } from '../../plan/index.js';
import { appWaves } from './waves.js';
import { appSpecOf, type AppSpec } from './spec.js';

export function allAppSpecs(model: EnvironmentModel, sources?: readonly UnitSource[]): AppSpec[] {
  const waves = appWaves(model);
  return deliveryPlan(model, sources).map((u) => appSpecOf(u, waves.app(u.name)));
}
