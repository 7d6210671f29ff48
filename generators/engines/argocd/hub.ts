/**
 * Hub mode: one Argo CD (the hub) manages other environments' clusters.
 *
 * - Every managed environment renders rendered/<env>/fleet.yaml (environment, cluster name, API
 *   server, its rendered directory): the hub's ApplicationSet reads those files with a git files generator and
 *   creates each one's root Application (in the hub's `fleet` project, never templated), which syncs
 *   the environment's Applications and AppProjects into the hub's Argo CD namespace.
 * - The hub renders, per managed environment, an ExternalSecret creating the Argo CD cluster Secret
 *   (name, server, config) from SSM SecureStrings: the credentials are never rendered.
 */
import { ExternalSecret } from '../../lib/k8s-objects.js';
import type { DedicatedSecretStore } from '../../catalog/types.js';
import { toYaml } from '../../lib/yaml.js';
import type { EnvironmentModel } from '../../model/types.js';
import type { RenderedFile } from '../../render/types.js';
import { ENVIRONMENT_LABEL, IN_CLUSTER, RETRY, rootObjectAnnotations, SYNC_WAVE, type ArgoContext } from './objects.js';
import { AppProject } from './kinds.js';
import { appWaves } from './waves.js';
import { deliveryPlan } from '../../plan/index.js';
import { getAt, type DocPath } from '../../lib/paths.js';
import type { ResolvedEnvironment } from '../../load/loader.js';
import { closestSection, type SecretDependency } from '../../model/secrets.js';
import { SYNC_POLICY_KEY } from '../registry.js';

export const FLEET_FILE = 'fleet.yaml';
/** A managed environment's registration script (rendered by managed.ts), relative to its rendered directory. */
export const HUB_REGISTER_SCRIPT = 'argocd/bootstrap/register.sh';
/**
 * The AppProject of the managed environments' roots: they sync only Applications and AppProjects
 * (rendered/<env>/apps and argocd), into Argo CD's namespace of the hub's own cluster. A fleet file
 * cannot choose another project (the template's project is a literal), so a managed environment's
 * tree can write nothing else through its root — no cluster-scoped kind, no Secret, no workload.
 */
export const FLEET_PROJECT = 'fleet';
export const FLEET_PROJECT_PATH = `argocd/appproject-${FLEET_PROJECT}.yaml`;
/**
 * What the roots may write: an empty clusterResourceWhitelist allows no cluster-scoped kind, a
 * non-empty namespaceResourceWhitelist allows only the kinds it lists (argo-cd v3.4.4
 * docs/user-guide/projects.md, "Configuring Global Projects" / resource whitelists;
 * pkg/apis/application/v1alpha1/app_project_types.go IsGroupKindPermitted).
 */
export const FLEET_KINDS = [
  { group: 'argoproj.io', kind: 'Application' },
  { group: 'argoproj.io', kind: 'AppProject' },
] as const;
export const APPLICATION_SET_NAME = 'fleet';
export const APPLICATION_SET_PATH = `argocd/applicationset-${APPLICATION_SET_NAME}.yaml`;
/**
 * The environments a hub has a cluster Secret for: those it manages and those it is letting go
 * (`decommission`: no longer generated, but their Applications still need the cluster until the
 * decommission script removed them).
 */
export const registered = (m: EnvironmentModel): string[] => [...new Set([...m.fleet.manages, ...m.fleet.decommission])].sort();
/**
 * In apps/, which only the root syncs: the hub's bootstrap applies argocd/ before External Secrets'
 * CRDs exist, and kubectl would fail on the kind.
 */
export const clusterSecretPath = (env: string): string => `apps/cluster-${env}.yaml`;
/**
 * SSM parameters (under the hub's prefix, which its External Secrets role reads) of a managed cluster's Argo CD cluster Secret:
 * register.sh writes only `config` (SecureString). `name` and `server` (String) were written by registrations before the hub
 * pinned both from the managed file (pinnedCluster): nothing writes or reads them now, and decommission.sh forget still deletes
 * all three, so that an older registration leaves nothing behind.
 */
