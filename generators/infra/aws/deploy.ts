/**
 * How the stacks reach AWS: the CloudFormation Git sync deployment file of each stack
 * (`template-file-path`, `parameters`, `tags`: AWS CloudFormation user guide, "Git sync" → "Stack
 * deployment file"), the one-time stack with the Git sync and deployment roles, and the rendered
 * scripts the runbook runs: `aws cloudformation deploy` (the plain alternative, also the first
 * creation) and the `aws codeconnections` calls that turn Git sync on.
 *
 * Git sync (AWS CodeConnections `CreateSyncConfiguration`, sync type CFN_STACK_SYNC) updates a stack
 * when its deployment file or template changes on the branch, with the sync role
 * (`cloudformation.sync.codeconnections.amazonaws.com`); the stack's own service role (set at the
 * first deploy) performs the resource changes.
 */
import { createHash } from 'node:crypto';
import { shQuote } from '../../render/delivery/bootstrap.js';
import { isPlaceholder } from '../../lib/placeholder.js';
import { shellValue } from '../../lib/shapes.js';
import type { EnvironmentModel } from '../../model/types.js';
import type { Statement } from './facts.js';
import type { AwsPlan } from './plan.js';
import { partitionOf } from './policy.js';
import { getAtt, ref, resource, type Template } from './template.js';
import { NODE_TERMINATION } from '../../catalog/aws-node-termination-handler.js';
import { NODE_INSTANCE_OUTPUT_PREFIX, nodeInstanceOutputId, nodeTypeParameter } from './stacks.js';
import { TERMINATION_REFUSED } from './termination.js';
import { USER_DATA_NOT_RUN_ON_START } from './instance-updates.js';
import { carriedUserData } from './user-data.js';
import { rollPreferences } from './roll.js';
import { stackStateFunctions } from './stack-states.js';
import { nodeNameByAddress, nodeRef, removalDrain } from '../../lib/k8s-nodes.js';
import { drainFunctions, NODE_DRAIN } from '../../lib/node-drain.js';
import { CLUSTER_LOCK, leaseLockLines, NODE_HANDOVER_ANNOTATION } from '../../lib/cluster-lock.js';
import { kubectlTimeoutLines } from '../../lib/kubectl-timeout.js';
import { PORTABLE_BASE64, PORTABLE_SHA256 } from '../../lib/portable-shell.js';

export const AWS_DIR = 'aws';
export const STACK_FILES = { base: 'base.yaml', nodes: 'nodes.yaml', gitSync: 'git-sync.yaml' } as const;
export const deploymentFile = (stack: 'base' | 'nodes'): string => `${stack}.deployment.yaml`;

/** Repository-relative path of a file under rendered/<env>/aws/. */
export const awsPath = (m: EnvironmentModel, file: string): string => `${m.renderedDir}/${AWS_DIR}/${file}`;

export function stackTags(m: EnvironmentModel, stack: string): Record<string, string> {
  return { 'odp:cluster': m.cluster.name, 'odp:environment': m.name, 'odp:stack': stack };
}

export interface DeploymentFile {
  'template-file-path': string;
  parameters?: Record<string, string>;
  tags: Record<string, string>;
}

export function deploymentFileOf(p: AwsPlan, stack: 'base' | 'nodes'): DeploymentFile {
  const m = p.model;
  const parameters: Record<string, string> = {};
  if (stack === 'nodes') {
    for (const pp of p.pools) {
      if (pp.pool.count !== undefined && pp.image.imageId) parameters[pp.image.parameterName] = pp.image.imageId;
      for (const ni of pp.nodeImages) if (ni.imageId) parameters[ni.parameterName] = ni.imageId;
      for (const n of pp.pool.nodes) parameters[nodeTypeParameter(n)] = pp.pool.instanceType;
    }
  }
  return { 'template-file-path': awsPath(m, STACK_FILES[stack]), ...(stack === 'nodes' ? { parameters } : {}), tags: stackTags(m, stack) };
}

/** Git provider, owner and repository of `git.repoURL`, for CodeConnections. */
export function gitRepository(url: string): { provider: 'GitHub' | 'GitLab' | 'Bitbucket' | undefined; owner: string; repository: string } {
  const u = new URL(url.replace(/^git@([^:]+):/, 'https://$1/'));
  const parts = u.pathname.replace(/^\/+|\/+$/g, '').replace(/\.git$/, '').split('/');
  const provider = u.hostname === 'github.com' ? 'GitHub' : u.hostname === 'gitlab.com' ? 'GitLab' : u.hostname === 'bitbucket.org' ? 'Bitbucket' : undefined;
  return { provider, owner: parts.slice(0, -1).join('/'), repository: parts.at(-1) ?? '' };
}

/** The stack holding the deployment role (CloudFormation's service role for the environment's stacks) and the Git sync role. */
export function gitSyncTemplate(p: AwsPlan): Template {
  const m = p.model;
  const part = partitionOf(m.aws.region);
  const acct = m.aws.accountId;
  const stackArns = [p.names.baseStack, p.names.nodesStack].map((s) => `arn:${part}:cloudformation:${m.aws.region}:${acct}:stack/${s}/*`);
  const iam = (r: string) => `arn:${part}:iam::${acct}:${r}`;
  const c = m.cluster.name;
  const irsaRoles = (p.irsa?.roles ?? []).map((r) => iam(`role${r.path}${r.name}`));
  const deployIam: Statement[] = [
    {
      Sid: 'Roles',
      Effect: 'Allow',
      Action: ['iam:CreateRole', 'iam:DeleteRole', 'iam:GetRole', 'iam:UpdateRole', 'iam:UpdateRoleDescription', 'iam:UpdateAssumeRolePolicy', 'iam:TagRole', 'iam:UntagRole', 'iam:AttachRolePolicy', 'iam:DetachRolePolicy', 'iam:PutRolePolicy', 'iam:DeleteRolePolicy', 'iam:GetRolePolicy', 'iam:ListRolePolicies', 'iam:ListAttachedRolePolicies'],
      Resource: [iam(`role/${c}-*`), ...irsaRoles],
    },
    { Sid: 'PassNodeRoles', Effect: 'Allow', Action: ['iam:PassRole'], Resource: [iam(`role/${c}-*`)], Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } } },
    {
      Sid: 'Policies',
      Effect: 'Allow',
      Action: ['iam:CreatePolicy', 'iam:DeletePolicy', 'iam:CreatePolicyVersion', 'iam:DeletePolicyVersion', 'iam:GetPolicy', 'iam:GetPolicyVersion', 'iam:ListPolicyVersions', 'iam:TagPolicy', 'iam:UntagPolicy'],
      Resource: [iam(`policy/${c}-*`)],
    },
    {
      Sid: 'InstanceProfiles',
      Effect: 'Allow',
      Action: ['iam:CreateInstanceProfile', 'iam:DeleteInstanceProfile', 'iam:GetInstanceProfile', 'iam:AddRoleToInstanceProfile', 'iam:RemoveRoleFromInstanceProfile', 'iam:TagInstanceProfile', 'iam:UntagInstanceProfile'],
      Resource: [iam(`instance-profile/${c}-*`)],
    },
  ];
  if (p.irsa)
    deployIam.push({
      Sid: 'OidcProvider',
      Effect: 'Allow',
      Action: ['iam:CreateOpenIDConnectProvider', 'iam:DeleteOpenIDConnectProvider', 'iam:GetOpenIDConnectProvider', 'iam:TagOpenIDConnectProvider', 'iam:UntagOpenIDConnectProvider', 'iam:UpdateOpenIDConnectProviderThumbprint', 'iam:AddClientIDToOpenIDConnectProvider', 'iam:RemoveClientIDFromOpenIDConnectProvider'],
      Resource: [iam(`oidc-provider/${p.irsa.issuerHostPath}`)],
    });
  const syncStatements: Statement[] = [
    {
      Sid: 'SyncToCloudFormation',
      Effect: 'Allow',
      Action: ['cloudformation:CreateChangeSet', 'cloudformation:DeleteChangeSet', 'cloudformation:DescribeChangeSet', 'cloudformation:DescribeStackEvents', 'cloudformation:DescribeStacks', 'cloudformation:ExecuteChangeSet', 'cloudformation:GetTemplate', 'cloudformation:ListChangeSets'],
      Resource: stackArns,
    },
    { Sid: 'ReadTemplates', Effect: 'Allow', Action: ['cloudformation:ListStacks', 'cloudformation:ValidateTemplate'], Resource: ['*'] },
    { Sid: 'PolicyForManagedRules', Effect: 'Allow', Action: ['events:PutRule', 'events:PutTargets'], Resource: [`arn:${part}:events:${m.aws.region}:${acct}:rule/*`], Condition: { StringEquals: { 'events:ManagedBy': ['cloudformation.sync.codeconnections.amazonaws.com'] } } },
    { Sid: 'PolicyForDescribingRule', Effect: 'Allow', Action: ['events:DescribeRule'], Resource: ['*'] },
    { Sid: 'PassDeployRole', Effect: 'Allow', Action: ['iam:PassRole'], Resource: [getAtt('DeployRole', 'Arn')], Condition: { StringEquals: { 'iam:PassedToService': 'cloudformation.amazonaws.com' } } },
  ];
  const tags = Object.entries(stackTags(m, 'git-sync')).map(([Key, Value]) => ({ Key, Value }));
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `odp-gitops: the deployment role of ${p.names.baseStack} and ${p.names.nodesStack} and the role Git sync updates them with (environment ${m.name}). Deployed once by an administrator. Generated; do not edit.`,
    Resources: {
      // aws cloudformation deploy uploads templates here: CloudFormation takes at most 51,200 bytes
      // inline (TemplateBody) and 1 MB from S3 (TemplateURL).
      TemplateBucket: resource(
        'AWS::S3::Bucket',
        {
          BucketName: p.names.templateBucket,
          BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
          PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
          OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
          LifecycleConfiguration: { Rules: [{ Id: 'expire-uploaded-templates', Status: 'Enabled', ExpirationInDays: 30 }] },
        },
      ),
      TemplateBucketPolicy: resource('AWS::S3::BucketPolicy', {
        Bucket: ref('TemplateBucket'),
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Sid: 'DenyInsecureTransport', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [`arn:${part}:s3:::${p.names.templateBucket}`, `arn:${part}:s3:::${p.names.templateBucket}/*`], Condition: { Bool: { 'aws:SecureTransport': 'false' } } }],
        },
      }),
      DeployRole: resource('AWS::IAM::Role', {
        RoleName: p.names.stackRole,
        Description: `CloudFormation service role of ${p.names.baseStack} and ${p.names.nodesStack}: creates their resources (PowerUserAccess, IAM limited to ${c}-* names and the IRSA roles)`,
        AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'cloudformation.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': acct } } }] },
        ManagedPolicyArns: [`arn:${part}:iam::aws:policy/PowerUserAccess`],
        Policies: [{ PolicyName: 'environment-iam', PolicyDocument: { Version: '2012-10-17', Statement: deployIam } }],
        Tags: tags,
      }),
      SyncRole: resource('AWS::IAM::Role', {
        RoleName: p.names.syncRole,
        Description: `Git sync of ${p.names.baseStack} and ${p.names.nodesStack} from ${m.git.repoURL} (${m.git.targetRevision})`,
        AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'cloudformation.sync.codeconnections.amazonaws.com' }, Action: 'sts:AssumeRole' }] },
        Policies: [{ PolicyName: 'git-sync', PolicyDocument: { Version: '2012-10-17', Statement: syncStatements } }],
        Tags: tags,
      }),
    },
    Outputs: {
      DeployRoleArn: { Description: 'CloudFormation service role of the environment stacks', Value: getAtt('DeployRole', 'Arn') },
      SyncRoleArn: { Description: 'Role Git sync assumes', Value: getAtt('SyncRole', 'Arn') },
      DeployRoleName: { Description: 'Name of the deployment role', Value: ref('DeployRole') },
      TemplateBucketName: { Description: 'Bucket aws cloudformation deploy uploads templates to', Value: ref('TemplateBucket') },
    },
  };
}

