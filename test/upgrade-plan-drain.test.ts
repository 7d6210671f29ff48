/**
 * The plan's first step when a change brings the drain handler's hook and tag to pool groups whose running instances
 * were launched without the tag (generators/upgrade-plan/drain-tags.ts), read off the two rendered trees' nodes
 * stacks. The handler drops an untagged instance's events (aws/aws-node-termination-handler v1.25.6
 * pkg/monitor/sqsevent/sqs-monitor.go:266-269, tags read at :433-441): with Git sync (no script runs) the operator
 * runs `deploy.sh drain-tags` before the merge; `deploy.sh nodes` does it itself (test/aws-runbook.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { resolveEnvironment } from '../generators/load/loader.js';
import { prepareEnvironment } from '../generators/pipeline.js';
import { formatPlan, upgradePlan } from '../generators/upgrade-plan/plan.js';
import { planSummaries } from '../generators/upgrade-plan/review.js';
import { untaggedGroups } from '../generators/upgrade-plan/drain-tags.js';
import { fixtureSources, fixtureVariant } from './helpers.js';

const ENV = 'k3s-postgres';
const FILE = `environments/${ENV}.yaml`;
const ORIGINAL = fixtureSources('valid', `${ENV}.yaml`).sources.get(FILE)!;
/** The handler disabled: no hook, no tag (infra/aws/drain.ts). */
const NO_DRAIN = `${ORIGINAL}addons:\n  aws-node-termination-handler:\n    enabled: false\n`;
/** Another instance type for the pool: its launch template changes, the group's instance refresh replaces its instances. */
const bigger = (text: string) => text.replace('instanceType: m7i.xlarge', 'instanceType: m7i.2xlarge');

const { sourcesOf, tree } = fixtureVariant(ENV);
const plan = (from: string, to: string) => {
  const head = prepareEnvironment(ENV, sourcesOf(to)).prepared!;
  const base = resolveEnvironment(ENV, sourcesOf(from)).env!.data;
  return upgradePlan(base, head.model, head.data, undefined, undefined, undefined, untaggedGroups(head.model, tree(from), tree(to)));
};
const model = (text: string) => prepareEnvironment(ENV, sourcesOf(text)).prepared!.model;

describe('pool instances a change leaves without the drain handler\'s tag', () => {
  it('read off the two nodes stacks: the groups gaining the hook and the propagated tag, and whether the change replaces their instances', () => {
    expect(untaggedGroups(model(ORIGINAL), tree(NO_DRAIN), tree(ORIGINAL))).toStrictEqual([{ group: 'fixture-workers', rolls: false }]);
    expect(untaggedGroups(model(bigger(ORIGINAL)), tree(NO_DRAIN), tree(bigger(ORIGINAL)))).toStrictEqual([{ group: 'fixture-workers', rolls: true }]);
    // Another AMI (the lock's, a parameter of the nodes stack: its deployment file) replaces the instances too.
    const head = tree(ORIGINAL);
    const deployment = head.get(`${ENV}/aws/nodes.deployment.yaml`)!;
    expect(deployment).toMatch(/\n {2}ImageAmd64: ami-[0-9a-f]+\n/);
    head.set(`${ENV}/aws/nodes.deployment.yaml`, deployment.replace(/(\n {2}ImageAmd64: )ami-[0-9a-f]+\n/, '$1ami-0123456789abcdef0\n'));
    expect(untaggedGroups(model(ORIGINAL), tree(NO_DRAIN), head)).toStrictEqual([{ group: 'fixture-workers', rolls: true }]);
    // The base's groups propagated the tag already (their instances launched since carry it), or the head drops the hook: nothing.
    expect(untaggedGroups(model(bigger(ORIGINAL)), tree(ORIGINAL), tree(bigger(ORIGINAL)))).toStrictEqual([]);
    expect(untaggedGroups(model(NO_DRAIN), tree(ORIGINAL), tree(NO_DRAIN))).toStrictEqual([]);
    // No nodes stack at the base (no rendered tree there): nothing is known, no step.
    expect(untaggedGroups(model(ORIGINAL), new Map(), tree(ORIGINAL))).toStrictEqual([]);
  });

  it('the plan says it first, plainly: run deploy.sh drain-tags before merging, and that the refresh would terminate every old instance undrained', () => {
    const p = plan(NO_DRAIN, bigger(ORIGINAL));
    expect(p.steps[0]).toMatchObject({
      title: 'before merging: tag the running instances of fixture-workers for the drain handler (sh rendered/k3s-postgres/aws/deploy.sh drain-tags)',
      gate: 'drain tags first',
      verdict: 'caution',
    });
    const reason = p.steps[0]!.reason;
    expect(reason).toContain('the handler drops the termination events of an instance without its tag aws-node-termination-handler/fixture (NTH v1.25.6 sqs-monitor.go:266-269)');
    expect(reason).toContain('waits the hook\'s 300 s and is terminated undrained');
    expect(reason).toContain('this change also changes the launch template of fixture-workers: the instance refresh replaces every running instance there, each terminated undrained');
    expect(reason).toContain('With Git sync the merge updates the nodes stack: run sh rendered/k3s-postgres/aws/deploy.sh drain-tags (idempotent) before merging. sh rendered/k3s-postgres/aws/deploy.sh nodes runs it by itself');
    expect(formatPlan(p).split('\n')[1]).toBe('  1. before merging: tag the running instances of fixture-workers for the drain handler (sh rendered/k3s-postgres/aws/deploy.sh drain-tags)');
    // Without a roll: the same step, saying what is at stake later.
    expect(plan(NO_DRAIN, ORIGINAL).steps[0]!.reason).toContain('this change does not replace them, but their next termination (scale-in, Spot, an operator\'s terminate, the next refresh) goes undrained until they are tagged');
    // A roll of groups that propagated the tag before: no such step.
    expect(plan(ORIGINAL, bigger(ORIGINAL)).steps.map((s) => s.gate)).not.toContain('drain tags first');
  });

  it('the review comment (npm run diff --format markdown) lists it first', () => {
    const text = planSummaries(sourcesOf(NO_DRAIN), sourcesOf(bigger(ORIGINAL)), [ENV], { base: tree(NO_DRAIN), head: tree(bigger(ORIGINAL)) }).join('\n');
    expect(text.split('\n')[1]).toMatch(/^- ⚠️ before merging: tag the running instances of fixture-workers for the drain handler \(sh rendered\/k3s-postgres\/aws\/deploy\.sh drain-tags\) \(drain tags first\): /);
  });
});