export const clusterSecretParameters = (hub: string, env: string): { name: string; server: string; config: string } => ({
  name: `/odp/${hub}/argocd/clusters/${env}/name`,
  server: `/odp/${hub}/argocd/clusters/${env}/server`,
  config: `/odp/${hub}/argocd/clusters/${env}/config`,
});
/** rendered/<env> of another environment: next to this one's. */
export const siblingDir = (m: EnvironmentModel, env: string): string => `${m.renderedDir.slice(0, -m.name.length)}${env}`;
const CLUSTER_SECRET_LABEL = 'argocd.argoproj.io/secret-type';

/** rendered/<env>/fleet.yaml of a managed environment: what the hub's ApplicationSet templates from. */
export function fleetFile(m: EnvironmentModel): RenderedFile {
  const doc = { environment: m.name, cluster: { name: m.cluster.name, server: m.cluster.endpoint }, renderedDir: m.renderedDir };
  return { path: FLEET_FILE, content: toYaml(doc), inputs: [['name'], ['cluster', 'name'], ['cluster', 'endpoint'], ['argocd']] };
}

/**
 * The cluster generator's label value: the directory of the fleet file (rendered/<env>), which is the environment's
 * name. From the git files generator's `path` parameter, which the generator sets after copying the file's keys, so a
 * fleet file cannot choose another environment's cluster (argo-cd v3.4.4 applicationset/generators/git.go:243-257).
 */
export const REGISTERED_SELECTOR_VALUE = '{{.path.basename}}';

/**
 * Why the ApplicationSet is a matrix (argoproj/argo-cd v3.4.4): a managed environment's root is generated only once the
 * hub has its cluster Secret, i.e. once the environment's bootstrap registered it (register.sh writes the SSM
 * parameters, the hub's ExternalSecret cluster-<env> creates the Secret labelled with the environment). Before, the
 * root's Applications would name a cluster the hub does not know: their sync and health Unknown
 * (controller/appcontroller.go:1784-1789), the root's first sync waiting at its first wave until the sync timeout.
 * - matrix.go:48-80: the second generator is evaluated once per element of the first, with that element's parameters,
 *   and each pair is merged (go templates: the first generator's parameters win, :60-68); no element of the second,
 *   no Application for that element; an empty parameter list is no error (only a generator that yields no result
 *   list at all is, :114-116);
 * - generator_spec_processor.go:56-68, 175-186: the second generator's fields are rendered as templates with the
 *   first's parameters (documented: docs/operator-manual/applicationset/Generators-Matrix.md:111-160, this very
 *   git files + cluster selector pairing);
 * - cluster.go:58-60, 165-187: with a non-empty selector the in-cluster entry is never yielded, and only Secrets in
 *   Argo CD's namespace labelled argocd.argoproj.io/secret-type=cluster and matching the selector are;
 * - clustereventhandler.go:31-45, 53-100: creating, changing or deleting a cluster Secret requeues every
 *   ApplicationSet with a cluster generator, nested in a matrix too: the root appears as soon as the Secret does;
 * - applicationset_controller.go:400-410: with nothing generated the ApplicationSet is ResourcesUpToDate, i.e.
 *   Healthy (resource_customizations/argoproj.io/ApplicationSet/health.lua), so the hub's own sync is not held;
 * - a Secret removed later generates nothing for that environment, but applicationsSync create-update never deletes
 *   the root (applicationset_controller.go:153-163, 355-357): it stays, as any root leaving the generator does.
 */