const q = shQuote;

/** `aws cloudformation deploy` of a stack with its deployment file's parameters. */
function deployCommand(p: AwsPlan, stack: 'base' | 'nodes', role: string): string {
  const m = p.model;
  const dep = deploymentFileOf(p, stack);
  const params = Object.entries(dep.parameters ?? {}).map(([k, v]) => q(`${k}=${v}`));
  const tagArgs = Object.entries(dep.tags).map(([k, v]) => q(`${k}=${v}`));
  return [
    `aws cloudformation deploy --region ${q(m.aws.region)}`,
    `--stack-name ${q(stack === 'base' ? p.names.baseStack : p.names.nodesStack)}`,
    `--template-file ${q(dep['template-file-path'])}`,
    `--role-arn ${role}`,
    `--s3-bucket ${q(p.names.templateBucket)} --s3-prefix ${stack}`,
    '--capabilities CAPABILITY_NAMED_IAM',
    '--no-fail-on-empty-changeset',
    ...(params.length > 0 ? [`--parameter-overrides ${params.join(' ')}`] : []),
    `--tags ${tagArgs.join(' ')}`,
  ].join(' ');
}

/**
 * After each deploy: the stack's termination protection on ("If a user attempts to delete a stack with termination
 * protection enabled, the operation fails and the stack remains unchanged": AWS CLI reference,
 * `cloudformation update-termination-protection`). `aws cloudformation deploy` creates stacks without it, and
 * deleting the nodes stack terminates every node, control planes with their datastore disks (DeleteOnTermination),
 * the base stack every role, security group and the API endpoint. Idempotent; deleting an environment on purpose
 * turns it off first (`--no-enable-termination-protection`).
 */
const protectCommand = (p: AwsPlan, stack: 'base' | 'nodes'): string =>
  `aws cloudformation update-termination-protection --region ${q(p.model.aws.region)} --stack-name ${q(stack === 'base' ? p.names.baseStack : p.names.nodesStack)} --enable-termination-protection >/dev/null`;

/** The deployment role's ARN, read from the git-sync stack's outputs (shell). */
const roleLookup = (p: AwsPlan, output: string): string =>
  `$(aws cloudformation describe-stacks --region ${q(p.model.aws.region)} --stack-name ${q(p.names.gitSyncStack)} --query "Stacks[0].Outputs[?OutputKey=='${output}'].OutputValue" --output text)`;

/** The one-time command that creates the git-sync stack (an administrator runs it). */
export const gitSyncStackCommand = (p: AwsPlan): string =>
  `aws cloudformation deploy --region ${q(p.model.aws.region)} --stack-name ${q(p.names.gitSyncStack)} --template-file ${q(awsPath(p.model, STACK_FILES.gitSync))} --capabilities CAPABILITY_NAMED_IAM --no-fail-on-empty-changeset --tags ${Object.entries(stackTags(p.model, 'git-sync')).map(([k, v]) => q(`${k}=${v}`)).join(' ')}`;

/** Exact `aws cloudformation deploy` lines (the plain alternative to Git sync, and the first creation). */
export const deployCommands = (p: AwsPlan): { base: string; nodes: string } => ({ base: deployCommand(p, 'base', '"$role"'), nodes: deployCommand(p, 'nodes', '"$role"') });

export function deployScript(p: AwsPlan): string {
  const m = p.model;
  const missing = p.images.filter((i) => !i.imageId).map((i) => `${i.parameterName} (${i.parameter})`);
  const c = deployCommands(p);
  // The command that runs a step again (the last line of every message that stops a deploy).
  const again = (step: string) => `sh ${awsPath(m, 'deploy.sh')} ${step}`;
  return `#!/bin/sh
# Deploy the AWS layer of ${m.name} with aws cloudformation deploy (the first creation of each stack,
# and the alternative to Git sync). Each stack runs with the deployment role of ${p.names.gitSyncStack}.
# Run from the repository root:  sh ${awsPath(m, 'deploy.sh')} ${usage(p)}
set -eu
role=${roleLookup(p, 'DeployRoleArn')}
[ -n "$role" ] && [ "$role" != None ] || { echo "deploy: stack ${p.names.gitSyncStack} not found: run ${gitSyncStackCommand(p).replace(/"/g, '\\"')}" >&2; exit 1; }
${fixedNodes(p).length > 0 ? `${kubectlTimeoutLines().join('\n')}\n` : ''}${stackStateFunctions({ region: m.aws.region, script: awsPath(m, 'deploy.sh'), ...(fixedNodes(p).length > 0 ? { protectedStack: p.names.nodesStack } : {}) }).join('\n')}
${instanceIdFunction(p)}${userDataNodes(p).length > 0 ? `${[...PORTABLE_BASE64, ...PORTABLE_SHA256].join('\n')}\n` : ''}${stackExistsFunction(p)}${drainTagsFunctions(p)}${fixedNodeFunctions(p)}${removedNodeFunction(p)}${terminateNodeFunction(p)}${fixedNodes(p).length > 0 ? liftProtectionFunction(p) : ''}${nodeUpdateFunction(p)}${rollPoolFunction(p)}case "\${1:-}" in
  base)
    stack_ready ${q(p.names.baseStack)} ${q(again('base'))}
    ${c.base} || stack_failed ${q(p.names.baseStack)} ${q(again('base'))}
    ${protectCommand(p, 'base')}
    ;;
  nodes)
${missing.length > 0 ? `    echo ${q(`deploy: no AMI locked for ${missing.join(', ')}: register the images (aws/images/*.sh), then npm run synth -- --env ${m.name} --refresh-ssm`)} >&2\n    exit 1\n` : `    stack_ready ${q(p.names.nodesStack)} ${q(again('nodes'))}\n${drainTagsFirst(p)}${typeGate(p)}${removedGate(p)}${userDataNotice(p)}    ${c.nodes} || stack_failed ${q(p.names.nodesStack)} ${q(again('nodes'))}\n    ${protectCommand(p, 'nodes')}\n`}    ;;
${drainTagsCase(p)}${terminateNodeCase(p)}${nodeUpdateCase(p)}${rollPoolCase(p)}  *) echo "usage: $0 ${usage(p)}" >&2; exit 2 ;;
esac
`;
}

