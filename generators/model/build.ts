/**
 * Model layer: a schema-valid, SSM-resolved environment document → EnvironmentModel. Pure: defaults
 * applied once, derived values computed once; the environment's distribution builds its part.
 */
import { parseInstanceType } from './aws.js';
import { DEFAULTS } from './defaults.js';
import { instanceTypeFacts, type InstanceTypeFacts } from './instance-types.js';
import type { EnvironmentInput, NodePoolInput, WorkloadInput } from './input.js';
import type { AddonOverride, ConfigTarget, Datastore, EnvironmentModel, ManagingHub, Node, NodePool, Subnet, Workload } from './types.js';
import { distributionNamed } from '../distributions/registry.js';
import type { Distribution } from '../distributions/types.js';
import { defaultEngine, syncPolicyInput } from '../engines/registry.js';
import { isCatalogAddon } from '../catalog/index.js';

export function minorOf(version: string): string {
  const m = /^v?(\d+)\.(\d+)/.exec(version);
  return m ? `${m[1]}.${m[2]}` : version;
}

function buildPool(p: NodePoolInput, input: EnvironmentInput, d: Distribution, subnets: Subnet[], factsOf: (t: string) => InstanceTypeFacts | undefined): NodePool {
  const facts = factsOf(p.instanceType);
  const subnetByName = new Map(subnets.map((s) => [s.name, s]));
  const poolSubnet = p.subnet ? subnetByName.get(p.subnet) : undefined;
  const nodes: Node[] = (p.nodes ?? []).map((n) => ({
    name: n.name,
    ip: n.ip,
    pool: p.name,
    role: p.role,
    subnet: n.subnet ? subnetByName.get(n.subnet) : poolSubnet,
    ...(n.replacement !== undefined ? { replacement: n.replacement } : {}),
  }));
  return {
    name: p.name,
    role: p.role,
    arch: p.arch,
    instanceType: p.instanceType,
    family: parseInstanceType(p.instanceType).family,
    facts,
    subnet: poolSubnet,
    maxPods: p.maxPods ?? DEFAULTS.maxPods,
    labels: p.labels ?? {},
    taints: p.taints ?? [],
    gpu: p.gpu ? { vendor: p.gpu.vendor, perNode: p.gpu.perNode ?? facts?.gpus ?? 1 } : undefined,
    nodes,
    count: p.nodes ? undefined : p.count,
    size: poolSize(p),
    extension: d.model.pool(p, input),
  };
}

/** Nodes a pool runs: its fixed nodes, else its auto-scaled count (also read from the document alone: cost/review.ts). */
export const poolSize = (p: { nodes?: readonly unknown[]; count?: number }): number => (p.nodes ? p.nodes.length : (p.count ?? 0));

function buildDatastore(d: EnvironmentInput['cluster']['datastore']): Datastore {
  switch (d.type) {
    case 'etcd':
      return {
        type: 'etcd',
        backup: d.backup && {
          bucket: d.backup.bucket,
          prefix: d.backup.prefix ?? '',
          schedule: d.backup.schedule ?? DEFAULTS.backupSchedule,
          kmsKeyId: d.backup.kmsKeyId,
          ageRecipientPublicKey: d.backup.ageRecipientPublicKey,
          retention: d.backup.retention ?? DEFAULTS.etcdSnapshotRetention,
        },
      };
    case 'kine-postgres': {
      const pg = d.postgres!;
      return {
        type: 'kine-postgres',
        postgres: {
          host: pg.host,
          port: pg.port ?? DEFAULTS.postgresPort,
          database: pg.database,
          user: pg.user,
          password: pg.password,
          caBundlePath: pg.caBundlePath ?? DEFAULTS.rdsCaBundlePath,
        },
      };
    }
    case 'kine-sqlite': {
      const ls = d.litestream!;
      return { type: 'kine-sqlite', litestream: { bucket: ls.bucket, prefix: ls.prefix ?? '', version: ls.version ?? DEFAULTS.litestreamVersion } };
    }
  }
}