export const ROOT_WHEN_REGISTERED = {
  id: 'argocd.applicationset.root-when-registered',
  text: "a matrix of the git files generator and a cluster generator whose selector is rendered from the file's parameters yields a file's element only while a cluster Secret matches, and is re-evaluated when a cluster Secret appears",
  source: 'argoproj/argo-cd v3.4.4 applicationset/generators/matrix.go:48-80, cluster.go:58-60, 165-187, generator_spec_processor.go:56-68, controllers/clustereventhandler.go:53-100',
} as const;

export function applicationSet(ctx: ArgoContext): Record<string, unknown> {
  const { model } = ctx;
  const a = { ...model.sync, manages: model.fleet.manages };
  const git = { repoURL: model.git.repoURL, targetRevision: model.git.targetRevision };
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'ApplicationSet',
    // The last wave (with the root): nothing here needs the managed roots, so nothing waits for them.
    metadata: { name: APPLICATION_SET_NAME, namespace: ctx.argoNamespace, labels: { [ENVIRONMENT_LABEL]: model.name }, ...(model.sync.automated ? { annotations: { [SYNC_WAVE]: String(appWaves(model).last) } } : {}) },
    spec: {
      goTemplate: true,
      goTemplateOptions: ['missingkey=error'],
      generators: [
        {
          // A root only once its cluster is registered (ROOT_WHEN_REGISTERED): each fleet file (git files generator) times
          // the cluster Secrets labelled with its environment (cluster generator, its selector templated from the first).
          matrix: {
            generators: [
              { git: { repoURL: model.git.repoURL, revision: model.git.targetRevision, files: a.manages.map((env) => ({ path: `${siblingDir(model, env)}/${FLEET_FILE}` })) } },
              { clusters: { selector: { matchLabels: { [ENVIRONMENT_LABEL]: REGISTERED_SELECTOR_VALUE } } } },
            ],
          },
        },
      ],
      // Deleting the ApplicationSet (or an environment leaving it) must not uninstall a cluster; the
      // controller only creates and updates Applications, it never deletes one.
      syncPolicy: { preserveResourcesOnDeletion: true, applicationsSync: 'create-update' },
      ...(model.fleet.rollingSync ? { strategy: rollingSync(model) } : {}),
      template: {
        metadata: { name: '{{.environment}}-root', namespace: ctx.argoNamespace, labels: { [ENVIRONMENT_LABEL]: '{{.environment}}' } },
        spec: {
          // A literal: a templated project would let a fleet file choose its own permissions.
          project: FLEET_PROJECT,
          destination: { server: IN_CLUSTER, namespace: ctx.argoNamespace },
          sources: [
            // .path.path: the directory of the fleet file (the git files generator's own key), so a file cannot point elsewhere.
            { ...git, path: '{{.path.path}}/apps' },
            { ...git, path: '{{.path.path}}/argocd' },
          ],
          syncPolicy: {
            // With RollingSync the ApplicationSet controller syncs the roots itself and strips automated sync from them.
            ...(a.automated && !model.fleet.rollingSync ? { automated: { prune: a.prune, selfHeal: a.selfHeal } } : {}),
            retry: RETRY,
          },
        },
      },
    },
  };
}

/**
 * RollingSync (argocd.rollingSync, opt-in): one step per stage of the managed environments' promotion
 * chain (model/fleet.ts promotionStages: an environment promoted from another managed one comes after it),
 * each selecting its roots by the environment label the template sets — computed here, so a fleet file
 * cannot choose its own stage. Upstream (argoproj/argo-cd v3.4.4; sync-semantics.md A5.4): active only with
 * applicationsetcontroller.enable.progressive.syncs and non-empty steps
 * (applicationset/controllers/applicationset_controller.go:1112-1120, 1613-1616); the controller removes
 * automated sync from the generated Applications and syncs them itself (:1264-1270); a step is done when
 * every Application of it is Healthy and Synced.
 */
