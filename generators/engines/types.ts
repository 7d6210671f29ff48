/**
 * The Engine interface: what a GitOps engine (one folder under generators/engines/) gives the core.
 * The core reaches engines only through ./registry.ts; nothing here names one.
 */
import type { CatalogEntry } from '../catalog/types.js';
import type { EnvironmentModel } from '../model/types.js';
import type { ReadmeContext, ReadmeSection } from '../render/readme/sections.js';
import type { RenderedFile } from '../render/types.js';
import type { JsonSchema } from '../schema/compose.js';
import type { SchemaError } from '../validate/k8s-models.js';
import type { FileChecker, TreeChecker } from '../validate/rendered/registry.js';
import type { Diagnostic } from '../validate/diagnostics.js';
import type { Rule } from '../validate/rules.js';
import type { ParsedDoc, ParsedFile } from '../validate/rendered/tree.js';

/** Checks of the rendered tree an engine contributes (run over every environment's tree, like the core's). */
export interface EngineChecks {
  /** File checkers (after the core's). */
  files?: readonly FileChecker[];
  /** Tree checkers (after the core's). */
  tree?: readonly TreeChecker[];
  /** Model packages (@kubernetes-models/…) of its API groups, by group. */
  modelPackages?: Readonly<Record<string, string>>;
  /** Strict schema checks of its own kinds no model package covers, by `apiVersion/kind`. */
  customResources?: Readonly<Record<string, (o: Record<string, unknown>) => SchemaError[]>>;
  /**
   * Namespaces its delivery objects create, with the Pod Security level they label them with (the
   * PSS policy counts them as labelled), and findings about such objects that label none.
   */
  namespaceLevels?(file: ParsedFile, doc: ParsedDoc): { namespace?: string; level?: string; findings: Diagnostic[] };
}

/** Text the README sections of the core and of the distributions use about the engine. */
export interface EngineReadme {
  /** What one workload is delivered as, e.g. "Argo CD Application". */
  workloadDelivery: string;
  /** What an add-on is, with its article, e.g. "an Argo CD add-on". */
  addon: string;
}

/** Its fragment of the environment schema (generators/schema/compose.ts places each part). */
export interface EngineSchema {
  /** Its phrase in the description of `gitops`, e.g. "argocd: Applications under apps/ and argocd/". */
  summary: string;
  /** Properties it adds to the sync policy section (after the core's). */
  sync?: Record<string, JsonSchema>;
  /** What it says about the sync policy (appended to its description). */
  syncNote?: string;
}

/** Its environment rules, at fixed places among the core rules (see DistributionRules); they run for every environment. */
export interface EngineRules {
  /** After the distributions' version rules. */
  versions?: Rule;
  /** Last (rules across environments, e.g. hub mode). */
  fleet?: readonly Rule[];
}

export interface Engine {
  /** The `gitops` value, also its folder name. */
  readonly name: string;
  /** Product name in text, e.g. "Argo CD". */
  readonly title: string;
  /** Its own add-on in the catalog (the engine itself, installed by the bootstrap and then managing itself). */
  readonly addon: CatalogEntry;
  /** Whether it manages other environments' clusters (hub mode: `manages` in the sync policy section). */
  readonly hubMode: boolean;
  /** Its files under rendered/<env>/ (delivery objects and bootstrap). Pure. */
  render(model: EnvironmentModel): RenderedFile[];
  /** Its README sections (delivery, bootstrap runbook). */
  readme(model: EnvironmentModel, ctx: ReadmeContext): ReadmeSection[];
  readonly readmeText: EngineReadme;
  /** Env-relative path of the script that bootstraps the engine on a fresh cluster. */
  readonly bootstrapScript: string;
  readonly schema: EngineSchema;
  readonly rules: EngineRules;
  readonly checks: EngineChecks;
}