const fixedNodes = (p: AwsPlan) => p.pools.flatMap((pp) => pp.pool.nodes);
const rolledPools = (p: AwsPlan) => p.pools.filter((pp) => pp.pool.count !== undefined);
const usage = (p: AwsPlan): string => `base|nodes${p.drainsPools ? '|drain-tags' : ''}${fixedNodes(p).length > 0 ? '|terminate-node <node>|lift-protection|node-update <node>' : ''}${rolledPools(p).length > 0 ? '|roll-pool <pool>' : ''}`;

function rollPoolCase(p: AwsPlan): string {
  if (rolledPools(p).length === 0) return '';
  return `  roll-pool)
    roll_pool "\${2:-}"
    ;;
`;
}

/**
 * \`deploy.sh roll-pool <pool>\`: replaces every instance of a pool's group the way a launch template change does
 * (the update policy's preferences, ./roll.ts: one at a time, each new instance joined before an old one is
 * drained), SkipMatching off so instances already on the group's version are replaced too. For what no
 * template change rolls: instances left in a removed subnet (the diff says when), a pool split between two
 * versions by a failed refresh the stack update rolled back. StartInstanceRefresh fails while another
 * refresh of the group runs (AWS: "InstanceRefreshInProgress"); the script then stops with the CLI's message.
 */
function rollPoolFunction(p: AwsPlan): string {
  const pools = rolledPools(p);
  if (pools.length === 0) return '';
  const region = q(p.model.aws.region);
  return `# Replace every instance of a pool, one at a time (README: the pools' instance refresh).
roll_pool() {
  case "$1" in
${pools.map((pp) => `    ${q(pp.pool.name)}) g=${q(p.names.pool(pp.pool))}; prefs=${q(JSON.stringify({ ...rollPreferences(pp.pool.count!), SkipMatching: false }))} ;;`).join('\n')}
    *) echo ${q(`usage: deploy.sh roll-pool <pool>; pools: ${pools.map((pp) => pp.pool.name).join(', ')}`)} >&2; exit 2 ;;
  esac
  aws autoscaling start-instance-refresh --region ${region} --auto-scaling-group-name "$g" --strategy Rolling --preferences "$prefs"
  echo "instance refresh of $g started; follow it: aws autoscaling describe-instance-refreshes --region ${p.model.aws.region} --auto-scaling-group-name $g"
}
`;
}

function terminateNodeCase(p: AwsPlan): string {
  if (fixedNodes(p).length === 0) return '';
  return `  terminate-node)
    terminate_node "\${2:-}"
    ;;
  lift-protection)
    lift_protection
    ;;
`;
}

/**
 * \`deploy.sh lift-protection\`: lifts the termination protection (./termination.ts) of every instance the nodes stack still
 * holds (ListStackResources: AWS::EC2::Instance resources not DELETE_COMPLETE, with a physical id; the AWS CLI pages
 * through NextToken itself, where DescribeStackResources answers 100 resources at most: CloudFormation API reference,
 * DescribeStackResources, ListStackResources), so that CloudFormation can terminate them: before a deletion of the nodes
 * stack, run again after a DELETE_FAILED or a ROLLBACK_FAILED (./stack-states.ts names it in the delete command). Each
 * id is shape-checked (require_instance_id). An instance terminated by hand (CloudFormation still lists it) is skipped:
 * state terminated or shutting-down, or unknown to DescribeInstances (InvalidInstanceID.NotFound, once EC2 forgot it),
 * has nothing to lift, and the command chained after this one (delete-stack) must still run under \`set -e\`.
 */
function liftProtectionFunction(p: AwsPlan): string {
  const region = q(p.model.aws.region);
  const stack = q(p.names.nodesStack);
  return `# Lift the termination protection of every instance of the nodes stack (before CloudFormation deletes them).
lift_protection() {
  ids=$(aws cloudformation list-stack-resources --region ${region} --stack-name ${stack} --query "StackResourceSummaries[?ResourceType=='AWS::EC2::Instance' && ResourceStatus!='DELETE_COMPLETE' && PhysicalResourceId].PhysicalResourceId" --output text)
  for id in $ids; do
    if [ "$id" = None ]; then continue; fi
    require_instance_id "$id" ${q(`in stack ${p.names.nodesStack}`)}
    # Terminated by hand (CloudFormation still lists it): nothing to lift.
    if ! state=$(aws ec2 describe-instances --region ${region} --instance-ids "$id" --query 'Reservations[].Instances[].State.Name' --output text 2>&1); then
      case "$state" in *InvalidInstanceID.NotFound*) echo "instance $id is gone: nothing to lift"; continue ;; esac
      echo "deploy: cannot read instance $id: $state" >&2
      exit 1
    fi
    case "$state" in terminated | shutting-down) echo "instance $id is $state: nothing to lift"; continue ;; esac
    aws ec2 modify-instance-attribute --region ${region} --instance-id "$id" --no-disable-api-termination
    echo "termination protection lifted: $id"
  done
}
`;
}

/**
 * \`deploy.sh terminate-node <node>\`: the first step of replacing a lost fixed node (readme.ts replaceText), and the last
 * step before the merge that removes a fixed control plane (its protected instance: removedGate). The node is one the
 * script renders, or one the deployed nodes stack still has (removed_node: the branch that removes it renders it no more).
 * The instance id comes from the nodes stack's output (stacks.ts nodeInstanceOutputId) is checked (require_instance_id) to be
 * one before it reaches the command line. DescribeInstances answers InvalidInstanceID.NotFound for an id it
 * no longer knows (a terminated instance stays visible for about an hour, state \`terminated\`; AWS EC2 API
 * reference, DescribeInstances); both mean nothing is left to terminate. Otherwise the instance's termination protection
 * is lifted (ModifyInstanceAttribute; a control plane carries it, ./termination.ts, and EC2 refuses TerminateInstances
 * with OperationNotPermitted while it is on; lifting it from an unprotected instance changes nothing), TerminateInstances, then
 * \`aws ec2 wait instance-terminated\`, so the address is free before the replacement is merged.
 */
function terminateNodeFunction(p: AwsPlan): string {
  const nodes = fixedNodes(p);
  if (nodes.length === 0) return '';
  const region = q(p.model.aws.region);
  return `# Terminate a fixed node's instance before its replacement (README: Replacing a lost fixed node).
terminate_node() {
  fixed_node "$1" || removed_node "$1" || { echo ${q(`usage: deploy.sh terminate-node <node>; nodes: ${nodes.map((n) => n.name).join(', ')}, or a node removed from the environment that stack ${p.names.nodesStack} still has`)} >&2; exit 2; }
  node_instance "$1"
  if ! state=$(aws ec2 describe-instances --region ${region} --instance-ids "$id" --query 'Reservations[].Instances[].State.Name' --output text 2>&1); then
    case "$state" in *InvalidInstanceID.NotFound*) echo "instance $id of node $1 is gone: nothing to terminate"; return 0 ;; esac
    echo "deploy: cannot read instance $id of node $1: $state" >&2
    exit 1
  fi
  case "$state" in
    terminated) echo "instance $id of node $1 is terminated already"; return 0 ;;
    shutting-down) ;;
    *)
      # A control plane carries termination protection (EC2 refuses TerminateInstances: OperationNotPermitted): lifted first.
      aws ec2 modify-instance-attribute --region ${region} --instance-id "$id" --no-disable-api-termination
      aws ec2 terminate-instances --region ${region} --instance-ids "$id" >/dev/null ;;
  esac
  aws ec2 wait instance-terminated --region ${region} --instance-ids "$id"
  echo "terminated $id ($1)"
}
`;
}

