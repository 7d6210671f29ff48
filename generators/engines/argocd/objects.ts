/**
 * Argo CD objects as typed models (@kubernetes-models/argo-cd), synthesized through cdk8s: one
 * cdk8s App per environment, charts without name hashes, explicit names.
 */
import { Application, AppProject } from './kinds.js';
import { syncWindows } from './freeze.js';
import { deliveryPlan } from '../../plan/index.js';
import { appWaves } from './waves.js';
import type { IApplication } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application';
import type { EnvironmentModel } from '../../model/types.js';
import type { ManifestIntent } from '../../plan/annotations.js';
import { PROJECTS, type AppSpec, type ProjectName } from './spec.js';
import { DNS1123_SUBDOMAIN_MAX } from '../../lib/k8s-names.js';

export const IN_CLUSTER = 'https://kubernetes.default.svc';
export const RESOURCES_FINALIZER = 'resources-finalizer.argocd.argoproj.io';
export const ROOT_APP = 'root';
export const VALUES_REF = 'values';
/** The project of the root Application (and of the catalog add-ons). */
export const PLATFORM_PROJECT: ProjectName = 'platform';
/**
 * A label we set on every Application (root included), so an operator can select this environment's
 * Applications (`argocd app list -l …`) whatever tracking method Argo CD uses: Argo CD 3.x tracks
 * resources by annotation, so the instance label of older runbooks is not set.
 */
export const ENVIRONMENT_LABEL = 'odp.opendev.dev/environment';
export const SYNC_WAVE = 'argocd.argoproj.io/sync-wave';
/** With manual syncs: the wave the runbook syncs an Application in (README, "Manual sync"). */
export const MANUAL_WAVE = 'odp.opendev.dev/manual-sync-wave';
const COMPARE_OPTIONS = 'argocd.argoproj.io/compare-options';

/**
 * An Application adopting a release the bootstrap installed with `helm upgrade --install`: the fields
 * Helm 3 wrote (client-side, operation Update, manager = the binary's name: helm/helm pkg/kube/client.go
 * getManagedFieldsManager, filepath.Base(os.Args[0])) are handed to Argo CD's server-side apply manager
 * `argocd-controller` before its first apply, so a field later dropped from Git is removed instead of
 * staying owned by `helm`. argo-cd v3.4.4: the annotation on the Application names the manager to migrate
 * (common/common.go:218-219, controller/sync.go:246-250; since v3.1.0), and the migration runs only with
 * ServerSideApply=true (gitops-engine/pkg/sync/sync_context.go:1390-1397; only managedFields entries
 * with operation Update: :1292-1297). Hence server-side apply for every adopted release. Helm 4 applies
 * server-side (operation Apply): nothing to migrate, Argo CD forces the conflicts.
 */
export const HELM_MIGRATION = { annotation: 'argocd.argoproj.io/client-side-apply-migration-manager', manager: 'helm' } as const;
const SYNC_OPTIONS = 'argocd.argoproj.io/sync-options';

/**
 * What an object inside an Application's sources asks, as Argo CD annotations: its sync wave within
 * the Application; SkipDryRunOnMissingResource (its CRD comes with the chart of the same sync);
 * Delete=false (Argo CD keeps it when the Application is deleted with cascade).
 */
export function manifestAnnotations(intent: ManifestIntent): Record<string, string> {
  const options = [...(intent.crdLater ? ['SkipDryRunOnMissingResource=true'] : []), ...(intent.keep ? ['Delete=false'] : [])];
  return { ...(intent.order !== undefined ? { [SYNC_WAVE]: String(intent.order) } : {}), ...(options.length > 0 ? { [SYNC_OPTIONS]: options.join(',') } : {}) };
}