export function rollingSync(model: EnvironmentModel): Record<string, unknown> {
  const byStage = new Map<number, string[]>();
  for (const env of model.fleet.manages) {
    const s = model.fleet.stages[env] ?? 0;
    byStage.set(s, [...(byStage.get(s) ?? []), env]);
  }
  const maxUpdate = model.fleet.rollingSync?.maxUpdate;
  return {
    type: 'RollingSync',
    rollingSync: {
      steps: [...byStage.entries()]
        .sort(([a], [b]) => a - b)
        .map(([, envs]) => ({ matchExpressions: [{ key: ENVIRONMENT_LABEL, operator: 'In', values: [...envs].sort() }], ...(maxUpdate !== undefined ? { maxUpdate } : {}) })),
    },
  };
}

/**
 * The name and server of a managed cluster's Secret, pinned from the managed environment's file (model/fleet.ts
 * fleetClusters): its cluster.name, and its cluster.endpoint as written or as locked. A hub that passes validation has
 * both for every registered environment (argocd-manages-unknown refuses an environment with no file,
 * argocd-managed-endpoint-unlocked an { ssm } endpoint without its lock, and the schema requires cluster.name and
 * cluster.endpoint), so the cluster Secret never takes them from SSM: only its config (token and CA) comes from there.
 */
export const pinnedCluster = (m: EnvironmentModel, env: string): { name: string; server: string } => {
  const { name, server } = m.fleet.clusters[env] ?? {};
  if (name === undefined || server === undefined) throw new Error(`internal: the hub ${m.name} has no pinned cluster name and server for ${env} (validation should have refused it)`);
  return { name, server };
};

/** Days before the hub's token of a managed cluster expires that its ExternalSecret turns not Ready (expiryCheck). */
export const HUB_TOKEN_WARNING_DAYS = 14;

/**
 * The cluster Secret's `config`, passed through verbatim, behind a check of the token's expiry that the hub can see:
 * register.sh stores the TokenRequest's `status.expirationTimestamp` (UTC, RFC 3339) as `expiresAt` in the config; from
 * HUB_TOKEN_WARNING_DAYS before it, the template fails, so External Secrets keeps the Secret as it is (the token still
 * works) and marks the ExternalSecret Ready=False, reason SecretSyncedError, with this message; Argo CD shows it Degraded
 * (argo-cd v3.4.4 resource_customizations/external-secrets.io/ExternalSecret/health.lua), and so the hub's root.
 * Upstream (external-secrets v2.9.0): the template runs at every refresh (refreshInterval), inside the Secret's mutation:
 * an error stops the update and marks the ExternalSecret failed (pkg/controllers/externalsecret/externalsecret_controller.go
 * :460-498, 519-535, 580-583, updateSecret :947-965); its functions (runtime/template/v2/sprig/functions.go):
 * fromJson (json.Unmarshal, nil on an error: defaults.go:70-79), kindIs, hasKey, get, now (time.Now), dateModify
 * (time.ParseDuration: date.go:45-51), dateInZone (:20-44), fail (:278). The two times compare as text: both UTC,
 * fixed width. A config without expiresAt (a registration before it) or not JSON passes unchecked.
 * The check is here, not in a PrometheusRule on expiresAt: kube-state-metrics exports a Secret's annotations as label values
 * only (kube_secret_annotations, value 1), which PromQL cannot compare with time(), and its custom-resource metrics read
 * only CRD-served kinds (a group is required: kube-state-metrics internal/discovery/discovery.go:188-194). The alert reads
 * the condition this check sets, from External Secrets' own metric (fleet-alerts.ts FLEET_TOKEN_ALERT).
 */
export function expiryCheck(env: string, register: string): string {
  const message = `the hub's token for ${env} expires within ${HUB_TOKEN_WARNING_DAYS} days (expiresAt in its config): run ${register} with ${env}'s kubeconfig to rotate it`;
  const limit = `(dateInZone "2006-01-02T15:04:05Z" (now | dateModify "+${HUB_TOKEN_WARNING_DAYS * 24}h") "UTC")`;
  return `{{ $c := fromJson .config }}{{ if kindIs "map" $c }}{{ if hasKey $c "expiresAt" }}{{ if kindIs "string" (get $c "expiresAt") }}{{ if lt (get $c "expiresAt") ${limit} }}{{ fail ${JSON.stringify(message)} }}{{ end }}{{ end }}{{ end }}{{ end }}{{ .config }}`;
}

