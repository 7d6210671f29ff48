/** Semantic rules for `workloads:` (what the schema cannot say), each with a position and a hint. */
import { secretShape } from '../lib/secrets.js';
import { catalogEntry, catalogNames, isCatalogAddon } from '../catalog/index.js';
import { cronNeverRuns, cronProblem } from '../lib/cron.js';
import { dataKeyProblem, dns1035LabelProblem, ingressHostProblem, SYSTEM_NAMESPACES } from '../lib/k8s-names.js';
import { formatPath, type DocPath } from '../lib/paths.js';
import { parseQuantity } from '../lib/quantity.js';
import { hintFor } from '../lib/suggest.js';
import { untolerated, type Taint } from '../lib/scheduling.js';
import { DEFAULTS } from '../model/defaults.js';
import { eligiblePools, GPU_TOLERATION, placementOfInput, poolViewOfInput, poolViewsOfInput, tolerationsOf } from '../model/placement.js';
import { INSTANCE_TYPES } from '../model/instance-types.js';
import type { EnvironmentInput, WorkloadInput } from '../model/input.js';
import { GENERATED_VOLUMES, IRSA_TOKEN_DIR, RESERVED_WORKLOAD_NAMES, TMP_DIR } from '../plan/workload-constants.js';
import { configKey, configMapName, envSecretName, headlessServiceName, NAMESPACE_APP_PREFIX, namespaceAppName } from '../plan/workloads.js';
import { engineNamed, engines } from '../engines/registry.js';
import { distributionNamed } from '../distributions/registry.js';
import { addonUnitNames, partUnitName, reservedNames } from './rules-names.js';
import { factsOf, type Reporter, type Rule } from './rules.js';

const each = (ws: WorkloadInput[] | undefined, fn: (w: WorkloadInput, at: DocPath) => void): void => (ws ?? []).forEach((w, i) => fn(w, ['workloads', i]));

/** Image reference without a tag or digest, or with the tag `latest`. */
export function imageTag(image: string): { tag?: string; digest?: string } {
  const at = image.indexOf('@');
  const digest = at === -1 ? undefined : image.slice(at + 1);
  const name = at === -1 ? image : image.slice(0, at);
  const lastSlash = name.lastIndexOf('/');
  const colon = name.indexOf(':', lastSlash + 1);
  return { tag: colon === -1 ? undefined : name.slice(colon + 1), digest };
}

const imagePinned: Rule = ({ input }, report) =>
  each(input.workloads, (w, at) => {
    const { tag, digest } = imageTag(w.image);
    // With a digest the runtime pulls by digest and never resolves the tag (containerd core/remotes/docker/resolver.go
    // at 0064878, dockerResolver.Resolve: a reference with a digest asks manifests/<digest>), as the rendered check
    // policy.pinned-images accepts it (rendered/policies.ts): ':latest@sha256:…' is pinned.
    if (tag === 'latest' && digest === undefined)
      report('workload-image-pinned', [...at, 'image'], `image '${w.image}' uses the tag 'latest', which changes under the same name`, {
        hint: 'pin a release tag (e.g. :1.4.2) or a digest (@sha256:…) so that a render always means the same image',
      });
    else if (tag === undefined && digest === undefined)
      report('workload-image-pinned', [...at, 'image'], `image '${w.image}' has no tag or digest (it means :latest)`, { hint: 'add a release tag (e.g. :1.4.2) or a digest (@sha256:…)' });
  });

const requests: Rule = ({ input }, report) =>
  each(input.workloads, (w, at) => {
    const req = w.resources?.requests;
    const missing = (['cpu', 'memory'] as const).filter((r) => req?.[r] === undefined);
    if (missing.length > 0)
      report('workload-requests', req ? [...at, 'resources', 'requests'] : w.resources ? [...at, 'resources'] : at, `workload '${w.name}' has no ${missing.join(' or ')} request`, {
        hint: 'every container declares resources.requests: { cpu, memory } so the scheduler can place it and capacity can be planned (the memory limit defaults to the request)',
        key: req === undefined,
      });
    const lim = w.resources?.limits;
    for (const r of ['cpu', 'memory'] as const) {
      const q = req?.[r] === undefined ? undefined : parseQuantity(req[r]!);
      const l = lim?.[r] === undefined ? undefined : parseQuantity(lim[r]!);
      if (q !== undefined && l !== undefined && l < q)
        report('workload-requests', [...at, 'resources', 'limits', r], `${r} limit ${lim![r]} is below the request ${req![r]}`, { hint: 'a limit must be at least the request' });
    }
  });

/**
 * A memory quantity without a unit is bytes (Kubernetes' reading of `memory: 1024`): under 1 MiB no
 * container can run, so the unit was forgotten. Larger unit-less values are taken as the bytes they say.
 * The suffix `m` is milli (k8s.io/apimachinery resource.Quantity: `m` = 10^-3), so `memory: 512m` is
 * half a byte, which Kubernetes accepts and rounds up: always a slip for Mi or M.
 */
const MIB = 2 ** 20;

const memoryUnit: Rule = ({ input }, report) =>
  each(input.workloads, (w, at) => {
    for (const kind of ['requests', 'limits'] as const) {
      const v = w.resources?.[kind]?.memory;
      const milli = v === undefined ? undefined : /^([0-9]+(?:\.[0-9]+)?)m$/.exec(v);
      if (milli) {
        report('workload-memory-unit', [...at, 'resources', kind, 'memory'], `memory ${v} is ${Number(milli[1]) / 1000} bytes: the suffix m is milli (thousandths), not mega`, {
          hint: `write ${milli[1]}Mi (${milli[1]} MiB) or ${milli[1]}M (${milli[1]} megabytes)`,
        });
        continue;
      }
      if (v === undefined || !/^[0-9]+(\.[0-9]+)?$/.test(v) || parseQuantity(v)! >= MIB) continue;
      report('workload-memory-unit', [...at, 'resources', kind, 'memory'], `memory ${v} is ${v} bytes: Kubernetes reads a quantity without a unit as bytes, and no container runs in less than 1 MiB`, {
        hint: `add the unit: ${v}Mi (${v} MiB) or ${v}Gi`,
      });
    }
  });

/**
 * A volume under 1 GiB (`size: 50`, 50 bytes: Kubernetes reads a quantity without a unit as bytes, and `m` as milli):
 * the smallest EBS volume of the default StorageClass's type is 1 GiB (gp3: 1 GiB to 16 TiB, AWS EBS User Guide,
 * "Amazon EBS volume types"), so the unit was forgotten and the claim would give a volume of another size than written.
 */
const GIB = 2 ** 30;

const volumeSizes: Rule = ({ input }, report) =>
  each(input.workloads, (w, at) =>
    (w.volumes ?? []).forEach((v, j) => {
      const bytes = parseQuantity(v.size);
      if (bytes === undefined || bytes >= GIB) return;
      const number = /^([0-9]+(?:\.[0-9]+)?)/.exec(v.size)![1];
      report('workload-volume-size', [...at, 'volumes', j, 'size'], `volume ${v.name} asks for ${v.size}, which is ${bytes < 1 ? 'less than one byte' : `${bytes} bytes`}: under 1 GiB, the smallest EBS volume (gp3)`, {
        hint: `add the unit: size: ${number}Gi (a quantity without a unit is bytes${/m$/.test(v.size) ? '; m is milli, not mega' : ''})`,
      });
    }));

