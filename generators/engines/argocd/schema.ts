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
  },
  decommission: {
    "type": "array",
    "uniqueItems": true,
    "minItems": 1,
    "description": "Hub mode: managed environments being let go. An environment moves here from manages: the ApplicationSet stops generating its root (which it never deletes), the hub keeps its cluster Secret, and it still renders as managed, so rendered/<env>/argocd/decommission.sh can remove its Applications before its root (README of the hub, \"Decommission a managed environment\"). Remove it from this list once the script ran.",
    "items": {
      "type": "string"
    }
  },
  rollingSync: {
    "type": "object",
    "additionalProperties": false,
    "description": "Hub mode, opt-in: the ApplicationSet rolls the managed environments' roots in stages of their promotion chain (promotion.from among the managed environments; Argo CD progressive sync, RollingSync). The ApplicationSet controller then syncs the roots itself (their automated sync is removed) and each stage waits for the previous one to be Healthy and Synced; the hub's Argo CD gets applicationsetcontroller.enable.progressive.syncs. It gates changes to the Applications (chart versions, sources), not to values files or manifests, which the Applications read directly.",
    "properties": {
      "maxUpdate": {
        "description": "Roots of one stage synced at a time: a number, or a percentage such as \"50%\" (default: the whole stage).",
        "oneOf": [
          { "type": "integer", "minimum": 1 },
          { "type": "string", "pattern": "^[1-9][0-9]?%$|^100%$" }
        ]
      }
    }
  } },
};
