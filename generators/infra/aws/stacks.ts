/**
 * The environment's CloudFormation stacks, from the AWS plan (plan.ts). Split where lifecycles
 * differ:
 *
 * - `<cluster>-base` (identity and network): the environment's KMS key, its buckets, the node roles
 *   and instance profiles, the IRSA OIDC provider and roles, the node and load-balancer security
 *   groups with every port of the port table (ports.ts), the private API load balancer and the
 *   private hosted zone of the endpoint. Changes rarely; holds data (buckets, key: retained).
 * - `<cluster>-nodes`: the fixed nodes as instances with their addresses, the auto-scaled pools as
 *   launch templates and auto-scaling groups. Changes with every image, instance type or user data.
 *
 * The nodes stack reads the base stack's exports (`<cluster>:…`); the cluster layer and the
 * runbooks read the same outputs. Pure: plan in, template objects out.
 */
import { DEFAULTS } from '../../model/defaults.js';
import type { EnvironmentModel, Node, NodePool, Subnet } from '../../model/types.js';
import type { NodeGroup, Peer, Statement } from './facts.js';
import { awsPlan, type AwsPlan, type BucketPlan, type Grant, type NodeRoleKind, type PoolPlan } from './plan.js';
import { bucketArn, partitionOf } from './policy.js';
import { ingressRules, portText } from './ports.js';
import { drainResources, TERMINATING_HOOK } from './drain.js';
import { INSTANCE_WARMUP_SECONDS, poolMaxSize, rollPreferences } from './roll.js';
import { PROTECTED_ROLE } from './termination.js';
import { autoScaledPools, NODE_TERMINATION } from '../../catalog/aws-node-termination-handler.js';
import { assertDisjoint, getAtt, importValue, logicalId, merged, put, ref, resource, uniqueRecord, type Output, type Parameter, type Resource, type Template, type Value } from './template.js';
import type { S3BucketRule } from './spec/cfn-types.js';
import { carriedUserData, userDataProperty } from './user-data.js';

/** IAM's limit for a managed policy document (characters, whitespace excluded). */
export const MANAGED_POLICY_LIMIT = 6144;

const GROUP_ID: Record<NodeGroup | 'api-lb', string> = { controlplane: 'ControlPlaneSecurityGroup', worker: 'WorkerSecurityGroup', 'api-lb': 'ApiLoadBalancerSecurityGroup' };
const ROLE_ID: Record<NodeRoleKind, string> = { controlplane: 'ControlPlaneRole', worker: 'WorkerRole', gpu: 'GpuWorkerRole', controllers: 'ControllersRole' };
const PROFILE_ID: Record<NodeRoleKind, string> = { controlplane: 'ControlPlaneInstanceProfile', worker: 'WorkerInstanceProfile', gpu: 'GpuWorkerInstanceProfile', controllers: 'ControllersInstanceProfile' };

/**
 * Resource tags beyond the stack's: CloudFormation propagates the stack tags (odp:environment,
 * odp:cluster, odp:stack: the deployment file's `tags`) to every resource that takes tags.
 */
const tags = (_m: EnvironmentModel, extra: Record<string, string> = {}): { Key: string; Value: string }[] =>
  Object.entries(extra)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([Key, Value]) => ({ Key, Value }));

/** Export names other stacks and the cluster layer read: `<cluster>:<Name>`. */
export const exportName = (p: AwsPlan, name: string): string => `${p.names.exportPrefix}:${name}`;
const output = (p: AwsPlan, name: string, description: string, value: unknown): [string, Output] => [name, { Description: description, Value: value, Export: { Name: exportName(p, name) } }];

const policyDocument = (statements: Statement[]) => ({ Version: '2012-10-17', Statement: statements });

/** Every entry of `part` into `into`, through put (an id taken twice throws). */
const putAll = (into: Record<string, Resource>, part: Record<string, Resource>): void => {
  for (const [id, r] of Object.entries(part)) put(into, id, r);
};