/**
 * The fixed nodes, for terminate-node, node-update and the type gate of \`nodes\`: \`fixed_node <node>\` sets \`out\` (the
 * nodes stack's output with its instance id, stacks.ts nodeInstanceOutputId), \`param\` (its instance type parameter,
 * stacks.ts nodeTypeParameter), \`want\` (the rendered type), \`ip\` and \`cp\` (1 for a control plane), or fails for a name
 * that is none; FIXED_NODES lists them in the stack's update order (stacks.ts fixedNodeOrder: control planes first).
 * \`instance_of\` reads the instance id (checked by require_instance_id before it reaches a command line; empty for a node
 * the stack does not have yet), \`node_instance\` requires one; \`current_type\` the type the node has in the running stack:
 * its parameter's value, or, in a stack deployed before the parameter existed, its instance's (DescribeInstances
 * InstanceType), checked against the instance type shape; empty for a node not created yet (the update creates it).
 */
function fixedNodeFunctions(p: AwsPlan): string {
  const nodes = fixedNodes(p);
  if (nodes.length === 0) return '';
  const region = q(p.model.aws.region);
  const stack = q(p.names.nodesStack);
  const pools = new Map(p.pools.flatMap((pp) => pp.pool.nodes.map((n) => [n.name, pp.pool] as const)));
  const ordered = [...nodes].sort((a, b) => Number(pools.get(b.name)!.role === 'controlplane') - Number(pools.get(a.name)!.role === 'controlplane'));
  return `# A fixed node's facts: out (its instance id's output), param (its instance type parameter), want (the rendered type), ip, cp.
fixed_node() {
  case "$1" in
${nodes.map((n) => `    ${q(n.name)}) out=${q(nodeInstanceOutputId(n))}; param=${q(nodeTypeParameter(n))}; want=${q(pools.get(n.name)!.instanceType)}; ip=${q(n.ip)}; cp=${pools.get(n.name)!.role === 'controlplane' ? 1 : 0} ;;`).join('\n')}
    *) return 1 ;;
  esac
}
FIXED_NODES=${q(ordered.map((n) => n.name).join(' '))}
instance_of() {
  id=$(aws cloudformation describe-stacks --region ${region} --stack-name ${stack} --query "Stacks[0].Outputs[?OutputKey=='$out'].OutputValue" --output text)
  case "$id" in '' | None) id='' ;; *) require_instance_id "$id" "of node $1" ;; esac
}
node_instance() {
  instance_of "$1"
  [ -n "$id" ] || { echo "deploy: no instance of node $1 in stack ${p.names.nodesStack}" >&2; exit 1; }
}
current_type() {
  t=$(aws cloudformation describe-stacks --region ${region} --stack-name ${stack} --query "Stacks[0].Parameters[?ParameterKey=='$param'].ParameterValue" --output text)
  case "$t" in
    '' | None)
      instance_of "$1"
      # A node the stack does not have yet: its creation stops nothing.
      if [ -z "$id" ]; then t=''; return 0; fi
      t=$(aws ec2 describe-instances --region ${region} --instance-ids "$id" --query 'Reservations[].Instances[].InstanceType' --output text) ;;
  esac
  case "$t" in
    [a-z]*.[a-z0-9]* ) case "$t" in *[!a-z0-9.-]*) ;; *) return 0 ;; esac ;;
  esac
  echo "deploy: not an instance type for node $1: $t" >&2
  exit 1
}
`;
}
/**
 * \`removed_node <node>\`: a node the rendered template no longer has but the deployed nodes stack still does (the branch
 * that removes it), for terminate-node: sets \`out\` to its instance-id output, found by the output's description
 * (stacks.ts nodeInstanceOutputDescription). The name is shape-checked first (a DNS label, as the schema has node names),
 * the key after (letters and digits, as stacks.ts logicalId makes it; two matches are refused alike).
 */
function removedNodeFunction(p: AwsPlan): string {
  if (fixedNodes(p).length === 0) return '';
  return `# A node removed from the environment that the deployed nodes stack still has: out (its instance id's output).
removed_node() {
  case "$1" in '' | -* | *[!a-z0-9-]*) return 1 ;; esac
  nodes_stack_exists || return 1
  out=$(aws cloudformation describe-stacks --region ${q(p.model.aws.region)} --stack-name ${q(p.names.nodesStack)} --query "Stacks[0].Outputs[?Description && starts_with(Description, '${NODE_INSTANCE_OUTPUT_PREFIX}$1 (')].OutputKey" --output text)
  case "$out" in '' | None | *[!A-Za-z0-9]*) return 1 ;; esac
}
`;
}

/**
 * Before the nodes stack update: the fixed instances it drops (the deployed stack's instance-id outputs the rendered
 * template has no more) that still run or sit stopped with termination protection on (DescribeInstanceAttribute
 * disableApiTermination). CloudFormation deletes a removed resource in the update's cleanup
 * (UPDATE_COMPLETE_CLEANUP_IN_PROGRESS) through TerminateInstances, which EC2 refuses (OperationNotPermitted); it tries
 * three times, skips the resource and the update still ends UPDATE_COMPLETE ("Update successful. One or more resources
 * could not be deleted": aws-cloudformation/cloudformation-coverage-roadmap#744; aws/aws-cdk-cli#1564, #1576: "it
 * retries 3 times, then abandons the deletion and marks the update as successful"). The instance would stay, out of
 * the stack, on its node's fixed private address (a node added again at it fails) with its disk. So the update is
 * refused with each one's \`terminate-node\` (which lifts the protection, terminates, waits); the cleanup then deletes an
 * instance terminated already, which succeeds. A dropped instance terminated already, or unprotected, passes.
 */
function removedGate(p: AwsPlan): string {
  if (fixedNodes(p).length === 0) return '';
  const region = q(p.model.aws.region);
  const stack = q(p.names.nodesStack);
  const outputs = `aws cloudformation describe-stacks --region ${region} --stack-name ${stack} --query`;
  return `    # A protected instance this template drops: CloudFormation's cleanup cannot terminate it (skipped, UPDATE_COMPLETE).
    if nodes_stack_exists; then
      dropped=''
      KEPT_OUTPUTS=${q(fixedNodes(p).map(nodeInstanceOutputId).join(' '))}
      for o in $(${outputs} "Stacks[0].Outputs[?starts_with(OutputKey, 'Node') && ends_with(OutputKey, 'InstanceId')].OutputKey" --output text); do
        case " $KEPT_OUTPUTS " in *" $o "*) continue ;; esac
        case "$o" in *[!A-Za-z0-9]*) echo "deploy: not an output key of stack ${p.names.nodesStack}: $o" >&2; exit 1 ;; esac
        id=$(${outputs} "Stacks[0].Outputs[?OutputKey=='$o'].OutputValue" --output text)
        case "$id" in '' | None) continue ;; esac
        require_instance_id "$id" "of output $o"
        if ! state=$(aws ec2 describe-instances --region ${region} --instance-ids "$id" --query 'Reservations[].Instances[].State.Name' --output text 2>&1); then
          case "$state" in *InvalidInstanceID.NotFound*) continue ;; esac
          echo "deploy: cannot read instance $id: $state" >&2
          exit 1
        fi
        case "$state" in terminated | shutting-down) continue ;; esac
        # The CLI's text output of a JSON boolean (True from Python's str, true elsewhere): either case; anything else
        # (an error, an empty answer) stops the run rather than let a protected instance through unseen.
        prot=$(aws ec2 describe-instance-attribute --region ${region} --instance-id "$id" --attribute disableApiTermination --query 'DisableApiTermination.Value' --output text)
        case "$prot" in True | true) ;; False | false) continue ;; *) echo "deploy: cannot read the termination protection of instance $id: $prot" >&2; exit 1 ;; esac
        rn=$(${outputs} "Stacks[0].Outputs[?OutputKey=='$o'].Description" --output text)
        rn=\${rn#${q(NODE_INSTANCE_OUTPUT_PREFIX)}}
        rn=\${rn%% (*}
        case "$rn" in '' | -* | *[!a-z0-9-]*) echo "deploy: no node name in the description of output $o of stack ${p.names.nodesStack}" >&2; exit 1 ;; esac
        dropped="$dropped
  sh ${awsPath(p.model, 'deploy.sh')} terminate-node $rn   ($id, $state)"
      done
      if [ -n "$dropped" ]; then
        echo "deploy: this update removes fixed nodes whose instances carry termination protection: CloudFormation's cleanup cannot terminate them (EC2 refuses: ${TERMINATION_REFUSED}), skips them and still ends UPDATE_COMPLETE, leaving each on its fixed address with its disk. Nothing deployed. Once each node's removal steps ran, terminate its instance (the protection lifted first):$dropped
then deploy.sh nodes again." >&2
        exit 1
      fi
    fi
`;
}

