/**
 * Semantic rules: what the JSON Schema cannot say. Each rule reads the schema-valid environment and
 * returns positioned diagnostics; all rules run, so every problem is reported at once.
 */
import { shellShapes } from './rules-shell.js';
import { catalogEntry, catalogNames, isCatalogAddon } from '../catalog/index.js';
import { cidrContains, cidrInside, cidrsOverlap, formatIpv4, parseCidr, parseIpv4, usableRange, type Cidr } from '../lib/cidr.js';
import { formatPath, type DocPath } from '../lib/paths.js';
import { hintFor } from '../lib/suggest.js';
import { locate, type ResolvedEnvironment } from '../load/loader.js';
import { GPU_PRESENT_LABEL } from '../model/aws.js';
import { factsWithLock, GPU_FAMILIES, INSTANCE_TYPES, type InstanceTypeFacts, type LockedFacts } from '../model/instance-types.js';
import { GPU_RESOURCE } from '../model/placement.js';
import type { EnvironmentInput } from '../model/input.js';
import type { FleetIndex } from '../model/fleet.js';
import { minorOf } from '../model/build.js';
import { distributionNamed, distributions } from '../distributions/registry.js';
import { engines } from '../engines/registry.js';
import type { Diagnostic, Severity } from './diagnostics.js';

export interface RuleContext {
  env: ResolvedEnvironment;
  input: EnvironmentInput;
  /** EC2 facts of the environment's instance types, locked by `--refresh-ssm` (absent in older locks). */
  ec2?: { region: string; instanceTypes: Readonly<Record<string, LockedFacts>> };
  /** Every environment's GitOps engine and the sync policy section's `manages` (hub mode), when the other environments are known. */
  fleet?: FleetIndex;
}

/** Instance facts for the rules: the EC2 lock of the environment's region, then the table. */
export const factsOf = (ctx: RuleContext): ((t: string) => InstanceTypeFacts | undefined) =>
  factsWithLock(ctx.ec2 && ctx.ec2.region === ctx.input.aws.region ? ctx.ec2.instanceTypes : undefined);

export type Rule = (ctx: RuleContext, report: Reporter) => void;
/**
 * Every finding says what to do (house rule: an error names file:line:col, the path, the value, what
 * was expected and a hint), so `hint` must be given; `undefined` only where a rule computes it and may
 * have none (test/hints.test.ts checks the invalid fixtures' errors all carry one).
 */
export type Reporter = (rule: string, path: DocPath, message: string, opts: { hint: string | undefined; severity?: Severity; key?: boolean; loud?: boolean }) => void;

/** The minor number of a version (1.35.2 → 35). */
export const minorNumber = (v: string): number => Number(minorOf(v).split('.')[1]);

/** The hint of a setting a base may have set, to remove it in this file. */
export const inheritedHint = (key: string): string => `if a base sets it, remove it here with \`${key}: null\``;

/**
 * A distribution's setting `cluster.<key>` in an environment of another distribution: reported in
 * the words of the environment's distribution when it has its own (DistributionRules.foreignSetting),
 * else in the owner's (`own`).
 */
export function reportForeignSetting(ctx: RuleContext, report: Reporter, key: string, own: { message: string; hint?: string }): void {
  const words = distributionNamed(ctx.input.cluster.distribution)?.rules.foreignSetting?.(key) ?? own;
  report('distribution-version', ['cluster', key], words.message, { key: true, hint: words.hint });
}

/** Each later occurrence of a key, with the index of its first occurrence. */
function duplicates<T>(items: readonly T[], key: (t: T) => string): Array<[first: number, i: number]> {
  const seen = new Map<string, number>();
  const out: Array<[number, number]> = [];
  items.forEach((it, i) => {
    const k = key(it);
    const first = seen.get(k);
    if (first !== undefined) out.push([first, i]);
    else seen.set(k, i);
  });
  return out;
}


const nameMatchesFile: Rule = ({ env, input }, report) => {
  if (input.name !== env.name) report('name-matches-file', ['name'], `'${input.name}' differs from the file name '${env.name}'`, { hint: `set name: ${env.name}` });
};