function buildWorkload(w: WorkloadInput, clusterName: string): Workload {
  const kind = w.kind ?? 'deployment';
  return {
    name: w.name,
    namespace: w.namespace ?? w.name,
    kind,
    image: w.image,
    replicas: w.replicas ?? (kind === 'cronjob' ? 1 : DEFAULTS.replicas),
    schedule: w.schedule,
    command: w.command,
    args: w.args,
    ports: (w.ports ?? []).map((p) => ({ name: p.name, port: p.port, protocol: p.protocol ?? 'TCP' })),
    metricsPort: w.metricsPort,
    metricsPath: w.metricsPath ?? DEFAULTS.metricsPath,
    // Kubernetes' order: later envFrom sources win over earlier ones, env wins over envFrom.
    env: Object.assign({}, ...(w.envFrom ?? []), w.env ?? {}) as Workload['env'],
    configFiles: w.configFiles ?? {},
    resources: {
      // The rules guarantee cpu and memory requests before a model is built.
      requests: { cpu: w.resources?.requests?.cpu ?? '', memory: w.resources?.requests?.memory ?? '' },
      limits: { cpu: w.resources?.limits?.cpu, memory: w.resources?.limits?.memory ?? w.resources?.requests?.memory ?? '' },
    },
    runAsUser: w.runAsUser,
    liveness: w.liveness,
    readiness: w.readiness,
    placement: { arch: w.placement?.arch ?? 'any', gpu: w.placement?.gpu, pool: w.placement?.pool },
    ingress: w.ingress && {
      host: w.ingress.host,
      path: w.ingress.path ?? '/',
      port: w.ingress.port,
      scheme: w.ingress.scheme ?? 'internal',
      certificateArn: w.ingress.certificateArn,
      groupName: w.ingress.groupName ?? `${clusterName}-${(w.ingress.scheme ?? 'internal') === 'internal' ? 'internal' : 'public'}`,
    },
    autoscaling: w.autoscaling && {
      minReplicas: w.autoscaling.minReplicas ?? w.replicas ?? DEFAULTS.replicas,
      maxReplicas: w.autoscaling.maxReplicas,
      targetCPUUtilization: w.autoscaling.targetCPUUtilization ?? DEFAULTS.hpaTargetCPUUtilization,
    },
    disruptionBudget: w.disruptionBudget,
    volumes: w.volumes ?? [],
    serviceAccount: w.serviceAccount ?? {},
    network: { ingressFrom: w.network?.ingressFrom ?? [], egressTo: w.network?.egressTo ?? [] },
  };
}

const sortedUnique = (xs: Iterable<string>): string[] => [...new Set(xs)].sort();

