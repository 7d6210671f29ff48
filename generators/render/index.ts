/** Every renderer, in one list. Each is pure: model in, files out. */
import type { EnvironmentModel } from '../model/types.js';
import { renderReadme } from './readme/readme.js';
import { renderTalos } from './talos/talos.js';
import type { RenderedFile, Renderer } from './types.js';

export const RENDERERS: readonly Renderer[] = [renderReadme, renderTalos];

export function renderModel(model: EnvironmentModel): RenderedFile[] {
  return RENDERERS.flatMap((r) => r(model));
}