/**
 * The one shape check of an instance id before it reaches a command line, shared by \`drain_tags\`,
 * \`terminate_node\` and \`lift_protection\`: \`i-\` then lower-case hex digits (EC2 instance ids, e.g. i-1234567890abcdef0: AWS EC2
 * API reference, Instance.InstanceId); anything else stops the script, naming where the value came from
 * (its second argument). Emitted only when one of them is.
 */
function instanceIdFunction(p: AwsPlan): string {
  if (!p.drainsPools && fixedNodes(p).length === 0) return '';
  return `# Stop unless $1 is an EC2 instance id (i- and hex digits) before it reaches a command line; $2 names its source.
require_instance_id() {
  case "$1" in
    i- | i-*[!0-9a-f]*) ;;
    i-*) return 0 ;;
  esac
  echo "deploy: not an instance id $2: $1" >&2
  exit 1
}
`;
}

/**
 * \`deploy.sh drain-tags\`: tags the pools' running instances with the Node Termination Handler's tag,
 * for instances launched before their group propagated it (the handler drops an untagged instance's
 * events, NTH v1.25.6 pkg/monitor/sqsevent/sqs-monitor.go:266-269 and 433-441, so its termination
 * would go on undrained after the hook's timeout). Idempotent (create-tags overwrites the same value);
 * each id is checked to be an instance id (require_instance_id) before it reaches the command line. Empty without a drain.
 */
function drainTagsCase(p: AwsPlan): string {
  if (!p.drainsPools) return '';
  return `  drain-tags)
    drain_tags
    ;;
`;
}

/**
 * The shell function of the drain tags: \`drain_tags\` (the loop over the pools' groups). Empty without a drain.
 */
function drainTagsFunctions(p: AwsPlan): string {
  if (!p.drainsPools) return '';
  const m = p.model;
  const region = q(m.aws.region);
  const groups = p.pools.filter((pp) => pp.pool.count !== undefined).map((pp) => q(p.names.pool(pp.pool)));
  return `# Tag the pools' running instances with the drain handler's tag (${NODE_TERMINATION.managedTag(m)}): the handler drops
# the events of an untagged instance, whose termination then goes on undrained after the hook's timeout.
drain_tags() {
  for g in ${groups.join(' ')}; do
    ids=$(aws autoscaling describe-auto-scaling-groups --region ${region} --auto-scaling-group-names "$g" --query 'AutoScalingGroups[].Instances[].InstanceId' --output text)
    for id in $ids; do
      if [ "$id" = None ]; then continue; fi
      require_instance_id "$id" "in group $g"
      aws ec2 create-tags --region ${region} --resources "$id" --tags ${q(`Key=${NODE_TERMINATION.managedTag(m)},Value=${NODE_TERMINATION.managedTagValue}`)}
      echo "tagged $id ($g)"
    done
  done
}
`;
}

/**
 * \`nodes_stack_exists\`: describe-stacks answers ValidationError "Stack with id <name> does not exist" for a stack never
 * created; any other failure stops the script (./stack-states.ts \`stack_status\`). For the drain tags and the fixed nodes' type gate.
 */
function stackExistsFunction(p: AwsPlan): string {
  if (!p.drainsPools && fixedNodes(p).length === 0) return '';
  return `nodes_stack_exists() {
  stack_status ${q(p.names.nodesStack)}
  [ -n "$ST" ]
}
`;
}

/**
 * Before the nodes stack update: the fixed nodes whose instance type it changes (./instance-updates.ts: a stop, the
 * type changed, a start). CloudFormation would stop them undrained, one after another along the DependsOn chain, each
 * next one as soon as the previous instance runs again, not once its node is Ready (no update signal for an instance).
 * So the update is refused while any fixed node's type in the stack differs from the rendered one, naming the
 * \`node-update\` steps in order; after them every type matches and the update stops no instance.
 */
function typeGate(p: AwsPlan): string {
  if (fixedNodes(p).length === 0) return '';
  return `    # A fixed node whose instance type changes is stopped by the update: refused, node-update first (one at a time).
    if nodes_stack_exists; then
      changed=''
      for n in $FIXED_NODES; do
        fixed_node "$n"; current_type "$n"
        if [ -n "$t" ] && [ "$t" != "$want" ]; then changed="$changed
  sh ${awsPath(p.model, 'deploy.sh')} node-update $n   ($t -> $want)"; fi
      done
      if [ -n "$changed" ]; then
        echo "deploy: this update changes the instance type of fixed nodes: CloudFormation would stop each one undrained and stop the next once the previous instance runs, not once its node is Ready. Change them one at a time, each drained first and Ready again before the next:$changed
then deploy.sh nodes again (it then stops no instance)." >&2
        exit 1
      fi
    fi
`;
}

/**
 * The fixed nodes with user data: each one's sha256 (of the bytes EC2 holds, before base64: gzip ones when the
 * distribution's user data is carried gzip, ./user-data.ts, deterministic) and its drain command.
 */
function userDataNodes(p: AwsPlan): { name: string; sha: string; drain: string }[] {
  const m = p.model;
  return fixedNodes(p).flatMap((n) => {
    const ud = carriedUserData(p.facts, m, m.configTargets.find((t) => t.node?.name === n.name)!);
    return ud === undefined ? [] : [{ name: n.name, sha: createHash('sha256').update(ud.bytes).digest('hex'), drain: removalDrain(nodeRef(n.name, n.ip)) }];
  });
}

/**
 * Before the nodes stack update: the fixed nodes whose user data it changes (no per-node step exists: the bytes EC2
 * holds, gzip-compressed where the distribution carries it so (./user-data.ts), are about 5.4 KB for the largest, still
 * too large for a parameter value's 4 KB). What CloudFormation does to each (instance-updates.ts, UserData: "Update requires:
 * Some interruptions"; "If the root volume is an EBS volume and you update user data, CloudFormation restarts the
 * instance", AWS CloudFormation template reference, AWS::EC2::Instance UserData): a stop and start (EC2
 * ModifyInstanceAttribute userData: stopped only), undrained, each next one along the DependsOn chain once the previous
 * instance runs. And the new user data does not run on that start ("If you stop an instance, modify its user data, and
 * start the instance, the updated user data is not run when you start the instance": Amazon EC2 user guide, "Work with
 * instance user data"): it is what a replacement instance boots with. The instance's current user data is read with
 * DescribeInstanceAttribute userData (base64 of the bytes EC2 holds) and compared by sha256 with the bytes the template
 * carries (./user-data.ts: the rendered text, gzip-compressed for a distribution whose user data is carried so; an
 * instance launched before that holds the text, so it is named once, when the template first carries the gzip form:
 * CloudFormation stops and starts it for that change too). Each such node is named with
 * its drain command before anything is deployed; a control plane's together with another node's is refused unless
 * ODP_CONFIRM_USER_DATA names exactly those nodes (a stopped control plane and another stopped node at once). The
 * confirmation is not a licence to stop them undrained: each confirmed node must be cordoned already (Node
 * spec.unschedulable, which kubectl drain sets first), else refused unless ODP_USER_DATA_UNDRAINED=1 says the operator
 * stops them undrained on purpose (a cluster being rebuilt, no workload yet); the cordoned ones are named with their
 * uncordon command for after the update. The user data is decoded and hashed with the portable functions
 * (lib/portable-shell.ts: macOS has no sha256sum, and its base64 -d is not a decode before macOS 13).
 */