/**
 * A StatefulSet's EBS volumes are zonal, and its pods follow them. The default StorageClass binds on the first
 * consumer (volumeBindingMode WaitForFirstConsumer, catalog/aws-ebs-csi-driver.ts): each claim's volume is created in
 * the zone of the node its pod was first scheduled to, and the PersistentVolume carries a required nodeAffinity on
 * that zone (aws-ebs-csi-driver pkg/driver/controller.go newCreateVolumeResponse: AccessibleTopology = the disk's
 * AvailabilityZone under topology.kubernetes.io/zone, pkg/driver/driver.go WellKnownZoneTopologyKey; Kubernetes docs
 * concepts/storage/persistent-volumes "Node Affinity" and storage-classes "Volume Binding Mode"). From then on the
 * pod can only run on a node of that zone. An auto-scaled pool without `subnet` spans every private subnet
 * (VPCZoneIdentifier, infra/aws/plan.ts); with fewer instances than zones some zone has none, and the roll
 * (launch first, infra/aws/roll.ts) starts each new instance in a zone with the fewest, one the pool has no node in:
 * the replaced node leaves its zone, and a pod whose volume was there stays Pending ("volume node affinity conflict")
 * until a node of that zone returns. Zones another pool the workload may land on keeps a node in (fixed nodes, a
 * pool pinned to a subnet, a pool with a node per zone) are safe. An error: the first roll strands the pod. A
 * cluster that accepts it (a scratch environment) acknowledges it, and it stays printed as a warning.
 */
const volumeZones: Rule = ({ input }, report) => {
  const zoneOf = new Map(input.aws.vpc.subnets.map((s) => [s.name, s.zone]));
  const privateZones = [...new Set(input.aws.vpc.subnets.filter((s) => s.public !== true).map((s) => s.zone))].sort();
  const views = poolViewsOfInput(input);
  each(input.workloads, (w, at) => {
    if ((w.kind ?? 'deployment') !== 'statefulset' || !w.volumes || w.volumes.length === 0) return;
    const eligible = new Set(eligiblePools(views, placementOfInput(w)).map((p) => p.name));
    const pools = input.nodePools.filter((p) => eligible.has(p.name));
    // Zones some eligible pool always keeps a node in, and the pools that may leave a zone of theirs empty.
    const kept = new Set<string>();
    const loose: { name: string; count: number; zones: string[] }[] = [];
    for (const p of pools) {
      if (p.nodes) p.nodes.forEach((n) => { const z = zoneOf.get(n.subnet ?? p.subnet ?? ''); if (z) kept.add(z); });
      else if (p.subnet !== undefined) { const z = zoneOf.get(p.subnet); if (z) kept.add(z); }
      else if ((p.count ?? 0) >= privateZones.length) privateZones.forEach((z) => kept.add(z));
      else loose.push({ name: p.name, count: p.count ?? 0, zones: privateZones });
    }
    const stranded = [...new Set(loose.flatMap((l) => l.zones))].filter((z) => !kept.has(z));
    if (loose.length === 0 || stranded.length === 0) return;
    const path: DocPath = [...at, 'volumes'];
    const pool = loose[0]!;
    const message = `statefulset '${w.name}' has EBS volumes (zonal: a pod follows its volume's zone) and may run on pool ${loose.map((l) => `'${l.name}' (count ${l.count}, no subnet: spans ${l.zones.length} zones, ${l.zones.join(', ')})`).join(', ')}: with fewer nodes than zones a roll or scale-in leaves a zone without a node (any of ${stranded.join(', ')}), and a pod whose volume is in it stays Pending`;
    const ack = input.acknowledge?.find((a) => a.rule === 'workload-volume-zone' && a.path === formatPath(path));
    if (ack) report('workload-volume-zone', path, `${message}; acknowledged: ${ack.reason}`, { severity: 'warning', loud: true, hint: 'remove the acknowledgement once the pool is pinned or sized' });
    else
      report('workload-volume-zone', path, message, {
        hint: `pin pool ${pool.name} to one zone (subnet: ${input.aws.vpc.subnets.find((s) => s.public !== true)?.name ?? '<private subnet>'}), or give it a node per zone (count: ${pool.zones.length}), or acknowledge it with a reason (acknowledge: rule workload-volume-zone, path ${formatPath(path)})`,
        key: true,
      });
  });
};

/**
 * A plain value in `env` under a name that says it is a secret (DB_PASSWORD, API_TOKEN …): `env`
 * values are rendered into the Deployment in plain, in git; a secret goes in as { secret: /path }
 * (an ExternalSecret from SSM). A value that is itself a reference to one (a file path, a URL
 * without credentials, an SSM or ARN name) is left alone.
 */
