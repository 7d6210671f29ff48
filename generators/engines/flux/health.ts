/**
 * Whether an environment's Flux objects have applied a revision and are healthy (npm run promote,
 * `promotion.requireHealthy`), read off the status the controllers write:
 * - Kustomization (fluxcd/kustomize-controller v1.9.1 api/v1/kustomization_types.go:344-369): `observedGeneration`,
 *   `conditions` (Ready), `lastAppliedRevision` — the applied artifact's revision, set just before Ready=True
 *   (internal/controller/kustomization_controller.go:533-540); a GitRepository's revision reads `<branch>@sha1:<sha>`
 *   (docs/spec/v1/kustomizations.md:78-89, "Applied revision: master@sha1:450796dd…").
 * - HelmRelease (fluxcd/helm-controller v1.6.1 api/v2/helmrelease_types.go:1287-1308): `observedGeneration`,
 *   `conditions` (Ready). Its status carries no Git revision (`lastAttemptedRevision`, :1361-1365, is its chart
 *   source's), so it is held to Ready=True at its current generation: the spec the Kustomization applied at the
 *   revision, reconciled.
 * Both kinds' `spec.suspend` (kustomization_types.go:152, helmrelease_types.go:77) makes the controller return before
 * reconciling (kustomization_controller.go:183-187, helmrelease_controller.go:197-201), its Ready condition left as it
 * was: a suspended object refuses. The cluster is the environment's own (Flux has no hub mode); every Kustomization reads the GitRepository
 * `flux-system` (./objects.ts FLUX_SOURCE), whose root Kustomization of the same name the FluxInstance's sync creates.
 */
import type { EngineHealth, ObservedObject } from '../types.js';
import { FLUX_NAMESPACE, FLUX_SOURCE } from './objects.js';

export const FLUX_HEALTH_SOURCE =
  'fluxcd/kustomize-controller v1.9.1 api/v1/kustomization_types.go:152, 344-369, internal/controller/kustomization_controller.go:533-540, docs/spec/v1/kustomizations.md:78-89; fluxcd/helm-controller v1.6.1 api/v2/helmrelease_types.go:77, 1287-1308, 1361-1365';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const rec = (v: unknown): Record<string, unknown> => (isRecord(v) ? v : {});

/** The commit of a GitRepository artifact's revision (`main@sha1:<sha>`, or `sha1:<sha>`), if it is one. */
export const gitRevisionSha = (revision: string): string | undefined => /(?:^|@)sha1:([0-9a-f]{40})$/.exec(revision)?.[1];

/** Ready=True at the current generation and not suspended, else what the controller says. */
function readiness(o: Record<string, unknown>): string[] {
  const meta = rec(o.metadata);
  const status = rec(o.status);
  const ready = (Array.isArray(status.conditions) ? status.conditions : []).map(rec).find((c) => c.type === 'Ready');
  const problems: string[] = [];
  // A suspended object is skipped by its controller (its Ready condition stays as it last was).
  if (rec(o.spec).suspend === true) problems.push('spec.suspend is true (suspended: its controller applies nothing)');
  if (!ready) problems.push('no Ready condition (never reconciled)');
  else if (ready.status !== 'True') problems.push(`Ready=${String(ready.status)} (${String(ready.reason)}: ${String(ready.message ?? '')})`);
  if (typeof meta.generation === 'number' && (typeof status.observedGeneration !== 'number' || status.observedGeneration < meta.generation))
    problems.push(`status.observedGeneration ${String(status.observedGeneration ?? 'not set')} < metadata.generation ${meta.generation} (not reconciled since its spec changed)`);
  return problems;
}

function observe(kind: string, o: Record<string, unknown>): ObservedObject {
  const meta = rec(o.metadata);
  const problems = readiness(o);
  const revisions: ObservedObject['revisions'] = [];
  const source = rec(rec(o.spec).sourceRef);
  if (kind === 'Kustomization' && source.kind === 'GitRepository' && source.name === FLUX_SOURCE) {
    const applied = rec(o.status).lastAppliedRevision;
    const sha = typeof applied === 'string' ? gitRevisionSha(applied) : undefined;
    if (sha) revisions.push({ sha, field: `status.lastAppliedRevision ${String(applied)}` });
    else problems.push(typeof applied === 'string' && applied !== '' ? `status.lastAppliedRevision ${applied} is not a Git commit (<branch>@sha1:<sha>)` : 'status.lastAppliedRevision is not set (never applied)');
  }
  return { name: `${kind} ${String(meta.namespace)}/${String(meta.name)}`, ...(problems.length > 0 ? { problem: problems.join(', ') } : {}), revisions };
}

export const fluxHealth: EngineHealth = {
  where: (m) => `${m.name}'s own cluster (its Kustomizations and HelmReleases, every namespace)`,
  queries: () => [{ resource: 'kustomizations.kustomize.toolkit.fluxcd.io' }, { resource: 'helmreleases.helm.toolkit.fluxcd.io' }],
  observe: (_m, items) => {
    const ks = (items[0] ?? []).filter(isRecord);
    const hrs = (items[1] ?? []).filter(isRecord);
    const hasRoot = ks.some((k) => rec(k.metadata).name === FLUX_SOURCE && rec(k.metadata).namespace === FLUX_NAMESPACE);
    return {
      objects: [...ks.map((k) => observe('Kustomization', k)), ...hrs.map((h) => observe('HelmRelease', h))],
      missing: hasRoot ? [] : [`Kustomization ${FLUX_NAMESPACE}/${FLUX_SOURCE} (the FluxInstance's sync)`],
    };
  },
  summary:
    'every Kustomization and HelmRelease (all namespaces), the root Kustomization flux-system among them: not suspended, Ready=True at its current generation, and each Kustomization reading the GitRepository flux-system with status.lastAppliedRevision (<branch>@sha1:<sha>) a descendant of the commit that introduced each version moved; a HelmRelease carries no Git revision',
  source: FLUX_HEALTH_SOURCE,
};
