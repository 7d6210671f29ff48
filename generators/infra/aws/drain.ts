/**
 * The AWS side of draining a pool instance before EC2 terminates it, for the AWS Node Termination
 * Handler in Queue Processor mode (catalog/aws-node-termination-handler.ts), as its README lists it
 * (aws/aws-node-termination-handler v1.25.6 README.md:300-495, "Infrastructure Setup"):
 * 1. an SQS queue, server-side encrypted by SQS (SqsManagedSseEnabled, README.md:350-365: SSE-KMS with an
 *    AWS managed key cannot be used, EventBridge could not write), messages kept 300 s (README.md:352), whose
 *    policy lets only this stack's five rules send to it (`queuePolicyStatement`, below; README.md:326-345
 *    lets the two services send with no condition);
 * 2. an `autoscaling:EC2_INSTANCE_TERMINATING` hook on each pool's group, DefaultResult CONTINUE,
 *    HeartbeatTimeout 300 (README.md:371-380): every termination the group makes — an instance refresh
 *    after a launch-template change, scale-in, an operator's terminate-instance-in-auto-scaling-group, a
 *    Spot interruption or rebalance the group acts on — waits in Terminating:Wait until the handler has
 *    drained the Node and completed the action, or until the timeout, when the group goes on;
 * 3. the instance tag the handler checks (README.md:396-410: propagated from the group at launch). Instances
 *    running before their group propagated it are tagged by `deploy.sh drain-tags`, which `deploy.sh nodes`
 *    runs first (deploy.ts); `npm run plan` names a change leaving them untagged (upgrade-plan/drain-tags.ts).
 *    Not the `kubernetes.io/cluster/<cluster>` key every pool instance already carries, which would need no
 *    tagging: the fixed nodes, control planes included, carry it too, and the handler would cordon and drain
 *    them on the account-wide events — on an AWS Health scheduled change at once
 *    (pkg/monitor/sqsevent/scheduled-change-event.go:95), never uncordoning in Queue Processor mode (its
 *    uncordon after a reboot runs only with IMDS: cmd/node-termination-handler.go:138,169-181). Nor
 *    `checkTagBeforeDraining: false`: the same for fixed nodes, and every other instance's event in the
 *    account would fail at finding its Node (useProviderId: internal/common/handler.go:35-45,
 *    pkg/node/node.go:425-450) and come back from the queue instead of being dropped (sqs-monitor.go:266-269);
 * 4. EventBridge rules to the queue: the group's terminate lifecycle action, Spot interruption warnings,
 *    rebalance recommendations, instance state changes, AWS Health scheduled changes (README.md:425-466).
 *    The lifecycle rule names this cluster's groups only; launch actions are not routed (the LAUNCHING hook
 *    belongs to the distribution's join: README.md:500-528 would have the handler complete it);
 * 5. the handler's permissions (README.md:476-495), through the credentialed controllers' node role
 *    (plan.ts credentialedControllers).
 * Nothing here applies to fixed nodes (EC2 instances outside any group, never tagged).
 */
import { autoScaledPools, NODE_TERMINATION } from '../../catalog/aws-node-termination-handler.js';
import { resolveAddons } from '../../catalog/resolve.js';
import type { EnvironmentModel } from '../../model/types.js';
import type { Statement } from './facts.js';
import { arn } from './policy.js';
import { getAtt, ref, resource, type Resource } from './template.js';

/** The EC2_INSTANCE_TERMINATING hook's name and NTH's recommended timeout and result (README.md:375-379). */
export const TERMINATING_HOOK = { name: 'node-drain', heartbeatSeconds: 300, defaultResult: 'CONTINUE' as const };

/**
 * Whether terminations are drained: the handler is enabled (it is by default where an auto-scaled pool
 * exists). Resolves the add-ons: the AWS layer reads it once per plan (`AwsPlan.drainsPools`, plan.ts);
 * callers holding only a model (the upgrade plan compares two) call it once per model.
 */
export const drainsPools = (m: EnvironmentModel): boolean => autoScaledPools(m).length > 0 && resolveAddons(m).some((a) => a.name === 'aws-node-termination-handler');

export const queueArn = (m: EnvironmentModel): string => arn(m, 'sqs', NODE_TERMINATION.queueName(m));

/** The handler's permissions (README.md:476-495), the writes narrowed to this queue and this cluster's groups. */
export function terminationHandlerStatements(m: EnvironmentModel, groupNames: readonly string[]): Statement[] {
  return [
    { Sid: 'NthQueue', Effect: 'Allow', Action: ['sqs:DeleteMessage', 'sqs:ReceiveMessage'], Resource: [queueArn(m)] },
    { Sid: 'NthCompleteLifecycleAction', Effect: 'Allow', Action: ['autoscaling:CompleteLifecycleAction'], Resource: groupNames.map((g) => arn(m, 'autoscaling', `autoScalingGroup:*:autoScalingGroupName/${g}`)) },
    { Sid: 'NthDescribe', Effect: 'Allow', Action: ['autoscaling:DescribeAutoScalingInstances', 'autoscaling:DescribeTags', 'ec2:DescribeInstances'], Resource: ['*'] },
  ];
}

