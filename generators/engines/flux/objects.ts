/**
 * Flux objects for the units of the delivery plan, as plain data. Every field is checked against
 * the pinned upstream CRDs (../shared/upstream/crds/flux/v2.9.0/ and
 * ../shared/upstream/crds/flux-operator/v0.58.1/; see its SOURCES.md) and validated by
 * `npm run validate` with @kubernetes-models/flux-cd (generators/validate/k8s-models.ts) and the
 * FluxInstance checker (./checks.ts).
 *
 * Placement (multitenancy lockdown, FluxInstance spec.cluster.multitenant: true: the operator runs
 * kustomize-controller and helm-controller with --no-cross-namespace-refs and a default service
 * account, fluxcd.io docs "Multi-tenancy lockdown"):
 * - every Flux Kustomization lives in flux-system and reads the GitRepository `flux-system` the
 *   FluxInstance creates there (spec.sync.name defaults to the namespace's name, CRD description);
 * - a platform add-on's HelmRelease, chart source and values ConfigMap live in flux-system too
 *   (the platform's own namespace, as every engine keeps its platform objects), releasing into the add-on's
 *   namespace (targetNamespace) with the Helm storage there (storageNamespace), where the bootstrap's
 *   `helm --namespace` put it: same release name, same storage, so the release is adopted;
 * - a third-party chart's objects live in its own namespace and its HelmRelease impersonates that
 *   namespace's `flux-third-party` ServiceAccount, which may write that namespace and the cluster
 *   kinds the environment declares for it, nothing else (the third-party tenant's scope);
 * - a workload's Kustomization impersonates the ServiceAccount `tenant-<namespace>` (flux-system),
 *   bound to its namespace only (the workload tenant's scope).
 * No object refers to another namespace's object.
 */
import { FLUX_OPERATOR_VERSION, GIT_CREDENTIALS_SECRET } from './addons/flux-operator.js';
import type { K8sObject } from '../../catalog/types.js';
import { LABEL_VALUE_MAX } from '../../lib/k8s-names.js';
import type { EnvironmentModel } from '../../model/types.js';
import { isOciChart, type DeliveryUnit } from '../../plan/types.js';
import { resolveAddons } from '../../catalog/resolve.js';
import { imdsDeniedNamespaces, imdsDenyPolicy } from '../../catalog/network-policies.js';
import { KUSTOMIZATION_TIMEOUT, RELEASE_TIMEOUT, timeoutMinutesFor } from './timeouts.js';

/**
 * The Flux distribution the FluxInstance pins (the CRDs under ../shared/upstream/crds/flux/v2.9.0;
 * fluxcd/flux2 tag v2.9.0, 2026-06-30). The pinned operator (./addons/flux-operator.ts, v0.58.1)
 * embeds it (flux-operator v0.58.1 config/data/flux/v2.9.0/) and, since v0.54.0, only elects versions
 * it embeds, also from an artifact (commit 79a3905, internal/builder/semver.go:90 MatchVersionWithEmbedded).
 */
export const FLUX_VERSION = '2.9.0';
/** The oldest Kubernetes minor FLUX_VERSION supports (fluxcd/flux2 v2.9.0 cmd/flux/check.go kubernetesConstraints ">=1.33.0-0"). */
export const FLUX_KUBERNETES_MIN = '1.33';
/** Where the Flux controllers pull their images from (FluxInstance spec.distribution.registry; the upstream distribution). */
export const FLUX_REGISTRY = 'ghcr.io/fluxcd';
/**
 * The operator's distribution manifests (spec.distribution.artifact, pattern ^oci://.*$), pinned to the
 * pinned operator's release tag. Each release pushes `flux-operator-manifests:<tag>` and then re-tags
 * it `latest` (flux-operator v0.58.1 .github/workflows/release.yaml:143-153): `:latest`, which a URL
 * without a tag means (crane.Pull, internal/builder/pull.go:19-22), moves with every release, and the
 * operator re-checks its digest every 10m (fluxinstance_artifact_controller.go:82-101). With the tag,
 * image-digest updates come only with an operator upgrade, reviewed in the pull request.
 */
