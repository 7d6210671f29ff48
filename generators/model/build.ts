/**
 * Model layer: a schema-valid, SSM-resolved environment document → EnvironmentModel. Pure: defaults
 * applied once, derived values computed once.
 */
import { parseInstanceType } from './aws.js';
import { DEFAULTS } from './defaults.js';
import { instanceTypeFacts, type InstanceTypeFacts } from './instance-types.js';
import type { EnvironmentInput, NodePoolInput, WorkloadInput } from './input.js';
import type { AddonOverride, ConfigTarget, Datastore, EnvironmentModel, ManagingHub, Node, NodeClass, NodePool, Subnet, Workload } from './types.js';
import { isCatalogAddon } from '../catalog/names.js';

export function minorOf(version: string): string {
  const m = /^v?(\d+)\.(\d+)/.exec(version);
  return m ? `${m[1]}.${m[2]}` : version;
}

/**
 * One Image Factory schematic per node class: arch × GPU, and a class of its own for a pool with
 * system extensions of its own (`<arch>[-nvidia]-<pool>`).
 */
function nodeClassOf(pool: NodePoolInput): NodeClass {
  const base: NodeClass = pool.gpu ? { name: `${pool.arch}-${pool.gpu.vendor}`, arch: pool.arch, gpu: pool.gpu.vendor } : { name: pool.arch, arch: pool.arch };
  const extensions = [...new Set(pool.talos?.extensions ?? [])].sort();
  return extensions.length > 0 ? { ...base, name: `${base.name}-${pool.name}`, extensions } : base;
}

