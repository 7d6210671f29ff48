/** Every renderer, in one list. Each is pure: model in, files out. */
import type { EnvironmentModel } from '../model/types.js';
import { renderArgoCdTree } from './argocd/render.js';
import { renderReadme } from './readme/readme.js';
import type { RenderedFile, Renderer } from './types.js';

export const RENDERERS: readonly Renderer[] = [renderReadme, renderArgoCdTree];

export function renderModel(model: EnvironmentModel): RenderedFile[] {
  return RENDERERS.flatMap((r) => r(model));
}
