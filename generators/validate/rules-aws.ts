/**
 * What AWS refuses or ignores: identifiers (VPC, subnet, ACM, KMS, IAM, S3, the IRSA issuer) and
 * regions, literal or resolved from the SSM lock, and the addresses AWS gives to nodes. A value
 * that came from the lock is reported at its `{ ssm: … }` reference, naming the parameter.
 */
import { distributions } from '../distributions/registry.js';
import { cidrContains, formatIpv4, parseCidr, parseIpv4 } from '../lib/cidr.js';
import type { DocPath } from '../lib/paths.js';
import { hintFor } from '../lib/suggest.js';
import type { ResolvedEnvironment } from '../load/loader.js';
import { lockFile } from '../load/ssm-lock.js';
import type { Reporter, Rule } from './rules.js';

/** Every commercial, China and GovCloud region (a region outside this table cannot host the cluster). */
export const AWS_REGIONS: readonly string[] = [
  'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'ca-central-1', 'ca-west-1', 'mx-central-1', 'sa-east-1',
  'eu-central-1', 'eu-central-2', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-south-1', 'eu-south-2', 'eu-north-1',
  'il-central-1', 'me-south-1', 'me-central-1', 'af-south-1',
  'ap-east-1', 'ap-east-2', 'ap-south-1', 'ap-south-2', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3',
  'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5', 'ap-southeast-6', 'ap-southeast-7',
  'cn-north-1', 'cn-northwest-1', 'us-gov-east-1', 'us-gov-west-1',
];