/** Split statements into documents under IAM's managed-policy size limit. */
export function chunkStatements(statements: Statement[], limit = MANAGED_POLICY_LIMIT - 200): Statement[][] {
  const out: Statement[][] = [];
  let cur: Statement[] = [];
  let size = 0;
  for (const s of statements) {
    const n = JSON.stringify(s).length;
    if (cur.length > 0 && size + n > limit) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(s);
    size += n;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** The key S3 encrypts a bucket with: the environment's `kmsKeyId`, or the stack's environment key. */
function bucketKey(b: BucketPlan): Value<string> {
  return b.kmsKeyId ?? getAtt('EnvironmentKey', 'Arn');
}

/** A KMS key reference as an IAM resource: ARN as is; `alias/x` and bare key ids qualified. */
function kmsResource(m: EnvironmentModel, key: unknown): { resource: unknown; condition?: Record<string, Record<string, unknown>> } {
  if (typeof key !== 'string') return { resource: key };
  if (key.startsWith('arn:')) return { resource: key };
  const base = `arn:${partitionOf(m.aws.region)}:kms:${m.aws.region}:${m.aws.accountId}`;
  if (key.startsWith('alias/')) return { resource: `${base}:key/*`, condition: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': key } } };
  return { resource: `${base}:key/${key}` };
}

/** KMS statements for every bucket a grant's S3 statements touch (SSE-KMS needs GenerateDataKey/Decrypt). */
function withBucketKeys(p: AwsPlan, statements: Statement[]): Statement[] {
  const m = p.model;
  const out = [...statements];
  for (const b of p.buckets) {
    const arn = bucketArn(m, b.name);
    const touches = statements.some((s) => s.Action.some((a) => a.startsWith('s3:') && a !== 's3:ListBucket' && a !== 's3:GetBucketLocation') && s.Resource.some((r) => typeof r === 'string' && r.startsWith(`${arn}/`)));
    if (!touches) continue;
    const k = kmsResource(m, bucketKey(b));
    out.push({
      Effect: 'Allow',
      Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
      Resource: [k.resource],
      Condition: { ...(k.condition ?? {}), StringEquals: { 'kms:ViaService': `s3.${m.aws.region}.amazonaws.com` } },
    });
  }
  return out;
}

function managedPolicies(p: AwsPlan, roleId: string, roleName: string, grants: Grant[]): Record<string, Resource> {
  const out: Record<string, Resource> = {};
  for (const g of grants) {
    const chunks = chunkStatements(withBucketKeys(p, g.statements));
    chunks.forEach((statements, i) => {
      const suffix = chunks.length > 1 ? `-${i + 1}` : '';
      put(out, `${roleId}${logicalId(g.id)}Policy${suffix ? i + 1 : ''}`, resource('AWS::IAM::ManagedPolicy', {
        ManagedPolicyName: `${roleName}-${g.id}${suffix}`,
        Roles: [ref(roleId)],
        PolicyDocument: policyDocument(statements),
      }));
    });
  }
  return out;
}

function keyResources(p: AwsPlan): Record<string, Resource> {
  if (!p.environmentKey) return {};
  const m = p.model;
  return {
    EnvironmentKey: resource(
      'AWS::KMS::Key',
      {
        Description: `Environment ${m.name} (cluster ${m.cluster.name}): default encryption of its buckets`,
        EnableKeyRotation: true,
        PendingWindowInDays: 30,
        KeyPolicy: {
          Version: '2012-10-17',
          Statement: [
            // The account administers the key; IAM policies of the account's principals grant its use
            // (the node and IRSA roles below name it), as with a key's default policy.
            { Sid: 'AccountAdministration', Effect: 'Allow', Principal: { AWS: `arn:${partitionOf(m.aws.region)}:iam::${m.aws.accountId}:root` }, Action: 'kms:*', Resource: '*' },
          ],
        },
      },
      STATEFUL_POLICIES,
    ),
    EnvironmentKeyAlias: resource('AWS::KMS::Alias', { AliasName: p.names.keyAlias, TargetKeyId: ref('EnvironmentKey') }),
  };
}

/**
 * The stateful resources' policies (the environment's buckets: etcd snapshots, the Litestream replica; their KMS key):
 * kept when the stack deletes or replaces them (DeletionPolicy, UpdateReplacePolicy Retain), except when the stack
 * operation that created them rolls back: "RetainExceptOnCreate behaves like Retain for stack operations, except for
 * the stack operation that initially created the resource. If the stack operation that created the resource is rolled
 * back, CloudFormation deletes the resource" (CloudFormation template reference, "DeletionPolicy attribute"). With plain
 * Retain, a first creation of the base stack that failed kept the new, empty bucket under its fixed name, and the
 * next creation failed on that name (the bucket exists) until someone deleted it by hand; the rolled-back stack's
 * ROLLBACK_COMPLETE already needs a delete-stack first (./stack-states.ts). UpdateReplacePolicy has no such value.
 */
export const STATEFUL_POLICIES = { DeletionPolicy: 'RetainExceptOnCreate', UpdateReplacePolicy: 'Retain' } as const;

export const bucketLogicalId = (name: string): string => `Bucket${logicalId(name)}`;

function bucketResources(p: AwsPlan, b: BucketPlan): Record<string, Resource> {
  const m = p.model;
  const id = bucketLogicalId(b.name);
  const prefix = b.prefix.replace(/^\/+|\/+$/g, '');
  const rules: S3BucketRule[] = [
    { Id: 'abort-incomplete-uploads', Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
    { Id: 'expire-noncurrent-versions', Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: b.noncurrentDays } },
  ];
  if (b.expireAfterDays !== undefined) rules.push({ Id: 'expire-snapshots', Status: 'Enabled', ...(prefix ? { Prefix: `${prefix}/` } : {}), ExpirationInDays: b.expireAfterDays });
  return {
    [id]: resource(
      'AWS::S3::Bucket',
      {
        BucketName: b.name,
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: bucketKey(b) }, BucketKeyEnabled: true }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LifecycleConfiguration: { Rules: rules },
        Tags: tags(m, { 'odp:purpose': b.purpose }),
      },
      STATEFUL_POLICIES,
    ),
    [`${id}Policy`]: resource('AWS::S3::BucketPolicy', {
      Bucket: ref(id),
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'DenyInsecureTransport',
            Effect: 'Deny',
            Principal: '*',
            Action: 's3:*',
            Resource: [bucketArn(m, b.name), `${bucketArn(m, b.name)}/*`],
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
        ],
      },
    }),
  };
}