const uniqueNames: Rule = ({ input }, report) => {
  for (const [first, i] of duplicates(input.nodePools, (p) => p.name))
    report('unique-names', ['nodePools', i, 'name'], `node pool '${input.nodePools[i]!.name}' is declared twice`, { hint: `nodePools[${first}] has this name already: rename one (pool names name config files, launch templates and labels)` });
  const nodes = input.nodePools.flatMap((p, pi) => (p.nodes ?? []).map((n, ni) => ({ n, path: ['nodePools', pi, 'nodes', ni] as DocPath })));
  const poolNames = new Set(input.nodePools.map((p) => p.name));
  for (const [first, i] of duplicates(nodes, (x) => x.n.name))
    report('unique-names', [...nodes[i]!.path, 'name'], `node '${nodes[i]!.n.name}' is declared twice`, { hint: `${formatPath(nodes[first]!.path)} has this name already: rename one (a node's name is its hostname and its config file's name)` });
  for (const x of nodes) {
    if (poolNames.has(x.n.name)) report('unique-names', [...x.path, 'name'], `node '${x.n.name}' has the name of a node pool; config files are named after both`, { hint: `rename the node or the pool, e.g. ${x.n.name}-1` });
  }
  for (const [first, i] of duplicates(nodes, (x) => x.n.ip))
    report('unique-names', [...nodes[i]!.path, 'ip'], `IP ${nodes[i]!.n.ip} is used by two nodes`, { hint: `${formatPath(nodes[first]!.path)} (${nodes[first]!.n.name}) has this address already: give each node its own` });
  const workloads = input.workloads ?? [];
  for (const [first, i] of duplicates(workloads, (w) => w.name))
    report('unique-names', ['workloads', i, 'name'], `workload '${workloads[i]!.name}' is declared twice`, { hint: `workloads[${first}] has this name already: rename one (it names the workload's objects and its namespace's)` });
  const subnets = input.aws.vpc.subnets;
  for (const [first, i] of duplicates(subnets, (s) => s.name))
    report('unique-names', ['aws', 'vpc', 'subnets', i, 'name'], `subnet '${subnets[i]!.name}' is declared twice`, { hint: `aws.vpc.subnets[${first}] has this name already: rename one (pools and nodes refer to subnets by name)` });
};

const nodesOrCount: Rule = ({ input }, report) => {
  input.nodePools.forEach((p, i) => {
    if (p.nodes && p.count !== undefined) report('nodes-or-count', ['nodePools', i, 'count'], `pool '${p.name}' gives both nodes and count`, { hint: 'list nodes for fixed machines, or count for an auto-scaled pool, not both', key: true });
    if (!p.nodes && p.count === undefined) report('nodes-or-count', ['nodePools', i], `pool '${p.name}' gives neither nodes nor count`, { hint: 'add nodes: [{ name, ip }] or count: N' });
    if (p.role === 'controlplane' && !p.nodes && p.count !== undefined)
      report('controlplane-fixed', ['nodePools', i, 'count'], `control-plane pool '${p.name}' must list its nodes`, { hint: 'control-plane addresses go into the API certificate and the datastore membership; give nodes: [{ name, ip }]', key: true });
  });
};

const controlPlane: Rule = ({ input }, report) => {
  const cps = input.nodePools.filter((p) => p.role === 'controlplane');
  const count = cps.reduce((n, p) => n + (p.nodes?.length ?? p.count ?? 0), 0);
  if (count === 0) {
    report('controlplane-required', ['nodePools'], 'no control-plane node: a cluster needs at least one', { hint: 'add a pool with role: controlplane and its nodes' });
    return;
  }
  const ds = input.cluster.datastore.type;
  const firstCp = input.nodePools.findIndex((p) => p.role === 'controlplane');
  const cpPath: DocPath = ['nodePools', firstCp, cps[0]!.nodes ? 'nodes' : 'count'];
  if (ds === 'etcd' && count % 2 === 0)
    report('etcd-odd', cpPath, `etcd needs an odd number of control-plane nodes (1, 3, 5 …); this environment has ${count}`, {
      hint: `${count} members tolerate no more failures than ${count - 1} would, and a split can leave no majority; use ${count - 1} or ${count + 1}`,
    });
  if (ds === 'kine-sqlite' && count !== 1)
    report('kine-sqlite-single-server', cpPath, `kine-sqlite needs exactly one server node; this environment has ${count}`, {
      hint: 'SQLite is a local file on one server (replicated to S3 by Litestream, not shared); for several servers use kine-postgres',
    });
};

