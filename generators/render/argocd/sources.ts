/**
 * Where Argo CD Applications come from: every source contributes AppSpecs (add-ons here; workloads
 * register theirs in APP_SPEC_SOURCES). The Argo CD renderer and the AppProject use all of them.
 */
import { addonAppSpec, resolveAddons } from '../../catalog/resolve.js';
import type { EnvironmentModel } from '../../model/types.js';
import { workloadAppSpecs } from '../workloads/apps.js';
import type { AppSpec } from './spec.js';

export type AppSpecSource = (model: EnvironmentModel) => AppSpec[];

export const addonAppSpecs: AppSpecSource = (model) => resolveAddons(model).map(addonAppSpec);

export const APP_SPEC_SOURCES: AppSpecSource[] = [addonAppSpecs, workloadAppSpecs];

export function allAppSpecs(model: EnvironmentModel, sources: readonly AppSpecSource[] = APP_SPEC_SOURCES): AppSpec[] {
  const specs = sources.flatMap((s) => s(model));
  const seen = new Set<string>();
  for (const s of specs) {
    if (seen.has(s.name)) throw new Error(`two Argo CD Applications are named '${s.name}'`);
    seen.add(s.name);
  }
  return specs.sort((a, b) => a.syncWave - b.syncWave || a.name.localeCompare(b.name));
}
