/**
 * What the AWS layer refuses before anything is written, at the place in the environment file that
 * causes it (it needs the model: user data, node classes, derived names):
 *
 * - `aws.user-data-size`: EC2 accepts at most 16 KB of user data before base64
 *   (AWS::EC2::Instance.UserData, "User data is limited to 16 KB"): at the pool of the target.
 * - `aws.boot-parameter-size`: a boot parameter (a fixed node's config) over SSM's 8 KB (Advanced tier), at its pool.
 * - `aws.name-length`: names AWS limits (load balancer and target group 32, IAM role 64, S3 bucket 63)
 *   derived from cluster.name.
 * - `aws.logical-id`: two names whose CloudFormation logical ids are one (pools, nodes and their AMI parameters,
 *   buckets, secret-store roles by namespace, IRSA roles: logical-ids.ts), at the later name.
 * - `aws.image-unlocked` (warning): a node class whose AMI is not in the lock yet; the nodes stack's
 *   deployment file then lacks its parameter. `aws.image-id`: a locked value that is no AMI id.
 * - `aws.subnet-id` (warning): a subnet the stacks place nodes in, without an id.
 * - `aws.operator-cidr`: an operator network wider than /8 (0.0.0.0/0 included) in aws.vpc.operatorCidrs.
 * - `aws.node-image-arch`: a fixed node pinned to an AMI of another architecture than its pool now has (the lock's
 *   nodeImageArch): the instance type change would fail at the nodes stack update.
 * - `aws.endpoint-port`: `cluster.endpoint` on another port than the one the control planes serve the Kubernetes API
 *   on (the distribution's `apiServerPort`; no port means 443). The load balancer forwards each endpoint port to the
 *   same port on the control planes (stacks.ts), and an address endpoint is called on that port directly, where
 *   nothing else answers: kubectl, the hub and every agent joining through it would fail. On a port another endpoint
 *   port has (a supervisor's), the template would hold two listeners on one port and two target groups of one name,
 *   which Elastic Load Balancing refuses (DuplicateListener: "A listener with the specified port already exists").
 */
import { formatPath, type DocPath } from '../../lib/paths.js';
import { locate, type ResolvedEnvironment } from '../../load/loader.js';
import type { EnvironmentModel } from '../../model/types.js';
import { USER_DATA_LIMIT } from './template.js';
import { carriedUserData, compressedFrom } from './user-data.js';
import { SSM_ADVANCED_LIMIT } from './facts.js';
import type { Diagnostic } from '../../validate/diagnostics.js';
import { awsPath } from './deploy.js';
import { awsPlan } from './plan.js';
import { lockFile } from '../../load/ssm-lock.js';
import { namedLogicalIds } from './logical-ids.js';

export const AMI_ID = /^ami-[0-9a-f]{8,17}$/;