/** The datastore: each distribution checks the types it runs, then the settings each type needs. */
const datastore: Rule = (ctx, report) => {
  const c = ctx.input.cluster;
  const d = c.datastore;
  for (const x of distributions()) x.rules.datastore?.(ctx, report);
  if (d.type === 'kine-postgres' && !d.postgres) report('datastore-settings', ['cluster', 'datastore'], 'kine-postgres needs postgres: { host, database, user, password: { secret: … } }', { key: true, hint: 'add cluster.datastore.postgres; the password is the name of an SSM SecureString, read by the servers at boot' });
  if (d.type === 'kine-sqlite' && !d.litestream) report('datastore-settings', ['cluster', 'datastore'], 'kine-sqlite needs litestream: { bucket } to replicate the SQLite database to S3', { key: true, hint: 'add cluster.datastore.litestream: { bucket: <name> or { ssm: <parameter> } }: without a replica a lost server loses the cluster' });
  if (d.type !== 'kine-postgres' && d.postgres) report('datastore-settings', ['cluster', 'datastore', 'postgres'], `postgres settings are only used by kine-postgres, not ${d.type}`, { key: true, hint: `remove postgres, or set datastore.type: kine-postgres; ${inheritedHint('postgres')}` });
  if (d.type !== 'kine-sqlite' && d.litestream) report('datastore-settings', ['cluster', 'datastore', 'litestream'], `litestream settings are only used by kine-sqlite, not ${d.type}`, { key: true, hint: `remove litestream, or set datastore.type: kine-sqlite; ${inheritedHint('litestream')}` });
  if (d.type !== 'etcd' && d.backup) report('datastore-settings', ['cluster', 'datastore', 'backup'], `backup configures etcd snapshots; ${d.type} is backed up by its own database`, { key: true, hint: `remove backup (${d.type === 'kine-sqlite' ? 'Litestream replicates the SQLite database to S3' : 'back up the PostgreSQL database where it runs'}); ${inheritedHint('backup')}` });
  // Not where the distribution runs no etcd at all: its datastore rule refuses etcd there.
  if (d.type === 'etcd' && !d.backup && (distributionNamed(c.distribution)?.datastores.includes('etcd') ?? true))
    report('etcd-backup', ['cluster', 'datastore'], 'etcd has no backup: snapshots to S3 are the only way back after losing the control plane', { severity: 'warning', hint: 'add backup: { bucket: … }' });
};

/** Releases and versions: each distribution's, then each engine's (what its release supports). */
const versions: Rule = (ctx, report) => {
  for (const d of distributions()) d.rules.versions?.(ctx, report);
  for (const e of engines()) e.rules.versions?.(ctx, report);
};

