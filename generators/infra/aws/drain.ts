/**
 * The AWS side of draining a pool instance before EC2 terminates it, for the AWS Node Termination
 * Handler in Queue Processor mode (catalog/aws-node-termination-handler.ts), as its README lists it
 * (aws/aws-node-termination-handler v1.25.6 README.md:300-495, "Infrastructure Setup"):
 * 1. an SQS queue, server-side encrypted by SQS (SqsManagedSseEnabled, README.md:350-365: SSE-KMS with an
 *    AWS managed key cannot be used, EventBridge could not write), whose policy lets events.amazonaws.com
 *    and sqs.amazonaws.com send to it (README.md:326-345), messages kept 300 s (README.md:352);
 * 2. an `autoscaling:EC2_INSTANCE_TERMINATING` hook on each pool's group, DefaultResult CONTINUE,
 *    HeartbeatTimeout 300 (README.md:371-380): every termination the group makes — an instance refresh
 *    after a launch-template change, scale-in, an operator's terminate-instance-in-auto-scaling-group, a
 *    Spot interruption or rebalance the group acts on — waits in Terminating:Wait until the handler has
 *    drained the Node and completed the action, or until the timeout, when the group goes on;
 * 3. the instance tag the handler checks (README.md:396-410: propagated from the group at launch);
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

/** Whether terminations are drained: the handler is enabled (it is by default where an auto-scaled pool exists). */
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

/** The queue, its policy and the rules (base stack). */
export function drainResources(m: EnvironmentModel, groupNames: readonly string[]): Record<string, Resource> {
  const out: Record<string, Resource> = {
    NodeDrainQueue: resource('AWS::SQS::Queue', { QueueName: NODE_TERMINATION.queueName(m), MessageRetentionPeriod: 300, SqsManagedSseEnabled: true }),
    NodeDrainQueuePolicy: resource('AWS::SQS::QueuePolicy', {
      Queues: [ref('NodeDrainQueue')],
      PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: ['events.amazonaws.com', 'sqs.amazonaws.com'] }, Action: 'sqs:SendMessage', Resource: getAtt('NodeDrainQueue', 'Arn') }] },
    }),
  };
  for (const r of drainRules(groupNames))
    out[r.id] = resource('AWS::Events::Rule', { Description: `${m.cluster.name}: ${r.description}, to the node termination handler's queue`, State: 'ENABLED', EventPattern: r.pattern, Targets: [{ Id: 'queue', Arn: getAtt('NodeDrainQueue', 'Arn') }] });
  return out;
}