export function awsModelDiagnostics(env: ResolvedEnvironment, m: EnvironmentModel): Diagnostic[] {
  const out: Diagnostic[] = [];
  const at = (path: DocPath, severity: Diagnostic['severity'], rule: string, message: string, hint: string, key = false): void => {
    const pos = locate(env, path, key);
    out.push({ severity, rule, file: pos.file, line: pos.line, col: pos.col, path, message, hint });
  };
  const poolIndex = (name: string): number => m.pools.findIndex((p) => p.name === name);
  const p = awsPlan(m, m.aws.images);

  const api = p.facts.apiServerPort(m);
  if (m.cluster.endpointPort !== api.port) {
    const other = p.facts.endpointPorts(m).find((e) => e.name !== 'api' && e.port === m.cluster.endpointPort);
    const port = m.cluster.endpointPort;
    const there = p.apiLoadBalancer
      ? `the API load balancer forwards it to port ${port} of the control planes, ${other ? `the ${other.name}'s, whose listener it would take a second time` : 'where nothing answers'}`
      : `clients would call port ${port} of the control plane at that address, ${other ? `the ${other.name}'s` : 'where nothing answers'}`;
    at(['cluster', 'endpoint'], 'error', 'aws.endpoint-port', `the endpoint's port ${port}${/:[0-9]+$/.test(m.cluster.endpoint) ? '' : ' (none written: 443)'} is not the port the control planes serve the Kubernetes API on (${api.port}): ${there}`, `write https://${m.cluster.endpointHost}:${api.port}`);
  }

  for (const t of m.configTargets) {
    const ud = carriedUserData(p.facts, m, t);
    if (ud === undefined) continue;
    // The bytes EC2 holds: compressed, when the distribution's user data is carried gzip (./user-data.ts).
    if (ud.bytes.length > USER_DATA_LIMIT)
      at(['nodePools', poolIndex(t.pool.name)], 'error', 'aws.user-data-size', `the user data of ${t.name} is ${ud.bytes.length} bytes${compressedFrom(ud)}; EC2 accepts at most ${USER_DATA_LIMIT} (before base64)`, `shorten what it embeds (${p.facts.userDataFile?.(t) ?? 'the user data'}): fewer extra config keys, smaller files`);
  }

  // A boot parameter (a fixed node's config, the release) is one SSM String parameter: at most 8 KB in the Advanced tier.
  for (const b of p.facts.bootParameters?.(m) ?? []) {
    const bytes = Buffer.byteLength(b.value);
    if (bytes > SSM_ADVANCED_LIMIT)
      at(b.pool !== undefined && poolIndex(b.pool) >= 0 ? ['nodePools', poolIndex(b.pool)] : ['cluster'], 'error', 'aws.boot-parameter-size', `SSM parameter ${b.name} would hold ${bytes} bytes; an SSM parameter holds at most ${SSM_ADVANCED_LIMIT} (Advanced tier)`, 'shorten what the node config holds: fewer extra config keys and arguments');
  }

  const limits: [string, number, string][] = [
    [p.names.loadBalancer, 32, 'load balancer'],
    ...p.facts.endpointPorts(m).map((e): [string, number, string] => [p.names.targetGroup(e.port), 32, 'target group']),
    ...p.roles.map((r): [string, number, string] => [r.name, 64, 'IAM role']),
    [p.names.stackRole, 64, 'IAM role'],
    ...(p.pools.some((x) => x.image.registration?.needsImportBucket) ? [[p.names.importBucket, 63, 'S3 bucket'] as [string, number, string]] : []),
  ];
  const over = limits.filter(([name, max]) => name.length > max);
  if (over.length > 0) {
    const fit = Math.min(...limits.map(([name, max]) => m.cluster.name.length - (name.length - max)));
    at(['cluster', 'name'], 'error', 'aws.name-length', `cluster.name '${m.cluster.name}' is too long for the AWS names derived from it: ${over.map(([name, max, what]) => `${what} '${name}' (${name.length} characters, AWS allows ${max})`).join(', ')}`, `shorten cluster.name to at most ${fit} characters`);
  }

  // Names giving one logical id, reported at the later of the two in the file (logical-ids.ts lists every kind).
  const named = namedLogicalIds(m, p, env.data).map((x) => ({ ...x, pos: locate(env, x.path) }));
  named.sort((x, y) => x.pos.file.localeCompare(y.pos.file) || x.pos.line - y.pos.line || x.pos.col - y.pos.col);
  const seen = new Map<string, (typeof named)[number]>();
  for (const x of named) {
    const other = seen.get(x.id);
    if (!other) seen.set(x.id, x);
    else if (other.name !== x.name || other.what !== x.what)
      at(x.path, 'error', 'aws.logical-id', `${x.what} '${x.name}' gives the CloudFormation logical id ${x.id}, as ${other.what} '${other.name}' (${formatPath(other.path)}, line ${other.pos.line}) does: a stack template holds each logical id once`, `rename one of them: logical ids keep only letters and digits and capitalise each part (a-1b and a1b both give A1b)`);
  }

  // Operator networks: a private network each; the whole internet or a /0–/7 block is no operator network.
  (env.data.aws as { vpc?: { operatorCidrs?: unknown[] } } | undefined)?.vpc?.operatorCidrs?.forEach((cidr, i) => {
    const prefix = typeof cidr === 'string' ? Number(cidr.split('/')[1]) : NaN;
    if (prefix < 8)
      at(['aws', 'vpc', 'operatorCidrs', i], 'error', 'aws.operator-cidr', `operator network '${String(cidr)}' admits ${prefix === 0 ? 'the whole internet' : `a /${prefix} block`} to the API load balancer and the nodes' operator ports`, 'name the VPN or office network (e.g. 10.200.0.0/16); the nodes and the API are private');
  });

  // Subnets the stacks place something in are named by id (SubnetId, VPCZoneIdentifier, Subnets).
  const used = new Set<string>([...m.nodes.flatMap((n) => (n.subnet ? [n.subnet.name] : [])), ...p.pools.flatMap((x) => x.subnets.map((s) => s.name))]);
  m.aws.vpc.subnets.forEach((s, i) => {
    if (used.has(s.name) && !s.id)
      at(['aws', 'vpc', 'subnets', i], 'warning', 'aws.subnet-id', `subnet '${s.name}' has no id: the nodes stack places instances in it by id, and cannot be deployed without one`, `add id: subnet-… (or { ssm: /… }) to the subnet`);
  });

  for (const img of p.images) {
    const i = p.pools.findIndex((x) => x.image.cls.name === img.cls.name);
    const path: DocPath = ['nodePools', i, 'arch'];
    if (img.imageId === undefined) {
      const how = img.registration ? `register it: sh ${awsPath(m, `images/${img.cls.name}.sh`)}, then ` : '';
      at(path, 'warning', 'aws.image-unlocked', `no AMI for node class ${img.cls.name} in ${lockFile(m.name)} (SSM ${img.parameter}): the nodes stack cannot be deployed yet`, `${how}npm run synth -- --env ${m.name} --refresh-ssm`);
    } else if (!AMI_ID.test(img.imageId)) at(path, 'error', 'aws.image-id', `SSM ${img.parameter} holds '${img.imageId}', not an AMI id (ami-…)`, `fix the parameter in SSM and run npm run synth -- --env ${m.name} --refresh-ssm`);
  }

  // A fixed node keeps its pinned AMI (the lock's nodeImages), of the architecture it was created for (nodeImageArch).
  // EC2 does not run an AMI on an instance type of the other architecture, so the nodes stack update that changes the
  // type fails and rolls back (an instance changes its image only by a replacement).
  for (const pp of p.pools)
    for (const n of pp.pool.nodes) {
      const was = m.aws.nodeImageArch[n.name];
      if (was === undefined || was === pp.pool.arch) continue;
      at(['nodePools', poolIndex(pp.pool.name), 'arch'], 'error', 'aws.node-image-arch', `node ${n.name} keeps its pinned ${was} AMI ${m.aws.nodeImages[n.name]} (the lock's nodeImages), but its pool is now ${pp.pool.arch} (${pp.pool.instanceType}): an instance cannot boot an image of another architecture and changes its image only by a replacement — the nodes stack update would fail and roll back`, `replace the node: sh ${awsPath(m, 'deploy.sh')} terminate-node ${n.name} and the cluster side (README: Replacing a lost fixed node), then delete ${n.name} from nodeImages and nodeImageArch in ${lockFile(m.name)}, so that it takes its class's image (the diff shows the replacement); or keep this pool ${was}`);
    }
  return out;
}
