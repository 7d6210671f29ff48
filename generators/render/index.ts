/** Every renderer, in one list. Each is pure: model in, files out. */
import type { EnvironmentModel } from '../model/types.js';
import { renderArgoCdTree } from './argocd/render.js';
import { renderDelivery } from './delivery/render.js';
import { renderFluxTree } from './flux/render.js';
import { renderK3s } from './k3s/index.js';
import { renderRke2 } from './rke2/index.js';
import { renderReadme } from './readme/readme.js';
import { renderTalos } from './talos/talos.js';
import type { RenderedFile, Renderer } from './types.js';
import { renderWorkloads } from './workloads/render.js';
import { renderAws } from '../infra/aws/render.js';

export const RENDERERS: readonly Renderer[] = [renderReadme, renderTalos, renderK3s, renderRke2, renderDelivery, renderArgoCdTree, renderFluxTree, renderWorkloads, renderAws];

export function renderModel(model: EnvironmentModel): RenderedFile[] {
  return RENDERERS.flatMap((r) => r(model));
}