/** The event patterns (README.md:425-466), each to the queue. */
export function drainRules(groupNames: readonly string[]): { id: string; description: string; pattern: Record<string, unknown> }[] {
  return [
    { id: 'NodeDrainAsgTerminateRule', description: 'pool instances about to terminate (EC2_INSTANCE_TERMINATING hook)', pattern: { source: ['aws.autoscaling'], 'detail-type': ['EC2 Instance-terminate Lifecycle Action'], detail: { AutoScalingGroupName: [...groupNames] } } },
    { id: 'NodeDrainSpotInterruptionRule', description: 'Spot interruption warnings', pattern: { source: ['aws.ec2'], 'detail-type': ['EC2 Spot Instance Interruption Warning'] } },
    { id: 'NodeDrainRebalanceRule', description: 'rebalance recommendations', pattern: { source: ['aws.ec2'], 'detail-type': ['EC2 Instance Rebalance Recommendation'] } },
    { id: 'NodeDrainStateChangeRule', description: 'instance state changes', pattern: { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'] } },
    { id: 'NodeDrainScheduledChangeRule', description: 'AWS Health scheduled changes of EC2', pattern: { source: ['aws.health'], 'detail-type': ['AWS Health Event'], detail: { service: ['EC2'], eventTypeCategory: ['scheduledChange'] } } },
  ];
}

/**
 * Who may write into the queue. The handler cordons and drains whatever Node a message names (when the
 * instance carries this cluster's tag), so the queue's writers are as sensitive as its reader:
 * - Only `events.amazonaws.com`. NTH's README sample (v1.25.6 README.md:326-345, docs/cfn-template.yaml
 *   QueuePolicy; both since the Queue Processor's first commit 9f9ac2d, with no reason given) also names
 *   `sqs.amazonaws.com`, but no SQS feature used here sends as that principal: EventBridge delivers to an
 *   SQS target under the queue's resource-based policy for `events.amazonaws.com` (EventBridge User Guide,
 *   "Using resource-based policies for Amazon EventBridge", "Amazon SQS permissions":
 *   https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sqs-permissions),
 *   and lifecycle notifications sent by Auto Scaling straight to SQS (not used: the hooks have no
 *   NotificationTargetARN) go through an IAM service role, not a service principal (README.md:361).
 * - `ArnEquals aws:SourceArn` = the rules' ARNs (Fn::GetAtt <Rule>.Arn: the rules carry generated names,
 *   `arn:<partition>:events:<region>:<account>:rule/<name>`), the condition the same AWS page puts on an
 *   EventBridge target's policy, and the cross-service confused-deputy guidance asks for (IAM User Guide,
 *   "The confused deputy problem", https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html;
 *   global condition keys aws:SourceArn/aws:SourceAccount,
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourcearn).
 *   Without it any EventBridge rule — another stack's, or another account's bus forwarding to this queue's
 *   ARN — could write events that make the handler drain this cluster's Nodes. aws:SourceAccount adds
 *   nothing here: a rule ARN names its account.
 */
export function queuePolicyStatement(ruleIds: readonly string[]): Record<string, unknown> {
  return {
    Sid: 'NodeDrainRulesOnly',
    Effect: 'Allow',
    Principal: { Service: 'events.amazonaws.com' },
    Action: 'sqs:SendMessage',
    Resource: getAtt('NodeDrainQueue', 'Arn'),
    Condition: { ArnEquals: { 'aws:SourceArn': ruleIds.map((id) => getAtt(id, 'Arn')) } },
  };
}

/** The queue, its policy and the rules (base stack). */
export function drainResources(m: EnvironmentModel, groupNames: readonly string[]): Record<string, Resource> {
  const rules = drainRules(groupNames);
  const out: Record<string, Resource> = {
    NodeDrainQueue: resource('AWS::SQS::Queue', { QueueName: NODE_TERMINATION.queueName(m), MessageRetentionPeriod: 300, SqsManagedSseEnabled: true }),
    NodeDrainQueuePolicy: resource('AWS::SQS::QueuePolicy', {
      Queues: [ref('NodeDrainQueue')],
      PolicyDocument: { Version: '2012-10-17', Statement: [queuePolicyStatement(rules.map((r) => r.id))] },
    }),
  };
  for (const r of rules)
    out[r.id] = resource('AWS::Events::Rule', { Description: `${m.cluster.name}: ${r.description}, to the node termination handler's queue`, State: 'ENABLED', EventPattern: r.pattern, Targets: [{ Id: 'queue', Arn: getAtt('NodeDrainQueue', 'Arn') }] });
  return out;
}
