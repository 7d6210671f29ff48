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
 * Chart: ghcr.io/controlplaneio-fluxcd/charts/flux-operator 0.58.1 (chart version = operator tag; the
 * chart is published from controlplaneio-fluxcd/charts, whose snapshot here ends at 0.49.0), served
 * from an OCI registry only. Operator v0.58.1 (tag b3b3602, 2026-08-19) embeds the Flux distributions
 * v2.2.3 … v2.9.4 (its config/data/flux/, incl. v2.9.0, the pinned ../objects.ts FLUX_VERSION), has
 * "fix electing versions beyond supported" (commit 79a3905, first in v0.54.0: the version is elected
 * among the embedded ones only, internal/controller/fluxinstance_controller.go:330-342) and the
 * notification-controller CRD patch that fits Flux 2.9's single-version Alert/Receiver CRDs
 * (internal/builder/templates.go:469-481, since v0.53.0). Its CRDs are ../shared/upstream/crds/
 * flux-operator/v0.58.1. Values set below, unchanged since 0.49.0 (../shared/upstream/charts/
 * flux-operator/0.49.0/values.yaml): `installCRDs` (default true; the chart installs the FluxInstance
 * CRD, hence server-side apply like every CRD-shipping chart) and `web.enabled`; both still documented
 * at v0.58.1 (flux-operator docs/web/web-standalone.md:19-24 `web.enabled: false`, :29 and :69
 * `installCRDs`). No key table for 0.58.1 is committed (schemas/charts/): the chart data is not in the
 * snapshot, so `validate` does not check this entry's values against the chart.
 * The version is written literally in `chart` (Renovate's catalog regex reads it there) and exported from it.
 */
export const fluxOperator: CatalogEntry = {
  name: 'flux-operator',
  description: 'Flux Operator, installing Flux from the FluxInstance and managed by Flux after the bootstrap (same chart, same values file)',
  chart: { repoURL: 'oci://ghcr.io/controlplaneio-fluxcd/charts', name: 'flux-operator', version: '0.58.1' },
  // 0.58.1's Chart.yaml is in no snapshot here (controlplaneio-fluxcd/charts ends at 0.49.0, fc87d3b;
  // flux-operator's own tree at v0.58.1 has no chart): its record repeats 0.49.0's, which every
  // flux-operator chart from 0.2.0 to 0.49.0 on that repository's main declares, and says so.
  chartKubeVersions: {
    '0.49.0': { constraint: '>=1.22.0-0', source: 'controlplaneio-fluxcd/charts charts/flux-operator/Chart.yaml at fc87d3b (chart 0.49.0)' },
    '0.58.1': { constraint: '>=1.22.0-0', source: "0.49.0's Chart.yaml (controlplaneio-fluxcd/charts at fc87d3b); 0.58.1's is not in the snapshot" },
  },
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

/** The operator's release (its chart and manifests artifact share the version). */
export const FLUX_OPERATOR_VERSION: string = fluxOperator.chart!.version;