export const FLUX_ARTIFACT = `oci://ghcr.io/controlplaneio-fluxcd/flux-operator-manifests:v${FLUX_OPERATOR_VERSION}`;
export const FLUX_NAMESPACE = 'flux-system';
/** The FluxInstance: the operator reconciles exactly one, named flux. */
export const FLUX_INSTANCE = 'flux';
/** GitRepository and root Kustomization the FluxInstance's sync creates (named after its namespace). */
export const FLUX_SOURCE = FLUX_NAMESPACE;
/** Secret with the repository's credentials (username/password for Git over HTTPS), from SSM (./addons/flux-operator.ts). */
export const GIT_SECRET = GIT_CREDENTIALS_SECRET;
/**
 * Controllers the platform needs: sources, kustomize overlays, Helm releases, and notifications (the
 * Alert to Alertmanager, fluxAlerts below) (spec.components enum, api/v1/fluxinstance_types.go:119).
 * notification-controller needs operator >= v0.53.0 with Flux 2.9: before it, the operator's patch of
 * the Alert/Receiver CRDs writes /spec/versions/1, which Flux 2.9's single-version CRDs lack, and the
 * build fails (v0.49.0 internal/builder/templates.go:411-426; v0.58.1 :469-481 guards it).
 */
export const FLUX_COMPONENTS = ['source-controller', 'kustomize-controller', 'helm-controller', 'notification-controller'];
/** The Kustomization delivering the Provider and Alert (fluxAlerts), with no dependency: it reports the first sync too. */
export const ALERTS_UNIT = 'flux-alerts';
/** The Provider's name (flux-system). */
export const ALERTMANAGER_PROVIDER = 'alertmanager';
/** The Kustomization delivering the add-ons' namespaces and tenant identities, before every add-on. */
export const PLATFORM_UNIT = 'platform-namespaces';
/** Label kustomize-controller reads to never prune (delete) an object (kustomize-controller docs, "Prune"). */
export const PRUNE_ANNOTATION = 'kustomize.toolkit.fluxcd.io/prune';
export const THIRD_PARTY_SA = 'flux-third-party';
export const tenantServiceAccount = (namespace: string): string => `tenant-${namespace}`;
/** The kustomize-controller / helm-controller ServiceAccounts (cluster-admin in the Flux distribution). */
const KUSTOMIZE_CONTROLLER = 'kustomize-controller';
const HELM_CONTROLLER = 'helm-controller';

const INTERVAL = '10m';
const RETRY_INTERVAL = '2m';
/** How often a failed release with the RetryOnFailure strategy is retried (helm-controller's default: 5m). */
const HELM_RETRY_INTERVAL = '5m';

/** Env-relative directories under flux/. */
export const fluxPaths = {
  root: 'flux',
  kustomization: (name: string) => `flux/kustomizations/${name}.yaml`,
  unit: (name: string) => `flux/units/${name}`,
};
export const manifestsUnitName = (name: string): string => `${name}-manifests`;
/**
 * The longest name of a Kustomization or HelmRelease here: a label value's 63 characters. kustomize-controller labels
 * every object a Kustomization applies `kustomize.toolkit.fluxcd.io/name: <Kustomization name>` (v1.9.1
 * internal/controller/kustomization_controller.go:462, fluxcd/pkg ssa/v0.76.1 ssa/manager.go:66-79 SetOwnerLabels),
 * helm-controller every object of a release `helm.toolkit.fluxcd.io/name: <HelmRelease name>` (v1.6.1
 * internal/postrender/build.go:48, common_renderer.go:78-83 originLabels), and the API server refuses a label value
 * over 63 characters (k8s.io/apimachinery pkg/util/validation IsValidLabelValue, LabelValueMaxLength).
 */
export const FLUX_UNIT_NAME = {
  max: LABEL_VALUE_MAX,
  why: 'kustomize-controller labels every object it applies kustomize.toolkit.fluxcd.io/name: <Kustomization name> (helm-controller: helm.toolkit.fluxcd.io/name: <HelmRelease name>), and the API server refuses a label value over 63 characters',
} as const;
/** The Kustomization of a chart's extra manifests the chart itself needs (applied before it). */
export const prerequisitesUnitName = (name: string): string => `${name}-prerequisites`;

/** Repository-relative path of an env-relative directory, as Flux's spec.path wants it. */
export const repoPath = (m: EnvironmentModel, envRelative: string): string => `./${m.renderedDir}/${envRelative}`;

/** The Git ref the FluxInstance syncs (spec.sync.ref: a Git ref name, e.g. refs/heads/main). */
export const gitRef = (revision: string): string => (revision.startsWith('refs/') ? revision : `refs/heads/${revision}`);

