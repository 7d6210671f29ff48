/**
 * The family's add-ons (catalog data): Rancher's system-upgrade-controller, and the two Plans that
 * upgrade the environment's servers and agents to the release the environment pins. Both members of
 * the family contribute the same two entries (their descriptor names the upgrade image and the backup
 * taken first); the catalog lists each once.
 *
 * Sources (rancher/system-upgrade-controller v0.20.1 = f1362a3f):
 * - manifests/system-upgrade-controller.yaml: Namespace `system-upgrade` (PSS privileged), SA
 *   `system-upgrade`, ConfigMap `default-controller-env`, the Deployment (control-plane affinity and
 *   tolerations, non-root 65534; its host CA directories are left out, see below). The manifest's image line is stale
 *   (v0.14.0); the release pins `rancher/system-upgrade-controller:<tag>` (scripts/package-controller).
 * - manifests/clusterrole.yaml, clusterrolebinding.yaml: the RBAC rendered here as is.
 * - pkg/upgrade/controller.go lines 147 and 184-194: the controller creates (and updates) the Plan CRD
 *   itself at start-up (crd.BatchCreateCRDs); it owns it, so none is rendered (two owners would fight),
 *   and the Plans are a separate unit delivered after the controller is healthy.
 * - pkg/apis/upgrade.cattle.io/v1/types.go: Plan fields (`envs`, not `env`); tolerations are appended
 *   to the default unschedulable one only (lines 64-65), so every taint of the nodes a Plan targets is
 *   tolerated explicitly.
 * - pkg/upgrade/plan/plan.go lines 97-98: `version` + → - becomes the tag of a tag-less image.
 * - The distributions' docs, upgrades/automated.md: server Plan (concurrency 1, cordon, control-plane
 *   selector), agent Plan whose `prepare` (`prepare <server-plan>`, in the upgrade image) waits for
 *   the server Plan; Plans in the controller's namespace.
 */
import { controlPlaneSelector } from '../../../catalog/placement.js';
import { REGISTERS_CRDS } from '../../../plan/needs.js';
import { canonicalJson, sha256 } from '../../../lib/hash.js';
import { CONTROL_PLANE_TOLERATION, RBAC, type CatalogEntry, type K8sObject } from '../../../catalog/types.js';
import type { EnvironmentModel, NodePool } from '../../../model/types.js';
import type { Rule } from '../../../validate/rules.js';
import { distributionNamed, distributionOf } from '../../registry.js';
import { minorOf } from '../../../model/build.js';
import type { RancherDistribution, RancherKeys } from '../model.js';

// renovate: datasource=docker depName=rancher/system-upgrade-controller
export const SUC_VERSION = 'v0.20.1';
export const SUC_IMAGE = `rancher/system-upgrade-controller:${SUC_VERSION}`;

/**
 * The kubectl image of the Jobs' cordon/drain containers (SYSTEM_UPGRADE_JOB_KUBECTL_IMAGE), per Kubernetes minor.
 *
 * kubectl is supported within one minor version (older or newer) of kube-apiserver (Kubernetes version skew policy,
 * section kubectl: kubernetes.io/releases/version-skew-policy/#kubectl). The upstream ConfigMap's default
 * (rancher/kubectl:v1.30.3) is four minors behind a 1.34 cluster, so the image follows the environment's minor.
 * During an upgrade the API servers move from minor N-1 to N (the README: skip no minor version), and the ConfigMap
 * changes with the Plans in the same commit: the tag of minor N (the environment's `kubernetesVersion`, the target)
 * is within skew of both the servers not yet upgraded (N-1: kubectl one newer) and the upgraded ones (N), and stays
 * right once the upgrade is done; the tag of N-1 would be out of skew by the next upgrade.
 *
 * Tags: the newest patch per minor of rancher/kubectl's versions.txt at 6343a931 (2026-06-24; lines 1, 4, 11: every
 * line of it is published as rancher/kubectl:<line>, .github/workflows/publish.yml lines 36-46 and 88). The minors are
 * those the family members' release tables list; a minor without an entry is refused at
 * `cluster.kubernetesVersion`. Renovate bumps each entry's patch (renovate.json: rancher/kubectl takes patch updates
 * only, a new minor is a new entry here).
 */
