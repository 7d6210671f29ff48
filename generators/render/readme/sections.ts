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
    /** Its product name (Distribution.title). */
    title: string;
    /** How a runbook says the cluster is up (Distribution.clusterReady). */
    clusterReady: string;
  };
  engine: {
    /** Its product name (Engine.title). */
    title: string;
    /** Env-relative path of its bootstrap script. */
    bootstrapScript: string;
    /** What an add-on is, with its article (Engine.text.addon). */
    addon: string;
    /** What one workload is delivered as (Engine.text.workloadDelivery). */
    workloadDelivery: string;
  };
}

export type SectionProvider = (model: EnvironmentModel, ctx: ReadmeContext) => ReadmeSection[];
