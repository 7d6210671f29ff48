/**
 * What the add-ons that call AWS need, as IAM statements scoped to the environment's region and
 * account (never `*` on a write action that can name a resource), from each project's published
 * policy at the pinned version:
 *
 * - aws-cloud-controller-manager (chart 0.0.11, kubernetes/cloud-provider-aws
 *   helm-chart-aws-cloud-controller-manager-0.0.11:docs/prerequisites.md "Control Plane Policy"):
 *   the catalog runs only its node controllers (`--controllers=cloud-node,cloud-node-lifecycle`; cloud
 *   routes are off and LoadBalancer Services belong to the AWS Load Balancer Controller, whose service
 *   mutator webhook sets their loadBalancerClass), which read instances and zones: the Describe
 *   actions of that policy, nothing else.
 * - aws-load-balancer-controller (v3.5.0 docs/install/iam_policy.json): the same statements with
 *   `arn:aws:…:*:*:` narrowed to this region and account and `*` on write actions replaced by the
 *   resource types they act on; WAF, WAFv2 and Shield associations are left out (no Ingress of this
 *   platform asks for them; their Get actions stay, the controller reads them on every ALB).
 * - aws-ebs-csi-driver controller (kubernetes-sigs/aws-ebs-csi-driver docs/example-iam-policy.json):
 *   the same statements, region and account filled in; KMS grants on the StorageClass key when the
 *   add-on names one (settings.kmsKeyId).
 * - external-secrets: per namespace, ssm:GetParameter(s) on exactly the parameters that namespace's
 *   ExternalSecrets read (its ClusterSecretStore aws-ssm-parameter-store-<ns>: remoteRef.key of each
 *   data item).
 * - etcd-backup (its uploader's S3 client sends PutObject only: catalog/etcd-backup.ts) on the snapshot prefix.
 */
import { resolveAddons } from '../../catalog/resolve.js';
import { namespaceStoreName } from '../../catalog/secret-stores.js';
import { str, type DedicatedSecretStore } from '../../catalog/types.js';
import type { EnvironmentModel } from '../../model/types.js';
import type { Statement } from './facts.js';
import { arn, partitionOf, s3Put, ssmGet } from './policy.js';

export interface AddonNeed {
  addon: string;
  /** Where its pods run with the node's credentials, when it uses them (else an IRSA role). */
  statements: Statement[];
}

const CCM_DESCRIBE = [
  'autoscaling:DescribeAutoScalingGroups',
  'autoscaling:DescribeTags',
  'ec2:DescribeAvailabilityZones',
  'ec2:DescribeInstanceTopology',
  'ec2:DescribeInstances',
  'ec2:DescribeRegions',
  'ec2:DescribeRouteTables',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeSubnets',
  'ec2:DescribeVpcs',
];

export const cloudControllerStatements = (): Statement[] => [{ Sid: 'CloudControllerNodes', Effect: 'Allow', Action: CCM_DESCRIBE, Resource: ['*'] }];