/** The API group of the cluster ExternalSecrets: a manual hub's first root sync leaves it out (./readme.ts). */
export const CLUSTER_SECRET_GROUP = 'external-secrets.io';

/** The ExternalSecret creating a managed cluster's Argo CD cluster Secret from SSM. */
export function clusterSecret(ctx: ArgoContext, env: string): Record<string, unknown> {
  const name = `cluster-${env}`;
  const keys = clusterSecretParameters(ctx.model.name, env);
  // The last wave of the hub's root (with manual syncs the runbook's, ./objects.ts rootObjectAnnotations): until a
  // managed cluster has run its bootstrap its parameters do not exist and the ExternalSecret is Degraded, which fails
  // the wave it is in; after every other wave, the hub's own platform is synced by then.
  // SkipDryRunOnMissingResource: the root validates every task before its first wave, and on the hub's first sync
  // External Secrets' CRDs do not exist yet: they come with the external-secrets Application, which the root itself
  // applies in an earlier wave, and a CRD counts only when it is among the root's own objects (argo-cd v3.4.4
  // gitops-engine/pkg/sync/sync_context.go:1047-1068, hasCRDOfGroupKind :1491-1498). Without it the root's whole
  // operation fails ("one or more synchronization tasks are not valid", :482-486) on every retry: nothing is applied.
  const pinned = pinnedCluster(ctx.model, env);
  const es = new ExternalSecret({
    metadata: { name, namespace: ctx.argoNamespace, labels: { [ENVIRONMENT_LABEL]: ctx.model.name }, annotations: rootObjectAnnotations(ctx.model) },
    spec: {
      refreshInterval: '1h',
      secretStoreRef: { kind: 'ClusterSecretStore', name: CLUSTER_REGISTRY_STORE },
      target: {
        name,
        creationPolicy: 'Owner',
        template: {
          metadata: { labels: { [CLUSTER_SECRET_LABEL]: 'cluster', [ENVIRONMENT_LABEL]: env } },
          // name and server pinned from the managed environment's file where it is known: whoever may write the
          // parameters (the managed cluster's operator) could otherwise name another cluster, or the hub itself —
          // a cluster Secret whose server is https://kubernetes.default.svc replaces the hub's own in-cluster
          // connection (argo-cd v3.4.4 util/db/cluster.go:87-98, ListClusters), which the hub's root and Applications use.
          // Only the config (token and CA) comes from SSM: an endpoint written as { ssm } is pinned to its value in the
          // managed environment's lock (model/fleet.ts fleetClusters; unlocked, rule argocd-managed-endpoint-unlocked refuses the hub).
          data: { name: pinned.name, server: pinned.server, config: expiryCheck(env, `${siblingDir(ctx.model, env)}/${HUB_REGISTER_SCRIPT}`) },
        },
      },
      // Only what the template reads: the config (name and server are pinned above).
      data: [{ secretKey: 'config', remoteRef: { key: keys.config } }],
    },
  });
  return es.toJSON() as unknown as Record<string, unknown>;
}

/** The `fleet` AppProject (FLEET_PROJECT): this repository, Argo CD's namespace in the hub's own cluster, Applications and AppProjects only. */
export function fleetProject(ctx: ArgoContext): AppProject {
  return new AppProject({
    metadata: { name: FLEET_PROJECT, namespace: ctx.argoNamespace, labels: { [ENVIRONMENT_LABEL]: ctx.model.name } },
    spec: {
      sourceRepos: [ctx.model.git.repoURL],
      destinations: [{ server: IN_CLUSTER, namespace: ctx.argoNamespace }],
      clusterResourceWhitelist: [],
      namespaceResourceWhitelist: FLEET_KINDS.map((k) => ({ ...k })),
    },
  });
}