/** The VM Import role and bucket image registration uses (only when a node class needs an imported AMI). */
function importResources(p: AwsPlan): Record<string, Resource> {
  if (!p.pools.some((x) => x.image.registration?.needsImportBucket)) return {};
  const m = p.model;
  const bucket: BucketPlan = { name: p.names.importBucket, purpose: 'disk images uploaded for ec2 import-snapshot (deleted after import)', prefix: '', expireAfterDays: 1, noncurrentDays: 1, retention: 'objects expire after a day' };
  const part = partitionOf(m.aws.region);
  return {
    ...bucketResources(p, bucket),
    ImageImportRole: resource('AWS::IAM::Role', {
      RoleName: p.names.importRole,
      Description: `VM Import service role of ${m.cluster.name}: ec2 import-snapshot reads the disk images of aws/images/*.sh`,
      // The VM Import service role (AWS VM Import/Export user guide, "Required service role").
      AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'vmie.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'sts:Externalid': 'vmimport' } } }] },
      Policies: [
        {
          PolicyName: 'import-snapshot',
          PolicyDocument: policyDocument([
            { Effect: 'Allow', Action: ['s3:GetBucketLocation', 's3:ListBucket'], Resource: [bucketArn(m, bucket.name)] },
            { Effect: 'Allow', Action: ['s3:GetObject'], Resource: [`${bucketArn(m, bucket.name)}/*`] },
            { Effect: 'Allow', Action: ['kms:Decrypt'], Resource: [getAtt('EnvironmentKey', 'Arn')] },
            { Effect: 'Allow', Action: ['ec2:ModifySnapshotAttribute', 'ec2:CopySnapshot'], Resource: [`arn:${part}:ec2:${m.aws.region}::snapshot/*`] },
            { Effect: 'Allow', Action: ['ec2:DescribeImportSnapshotTasks', 'ec2:DescribeSnapshots'], Resource: ['*'] },
          ]),
        },
      ],
    }),
  };
}

function securityGroups(p: AwsPlan): Record<string, Resource> {
  const m = p.model;
  const out: Record<string, Resource> = {};
  const groups: NodeGroup[] = p.pools.some((x) => x.group === 'worker') ? ['controlplane', 'worker'] : ['controlplane'];
  const clusterTag = { [`kubernetes.io/cluster/${m.cluster.name}`]: 'owned' };
  for (const g of groups)
    put(out, GROUP_ID[g], resource('AWS::EC2::SecurityGroup', {
      GroupName: p.names.securityGroup[g],
      GroupDescription: `${m.cluster.name} ${g === 'controlplane' ? 'control-plane' : 'worker'} nodes: the ports of the port table (README, EC2 instances and subnets); NodePorts are opened by the AWS Load Balancer Controller`,
      VpcId: m.aws.vpc.id,
      // The one security group of each node's interface carries the cluster tag: the Load Balancer
      // Controller adds its NodePort rules to it.
      Tags: tags(m, { Name: p.names.securityGroup[g], ...clusterTag }),
    }));
  if (p.apiLoadBalancer)
    put(out, GROUP_ID['api-lb'], resource('AWS::EC2::SecurityGroup', {
      GroupName: p.names.securityGroup['api-lb'],
      GroupDescription: `${m.cluster.name} API load balancer: the endpoint ports from the VPC (${m.aws.vpc.cidr})`,
      VpcId: m.aws.vpc.id,
      SecurityGroupIngress: [
        ...p.facts.endpointPorts(m).map((e) => ({ IpProtocol: 'tcp', FromPort: e.port, ToPort: e.port, CidrIp: m.aws.vpc.cidr, Description: `${e.port}/tcp ${e.name}` })),
        // Operators outside the VPC: kubectl only (the API port).
        ...m.aws.vpc.operatorCidrs.map((cidr) => ({ IpProtocol: 'tcp', FromPort: m.cluster.endpointPort, ToPort: m.cluster.endpointPort, CidrIp: cidr, Description: `${m.cluster.endpointPort}/tcp Kubernetes API from operators` })),
        // A hub in another VPC calls the Kubernetes API only (never a supervisor or join port).
        ...(hubApiCidr(m) ? [{ IpProtocol: 'tcp', FromPort: m.cluster.endpointPort, ToPort: m.cluster.endpointPort, CidrIp: hubApiCidr(m), Description: `${m.cluster.endpointPort}/tcp Kubernetes API from the hub ${m.fleet.hub!.name}` }] : []),
      ],
      Tags: tags(m, { Name: p.names.securityGroup['api-lb'] }),
    }));
  for (const r of ingressRules(m)) {
    if (r.peer === 'api-lb' && !p.apiLoadBalancer) continue;
    const proto = r.row.protocol;
    const id = `Ingress${logicalId(GROUP_ID[r.target].replace(/SecurityGroup$/, ''))}From${logicalId(peerId(r.peer))}${logicalId(proto)}${r.row.from}${r.row.to !== r.row.from && proto !== 'icmp' ? `To${r.row.to}` : ''}`;
    const rule = (source: { CidrIp: string } | { SourceSecurityGroupId: Value<string> }, description: string) =>
      resource('AWS::EC2::SecurityGroupIngress', { GroupId: getAtt(GROUP_ID[r.target], 'GroupId'), IpProtocol: proto, FromPort: r.row.from, ToPort: r.row.to, ...source, Description: description.slice(0, 255) });
    const text = `${portText(r.row)} ${r.row.component}`;
    if (r.peer !== 'operators') {
      put(out, id, rule({ SourceSecurityGroupId: getAtt(GROUP_ID[r.peer], 'GroupId') }, text));
      continue;
    }
    put(out, id, rule({ CidrIp: m.aws.vpc.cidr }, text));
    // Operators outside the VPC: one rule per network, numbered in the sorted order of aws.vpc.operatorCidrs.
    m.aws.vpc.operatorCidrs.forEach((cidr, i) => put(out, `${id}Network${i + 1}`, rule({ CidrIp: cidr }, `${text} (operators ${cidr})`)));
  }
  return out;
}

