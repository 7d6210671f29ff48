/** Every renderer, in one list. Each is pure: model in, files out. */
import type { EnvironmentModel } from '../model/types.js';
import { renderArgoCdTree } from '../engines/argocd/render.js';
import { renderDelivery } from './delivery/render.js';
import { renderFluxTree } from '../engines/flux/render.js';
import { renderK3s } from '../distributions/k3s/render.js';
import { renderRke2 } from '../distributions/rke2/render.js';
import { renderReadme } from './readme/readme.js';
import { renderTalos } from '../distributions/talos/render.js';
import type { RenderedFile, Renderer } from './types.js';
import { renderWorkloads } from './workloads/render.js';

export const RENDERERS: readonly Renderer[] = [renderReadme, renderTalos, renderK3s, renderRke2, renderDelivery, renderArgoCdTree, renderFluxTree, renderWorkloads];

export function renderModel(model: EnvironmentModel): RenderedFile[] {
  return RENDERERS.flatMap((r) => r(model));
}
