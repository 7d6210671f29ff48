/**
 * Flux's own catalog add-on (data): the Flux Operator, which installs Flux from flux/flux-instance.yaml.
 */
import { CRD, RBAC, type CatalogEntry } from '../../../catalog/types.js';

/** Secret (namespace flux-system) the FluxInstance's sync reads the repository's credentials from. */
export const GIT_CREDENTIALS_SECRET = 'flux-system';

/**
 * The Flux Operator (environments with `gitops: flux`): the bootstrap installs this chart with helm,
 * then applies the rendered FluxInstance, from which the operator installs and upgrades the Flux
 * controllers; afterwards the `flux-operator` HelmRelease (same chart, same values file, release name
 * flux-operator) adopts the bootstrap's release, so Flux manages its own operator.
 *
 * Chart: ghcr.io/controlplaneio-fluxcd/charts/flux-operator 0.49.0 (../shared/upstream/charts/
 * flux-operator/0.49.0/Chart.yaml: version 0.49.0, appVersion v0.49.0), served from an OCI registry
 * only. values.yaml `installCRDs: true` (default): the chart installs the FluxInstance CRD, hence
 * server-side apply like every CRD-shipping chart. Operator v0.49.0 (2026-05-12) embeds the Flux
 * distributions up to v2.8.7 (its config/data/flux/); the pinned Flux 2.9.0 (../objects.ts
 * FLUX_VERSION) comes from the FluxInstance's distribution.artifact. v0.53.0 is the first operator
 * that embeds 2.9.0.
 */
export const fluxOperator: CatalogEntry = {
  name: 'flux-operator',
  description: 'Flux Operator, installing Flux from the FluxInstance and managed by Flux after the bootstrap (same chart, same values file)',
  chart: { repoURL: 'oci://ghcr.io/controlplaneio-fluxcd/charts', name: 'flux-operator', version: '0.49.0' },
  chartKubeVersion: { constraint: '>=1.22.0-0', source: 'controlplaneio-fluxcd/charts charts/flux-operator/Chart.yaml at fc87d3b (chart 0.49.0)' },
  namespace: 'flux-system',
  syncWave: -2,
  enabledByDefault: (m) => m.gitops === 'flux',
  condition: 'with gitops: flux',
  podSecurity: 'restricted', // values.yaml securityContext: runAsNonRoot, no privilege escalation, drop ALL, RuntimeDefault seccomp
  bootstrapOrder: 30,
  // orphan: the GitOps engine: deleting its own delivery must not uninstall Flux.
  onDelete: 'orphan',
  // The bootstrap creates the repository credentials first; they must survive the ExternalSecret (ESO and its CRDs going, a prune).
  secretsOutlive: true,
  clusterResources: [CRD, ...RBAC],
  // The repository's credentials for the FluxInstance's GitRepository (spec.sync.pullSecret; Git over
  // HTTPS: keys username and password). The bootstrap creates this Secret from the same SSM
  // parameters before External Secrets runs; then this ExternalSecret keeps it current. Never rendered.
  secrets: (ctx) => ({
    [GIT_CREDENTIALS_SECRET]: { username: { secret: `/odp/${ctx.model.name}/flux/git-username` }, password: { secret: `/odp/${ctx.model.name}/flux/git-password` } },
  }),
  values: () => ({
    // The chart installs and upgrades the FluxInstance/ResourceSet CRDs (values.yaml default, made explicit).
    installCRDs: true,
    // The status web UI (values.yaml web.enabled, default true) is not exposed here: one listener less.
    web: { enabled: false },
  }),
};
