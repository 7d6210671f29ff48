/**
 * Argo CD's fragment of the environment schema (composed by generators/schema/compose.ts into
 * schemas/environment.schema.json): its `gitops` phrase and hub mode (`manages` in the sync policy).
 */
import type { EngineSchema } from '../types.js';

export const ARGOCD_SCHEMA: EngineSchema = {
  summary: 'argocd: Applications under apps/ and argocd/',
  sync: { manages: {
    "type": "array",
    "uniqueItems": true,
    "minItems": 1,
    "description": "Hub mode (gitops: argocd): the environments this environment's Argo CD manages. The hub renders one ApplicationSet creating each one's root Application and an ExternalSecret per cluster for its Argo CD cluster Secret; a managed environment renders no Argo CD of its own.",
    "items": {
      "type": "string"
    }
  } },
};