function userDataNotice(p: AwsPlan): string {
  const nodes = userDataNodes(p);
  if (nodes.length === 0) return '';
  const region = q(p.model.aws.region);
  return `    # Fixed nodes whose user data this update changes: CloudFormation stops and starts each, undrained (no per-node step).
    if nodes_stack_exists; then
      stops=''
      stops_cp=0
      for n in $FIXED_NODES; do
        fixed_node "$n"
        case "$n" in
${nodes.map((x) => `          ${q(x.name)}) ud=${x.sha}; ud_drain=${q(x.drain)} ;;`).join('\n')}
          *) continue ;;
        esac
        instance_of "$n"
        [ -n "$id" ] || continue
        have=$(aws ec2 describe-instance-attribute --region ${region} --instance-id "$id" --attribute userData --query 'UserData.Value' --output text | base64_decode 2>/dev/null | sha256_hex)
        [ "$have" = "$ud" ] && continue
        stops="\${stops:+$stops }$n"
        [ "$cp" = 0 ] || stops_cp=1
        echo "deploy: node $n: this update changes its user data. CloudFormation stops and starts its instance (AWS::EC2::Instance UserData: Update requires: Some interruptions), undrained, and the next such node as soon as this instance runs again; ${USER_DATA_NOT_RUN_ON_START}. Drain it first:" >&2
        printf '  %s\\n' "$ud_drain" >&2
      done
      if [ -n "$stops" ]; then
        case "$stops" in *' '*) many=1 ;; *) many=0 ;; esac
        if [ "$stops_cp" = 1 ] && [ "$many" = 1 ] && [ "\${ODP_CONFIRM_USER_DATA:-}" != "$stops" ]; then
          echo "deploy: a control plane's user data changes together with another node's ($stops): CloudFormation would stop them one after another, each as soon as the previous instance runs, not once its node is Ready (two control planes down at once on the way). Nothing deployed. Drain them, then confirm exactly these nodes: ODP_CONFIRM_USER_DATA='$stops' sh ${awsPath(p.model, 'deploy.sh')} nodes; or change one node's user data per merge" >&2
          exit 1
        fi
        if [ "\${ODP_CONFIRM_USER_DATA:-}" = "$stops" ]; then
          # Confirmed: each such node must be drained already (cordoned: spec.unschedulable), unless undrained on purpose.
          undrained=''
          uncordon=''
          for n in $stops; do
            fixed_node "$n"
            name=${nodeNameByAddress('$ip')}
            if [ -z "$name" ]; then undrained="\${undrained:+$undrained, }$n (no Node with address $ip in the cluster kubectl reaches)"; continue; fi
            if [ "$(kubectl get node "$name" -o jsonpath='{.spec.unschedulable}' 2>/dev/null)" = true ]; then uncordon="$uncordon
  kubectl uncordon $name   ($n)"; else undrained="\${undrained:+$undrained, }$n ($name)"; fi
          done
          if [ -n "$undrained" ] && [ "\${ODP_USER_DATA_UNDRAINED:-}" != 1 ]; then
            echo "deploy: ODP_CONFIRM_USER_DATA confirms $stops, but not cordoned (not drained): $undrained. CloudFormation would stop them with their pods on them. Nothing deployed. Drain each with its command above, then run this again; or, to stop them undrained on purpose, also set ODP_USER_DATA_UNDRAINED=1" >&2
            exit 1
          fi
          [ -z "$undrained" ] || echo "deploy: ODP_USER_DATA_UNDRAINED=1: stopping undrained: $undrained" >&2
          [ -z "$uncordon" ] || echo "deploy: the drained nodes stay cordoned after the update: uncordon each once its Node is Ready again (kubectl get node NAME):$uncordon" >&2
        fi
      fi
    fi
`;
}

function nodeUpdateCase(p: AwsPlan): string {
  if (fixedNodes(p).length === 0) return '';
  return `  node-update)
    node_update "\${2:-}"
    ;;
`;
}

/** Polls of a node coming back after its update (node-update): 60 × 10 s. */
export const NODE_UPDATE_WAIT = { tries: 60, seconds: 10 } as const;

/**
 * node-update renews the Lease by the wall clock: at each poll (of the stack update, of the node coming back) once
 * this many seconds have passed since its last renewal (`renew_due`, from lib/cluster-lock.ts's RENEWED_S), not every so many polls: a
 * poll's duration is not its sleep. An `aws` call retries on its own (the AWS CLI's retry modes: legacy, its default
 * in v1, 5 attempts; standard, v2's default, 3: AWS CLI User Guide, "AWS CLI retries"), each attempt bounded by
 * --cli-connect-timeout and --cli-read-timeout (60 s each by default), so one describe-stacks may take 10 minutes; a
 * poll of the node's return makes up to five kubectl requests of KUBECTL_REQUEST_SECONDS (15) each and the
 * distribution's datastore gate, its calls bounded alike. Between two renewals: this interval, one sleep and one such poll,
 * about 5 + 10 + 0.5 minutes at worst, within the Lease's hour; a renewal the API server does not answer is retried
 * until the Lease could expire (LOCK_RETRY), not read as lost.
 */
export const NODE_UPDATE_RENEW_SECONDS = 300;

/**
 * Polls of the stack update (node-update), instead of \`aws cloudformation wait stack-update-complete\`, which polls
 * DescribeStacks "every 30 seconds until a successful state has been reached. This will exit with a return code of 255
 * after 120 failed checks" (AWS CLI reference, cloudformation wait stack-update-complete): up to an hour without a
 * renewal, the Lease's whole duration (CLUSTER_LOCK.seconds), so another run could take the lock over while this
 * node's instance is stopped. Here: the same 30 s polls (describe-stacks StackStatus), the lock renewed by the wall
 * clock (NODE_UPDATE_RENEW_SECONDS: a slow describe-stacks, retried by the AWS CLI, does not outlive it). A rollback
 * (UPDATE_ROLLBACK_IN_PROGRESS: CloudFormation API reference, Stack.StackStatus) is polled to its end, the node still
 * cordoned (the rollback stops the instance again to give it back its type), then UPDATE_ROLLBACK_COMPLETE or
 * UPDATE_ROLLBACK_FAILED stops the run with what it left and the exact next command (./stack-states.ts `stack_says`);
 * any other status that is not in progress, at once. Overall at most 120 polls (60 min of sleeps): the hour AWS's own waiter gives a
 * stack update. This update changes one instance's type (a stop, the attribute, a start: minutes), so an update still in
 * progress after an hour is stuck (an instance that does not stop, a start refused for capacity) and needs an operator.
 */
export const STACK_UPDATE_WAIT = { tries: 120, seconds: 30 } as const;

/**
 * \`deploy.sh node-update <node>\`: one fixed node's new instance type, alone, with the cluster's gates (design notes, "A
 * fixed node's instance type").
 *
 * - Only this node's type changes, whatever else the branch changes: the stack is updated with its own template
 *   (\`aws cloudformation update-stack --use-previous-template\`: "Reuse the existing template that is associated with the
 *   stack that you are updating", CloudFormation API UpdateStack UsePreviousTemplate; AWS CLI reference,
 *   cloudformation update-stack) and every parameter but this node's type with \`UsePreviousValue=true\` ("During a stack
 *   update, use the existing parameter value that the stack is using for a given parameter key. If you specify true, do
 *   not specify a parameter value": API reference, Parameter). The parameter list is the stack's own (describe-stacks
 *   Parameters), so a parameter the branch adds is not sent. Then \`stack_wait\` polls DescribeStacks until UPDATE_COMPLETE,
 *   renewing the lock, and stops on a failed or rolled-back update (STACK_UPDATE_WAIT: why not the CLI's waiter). A stack deployed before the per-node type parameters has no
 *   parameter to change: refused (deploy the nodes stack from the main branch first: its types are the running ones).
 * - The nodes stack's status first (./stack-states.ts \`stack_ready\`, the step again as the next command), before the lock
 *   and the drain: an operation in progress (another run, the stack's Git sync) is waited out (up to an hour, with no
 *   Lease to renew yet), a status CloudFormation updates no more from (UPDATE_ROLLBACK_FAILED, …) refused with the
 *   command that leaves it, the node untouched. An update-stack refused all the same (an operation begun during the
 *   drain) says the stack's status and \`stack_says\`'s next command; the node stays cordoned (\`cordoned_notice\`).
 * - One change at a time across operators: the cluster-wide Lease of lib/cluster-lock.ts (the one the servers'
 *   apply-config.sh takes), from before the first gate until the script exits.
 * - The distribution gives its cluster access and its datastore's gate (DistributionAwsFacts.nodeUpdate); the core
 *   adds: kubectl reaches this cluster (a Node with the node's address, lib/k8s-nodes.ts), every control-plane Node
 *   Ready, and the API server's /readyz "ok" (Kubernetes documentation, "Kubernetes API health endpoints").
 * - Drained with the one bounded drain (lib/node-drain.ts, row `stop`: evictions, so PodDisruptionBudgets are
 *   honoured; at most $ODP_DRAIN_TIMEOUT, 5m; bare pods deleted, lost with the stop anyway; on failure the node is
 *   uncordoned and nothing else done); its boot id recorded (status.nodeInfo.bootID, which the
 *   kubelet reads from the kernel at start); after the update it must have a new boot id and be Ready, and for a control
 *   plane the whole gate must pass the distribution's \`stable\` polls in a row (NODE_UPDATE_WAIT, the lock renewed
 *   meanwhile); then it is uncordoned.
 * - Every kubectl request bounded (lib/kubectl-timeout.ts): an unreachable API server fails a gate, never hangs the run
 *   while it holds the lock.
 * - Any exit after the drain but before the uncordon (a failed or stuck stack update, a lost lock, a node not back,
 *   set -e, a signal) leaves the node cordoned, and \`cordoned_notice\` (on EXIT, before the unlock) says so with the
 *   checks that make its uncordon safe (the stack update ended, the instance running, the Node Ready) and the exact
 *   \`kubectl uncordon\`. Uncordoning at once would let pods onto a node CloudFormation may still stop (a rollback stops
 *   it again). The lock is released, not kept: kept, it would block every other node change for up to an hour with no
 *   one to renew it, while what it protects is already guarded without it: the other runs' own gates refuse while a
 *   control plane is not Ready (node_health here, apply-config.sh's gate), and the message says to update no other node.
 */
