/**
 * What a stack update does to a running fixed node (`AWS::EC2::Instance`, stacks.ts nodesTemplate) for each property we
 * render: the one table the diff (diff/aws-impact.ts, the review comment's first section) and the runbook
 * (deploy.ts node-update) read.
 *
 * Sources:
 * - AWS CloudFormation template reference, AWS::EC2::Instance, each property's "Update requires", as merged into
 *   `causesReplacement` by @aws-cdk/aws-service-spec 0.1.216 (spec/spec.ts; `maybe` = "Some interruptions" or
 *   conditional), and its documentation text: InstanceType "When you change your EBS-backed instance type, instance
 *   restart or replacement behavior depends on the instance type compatibility between the old and new types";
 *   UserData "If the root volume is an EBS volume and you update user data, CloudFormation restarts the instance";
 *   BlockDeviceMappings "After the instance is running, you can modify only the DeleteOnTermination parameter … without
 *   interrupting the instance. Modifying any other parameter results in instance replacement".
 * - AWS CloudFormation user guide, "Understand update behaviors of stack resources": "Updates with Some Interruption …
 *   if you update certain properties on an AWS::EC2::Instance resource, the instance might have some interruption while
 *   AWS CloudFormation and Amazon EC2 reconfigure the instance".
 * - Amazon EC2 API reference, ModifyInstanceAttribute: "To modify some attributes, the instance must be stopped" (the
 *   instance type, user data, EBS optimization, kernel, RAM disk); `groupSet` (security groups of a VPC instance's
 *   interface) is modified on a running instance. So "Some interruptions" of InstanceType and UserData is a stop,
 *   the attribute changed, and a start: the same root volume and address, a new boot. CloudFormation has no update
 *   signal for an instance (CreationPolicy is creation-only): the update is done once EC2 reports it running, whether
 *   or not its node is back in the cluster.
 */

/** What a changed property does to the running instance. */
export type InstanceUpdate = 'in place' | 'stop' | 'replace' | 'replace unless DeleteOnTermination';

/** Every AWS::EC2::Instance property stacks.ts renders for a fixed node, with its update behaviour. */
export const FIXED_INSTANCE_UPDATES: Readonly<Record<string, InstanceUpdate>> = {
  ImageId: 'replace',
  InstanceType: 'stop',
  SubnetId: 'replace',
  PrivateIpAddress: 'replace',
  // "Some interruptions" in the reference; for an instance in a VPC the groups are its interface's (ModifyInstanceAttribute groupSet, running).
  SecurityGroupIds: 'in place',
  IamInstanceProfile: 'in place',
  MetadataOptions: 'in place',
  BlockDeviceMappings: 'replace unless DeleteOnTermination',
  PropagateTagsToVolumeOnCreation: 'in place',
  // Control planes only ("Update requires: No interruption"; ./termination.ts).
  DisableApiTermination: 'in place',
  UserData: 'stop',
  Tags: 'in place',
};

/** Whether a change at `path` (below Properties: `InstanceType`, `UserData["Fn::Base64"]`) stops a running instance. */
export function stopsInstance(path: string): boolean {
  const top = path.split(/[.[]/)[0]!;
  return FIXED_INSTANCE_UPDATES[top] === 'stop';
}

/**
 * What the start after a user data change runs, in one wording wherever it is said: `deploy.sh nodes` (deploy.ts
 * userDataNotice), the review comment's "Fixed nodes this merge stops or replaces" (diff/lead-sections.ts), the AWS
 * impact of an instance's UserData (diff/aws-impact.ts MAYBE) and a distribution's own words for it
 * (Distribution.diff.fixedUserData): not the new user data, so the stop and start is for nothing unless the node is
 * replaced. Amazon EC2 user
 * guide, "Work with instance user data": "If you stop an instance, modify its user data, and start the instance, the
 * updated user data is not run when you start the instance". Plain words only: it is echoed inside double quotes.
 */
export const USER_DATA_NOT_RUN_ON_START = 'the new user data does not run on that start (EC2 runs user data at launch only): the stop and start is for nothing unless the node is replaced, and a replacement instance boots with it';
