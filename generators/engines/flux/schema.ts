/**
 * Flux's fragment of the environment schema (composed by generators/schema/compose.ts into
 * schemas/environment.schema.json): its `gitops` phrase and how it reads the sync policy.
 */
import type { EngineSchema } from '../types.js';

export const FLUX_SCHEMA: EngineSchema = {
  summary: 'flux: the Flux Operator, a FluxInstance and Flux Kustomizations/HelmReleases under flux/',
  syncNote:
    "With gitops: flux, automated: false renders every Flux Kustomization suspended (an operator resumes each, in order), prune maps to the Kustomizations' prune, selfHeal to the HelmReleases' drift detection (enabled, or warn).",
};