const instanceTypes: Rule = (ctx, report) => {
  const { input, ec2 } = ctx;
  const lookup = factsOf(ctx);
  const lockName = `environments/${ctx.env.name}.ssm.lock.json`;
  if (ec2 && ec2.region !== input.aws.region)
    report('instance-type-offered', ['aws', 'region'], `the EC2 instance facts in ${lockName} are for region ${ec2.region}, not ${input.aws.region}`, { severity: 'warning', hint: `run npm run synth -- --env ${ctx.env.name} --refresh-ssm` });
  input.nodePools.forEach((p, i) => {
    const locked = ec2 && ec2.region === input.aws.region ? ec2.instanceTypes[p.instanceType] : undefined;
    if (locked && !locked.offered) {
      report('instance-type-offered', ['nodePools', i, 'instanceType'], `${p.instanceType} is not offered in region ${input.aws.region} (EC2 DescribeInstanceTypeOfferings, locked in ${lockName})`, {
        hint: 'pick a type EC2 offers in this region (aws ec2 describe-instance-type-offerings --location-type region), then refresh the lock',
      });
      return;
    }
    const facts = lookup(p.instanceType);
    if (!facts) {
      report('instance-type', ['nodePools', i, 'instanceType'], `unknown EC2 instance type '${p.instanceType}'`, {
        hint: hintFor(p.instanceType, INSTANCE_TYPES.keys()) ?? `the instance table (generators/model/instance-types.ts) has the m, c, r, t and NVIDIA GPU families of generations 5 to 8 (e.g. m7i.xlarge, m7g.xlarge, g5.xlarge)`,
      });
      return;
    }
    if (facts.arch !== p.arch)
      report('arch-instance-family', ['nodePools', i, 'arch'], `${p.arch} does not match instance type ${p.instanceType}, which is ${facts.arch}`, {
        hint: facts.arch === 'arm64' ? `${p.instanceType} is a Graviton (arm64) type; set arch: arm64` : `${p.instanceType} is an x86_64 type; set arch: amd64, or use a Graviton type such as m7g.xlarge`,
      });
    if (p.gpu && facts.gpus === 0)
      report('gpu-instance-family', ['nodePools', i, 'instanceType'], `GPU pool '${p.name}' uses ${p.instanceType}, which has no NVIDIA GPU`, { hint: `NVIDIA GPU families: ${GPU_FAMILIES.join(', ')}` });
    if (p.gpu && facts.gpus > 0 && p.gpu.perNode !== undefined && p.gpu.perNode > facts.gpus)
      report('gpu-instance-family', ['nodePools', i, 'gpu', 'perNode'], `perNode ${p.gpu.perNode}, but ${p.instanceType} has ${facts.gpus} ${facts.gpuModel ?? ''} GPU${facts.gpus === 1 ? '' : 's'}`.replace('  ', ' '), {
        hint: `remove perNode (it defaults to the instance type's GPU count) or pick a type with ${p.gpu.perNode} GPUs`,
      });
    if (!p.gpu && facts.gpus > 0)
      report('gpu-instance-family', ['nodePools', i, 'instanceType'], `${p.instanceType} has an NVIDIA GPU but pool '${p.name}' declares no gpu, so it gets no driver`, { severity: 'warning', hint: 'add gpu: { vendor: nvidia }' });
    if (p.gpu && p.role === 'controlplane') report('gpu-instance-family', ['nodePools', i, 'gpu'], 'GPU pools must be workers', { key: true, hint: 'move the GPU instances to a pool with role: worker, and remove gpu here' });
    // Without the taint NVIDIA's charts expect (k8s-device-plugin values.yaml:93-100 at 00f2a02c tolerates
    // nvidia.com/gpu:NoSchedule), nothing keeps pods that need no GPU off the pool: add-ons and workloads placed
    // anywhere land there and take the CPU and memory the GPU pods need. Not wrong, so a warning.
    if (p.gpu && p.role === 'worker' && !(p.taints ?? []).some((t) => t.key === GPU_RESOURCE && (t.effect === 'NoSchedule' || t.effect === 'NoExecute')))
      report('gpu-pool-taint', ['nodePools', i, 'gpu'], `GPU pool '${p.name}' has no ${GPU_RESOURCE} taint: pods that need no GPU (add-ons, workloads without placement.gpu) may land on its nodes and take the CPU and memory GPU pods need`, {
        severity: 'warning',
        hint: `add taints: [{ key: ${GPU_RESOURCE}, value: present, effect: NoSchedule }]: GPU workloads and the device plugin tolerate it`,
      });
    if (!p.gpu && p.labels?.[GPU_PRESENT_LABEL] !== undefined)
      report('gpu-label', ['nodePools', i, 'labels', GPU_PRESENT_LABEL], `pool '${p.name}' has no GPU but carries ${GPU_PRESENT_LABEL}, which makes the NVIDIA device plugin run (and fail) on its nodes`, {
        hint: `remove the label: the generator sets ${GPU_PRESENT_LABEL}=true on GPU pools only`,
        key: true,
      });
  });
};

