/**
 * What renderers produce: files relative to rendered/<env>/ with the input paths they derive from.
 */
import type { InputPath } from '../lib/paths.js';
import type { EnvironmentModel } from '../model/types.js';

/** A file a renderer produces, relative to rendered/<env>/, without the generated-file header. */
export interface RenderedFile {
  path: string;
  /** Body text: YAML (one or more documents) or Markdown. */
  content: string;
  /**
   * The parts of the environment document this file is derived from (for its provenance hash), so
   * that changing one workload changes only that workload's files. Omitted: the whole environment.
   * List items may be selected by name (`['workloads', { name: 'portal' }, 'replicas']`) so that
   * reordering a list changes nothing.
   */
  inputs?: InputPath[];
}

/** A renderer: pure, model in, files out. Renderers import neither `fs` nor AWS. */
export type Renderer = (model: EnvironmentModel) => RenderedFile[];
