/**
 * The AWS layer of one environment, decided once from the model: names, node roles and what each
 * may do, the IMDS hop limit of each pool, the images, the buckets and their keys, the IRSA roles.
 * The stacks (stacks.ts), the README section and the checks read this; nothing here renders.
 */
import { CHART_ADDON_IAM_ROLE, etcdBackupRoleArn } from '../../catalog/irsa.js';
import { dedicatedSecretStores, resolveAddons } from '../../catalog/resolve.js';
import { dedicatedStoreAuth, platformStoreAuth, storeNamespace, storeRoleName, type StoreAuth } from '../../catalog/secret-stores.js';
import { ESO_SSM_SERVICE_ACCOUNT } from '../../catalog/external-secrets.js';
import { str, type K8sObject } from '../../catalog/types.js';
import { parseIpv4 } from '../../lib/cidr.js';
import { controllersHost } from '../../catalog/placement.js';
import { autoScaledPools } from '../../catalog/aws-node-termination-handler.js';
import { drainsPools, terminationHandlerStatements } from './drain.js';
import { untolerated } from '../../lib/scheduling.js';
import type { EnvironmentModel, Node, NodePool, Subnet } from '../../model/types.js';
import { distributionOf } from '../../distributions/registry.js';
import { cloudControllerStatements, dedicatedStoreStatements, ebsCsiStatements, etcdBackupStatements, externalSecretParametersByNamespace, externalSecretsStatements, loadBalancerControllerStatements } from './addon-iam.js';
import type { DistributionAwsFacts, ImageClass, ImageFacts, NodeGroup, Statement } from './facts.js';
import { autoScalingGroupArn, poolGroupName } from './policy.js';

/**
 * Node IAM roles: control planes; workers; GPU workers; and the pool named by
 * `aws.iam.controllersPool`, which runs the credentialed controllers, when another pool would share
 * its role (else its own kind's role takes their permissions). Kinds stay as they were where they can:
 * a nodes stack imports each kind's instance profile from the base stack, and CloudFormation refuses
 * to remove an export another stack still imports.
 */
export type NodeRoleKind = 'controlplane' | 'worker' | 'gpu' | 'controllers';

export interface NodeRolePlan {
  kind: NodeRoleKind;
  name: string;
  /** What runs with this role's credentials, and what it may do. */
  grants: Grant[];
}

/** Permissions of one component, rendered as one managed policy (chunked at IAM's size limit). */
export interface Grant {
  id: string;
  who: string;
  /** The add-on whose pods use it from the pod network (the credentialed controllers). */
  addon?: string;
  statements: Statement[];
}

export interface PoolPlan {
  pool: NodePool;
  group: NodeGroup;
  role: NodeRoleKind;
  hopLimit: 1 | 2;
  /** Why this hop limit, in words. */
  hopWhy: string;
  image: ImageFacts & { cls: ImageClass; parameterName: string; imageId?: string };
  /**
   * The fixed nodes' images: each node its own parameter, holding the AMI it was created with (the
   * lock's nodeImages), or its class's current image for a node not created yet.
   */
  nodeImages: { node: Node; parameterName: string; imageId?: string; pinned: boolean }[];
  subnets: Subnet[];
}

export interface BucketPlan {
  name: string;
  /** What writes to it, in words. */
  purpose: string;
  prefix: string;
  /** The environment's `kmsKeyId`, or undefined: the stack's environment key. */
  kmsKeyId?: string;
  /** Days after which objects below the prefix expire (undefined: the writer prunes). */
  expireAfterDays?: number;
  /** Days a deleted or overwritten object stays recoverable. */
  noncurrentDays: number;
  /** Where the retention comes from, in words. */
  retention: string;
}

export interface IrsaRolePlan {
  /** The ARN the rendered values reference. */
  arn: string;
  name: string;
  path: string;
  namespace: string;
  serviceAccount: string;
  /** Who uses it, in words. */
  who: string;
  statements: Statement[];
}

/**
 * The role a secret store reads SSM with, when the node roles assume it (catalog/secret-stores.ts
 * `assumed`): trusted by the node roles the External Secrets controller runs on. Web-identity store
 * roles are IRSA roles (`irsa.roles`).
 */