const cidrs: Rule = ({ input }, report) => {
  const parsed = (path: DocPath, text: string): Cidr | undefined => {
    const c = parseCidr(text);
    if (!c) report('cidr-valid', path, `'${text}' is not a valid IPv4 CIDR`, { hint: 'octets 0–255 and a prefix length 0–32, e.g. 10.0.0.0/16' });
    else if (c.hostBits) report('cidr-valid', path, `'${text}' has host bits set`, { hint: `did you mean '${[c.base >>> 24, (c.base >>> 16) & 255, (c.base >>> 8) & 255, c.base & 255].join('.')}/${c.bits}'?` });
    return c;
  };
  const vpc = parsed(['aws', 'vpc', 'cidr'], input.aws.vpc.cidr);
  const pod = parsed(['cluster', 'network', 'podCIDR'], input.cluster.network.podCIDR);
  const svc = parsed(['cluster', 'network', 'serviceCIDR'], input.cluster.network.serviceCIDR);
  if (pod && svc && cidrsOverlap(pod, svc)) report('cidr-overlap', ['cluster', 'network', 'serviceCIDR'], `service CIDR ${svc.text} overlaps pod CIDR ${pod.text}`, { hint: 'Service and Pod addresses must be disjoint ranges, e.g. podCIDR 10.244.0.0/16 and serviceCIDR 10.96.0.0/12' });
  if (vpc && pod && cidrsOverlap(vpc, pod)) report('cidr-overlap', ['cluster', 'network', 'podCIDR'], `pod CIDR ${pod.text} overlaps VPC CIDR ${vpc.text}`, { hint: 'pod addresses must not collide with node addresses' });
  if (vpc && svc && cidrsOverlap(vpc, svc)) report('cidr-overlap', ['cluster', 'network', 'serviceCIDR'], `service CIDR ${svc.text} overlaps VPC CIDR ${vpc.text}`, { hint: 'Service addresses must not collide with node addresses; choose a range outside the VPC' });
  const subnets = input.aws.vpc.subnets.map((s, i) => ({ s, i, c: parsed(['aws', 'vpc', 'subnets', i, 'cidr'], s.cidr) }));
  for (const { s, i, c } of subnets) {
    if (c && vpc && !cidrInside(c, vpc)) report('cidr-subnet', ['aws', 'vpc', 'subnets', i, 'cidr'], `subnet '${s.name}' ${c.text} is not inside VPC ${vpc.text}`, { hint: 'copy the subnet\'s CIDR from the VPC console or `aws ec2 describe-subnets`; a subnet is always inside its VPC\'s range' });
    if (!s.zone.startsWith(input.aws.region)) report('subnet-zone', ['aws', 'vpc', 'subnets', i, 'zone'], `zone ${s.zone} is not in region ${input.aws.region}`, { hint: `zones of ${input.aws.region} are named ${input.aws.region}a, ${input.aws.region}b, …; check the subnet's zone or aws.region` });
    for (const o of subnets) if (o.i < i && c && o.c && cidrsOverlap(c, o.c)) report('cidr-overlap', ['aws', 'vpc', 'subnets', i, 'cidr'], `subnet '${s.name}' ${c.text} overlaps subnet '${o.s.name}' ${o.c.text}`, { hint: 'subnets of one VPC never overlap: check the CIDRs against `aws ec2 describe-subnets`' });
  }
};

const nodeAddresses: Rule = ({ input }, report) => {
  const subnets = new Map(input.aws.vpc.subnets.map((s) => [s.name, s]));
  const names = [...subnets.keys()];
  const vpc = parseCidr(input.aws.vpc.cidr);
  input.nodePools.forEach((p, pi) => {
    if (p.subnet && !subnets.has(p.subnet)) report('subnet-ref', ['nodePools', pi, 'subnet'], `no subnet named '${p.subnet}' in aws.vpc.subnets`, { hint: hintFor(p.subnet, names) ?? `known: ${names.join(', ')}` });
    (p.nodes ?? []).forEach((n, ni) => {
      const path: DocPath = ['nodePools', pi, 'nodes', ni];
      const ip = parseIpv4(n.ip);
      if (ip === undefined) {
        report('node-ip', [...path, 'ip'], `'${n.ip}' is not a valid IPv4 address`, { hint: 'four decimal octets 0–255 without leading zeros, e.g. 10.10.1.10' });
        return;
      }
      const subnetName = n.subnet ?? p.subnet;
      if (n.subnet && !subnets.has(n.subnet)) report('subnet-ref', [...path, 'subnet'], `no subnet named '${n.subnet}' in aws.vpc.subnets`, { hint: hintFor(n.subnet, names) ?? `known: ${names.join(', ')}` });
      const subnet = subnetName ? subnets.get(subnetName) : undefined;
      const sc = subnet ? parseCidr(subnet.cidr) : undefined;
      if (subnet && sc && !cidrContains(sc, ip)) {
        const holder = input.aws.vpc.subnets.find((s) => s !== subnet && parseCidr(s.cidr) !== undefined && cidrContains(parseCidr(s.cidr)!, ip));
        report('node-ip-subnet', [...path, 'ip'], `${n.ip} is not inside subnet '${subnet.name}' (${subnet.cidr})`, {
          hint: holder ? `${n.ip} is in subnet '${holder.name}': set subnet: ${holder.name} on the node, or pick an address of ${subnet.cidr}` : `pick an address of ${subnet.cidr}${usableHint(sc)}`,
        });
      } else if (!subnetName && vpc && !cidrContains(vpc, ip)) report('node-ip-subnet', [...path, 'ip'], `${n.ip} is not inside the VPC (${input.aws.vpc.cidr})`, { hint: 'pick an address of one of aws.vpc.subnets and set subnet on the node or its pool' });
      if (!subnetName) report('node-subnet', [...path], `node '${n.name}' has no subnet`, { severity: 'warning', hint: 'set subnet on the node or its pool: the AWS layer places the instance there' });
    });
  });
};

