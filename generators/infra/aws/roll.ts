/**
 * How a pool's auto-scaling group replaces its instances when its launch template gets a new version
 * (the `AutoScalingInstanceRefresh` update policy, ./stacks.ts): the batch, and the words the diff and
 * the README say it in. Facts, as documented by AWS:
 *
 * - CloudFormation: "When properties that trigger an instance refresh change (such as LaunchTemplate or
 *   MixedInstancesPolicy), CloudFormation starts an instance refresh to replace instances gradually"
 *   (AWS CDK `CfnAutoScalingInstanceRefresh`, the CloudFormation UpdatePolicy's own text).
 * - MinHealthyPercentage: "the minimum percentage of the group to keep in service, healthy, and ready to use
 *   … Value range is 0 to 100"; the instance-refresh reference: "(rounded up to the nearest integer)"
 *   (EC2 Auto Scaling API reference, RefreshPreferences; InstanceMaintenancePolicy). 100 → no old instance
 *   goes before a replacement is in service.
 * - MaxHealthyPercentage: "the maximum percentage of the group that can be in service and healthy, or
 *   pending … Value range is 100 to 200 … the difference between them cannot be greater than 100. A large
 *   range increases the number of instances that can be replaced at the same time" (same references).
 *   So with minimum 100 the batch is the room above 100 %: maximum 200 (what was rendered before) let the
 *   whole pool launch at once and then every old instance terminate — be drained — together.
 * - How a fraction of an instance above 100 % is rounded is not documented (only the minimum's rounding
 *   up is). `maxHealthyPercentage` therefore asks for 100 + ⌈100 / N⌉ %: N·⌈100/N⌉/100 lies in [1, 2), so
 *   the room is one instance when 100/N is whole (N = 1, 2, 4, 5, 10, 20, 25, 50, 100) and one or two
 *   otherwise, whichever way AWS rounds — never the whole pool, never zero (a roll that cannot move).
 * - MaxSize: the AWS docs bound a replacement by MaxHealthyPercentage, "a percentage of the desired capacity", and
 *   say nothing of the group's MaxSize during one (InstanceMaintenancePolicy; Amazon EC2 Auto Scaling User Guide,
 *   "Instance maintenance policies"); MaxSize is "The maximum size of the group" and DesiredCapacity "must be equal to
 *   or greater than the minimum size of the group and less than or equal to the maximum size of the group"
 *   (AWS::AutoScaling::AutoScalingGroup). A group at MaxSize = desired size going above it for a refresh's new
 *   instances is behaviour no page documents, so the template does not rely on it: MaxSize = size + `poolSurge`, the
 *   room above 100 % rounded up (the larger of the two ways above), so either rounding fits under MaxSize. Nothing
 *   else uses that room: the group has no scaling policy (MinSize = DesiredCapacity = size, set by the template).
 * - A pool of 3: maximum 134 % is 4.02 instances, a room of 1.02: one replacement at a time if AWS rounds the room
 *   down, two if it rounds up (and MaxSize 5 allows both). No whole percentage gives exactly one for 3 (133 % is
 *   a room of 0.99: zero if rounded down, a refresh that cannot move), so the words say "1 or 2".
 * - An instance counts as in service only after the group's launch lifecycle hook let it go — once it
 *   joined the cluster (./facts.ts PoolJoin; "Pending:Wait" until CompleteLifecycleAction, EC2 Auto
 *   Scaling User Guide, "Amazon EC2 Auto Scaling lifecycle hooks") — and the refresh then waits the
 *   instance warmup before it moves on: "A time period, in seconds, during which an instance refresh
 *   waits before moving on to replacing the next instance after a new instance enters the InService state"
 *   (RefreshPreferences InstanceWarmup).
 */

/** The group's instance warmup (DefaultInstanceWarmup) and the refresh's (InstanceWarmup), seconds. */
export const INSTANCE_WARMUP_SECONDS = 300;

/** MaxHealthyPercentage for a pool of `count` instances: one replacement at a time (two when rounded up; above). */
export const maxHealthyPercentage = (count: number): number => Math.min(200, 100 + Math.ceil(100 / Math.max(1, count)));

/** Instances a pool of `count` may run above its size during a refresh: the room above 100 %, rounded up (above). */
export const poolSurge = (count: number): number => rollBatch(count, maxHealthyPercentage(count))[1];

/** The group's MaxSize: its size plus the surge (above: no undocumented excess over MaxSize). */
export const poolMaxSize = (count: number): number => count + poolSurge(count);

/** The refresh preferences of a pool of `count` instances (the update policy's Preferences). */
export const rollPreferences = (count: number) => ({
  MinHealthyPercentage: 100,
  MaxHealthyPercentage: maxHealthyPercentage(count),
  InstanceWarmup: INSTANCE_WARMUP_SECONDS,
  SkipMatching: true,
});

/**
 * Instances replaced at the same time for a group of `count` at minimum 100 % and maximum `maxPct` %:
 * `[low, high]` — equal when the room above 100 % is a whole number of instances, else the two ways of
 * rounding the fraction (AWS does not document which).
 */
export function rollBatch(count: number, maxPct: number): [number, number] {
  const room = (count * (maxPct - 100)) / 100;
  return [Math.max(1, Math.floor(room)), Math.max(1, Math.ceil(room))];
}

/** The roll in words, e.g. "one instance at a time" / "1 or 2 instances at a time". */
export function rollWords(count: number, maxPct: number): string {
  const [low, high] = rollBatch(count, maxPct);
  if (low === high) return low === 1 ? 'one instance at a time' : `${low} instances at a time`;
  return `${low} or ${high} instances at a time (EC2 Auto Scaling rounds a fraction of an instance above 100 % in a way it does not document)`;
}