function nodeUpdateFunction(p: AwsPlan): string {
  const nodes = fixedNodes(p);
  if (nodes.length === 0) return '';
  const region = q(p.model.aws.region);
  const stack = q(p.names.nodesStack);
  const d = p.facts.nodeUpdate(p.model);
  const events = `aws cloudformation describe-stack-events --region ${p.model.aws.region} --stack-name ${p.names.nodesStack}`;
  const ready = `{.status.conditions[?(@.type=="Ready")].status}`;
  const body = (lines: string[], indent: string) => lines.map((l) => `${indent}${l}`).join('\n');
  return `${drainFunctions(NODE_DRAIN.stop, { kubectl: 'kubectl', say: (t) => `echo "deploy: ${t}" >&2` }).join('\n')}
# Change one fixed node's instance type alone: drained before, Ready (and the control plane healthy) after.
log() { echo "deploy: $*" >&2; }
${d.functions.length > 0 ? `${d.functions.join('\n')}\n` : ''}${leaseLockLines({ kubectl: 'kubectl', holder: '"node-update ${2:-} on $(hostname) pid $$"', log: 'log', other: 'another node change', rule: 'change one node at a time', through: 'through the cluster kubectl reaches' }).join('\n')}
# renew_due SECONDS: this run last renewed the Lease at least SECONDS ago, by the wall clock.
renew_due() { [ $(( $(date -u +%s) - RENEWED_S )) -ge "$1" ]; }
# The datastore's health, as the distribution's runbook judges it: ${d.gate}.
datastore_ok() {
${body(d.datastore, '  ')}
}
node_health() {
  bad=$(kubectl get nodes -l node-role.kubernetes.io/control-plane -o jsonpath='{range .items[*]}{.metadata.name} ${ready}{"\\n"}{end}' | awk '$2 != "True" { print $1 }')
  [ -z "$bad" ] || { NOT_OK="a control-plane Node not Ready: $bad"; return 1; }
  [ "$(kubectl get --raw /readyz 2>/dev/null)" = ok ] || { NOT_OK="the API server's /readyz not ok"; return 1; }
  datastore_ok
}
# The stack update, polled (describe-stacks) every ${STACK_UPDATE_WAIT.seconds} s for at most ${(STACK_UPDATE_WAIT.tries * STACK_UPDATE_WAIT.seconds) / 60} minutes, the lock renewed once ${NODE_UPDATE_RENEW_SECONDS} s old;
# a rollback is waited for to its end, then stops it with what it left and the next command. Returns 1 with STACK_NOT_OK.
stack_wait() {
  polls=0
  while :; do
    # Renewed before each describe-stacks, not after it: update-stack and a describe-stacks the AWS CLI retries may each
    # take minutes, and a renewal after the poll would let both pass without one.
    ! renew_due ${NODE_UPDATE_RENEW_SECONDS} || lock || { STACK_NOT_OK="$NOT_OK while stack ${p.names.nodesStack} was updating"; return 1; }
    status=$(aws cloudformation describe-stacks --region ${region} --stack-name ${stack} --query 'Stacks[0].StackStatus' --output text 2>/dev/null) || status='unknown (describe-stacks failed)'
    case "$status" in
      UPDATE_COMPLETE) return 0 ;;
      # A rollback runs to its end first (it stops the instance again to give it back its type): the node stays cordoned.
      UPDATE_ROLLBACK_COMPLETE | UPDATE_ROLLBACK_FAILED) STACK_NOT_OK=$(stack_says ${stack} "$status" "$again"); return 1 ;;
      'unknown (describe-stacks failed)' | *_IN_PROGRESS) ;;
      *) STACK_NOT_OK="the update of stack ${p.names.nodesStack} ended in $status. Its events say why: ${events}"; return 1 ;;
    esac
    polls=$((polls + 1))
    if [ "$polls" -ge ${STACK_UPDATE_WAIT.tries} ]; then STACK_NOT_OK="the update of stack ${p.names.nodesStack} has not completed after ${(STACK_UPDATE_WAIT.tries * STACK_UPDATE_WAIT.seconds) / 60} minutes (status $status): look at its events (${events})"; return 1; fi
    sleep ${STACK_UPDATE_WAIT.seconds}
  done
}
# After the drain, whatever ends the run (a failure, set -e, a signal): the node stays cordoned; when its uncordon is safe.
cordoned_notice() {
  [ -n "$CORDONED" ] || return 0
  log "node $node ($name) stays cordoned. This run releases the lock (Lease ${CLUSTER_LOCK.namespace}/${CLUSTER_LOCK.name}) as it exits (if the API server cannot be reached, the Lease expires ${CLUSTER_LOCK.seconds} s after its last renewal); update no other node until this one is back. Uncordon it only once the stack update has ended (aws cloudformation describe-stacks --region ${p.model.aws.region} --stack-name ${p.names.nodesStack} --query 'Stacks[0].StackStatus' --output text: UPDATE_COMPLETE, or UPDATE_ROLLBACK_COMPLETE after a rollback), its instance $id is running (aws ec2 describe-instances --region ${p.model.aws.region} --instance-ids $id --query 'Reservations[].Instances[].[State.Name,InstanceType]' --output text) and its Node is Ready (kubectl get node $name); before that CloudFormation may still stop it, under the pods an uncordon lets in. Then: kubectl uncordon $name"
}
node_update() {
  fixed_node "$1" || { echo ${q(`usage: deploy.sh node-update <node>; nodes: ${nodes.map((n) => n.name).join(', ')}`)} >&2; exit 2; }
  again="sh ${awsPath(p.model, 'deploy.sh')} node-update $1"
  node=$1 node_param=$param node_want=$want node_ip=$ip node_cp=$cp
  # The stack first, before the lock (its wait may last an hour, with no one to renew a Lease) and before the drain: an
  # operation in progress (another run, its Git sync) waited out; a status CloudFormation updates no more from, refused.
  stack_ready ${stack} "$again"
  current_type "$node"
  [ -n "$t" ] || { echo "deploy: node $node has no instance in stack ${p.names.nodesStack} yet: deploy.sh nodes creates it" >&2; exit 1; }
  if [ "$t" = "$node_want" ]; then echo "node $node is $node_want already: nothing to change"; return 0; fi
  from=$t
  node_instance "$node"
  drain_timeout
  # The stack's own template and parameters: this node's type changes, every other parameter keeps its value.
  keys=$(aws cloudformation describe-stacks --region ${region} --stack-name ${stack} --query 'Stacks[0].Parameters[].ParameterKey' --output text)
  set -- "ParameterKey=$node_param,ParameterValue=$node_want"
  found=''
  for k in $keys; do
    case "$k" in *[!A-Za-z0-9]*) log "not a parameter name in stack ${p.names.nodesStack}: $k"; exit 1 ;; esac
    if [ "$k" = "$node_param" ]; then found=1; else set -- "$@" "ParameterKey=$k,UsePreviousValue=true"; fi
  done
  [ -n "$found" ] || { log "stack ${p.names.nodesStack} has no parameter $node_param: it was deployed before each fixed node's instance type was a parameter. Deploy it from the main branch first (sh ${awsPath(p.model, 'deploy.sh')} nodes there: its types are the running ones, it stops nothing), then run this again"; exit 1; }
${d.access.length > 0 ? `  # How kubectl reaches this cluster (the distribution's way).\n${body(d.access, '  ')}\n` : ''}  name=${nodeNameByAddress('$node_ip')}
  [ -n "$name" ] || { echo "deploy: no Node with address $node_ip in the cluster kubectl reaches (KUBECONFIG): not this environment's cluster, or node $node not joined" >&2; exit 1; }
  lock_on_exit
  CORDONED=
  trap 'cordoned_notice; unlock' EXIT
  lock
  # A hand-over in progress (an agent drained for its own apply-config.sh run, its Node marked): no other node before it ends.
  marked=$(kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name} {.metadata.annotations.${NODE_HANDOVER_ANNOTATION.replace(/\./g, '\\.')}}{"\\n"}{end}') || { log "the Nodes cannot be read through the cluster kubectl reaches: node $node left alone"; exit 1; }
  handover=$(printf '%s\\n' "$marked" | awk '$2 != "" { print $1 " (" $2 ")"; exit }')
  [ -z "$handover" ] || { log "Node $handover is cordoned by a hand-over (its annotation ${NODE_HANDOVER_ANNOTATION}): drained for its own apply-config.sh run, not finished; no other node changes before it ends. Finish or abandon it with apply-config.sh (ODP_ABANDON_HANDOVER=<node>, on a server), then run this again; node $node left alone"; exit 1; }
  node_health || { echo "deploy: the control plane is not healthy ($NOT_OK): node $node left alone" >&2; exit 1; }
  boot=$(kubectl get node "$name" -o jsonpath='{.status.nodeInfo.bootID}')
  # Cordoned from the drain's first request: a signal during the drain (a dropped ssh session) says so too. A drain that
  # fails uncordons the node itself (lib/node-drain.ts, the stop row).
  CORDONED=1
  drain_bounded "$name" 'its instance untouched' "node $node ($name)" || { CORDONED=; exit 1; }
  # The lock renewed at each step boundary (lib/cluster-lock.ts): the drain and the stack update may each take long.
  if ! lock; then
    if kubectl uncordon "$name" >/dev/null 2>&1; then CORDONED=; log "$NOT_OK: node $node ($name) uncordoned, its instance untouched"; else log "$NOT_OK: its instance untouched"; fi
    exit 1
  fi
  aws cloudformation update-stack --region ${region} --stack-name ${stack} --use-previous-template --parameters "$@" --capabilities CAPABILITY_NAMED_IAM --role-arn "$role" >/dev/null || { stack_status ${stack}; log "stack ${p.names.nodesStack} did not accept the update (the AWS CLI's error above); it is \${ST:-gone}: $(stack_says ${stack} "$ST" "$again")"; exit 1; }
  stack_wait || { log "$STACK_NOT_OK"; exit 1; }
  lock || { log "$NOT_OK while its instance was stopped and started"; exit 1; }
  # Back: a new boot id (the instance was stopped and started), Ready; a control plane: the whole gate, ${d.stable} poll(s) in a row.
  need=1
  [ "$node_cp" = 0 ] || need=${d.stable}
  i=0
  ok=0
  while :; do
    if now=$(kubectl get node "$name" -o jsonpath='{.status.nodeInfo.bootID} ${ready}' 2>/dev/null) && [ "\${now% *}" != "$boot" ] && [ "\${now##* }" = True ] && { [ "$node_cp" = 0 ] || node_health; }; then ok=$((ok + 1)); else ok=0; fi
    [ "$ok" -lt "$need" ] || break
    i=$((i + 1))
    if [ "$i" -ge ${NODE_UPDATE_WAIT.tries} ]; then
      echo "deploy: node $node ($name) has type $node_want now but is not back after ${(NODE_UPDATE_WAIT.tries * NODE_UPDATE_WAIT.seconds) / 60} minutes (Node Ready with a new boot id; a control plane: every control plane Ready, /readyz ok, ${d.gate}): it stays cordoned. Update no other node; look at it (kubectl describe node $name)" >&2
      exit 1
    fi
    ! renew_due ${NODE_UPDATE_RENEW_SECONDS} || lock || { log "$NOT_OK while node $node ($name) came back"; exit 1; }
    sleep ${NODE_UPDATE_WAIT.seconds}
  done
  kubectl uncordon "$name"
  CORDONED=
  echo "node $node ($name): $from -> $node_want, Ready again and uncordoned; the next node may go"
}
`;
}

/**
 * Before the nodes stack update: the running instances tagged first, so that an update bringing the
 * TERMINATING hook and a new launch template (which replaces every instance) drains the old ones too.
 * Only when the stack exists (its first creation launches instances with the tag).
 */
function drainTagsFirst(p: AwsPlan): string {
  if (!p.drainsPools) return '';
  return `    # Instances launched before their group propagated the drain handler's tag are tagged first (idempotent).
    if nodes_stack_exists; then drain_tags; fi