const SECRET_NAME = /(^|_)(PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|PRIVATE_KEY|ACCESS_KEY|CREDENTIALS?)(_|$)/i;
const NAMES_A_SECRET = /^(\/|[a-z][a-z0-9+.-]*:\/\/[^@\s]*$|arn:|\$\()/i;

const plainSecrets: Rule = ({ input }, report) =>
  each(input.workloads, (w, at) => {
    for (const [name, v] of Object.entries(w.env ?? {})) {
      if (typeof v !== 'string' || v === '') continue;
      const hint = `store it as an SSM SecureString and write ${name}: { secret: /odp/<env>/… } (delivered through an ExternalSecret)`;
      if (SECRET_NAME.test(name) && !NAMES_A_SECRET.test(v))
        report('workload-env-secret', [...at, 'env', name], `env ${name} looks like a secret written in plain: env values are rendered into the Deployment, in git`, { hint });
      else {
        // Whatever the name: secret material the rendered-tree policy would refuse after the write
        // (a URL with a password, an access key, a token), refused here before anything is written.
        const shape = secretShape(name, v);
        if (shape)
          report('workload-env-secret', [...at, 'env', name], `env ${name} holds a secret-shaped value (${shape.kind}) written in plain: env values are rendered into the Deployment, in git`, {
            hint: shape.kind === 'password in a URL' ? `store the whole URL as an SSM SecureString and write ${name}: { secret: /odp/<env>/… } (delivered through an ExternalSecret)` : hint,
          });
      }
    }
  });

const kinds: Rule = ({ input }, report) =>
  each(input.workloads, (w, at) => {
    const kind = w.kind ?? 'deployment';
    if (kind === 'cronjob' && !w.schedule) report('workload-kind', at, `cronjob '${w.name}' needs a schedule`, { hint: 'add schedule: "30 2 * * *" (UTC)', key: true });
    if (kind !== 'cronjob' && w.schedule) report('workload-kind', [...at, 'schedule'], `schedule is only used by kind cronjob, not ${kind}`, { key: true, hint: 'remove schedule, or set kind: cronjob' });
    if (kind === 'cronjob') {
      for (const f of ['ingress', 'autoscaling', 'disruptionBudget', 'volumes', 'replicas'] as const)
        if (w[f] !== undefined) report('workload-kind', [...at, f], `a cronjob has no ${f}`, { hint: 'batch work runs one pod per schedule; use kind deployment or statefulset for a service', key: true });
    }
    if (kind === 'statefulset' && !(w.ports && w.ports.length > 0))
      report('workload-kind', at, `statefulset '${w.name}' needs at least one port: its headless Service, which gives the pods their stable DNS names, is built from the ports`, {
        hint: 'add ports: [{ name: …, port: … }], or use kind deployment if the pods need no stable names',
        key: true,
      });
    if (w.volumes && w.volumes.length > 0 && kind !== 'statefulset')
      report('workload-kind', [...at, 'volumes'], `persistent volumes need kind statefulset, not ${kind}`, {
        hint: 'EBS volumes are ReadWriteOnce: each replica needs its own claim, which a StatefulSet gives (set kind: statefulset)',
        key: true,
      });
    // With an HPA the Deployment carries no replica count (the HPA owns it) and replicas only defaults
    // minReplicas: next to a different minReplicas it would be silently ignored.
    if (w.autoscaling?.minReplicas !== undefined && w.replicas !== undefined && w.replicas !== w.autoscaling.minReplicas)
      report('workload-replicas-unused', [...at, 'replicas'], `replicas ${w.replicas} is not used: with autoscaling the HPA owns the replica count and starts at minReplicas ${w.autoscaling.minReplicas}`, {
        hint: `remove replicas, or set it equal to autoscaling.minReplicas (${w.autoscaling.minReplicas})`,
        key: true,
      });
    const pdb = w.disruptionBudget;
    if (pdb && pdb.minAvailable !== undefined && pdb.maxUnavailable !== undefined)
      report('workload-kind', [...at, 'disruptionBudget'], 'give minAvailable or maxUnavailable, not both', { key: true, hint: 'a PodDisruptionBudget takes one of them; keep the one you mean and remove the other' });
  });

const ports: Rule = ({ input }, report) =>
  each(input.workloads, (w, at) => {
    const names = (w.ports ?? []).map((p) => p.name);
    const ref = (path: DocPath, name: string | undefined, what: string): void => {
      if (name !== undefined && !names.includes(name))
        report('workload-port-ref', path, `${what} '${name}' is not a port of workload '${w.name}'`, { hint: hintFor(name, names) ?? (names.length ? `ports: ${names.join(', ')}` : 'declare ports: [{ name, port }]') });
    };
    ref([...at, 'metricsPort'], w.metricsPort, 'metricsPort');
    ref([...at, 'ingress', 'port'], w.ingress?.port, 'ingress port');
    if (w.ingress && names.length === 0) report('workload-port-ref', [...at, 'ingress'], `workload '${w.name}' has an ingress but no ports`, { hint: 'declare the port the ALB sends traffic to', key: true });
    for (const probe of ['liveness', 'readiness'] as const) {
      const p = w[probe];
      if (!p) continue;
      if ((p.httpGet !== undefined) === (p.tcp === true)) report('workload-port-ref', [...at, probe], `${probe} needs exactly one of httpGet: /path or tcp: true`, { key: true, hint: `e.g. ${probe}: { port: http, httpGet: /healthz } or ${probe}: { port: http, tcp: true }` });
      if (p.port === undefined && names.length === 0) report('workload-port-ref', [...at, probe], `${probe} has no port: the workload declares none`, { hint: 'set port: N on the probe or declare ports', key: true });
    }
    const seen = new Set<string>();
    const numbers = new Map<string, string>();
    (w.ports ?? []).forEach((p, j) => {
      if (seen.has(p.name)) report('workload-port-ref', [...at, 'ports', j, 'name'], `port name '${p.name}' is used twice`, { hint: 'give each port its own name: probes, the Service and network rules refer to ports by name' });
      seen.add(p.name);
      const number = `${p.port}/${p.protocol ?? 'TCP'}`;
      const first = numbers.get(number);
      if (first !== undefined && first !== p.name)
        report('workload-port-unique', [...at, 'ports', j, 'port'], `port ${number} is declared twice (as '${first}' and '${p.name}')`, {
          hint: 'Kubernetes refuses a Service with two ports of one number and protocol; give each port its own number (TCP and UDP may share one)',
        });
      if (first === undefined) numbers.set(number, p.name);
    });
  });

/** The smallest type of the instance table in the family of `type` with at least `gpus` GPUs, in words. */
function biggerGpuType(type: string, gpus: number): string | undefined {
  const family = type.split('.')[0];
  const fits = [...INSTANCE_TYPES].filter(([n, f]) => n.split('.')[0] === family && f.gpus >= gpus).sort(([, a], [, b]) => a.gpus - b.gpus || a.vcpu - b.vcpu);
  const [name, f] = fits[0] ?? [];
  return name && f ? `${name} (${f.gpus} ${f.gpuModel ?? ''} GPUs, instance table)`.replace('  ', ' ') : undefined;
}

const placement: Rule = (ctx, report) => {
  const { input } = ctx;
  const workers = input.nodePools.filter((p) => p.role === 'worker');
  const gpuPools = workers.filter((p) => p.gpu);
  // GPUs per node from perNode, else the instance table (or the EC2 lock), not a guess of one.
  const facts = factsOf(ctx);
  const gpusOf = (p: (typeof gpuPools)[number]): number => poolViewOfInput(p, facts).gpus;
  each(input.workloads, (w, at) => {
    const pl = w.placement;
    if (!pl) return;
    const arch = pl.arch ?? 'any';
    if (arch !== 'any' && !workers.some((p) => p.arch === arch && !p.gpu) && !(pl.gpu && gpuPools.some((p) => p.arch === arch)))
      report('workload-arch-pool', [...at, 'placement', 'arch'], `workload '${w.name}' runs on ${arch} only, but this environment has no ${arch} worker pool`, {
        hint: `worker pools: ${workers.map((p) => `${p.name} (${p.arch})`).join(', ') || 'none'}; add an ${arch} pool, or use arch: any with a multi-arch image`,
      });
    if (pl.gpu !== undefined) {
      if (gpuPools.length === 0)
        report('workload-gpu-pool', [...at, 'placement', 'gpu'], `workload '${w.name}' asks for ${pl.gpu} GPU(s), but this environment has no GPU pool`, {
          hint: 'add a worker pool with gpu: { vendor: nvidia } (e.g. instanceType g5.xlarge), or remove placement.gpu here',
        });
      else {
        // A GPU pool on a type without a GPU is gpu-instance-family's finding (the type is the mistake there).
        const most = Math.max(...gpuPools.map(gpusOf));
        if (pl.gpu > most && most > 0) {
          const pool = gpuPools.find((p) => gpusOf(p) === most)!;
          const bigger = biggerGpuType(pool.instanceType, pl.gpu);
          report('workload-gpu-pool', [...at, 'placement', 'gpu'], `${pl.gpu} GPUs per pod, but GPU nodes here have at most ${most} (${gpuPools.map((p) => `pool ${p.name}: ${p.instanceType}, ${gpusOf(p)} GPU${gpusOf(p) === 1 ? '' : 's'}`).join('; ')}), and a pod cannot span nodes`, {
            hint: `set placement.gpu: ${most}${bigger ? `, or move pool ${pool.name} to ${bigger}` : `, or move pool ${pool.name} to a type with ${pl.gpu} or more GPUs`}`,
          });
        }
        if (arch !== 'any' && !gpuPools.some((p) => p.arch === arch))
          report('workload-gpu-pool', [...at, 'placement', 'arch'], `no ${arch} GPU pool (GPU pools: ${gpuPools.map((p) => `${p.name} (${p.arch})`).join(', ')})`, { hint: `set placement.arch to the arch of a GPU pool (or any), or add an ${arch} pool with gpu: { vendor: nvidia }` });
      }
    }
    if (pl.pool !== undefined) {
      const pool = input.nodePools.find((p) => p.name === pl.pool);
      if (!pool) report('workload-pool-ref', [...at, 'placement', 'pool'], `no node pool named '${pl.pool}'`, { hint: hintFor(pl.pool, workers.map((p) => p.name)) ?? `worker pools: ${workers.map((p) => p.name).join(', ')}` });
      else if (pool.role !== 'worker') report('workload-pool-ref', [...at, 'placement', 'pool'], `pool '${pl.pool}' is a control-plane pool`, { hint: 'workloads run on worker pools' });
      else if (Object.keys(pool.labels ?? {}).length === 0)
        report('workload-pool-ref', [...at, 'placement', 'pool'], `pool '${pl.pool}' has no labels to select its nodes by`, { hint: `add labels: { node.opendev.dev/pool: ${pl.pool} } to the pool` });
      else if (arch !== 'any' && pool.arch !== arch) report('workload-pool-ref', [...at, 'placement', 'pool'], `pool '${pl.pool}' is ${pool.arch}, but the workload asks for ${arch}`, { hint: `set placement.arch: ${pool.arch} (or any), or name a ${arch} pool` });
    }
  });
};

const serviceAccounts: Rule = ({ input }, report) =>
  each(input.workloads, (w, at) => {
    if (w.serviceAccount?.iamRoleArn !== undefined && input.aws.iam?.mode !== 'irsa')
      report('workload-irsa', [...at, 'serviceAccount', 'iamRoleArn'], `an IAM role per workload needs IRSA, but aws.iam.mode is ${input.aws.iam?.mode ?? 'instance-profile'}`, {
        hint: 'set aws.iam: { mode: irsa, issuerURL: … }, or remove iamRoleArn (pods then use the node instance profile)',
      });
  });

const network: Rule = ({ input }, report) => {
  const ws = input.workloads ?? [];
  const names = ws.map((w) => w.name);
  const byName = new Map(ws.map((w) => [w.name, w]));
  each(ws, (w, at) => {
    (w.network?.ingressFrom ?? []).forEach((from, j) => {
      if (from.startsWith('namespace/')) return;
      if (!byName.has(from))
        report('workload-network-ref', [...at, 'network', 'ingressFrom', j], `no workload named '${from}'`, { hint: hintFor(from, names) ?? "name a workload, or 'namespace/<name>' for a whole namespace" });
    });
    (w.network?.egressTo ?? []).forEach((to, j) => {
      const path: DocPath = [...at, 'network', 'egressTo', j];
      if ((to.workload === undefined) === (to.cidr === undefined)) report('workload-network-ref', path, 'give exactly one of workload or cidr', { hint: 'workload: <name> for a workload of this environment, cidr: <a.b.c.d/n> for addresses outside the cluster' });
      if (to.workload !== undefined) {
        const peer = byName.get(to.workload);
        if (!peer) report('workload-network-ref', [...path, 'workload'], `no workload named '${to.workload}'`, { hint: hintFor(to.workload, names) });
        else if (!(peer.network?.ingressFrom ?? []).some((f) => f === w.name || f === `namespace/${w.namespace ?? w.name}`))
          report('workload-network-ref', [...path, 'workload'], `'${to.workload}' does not accept traffic from '${w.name}': its default-deny policy will drop it`, {
            severity: 'warning',
            hint: `add '${w.name}' to network.ingressFrom of '${to.workload}'`,
          });
        else if (!to.ports && (peer.ports ?? []).length === 0) report('workload-network-ref', [...path, 'workload'], `'${to.workload}' declares no ports`, { hint: 'give ports: [N]' });
      }
    });
  });
};

/** Namespaces of Kubernetes itself: a workload namespace's Application would take them over. */
export { SYSTEM_NAMESPACES };

/** The namespaces of the add-ons that may be rendered (catalog and third-party), by namespace. */
function addonNamespaces(input: EnvironmentInput): Map<string, string> {
  const out = new Map<string, string>();
  const addons = input.addons ?? {};
  // Add-ons sharing a namespace (a chart and the manifests beside it): the first in catalog order owns it.
  for (const name of catalogNames()) {
    const ns = addons[name]?.namespace ?? catalogEntry(name).namespace;
    if (addons[name]?.enabled !== false && !out.has(ns)) out.set(ns, name);
  }
  for (const [name, a] of Object.entries(addons)) if (!isCatalogAddon(name) && a.enabled !== false && a.chart) out.set(a.namespace ?? name, name);
  return out;
}

const workloadNames: Rule = ({ input }, report) => {
  // Each workload namespace gets its own unit (and manifests directory), namespace-<ns>.
  const namespaceApps = new Set((input.workloads ?? []).map((w) => namespaceAppName(w.namespace ?? w.name)));
  const thirdParty = Object.keys(input.addons ?? {}).filter((n) => !isCatalogAddon(n));
  const taken = addonNamespaces(input);
  const engine = (engineNamed(input.gitops) ?? engines()[0]!).text;
  const reserved = reservedNames();
  const units = addonUnitNames([...catalogNames(), ...thirdParty]);
  each(input.workloads, (w, at) => {
    if (RESERVED_WORKLOAD_NAMES.includes(w.name))
      report('workload-reserved-name', [...at, 'name'], `'${w.name}' is the name of a namespace-wide NetworkPolicy`, { hint: `reserved: ${RESERVED_WORKLOAD_NAMES.join(', ')}` });
    if (namespaceApps.has(w.name))
      report('workload-reserved-name', [...at, 'name'], `'${w.name}' is the name of the ${engine.unit} of namespace '${w.name.slice(NAMESPACE_APP_PREFIX.length)}'`, {
        hint: `workload names must not start with '${NAMESPACE_APP_PREFIX}' followed by a workload namespace`,
      });
    if (isCatalogAddon(w.name) || thirdParty.includes(w.name))
      report('workload-reserved-name', [...at, 'name'], `'${w.name}' is the name of ${isCatalogAddon(w.name) ? 'a catalog' : 'an'} add-on: both would be the ${engine.unit} ${engine.unitFile(w.name)} and the directory manifests/${w.name}/`, {
        hint: `add-on names are reserved for their ${engine.unitShort}s (${isCatalogAddon(w.name) ? 'catalog add-ons even when not enabled here' : 'this environment declares the add-on'}); rename the workload`,
      });
    const own = reserved.get(w.name);
    if (own) report('workload-reserved-name', [...at, 'name'], `'${w.name}' is the name of ${own.what} ${own.where}`, { hint: 'rename the workload' });
    const part = partUnitName(w.name);
    if (part) report('workload-reserved-name', [...at, 'name'], `'${w.name}' is the name of ${part.what}`, { hint: 'rename the workload: these names are reserved in every environment' });
    const unit = units.get(w.name);
    if (unit)
      report('workload-reserved-name', [...at, 'name'], `'${w.name}' is the name of ${unit.what} ${unit.where}`, {
        hint: 'rename the workload: the names of add-ons\' units are reserved under every engine, for catalog add-ons even when not enabled here',
      });
    const ns = w.namespace ?? w.name;
    const nsPath: DocPath = w.namespace === undefined ? [...at, 'name'] : [...at, 'namespace'];
    if (w.namespace === undefined && (isCatalogAddon(w.name) || thirdParty.includes(w.name))) return; // reported above
    if (SYSTEM_NAMESPACES.includes(ns))
      report('workload-reserved-name', nsPath, `namespace '${ns}' belongs to Kubernetes itself`, {
        hint: `the Application ${namespaceAppName(ns)} would own that Namespace and label it Pod Security restricted, which the system pods there do not meet; give the workload a namespace of its own`,
      });
    else if (taken.has(ns))
      report('workload-reserved-name', nsPath, `namespace '${ns}' belongs to add-on ${taken.get(ns)}`, {
        hint: `the Application ${namespaceAppName(ns)} would take over the add-on's Namespace (its Pod Security labels and default-deny policies); give the workload a namespace of its own`,
      });
  });
};

/** The namespaced objects one workload renders, as kind/name (see render/workloads/objects.ts). */
function objectNames(w: WorkloadInput): string[] {
  const kind = w.kind ?? 'deployment';
  const names = [`ServiceAccount/${w.name}`, `${kind}/${w.name}`];
  if (kind !== 'cronjob' && (w.ports ?? []).length > 0) names.push(`Service/${w.name}`);
  if (kind === 'statefulset') names.push(`Service/${headlessServiceName(w)}`);
  if (Object.keys(w.configFiles ?? {}).length > 0) names.push(`ConfigMap/${configMapName(w)}`);
  if (Object.values(w.env ?? {}).some((v) => typeof v !== 'string')) names.push(`ExternalSecret/${envSecretName(w)}`, `Secret/${envSecretName(w)}`);
  return names;
}

const objectCollisions: Rule = ({ input }, report) => {
  const owners = new Map<string, string>();
  each(input.workloads, (w, at) => {
    for (const o of objectNames(w)) {
      const key = `${w.namespace ?? w.name}/${o}`;
      const owner = owners.get(key);
      if (owner !== undefined && owner !== w.name)
        report('workload-object-names', [...at, 'name'], `workload '${w.name}' renders ${o.replace('/', ' ')}, which workload '${owner}' renders too in namespace '${w.namespace ?? w.name}'`, {
          hint: 'two Applications would own one object and overwrite each other; rename one of the workloads or move it to another namespace',
        });
      else owners.set(key, w.name);
    }
  });
};

/**
 * Kubernetes limits on the names the renderer derives from a workload's name. A CronJob's: the API server
 * refuses a longer one ("must be no more than 52 characters": kubernetes pkg/apis/batch/validation/validation.go,
 * ValidateCronJobCreate, `DNS1035LabelMaxLength-11`), because the controller names each Job
 * `<cronjob>-<scheduled time in unix minutes>` (pkg/controller/cronjob/cronjob_controllerv2.go getJobName, with
 * utils.go getTimeHashInMinutes), an 11-character
 * suffix, and a Job's name labels its pods (a label value: at most 63).
 */
export const CRONJOB_NAME_MAX = 52;
/**
 * A StatefulSet's pods carry the label controller-revision-hash: <name>-<hash> (the ControllerRevision's name:
 * kubernetes pkg/controller/history/controller_history.go ControllerRevisionName, `prefix-hash`; the hash is
 * rand.SafeEncodeString of a 32-bit FNV sum, HashControllerRevision: up to 10 characters), a label value of at most 63.
 */
export const STATEFULSET_NAME_MAX = 52;
export const INGRESS_GROUP_MAX = 63;

const derivedNames: Rule = ({ input }, report) =>
  each(input.workloads, (w, at) => {
    const kind = w.kind ?? 'deployment';
    const name: DocPath = [...at, 'name'];
    if (kind === 'cronjob' && w.name.length > CRONJOB_NAME_MAX)
      report('workload-derived-name', name, `cronjob name '${w.name}' is ${w.name.length} characters; Kubernetes refuses CronJob names over ${CRONJOB_NAME_MAX}`, {
        hint: `each Job is named <cronjob>-<scheduled time>, which must stay a 63-character label; shorten the name to ${CRONJOB_NAME_MAX} characters`,
      });
    if (kind === 'statefulset' && w.name.length > STATEFULSET_NAME_MAX)
      report('workload-derived-name', name, `statefulset name '${w.name}' is ${w.name.length} characters; its pods need at most ${STATEFULSET_NAME_MAX}`, {
        hint: `the controller-revision-hash label of the pods is <name>-<10-character hash> and label values have at most 63 characters (the headless Service ${headlessServiceName(w)} too); shorten the name`,
      });
    if (kind !== 'cronjob' && (w.ports ?? []).length > 0) {
      const p = dns1035LabelProblem(w.name);
      if (p) report('workload-derived-name', name, `'${w.name}' is also the name of the workload's Service, which ${p} (DNS-1035 label)`, { hint: 'Service names must start with a letter; rename the workload' });
    }
    if (w.ingress && w.ingress.groupName === undefined && kind !== 'cronjob') {
      const group = `${input.cluster.name}-${(w.ingress.scheme ?? 'internal') === 'internal' ? 'internal' : 'public'}`;
      if (group.length > INGRESS_GROUP_MAX)
        report('workload-derived-name', [...at, 'ingress'], `the default ALB group name '${group}' is ${group.length} characters; the Load Balancer Controller takes at most ${INGRESS_GROUP_MAX}`, {
          hint: 'set ingress.groupName (a DNS label), or shorten cluster.name',
          key: true,
        });
    }
  });

/** Maximum of an int32 field (replicas, HPA bounds). */
export const INT32_MAX = 2147483647;

const replicaCounts: Rule = ({ input }, report) =>
  each(input.workloads, (w, at) => {
    const check = (path: DocPath, v: number | undefined, what: string): void => {
      if (v !== undefined && v > INT32_MAX) report('workload-replicas', path, `${what} ${v} is beyond the int32 range of Kubernetes (at most ${INT32_MAX})`, { hint: 'a replica count is a 32-bit integer' });
    };
    check([...at, 'replicas'], w.replicas, 'replicas');
    check([...at, 'autoscaling', 'minReplicas'], w.autoscaling?.minReplicas, 'minReplicas');
    check([...at, 'autoscaling', 'maxReplicas'], w.autoscaling?.maxReplicas, 'maxReplicas');
  });

const autoscaling: Rule = ({ input }, report) =>
  each(input.workloads, (w, at) => {
    const a = w.autoscaling;
    if (!a || (w.kind ?? 'deployment') === 'cronjob') return;
    const min = a.minReplicas ?? w.replicas ?? DEFAULTS.replicas;
    if (a.minReplicas !== undefined && a.minReplicas > a.maxReplicas)
      report('workload-autoscaling', [...at, 'autoscaling', 'minReplicas'], `minReplicas ${a.minReplicas} is above maxReplicas ${a.maxReplicas}`, { hint: 'Kubernetes refuses an HPA whose minReplicas exceeds maxReplicas' });
    else if (a.minReplicas === undefined && min > a.maxReplicas)
      report('workload-autoscaling', [...at, 'autoscaling', 'maxReplicas'], `maxReplicas ${a.maxReplicas} is below replicas ${min}, which is the HPA's minReplicas`, {
        hint: `raise maxReplicas to at least ${min}, or set autoscaling.minReplicas`,
      });
    if (a.minReplicas === undefined && min === 0)
      report('workload-autoscaling', [...at, 'replicas'], 'replicas 0 would be the HPA\'s minReplicas, and Kubernetes refuses 0 (scale to zero is an alpha feature)', { hint: 'set autoscaling.minReplicas: 1 or more' });
  });

/**
 * A PodDisruptionBudget the workload's nodes cannot honour through a drain: when every node it may
 * land on is one node, a drain of that node evicts what the budget allows, and those pods stay
 * Pending (the node is cordoned, and there is no other), so the budget refuses every further
 * eviction and the drain (a node upgrade, an upgrade Plan's drain, a replaced instance) waits
 * for ever (Kubernetes "Safely Drain a Node": the eviction API answers 429 while the budget would be
 * violated). Said for the budget the environment writes; the default one (maxUnavailable: 1) is the
 * renderer's choice.
 */
function drainWithOneNode(input: EnvironmentInput, w: WorkloadInput, floor: number): string | undefined {
  const pools = eligiblePools(poolViewsOfInput(input), placementOfInput(w));
  const nodes = pools.reduce((n, p) => n + p.size, 0);
  if (nodes !== 1 || floor < 2) return undefined;
  return pools[0]!.name;
}

/**
 * The default budget (maxUnavailable: 1, plan/workloads.ts, for 2 or more replicas) on a placement of one node: a
 * drain of that node evicts one pod, which stays Pending (the node is cordoned, and there is no other), and the
 * eviction API then refuses the others (429 while the budget would be violated: kubernetes/kubernetes
 * pkg/registry/core/pod/storage/eviction.go checkAndDecrement) until it is Ready, which it cannot be. What that does to
 * the node's operations is the distribution's (DistributionFacts.blockedDrain). A warning, not a refusal: nothing
 * fails until a drain, and a small environment may accept it (acknowledge it, or give the workload a second node).
 */
function defaultBudgetOnOneNode(input: EnvironmentInput, w: WorkloadInput, at: DocPath, report: Reporter): void {
  const replicas = w.autoscaling ? (w.autoscaling.minReplicas ?? w.replicas ?? DEFAULTS.replicas) : (w.replicas ?? DEFAULTS.replicas);
  if (!w.autoscaling && replicas < 2) return;
  const pool = drainWithOneNode(input, w, replicas);
  if (pool === undefined) return;
  const blocked = distributionNamed(input.cluster.distribution)?.facts.blockedDrain;
  report(
    'workload-disruption-budget',
    [...at, w.autoscaling ? 'autoscaling' : 'replicas'],
    `${replicas} replicas on one node (pool ${pool} has 1 node, and the workload may land on no other) with the default disruption budget (maxUnavailable: 1): a drain of that node evicts 1 pod, which stays Pending, and the budget then refuses every other eviction${blocked ? `: ${blocked}` : ''}`,
    {
      severity: 'warning',
      hint: `give the workload a second node (count: 2 on pool ${pool}, or placement that admits another pool), or write disruptionBudget: { maxUnavailable: ${replicas} } to let a drain take them all (the workload is down until the node is back)`,
    },
  );
}

const disruptionBudgets: Rule = ({ input }, report) =>
  each(input.workloads, (w, at) => {
    const pdb = w.disruptionBudget;
    if ((w.kind ?? 'deployment') === 'cronjob') return;
    if (!pdb || (pdb.minAvailable === undefined && pdb.maxUnavailable === undefined)) return defaultBudgetOnOneNode(input, w, at, report);
    const replicas = w.autoscaling ? (w.autoscaling.minReplicas ?? w.replicas ?? DEFAULTS.replicas) : (w.replicas ?? DEFAULTS.replicas);
    const allowed = pdb.maxUnavailable ?? (pdb.minAvailable !== undefined ? replicas - pdb.minAvailable : replicas);
    const pool = allowed > 0 && allowed < replicas ? drainWithOneNode(input, w, replicas) : undefined;
    if (pool !== undefined) {
      const key = pdb.maxUnavailable !== undefined ? 'maxUnavailable' : 'minAvailable';
      report('workload-disruption-budget', [...at, 'disruptionBudget', key], `${key} ${pdb[key]} with ${replicas} replicas on one node (pool ${pool} has 1 node, and the workload may land on no other): a drain of that node evicts ${allowed} pod${allowed === 1 ? ', which stays' : 's, which stay'} Pending, and then waits for ever`, {
        hint: `give the workload a second node (count: 2 on pool ${pool}, or placement that admits another pool), or write disruptionBudget: { maxUnavailable: ${replicas} } to let a drain take them all`,
      });
    }
    if (pdb.maxUnavailable === 0)
      report('workload-disruption-budget', [...at, 'disruptionBudget', 'maxUnavailable'], 'maxUnavailable 0 allows no eviction: every node drain and cluster upgrade would hang on these pods', {
        hint: 'use maxUnavailable: 1 (the default for services with 2 or more replicas)',
      });
    if (pdb.minAvailable === undefined) return;
    const floor = w.autoscaling ? (w.autoscaling.minReplicas ?? w.replicas ?? DEFAULTS.replicas) : (w.replicas ?? DEFAULTS.replicas);
    if (pdb.minAvailable >= floor && floor > 0)
      report('workload-disruption-budget', [...at, 'disruptionBudget', 'minAvailable'], `minAvailable ${pdb.minAvailable} with ${floor} replica${floor === 1 ? '' : 's'}${w.autoscaling ? ' (minReplicas)' : ''} allows no eviction: every node drain and cluster upgrade would hang on these pods`, {
        hint: floor > 1 ? `use minAvailable: ${floor - 1} or less, or maxUnavailable: 1` : 'a single replica cannot be kept available through a drain; run 2 or more replicas, or remove the disruptionBudget',
      });
  });

const cronSchedules: Rule = ({ input }, report) => {
  const check = (path: DocPath, schedule: string | undefined): void => {
    if (schedule === undefined) return;
    const p = cronProblem(schedule);
    if (p) report('cron-schedule', path, `schedule '${schedule}': ${p.message}`, { hint: p.hint ?? 'five fields: minute (0-59) hour (0-23) day-of-month (1-31) month (1-12) day-of-week (0-6)' });
    else if (cronNeverRuns(schedule))
      report('cron-schedule', path, `schedule '${schedule}' never runs: none of its months has that day`, { severity: 'warning', hint: 'Kubernetes accepts it, but no Job is ever started' });
  };
  each(input.workloads, (w, at) => check([...at, 'schedule'], w.schedule));
  check(['cluster', 'datastore', 'backup', 'schedule'], input.cluster.datastore.backup?.schedule);
};

/** ALB host conditions take host names of at most 128 characters. */
export const ALB_HOST_MAX = 128;

/** Prefix paths the way the Load Balancer Controller matches them: `/api` and `/api/` are one path. */
const prefixKey = (path: string): string => (path.length > 1 ? path.replace(/\/+$/, '') : path) || '/';

const ingresses: Rule = ({ input }, report) => {
  const routes = new Map<string, { name: string; group: string }>();
  const schemes = new Map<string, { name: string; scheme: string }>();
  each(input.workloads, (w, at) => {
    const ing = w.ingress;
    if (!ing || (w.kind ?? 'deployment') === 'cronjob') return;
    const problem = ingressHostProblem(ing.host);
    if (problem) report('ingress-host', [...at, 'ingress', 'host'], `host '${ing.host}' ${problem}`, { hint: "a lower-case DNS name such as portal.example.com, or '*.example.com'" });
    else if (ing.host.length > ALB_HOST_MAX) report('ingress-host', [...at, 'ingress', 'host'], `host '${ing.host.slice(0, 24)}…' is ${ing.host.length} characters; an ALB host condition takes at most ${ALB_HOST_MAX}`, { hint: `use a host name of at most ${ALB_HOST_MAX} characters` });
    else if (!/\.[a-z]+$/.test(ing.host))
      report('ingress-host', [...at, 'ingress', 'host'], `host '${ing.host}' has no dot or ends in a label that is not all letters; an ALB host condition needs both`, { hint: 'use a fully qualified name such as portal.example.com' });
    const path = ing.path ?? '/';
    // The controller turns a Prefix path /p into the conditions /p and /p/*.
    if (path.length + 2 > ALB_HOST_MAX || !/^[A-Za-z0-9_\-.$/~"'@:+&]+$/.test(path))
      report('ingress-path', [...at, 'ingress', 'path'], `path '${path.length > 40 ? path.slice(0, 40) + '…' : path}' is not an ALB path condition: at most ${ALB_HOST_MAX - 2} characters of letters, digits and _-.$/~"'@:+&`, {
        hint: 'the Load Balancer Controller matches Prefix paths with the conditions <path> and <path>/*, which ALB limits to 128 characters; no wildcards, spaces or query strings',
      });
    const scheme = ing.scheme ?? 'internal';
    const group = ing.groupName ?? `${input.cluster.name}-${scheme === 'internal' ? 'internal' : 'public'}`;
    const route = `${ing.host} ${prefixKey(ing.path ?? '/')}`;
    const other = routes.get(route);
    if (other)
      report('ingress-duplicate', [...at, 'ingress', 'host'], `host ${ing.host} path ${ing.path ?? '/'} is routed to workload '${other.name}' already`, {
        hint:
          other.group === group
            ? `both Ingresses are in ALB group ${group}: the Load Balancer Controller merges them into one listener and the rule it orders first gets every request, so one workload is never reached; give each its own host or path`
            : `the Ingresses are in ALB groups ${other.group} and ${group}: two ALBs answer for the same host and DNS decides which one is reached; give each its own host or path`,
      });
    else routes.set(route, { name: w.name, group });
    const first = schemes.get(group);
    if (first && first.scheme !== scheme)
      report('ingress-group', [...at, 'ingress', 'scheme'], `ALB group ${group} is ${first.scheme} for workload '${first.name}' but ${scheme} here`, {
        hint: 'the scheme of an IngressGroup is exclusive: the Load Balancer Controller refuses a group whose Ingresses disagree; use another groupName',
      });
    else if (!first) schemes.set(group, { name: w.name, scheme });
  });
};

/** A mount of the pod: where, from what, and whether the generator owns it. */
interface Mount {
  path: string;
  what: string;
  file: boolean;
  readOnly: boolean;
  generated: boolean;
  at?: DocPath;
  key?: boolean;
}

/** An absolute path without '.', '..' or empty segments (and not '/' itself). */
const plainAbsolutePath = (path: string): boolean => path.startsWith('/') && path !== '/' && !path.split('/').slice(1).some((seg) => seg === '' || seg === '.' || seg === '..');

/** 'config file /etc/x.yaml', 'volume data at /data', 'the IRSA web-identity token at /var/run/…'. */
const where = (m: Mount): string => (m.file ? m.what : `${m.what} at ${m.path}`);

const under = (path: string, dir: string): boolean => dir === '/' || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

function mountsOf(w: WorkloadInput, at: DocPath): Mount[] {
  const out: Mount[] = [{ path: TMP_DIR, what: 'the scratch emptyDir (the root filesystem is read-only)', file: false, readOnly: false, generated: true }];
  if (w.serviceAccount?.iamRoleArn !== undefined) out.push({ path: IRSA_TOKEN_DIR, what: 'the IRSA web-identity token', file: false, readOnly: true, generated: true });
  for (const f of Object.keys(w.configFiles ?? {})) out.push({ path: f, what: `config file ${f}`, file: true, readOnly: true, generated: false, at: [...at, 'configFiles', f], key: true });
  (w.volumes ?? []).forEach((v, j) => out.push({ path: v.mountPath, what: `volume ${v.name}`, file: false, readOnly: false, generated: false, at: [...at, 'volumes', j, 'mountPath'] }));
  return out;
}

const mounts: Rule = ({ input }, report) =>
  each(input.workloads, (w, at) => {
    const all = mountsOf(w, at);
    all.forEach((m, i) => {
      if (m.generated || !m.at) return;
      const say = (message: string, hint: string): void => report('workload-mounts', m.at!, message, { hint, key: m.key });
      if (!plainAbsolutePath(m.path)) {
        say(`${m.what}: '${m.path}' is not a plain absolute path`, m.path === '/' ? 'a mount at / would hide the whole image' : "no '.', '..', empty segments or trailing '/'");
        return;
      }
      // Against every mount the generator adds, then against the user's mounts before this one.
      const others = [...all.filter((o) => o.generated), ...all.slice(0, i).filter((o) => !o.generated)];
      const here = where(m);
      for (const o of others) {
        const there = where(o);
        if (o.path === m.path) return say(`${here}: ${o.what} is mounted there already`, 'Kubernetes refuses two volumeMounts with one mountPath; choose another path');
        if (o.file && under(m.path, o.path)) return say(`${here} lies inside ${there}, which is a file`, 'a file cannot hold a mount point; move one of them');
        if (m.file && under(o.path, m.path)) return say(`${here} is a file, but ${there} is mounted below it`, 'a file cannot hold a mount point; move one of them');
        if (o.generated && o.readOnly && under(m.path, o.path)) return say(`${here} lies inside ${there}, which is read-only`, `choose a path outside ${o.path}`);
        if (o.generated && under(o.path, m.path)) return say(`${here} covers ${there}`, `the generator mounts ${o.path} itself; choose a path that does not contain it`);
        if (!o.generated && (under(m.path, o.path) || under(o.path, m.path)))
          return say(`${here} overlaps ${there}`, 'nested mounts create mount points inside the outer volume and hide its files; mount them side by side');
      }
    });
    const volumeNames = new Set<string>();
    (w.volumes ?? []).forEach((v, j) => {
      if (GENERATED_VOLUMES.includes(v.name))
        report('workload-mounts', [...at, 'volumes', j, 'name'], `volume name '${v.name}' is taken by a volume the generator adds`, { hint: `reserved volume names: ${GENERATED_VOLUMES.join(', ')}` });
      else if (volumeNames.has(v.name)) report('workload-mounts', [...at, 'volumes', j, 'name'], `volume '${v.name}' is declared twice`, { hint: 'Kubernetes refuses two volumes of one name' });
      volumeNames.add(v.name);
    });
  });

/** Kubernetes' limit on a ConfigMap's data (the sum of its values). */
export const CONFIGMAP_MAX_BYTES = 1024 * 1024;
/**
 * An engine that applies client-side (Engine.text.clientSideApply): kubectl keeps the whole object, as JSON, in the
 * last-applied-configuration annotation, and all annotations of an object together are limited to
 * 256 KiB. The JSON of a ConfigMap is its data, escaped, plus its metadata (labels: at most ~300 bytes).
 */
export const ANNOTATIONS_MAX_BYTES = 256 * 1024;
const CONFIGMAP_METADATA_BYTES = 512;

const configFiles: Rule = ({ input }, report) =>
  each(input.workloads, (w, at) => {
    const files = w.configFiles ?? {};
    const keys = new Map<string, string>();
    for (const f of Object.keys(files)) {
      const key = configKey(f);
      const path: DocPath = [...at, 'configFiles', f];
      const problem = plainAbsolutePath(f) ? dataKeyProblem(key) : undefined; // else workload-mounts reports the path
      if (problem) report('workload-config-files', path, `config file ${f} becomes the ConfigMap key '${key.length > 40 ? key.slice(0, 40) + '…' : key}', which ${problem}`, { hint: "the key is the path without its leading '/', with '/' written as '--'", key: true });
      const other = keys.get(key);
      if (other !== undefined)
        report('workload-config-files', path, `config files ${other} and ${f} both become the ConfigMap key '${key}'`, { hint: "keys are the paths with '/' written as '--'; rename one of the files", key: true });
      else keys.set(key, f);
    }
    const dataBytes = Object.values(files).reduce((n, c) => n + Buffer.byteLength(c), 0);
    const entries = Object.keys(files).length;
    if (entries === 0) return;
    const json = Buffer.byteLength(JSON.stringify(Object.fromEntries(Object.entries(files).map(([f, c]) => [configKey(f), c])))) + CONFIGMAP_METADATA_BYTES;
    const kib = (n: number): string => `${Math.ceil(n / 1024)} KiB`;
    if (dataBytes > CONFIGMAP_MAX_BYTES)
      report('workload-configmap-size', [...at, 'configFiles'], `config files total ${kib(dataBytes)}; Kubernetes refuses a ConfigMap over 1 MiB`, { hint: 'ship large files in the image or on a volume', key: true });
    else if (json > ANNOTATIONS_MAX_BYTES)
      report('workload-configmap-size', [...at, 'configFiles'], `config files total ${kib(dataBytes)} (${kib(json)} as JSON); ${engines().flatMap((e) => e.text.clientSideApply ?? []).join(' or ')} copies the ConfigMap into its last-applied-configuration annotation, and annotations are limited to 256 KiB`, {
        hint: 'keep config files under about 250 KiB in total; ship large files in the image or on a volume',
        key: true,
      });
  });

const taintText = (t: Taint): string => `${t.key}${t.value !== undefined ? `=${t.value}` : ''}:${t.effect}`;

/**
 * Pods that no pool admits because of its taints. The renderer gives a pod one toleration at most,
 * nvidia.com/gpu:NoSchedule for GPU workloads (model/placement.ts tolerationsOf); the device plugin, by
 * contrast, tolerates every GPU pool's taints (catalog/nvidia-device-plugin.ts), so a GPU pool tainted
 * with another key (gpu=true:NoSchedule) offers GPUs that no GPU workload may use. The pods stay
 * Pending (the scheduler's TaintToleration filter refuses a node with an untolerated NoSchedule or NoExecute
 * taint as UnschedulableAndUnresolvable: kubernetes pkg/scheduler/framework/plugins/tainttoleration/
 * taint_toleration.go:54-77 at 007f7ae7), and the workload's delivery unit never becomes healthy: the engine
 * reports it failed after its timeout and holds back what depends on it. Reported only
 * when some pool matches the workload apart from its taints (the other placement rules say why none does).
 * Pools scaled to zero (count: 0) take no pod either: when only such pools match, that is the one reported
 * (workload-pool-empty), as the same Pending pods.
 */
const placementTaints: Rule = ({ input }, report) => {
  const pools = poolViewsOfInput(input);
  each(input.workloads, (w, at) => {
    const pl = placementOfInput(w);
    if (eligiblePools(pools, pl).length > 0) return;
    const path: DocPath = w.placement?.pool !== undefined ? [...at, 'placement', 'pool'] : w.placement?.gpu !== undefined ? [...at, 'placement', 'gpu'] : w.placement ? [...at, 'placement'] : [...at, 'name'];
    // Every pool the pods would take is scaled to zero (count: 0): the same Pending pods, with no taint to blame.
    const empty = eligiblePools(pools.map((p) => ({ ...p, size: Math.max(p.size, 1) })), pl);
    if (empty.length > 0) {
      const named = empty.map((p) => `${p.name} (nodePools[${input.nodePools.findIndex((x) => x.name === p.name)}].count: 0)`);
      report('workload-pool-empty', path, `workload '${w.name}' can land on no node: ${named.join(', ')} ${empty.length === 1 ? 'has' : 'have'} no nodes, and no other pool matches its placement`, {
        hint: `its pods would stay Pending and its delivery unit never become healthy; give ${empty.length === 1 ? 'the pool' : 'one of them'} a count of at least 1, or change the workload's placement`,
      });
      return;
    }
    const tolerations = tolerationsOf(pl);
    const blocked = eligiblePools(pools.map((p) => ({ ...p, taints: [] })), pl).map((p) => {
      const i = input.nodePools.findIndex((x) => x.name === p.name);
      return `${p.name} (nodePools[${i}].taints: ${untolerated(tolerations, pools[i]!.taints).map(taintText).join(', ')})`;
    });
    if (blocked.length === 0) return;
    const tolerated = tolerations.length > 0 ? `only ${taintText({ key: GPU_TOLERATION.key!, effect: GPU_TOLERATION.effect! })} (any value; GPU workloads)` : 'no taint';
    report('workload-pool-taint', path, `workload '${w.name}' can land on no node: ${blocked.join('; ')} ${blocked.length === 1 ? 'keeps' : 'keep'} its pods off, and they tolerate ${tolerated}`, {
      hint: pl.gpu
        ? `taint GPU pools with the key ${GPU_TOLERATION.key} (effect NoSchedule, e.g. ${GPU_TOLERATION.key}=present:NoSchedule), the taint GPU workloads and the device plugin tolerate`
        : 'workloads tolerate no taint: remove it from the pool, or place the workload on an untainted pool (placement.pool / arch)',
    });
  });
};

export const WORKLOAD_RULES: readonly Rule[] = [
  imagePinned,
  requests,
  memoryUnit,
  volumeSizes,
  volumeZones,
  plainSecrets,
  kinds,
  ports,
  placement,
  placementTaints,
  serviceAccounts,
  network,
  workloadNames,
  objectCollisions,
  derivedNames,
  replicaCounts,
  autoscaling,
  disruptionBudgets,
  cronSchedules,
  ingresses,
  mounts,
  configFiles,
];