const usableHint = (c: Cidr): string => {
  const r = usableRange(c);
  return r ? ` from ${formatIpv4(r.first)} to ${formatIpv4(r.last)} (AWS reserves the first four and the last)` : '';
};

const iam: Rule = ({ input }, report) => {
  if (input.aws.iam?.mode === 'irsa' && !input.aws.iam.issuerURL) report('irsa-issuer', ['aws', 'iam'], 'IRSA needs issuerURL: the public OIDC issuer serving the service-account discovery documents', { key: true, hint: 'add aws.iam.issuerURL: https://<bucket or domain serving /.well-known/openid-configuration>, or use mode: instance-profile' });
};

const addons: Rule = ({ input }, report) => {
  for (const [name, a] of Object.entries(input.addons ?? {})) {
    if (!isCatalogAddon(name) && !a.chart)
      report('addon-unknown', ['addons', name], `'${name}' is not in the add-on catalog and declares no chart`, {
        hint: hintFor(name, catalogNames()) ?? 'third-party add-ons need chart: { repoURL, name, version }',
        key: true,
      });
    if (!a.chart) continue;
    if (isCatalogAddon(name)) {
      const pinned = catalogEntry(name).chart;
      if (!pinned) {
        report('addon-chart', ['addons', name, 'chart'], `'${name}' is a catalog add-on without a Helm chart (manifests only)`, { hint: 'remove chart', key: true });
        continue;
      }
      for (const k of ['repoURL', 'name'] as const)
        if (a.chart[k] !== undefined)
          report('addon-chart', ['addons', name, 'chart', k], `'${name}' is a catalog add-on: its chart ${k} is pinned by the catalog (${pinned[k]}); only chart.version may be set per environment`, {
            hint: `remove chart.${k}, or give the add-on another name to install a third-party chart`,
            key: true,
          });
      if (a.chart.version === pinned.version)
        report('addon-chart', ['addons', name, 'chart', 'version'], `${pinned.version} is the catalog's pinned version of ${pinned.name} already`, { severity: 'warning', hint: 'remove chart.version' });
    } else {
      const missing = (['repoURL', 'name', 'version'] as const).filter((k) => a.chart![k] === undefined);
      if (missing.length > 0)
        report('addon-chart', ['addons', name, 'chart'], `third-party chart of '${name}' lacks ${missing.join(', ')}`, { hint: 'third-party add-ons need chart: { repoURL, name, version }', key: true });
    }
  }
  if (input.cluster.network.cni !== 'cilium' && input.addons?.cilium?.enabled)
    report('addon-cilium', ['addons', 'cilium', 'enabled'], 'cilium is enabled but cluster.network.cni is flannel', { hint: 'set cluster.network.cni: cilium' });
};

export const RULES: readonly Rule[] = [nameMatchesFile, uniqueNames, nodesOrCount, controlPlane, datastore, versions, instanceTypes, cidrs, nodeAddresses, iam, addons, shellShapes];

/**
 * Run the rules. `tolerant` is for a document the schema rejected: a rule that trips over a
 * malformed value is skipped instead of failing the run (the schema already reported the value).
 */
export function runRules(ctx: RuleContext, rules: readonly Rule[] = RULES, tolerant = false): Diagnostic[] {
  const out: Diagnostic[] = [];
  const report: Reporter = (rule, path, message, opts) => {
    const pos = locate(ctx.env, path, opts.key ?? false);
    out.push({ severity: opts.severity ?? 'error', rule, file: pos.file, line: pos.line, col: pos.col, path, message, hint: opts.hint, ...(opts.loud ? { loud: true } : {}) });
  };
  for (const r of rules) {
    if (!tolerant) r(ctx, report);
    else
      try {
        r(ctx, report);
      } catch {
        // a shape the schema refused; its error is reported already
      }
  }
  return out;
}