`;
}

export function enableGitSyncScript(p: AwsPlan): string {
  const m = p.model;
  const repo = gitRepository(m.git.repoURL);
  const lines = [
    '#!/bin/sh',
    `# Turn on CloudFormation Git sync for ${p.names.baseStack} and ${p.names.nodesStack}: AWS then updates each stack`,
    `# when its deployment file or template changes on ${shellValue('git-ref', m.git.targetRevision, 'git.targetRevision')} of ${shellValue('url', m.git.repoURL, 'git.repoURL')}.`,
    '# Needs: the git-sync stack, both stacks deployed once (deploy.sh base, deploy.sh nodes), and an',
    '# AVAILABLE CodeConnections connection to the Git provider (its ARN is the argument).',
    `# Run from the repository root:  sh ${awsPath(m, 'enable-git-sync.sh')} CONNECTION_ARN`,
    'set -eu',
    'connection="${1:?usage: enable-git-sync.sh CONNECTION_ARN}"',
    `region=${q(m.aws.region)}`,
    `role=${roleLookup(p, 'SyncRoleArn')}`,
    `link=$(aws codeconnections list-repository-links --region "$region" --query ${q(`RepositoryLinks[?OwnerId=='${repo.owner}' && RepositoryName=='${repo.repository}'] | [0].RepositoryLinkId`)} --output text)`,
    'if [ -z "$link" ] || [ "$link" = None ]; then',
    `  link=$(aws codeconnections create-repository-link --region "$region" --connection-arn "$connection" --owner-id ${q(repo.owner)} --repository-name ${q(repo.repository)} --query RepositoryLinkInfo.RepositoryLinkId --output text)`,
    'fi',
  ];
  for (const stack of ['base', 'nodes'] as const) {
    const name = stack === 'base' ? p.names.baseStack : p.names.nodesStack;
    lines.push(
      `if aws codeconnections get-sync-configuration --region "$region" --sync-type CFN_STACK_SYNC --resource-name ${q(name)} >/dev/null 2>&1; then`,
      `  echo ${q(`git sync of ${name} is already configured`)}`,
      'else',
      `  aws codeconnections create-sync-configuration --region "$region" --branch ${q(m.git.targetRevision)} --config-file ${q(awsPath(m, deploymentFile(stack)))} --repository-link-id "$link" --resource-name ${q(name)} --role-arn "$role" --sync-type CFN_STACK_SYNC --publish-deployment-status ENABLED --trigger-resource-update-on FILE_CHANGE`,
      'fi',
    );
  }
  return lines.join('\n') + '\n';
}

/** The one-time CodeConnections connection (its handshake with the Git provider is finished in the console). */
export const connectionCommand = (p: AwsPlan): string => {
  const repo = gitRepository(p.model.git.repoURL);
  // Connection names: at most 32 characters.
  const name = `odp-gitops-${repo.owner.replace(/[^A-Za-z0-9-]/g, '-')}`.slice(0, 32);
  return `aws codeconnections create-connection --region ${q(p.model.aws.region)} --provider-type ${repo.provider ?? 'GitHub'} --connection-name ${q(name)}`;
};

/**
 * The String parameters the environment references, created where missing with the values the lock
 * holds (non-secret by construction: SecureStrings never enter the lock). In a new account this is
 * the first step, so `--refresh-ssm` finds them; existing parameters are left as they are.
 */
export function ssmParametersScript(p: AwsPlan): string {
  const m = p.model;
  const lines = [
    '#!/bin/sh',
    `# Create the SSM String parameters environment ${m.name} references (from environments/${m.name}.ssm.lock.json), where missing.`,
    '# Existing parameters are not changed. Run with the credentials of account ' + m.aws.accountId + '.',
    'set -eu',
    `region=${q(m.aws.region)}`,
    'put() {',
    '  if aws ssm get-parameter --region "$region" --name "$1" >/dev/null 2>&1; then echo "exists: $1"; else aws ssm put-parameter --region "$region" --type String --name "$1" --value "$2" >/dev/null && echo "created: $1"; fi',
    '}',
  ];
  const entries = Object.entries(m.aws.parameters).sort(([a], [b]) => a.localeCompare(b));
  // A value new-env left as a placeholder (lib/placeholder.ts) must never reach SSM: the script only
  // checks that such a parameter exists and stops, naming it, when it does not.
  const held = entries.filter(([, value]) => isPlaceholder(value));
  if (held.length > 0) {
    lines.push(
      'missing=0',
      'need() {',
      `  if aws ssm get-parameter --region "$region" --name "$1" >/dev/null 2>&1; then echo "exists: $1"; else echo "missing: $1 (the lock holds only new-env's placeholder: put its real value, then npm run synth -- --env ${m.name} --refresh-ssm)" >&2; missing=1; fi`,
      '}',
    );
  }
  for (const [name, value] of entries) lines.push(isPlaceholder(value) ? `need ${q(name)}` : `put ${q(name)} ${q(value)}`);
  if (held.length > 0) lines.push('[ "$missing" = 0 ] || exit 1');
  return lines.join('\n') + '\n';
}