/** The CIDR of the hub managing this environment from another VPC, which the API load balancer admits on the API port. */
export function hubApiCidr(m: EnvironmentModel): string | undefined {
  const cidr = m.fleet.hub?.vpcCidr;
  return cidr && cidr !== m.aws.vpc.cidr ? cidr : undefined;
}

const peerId = (p: Peer): string => (p === 'controlplane' ? 'ControlPlane' : p === 'worker' ? 'Worker' : p === 'api-lb' ? 'ApiLoadBalancer' : 'Operators');

function nodeRoles(p: AwsPlan): Record<string, Resource> {
  const m = p.model;
  const out: Record<string, Resource> = {};
  for (const r of p.roles) {
    put(out, ROLE_ID[r.kind], resource('AWS::IAM::Role', {
      RoleName: r.name,
      Description: `${m.cluster.name} ${r.kind === 'controllers' ? `pool ${m.aws.iam.controllersPool ?? ''} worker` : r.kind === 'gpu' ? 'GPU worker' : r.kind === 'controlplane' ? 'control-plane' : 'worker'} nodes: ${r.grants.map((g) => g.who).join('; ')}`.slice(0, 1000),
      AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] },
    }));
    put(out, PROFILE_ID[r.kind], resource('AWS::IAM::InstanceProfile', { InstanceProfileName: r.name, Roles: [ref(ROLE_ID[r.kind])] }));
    putAll(out, managedPolicies(p, ROLE_ID[r.kind], r.name, r.grants));
  }
  return out;
}

export const irsaRoleLogicalId = (name: string): string => `Irsa${logicalId(name)}Role`;
export const storeRoleLogicalId = (store: string): string => `Store${logicalId(store)}Role`;

/**
 * Secret stores' roles the node roles assume (catalog/secret-stores.ts): trusted by the node roles the
 * External Secrets controller runs on, reading only what the store serves.
 */
function storeRoles(p: AwsPlan): Record<string, Resource> {
  const out: Record<string, Resource> = {};
  for (const r of p.storeRoles) {
    const id = storeRoleLogicalId(r.store);
    put(out, id, resource('AWS::IAM::Role', {
      RoleName: r.name,
      Description: `${r.who}; assumed by the External Secrets controller with the ${r.from.join(', ')} node role`.slice(0, 1000),
      AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: r.from.map((k) => getAtt(ROLE_ID[k], 'Arn')) }, Action: 'sts:AssumeRole' }] },
    }));
    if (r.statements.length > 0) putAll(out, managedPolicies(p, id, r.name, [{ id: 'read', who: r.who, statements: r.statements }]));
  }
  return out;
}

function irsaResources(p: AwsPlan): Record<string, Resource> {
  if (!p.irsa) return {};
  const m = p.model;
  const out: Record<string, Resource> = {
    OidcProvider: resource('AWS::IAM::OIDCProvider', { Url: p.irsa.issuer, ClientIdList: ['sts.amazonaws.com'] }),
  };
  for (const r of p.irsa.roles) {
    const id = irsaRoleLogicalId(r.name);
    put(out, id, resource('AWS::IAM::Role', {
      RoleName: r.name,
      ...(r.path !== '/' ? { Path: r.path } : {}),
      Description: `IRSA: ${r.who}; assumed by ServiceAccount ${r.namespace}/${r.serviceAccount} only`.slice(0, 1000),
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Federated: ref('OidcProvider') },
            Action: 'sts:AssumeRoleWithWebIdentity',
            Condition: { StringEquals: { [`${p.irsa.issuerHostPath}:sub`]: `system:serviceaccount:${r.namespace}:${r.serviceAccount}`, [`${p.irsa.issuerHostPath}:aud`]: 'sts.amazonaws.com' } },
          },
        ],
      },
    }));
    // Policy names carry the cluster (they are unique per account; the role name is the environment's choice).
    if (r.statements.length > 0) putAll(out, managedPolicies(p, id, `${m.cluster.name}-irsa-${r.name}`, [{ id: 'access', who: r.who, statements: r.statements }]));
  }
  return out;
}

