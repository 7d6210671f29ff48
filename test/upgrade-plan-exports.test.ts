/**
 * Which AWS stack a change updates first when the nodes stack starts or stops importing an export of the base stack
 * (generators/upgrade-plan/exports.ts), read off the two rendered trees. An import of an export that does not exist
 * yet fails the nodes stack's update; an export still imported cannot be removed (AWS CloudFormation template
 * reference, "Fn::ImportValue"), so the base stack's update fails. With Git sync the merge starts both in no set
 * order: the plan names the stack to deploy first.
 */
import { describe, expect, it } from 'vitest';
import { resolveEnvironment } from '../generators/load/loader.js';
import { prepareEnvironment } from '../generators/pipeline.js';
import { formatPlan, upgradePlan } from '../generators/upgrade-plan/plan.js';
import { planSummaries } from '../generators/upgrade-plan/review.js';
import { exportChanges } from '../generators/upgrade-plan/exports.js';
import { fixtureSources, fixtureVariant } from './helpers.js';

const ENV = 'k3s-postgres';
const FILE = `environments/${ENV}.yaml`;
const ORIGINAL = fixtureSources('valid', `${ENV}.yaml`).sources.get(FILE)!;
/** A GPU pool: the base stack's GPU worker role and instance profile, whose name the nodes stack imports. */
const WITH_GPU = ORIGINAL.replace('\n  - name: workers\n', '\n  - name: gpu\n    role: worker\n    arch: amd64\n    gpu: { vendor: nvidia }\n    instanceType: g5.xlarge\n    subnet: private-a\n    count: 1\n    taints: [{ key: nvidia.com/gpu, value: present, effect: NoSchedule }]\n  - name: workers\n');

const { sourcesOf, tree } = fixtureVariant(ENV);
const plan = (from: string, to: string) => {
  const head = prepareEnvironment(ENV, sourcesOf(to)).prepared!;
  const base = resolveEnvironment(ENV, sourcesOf(from)).env!.data;
  return upgradePlan(base, head.model, head.data, undefined, undefined, undefined, undefined, exportChanges(ENV, tree(from), tree(to)));
};

describe('exports the nodes stack starts or stops importing', () => {
  it('read off the two trees: a new pool role adds its instance profile export; removing the pool removes it', () => {
    expect(exportChanges(ENV, tree(ORIGINAL), tree(WITH_GPU))).toStrictEqual({ added: ['fixture:GpuWorkerInstanceProfileName'], removed: [] });
    expect(exportChanges(ENV, tree(WITH_GPU), tree(ORIGINAL))).toStrictEqual({ added: [], removed: ['fixture:GpuWorkerInstanceProfileName'] });
    expect(exportChanges(ENV, tree(ORIGINAL), tree(ORIGINAL))).toStrictEqual({ added: [], removed: [] });
    // No stacks at the base (a new environment: the first deploy runs base, then nodes): nothing is known.
    expect(exportChanges(ENV, new Map(), tree(WITH_GPU))).toStrictEqual({ added: [], removed: [] });
  });

  it('the plan names the stack to update first, before merging', () => {
    const added = plan(ORIGINAL, WITH_GPU).steps.find((s) => s.gate === 'AWS base stack before the nodes stack');
    expect(added?.title).toBe('before merging: update the AWS base stack, which creates the exports the nodes stack now imports (fixture:GpuWorkerInstanceProfileName)');
    expect(added?.reason).toContain(`run sh rendered/${ENV}/aws/deploy.sh base, wait until it has finished, then sh rendered/${ENV}/aws/deploy.sh nodes (or merge)`);
    expect(added?.reason).toContain('With Git sync the merge starts both stacks’ updates in no set order');
    const removed = plan(WITH_GPU, ORIGINAL).steps.find((s) => s.gate === 'AWS nodes stack before the base stack');
    expect(removed?.reason).toContain(`run sh rendered/${ENV}/aws/deploy.sh nodes, wait until it has finished, then sh rendered/${ENV}/aws/deploy.sh base`);
    expect(formatPlan(plan(ORIGINAL, ORIGINAL))).not.toContain('AWS base stack before');
  });

  it('the review comment (npm run diff --format markdown) carries it', () => {
    const text = planSummaries(sourcesOf(ORIGINAL), sourcesOf(WITH_GPU), [ENV], { base: tree(ORIGINAL), head: tree(WITH_GPU) }).join('\n');
    expect(text).toContain('before merging: update the AWS base stack, which creates the exports the nodes stack now imports');
  });
});