export const SUC_KUBECTL_TAGS: readonly { minor: string; tag: string }[] = [
  {
    minor: '1.34',
    // renovate: datasource=docker depName=rancher/kubectl
    tag: 'v1.34.9',
  },
  {
    minor: '1.35',
    // renovate: datasource=docker depName=rancher/kubectl
    tag: 'v1.35.6',
  },
  {
    minor: '1.36',
    // renovate: datasource=docker depName=rancher/kubectl
    tag: 'v1.36.2',
  },
];
const kubectlTag = (minor: string): string | undefined => SUC_KUBECTL_TAGS.find((t) => t.minor === minor)?.tag;
/** The kubectl image of an environment's upgrade Jobs (its Kubernetes minor's entry; the rule below refuses a minor without one). */
export function sucKubectlImage(m: Pick<EnvironmentModel, 'cluster'>): string {
  const tag = kubectlTag(m.cluster.kubernetesMinor);
  if (!tag) throw new Error(`no rancher/kubectl tag for Kubernetes ${m.cluster.kubernetesMinor} (SUC_KUBECTL_TAGS)`);
  return `rancher/kubectl:${tag}`;
}
export const SUC_NAMESPACE = 'system-upgrade';
export const SUC_SERVICE_ACCOUNT = 'system-upgrade';
export const SERVER_PLAN = 'server-plan';
export const AGENT_PLAN = 'agent-plan';

/** The family descriptor of the environment's distribution, when it belongs to this family. */
export const familyOf = (m: { cluster: { distribution: string } }): RancherKeys | undefined => (distributionOf(m) as Partial<RancherDistribution>).family;
const familyNamed = (name: string): RancherKeys | undefined => (distributionNamed(name) as Partial<RancherDistribution> | undefined)?.family;

/** The Plan `version` the environment pins (its distribution's release). */
export const planVersion = (m: EnvironmentModel): string => (m.cluster.extension as { version?: string }).version ?? '';

const taintToleration = (t: { key: string; effect: string }) => ({ key: t.key, operator: 'Exists', effect: t.effect });
const unique = <T>(xs: T[]): T[] => [...new Map(xs.map((x) => [JSON.stringify(x), x])).values()];

/** Every taint of the pools a Plan targets, tolerated (the controller adds only the unschedulable one). */
function tolerations(m: EnvironmentModel, pools: NodePool[], controlPlane: boolean): object[] {
  const t: object[] = controlPlane ? [{ ...CONTROL_PLANE_TOLERATION }, { key: 'CriticalAddonsOnly', operator: 'Exists' }] : [];
  return unique([...t, ...pools.flatMap((p) => p.taints.map(taintToleration))]);
}

/** The server and agent Plans of an environment (`upgrade.cattle.io/v1`), versions from the environment. */
export function upgradePlans(m: EnvironmentModel, namespace = SUC_NAMESPACE): K8sObject[] {
  const keys = familyOf(m);
  if (!keys?.upgrade) return [];
  const version = planVersion(m);
  const cpLabel = distributionOf(m).facts.controlPlaneLabel;
  const backup = keys.upgrade.backup(m);
  const plan = (name: string, spec: Record<string, unknown>): K8sObject => ({ apiVersion: 'upgrade.cattle.io/v1', kind: 'Plan', metadata: { name, namespace }, spec });
  // The tag the controller would give a tag-less image (version with + → -: pkg/upgrade/plan/plan.go
  // lines 97-98), written out: the image is pinned where the reviewer reads it.
  const image = `${keys.upgrade.image}:${version.replace(/\+/g, '-')}`;
  const common = { serviceAccountName: SUC_SERVICE_ACCOUNT, version, upgrade: { image } };
  const servers = m.pools.filter((p) => p.role === 'controlplane');
  const agents = m.pools.filter((p) => p.role === 'worker');
  const out = [
    plan(SERVER_PLAN, {
      concurrency: 1,
      cordon: true,
      nodeSelector: { matchExpressions: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'In', values: [cpLabel] }] },
      tolerations: tolerations(m, servers, true),
      ...common,
      ...(backup.prepare ? { prepare: { image, ...backup.prepare } } : {}),
      ...(backup.postCompleteDelay ? { postCompleteDelay: backup.postCompleteDelay } : {}),
    }),
  ];
  if (agents.length > 0)
    out.push(
      plan(AGENT_PLAN, {
        concurrency: 1,
        cordon: true,
        nodeSelector: { matchExpressions: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'DoesNotExist' }] },
        tolerations: tolerations(m, agents, false),
        ...common,
        // The upgrade image's prepare step waits until the server Plan applies to no node and every
        // control plane runs the Plan's version (the upgrade image's scripts/upgrade.sh prepare()).
        prepare: { image, args: ['prepare', SERVER_PLAN] },
      }),
    );
  return out;
}