/** Subnets for the API load balancer: one per zone of the control planes' subnets. */
function loadBalancerSubnets(p: AwsPlan): Subnet[] {
  const m = p.model;
  const cps = m.controlPlaneNodes.map((n) => n.subnet).filter((s): s is Subnet => s !== undefined);
  const candidates = cps.length > 0 ? cps : m.aws.vpc.subnets.filter((s) => !s.public);
  const byZone = new Map<string, Subnet>();
  for (const s of candidates) if (!byZone.has(s.zone)) byZone.set(s.zone, s);
  return [...byZone.values()].sort((a, b) => a.zone.localeCompare(b.zone));
}

export const targetGroupLogicalId = (name: string): string => `${logicalId(name)}TargetGroup`;

function apiResources(p: AwsPlan): Record<string, Resource> {
  if (!p.apiLoadBalancer) return {};
  const m = p.model;
  const out: Record<string, Resource> = {
    ApiLoadBalancer: resource('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Name: p.names.loadBalancer,
      Type: 'network',
      Scheme: 'internal',
      IpAddressType: 'ipv4',
      Subnets: loadBalancerSubnets(p).map((s) => s.id ?? s.name),
      SecurityGroups: [getAtt(GROUP_ID['api-lb'], 'GroupId')],
      LoadBalancerAttributes: [{ Key: 'load_balancing.cross_zone.enabled', Value: 'true' }],
      Tags: tags(m, { Name: p.names.loadBalancer }),
    }),
  };
  for (const e of p.facts.endpointPorts(m)) {
    const tg = targetGroupLogicalId(e.name);
    put(out, tg, resource('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Name: p.names.targetGroup(e.port),
      Protocol: 'TCP',
      Port: e.port,
      VpcId: m.aws.vpc.id,
      // IP targets: the control planes' fixed addresses, so the network stack does not depend on the
      // instances of the nodes stack; traffic comes from the load balancer's own addresses (client IP
      // preservation is off for IP targets), which the node security group admits by group.
      TargetType: 'ip',
      Targets: m.controlPlaneNodes.map((n) => ({ Id: n.ip, Port: e.port })),
      HealthCheckProtocol: 'TCP',
      HealthCheckIntervalSeconds: 10,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 2,
      TargetGroupAttributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }],
    }));
    put(out, `${logicalId(e.name)}Listener`, resource('AWS::ElasticLoadBalancingV2::Listener', {
      LoadBalancerArn: ref('ApiLoadBalancer'),
      Port: e.port,
      Protocol: 'TCP',
      DefaultActions: [{ Type: 'forward', TargetGroupArn: ref(tg) }],
    }));
  }
  // A private zone named exactly the endpoint host, with one apex record: it answers for that name
  // only, so no other name of a parent domain is shadowed inside the VPC.
  put(out, 'ApiHostedZone', resource('AWS::Route53::HostedZone', {
    Name: m.cluster.endpointHost,
    VPCs: [{ VPCId: m.aws.vpc.id, VPCRegion: m.aws.region }],
    HostedZoneConfig: { Comment: `${m.cluster.name}: the API endpoint ${m.cluster.endpoint}, private to VPC ${m.aws.vpc.id}` },
  }));
  put(out, 'ApiRecord', resource('AWS::Route53::RecordSet', {
    HostedZoneId: ref('ApiHostedZone'),
    Name: `${m.cluster.endpointHost}.`,
    Type: 'A',
    AliasTarget: { DNSName: getAtt('ApiLoadBalancer', 'DNSName'), HostedZoneId: getAtt('ApiLoadBalancer', 'CanonicalHostedZoneID'), EvaluateTargetHealth: false },
  }));
  return out;
}

/** A boot parameter's logical id. */
export const bootParameterLogicalId = (name: string): string => `BootParameter${logicalId(name)}`;

/**
 * The distribution's boot parameters (DistributionAwsFacts.bootParameters): non-secret SSM String parameters the
 * boot scripts read at first boot, in the base stack so that a change of their value (a release bump) touches no
 * node's user data (AWS::EC2::Instance UserData: "Update requires: Some interruptions", a stop and start of each
 * fixed node; a launch template's: an instance refresh of each pool).
 */
function bootParameterResources(p: AwsPlan): Record<string, Resource> {
  const out: Record<string, Resource> = {};
  for (const b of p.facts.bootParameters?.(p.model) ?? [])
    put(out, bootParameterLogicalId(b.name), resource('AWS::SSM::Parameter', { Name: b.name, Type: 'String', Tier: b.tier ?? 'Standard', Value: b.value, Description: b.description.slice(0, 1024), ...(b.allowedPattern ? { AllowedPattern: b.allowedPattern } : {}) }));
  return out;
}