export interface StoreRolePlan {
  store: string;
  arn: string;
  name: string;
  /** The node roles that may assume it (where the controller runs). */
  from: NodeRoleKind[];
  who: string;
  statements: Statement[];
}

export interface AwsPlan {
  model: EnvironmentModel;
  facts: DistributionAwsFacts;
  names: AwsNames;
  roles: NodeRolePlan[];
  pools: PoolPlan[];
  /** Node classes in use, one image parameter each. */
  images: PoolPlan['image'][];
  buckets: BucketPlan[];
  /** Whether the base stack creates the environment's KMS key (some bucket uses it). */
  environmentKey: boolean;
  irsa?: { issuer: string; issuerHostPath: string; roles: IrsaRolePlan[] };
  /** Store roles the node roles assume (the web-identity ones are in `irsa.roles`). */
  storeRoles: StoreRolePlan[];
  /** The endpoint is a DNS name: an API load balancer and a private hosted zone are created. */
  apiLoadBalancer: boolean;
  controlPlaneHopLimit: 1 | 2;
  controlPlaneHopWhy: string;
  /**
   * Whether the pools' terminations are drained (./drain.ts drainsPools, resolved once per plan): the
   * base stack's queue and rules, the groups' TERMINATING hook and tag, the handler's grant, the README
   * and deploy.sh drain-tags all read it.
   */
  drainsPools: boolean;
}

export interface AwsNames {
  baseStack: string;
  nodesStack: string;
  gitSyncStack: string;
  exportPrefix: string;
  securityGroup: Record<NodeGroup | 'api-lb', string>;
  role: (kind: NodeRoleKind) => string;
  pool: (pool: NodePool) => string;
  loadBalancer: string;
  targetGroup: (port: number) => string;
  keyAlias: string;
  importBucket: string;
  importRole: string;
  stackRole: string;
  syncRole: string;
  /** Where `aws cloudformation deploy` uploads templates (inline template bodies stop at 51,200 bytes). */
  templateBucket: string;
}

export function awsNames(m: EnvironmentModel): AwsNames {
  const c = m.cluster.name;
  return {
    baseStack: `${c}-base`,
    nodesStack: `${c}-nodes`,
    gitSyncStack: `${c}-git-sync`,
    exportPrefix: c,
    securityGroup: { controlplane: `${c}-controlplane`, worker: `${c}-worker`, 'api-lb': `${c}-api-lb` },
    role: (kind) => `${c}-${kind}`,
    pool: (p) => poolGroupName(m, p),
    loadBalancer: `${c}-api`,
    targetGroup: (port) => `${c}-${port}`,
    keyAlias: `alias/${c}`,
    importBucket: `${c}-images-${m.aws.accountId}`,
    importRole: `${c}-vmimport`,
    stackRole: `${c}-cfn-deploy`,
    syncRole: `${c}-git-sync`,
    templateBucket: `${c}-templates-${m.aws.accountId}`,
  };
}

/**
 * The add-ons that call AWS with the node's credentials from the pod network, and what each needs.
 * Their values pin them to one place (catalog/placement.ts controllersHost); with `aws.iam.mode: irsa`
 * External Secrets assumes its stores' roles by web identity and drops out, the other two stay (no
 * pod identity webhook: catalog/irsa.ts).
 */
function credentialedControllers(m: EnvironmentModel, drains: boolean): Grant[] {
  const enabled = new Set(resolveAddons(m).map((a) => a.name));
  const out: Grant[] = [];
  if (enabled.has('aws-load-balancer-controller')) out.push({ id: 'load-balancer-controller', who: 'aws-load-balancer-controller', addon: 'aws-load-balancer-controller', statements: loadBalancerControllerStatements(m) });
  if (enabled.has('aws-ebs-csi-driver')) out.push({ id: 'ebs-csi', who: 'aws-ebs-csi-driver (controller)', addon: 'aws-ebs-csi-driver', statements: ebsCsiStatements(m) });
  // The Node Termination Handler (./drain.ts): the queue, completing its groups' lifecycle actions.
  if (drains) {
    const names = awsNames(m);
    out.push({ id: 'node-termination-handler', who: 'aws-node-termination-handler', addon: 'aws-node-termination-handler', statements: terminationHandlerStatements(m, autoScaledPools(m).map((p) => names.pool(p))) });
  }
  const assumed = storeAuths(m).filter((s) => s.auth.kind === 'assumed');
  if (enabled.has('external-secrets') && assumed.length > 0)
    out.push({
      id: 'external-secrets',
      addon: 'external-secrets',
      who: `external-secrets (assumes the role of ${assumed.map((s) => `store ${s.store}`).join(', ')})`,
      statements: [{ Sid: 'ExternalSecretsAssumeStoreRoles', Effect: 'Allow', Action: ['sts:AssumeRole'], Resource: assumed.map((s) => s.auth.roleArn).sort() }],
    });
  return out;
}

