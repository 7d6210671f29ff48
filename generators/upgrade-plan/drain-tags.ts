/**
 * Pool instances a change leaves untagged for the drain handler (infra/aws/drain.ts), read off the two rendered
 * trees' nodes stacks. The AWS Node Termination Handler acts only on instances carrying its per-cluster tag: it
 * drops (and deletes) the event of an untagged one (aws/aws-node-termination-handler v1.25.6
 * pkg/monitor/sqsevent/sqs-monitor.go:266-269, the tag read at :433-441), so the instance's termination waits the
 * EC2_INSTANCE_TERMINATING hook's timeout and goes on undrained. A group propagates the tag only to the instances it
 * launches after the tag was added (`PropagateAtLaunch`), so a change that brings the hook and the tag to a group
 * whose base did not propagate it leaves every running instance untagged; when the same change also changes the
 * group's launch template (or the AMI parameter it reads), the instance refresh terminates every one of them.
 *
 * `deploy.sh nodes` tags them itself before the stack update (infra/aws/deploy.ts drainTagsFirst); with Git sync no
 * script runs and the merge updates the stack, so `deploy.sh drain-tags` must run before the merge: the plan says so
 * first. What the trees cannot show: instances launched before an earlier change that already brought the tag (the
 * base's group propagates it, its older instances may still be untagged): no step then. Pure: files in, groups out.
 */
import { NODE_TERMINATION } from '../catalog/aws-node-termination-handler.js';
import { splitFile } from '../diff/documents.js';
import { TERMINATING_HOOK } from '../infra/aws/drain.js';
import type { EnvironmentModel } from '../model/types.js';
import type { PlanStep } from './plan.js';

export interface UntaggedGroup {
  /** The auto-scaling group's name. */
  group: string;
  /** The change also changes its launch template or image: the instance refresh replaces every running instance. */
  rolls: boolean;
}

const NODES_STACK = 'aws/nodes.yaml';
const NODES_DEPLOYMENT = 'aws/nodes.deployment.yaml';

type Doc = Record<string, unknown>;
const isRecord = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);

function firstDoc(path: string, files: ReadonlyMap<string, string>): Doc | undefined {
  const text = files.get(path);
  const doc = text === undefined ? undefined : splitFile(path, text)[0]?.value;
  return isRecord(doc) ? doc : undefined;
}

/** group name → its resource, its launch template's data and its image parameter's value, from one tree. */
function groupsOf(env: string, files: ReadonlyMap<string, string>): Map<string, { asg: Doc; template: string; image: unknown }> {
  const out = new Map<string, { asg: Doc; template: string; image: unknown }>();
  const stack = firstDoc(`${env}/${NODES_STACK}`, files);
  const resources = stack && isRecord(stack.Resources) ? stack.Resources : {};
  const params = firstDoc(`${env}/${NODES_DEPLOYMENT}`, files)?.parameters;
  for (const r of Object.values(resources)) {
    if (!isRecord(r) || r.Type !== 'AWS::AutoScaling::AutoScalingGroup' || !isRecord(r.Properties) || typeof r.Properties.AutoScalingGroupName !== 'string') continue;
    const ltRef = isRecord(r.Properties.LaunchTemplate) && isRecord(r.Properties.LaunchTemplate.LaunchTemplateId) ? r.Properties.LaunchTemplate.LaunchTemplateId.Ref : undefined;
    const lt = typeof ltRef === 'string' ? resources[ltRef] : undefined;
    const data = isRecord(lt) && isRecord(lt.Properties) ? lt.Properties.LaunchTemplateData : undefined;
    const imageRef = isRecord(data) && isRecord(data.ImageId) ? data.ImageId.Ref : undefined;
    out.set(r.Properties.AutoScalingGroupName, { asg: r.Properties, template: JSON.stringify(data ?? null), image: typeof imageRef === 'string' && isRecord(params) ? params[imageRef] : undefined });
  }
  return out;
}

const hasDrainHook = (asg: Doc): boolean =>
  Array.isArray(asg.LifecycleHookSpecificationList) && asg.LifecycleHookSpecificationList.some((h) => isRecord(h) && h.LifecycleHookName === TERMINATING_HOOK.name && h.LifecycleTransition === 'autoscaling:EC2_INSTANCE_TERMINATING');
const propagates = (asg: Doc, tag: string): boolean => Array.isArray(asg.Tags) && asg.Tags.some((t) => isRecord(t) && t.Key === tag && t.PropagateAtLaunch === true);

/**
 * The head's groups with the drain hook and the handler's tag propagated whose base group exists without the tag
 * propagated (its running instances were launched untagged). Empty without both nodes stacks (no rendered tree at
 * the base, an environment without its AWS layer): nothing is known. `m`: the head's model (the tag's cluster).
 */
export function untaggedGroups(m: EnvironmentModel, base: ReadonlyMap<string, string>, head: ReadonlyMap<string, string>): UntaggedGroup[] {
  const env = m.name;
  const tag = NODE_TERMINATION.managedTag(m);
  if (!base.has(`${env}/${NODES_STACK}`) || !head.has(`${env}/${NODES_STACK}`)) return [];
  const before = groupsOf(env, base);
  const out: UntaggedGroup[] = [];
  for (const [group, after] of groupsOf(env, head)) {
    const was = before.get(group);
    // A new group launches its instances with the tag; a base group that propagated it launched tagged instances.
    if (!was || !hasDrainHook(after.asg) || !propagates(after.asg, tag) || propagates(was.asg, tag)) continue;
    out.push({ group, rolls: was.template !== after.template || was.image !== after.image });
  }
  return out.sort((a, b) => a.group.localeCompare(b.group));
}

/** The plan's first step when a change leaves running pool instances untagged for the drain handler. */
export function drainTagSteps(m: EnvironmentModel, groups: readonly UntaggedGroup[] | undefined): PlanStep[] {
  if (!groups || groups.length === 0) return [];
  const env = m.name;
  const tag = NODE_TERMINATION.managedTag(m);
  const rolling = groups.filter((g) => g.rolls).map((g) => g.group);
  const names = groups.map((g) => g.group).join(', ');
  const script = `sh rendered/${env}/aws/deploy.sh`;
  const dropped = `the handler drops the termination events of an instance without its tag ${tag} (NTH v1.25.6 sqs-monitor.go:266-269), so such an instance waits the hook's ${TERMINATING_HOOK.heartbeatSeconds} s and is terminated undrained, PodDisruptionBudgets not consulted`;
  const what =
    rolling.length > 0
      ? `this change also changes the launch template of ${rolling.join(', ')}: the instance refresh replaces every running instance there, each terminated undrained`
      : 'this change does not replace them, but their next termination (scale-in, Spot, an operator\'s terminate, the next refresh) goes undrained until they are tagged';
  return [
    {
      title: `before merging: tag the running instances of ${names} for the drain handler (${script} drain-tags)`,
      gate: 'drain tags first',
      verdict: 'caution',
      reason: `this change brings the ${TERMINATING_HOOK.name} hook and the tag to ${groups.length === 1 ? 'a group' : 'groups'} whose running instances were launched without the tag (the base's ${groups.length === 1 ? 'group does' : 'groups do'} not propagate it); ${dropped}; ${what}. With Git sync the merge updates the nodes stack: run ${script} drain-tags (idempotent) before merging. ${script} nodes runs it by itself before it updates the stack.`,
    },
  ];
}
