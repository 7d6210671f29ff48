/**
 * Flux's fragment of the environment schema (composed by generators/schema/compose.ts into
 * schemas/environment.schema.json): its `gitops` phrase and how it reads the sync policy.
 */
import type { EngineSchema } from '../types.js';
import { SYNC_POLICY_KEY } from '../registry.js';

/** Top-level keys a Flux user writes for its sync policy, which lives under the engines' shared key (SYNC_POLICY_KEY). */
const FLUX_KEYS = ['flux', 'fluxcd'];
const SYNC_KEYS = ['automated', 'prune', 'selfHeal'];

export const FLUX_SCHEMA: EngineSchema = {
  summary: 'flux: the Flux Operator, a FluxInstance and Flux Kustomizations/HelmReleases under flux/',
  syncNote:
    "With gitops: flux, automated: false renders every Flux Kustomization suspended (an operator resumes each, in order), prune maps to the Kustomizations' prune, selfHeal to the HelmReleases' drift detection (enabled, or warn).",
  keyHint: (key, value) => {
    if (!FLUX_KEYS.includes(key)) return undefined;
    const written = value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.entries(value).filter(([k, v]) => SYNC_KEYS.includes(k) && typeof v !== 'object') : [];
    const example = written.length > 0 ? written.map(([k, v]) => `${k}: ${String(v)}`).join(', ') : SYNC_KEYS.map((k) => `${k}: …`).join(', ');
    return `Flux's sync policy (${SYNC_KEYS.join(', ')}) is written under ${SYNC_POLICY_KEY}:, the one key every engine reads (named after the first engine): write ${SYNC_POLICY_KEY}: { ${example} }, with gitops: flux choosing the engine`;
  },
};