/**
 * Every ClusterSecretStore of the environment with its identity, what it may read and the namespaces
 * its conditions admit: one per namespace holding a platform ExternalSecret (its role reads what that
 * namespace's ExternalSecrets read; the one role of settings.iamRoleArn reads what all of them read),
 * then the engines' dedicated stores.
 */
export function storeAuths(m: EnvironmentModel): { store: string; auth: StoreAuth; who: string; statements: Statement[]; namespaces: readonly string[]; shared?: true }[] {
  const eso = resolveAddons(m).find((a) => a.name === 'external-secrets');
  if (!eso) return [];
  const settings = m.addons.find((a) => a.name === 'external-secrets')?.settings;
  const byNs = externalSecretParametersByNamespace(m);
  const all = [...new Set([...byNs.values()].flat())];
  const admitted = (o: K8sObject): string[] => ((o.spec as { conditions?: { namespaces?: string[] }[] } | undefined)?.conditions ?? []).flatMap((c) => c.namespaces ?? []);
  // The platform stores are the add-on's parts (one unit per store: catalog/external-secrets.ts).
  const platform = resolveAddons(m).filter((a) => a === eso || a.partOf === eso.name).flatMap((a) => a.manifests).flatMap((o) => {
    const ns = o.kind === 'ClusterSecretStore' ? storeNamespace(o.metadata.name) : undefined;
    if (ns === undefined) return [];
    const auth = platformStoreAuth(m, settings, ESO_SSM_SERVICE_ACCOUNT, ns);
    const shared = auth.kind === 'web-identity' && auth.serviceAccount === ESO_SSM_SERVICE_ACCOUNT;
    const who = shared ? 'external-secrets (the stores of every namespace: settings.iamRoleArn)' : `external-secrets (store ${o.metadata.name}: namespace ${ns})`;
    return [{ store: o.metadata.name, auth, who, statements: externalSecretsStatements(m, shared ? all : (byNs.get(ns) ?? [])), namespaces: admitted(o), ...(shared ? { shared: true as const } : {}) }];
  });
  return [
    ...platform,
    ...dedicatedSecretStores(m).map((d) => ({ store: d.name, auth: dedicatedStoreAuth(m, d), who: `external-secrets (store ${d.name}: ${d.who})`, statements: dedicatedStoreStatements(m, d), namespaces: [d.namespace] })),
  ];
}

const isIp = (host: string): boolean => parseIpv4(host) !== undefined;

/** Whether the AWS layer fronts the API with a load balancer: an endpoint given as a name (an address has none). */
export const apiLoadBalancerOf = (m: EnvironmentModel): boolean => !isIp(m.cluster.endpointHost);