export function baseTemplate(p: AwsPlan): Template {
  const m = p.model;
  const drained = p.drainsPools ? [drainResources(m, autoScaledPools(m).map((pool) => p.names.pool(pool)))] : [];
  const resources = merged<Resource>([keyResources(p), ...p.buckets.map((b) => bucketResources(p, b)), importResources(p), securityGroups(p), nodeRoles(p), storeRoles(p), irsaResources(p), apiResources(p), bootParameterResources(p), ...drained]);
  const outputs: [string, Output][] = [];
  for (const g of ['controlplane', 'worker', 'api-lb'] as const) if (resources[GROUP_ID[g]]) outputs.push(output(p, `${GROUP_ID[g]}Id`, `Security group of the ${g === 'api-lb' ? 'API load balancer' : `${g} nodes`}`, getAtt(GROUP_ID[g], 'GroupId')));
  for (const r of p.roles) {
    outputs.push(output(p, `${PROFILE_ID[r.kind]}Name`, `Instance profile of ${r.kind} nodes`, ref(PROFILE_ID[r.kind])));
    outputs.push(output(p, `${ROLE_ID[r.kind]}Arn`, `IAM role of ${r.kind} nodes`, getAtt(ROLE_ID[r.kind], 'Arn')));
  }
  if (p.environmentKey) outputs.push(output(p, 'EnvironmentKeyArn', 'KMS key of the environment’s buckets', getAtt('EnvironmentKey', 'Arn')));
  for (const b of p.buckets) outputs.push(output(p, `${bucketLogicalId(b.name)}Name`, `Bucket: ${b.purpose}`, ref(bucketLogicalId(b.name))));
  if (p.apiLoadBalancer) {
    outputs.push(output(p, 'ApiLoadBalancerDnsName', 'DNS name of the API load balancer', getAtt('ApiLoadBalancer', 'DNSName')));
    outputs.push(output(p, 'ApiHostedZoneId', `Private hosted zone of ${m.cluster.endpointHost}`, ref('ApiHostedZone')));
  }
  for (const r of p.storeRoles) outputs.push(output(p, `${storeRoleLogicalId(r.store)}Arn`, `IAM role of secret store ${r.store}`, getAtt(storeRoleLogicalId(r.store), 'Arn')));
  for (const r of p.irsa?.roles ?? []) outputs.push(output(p, `${irsaRoleLogicalId(r.name)}Arn`, `IRSA role of ${r.namespace}/${r.serviceAccount}`, getAtt(irsaRoleLogicalId(r.name), 'Arn')));
  const outputRecord = uniqueRecord(outputs);
  assertDisjoint({ resource: resources, output: outputRecord });
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `odp-gitops: identity and network of environment ${m.name} (cluster ${m.cluster.name}, account ${m.aws.accountId}, ${m.aws.region}). Generated; do not edit.`,
    Resources: resources,
    Outputs: outputRecord,
  };
}

const metadataOptions = (hopLimit: number) => ({ HttpTokens: 'required' as const, HttpPutResponseHopLimit: hopLimit, HttpEndpoint: 'enabled' as const, InstanceMetadataTags: 'disabled' as const });

const rootVolume = (pp: PoolPlan) => [{ DeviceName: pp.image.rootDevice, Ebs: { VolumeSize: DEFAULTS.rootVolumeGiB, VolumeType: DEFAULTS.rootVolumeType, Encrypted: true, DeleteOnTermination: true } }];

/**
 * A fixed node's instance: `Node<X>`, then `Node<X>R<n>` once `replacement: n` is set. A new logical id is a
 * new resource: the update creates it and deletes the old one in its cleanup phase, after the new instance
 * exists (AWS CloudFormation user guide, "Understand update behaviors of stack resources" → Replacement:
 * "creates the replacement resource first … and then deletes the old resource"). No property of the instance
 * changes, so nothing else is replaced; tags never force a replacement (AWS::EC2::Instance `Tags`: "Update
 * requires: No interruption"), which is why the generation is in the id. The new instance takes the same
 * PrivateIpAddress, which EC2 refuses while the old instance's network interface holds it: the runbook
 * terminates the old instance first (a terminated instance's primary interface is deleted with it), and a
 * still-running one makes the update fail and roll back, the old instance untouched.
 */
export const nodeLogicalId = (n: Node): string => `Node${logicalId(n.name)}${n.replacement ? `R${n.replacement}` : ''}`;

/**
 * The fixed nodes CloudFormation must update one at a time, each chain in node order: every control plane
 * (across pools: their datastore members and the API), and the fixed nodes of each worker pool. CloudFormation
 * "creates, updates, and deletes resources in parallel to the extent possible"; a DependsOn overrides that
 * (AWS CloudFormation template reference, "DependsOn attribute": "Override default parallelism when creating,
 * updating, or deleting resources"). So a change every instance of a chain shares (the pool's InstanceType, the
 * user data of every server: "Update requires: Some interruptions", a stop and start; a root volume: a
 * replacement) stops or replaces them one after another, never together. What it does not give: CloudFormation
 * moves on once the previous instance's update is done (its instance running again), not once its node is back
 * in the cluster (an instance has no update signal: design notes, "Fixed nodes update one at a time").
 * Returns each fixed node's predecessor in its chain.
 */