/** The controller's objects: its identity, RBAC, configuration and Deployment (the release's manifests, pinned). */
function controllerObjects(m: EnvironmentModel, namespace: string): K8sObject[] {
  const sa = SUC_SERVICE_ACCOUNT;
  const subject = [{ kind: 'ServiceAccount', name: sa, namespace }];
  const rule = (apiGroups: string[], resources: string[], verbs: string[], resourceNames?: string[]) => ({ apiGroups, resources, ...(resourceNames ? { resourceNames } : {}), verbs });
  const read = ['get', 'list', 'watch'];
  // The controller reads this environment once, at start (pkg/upgrade/job/job.go:81-86 @ v0.20.1: KubectlImage and the
  // others are package variables set from os.Getenv): a changed ConfigMap reaches it only through a new pod, so the
  // pod template carries the data's hash (as workloads' config files do) and the Deployment rolls with it.
  const env: Record<string, string> = {
    SYSTEM_UPGRADE_CONTROLLER_DEBUG: 'false',
    SYSTEM_UPGRADE_CONTROLLER_THREADS: '2',
    SYSTEM_UPGRADE_CONTROLLER_LEADER_ELECT: 'true',
    SYSTEM_UPGRADE_JOB_ACTIVE_DEADLINE_SECONDS: '900',
    SYSTEM_UPGRADE_JOB_BACKOFF_LIMIT: '99',
    // IfNotPresent: the upgrade images are tagged per release (Always only re-pulls the same tag).
    SYSTEM_UPGRADE_JOB_IMAGE_PULL_POLICY: 'IfNotPresent',
    SYSTEM_UPGRADE_JOB_KUBECTL_IMAGE: sucKubectlImage(m),
    SYSTEM_UPGRADE_JOB_PRIVILEGED: 'true',
    SYSTEM_UPGRADE_JOB_TTL_SECONDS_AFTER_FINISH: '900',
    SYSTEM_UPGRADE_PLAN_POLLING_INTERVAL: '15m',
  };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'default-controller-env', namespace }, data: env },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'system-upgrade-controller' },
      rules: [
        rule(['batch'], ['jobs'], read),
        rule(['apiextensions.k8s.io'], ['customresourcedefinitions'], [...read, 'create', 'patch', 'update']),
        rule([''], ['namespaces', 'nodes'], read),
        rule([''], ['nodes'], ['update']),
        rule([''], ['events'], ['get', 'create', 'patch', 'update']),
        rule(['coordination.k8s.io'], ['leases'], ['create']),
        rule(['coordination.k8s.io'], ['leases'], ['get', 'update'], ['system-upgrade-controller']),
        rule(['upgrade.cattle.io'], ['plans', 'plans/status'], [...read, 'create', 'patch', 'update', 'delete']),
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'system-upgrade-controller-drainer' },
      rules: [rule([''], ['pods/eviction'], ['create']), rule([''], ['pods'], ['get', 'list', 'delete']), rule([''], ['nodes'], ['get', 'patch']), rule(['apps'], ['statefulsets', 'daemonsets', 'replicasets'], ['get', 'list'])],
    },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'system-upgrade' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system-upgrade-controller' }, subjects: subject },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'system-upgrade-drainer' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system-upgrade-controller-drainer' }, subjects: subject },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'system-upgrade-controller', namespace },
      rules: [rule(['batch'], ['jobs'], ['create', 'delete', 'deletecollection', 'patch', 'update', ...read]), rule([''], ['secrets'], read)],
    },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'system-upgrade', namespace }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'system-upgrade-controller' }, subjects: subject },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      // It creates the Plan CRD at start-up (pkg/upgrade/controller.go:147, 184-194 @ v0.20.1).
      metadata: { name: 'system-upgrade-controller', namespace, annotations: { [REGISTERS_CRDS]: 'upgrade.cattle.io/Plan' } },
      spec: {
        strategy: { type: 'Recreate' },
        selector: { matchLabels: { 'upgrade.cattle.io/controller': 'system-upgrade-controller' } },
        template: {
          metadata: {
            annotations: { 'checksum/config': sha256(canonicalJson(env)) },
            labels: {
              'app.kubernetes.io/component': 'controller',
              'app.kubernetes.io/name': 'system-upgrade-controller',
              // The controller's own pods are never drained (the upstream manifest's comment).
              'upgrade.cattle.io/controller': 'system-upgrade-controller',
            },
          },
          spec: {
            serviceAccountName: sa,
            nodeSelector: { ...controlPlaneSelector(m), 'kubernetes.io/os': 'linux' },
            tolerations: [
              { key: 'CriticalAddonsOnly', operator: 'Exists' },
              { ...CONTROL_PLANE_TOLERATION },
              { key: 'node-role.kubernetes.io/etcd', operator: 'Exists', effect: 'NoExecute' },
            ],
            securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'system-upgrade-controller',
                image: SUC_IMAGE,
                imagePullPolicy: 'IfNotPresent',
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
                resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
                envFrom: [{ configMapRef: { name: 'default-controller-env' } }],
                env: [
                  { name: 'SYSTEM_UPGRADE_CONTROLLER_NAME', valueFrom: { fieldRef: { fieldPath: "metadata.labels['upgrade.cattle.io/controller']" } } },
                  { name: 'SYSTEM_UPGRADE_CONTROLLER_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                  { name: 'SYSTEM_UPGRADE_CONTROLLER_NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                ],
                // No host CA directories (the upstream manifest mounts them to fetch a Plan's `channel` over
                // https): these Plans pin `version`, the controller talks only to the API server, and the
                // pod stays within Pod Security Standards restricted.
                volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
              },
            ],
            volumes: [{ name: 'tmp', emptyDir: {} }],
          },
        },
      },
    },
  ];
}