/** `https://oidc.example.com/x/` → `oidc.example.com/x` (how IAM names the provider and the condition keys). */
export const issuerHostPath = (issuer: string): string => issuer.replace(/^https:\/\//, '').replace(/\/+$/, '');

/** An IAM role ARN's name and path: `arn:aws:iam::1:role/a/b/name` → { path: '/a/b/', name }. */
export function roleArnParts(arn: string): { name: string; path: string } {
  const rest = arn.replace(/^arn:[^:]+:iam::\d{12}:role/, '');
  const i = rest.lastIndexOf('/');
  return { name: rest.slice(i + 1), path: rest.slice(0, i + 1) || '/' };
}

function irsaRoles(m: EnvironmentModel): IrsaRolePlan[] {
  if (m.aws.iam.mode !== 'irsa') return [];
  const out: IrsaRolePlan[] = [];
  const addons = resolveAddons(m);
  const add = (arn: string, namespace: string, serviceAccount: string, who: string, statements: Statement[]) => out.push({ arn, ...roleArnParts(arn), namespace, serviceAccount, who, statements });
  const eso = addons.find((a) => a.name === 'external-secrets');
  // One role per ARN: the stores sharing settings.iamRoleArn share its role (and its statements).
  const arns = new Set<string>();
  if (eso)
    for (const s of storeAuths(m))
      if (s.auth.kind === 'web-identity' && !arns.has(s.auth.roleArn)) {
        arns.add(s.auth.roleArn);
        add(s.auth.roleArn, eso.namespace, s.auth.serviceAccount, `${s.who} (ClusterSecretStore JWT auth)`, s.statements);
      }
  const backup = addons.find((a) => a.name === 'etcd-backup');
  const backupRole = backup && etcdBackupRoleArn(m);
  if (backup && backupRole) add(backupRole, backup.namespace, 'etcd-backup', 'etcd-backup (snapshot uploads)', etcdBackupStatements(m));
  for (const w of m.workloads) if (w.serviceAccount.iamRoleArn) add(w.serviceAccount.iamRoleArn, w.namespace, w.name, `workload ${w.name} (its permissions are the team's: attach policies to this role)`, []);
  return out;
}

const plans = new WeakMap<EnvironmentModel, { images: Readonly<Record<string, string>>; plan: AwsPlan }>();

/** The plan of a model with its images (once per model: the rules, the README and the renderer share it). */
export function awsPlan(m: EnvironmentModel, images: Readonly<Record<string, string>> = {}): AwsPlan {
  const cached = plans.get(m);
  if (cached && cached.images === images) return cached.plan;
  const plan = buildPlan(m, images);
  plans.set(m, { images, plan });
  return plan;
}

/** A pool's image class and image (what buildPlan and imageParameters read). */
/**
 * A pool whose instances complete their own launch lifecycle hook (PoolJoin kind 'boot'): its role may
 * complete lifecycle actions of the groups of the pools using that role, and of no other group
 * (CompleteLifecycleAction is scoped to the autoScalingGroup resource: ./policy.ts autoScalingGroupArn).
 * Pools of one role kind share the role, so a node can complete its sibling pools' actions too.
 */
function poolJoinGrant(m: EnvironmentModel, facts: DistributionAwsFacts, pools: readonly { pool: NodePool }[]): Grant[] {
  const join = facts.poolJoin;
  const groups = pools.filter((p) => p.pool.count !== undefined).map((p) => poolGroupName(m, p.pool));
  if (join.kind !== 'boot' || groups.length === 0) return [];
  // RecordLifecycleActionHeartbeat takes the same resource type (Service Authorization Reference, Amazon EC2 Auto
  // Scaling: RecordLifecycleActionHeartbeat → autoScalingGroup*).
  const actions = ['autoscaling:CompleteLifecycleAction', ...(join.heartbeats ? ['autoscaling:RecordLifecycleActionHeartbeat'] : [])];
  return [{ id: 'pool-join', who: `the boot script completes the launch lifecycle hook ${join.hookName} of its instance${join.heartbeats ? ' (and records its heartbeats while it waits)' : ''}`, statements: [{ Effect: 'Allow', Action: actions, Resource: groups.sort().map((g) => autoScalingGroupArn(m, g)) }] }];
}

function poolImage(m: EnvironmentModel, p: NodePool, facts: AwsPlan['facts'], names: AwsPlan['names']) {
  const cls = facts.imageClass(m, p);
  return { cls, img: facts.image(m, cls, { importBucket: names.importBucket, importRole: names.importRole }) };
}

function buildPlan(m: EnvironmentModel, images: Readonly<Record<string, string>>): AwsPlan {
  const facts = distributionOf(m).aws;
  const names = awsNames(m);
  const drains = drainsPools(m);
  const controllers = credentialedControllers(m, drains);
  const cpPods = facts.controlPlanePodsWithNodeCredentials(m);
  // The controllers are pinned (nodeSelector and tolerations in their values) to one place.
  const host = controllersHost(m);
  const onControlPlanes = host.kind === 'controlplane' && controllers.length > 0;
  const hostPool = host.kind === 'pool' && controllers.length > 0 ? host.pool.name : undefined;
  // Not pinned (catalog/placement.ts): they may run on any worker pool whose taints do not keep them off.
  const unpinned = host.kind === 'unpinned' && controllers.length > 0;
  const who = controllers.map((c) => c.who).join(', ');

  // Control planes: the cloud controller (host network) always; their host processes; add-ons pinned
  // there; and the controllers unless a worker pool runs them.
  const cpGrants: Grant[] = [{ id: 'cloud-controller', who: 'aws-cloud-controller-manager (host network)', statements: cloudControllerStatements() }];
  for (const h of facts.hostNeeds(m, 'controlplane')) cpGrants.push({ id: h.id, who: h.who, statements: h.statements });
  if (cpPods.length > 0) cpGrants.push({ id: 'etcd-snapshots', who: cpPods.join(', '), statements: etcdBackupStatements(m) });
  if (onControlPlanes) cpGrants.push(...controllers);
  const cpHop: 1 | 2 = cpPods.length > 0 || onControlPlanes ? 2 : 1;
  const elsewhere = hostPool
    ? `the AWS controllers run on pool ${hostPool} (aws.iam.controllersPool)`
    : unpinned
      ? `the AWS controllers run on untainted workers: ${host.kind === 'unpinned' ? host.why : ''}`
      : controllers.length > 0
        ? 'the AWS controllers run on the control planes'
        : 'no add-on calls AWS with the node credentials';
  const cpHopWhy =
    cpHop === 2
      ? `pods on the pod network use the node's credentials here: ${[...cpPods, ...(onControlPlanes ? controllers.map((c) => c.who) : [])].join('; ')}`
      : `nothing on the pod network of the control planes needs the node credentials (the cloud controller runs on the host network; ${elsewhere})`;

  const workerHost = facts.hostNeeds(m, 'worker');
  const natural = (p: NodePool): NodeRoleKind => (p.role === 'controlplane' ? 'controlplane' : p.gpu ? 'gpu' : 'worker');
  const hostNode = hostPool === undefined ? undefined : m.pools.find((p) => p.name === hostPool);
  // The role with the controllers' permissions: the control planes', the host pool's own kind when no
  // other pool shares it, else a role of its own.
  // Unpinned, the worker role has them and every worker pool they can land on uses it.
  const hostKind: NodeRoleKind | undefined = onControlPlanes
    ? 'controlplane'
    : unpinned
      ? 'worker'
      : hostNode && (m.pools.some((p) => p !== hostNode && natural(p) === natural(hostNode)) ? 'controllers' : natural(hostNode));
  const pools: PoolPlan[] = m.pools.map((p) => {
    const group: NodeGroup = p.role === 'controlplane' ? 'controlplane' : 'worker';
    // Unpinned, their Deployments carry no tolerations: a pool whose taints keep them off never runs them.
    const runsControllers = group === 'worker' && (unpinned ? untolerated([], p.taints).length === 0 : p.name === hostPool);
    const role: NodeRoleKind = runsControllers ? hostKind! : natural(p);
    const hopLimit: 1 | 2 = group === 'controlplane' ? cpHop : runsControllers ? 2 : 1;
    const hopWhy =
      group === 'controlplane'
        ? cpHopWhy
        : runsControllers
          ? unpinned
            ? `the AWS controllers can run here and use the node's credentials through IMDS (${who}); they are not pinned because ${host.kind === 'unpinned' ? host.why : ''}: name one pool in aws.iam.controllersPool to give the others hop limit 1`
            : `the AWS controllers run here (aws.iam.controllersPool) and use the node's credentials through IMDS (${who})`
          : unpinned
            ? "the pool's taints keep the AWS controllers off: nothing on the pod network needs the node credentials"
            : `nothing on the pod network needs the node credentials: ${elsewhere}`;
    const { cls, img } = poolImage(m, p, facts, names);
    const privateSubnets = m.aws.vpc.subnets.filter((s) => !s.public);
    const subnets = p.count === undefined ? [] : p.subnet ? [p.subnet] : privateSubnets;
    const classImage = images[img.parameter];
    const nodeImages = p.nodes.map((n) => ({ node: n, parameterName: nodeImageParameterName(n), imageId: m.aws.nodeImages[n.name] ?? classImage, pinned: m.aws.nodeImages[n.name] !== undefined }));
    return { pool: p, group, role, hopLimit, hopWhy, image: { ...img, cls, parameterName: imageParameterName(cls), imageId: classImage }, nodeImages, subnets };
  });

  const roles: NodeRolePlan[] = [{ kind: 'controlplane', name: names.role('controlplane'), grants: cpGrants }];
  for (const kind of ['worker', 'gpu', 'controllers'] as const)
    if (pools.some((p) => p.role === kind))
      roles.push({ kind, name: names.role(kind), grants: [...workerHost.map((h) => ({ id: h.id, who: h.who, statements: h.statements })), ...poolJoinGrant(m, facts, pools.filter((p) => p.role === kind)), ...(kind === hostKind ? controllers : [])] });

  const imagesByClass = new Map<string, PoolPlan['image']>();
  for (const p of pools) imagesByClass.set(p.image.cls.name, p.image);

  const d = m.cluster.datastore;
  const buckets: BucketPlan[] = [];
  if (d.type === 'etcd' && d.backup) {
    const r = facts.snapshotRetention?.(m) ?? { retention: 'the distribution prunes its own snapshots; deleted versions stay 7 days' };
    buckets.push({ name: d.backup.bucket, purpose: 'etcd snapshots', prefix: d.backup.prefix, kmsKeyId: d.backup.kmsKeyId, expireAfterDays: r.expireAfterDays, noncurrentDays: 7, retention: r.retention });
  }
  if (d.type === 'kine-sqlite')
    buckets.push({ name: d.litestream.bucket, purpose: 'Litestream replica of the SQLite datastore', prefix: d.litestream.prefix, noncurrentDays: 7, retention: 'Litestream prunes its own snapshots and WAL segments (168h retention in its rendered config); deleted versions stay 7 days' });
  const importNeeded = pools.some((p) => p.image.registration?.needsImportBucket);
  const environmentKey = buckets.some((b) => !b.kmsKeyId) || importNeeded;

  const runsEso = (r: NodeRolePlan): boolean => r.grants.some((g) => g.id === 'external-secrets');
  const from = roles.filter(runsEso).map((r) => r.kind);
  const storeRoles: StoreRolePlan[] = storeAuths(m).flatMap((s) =>
    s.auth.kind === 'assumed' ? [{ store: s.store, arn: s.auth.roleArn, name: storeRoleName(m, s.store), from, who: s.who, statements: s.statements }] : [],
  );
  const irsa = m.aws.iam.mode === 'irsa' && m.aws.iam.issuerURL ? { issuer: m.aws.iam.issuerURL.replace(/\/+$/, ''), issuerHostPath: issuerHostPath(m.aws.iam.issuerURL), roles: irsaRoles(m) } : undefined;
  return {
    model: m,
    facts,
    names,
    roles,
    pools,
    images: [...imagesByClass.values()].sort((a, b) => a.cls.name.localeCompare(b.cls.name)),
    buckets,
    environmentKey,
    ...(irsa ? { irsa } : {}),
    storeRoles,
    apiLoadBalancer: apiLoadBalancerOf(m),
    controlPlaneHopLimit: cpHop,
    controlPlaneHopWhy: cpHopWhy,
    drainsPools: drains,
  };
}

/** The nodes stack's parameter for a node class's AMI: `ImageAmd64Nvidia`. */
export const imageParameterName = (cls: ImageClass): string =>
  `Image${cls.name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((s) => s[0]!.toUpperCase() + s.slice(1))
    .join('')}`;

/** The nodes stack's parameter for a fixed node's AMI: `NodeProdCp1Image`. */
export const nodeImageParameterName = (n: Node): string =>
  `Node${n.name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((s) => s[0]!.toUpperCase() + s.slice(1))
    .join('')}Image`;

/** Every SSM parameter holding an AMI id the environment's nodes stack needs (for `--refresh-ssm`). */
export const imageParameters = (m: EnvironmentModel): string[] => {
  // Without the rest of the plan: the model here is the one before its images are locked, and a
  // whole plan of it was built for this list alone (issue 23).
  const facts = distributionOf(m).aws;
  const names = awsNames(m);
  return [...new Set(m.pools.map((p) => poolImage(m, p, facts, names).img.parameter))].sort();
};