export function fixedNodeOrder(pools: readonly NodePool[]): Map<string, Node> {
  const last = new Map<string, Node>();
  const before = new Map<string, Node>();
  for (const pool of pools)
    for (const n of pool.nodes) {
      const chain = pool.role === 'controlplane' ? 'controlplane' : `pool:${pool.name}`;
      const prev = last.get(chain);
      if (prev) before.set(n.name, prev);
      last.set(chain, n);
    }
  return before;
}
/**
 * A fixed node's instance type, a parameter of the nodes stack (its value in the deployment file, the pool's
 * `instanceType`), not a literal: a new type stops the instance ("Update requires: Some interruptions": ./instance-updates.ts),
 * and a parameter lets `deploy.sh node-update <node>` change one node's type in a stack update of its own, drained
 * before and gated after, while every other node keeps its current value (design notes, "A fixed node's instance type").
 */
export const nodeTypeParameter = (n: Node): string => `Node${logicalId(n.name)}InstanceType`;
/** The parameter's shape: the environment schema's `instanceType` pattern (m7i.large, c7gn.16xlarge, u-6tb1.metal). */
export const INSTANCE_TYPE_PATTERN = '^[a-z][a-z0-9-]*\\.[a-z0-9]+$';
/** The nodes stack's output holding a fixed node's instance id (the same across replacements). */
export const nodeInstanceOutputId = (n: Node): string => `Node${logicalId(n.name)}InstanceId`;
/**
 * The description of a fixed node's instance-id output: how deploy.sh finds the node of an output the rendered template
 * no longer has (a removed node: ./deploy.ts removedNodeFunction), by this prefix, its name, then ` (`.
 */
export const NODE_INSTANCE_OUTPUT_PREFIX = 'Instance of node ';
export const nodeInstanceOutputDescription = (n: Node): string => `${NODE_INSTANCE_OUTPUT_PREFIX}${n.name} (${n.ip})`;
export const launchTemplateLogicalId = (pool: NodePool): string => `Pool${logicalId(pool.name)}LaunchTemplate`;
export const groupLogicalId = (pool: NodePool): string => `Pool${logicalId(pool.name)}Group`;