export function loadBalancerControllerStatements(m: EnvironmentModel): Statement[] {
  const ec2 = (r: string) => arn(m, 'ec2', r);
  const elb = (r: string) => arn(m, 'elasticloadbalancing', r);
  const clusterTag = 'elbv2.k8s.aws/cluster';
  const lbs = [elb('loadbalancer/net/*/*'), elb('loadbalancer/app/*/*')];
  const tgs = [elb('targetgroup/*/*')];
  const listeners = [elb('listener/net/*/*/*'), elb('listener/app/*/*/*')];
  const rules = [elb('listener-rule/net/*/*/*'), elb('listener-rule/app/*/*/*')];
  return [
    {
      Sid: 'LbcServiceLinkedRole',
      Effect: 'Allow',
      Action: ['iam:CreateServiceLinkedRole'],
      Resource: [`arn:${partitionOf(m.aws.region)}:iam::${m.aws.accountId}:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing`],
      Condition: { StringEquals: { 'iam:AWSServiceName': 'elasticloadbalancing.amazonaws.com' } },
    },
    {
      Sid: 'LbcDescribe',
      Effect: 'Allow',
      Action: [
        'ec2:DescribeAccountAttributes', 'ec2:DescribeAddresses', 'ec2:DescribeAvailabilityZones', 'ec2:DescribeInternetGateways', 'ec2:DescribeVpcs', 'ec2:DescribeVpcPeeringConnections',
        'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups', 'ec2:DescribeInstances', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeTags', 'ec2:GetCoipPoolUsage', 'ec2:DescribeCoipPools',
        'ec2:GetSecurityGroupsForVpc', 'ec2:DescribeIpamPools', 'ec2:DescribeRouteTables',
        'elasticloadbalancing:DescribeLoadBalancers', 'elasticloadbalancing:DescribeLoadBalancerAttributes', 'elasticloadbalancing:DescribeListeners', 'elasticloadbalancing:DescribeListenerCertificates',
        'elasticloadbalancing:DescribeSSLPolicies', 'elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeTargetGroupAttributes',
        'elasticloadbalancing:DescribeTargetHealth', 'elasticloadbalancing:DescribeTags', 'elasticloadbalancing:DescribeTrustStores', 'elasticloadbalancing:DescribeListenerAttributes',
        'elasticloadbalancing:DescribeCapacityReservation',
        'cognito-idp:DescribeUserPoolClient', 'acm:ListCertificates', 'acm:DescribeCertificate', 'iam:ListServerCertificates', 'iam:GetServerCertificate',
        'waf-regional:GetWebACL', 'waf-regional:GetWebACLForResource', 'wafv2:GetWebACL', 'wafv2:GetWebACLForResource', 'shield:GetSubscriptionState', 'shield:DescribeProtection',
      ],
      Resource: ['*'],
    },
    // Node security groups: the controller opens its target groups' ports from its backend group.
    { Sid: 'LbcNodeSecurityGroupRules', Effect: 'Allow', Action: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupIngress'], Resource: [ec2('security-group/*')], Condition: { StringEquals: { 'ec2:Vpc': arn(m, 'ec2', `vpc/${m.aws.vpc.id}`) } } },
    { Sid: 'LbcCreateSecurityGroup', Effect: 'Allow', Action: ['ec2:CreateSecurityGroup'], Resource: [ec2(`vpc/${m.aws.vpc.id}`), ec2('security-group/*')] },
    { Sid: 'LbcTagNewSecurityGroup', Effect: 'Allow', Action: ['ec2:CreateTags'], Resource: [ec2('security-group/*')], Condition: { StringEquals: { 'ec2:CreateAction': 'CreateSecurityGroup' }, Null: { [`aws:RequestTag/${clusterTag}`]: 'false' } } },
    { Sid: 'LbcTagOwnSecurityGroup', Effect: 'Allow', Action: ['ec2:CreateTags', 'ec2:DeleteTags'], Resource: [ec2('security-group/*')], Condition: { Null: { [`aws:RequestTag/${clusterTag}`]: 'true', [`aws:ResourceTag/${clusterTag}`]: 'false' } } },
    { Sid: 'LbcOwnSecurityGroup', Effect: 'Allow', Action: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupIngress', 'ec2:DeleteSecurityGroup'], Resource: [ec2('security-group/*')], Condition: { Null: { [`aws:ResourceTag/${clusterTag}`]: 'false' } } },
    { Sid: 'LbcCreate', Effect: 'Allow', Action: ['elasticloadbalancing:CreateLoadBalancer', 'elasticloadbalancing:CreateTargetGroup'], Resource: [...lbs, ...tgs], Condition: { Null: { [`aws:RequestTag/${clusterTag}`]: 'false' } } },
    { Sid: 'LbcListenersAndRules', Effect: 'Allow', Action: ['elasticloadbalancing:CreateListener', 'elasticloadbalancing:DeleteListener', 'elasticloadbalancing:CreateRule', 'elasticloadbalancing:DeleteRule'], Resource: [...lbs, ...listeners, ...rules, ...tgs] },
    { Sid: 'LbcTagOwn', Effect: 'Allow', Action: ['elasticloadbalancing:AddTags', 'elasticloadbalancing:RemoveTags'], Resource: [...tgs, ...lbs], Condition: { Null: { [`aws:RequestTag/${clusterTag}`]: 'true', [`aws:ResourceTag/${clusterTag}`]: 'false' } } },
    { Sid: 'LbcTagListeners', Effect: 'Allow', Action: ['elasticloadbalancing:AddTags', 'elasticloadbalancing:RemoveTags'], Resource: [...listeners, ...rules] },
    {
      Sid: 'LbcModifyOwn',
      Effect: 'Allow',
      Action: [
        'elasticloadbalancing:ModifyLoadBalancerAttributes', 'elasticloadbalancing:SetIpAddressType', 'elasticloadbalancing:SetSecurityGroups', 'elasticloadbalancing:SetSubnets',
        'elasticloadbalancing:DeleteLoadBalancer', 'elasticloadbalancing:ModifyTargetGroup', 'elasticloadbalancing:ModifyTargetGroupAttributes', 'elasticloadbalancing:DeleteTargetGroup',
        'elasticloadbalancing:ModifyListenerAttributes', 'elasticloadbalancing:ModifyCapacityReservation', 'elasticloadbalancing:ModifyIpPools',
      ],
      Resource: [...lbs, ...tgs, ...listeners],
      Condition: { Null: { [`aws:ResourceTag/${clusterTag}`]: 'false' } },
    },
    { Sid: 'LbcTagOnCreate', Effect: 'Allow', Action: ['elasticloadbalancing:AddTags'], Resource: [...tgs, ...lbs], Condition: { StringEquals: { 'elasticloadbalancing:CreateAction': ['CreateTargetGroup', 'CreateLoadBalancer'] }, Null: { [`aws:RequestTag/${clusterTag}`]: 'false' } } },
    { Sid: 'LbcTargets', Effect: 'Allow', Action: ['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'], Resource: tgs },
    {
      Sid: 'LbcListenerSettings',
      Effect: 'Allow',
      Action: ['elasticloadbalancing:ModifyListener', 'elasticloadbalancing:AddListenerCertificates', 'elasticloadbalancing:RemoveListenerCertificates', 'elasticloadbalancing:ModifyRule', 'elasticloadbalancing:SetRulePriorities'],
      Resource: [...listeners, ...rules],
    },
  ];
}

export function ebsCsiStatements(m: EnvironmentModel): Statement[] {
  const ec2 = (r: string) => arn(m, 'ec2', r);
  const volumes = ec2('volume/*');
  const snapshots = arn(m, 'ec2', 'snapshot/*');
  const out: Statement[] = [
    { Sid: 'EbsDescribe', Effect: 'Allow', Action: ['ec2:DescribeAvailabilityZones', 'ec2:DescribeInstances', 'ec2:DescribeSnapshots', 'ec2:DescribeTags', 'ec2:DescribeVolumes', 'ec2:DescribeVolumesModifications', 'ec2:DescribeVolumeStatus'], Resource: ['*'] },
    { Sid: 'EbsSnapshotModify', Effect: 'Allow', Action: ['ec2:CreateSnapshot', 'ec2:ModifyVolume'], Resource: [volumes] },
    { Sid: 'EbsCopy', Effect: 'Allow', Action: ['ec2:CopyVolumes'], Resource: [ec2('volume/vol-*')] },
    { Sid: 'EbsAttach', Effect: 'Allow', Action: ['ec2:AttachVolume', 'ec2:DetachVolume'], Resource: [volumes, ec2('instance/*')] },
    { Sid: 'EbsFromSnapshot', Effect: 'Allow', Action: ['ec2:CreateVolume', 'ec2:EnableFastSnapshotRestores'], Resource: [snapshots] },
    { Sid: 'EbsTagOnCreate', Effect: 'Allow', Action: ['ec2:CreateTags'], Resource: [volumes, snapshots], Condition: { StringEquals: { 'ec2:CreateAction': ['CreateVolume', 'CreateSnapshot', 'CopyVolumes'] } } },
    { Sid: 'EbsUntag', Effect: 'Allow', Action: ['ec2:DeleteTags'], Resource: [volumes, snapshots] },
    { Sid: 'EbsCreateTagged', Effect: 'Allow', Action: ['ec2:CreateVolume', 'ec2:CopyVolumes'], Resource: [volumes], Condition: { StringLike: { 'aws:RequestTag/ebs.csi.aws.com/cluster': 'true' } } },
    { Sid: 'EbsCreateNamed', Effect: 'Allow', Action: ['ec2:CreateVolume', 'ec2:CopyVolumes'], Resource: [volumes], Condition: { StringLike: { 'aws:RequestTag/CSIVolumeName': '*' } } },
    { Sid: 'EbsDeleteTagged', Effect: 'Allow', Action: ['ec2:DeleteVolume'], Resource: [volumes], Condition: { StringLike: { 'ec2:ResourceTag/ebs.csi.aws.com/cluster': 'true' } } },
    { Sid: 'EbsDeleteNamed', Effect: 'Allow', Action: ['ec2:DeleteVolume'], Resource: [volumes], Condition: { StringLike: { 'ec2:ResourceTag/CSIVolumeName': '*' } } },
    { Sid: 'EbsDeletePvc', Effect: 'Allow', Action: ['ec2:DeleteVolume'], Resource: [volumes], Condition: { StringLike: { 'ec2:ResourceTag/kubernetes.io/created-for/pvc/name': '*' } } },
    { Sid: 'EbsSnapshotNamed', Effect: 'Allow', Action: ['ec2:CreateSnapshot'], Resource: [snapshots], Condition: { StringLike: { 'aws:RequestTag/CSIVolumeSnapshotName': '*' } } },
    { Sid: 'EbsSnapshotTagged', Effect: 'Allow', Action: ['ec2:CreateSnapshot'], Resource: [snapshots], Condition: { StringLike: { 'aws:RequestTag/ebs.csi.aws.com/cluster': 'true' } } },
    { Sid: 'EbsDeleteSnapshotNamed', Effect: 'Allow', Action: ['ec2:DeleteSnapshot'], Resource: [snapshots], Condition: { StringLike: { 'ec2:ResourceTag/CSIVolumeSnapshotName': '*' } } },
    { Sid: 'EbsDeleteSnapshotTagged', Effect: 'Allow', Action: ['ec2:DeleteSnapshot'], Resource: [snapshots], Condition: { StringLike: { 'ec2:ResourceTag/ebs.csi.aws.com/cluster': 'true' } } },
  ];
  const kms = str(m.addons.find((a) => a.name === 'aws-ebs-csi-driver')?.settings.kmsKeyId);
  if (kms)
    out.push({
      Sid: 'EbsKmsKey',
      Effect: 'Allow',
      Action: ['kms:CreateGrant', 'kms:ListGrants', 'kms:RevokeGrant', 'kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey'],
      Resource: [kms],
      Condition: { StringEquals: { 'kms:ViaService': `ec2.${m.aws.region}.amazonaws.com` } },
    });
  return out;
}

/**
 * The SSM parameters the platform stores' ExternalSecrets read, by the namespace of the ExternalSecret
 * (add-ons, workloads; an engine's own read through its dedicated stores): what each namespace's
 * store serves.
 */
export function externalSecretParametersByNamespace(m: EnvironmentModel): Map<string, string[]> {
  const byNs = new Map<string, Set<string>>();
  const add = (ns: string, name: string): void => void (byNs.get(ns) ?? byNs.set(ns, new Set()).get(ns)!).add(name);
  for (const a of resolveAddons(m))
    for (const o of a.manifests.filter((x) => x.kind === 'ExternalSecret' && (x.spec as { secretStoreRef?: { name?: string } } | undefined)?.secretStoreRef?.name === namespaceStoreName(x.metadata.namespace ?? a.namespace)))
      for (const d of ((o.spec as { data?: { remoteRef: { key: string } }[] } | undefined)?.data ?? [])) add(o.metadata.namespace ?? a.namespace, d.remoteRef.key);
  for (const w of m.workloads) for (const v of Object.values(w.env)) if (typeof v === 'object') add(w.namespace, v.secret);
  return new Map([...byNs.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([ns, names]) => [ns, [...names].sort()]));
}

/** ssm:GetParameter(s) on `names` (none when empty). */
export const externalSecretsStatements = (m: EnvironmentModel, names: readonly string[]): Statement[] => (names.length > 0 ? [{ ...ssmGet(m, names), Sid: 'ExternalSecretsRead' }] : []);

/** A dedicated store's role: its prefix only (ssmGet takes a name or a prefix ending in `/*`). */
export const dedicatedStoreStatements = (m: EnvironmentModel, store: DedicatedSecretStore): Statement[] => [{ ...ssmGet(m, [store.prefix]), Sid: 'StoreRead' }];

/**
 * The etcd-backup add-on's uploader: upload below the prefix only. Its client makes object requests only (PutObject or a
 * multipart upload, no HeadBucket or GetBucketLocation: the S3 requests and their source are listed beside the add-on's
 * catalog entry), so no bucket-level grant.
 */
export function etcdBackupStatements(m: EnvironmentModel): Statement[] {
  const d = m.cluster.datastore;
  return d.type === 'etcd' && d.backup ? [{ ...s3Put(m, d.backup.bucket, d.backup.prefix), Sid: 'EtcdSnapshotUpload' }] : [];
}
