/** Every renderer, in one list: the core's, the environment's distribution and engine. Each is pure: model in, files out. */
import { distributionOf } from '../distributions/registry.js';
import { engineOf } from '../engines/registry.js';
import type { EnvironmentModel } from '../model/types.js';
import { renderDelivery } from './delivery/render.js';
import { renderReadme } from './readme/readme.js';
import type { RenderedFile, Renderer } from './types.js';
import { renderWorkloads } from './workloads/render.js';
import { renderAws } from '../infra/aws/render.js';

export const RENDERERS: readonly Renderer[] = [renderReadme, (m) => distributionOf(m).render(m), renderDelivery, (m) => engineOf(m).render(m), renderWorkloads, renderAws];

export function renderModel(model: EnvironmentModel): RenderedFile[] {
  return RENDERERS.flatMap((r) => r(model));
}