/**
 * The annotations of the root's own objects that are neither Applications nor AppProjects (its ServiceMonitor, PodMonitor
 * and PrometheusRules, a hub's cluster ExternalSecrets): the last wave, without a dry run while the CRD an Application of
 * an earlier wave brings does not exist yet (waves.ts rootObjectNeeds). With manual syncs the wave is the runbook's
 * (MANUAL_WAVE, as the Applications'), never a sync-wave: one would make the root's sync multi-step (argo-cd v3.4.4
 * gitops-engine/pkg/sync/sync_tasks.go:274-276), and a multi-step sync keeps every task of an earlier wave running until
 * it is Healthy (sync_context.go:562-583, 688-697) — each Application, which a manual one is not until synced by hand,
 * and the root itself. The runbook syncs the root without them first and whole at the end (./readme.ts).
 */
export function rootObjectAnnotations(model: EnvironmentModel): Record<string, string> {
  const last = appWaves(model).last;
  return model.sync.automated ? manifestAnnotations({ order: last, crdLater: true }) : { ...manifestAnnotations({ crdLater: true }), [MANUAL_WAVE]: String(last) };
}

/** Paths inside the repository for one environment. */
export const repoPaths = (m: EnvironmentModel) => ({
  apps: `${m.renderedDir}/apps`,
  argocd: `${m.renderedDir}/argocd`,
  values: (name: string) => `${m.renderedDir}/values/${name}.yaml`,
  manifests: (name: string) => `${m.renderedDir}/manifests/${name}`,
});

export interface ArgoContext {
  model: EnvironmentModel;
  /** Namespace Argo CD runs in (a managed environment: the hub's). */
  argoNamespace: string;
  /** Prefix of Application and AppProject names: '' alone, `<env>-` when a hub manages the environment (names unique across the hub). */
  prefix: string;
  /** Where the Applications deploy: in-cluster alone, the cluster by name (the hub's cluster Secret) when managed. */
  destination: { server: string } | { name: string };
}

/** The name of the Application of unit `name` (prefixed when a hub manages the environment). */
export const applicationName = (ctx: Pick<ArgoContext, 'prefix'>, name: string): string => `${ctx.prefix}${name}`;

/**
 * The longest Application name: an object name's 253 characters (a DNS subdomain; the Application CRD adds no limit).
 * No label carries it: Argo CD 3 tracks what an Application applies by the annotation argocd.argoproj.io/tracking-id
 * unless argocd-cm sets application.resourceTrackingMethod (argo-cd v3.4.4 util/settings/settings.go:869-878: the
 * annotation when unset; util/argo/resource_tracking.go:170-190: the app-instance label only with `label` or
 * `annotation+label`), which this repository never sets. A release keeps its own name (helm.releaseName, below).
 */
export const APPLICATION_NAME = {
  max: DNS1123_SUBDOMAIN_MAX,
  why: 'an Application name is an object name (a DNS subdomain of at most 253 characters); Argo CD tracks what it applies by annotation, so the name is no label value',
} as const;

/** The hub's cluster Secret names the cluster after the environment's cluster.name (fleet.yaml). */
export const destinationOf = (m: EnvironmentModel): ArgoContext['destination'] => (m.fleet.hub ? { name: m.cluster.name } : { server: IN_CLUSTER });

/**
 * How a failed sync is retried: without limit, every 5 minutes at most. A sync fails when a task of a wave it
 * waits on turns Degraded (argo-cd v3.4.4 gitops-engine/pkg/sync/sync_context.go:547-551), e.g. a Deployment past
 * its progress deadline (gitops-engine/pkg/health/health_deployment.go:39-43) because the pool its pods are pinned
 * to (aws.iam.controllersPool, the GPU pool) has not joined yet: the root's wave of that Application fails. A
 * failed operation is retried while `RetryCount < limit || limit < 0` (controller/appcontroller.go:1537-1551), after
 * `duration × factor^n` capped at maxDuration (pkg/apis/application/v1alpha1/types.go:1534-1563); once spent,
 * automated sync never tries the same revision again ("failed previous sync attempt … will not retry",
 * appcontroller.go:2251-2258), even after the pool joined: a finite limit (it was 5, ~5 minutes of retries)
 * left a first sync whose pool joined late failed until the next commit. Still bounded by the controller's sync timeout
 * (addons/argo-cd.ts SYNC_TIMEOUT_SECONDS, from the operation's start, retries included: appcontroller.go:1460-1465).
 * `refresh: true`: each retry syncs the latest revision (appcontroller.go:1483-1488). Without it, a retrying operation
 * keeps re-syncing the revision that failed, and automated sync starts nothing else while it runs (app.Operation stays
 * set until the phase completes, :1592-1604; "Skipping auto-sync: another operation is in progress", :2194-2196): with
 * no limit, a broken commit would hold the fix pushed after it until the sync timeout ends the operation (an hour).
 */
