/**
 * Sections of rendered/<env>/README.md. The core, the environment's distribution and its engine
 * contribute their own (runbooks and facts); the context says what each needs to know of the others.
 */
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

/** What a section may say about the environment's distribution and engine (from their registries). */
export interface ReadmeContext {
  distribution: {
    /** e.g. "Talos". */
    title: string;
    /** How a runbook says the cluster is up, e.g. "Talos bootstrapped". */
    clusterReady: string;
  };
  engine: {
    /** e.g. "Argo CD". */
    title: string;
    /** Env-relative path of its bootstrap script. */
    bootstrapScript: string;
    /** What an add-on is, with its article, e.g. "an Argo CD add-on". */
    addon: string;
    /** What one workload is delivered as, e.g. "Argo CD Application". */
    workloadDelivery: string;
  };
}

export type SectionProvider = (model: EnvironmentModel, ctx: ReadmeContext) => ReadmeSection[];
