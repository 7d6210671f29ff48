/** Sections of rendered/<env>/README.md. Each domain contributes its own (runbooks and facts). */
import type { InputPath } from '../../lib/paths.js';
import type { EnvironmentModel } from '../../model/types.js';

export interface ReadmeSection {
  /** Sections are ordered by this, then by title. */
  order: number;
  title: string;
  /** Markdown body (without the heading). */
  body: string;
  /** Parts of the environment the body is derived from. */
  inputs: InputPath[];
}

export type SectionProvider = (model: EnvironmentModel) => ReadmeSection[];
