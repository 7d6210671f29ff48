/**
 * EC2 termination protection of the fixed control planes: the one table of what AWS does with it, read by the nodes
 * template (./stacks.ts), the runbook (./deploy.ts terminate_node, lift_protection), the stack-state messages
 * (./stack-states.ts) and the tests' stubs. Facts, as AWS documents them:
 *
 * - AWS::EC2::Instance `DisableApiTermination`: "If you set this parameter to true, you can't terminate the instance
 *   using the Amazon EC2 console, CLI, or API … To change this attribute after launch, use ModifyInstanceAttribute";
 *   Default false; "Update requires: No interruption" (AWS CloudFormation template reference, AWS::EC2::Instance;
 *   awsdocs/aws-cloudformation-user-guide doc_source/aws-properties-ec2-instance.md). Setting it on a running node is
 *   an update in place: nothing stops.
 * - What it does not stop: a shutdown from inside the instance when InstanceInitiatedShutdownBehavior is `terminate`
 *   (ours is the default, `stop`), AWS's own scheduled retirement, and an Auto Scaling group terminating its members
 *   (Amazon EC2 User Guide, "Change instance termination protection", Considerations). So it is set on fixed
 *   instances only: a pool's group must replace its instances (health checks, refreshes).
 * - TerminateInstances on a protected instance fails with the error code `OperationNotPermitted`: "The instance
 *   '<id>' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again." (Amazon EC2 API
 *   reference, Error codes: OperationNotPermitted, "The specified operation is not allowed"; the message as the AWS
 *   CLI prints it: rebuy-de/aws-nuke#279). `aws ec2 modify-instance-attribute --instance-id <id>
 *   --no-disable-api-termination` lifts it (Amazon EC2 User Guide, "Change instance termination protection", AWS CLI).
 * - CloudFormation deletes an instance with TerminateInstances too, and is refused alike: a stack deletion, the
 *   rollback of a failed creation and the cleanup of a replaced or removed instance cannot terminate a protected
 *   instance until the protection is lifted (aws-samples/amazon-ec2-nice-dcv-samples#8: a template setting
 *   DisableApiTermination "can not be easily" deleted without that extra step). A stack deletion then ends in
 *   DELETE_FAILED, a failed creation's rollback in ROLLBACK_FAILED; `deploy.sh lift-protection` lifts it from every
 *   instance the nodes stack still holds before the deletion is run again. A replacement's cleanup deletes an
 *   instance the runbook terminated already (terminate-node lifts the protection first), which succeeds.
 * - An update that drops a protected instance (its node removed from the environment) deletes it in its cleanup
 *   (UPDATE_COMPLETE_CLEANUP_IN_PROGRESS), refused alike; CloudFormation tries three times, skips it and still ends
 *   UPDATE_COMPLETE ("it retries 3 times, then abandons the deletion and marks the update as successful":
 *   aws/aws-cdk-cli#1576; DELETE_FAILED shown as skipped: aws/aws-cdk-cli#1564; "Update successful. One or more resources
 *   could not be deleted": aws-cloudformation/cloudformation-coverage-roadmap#744). The instance stays, out of the stack,
 *   on its fixed private address with its disk. So every removal of a control plane ends, before the merge, with
 *   \`deploy.sh terminate-node <node>\` (terminateNodeCommand), and \`deploy.sh nodes\` refuses an update that would drop one
 *   still protected (./deploy.ts removedGate). A failed update's rollback deletes an instance it created the same way:
 *   one it cannot delete is named with its lift and terminate commands (./stack-states.ts rollback_orphans).
 */

/** The nodes stack's fixed instances that carry termination protection: the control planes (datastore members). */
export const PROTECTED_ROLE = 'controlplane' as const;

/** The EC2 error code of TerminateInstances on a protected instance (stubs answer with it). */
export const TERMINATION_REFUSED = 'OperationNotPermitted';

/** The message EC2 gives with it, for instance `id`. */
export const terminationRefusedMessage = (id: string): string =>
  `The instance '${id}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.`;

/**
 * Why fixed workers are not protected, in words (README, design notes): they hold no datastore member and no state
 * the cluster cannot rebuild (their pods are rescheduled), while protecting them would add the lift to every worker
 * replacement and leave a failed creation's rollback of a worker stuck in ROLLBACK_FAILED for nothing kept.
 */
export const WORKERS_UNPROTECTED =
  'fixed workers are not protected: they hold no datastore member and nothing the cluster cannot rebuild (their pods reschedule), so the protection would only add its lift to every worker replacement and rollback';

/** The command that terminates a fixed node's instance, its protection lifted first (./deploy.ts terminate_node). */
export const terminateNodeCommand = (env: string, node: string): string => `sh rendered/${env}/aws/deploy.sh terminate-node ${node}`;