export const RETRY = { limit: -1, backoff: { duration: '10s', factor: 2, maxDuration: '5m' }, refresh: true };

function syncPolicy(ctx: ArgoContext, options: string[], namespaceLabels?: Record<string, string>): NonNullable<IApplication['spec']['syncPolicy']> {
  const a = ctx.model.sync;
  return {
    ...(a.automated ? { automated: { prune: a.prune, selfHeal: a.selfHeal } } : {}),
    syncOptions: options,
    ...(namespaceLabels ? { managedNamespaceMetadata: { labels: namespaceLabels } } : {}),
    retry: RETRY,
  };
}

/**
 * An Application source's repoURL for a chart: an `oci://` registry without its scheme. Argo CD treats a chart
 * source as Helm over OCI only when its repoURL has no host once parsed, i.e. no scheme (argo-cd v3.4.4
 * util/helm/client.go:438-446 IsHelmOciRepo, pkg/apis/application/v1alpha1/types.go:333-339 IsHelmOci,
 * reposerver/repository/repository.go:2832); `oci://host/path` with `chart` would be fetched as a classic
 * repository's index.yaml (util/helm/client.go getIndexURL).
 */
export const argoChartRepo = (repoURL: string): string => repoURL.replace(/^oci:\/\//, '');

export function applicationFor(ctx: ArgoContext, spec: AppSpec): Application {
  const { model } = ctx;
  const paths = repoPaths(model);
  const git = { repoURL: model.git.repoURL, targetRevision: model.git.targetRevision };
  const sources: NonNullable<IApplication['spec']['sources']> = [];
  if (spec.chart) {
    sources.push({
      repoURL: argoChartRepo(spec.chart.repoURL),
      chart: spec.chart.name,
      targetRevision: spec.chart.version,
      // The release keeps the unit's name, never the (prefixed) Application's: the repo server runs `helm template
      // --name-template <releaseName>` (argo-cd v3.4.4 reposerver/repository/repository.go:1230-1231, util/helm/cmd.go:412),
      // and Helm refuses a name over 53 characters (plan/types.ts HELM_RELEASE_NAME_MAX).
      helm: { releaseName: spec.name, valueFiles: [`$${VALUES_REF}/${paths.values(spec.name)}`] },
    });
    sources.push({ ...git, ref: VALUES_REF });
  }
  if (spec.manifests) sources.push({ ...git, path: paths.manifests(spec.name) });
  if (sources.length === 0) throw new Error(`Application '${spec.name}' has neither a chart nor manifests`);
  const ssa = spec.serverSideApply === true || spec.adoptsHelmRelease === true;
  const options = [...(spec.createNamespace === false ? [] : ['CreateNamespace=true']), ...(ssa ? ['ServerSideApply=true'] : [])];
  const annotations: Record<string, string> = {
    // The root applies Applications wave by wave and waits for each wave to be Healthy (gitops-engine
    // sync_context.go: a multi-step sync keeps a task running until Healthy or Degraded). With manual
    // syncs no child becomes Healthy until someone syncs it, so the root would wait forever: there the
    // root applies every Application at once and the runbook syncs them wave by wave.
    // With manual syncs, the wave the runbook syncs it in (nothing in Argo CD reads it; the runbook and
    // `npm run validate` do).
    ...(model.sync.automated ? { [SYNC_WAVE]: String(spec.syncWave) } : { [MANUAL_WAVE]: String(spec.syncWave) }),
    // Server-side apply alone diffs with the discontinued structured-merge diff (wrong for CRDs with
    // defaults); server-side diff (stable since Argo CD 3.1) dry-runs the apply instead.
    ...(ssa ? { [COMPARE_OPTIONS]: 'ServerSideDiff=true' } : {}),
    ...(spec.adoptsHelmRelease ? { [HELM_MIGRATION.annotation]: HELM_MIGRATION.manager } : {}),
  };
  return new Application({
    metadata: {
      name: applicationName(ctx, spec.name),
      namespace: ctx.argoNamespace,
      labels: { [ENVIRONMENT_LABEL]: model.name },
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      // Argo CD deletes an Application's resources only with this finalizer (cascading deletion).
      ...(spec.onDelete === 'orphan' ? {} : { finalizers: [RESOURCES_FINALIZER] }),
    },
    spec: {
      project: `${ctx.prefix}${spec.project}`,
      destination: { ...ctx.destination, namespace: spec.namespace },
      sources,
      // Fields something in the cluster sets after the apply (argo-cd v3.4.4 docs/user-guide/diffing.md: jsonPointers per group and kind).
      ...(spec.driftIgnore ? { ignoreDifferences: spec.driftIgnore.map((d) => ({ group: d.group, kind: d.kind, jsonPointers: d.paths })) } : {}),
      syncPolicy: syncPolicy(ctx, options, spec.namespaceLabels),
    },
  });
}

export function rootApplication(ctx: ArgoContext): Application {
  const { model } = ctx;
  const paths = repoPaths(model);
  const git = { repoURL: model.git.repoURL, targetRevision: model.git.targetRevision };
  return new Application({
    metadata: {
      name: ROOT_APP,
      namespace: ctx.argoNamespace,
      labels: { [ENVIRONMENT_LABEL]: model.name },
      // The root is a sync task of its own operation (in argocd/, its own source): in the last wave,
      // which is never waited on, its health (the aggregate of its children) gates nothing.
      ...(model.sync.automated ? { annotations: { [SYNC_WAVE]: String(appWaves(model).last) } } : {}),
      // No resources finalizer: deleting the root (kubectl delete) leaves its Applications and what they
      // deployed. `argocd app delete root` still cascades: the CLI's --cascade defaults to true and the
      // API server adds the finalizer itself (cmd/argocd/commands/app.go:1788-1789,
      // server/application/application.go:1170-1183, argo-cd v3.4.4).
    },
    spec: {
      project: PLATFORM_PROJECT,
      destination: { server: IN_CLUSTER, namespace: ctx.argoNamespace },
      // The Applications, plus this directory (AppProject and this Application) so both stay managed.
      sources: [
        { ...git, path: paths.apps },
        { ...git, path: paths.argocd },
      ],
      syncPolicy: syncPolicy(ctx, []),
    },
  });
}

const groupKind = (gk: string): { group: string; kind: string } => {
  const i = gk.lastIndexOf('/');
  return { group: gk.slice(0, i), kind: gk.slice(i + 1) };
};

const DESCRIPTIONS: Record<ProjectName, string> = {
  platform: 'The root Application and the catalog add-ons; the only project that writes to the Argo CD namespace',
  'third-party': "Third-party charts of the environment: their namespaces and the cluster-scoped kinds they declare",
  workloads: 'Team workloads: their namespaces only',
};

/**
 * One AppProject per project that has Applications: source repositories, destination namespaces and
 * cluster-scoped kinds are exactly those its Applications use, so a workload or a third-party chart
 * cannot write AppProjects, Applications or cluster Secrets into Argo CD's namespace, nor RBAC or
 * webhooks it did not declare. The platform project holds the root Application, so it also lists
 * Argo CD's namespace.
 */
export interface ProjectScope {
  name: ProjectName;
  /** What the project is for (README; spec.description is not in the typed AppProject model the validator uses). */
  description: string;
  /** Application names (the platform project: root first). */
  apps: string[];
  /** Source repositories: this repository first, then chart repositories, sorted. */
  sourceRepos: string[];
  /** Destination namespaces, sorted. */
  namespaces: string[];
  /** Cluster-scoped kinds as group/Kind, sorted. */
  clusterResources: string[];
}

/** What each project (with Applications; platform always) allows, derived from its Applications. */
export function projectScopes(ctx: ArgoContext, specs: readonly AppSpec[]): ProjectScope[] {
  const { model } = ctx;
  return PROJECTS.flatMap((name) => {
    const members = specs.filter((s) => s.project === name);
    // The root Application of a managed environment lives in the hub (its ApplicationSet's project).
    const platform = name === PLATFORM_PROJECT && !model.fleet.hub;
    if (members.length === 0 && name === PLATFORM_PROJECT && model.fleet.hub) return [];
    if (members.length === 0 && !platform) return [];
    const repos = new Set<string>(members.flatMap((s) => (s.chart ? [argoChartRepo(s.chart.repoURL)] : [])));
    repos.delete(model.git.repoURL);
    const namespaces = new Set<string>([...(platform ? [ctx.argoNamespace] : []), ...members.flatMap((s) => [s.namespace, ...(s.extraNamespaces ?? [])])]);
    // CreateNamespace=true creates the destination Namespace: Argo CD checks that kind against the project.
    const kinds = new Set<string>([...members.flatMap((s) => (s.createNamespace === false ? [] : ['/Namespace'])), ...members.flatMap((s) => s.clusterResources)]);
    return [
      {
        name,
        // A hub's managed roots are in its `fleet` project (hub.ts), which writes Applications and AppProjects there too.
        description: name === PLATFORM_PROJECT && model.fleet.manages.length > 0 ? "The root Application and the catalog add-ons; with the `fleet` project (the managed environments' roots: Applications and AppProjects only), the only project that writes to the Argo CD namespace" : DESCRIPTIONS[name],
        apps: [...(platform ? [ROOT_APP] : []), ...members.map((s) => s.name)],
        sourceRepos: [model.git.repoURL, ...[...repos].sort()],
        namespaces: [...namespaces].sort(),
        clusterResources: [...kinds].sort(),
      },
    ];
  });
}

export function appProjects(ctx: ArgoContext, specs: readonly AppSpec[]): AppProject[] {
  // A managed environment's root (created by the hub) creates its AppProjects together with its
  // Applications: an Application whose project does not exist yet has health Unknown, and a root
  // waiting for it would never reach the project's wave. So the projects go one wave before the first
  // Application. (A standalone environment's bootstrap applies them before its root exists.)
  const first = appWaves(ctx.model).first;
  const annotations = ctx.model.fleet.hub ? { annotations: { [SYNC_WAVE]: String(first - 1) } } : {};
  return projectScopes(ctx, specs).map(
    (p) =>
      new AppProject({
        metadata: { name: `${ctx.prefix}${p.name}`, namespace: ctx.argoNamespace, labels: { [ENVIRONMENT_LABEL]: ctx.model.name }, ...annotations },
        spec: {
          sourceRepos: p.sourceRepos,
          destinations: p.namespaces.map((namespace) => ({ ...ctx.destination, namespace })),
          clusterResourceWhitelist: p.clusterResources.map(groupKind),
          // Tenants never write a namespaced SecretStore: one without auth reads SSM with the External
          // Secrets controller's identity (research/day2.md §14d). The catalog turns the kind off
          // (processSecretStore: false, no CRD); this holds where an environment turns it back on.
          ...(p.name === PLATFORM_PROJECT ? {} : { namespaceResourceBlacklist: [{ group: 'external-secrets.io', kind: 'SecretStore' }] }),
          ...(ctx.model.freeze.length > 0 ? { syncWindows: syncWindows(ctx.model.freeze, p.apps.map((a) => applicationName(ctx, a))) } : {}),
        },
      }),
  );
}

export { synthesize } from '../../lib/synth.js';