/** The ARN partition of a region. */
export const partitionOf = (region: string): 'aws' | 'aws-cn' | 'aws-us-gov' => (region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws');

const HEX_ID = (prefix: string): RegExp => new RegExp(`^${prefix}-([0-9a-f]{8}|[0-9a-f]{17})$`);
export const VPC_ID = HEX_ID('vpc');
export const SUBNET_ID = HEX_ID('subnet');
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const KMS_KEY_ID = `(${UUID}|mrk-[0-9a-f]{32})`;
const ARN = /^arn:([a-z-]+):([a-z0-9-]+):([a-z0-9-]*):([^:]*):(.+)$/;

interface Arn { partition: string; service: string; region: string; account: string; resource: string }
const parseArn = (s: string): Arn | undefined => {
  const m = ARN.exec(s);
  return m ? { partition: m[1]!, service: m[2]!, region: m[3]!, account: m[4]!, resource: m[5]! } : undefined;
};

/** What is wrong with an ARN's partition, region and account, in the environment's terms. */
function arnPlace(arn: Arn, region: string, opts: { regional: boolean }): string | undefined {
  const partition = partitionOf(region);
  if (arn.partition !== partition) return `its partition is ${arn.partition}, but region ${region} is in partition ${partition}`;
  if (!/^[0-9]{12}$/.test(arn.account)) return `its account '${arn.account}' is not 12 digits`;
  if (opts.regional && arn.region !== region) return `it is in region ${arn.region || '(none)'}, not the environment's region ${region}`;
  return undefined;
}

export type IdentifierCheck = (value: string, ctx: { region: string; accountId: string }) => { problem: string; hint: string } | undefined;

export const checkVpcId: IdentifierCheck = (v) => (VPC_ID.test(v) ? undefined : { problem: `'${v}' is not a VPC ID`, hint: 'a VPC ID is vpc- and 8 or 17 hex digits, e.g. vpc-0123456789abcdef0' });
export const checkSubnetId: IdentifierCheck = (v) => (SUBNET_ID.test(v) ? undefined : { problem: `'${v}' is not a subnet ID`, hint: 'a subnet ID is subnet- and 8 or 17 hex digits, e.g. subnet-0123456789abcdef0' });

/** An ALB uses ACM certificates of its own region and account only. */
export const checkCertificateArn: IdentifierCheck = (v, { region, accountId }) => {
  const example = `arn:${partitionOf(region)}:acm:${region}:${accountId}:certificate/<uuid>`;
  const arn = parseArn(v);
  if (!arn || arn.service !== 'acm' || !new RegExp(`^certificate/${UUID}$`).test(arn.resource)) return { problem: `'${v}' is not an ACM certificate ARN`, hint: `expected ${example}` };
  const place = arnPlace(arn, region, { regional: true });
  if (place) return { problem: `ACM certificate ${v} cannot be used here: ${place}`, hint: `an ALB only uses certificates of its own region; request or import the certificate in ${region} (${example})` };
  if (arn.account !== accountId) return { problem: `ACM certificate ${v} is in account ${arn.account}, not the environment's account ${accountId}`, hint: `an ALB only uses certificates of its own account (${example})` };
  return undefined;
};

/** A KMS key: ID, key ARN, alias/<name> or alias ARN (`arnOnly`: the consumer needs the key ARN). */
export const kmsKeyCheck = (arnOnly: boolean): IdentifierCheck => (v, { region, accountId }) => {
  const example = `arn:${partitionOf(region)}:kms:${region}:${accountId}:key/<key id>`;
  const forms = arnOnly ? `a key ARN (${example})` : `a key ID (uuid or mrk-…), alias/<name>, or an ARN (${example})`;
  if (!arnOnly && (new RegExp(`^${KMS_KEY_ID}$`).test(v) || /^alias\/[A-Za-z0-9/_-]{1,250}$/.test(v))) {
    return v.startsWith('alias/aws/') ? { problem: `'${v}' is an AWS managed key alias`, hint: 'leave the key unset to use the AWS managed key, or name a customer managed key' } : undefined;
  }
  const arn = parseArn(v);
  if (!arn || arn.service !== 'kms' || !new RegExp(`^(key/${KMS_KEY_ID}|alias/[A-Za-z0-9/_-]{1,250})$`).test(arn.resource) || (arnOnly && !arn.resource.startsWith('key/')))
    return { problem: `'${v}' is not a KMS key ${arnOnly ? 'ARN' : 'identifier'}`, hint: `expected ${forms}` };
  const place = arnPlace(arn, region, { regional: true });
  if (place) return { problem: `KMS key ${v} cannot be used here: ${place}`, hint: `KMS keys are regional; use a key in ${region}` };
  return undefined;
};

/** IAM role ARN: partition, 12-digit account, path (/…/) and name (1–64 of [A-Za-z0-9+=,.@_-]). */
export const checkRoleArn: IdentifierCheck = (v, { region, accountId }) => {
  const example = `arn:${partitionOf(region)}:iam::${accountId}:role/<name>`;
  const arn = parseArn(v);
  if (!arn || arn.service !== 'iam' || !arn.resource.startsWith('role/')) return { problem: `'${v}' is not an IAM role ARN`, hint: `expected ${example}` };
  if (arn.region !== '') return { problem: `IAM role ARN ${v} names a region`, hint: `IAM is global: the region field stays empty (${example})` };
  const place = arnPlace(arn, region, { regional: false });
  if (place) return { problem: `IAM role ARN ${v} cannot be used here: ${place}`, hint: `expected ${example}` };
  const rest = arn.resource.slice('role/'.length);
  const slash = rest.lastIndexOf('/');
  const path = slash === -1 ? '/' : `/${rest.slice(0, slash + 1)}`;
  const name = rest.slice(slash + 1);
  if (!/^[A-Za-z0-9+=,.@_-]{1,64}$/.test(name)) return { problem: `IAM role name '${name}' in ${v} is not valid`, hint: 'a role name is 1–64 characters of letters, digits and + = , . @ _ -' };
  if (path.length > 512 || !/^\/([\x21-\x2e\x30-\x7e]+\/)*$/.test(path)) return { problem: `IAM role path '${path}' in ${v} is not valid`, hint: 'a role path is / or /segments/ of printable ASCII, at most 512 characters' };
  return undefined;
};

/** S3 general purpose bucket naming rules. */
export const checkBucketName: IdentifierCheck = (v) => {
  const bad = (why: string, hint: string = 'bucket names are 3–63 characters of lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit'): { problem: string; hint: string } => ({ problem: `'${v}' is not a valid S3 bucket name: ${why}`, hint });
  if (v.startsWith('s3://') || v.startsWith('arn:')) return bad('give the bare bucket name', `use '${v.replace(/^s3:\/\//, '').replace(/^arn:[^:]+:s3:::/, '').split('/')[0]}' (a prefix goes into the prefix setting)`);
  if (v.length < 3 || v.length > 63) return bad(`it has ${v.length} characters`);
  const chars = [...new Set(v.match(/[^a-z0-9.-]/g) ?? [])];
  if (chars.length > 0) return bad(`${chars.map((c) => `'${c}'`).join(', ')} ${chars.length === 1 ? 'is' : 'are'} not allowed`, `did you mean '${v.toLowerCase().replace(/[^a-z0-9.-]/g, '-')}'?`);
  if (!/^[a-z0-9].*[a-z0-9]$/.test(v)) return bad('it must start and end with a letter or digit');
  if (v.includes('..')) return bad('two adjacent periods');
  if (/^\d+\.\d+\.\d+\.\d+$/.test(v)) return bad('it is formatted as an IP address');
  for (const p of ['xn--', 'sthree-', 'amzn-s3-demo-']) if (v.startsWith(p)) return bad(`the prefix ${p} is reserved`);
  for (const s of ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3']) if (v.endsWith(s)) return bad(`the suffix ${s} is reserved`);
  return undefined;
};

/**
 * An S3 key prefix (the backup or replica folder in its bucket): the prefix only, of S3's safe characters
 * (AWS S3 User Guide, "Naming Amazon S3 objects" (userguide/object-keys.html), "Object key naming guidelines":
 * letters, digits and ! - _ . * ' ( ), with / as the delimiter), no empty, `.` or `..` segment. The tools write it
 * verbatim into object keys and into the IAM policy's resource ARNs (Litestream v0.5.16 s3/replica_client.go:650
 * `c.Path + "/" + …`): a URL given here becomes a folder named `s3:` inside the bucket.
 */
export const checkS3Prefix: IdentifierCheck = (v) => {
  const bad = (why: string, hint: string = "a prefix is folder names of letters, digits and ! - _ . * ' ( ) separated by /, e.g. backups/odp-dev"): { problem: string; hint: string } => ({ problem: `'${v}' is not an S3 key prefix: ${why}`, hint });
  const url = /^(s3:\/\/|arn:[^:]*:s3:::)([^/]*)\/?(.*)$/.exec(v);
  if (url) return bad('give the folder inside the bucket only', url[3] ? `use '${url[3].replace(/\/+$/, '')}' (the bucket, ${url[2]}, goes into the bucket setting)` : `leave it out (the bucket, ${url[2]}, goes into the bucket setting)`);
  const chars = [...new Set(v.match(/[^A-Za-z0-9!_.*'()/-]/g) ?? [])];
  if (chars.length > 0) return bad(`${chars.map((c) => (c === ' ' ? 'a space' : `'${c}'`)).join(', ')} ${chars.length === 1 ? 'is' : 'are'} not among S3's safe characters`);
  const segments = v.replace(/^\/+|\/+$/g, '').split('/');
  if (segments.some((x) => x === '')) return bad('it has an empty folder (//)');
  if (segments.some((x) => x === '.' || x === '..')) return bad("it has a '.' or '..' folder: S3 keeps it literally, it is no relative path");
  return undefined;
};

/** The IRSA issuer: an https URL with no query, fragment or credentials (OIDC discovery, IAM OIDC providers). */
export const checkIssuerUrl: IdentifierCheck = (v) => {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return { problem: `'${v}' is not a URL`, hint: 'expected https://<host>[/<path>], e.g. https://odp-prod-oidc.s3.eu-west-1.amazonaws.com' };
  }
  if (u.protocol !== 'https:') return { problem: `the IRSA issuer ${v} is not https`, hint: 'IAM OIDC providers and the service-account issuer need an https:// URL' };
  if (u.search !== '' || u.hash !== '' || v.includes('?') || v.includes('#')) return { problem: `the IRSA issuer ${v} has a query or fragment`, hint: 'an OIDC issuer is scheme, host and optional path only' };
  if (u.username !== '' || u.password !== '') return { problem: `the IRSA issuer ${v} carries credentials`, hint: 'remove user:password@' };
  return undefined;
};

/** The SSM parameter an environment value came from, if it was written as `{ ssm: … }`. */
function ssmSource(env: ResolvedEnvironment, path: DocPath): string | undefined {
  let v: unknown = env.data;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v !== null && typeof v === 'object' && typeof (v as { ssm?: unknown }).ssm === 'string' ? (v as { ssm: string }).ssm : undefined;
}

/** Report a failed identifier check at the value (or its `{ ssm }` reference, naming the parameter). */
function checkAt(env: ResolvedEnvironment, report: Reporter, ctx: { region: string; accountId: string }, rule: string, path: DocPath, value: unknown, check: IdentifierCheck): void {
  if (typeof value !== 'string') return;
  const r = check(value, ctx);
  if (!r) return;
  const ssm = ssmSource(env, path);
  report(rule, path, ssm ? `${r.problem} (the value of SSM parameter ${ssm} in ${lockFile(env.name)})` : r.problem, {
    hint: ssm ? `${r.hint}; fix the parameter in SSM and run npm run synth -- --env ${env.name} --refresh-ssm` : r.hint,
  });
}

const region: Rule = ({ input }, report) => {
  if (!AWS_REGIONS.includes(input.aws.region))
    report('aws-region', ['aws', 'region'], `'${input.aws.region}' is not an AWS region`, { hint: hintFor(input.aws.region, AWS_REGIONS) ?? `regions are e.g. eu-central-1, us-east-1 (${AWS_REGIONS.length} known)` });
};

const identifiers: Rule = ({ env, input }, report) => {
  const ctx = { region: input.aws.region, accountId: input.aws.accountId };
  const at = (rule: string, path: DocPath, value: unknown, check: IdentifierCheck): void => checkAt(env, report, ctx, rule, path, value, check);
  at('aws-vpc-id', ['aws', 'vpc', 'id'], input.aws.vpc.id, checkVpcId);
  input.aws.vpc.subnets.forEach((s, i) => at('aws-subnet-id', ['aws', 'vpc', 'subnets', i, 'id'], s.id, checkSubnetId));
  if (input.aws.iam?.mode === 'irsa') at('irsa-issuer', ['aws', 'iam', 'issuerURL'], input.aws.iam.issuerURL, checkIssuerUrl);
  const d = input.cluster.datastore;
  at('s3-bucket-name', ['cluster', 'datastore', 'backup', 'bucket'], d.backup?.bucket, checkBucketName);
  at('s3-bucket-name', ['cluster', 'datastore', 'litestream', 'bucket'], d.litestream?.bucket, checkBucketName);
  at('s3-prefix', ['cluster', 'datastore', 'backup', 'prefix'], d.backup?.prefix, checkS3Prefix);
  at('s3-prefix', ['cluster', 'datastore', 'litestream', 'prefix'], d.litestream?.prefix, checkS3Prefix);
  at('kms-key', ['cluster', 'datastore', 'backup', 'kmsKeyId'], d.backup?.kmsKeyId, kmsKeyCheck(false));
  for (const x of distributions()) for (const i of x.rules.identifiers?.(input) ?? []) at(i.rule, i.path, i.value, i.check);
  // The EBS CSI driver's StorageClass parameter kmsKeyId is "the full ARN of the key".
  at('kms-key', ['addons', 'aws-ebs-csi-driver', 'settings', 'kmsKeyId'], input.addons?.['aws-ebs-csi-driver']?.settings?.kmsKeyId, kmsKeyCheck(true));
  (input.workloads ?? []).forEach((w, i) => {
    at('acm-certificate-arn', ['workloads', i, 'ingress', 'certificateArn'], w.ingress?.certificateArn, checkCertificateArn);
    at('iam-role-arn', ['workloads', i, 'serviceAccount', 'iamRoleArn'], w.serviceAccount?.iamRoleArn, checkRoleArn);
  });
};

/** AWS allows VPC and subnet CIDR blocks from /16 to /28. */
const cidrSizes: Rule = ({ input }, report) => {
  const check = (path: DocPath, what: string, text: string): void => {
    const c = parseCidr(text);
    if (c && !c.hostBits && (c.bits < 16 || c.bits > 28))
      report('cidr-size', path, `${what} ${text} is a /${c.bits}; AWS allows /16 to /28`, { hint: c.bits < 16 ? 'use a /16 or smaller block (add secondary CIDR blocks for more addresses)' : 'use a /28 or larger block' });
  };
  check(['aws', 'vpc', 'cidr'], 'VPC CIDR', input.aws.vpc.cidr);
  input.aws.vpc.subnets.forEach((s, i) => check(['aws', 'vpc', 'subnets', i, 'cidr'], `subnet '${s.name}'`, s.cidr));
};

/**
 * AWS reserves five addresses of every subnet: the network address, +1 (VPC router), +2 (DNS),
 * +3 (future use) and the last (broadcast). Nodes run only in private subnets, as the README
 * promises: a node in a public subnet would have its kubelet and node API a route away from the
 * internet.
 */
const nodePlacement: Rule = ({ input }, report) => {
  const subnets = new Map(input.aws.vpc.subnets.map((s) => [s.name, s]));
  const publicSubnet = (path: DocPath, name: string | undefined, what: string): void => {
    const s = name ? subnets.get(name) : undefined;
    if (s?.public)
      report('node-subnet-public', path, `${what} is placed in public subnet '${s.name}'; nodes run in private subnets only`, {
        hint: `use a private subnet (${[...subnets.values()].filter((x) => !x.public).map((x) => x.name).join(', ') || 'none declared'}); public subnets are for internet-facing ALBs`,
      });
  };
  input.nodePools.forEach((p, pi) => {
    publicSubnet(['nodePools', pi, 'subnet'], p.subnet, `pool '${p.name}'`);
    (p.nodes ?? []).forEach((n, ni) => {
      const path: DocPath = ['nodePools', pi, 'nodes', ni];
      if (n.subnet) publicSubnet([...path, 'subnet'], n.subnet, `node '${n.name}'`);
      const s = subnets.get(n.subnet ?? p.subnet ?? '');
      const c = s ? parseCidr(s.cidr) : undefined;
      const ip = parseIpv4(n.ip);
      if (!s || !c || ip === undefined || !cidrContains(c, ip)) return;
      const size = 2 ** (32 - c.bits);
      const offset = ip - c.base;
      const reserved = offset === 0 ? 'the network address' : offset === 1 ? 'the VPC router' : offset === 2 ? 'the Amazon DNS server' : offset === 3 ? 'reserved by AWS for future use' : offset === size - 1 ? 'the broadcast address' : undefined;
      if (reserved)
        report('node-ip-reserved', [...path, 'ip'], `${n.ip} is ${reserved} of subnet '${s.name}' (${s.cidr}); AWS reserves the first four and the last address of every subnet`, {
          hint: `use an address from ${formatIpv4(c.base + 4)} to ${formatIpv4(c.base + size - 2)}`,
        });
    });
  });
};

/**
 * `aws.iam.controllersPool`: the worker pool that runs the credentialed controllers (catalog/placement.ts).
 * Their values select its nodes by the pool's labels (a nodeSelector; nodes carry a pool's labels from
 * registration) and tolerate each of its taints exactly, so every taint is tolerated and none refused;
 * the pool must exist, be a worker pool, have nodes and have labels.
 */
const controllersPool: Rule = ({ input }, report) => {
  const name = input.aws.iam?.controllersPool;
  if (name === undefined) return;
  const at: DocPath = ['aws', 'iam', 'controllersPool'];
  const workers = input.nodePools.filter((p) => p.role === 'worker').map((p) => p.name);
  const pool = input.nodePools.find((p) => p.name === name);
  const why = 'the AWS Load Balancer Controller, the EBS CSI controller and External Secrets (when it assumes store roles) run there with the node credentials';
  if (!pool) report('aws-controllers-pool', at, `no node pool named '${name}'`, { hint: hintFor(name, workers) ?? `worker pools: ${workers.join(', ') || 'none'}; ${why}` });
  else if (pool.role !== 'worker')
    report('aws-controllers-pool', at, `pool '${name}' is a control-plane pool`, { hint: 'the control planes are the default: remove aws.iam.controllersPool to run the AWS controllers there, or name a worker pool' });
  else if ((pool.nodes ? pool.nodes.length : (pool.count ?? 0)) === 0)
    report('aws-controllers-pool', at, `pool '${name}' has no nodes: ${why}, and would stay Pending`, { hint: 'give the pool nodes (count ≥ 1), or name another worker pool' });
  else if (Object.keys(pool.labels ?? {}).length === 0)
    report('aws-controllers-pool', at, `pool '${name}' has no labels to select its nodes by`, { hint: `add labels: { node.opendev.dev/pool: ${name} } to the pool (the controllers' nodeSelector)` });
};

export const AWS_RULES: readonly Rule[] = [region, identifiers, cidrSizes, nodePlacement, controllersPool];