function buildPool(p: NodePoolInput, subnets: Subnet[], factsOf: (t: string) => InstanceTypeFacts | undefined): NodePool {
  const facts = factsOf(p.instanceType);
  const subnetByName = new Map(subnets.map((s) => [s.name, s]));
  const poolSubnet = p.subnet ? subnetByName.get(p.subnet) : undefined;
  const nodes: Node[] = (p.nodes ?? []).map((n) => ({
    name: n.name,
    ip: n.ip,
    pool: p.name,
    role: p.role,
    subnet: n.subnet ? subnetByName.get(n.subnet) : poolSubnet,
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
    nodeClass: nodeClassOf(p),
    nodes,
    count: p.nodes ? undefined : p.count,
    size: p.nodes ? nodes.length : (p.count ?? 0),
    k3sExtraArgs: p.k3s?.extraArgs ?? {},
    talosPatches: p.talos?.patches ?? [],
    rke2ExtraArgs: p.rke2?.extraArgs ?? {},
  };
}

function buildDatastore(d: EnvironmentInput['cluster']['datastore'], distribution: EnvironmentInput['cluster']['distribution']): Datastore {
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
          // Talos' uploader never deletes: the bucket's lifecycle expires snapshots (RKE2 prunes by count).
          expireAfterDays: distribution === 'talos' ? (d.backup.expireAfterDays ?? DEFAULTS.etcdSnapshotExpireAfterDays) : undefined,
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
): EnvironmentModel {
  const subnets: Subnet[] = input.aws.vpc.subnets.map((s) => ({ name: s.name, id: s.id, cidr: s.cidr, zone: s.zone, public: s.public ?? false }));
  const pools = input.nodePools.map((p) => buildPool(p, subnets, factsOf));
  const nodes = pools.flatMap((p) => p.nodes);
  const controlPlaneNodes = nodes.filter((n) => n.role === 'controlplane');
  const configTargets: ConfigTarget[] = pools.flatMap((pool) =>
    pool.count !== undefined ? [{ name: pool.name, pool }] : pool.nodes.map((node) => ({ name: node.name, pool, node })),
  );
  const classByName = new Map<string, NodeClass>();
  for (const p of pools) classByName.set(p.nodeClass.name, p.nodeClass);
  const endpoint = new URL(input.cluster.endpoint);
  const renderedPath = DEFAULTS.renderedPath;
  const t = input.cluster.talos ?? {};
  return {
    name: input.name,
    sourceFiles,
    description: input.description,
    git: { repoURL: input.git.repoURL, targetRevision: input.git.targetRevision, renderedPath },
    renderedDir: `${renderedPath}/${input.name}`,
    aws: {
      region: input.aws.region,
      accountId: input.aws.accountId,
      vpc: { id: input.aws.vpc.id, cidr: input.aws.vpc.cidr, subnets },
      iam: { mode: input.aws.iam?.mode ?? 'instance-profile', issuerURL: input.aws.iam?.issuerURL },
      images: {},
      nodeImages: {},
      parameters: {},
    },
    cluster: {
      name: input.cluster.name,
      distribution: input.cluster.distribution,
      talosVersion: input.cluster.talosVersion,
      talosMinor: input.cluster.talosVersion ? minorOf(input.cluster.talosVersion) : undefined,
      k3sVersion: input.cluster.k3sVersion,
      rke2Version: input.cluster.rke2Version,
      kubernetesVersion: input.cluster.kubernetesVersion,
      kubernetesMinor: minorOf(input.cluster.kubernetesVersion),
      endpoint: input.cluster.endpoint,
      endpointHost: endpoint.hostname,
      endpointPort: endpoint.port ? Number(endpoint.port) : 443,
      certSANs: sortedUnique([endpoint.hostname, ...controlPlaneNodes.map((n) => n.ip), ...(input.cluster.extraSANs ?? [])]),
      datastore: buildDatastore(input.cluster.datastore, input.cluster.distribution),
      network: {
        podCIDR: input.cluster.network.podCIDR,
        serviceCIDR: input.cluster.network.serviceCIDR,
        cni: input.cluster.network.cni ?? DEFAULTS.cni,
        dnsDomain: input.cluster.network.dnsDomain ?? DEFAULTS.dnsDomain,
      },
      plannedPods: input.cluster.plannedPods ?? DEFAULTS.plannedPods,
      talos: {
        installDisk: t.installDisk ?? DEFAULTS.installDisk,
        kubeletExtraArgs: t.kubeletExtraArgs ?? {},
        apiServerExtraArgs: t.apiServerExtraArgs ?? {},
        sysctls: t.sysctls ?? {},
        extensions: t.extensions ?? [],
        patches: t.patches ?? [],
        nvidiaDriver: t.nvidiaDriver ?? DEFAULTS.nvidiaDriver,
        secretsBundle: { parameter: t.secretsBundle?.parameter ?? DEFAULTS.talosSecretsParameter(input.name), kmsKeyId: t.secretsBundle?.kmsKeyId },
      },
      k3s: {
        token: input.cluster.k3s?.token ?? { secret: `/odp/${input.name}/k3s/token` },
        agentToken: input.cluster.k3s?.agentToken ?? { secret: `/odp/${input.name}/k3s/agent-token` },
        extraArgs: input.cluster.k3s?.extraArgs ?? {},
      },
      rke2: {
        token: input.cluster.rke2?.token ?? { secret: `/odp/${input.name}/rke2/token` },
        agentToken: input.cluster.rke2?.agentToken ?? { secret: `/odp/${input.name}/rke2/agent-token` },
        extraArgs: input.cluster.rke2?.extraArgs ?? {},
      },
    },
    gitops: input.gitops ?? 'argocd',
    argocd: {
      automated: input.argocd?.automated ?? true,
      prune: input.argocd?.prune ?? true,
      selfHeal: input.argocd?.selfHeal ?? true,
      manages: [...(input.argocd?.manages ?? [])].sort(),
      ...(hub ? { hub } : {}),
    },
    pools,
    nodes,
    controlPlaneNodes,
    configTargets,
    nodeClasses: [...classByName.values()].sort((a, b) => a.name.localeCompare(b.name)),
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
        syncWave: a.syncWave,
        ...(isCatalogAddon(name) ? { chartVersion: a.chart?.version } : { chart: a.chart as AddonOverride['chart'] }),
        secrets: a.secrets ?? {},
        clusterResources: a.clusterResources ?? [],
        serverSideApply: a.serverSideApply,
        podSecurity: a.podSecurity,
        extraNamespaces: a.extraNamespaces ?? [],
      })),
    workloads: (input.workloads ?? []).map((w) => buildWorkload(w, input.cluster.name)),
  };
}