/** Whether the environment's distribution upgrades through the controller (its descriptor names an upgrade image). */
const upgradesByController = (m: { cluster: { distribution: string } }): boolean => familyOf(m)?.upgrade !== undefined;

/** Enabled where the distribution cannot use it: refused at `enabled`. */
const onlyHere = (name: string): Rule => ({ input }, report) => {
  if (input.addons?.[name]?.enabled === true && !familyNamed(input.cluster.distribution)?.upgrade)
    report(`addon-${name}`, ['addons', name, 'enabled'], `${name} upgrades the nodes of a distribution whose upgrade image it runs; distribution ${input.cluster.distribution} has none`, { hint: 'remove the add-on; this distribution upgrades its own way (see the environment README)' });
};

/** The controller on, with a Kubernetes minor the kubectl table has no tag for: refused at `kubernetesVersion`. */
const kubectlForMinor: Rule = ({ input }, report) => {
  const name = 'system-upgrade-controller';
  if (input.addons?.[name]?.enabled === false || !familyNamed(input.cluster.distribution)?.upgrade) return;
  const minor = minorOf(input.cluster.kubernetesVersion);
  if (kubectlTag(minor)) return;
  report(`addon-${name}`, ['cluster', 'kubernetesVersion'], `Kubernetes ${input.cluster.kubernetesVersion}: the upgrade Jobs' kubectl (rancher/kubectl) has no tag listed for ${minor}; kubectl is supported within one minor of the API server`, {
    hint: `the generator lists rancher/kubectl for ${SUC_KUBECTL_TAGS.map((t) => t.minor).join(', ')} (SUC_KUBECTL_TAGS in generators/distributions/rancher/addons/system-upgrade-controller.ts); use one of those minors`,
  });
};

export const systemUpgradeController: CatalogEntry = {
  name: 'system-upgrade-controller',
  description: `Rancher's system-upgrade-controller ${SUC_VERSION}: applies the server and agent upgrade Plans (it creates the Plan CRD itself)`,
  namespace: SUC_NAMESPACE,
  syncWave: 0,
  enabledByDefault: (m) => upgradesByController(m),
  condition: 'a distribution that upgrades through it (its node images replace the binary)',
  // Its Jobs run privileged with the host's PID, IPC and network namespaces and mount / (pkg/upgrade/job/job.go:199-246 @ v0.20.1).
  podSecurity: 'privileged',
  // cascade: the controller and its RBAC; nodes keep the release they run.
  onDelete: 'cascade',
  clusterResources: RBAC,
  rules: {
    conditions: (ctx, report) => {
      onlyHere('system-upgrade-controller')(ctx, report);
      kubectlForMinor(ctx, report);
    },
  },
  manifests: ({ model, namespace }) => controllerObjects(model, namespace),
};

export const systemUpgradePlans: CatalogEntry = {
  name: 'system-upgrade-plans',
  description: 'The server and agent upgrade Plans: servers one at a time after a datastore backup, then agents, to the release the environment pins',
  namespace: SUC_NAMESPACE,
  // After the controller is healthy: it creates the Plan CRD when it starts.
  syncWave: 1,
  enabledByDefault: (m) => upgradesByController(m),
  condition: 'with the system-upgrade-controller',
  podSecurity: 'privileged',
  // cascade: without Plans nothing is upgraded; a running upgrade Job finishes.
  onDelete: 'cascade',
  clusterResources: [],
  rules: { conditions: onlyHere('system-upgrade-plans') },
  extraInputs: () => [['cluster'], ['nodePools']],
  manifests: ({ model, namespace }) => upgradePlans(model, namespace),
};