export function buildModel(
  input: EnvironmentInput,
  sourceFiles: string[],
  factsOf: (t: string) => InstanceTypeFacts | undefined = instanceTypeFacts,
  hub?: ManagingHub,
  stages: Record<string, number> = {},
  clusters: Record<string, { name?: string; server?: string }> = {},
): EnvironmentModel {
  const d = distributionNamed(input.cluster.distribution);
  if (!d) throw new Error(`no distribution '${input.cluster.distribution}' is registered`);
  const subnets: Subnet[] = input.aws.vpc.subnets.map((s) => ({ name: s.name, id: s.id, cidr: s.cidr, zone: s.zone, public: s.public ?? false }));
  const pools = input.nodePools.map((p) => buildPool(p, input, d, subnets, factsOf));
  const nodes = pools.flatMap((p) => p.nodes);
  const controlPlaneNodes = nodes.filter((n) => n.role === 'controlplane');
  const configTargets: ConfigTarget[] = pools.flatMap((pool) =>
    pool.count !== undefined ? [{ name: pool.name, pool }] : pool.nodes.map((node) => ({ name: node.name, pool, node })),
  );
  const endpoint = new URL(input.cluster.endpoint);
  const renderedPath = DEFAULTS.renderedPath;
  const sync = syncPolicyInput(input);
  return {
    name: input.name,
    sourceFiles,
    description: input.description,
    git: { repoURL: input.git.repoURL, targetRevision: input.git.targetRevision, renderedPath },
    renderedDir: `${renderedPath}/${input.name}`,
    aws: {
      region: input.aws.region,
      accountId: input.aws.accountId,
      vpc: { id: input.aws.vpc.id, cidr: input.aws.vpc.cidr, operatorCidrs: [...(input.aws.vpc.operatorCidrs ?? [])].sort(), subnets },
      iam: { mode: input.aws.iam?.mode ?? 'instance-profile', issuerURL: input.aws.iam?.issuerURL, ...(input.aws.iam?.controllersPool ? { controllersPool: input.aws.iam.controllersPool } : {}) },
      images: {},
      nodeImages: {},
      nodeImageArch: {},
      parameters: {},
    },
    cluster: {
      name: input.cluster.name,
      distribution: input.cluster.distribution,
      kubernetesVersion: input.cluster.kubernetesVersion,
      kubernetesMinor: minorOf(input.cluster.kubernetesVersion),
      endpoint: input.cluster.endpoint,
      endpointHost: endpoint.hostname,
      endpointPort: endpoint.port ? Number(endpoint.port) : 443,
      certSANs: sortedUnique([endpoint.hostname, ...controlPlaneNodes.map((n) => n.ip), ...(input.cluster.extraSANs ?? [])]),
      datastore: buildDatastore(input.cluster.datastore),
      network: {
        podCIDR: input.cluster.network.podCIDR,
        serviceCIDR: input.cluster.network.serviceCIDR,
        cni: input.cluster.network.cni ?? DEFAULTS.cni,
        dnsDomain: input.cluster.network.dnsDomain ?? DEFAULTS.dnsDomain,
      },
      plannedPods: input.cluster.plannedPods ?? DEFAULTS.plannedPods,
      extension: d.model.cluster(input),
    },
    gitops: input.gitops ?? defaultEngine().name,
    sync: {
      automated: sync?.automated ?? true,
      prune: sync?.prune ?? true,
      selfHeal: sync?.selfHeal ?? true,
    },
    fleet: {
      manages: [...(sync?.manages ?? [])].sort(),
      decommission: [...(sync?.decommission ?? [])].sort(),
      stages,
      clusters,
      ...(sync?.rollingSync ? { rollingSync: { ...(sync.rollingSync.maxUpdate !== undefined ? { maxUpdate: sync.rollingSync.maxUpdate } : {}) } } : {}),
      ...(hub ? { hub } : {}),
    },
    pools,
    nodes,
    controlPlaneNodes,
    configTargets,
    hasGpu: pools.some((p) => p.gpu !== undefined),
    arches: sortedUnique(pools.map((p) => p.arch)) as EnvironmentModel['arches'],
    podCapacity: pools.filter((p) => p.role === 'worker').reduce((n, p) => n + p.size * p.maxPods, 0),
    addons: Object.entries(input.addons ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, a]) => ({
        name,
        enabled: a.enabled,
        namespace: a.namespace,
        values: a.values ?? {},
        settings: a.settings ?? {},
        ...(isCatalogAddon(name) ? { chartVersion: a.chart?.version } : { chart: a.chart as AddonOverride['chart'] }),
        secrets: a.secrets ?? {},
        clusterResources: a.clusterResources ?? [],
        serverSideApply: a.serverSideApply,
        podSecurity: a.podSecurity,
        extraNamespaces: a.extraNamespaces ?? [],
      })),
    workloads: (input.workloads ?? []).map((w) => buildWorkload(w, input.cluster.name)),
    freeze: (input.promotion?.freeze ?? []).map((w) => ({ ...w })),
  };
}