export function hubFiles(ctx: ArgoContext): RenderedFile[] {
  const inputs = [['argocd'], ['git'], ['name'], ['addons', 'argo-cd']] as RenderedFile['inputs'];
  return [
    // With only environments being let go, no ApplicationSet: deleting it keeps their roots (create-update), which their scripts remove.
    ...(ctx.model.fleet.manages.length > 0 ? [{ path: APPLICATION_SET_PATH, content: toYaml(applicationSet(ctx)), inputs }] : []),
    { path: FLEET_PROJECT_PATH, content: toYaml(fleetProject(ctx).toJSON()), inputs },
    ...registered(ctx.model).map((env) => ({ path: clusterSecretPath(env), content: toYaml(clusterSecret(ctx, env)), inputs })),
  ];
}

/**
 * A hub's Argo CD cluster Secrets: per managed environment, the `config` SecureString (bearer token
 * and CA) that the hub's ExternalSecret cluster-<env> reads, positioned at the environment's entry
 * in `argocd.manages`. The managed environment's bootstrap script writes it (with the `name` and
 * `server` Strings next to it) into the hub's account and region. `--refresh-ssm` checks it by name
 * and type through listSecretDependencies (model/secrets.ts).
 */
export function hubClusterSecrets(env: ResolvedEnvironment, m: EnvironmentModel): SecretDependency[] {
  const manages: DocPath = [SYNC_POLICY_KEY, 'manages'];
  const written = getAt(env.data, manages);
  const leaving: DocPath = [SYNC_POLICY_KEY, 'decommission'];
  const writtenLeaving = getAt(env.data, leaving);
  return registered(m).map((managed): SecretDependency => {
    const i = Array.isArray(written) ? written.indexOf(managed) : -1;
    const j = Array.isArray(writtenLeaving) ? writtenLeaving.indexOf(managed) : -1;
    return {
      name: clusterSecretParameters(m.name, managed).config,
      origin: 'derived',
      purpose: `Argo CD cluster Secret of managed environment ${managed} (bearer token and CA; the hub's ExternalSecret cluster-${managed} reads it)`,
      path: i >= 0 ? [...manages, i] : j >= 0 ? [...leaving, j] : closestSection(env.data, manages),
      defaultName: false,
      sensitivity: 'cluster-credential',
      create: `${siblingDir(m, managed)}/argocd/bootstrap/bootstrap.sh writes it (run with ${managed}'s kubeconfig and credentials for this hub's account; README of ${managed}, "Bootstrap and join the hub")`,
    };
  });
}

/** Every SSM parameter a hub's cluster ExternalSecrets read: each registered environment's config. */
export const hubSecretParameters = (m: EnvironmentModel): string[] => registered(m).map((env) => clusterSecretParameters(m.name, env).config);

/**
 * The hub's cluster registry store: the cluster Secrets' parameters carry bearer tokens of other
 * accounts' clusters, so they are read through a ClusterSecretStore that admits only Argo CD's
 * namespace, with a role that reads only `/odp/<hub>/argocd/clusters/*` (catalog/secret-stores.ts).
 */
export const CLUSTER_REGISTRY_STORE = 'argocd-cluster-registry';
export const hubSecretStores = (m: EnvironmentModel, own: string | undefined): DedicatedSecretStore[] =>
  registered(m).length > 0 && own !== undefined
    ? [{ name: CLUSTER_REGISTRY_STORE, namespace: own, parameters: hubSecretParameters(m), prefix: `/odp/${m.name}/argocd/clusters/*`, who: "Argo CD's cluster registry (the hub's cluster Secrets)" }]
    : [];