/** The README's upgrade paragraph of a member's environment: the Plans, and the manual fallback. */
export function upgradeReadmeText(m: EnvironmentModel): string {
  const keys = familyOf(m);
  if (!keys?.upgrade) return '';
  // On by default for the family; an environment may turn either off (addons.<name>.enabled: false).
  const on = (name: string) => m.addons.find((a) => a.name === name)?.enabled !== false;
  const plans = on(systemUpgradeController.name) && on(systemUpgradePlans.name);
  const auto = plans
    ? `- **Upgrades**: change \`cluster.${keys.versionKey}\` (and \`kubernetesVersion\`), synth, merge. The GitOps engine
  updates the Plans \`${SERVER_PLAN}\` and \`${AGENT_PLAN}\` in \`${SUC_NAMESPACE}\` to that release; the
  system-upgrade-controller ${SUC_VERSION} upgrades the servers one at a time, each cordoned, then the agents one at a
  time (their \`prepare\` step waits until the server Plan is done). Backup: ${keys.upgrade.backup(m).text}.
  Skip no minor version. Follow it with \`kubectl -n ${SUC_NAMESPACE} get plans,jobs\`. The upgrade image replaces the
  binary and restarts the service; it never re-runs install.sh, and the node keeps its name and datastore
  (config.yaml.d/10-node.yaml).
`
    : `- **Upgrades**: the system-upgrade-controller add-ons are off in this environment: upgrade by hand (below).
`;
  return `${auto}- **Manual fallback** (the controller cannot run): \`${m.renderedDir}/${m.cluster.distribution}/manual-upgrade.sh\` (a copy on the node), as root on each server
  one at a time (each Ready again before the next), then on each agent. It installs the pinned release with the pinned
  install.sh, both checked against their recorded sha256, and restarts the service; node name and datastore stay.
`;
}

/**
 * Strict check of `upgrade.cattle.io/v1 Plan` (no model package exists): the fields of PlanSpec and
 * ContainerSpec at v0.20.1 (pkg/apis/upgrade.cattle.io/v1/types.go lines 46-91 and 115-125;
 * research/day2.md §9a), `upgrade` required, exactly one of `version` and `channel`.
 */
const PLAN_SPEC = ['concurrency', 'jobActiveDeadlineSecs', 'nodeSelector', 'serviceAccountName', 'channel', 'version', 'secrets', 'tolerations', 'exclusive', 'window', 'prepare', 'upgrade', 'cordon', 'drain', 'imagePullSecrets', 'postCompleteDelay', 'priorityClassName', 'postCompleteLabels'];
const CONTAINER_SPEC = ['image', 'command', 'args', 'envs', 'envFrom', 'volumes', 'securityContext'];
type PlanError = { path: (string | number)[]; key: boolean; message: string };
const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function planErrors(o: Record<string, unknown>): PlanError[] {
  const errors: PlanError[] = [];
  for (const k of Object.keys(o)) if (!['apiVersion', 'kind', 'metadata', 'spec', 'status'].includes(k)) errors.push({ path: [k], key: true, message: `unknown field '${k}'` });
  const spec = o.spec;
  if (!isMap(spec)) return [...errors, { path: ['spec'], key: false, message: 'spec is required' }];
  for (const k of Object.keys(spec)) if (!PLAN_SPEC.includes(k)) errors.push({ path: ['spec', k], key: true, message: `unknown field '${k}' of a Plan's spec${k === 'env' ? ' (containers take envs)' : ''}` });
  if (!isMap(spec.upgrade)) errors.push({ path: ['spec', 'upgrade'], key: false, message: 'spec.upgrade is required' });
  if ((spec.version === undefined) === (spec.channel === undefined)) errors.push({ path: ['spec'], key: false, message: 'a Plan names exactly one of version and channel' });
  for (const c of ['prepare', 'upgrade'] as const) {
    const v = spec[c];
    if (!isMap(v)) continue;
    for (const k of Object.keys(v)) if (!CONTAINER_SPEC.includes(k)) errors.push({ path: ['spec', c, k], key: true, message: `unknown field '${k}' of a Plan's container${k === 'env' ? ' (it is envs)' : ''}` });
    if (typeof v.image !== 'string' || v.image === '') errors.push({ path: ['spec', c, 'image'], key: false, message: `spec.${c}.image is required` });
  }
  return errors;
}