export function nodesTemplate(p: AwsPlan): Template {
  const m = p.model;
  const resources: Record<string, Resource> = {};
  const parameters: Record<string, Parameter> = {};
  for (const img of p.images)
    if (p.pools.some((pp) => pp.pool.count !== undefined && pp.image.cls.name === img.cls.name))
      put(parameters, img.parameterName, { Type: 'AWS::EC2::Image::Id', Description: `AMI of the pools of node class ${img.cls.name}: ${img.description} (SSM ${img.parameter}, locked by npm run synth -- --refresh-ssm)`.slice(0, 4000) }, 'parameter');
  for (const pp of p.pools)
    for (const ni of pp.nodeImages)
      put(parameters, ni.parameterName, {
        Type: 'AWS::EC2::Image::Id',
        Description: `AMI node ${ni.node.name} is created with (node class ${pp.image.cls.name}): pinned in the lock's nodeImages, since a new ImageId replaces the instance; delete the entry and refresh to replace the node with the class's current image (terminate-node first: the replacement takes its address)`,
      }, 'parameter');
  const sgOf = (pp: PoolPlan) => [importValue(exportName(p, `${GROUP_ID[pp.group]}Id`))];
  const profileOf = (pp: PoolPlan) => importValue(exportName(p, `${PROFILE_ID[pp.role]}Name`));
  const outputs: [string, Output][] = [];
  const previous = fixedNodeOrder(p.pools.map((pp) => pp.pool));
  for (const pp of p.pools)
    for (const n of pp.pool.nodes)
      put(parameters, nodeTypeParameter(n), {
        Type: 'String',
        AllowedPattern: INSTANCE_TYPE_PATTERN,
        Description: `Instance type of node ${n.name} (pool ${pp.pool.name}'s instanceType): a new value stops the instance, changes its type and starts it; aws/deploy.sh node-update ${n.name} changes it alone, the node drained first and Ready again after`,
      }, 'parameter');
  for (const pp of p.pools) {
    for (const n of pp.pool.nodes) {
      const target = m.configTargets.find((t) => t.node?.name === n.name)!;
      const ud = carriedUserData(p.facts, m, target);
      const id = nodeLogicalId(n);
      put(resources, id, resource('AWS::EC2::Instance', {
        ImageId: ref(pp.nodeImages.find((x) => x.node.name === n.name)!.parameterName),
        InstanceType: ref(nodeTypeParameter(n)),
        SubnetId: n.subnet?.id ?? n.subnet?.name ?? '',
        PrivateIpAddress: n.ip,
        SecurityGroupIds: sgOf(pp),
        IamInstanceProfile: profileOf(pp),
        MetadataOptions: metadataOptions(pp.hopLimit),
        BlockDeviceMappings: rootVolume(pp),
        PropagateTagsToVolumeOnCreation: true,
        // A control plane holds a datastore member: no console click or stray terminate-instances ends it (./termination.ts).
        ...(pp.pool.role === PROTECTED_ROLE ? { DisableApiTermination: true } : {}),
        ...(ud !== undefined ? { UserData: userDataProperty(ud) } : {}),
        Tags: tags(m, { Name: n.name, 'odp:pool': pp.pool.name, 'odp:role': pp.pool.role, [`kubernetes.io/cluster/${m.cluster.name}`]: 'owned' }),
      }, previous.has(n.name) ? { DependsOn: [nodeLogicalId(previous.get(n.name)!)] } : {}));
      outputs.push(output(p, nodeInstanceOutputId(n), nodeInstanceOutputDescription(n), ref(id)));
    }
    if (pp.pool.count === undefined) continue;
    const lt = launchTemplateLogicalId(pp.pool);
    const asg = groupLogicalId(pp.pool);
    const target = m.configTargets.find((t) => !t.node && t.pool.name === pp.pool.name)!;
    const ud = carriedUserData(p.facts, m, target);
    const instanceTags = tags(m, { Name: p.names.pool(pp.pool), 'odp:pool': pp.pool.name, 'odp:role': pp.pool.role, [`kubernetes.io/cluster/${m.cluster.name}`]: 'owned' });
    put(resources, lt, resource('AWS::EC2::LaunchTemplate', {
      LaunchTemplateName: p.names.pool(pp.pool),
      VersionDescription: `${m.cluster.name} pool ${pp.pool.name}`,
      LaunchTemplateData: {
        ImageId: ref(pp.image.parameterName),
        InstanceType: pp.pool.instanceType,
        IamInstanceProfile: { Name: profileOf(pp) },
        SecurityGroupIds: sgOf(pp),
        MetadataOptions: metadataOptions(pp.hopLimit),
        BlockDeviceMappings: rootVolume(pp),
        ...(ud !== undefined ? { UserData: userDataProperty(ud) } : {}),
        TagSpecifications: [
          { ResourceType: 'instance', Tags: instanceTags },
          { ResourceType: 'volume', Tags: instanceTags },
        ],
      },
    }));
    const join = p.facts.poolJoin;
    const hooks = [
      ...(join.kind !== 'user-data' ? [{ LifecycleHookName: join.hookName, LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', HeartbeatTimeout: join.heartbeatSeconds, DefaultResult: 'ABANDON' }] : []),
      // Every termination waits for the handler's drain, at most the heartbeat timeout (./drain.ts).
      ...(p.drainsPools ? [{ LifecycleHookName: TERMINATING_HOOK.name, LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', HeartbeatTimeout: TERMINATING_HOOK.heartbeatSeconds, DefaultResult: TERMINATING_HOOK.defaultResult }] : []),
    ];
    put(resources, asg, resource(
      'AWS::AutoScaling::AutoScalingGroup',
      {
        AutoScalingGroupName: p.names.pool(pp.pool),
        MinSize: String(pp.pool.count),
        MaxSize: String(poolMaxSize(pp.pool.count)),
        DesiredCapacity: String(pp.pool.count),
        VPCZoneIdentifier: pp.subnets.map((s) => s.id ?? s.name),
        LaunchTemplate: { LaunchTemplateId: ref(lt), Version: getAtt(lt, 'LatestVersionNumber') },
        HealthCheckType: 'EC2',
        HealthCheckGracePeriod: 300,
        DefaultInstanceWarmup: INSTANCE_WARMUP_SECONDS,
        // In the group itself, not a separate resource: the hook holds the first instances too.
        ...(hooks.length > 0 ? { LifecycleHookSpecificationList: hooks } : {}),
        // The handler acts only on instances with its tag (./drain.ts): propagated to each instance at launch.
        Tags: [...tags(m, { 'odp:pool': pp.pool.name }).map((t) => ({ ...t, PropagateAtLaunch: false })), ...(p.drainsPools ? [{ Key: NODE_TERMINATION.managedTag(m), Value: NODE_TERMINATION.managedTagValue, PropagateAtLaunch: true }] : [])],
      },
      {
        // A new launch template version (image, instance type, user data, metadata options) rolls the
        // pool one instance at a time (./roll.ts): a new instance first, an old one retires when its
        // replacement is in service (with a launch hook: once it joined the cluster, PoolJoin in
        // ./facts.ts), through the TERMINATING hook: drained by the Node Termination Handler first (./drain.ts).
        UpdatePolicy: { AutoScalingInstanceRefresh: { Strategy: 'Rolling', Preferences: rollPreferences(pp.pool.count) } },
      },
    ));
    outputs.push(output(p, `${asg}Name`, `Auto-scaling group of pool ${pp.pool.name}`, ref(asg)));
  }
  const outputRecord = uniqueRecord(outputs);
  assertDisjoint({ parameter: parameters, resource: resources, output: outputRecord });
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `odp-gitops: nodes of environment ${m.name} (cluster ${m.cluster.name}): fixed nodes as instances, auto-scaled pools as launch templates and auto-scaling groups. Reads the exports of ${p.names.baseStack}. Generated; do not edit.`,
    ...(Object.keys(parameters).length > 0 ? { Parameters: parameters } : {}),
    Resources: resources,
    Outputs: outputRecord,
  };
}

export { awsPlan };