/**
 * The NetworkPolicy `cluster.networkPolicy: true` installs in flux-system that opens all egress:
 * `allow-egress`, podSelector {} and `egress: [{}]` (fluxcd/flux2 v2.9.0 manifests/policies/allow-egress.yaml:1-14,
 * listed by manifests/policies/kustomization.yaml; the operator adds policies.yaml when NetworkPolicy is set,
 * controlplaneio-fluxcd/flux-operator v0.58.1 internal/builder/templates.go:29-31, default true at options.go:57).
 * NetworkPolicies are additive, so that rule alone lets every flux-system pod reach the instance metadata
 * service beside odp-deny-imds: where flux-system carries the denial, the FluxInstance patches the rule to the
 * denial's own egress (spec.kustomize.patches, JSON6902: the operator appends them to the patches of the kustomization
 * that builds the distribution, flux-operator v0.58.1 internal/controller/fluxinstance_controller.go:415-416,
 * internal/builder/templates.go:164).
 */
export const FLUX_ALLOW_EGRESS_POLICY = 'allow-egress';

/** The FluxInstance's patches: allow-egress narrowed to the IMDS denial's egress where flux-system is denied IMDS. */
export function fluxInstancePatches(m: EnvironmentModel): { target: { group: string; version: string; kind: string; name: string }; patch: string }[] {
  if (!imdsDeniedNamespaces(resolveAddons(m)).has(FLUX_NAMESPACE)) return [];
  const egress = (imdsDenyPolicy(FLUX_NAMESPACE).spec as { egress: unknown }).egress;
  return [{ target: { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy', name: FLUX_ALLOW_EGRESS_POLICY }, patch: JSON.stringify([{ op: 'replace', path: '/spec/egress', value: egress }]) }];
}

export function fluxInstance(m: EnvironmentModel): K8sObject {
  const patches = fluxInstancePatches(m);
  return {
    apiVersion: 'fluxcd.controlplane.io/v1',
    kind: 'FluxInstance',
    metadata: { name: FLUX_INSTANCE, namespace: FLUX_NAMESPACE },
    spec: {
      // distribution.version: "semver expression"; an exact version pins it.
      distribution: { version: FLUX_VERSION, registry: FLUX_REGISTRY, artifact: FLUX_ARTIFACT },
      components: FLUX_COMPONENTS,
      cluster: {
        type: 'kubernetes',
        // The counterpart of AppProjects: no cross-namespace references, impersonation by default.
        multitenant: true,
        tenantDefaultServiceAccount: 'default',
        networkPolicy: true,
        domain: m.cluster.network.dnsDomain,
      },
      sync: {
        kind: 'GitRepository',
        url: m.git.repoURL,
        ref: gitRef(m.git.targetRevision),
        path: repoPath(m, fluxPaths.root),
        pullSecret: GIT_SECRET,
        interval: '5m',
      },
      ...(patches.length > 0 ? { kustomize: { patches } } : {}),
    },
  };
}

/** Where Alertmanager listens: kube-prometheus-stack's Service and port. */
export interface AlertmanagerTarget {
  /** The chart's release name (the Service is `<fullname>-alertmanager`, fullname = release name when it contains the chart name). */
  release: string;
  namespace: string;
}

/**
 * Provider (type alertmanager) and Alert (error events of every Kustomization and HelmRelease in
 * flux-system) for the environments with kube-prometheus-stack. notification-controller posts each
 * event as a firing alert labelled alertname=Flux<Kind><Reason>, severity, reason, kind, name,
 * namespace (fluxcd/notification-controller v1.9.1 docs/spec/v1beta3/providers.md:961-1023; Provider
 * and Alert are v1beta3 in Flux 2.9, api/v1beta3/provider_types.go:54,66).
 * Service: kube-prometheus-stack 88.5.3 templates/alertmanager/service.yaml:6,44 (`<fullname>-alertmanager`,
 * port values alertmanager.service.port 9093, plain HTTP) and _helpers.tpl:14-25 (fullname).
 * Namespace: everything lives in flux-system. `multitenant: true` gives notification-controller
 * --no-cross-namespace-refs (flux-operator v0.58.1 internal/builder/profiles.go, O12.7 of the research
 * notes): an Alert sees only its own namespace's objects and Provider, so third-party HelmReleases (in
 * their own namespaces) and workloads' own objects are not covered by this Alert.
 */
export function fluxAlerts(m: EnvironmentModel, am: AlertmanagerTarget): K8sObject[] {
  const release = am.release.slice(0, 26).replace(/-+$/, '');
  const host = `${release}-alertmanager.${am.namespace}.svc.${m.cluster.network.dnsDomain}`;
  return [
    {
      apiVersion: 'notification.toolkit.fluxcd.io/v1beta3',
      kind: 'Provider',
      metadata: { name: ALERTMANAGER_PROVIDER, namespace: FLUX_NAMESPACE },
      spec: { type: 'alertmanager', address: `http://${host}:9093/api/v2/alerts/` },
    },
    {
      apiVersion: 'notification.toolkit.fluxcd.io/v1beta3',
      kind: 'Alert',
      metadata: { name: 'flux-errors', namespace: FLUX_NAMESPACE },
      spec: {
        providerRef: { name: ALERTMANAGER_PROVIDER },
        eventSeverity: 'error',
        eventSources: [
          { kind: 'Kustomization', name: '*' },
          { kind: 'HelmRelease', name: '*' },
        ],
      },
    },
  ];
}

/**
 * Health of External Secrets objects under `wait: true`. kstatus alone counts them Current the moment
 * they exist: they have no status.observedGeneration, and the first poll is immediate (fluxcd/cli-utils
 * v1.2.1 pkg/kstatus/status/status.go:115-138, polling/engine/engine.go:157-168; ESO v2.9.0
 * apis/externalsecrets/v1/externalsecret_types.go status has no observedGeneration). healthCheckExprs
 * replace kstatus for the group (fluxcd/pkg runtime/v0.110.1 runtime/cel/status_evaluator.go:95-125;
 * kustomize-controller >= v1.5.0): a missing status is an evaluation error, Unknown, so the wait goes on;
 * Ready=True (and, for an ExternalSecret, synced at its current generation: syncedResourceVersion is
 * "<generation>-<hash>") is Current; Ready=False fails the unit. research/sync-semantics.md F9.3-F9.5.
 */
export const ESO_HEALTH_EXPRS = [
  {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ExternalSecret',
    current: "status.conditions.exists(c, c.type == 'Ready' && c.status == 'True') && status.syncedResourceVersion.startsWith(string(metadata.generation) + '-')",
    failed: "status.conditions.exists(c, c.type == 'Ready' && c.status == 'False')",
  },
  ...['ClusterSecretStore', 'SecretStore'].map((kind) => ({
    apiVersion: 'external-secrets.io/v1',
    kind,
    current: "status.conditions.exists(c, c.type == 'Ready' && c.status == 'True')",
    failed: "status.conditions.exists(c, c.type == 'Ready' && c.status == 'False')",
  })),
];
export const ESO_GROUP = 'external-secrets.io';

/** Flux Kustomization (kustomize.toolkit.fluxcd.io/v1) of one directory under flux/units/. */
export function kustomization(
  m: EnvironmentModel,
  o: { name: string; dir: string; dependsOn: string[]; serviceAccountName?: string; keep?: boolean; applies?: readonly string[]; kinds?: readonly string[] },
): K8sObject {
  return {
    apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
    kind: 'Kustomization',
    metadata: { name: o.name, namespace: FLUX_NAMESPACE },
    spec: {
      interval: INTERVAL,
      retryInterval: RETRY_INTERVAL,
      // As long as the kinds it applies need (./timeouts.ts KIND_WAITS): longer than a release it waits for, whose clock
      // starts once its chart is fetched; a few minutes for objects Current once they exist.
      timeout: o.kinds ? `${timeoutMinutesFor(o.kinds)}m` : KUSTOMIZATION_TIMEOUT,
      path: repoPath(m, o.dir),
      sourceRef: { kind: 'GitRepository', name: FLUX_SOURCE },
      prune: m.sync.prune,
      wait: true,
      ...(o.applies?.some((v) => v.startsWith(`${ESO_GROUP}/`)) ? { healthCheckExprs: ESO_HEALTH_EXPRS } : {}),
      serviceAccountName: o.serviceAccountName ?? KUSTOMIZE_CONTROLLER,
      ...(o.dependsOn.length > 0 ? { dependsOn: o.dependsOn.map((name) => ({ name })) } : {}),
      // Manual sync (the sync policy's automated: false): nothing is applied until an operator resumes it.
      ...(m.sync.automated ? {} : { suspend: true }),
      // deletionPolicy (enum MirrorPrune, Delete, WaitForTermination, Orphan): the engine's own delivery keeps its objects.
      ...(o.keep ? { deletionPolicy: 'Orphan' } : {}),
    },
  };
}

/** Where a unit's HelmRelease and chart source live (see the module comment). */
export const releaseNamespace = (u: DeliveryUnit): string => (u.tenant === 'platform' ? FLUX_NAMESPACE : u.namespace);
export const valuesConfigMap = (u: DeliveryUnit): string => `${u.name}-values`;

/** HelmRepository, or OCIRepository for an `oci://` chart: pinned exactly. */
export function chartSource(u: DeliveryUnit): K8sObject {
  const c = u.chart!.source;
  const metadata = { name: u.name, namespace: releaseNamespace(u) };
  if (isOciChart(c))
    return {
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'OCIRepository',
      metadata,
      // url: the chart's artifact; ref.tag: the exact chart version; layerSelector: the Helm chart layer.
      spec: {
        interval: INTERVAL,
        url: `${c.repoURL.replace(/\/$/, '')}/${c.name}`,
        ref: { tag: c.version },
        layerSelector: { mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', operation: 'copy' },
      },
    };
  return { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'HelmRepository', metadata, spec: { interval: INTERVAL, url: c.repoURL } };
}

/**
 * What helm-controller does when an install or upgrade fails. A chart owning CRDs: `RetryOnFailure`
 * (helm-controller v1.6.1 api/v2/helmrelease_types.go:544-548, 650-661, 1061-1071; since v1.4.0 = Flux
 * v2.7.0, commit 0325b55; the pinned Flux FLUX_VERSION ships v1.6.1, and every Flux the operator could
 * fall back to embeds >= v2.7.0): the failed release is retried as an upgrade every `retryInterval`, with
 * no remediation (internal/reconcile/atomic_release.go:471-513), because the remediations would take the
 * CRDs with them: an install is remediated by uninstalling, which deletes CRDs in the chart's templates
 * and every custom resource of them; a rollback does not roll CRDs back.
 *
 * Other charts, install: remediated (uninstalled) and retried without limit (`retries: -1`, "a negative integer
 * equals to unlimited retries", api/v2/helmrelease_types.go:695-699, RetriesExhausted :754-756). A first install
 * fails when its pods cannot schedule for `timeout` (the pool they are pinned to, e.g. aws.iam.controllersPool or
 * the GPU pool, has not joined yet); with a finite count the release is Stalled once the count is spent
 * (ErrExceededMaxRetries → reconcile.TerminalError, never requeued: atomic_release.go:396-402, 509-513, 203-207,
 * internal/controller/helmrelease_controller.go:442-446) until Git changes or an operator runs
 * `flux reconcile hr --reset`, so a pool joining an hour late left it failed for good. Not `RetryOnFailure` here:
 * its retry is an upgrade (atomic_release.go:471-479), and a failing upgrade falls to the upgrade's rollback
 * remediation, which has no release to roll back to (MissingRollbackTarget, Stalled as well).
 * Upgrade: 3 remediated retries (rollback to the last release that worked), then Stalled until Git changes: the
 * release keeps running its previous version.
 */
function failureHandling(ownsCrds: boolean, action: 'install' | 'upgrade'): Record<string, unknown> {
  if (ownsCrds) return { strategy: { name: 'RetryOnFailure', retryInterval: HELM_RETRY_INTERVAL } };
  return { remediation: { retries: action === 'install' ? INSTALL_RETRIES_UNLIMITED : UPGRADE_RETRIES } };
}
/** helm-controller's "unlimited retries" (api/v2/helmrelease_types.go:698). */
const INSTALL_RETRIES_UNLIMITED = -1;
const UPGRADE_RETRIES = 3;

export function helmRelease(m: EnvironmentModel, u: DeliveryUnit): K8sObject {
  const c = u.chart!.source;
  const namespace = releaseNamespace(u);
  const crds = u.clusterResources.includes('apiextensions.k8s.io/CustomResourceDefinition');
  const chart = isOciChart(c)
    ? { chartRef: { kind: 'OCIRepository', name: u.name } }
    : { chart: { spec: { chart: c.name, version: c.version, sourceRef: { kind: 'HelmRepository', name: u.name }, interval: INTERVAL } } };
  return {
    apiVersion: 'helm.toolkit.fluxcd.io/v2',
    kind: 'HelmRelease',
    metadata: { name: u.name, namespace, ...(u.onDelete === 'orphan' ? { annotations: { [PRUNE_ANNOTATION]: 'disabled' } } : {}) },
    spec: {
      interval: INTERVAL,
      timeout: RELEASE_TIMEOUT,
      ...chart,
      // Set, so never the default `<targetNamespace>-<name>` (helm-controller v1.6.1 api/v2/helmrelease_types.go:1550-1558
      // GetReleaseName), which helm-controller would shorten past 53 characters to 40 and a hash (internal/release/name.go:35-49
      // ShortenName, internal/action/install.go:88): a release other than the bootstrap's and the other engines'. The
      // CRD refuses a spec.releaseName over 53 (:82 MaxLength=53); rule helm-release-name refuses it first (HELM_RELEASE_NAME_MAX).
      releaseName: u.chart!.releaseName,
      targetNamespace: u.namespace,
      storageNamespace: u.namespace,
      serviceAccountName: u.tenant === 'platform' ? HELM_CONTROLLER : THIRD_PARTY_SA,
      install: {
        // CRDs from the chart's crds/ are created on install and replaced on upgrade (applied whole, like the chart's other objects).
        ...(crds ? { crds: 'Create' } : {}),
        ...(u.serverSideApply ? { serverSideApply: true } : {}),
        ...failureHandling(crds, 'install'),
      },
      upgrade: {
        ...(crds ? { crds: 'CreateReplace' } : {}),
        ...(u.serverSideApply ? { serverSideApply: 'enabled' } : {}),
        ...failureHandling(crds, 'upgrade'),
      },
      // The sync policy's selfHeal: drift is corrected (enabled) or only reported (warn).
      // ignore: fields something in the cluster sets after the install (helm-controller v1.6.1
      // api/v2/helmrelease_types.go:303-341: JSON pointers, target selector).
      driftDetection: {
        mode: m.sync.selfHeal ? 'enabled' : 'warn',
        ...(u.driftIgnore ? { ignore: u.driftIgnore.map((d) => ({ paths: d.paths, target: { group: d.group, kind: d.kind } })) } : {}),
      },
      valuesFrom: [{ kind: 'ConfigMap', name: valuesConfigMap(u), valuesKey: 'values.yaml' }],
    },
  };
}

/**
 * kustomize configuration making the configMapGenerator's hashed name reach HelmRelease
 * spec.valuesFrom (helm-controller docs, "Values references with Kustomize"): a values change is
 * a new ConfigMap name, hence a HelmRelease spec change and an upgrade.
 */
export const KUSTOMIZE_CONFIG = {
  nameReference: [{ kind: 'ConfigMap', version: 'v1', fieldSpecs: [{ path: 'spec/valuesFrom/name', kind: 'HelmRelease' }] }],
};

export function namespaceObject(name: string, level: string): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name,
      labels: { 'pod-security.kubernetes.io/enforce': level },
      // A namespace takes everything in it when deleted: never pruned (several units may share it).
      annotations: { [PRUNE_ANNOTATION]: 'disabled' },
    },
  };
}

/** Plural resource of a Kind for RBAC (ClusterRole → clusterroles, StorageClass → storageclasses). */
export const pluralOf = (kind: string): string => {
  const k = kind.toLowerCase();
  return k.endsWith('s') ? `${k}es` : k.endsWith('y') ? `${k.slice(0, -1)}ies` : `${k}s`;
};

const rbac = 'rbac.authorization.k8s.io/v1';

/** Everything namespaced in one namespace, for one subject (a tenant's identity). */
export function namespaceAdmin(name: string, namespace: string, subject: { name: string; namespace: string }): K8sObject[] {
  return [
    { apiVersion: rbac, kind: 'Role', metadata: { name, namespace }, rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] },
    {
      apiVersion: rbac,
      kind: 'RoleBinding',
      metadata: { name, namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', ...subject }],
    },
  ];
}

/** The cluster-scoped kinds a third-party chart declares, for its HelmRelease's identity. */
export function clusterKinds(name: string, kinds: readonly string[], subject: { name: string; namespace: string }): K8sObject[] {
  if (kinds.length === 0) return [];
  const byGroup = new Map<string, string[]>();
  for (const gk of kinds) {
    const i = gk.lastIndexOf('/');
    byGroup.set(gk.slice(0, i), [...(byGroup.get(gk.slice(0, i)) ?? []), pluralOf(gk.slice(i + 1))]);
  }
  return [
    {
      apiVersion: rbac,
      kind: 'ClusterRole',
      metadata: { name },
      rules: [...byGroup].sort(([a], [b]) => a.localeCompare(b)).map(([group, resources]) => ({ apiGroups: [group], resources: resources.sort(), verbs: ['*'] })),
    },
    {
      apiVersion: rbac,
      kind: 'ClusterRoleBinding',
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', ...subject }],
    },
  ];
}

export const serviceAccount = (name: string, namespace: string): K8sObject => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } });
