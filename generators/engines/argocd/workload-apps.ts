/** The Argo CD Applications of the workloads and of their namespaces (from the delivery plan's workload units). */
import type { EnvironmentModel } from '../../model/types.js';
import { workloadUnits } from '../../plan/workload-units.js';
import { appSpecOf, type AppSpec } from './spec.js';
import { appWaves } from './waves.js';

export const workloadAppSpecs = (model: EnvironmentModel): AppSpec[] => {
  const waves = appWaves(model);
  return workloadUnits(model).map((u) => appSpecOf(u, waves.app(u.name)));
};
