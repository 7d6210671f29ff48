/**
 * A pool's instance refresh (generators/infra/aws/roll.ts): EC2 Auto Scaling keeps the group between the minimum
 * and maximum healthy percentages of its desired capacity while it replaces instances ("A large range increases
 * the number of instances that can be replaced at the same time": API reference, InstanceMaintenancePolicy /
 * RefreshPreferences). At minimum 100 the batch is the room above 100 %: the 200 % rendered before launched a
 * whole pool's replacements and then terminated (drained) every old instance together. Over every valid fixture
 * and pool sizes up to 100: one instance at a time where the room is a whole instance, never more than two.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { maxHealthyPercentage, rollBatch, rollWords } from '../generators/infra/aws/roll.js';
import { FIXTURES, fixtureSources, fixtureVariant, formatted } from './helpers.js';

type Doc = Record<string, any>;
const VALID = readdirSync(join(FIXTURES, 'valid')).filter((f) => f.endsWith('.yaml')).sort();

function groups(text: string): Doc[] {
  const t = parseYamlStream(text)[0] as Doc;
  return Object.values(t.Resources as Record<string, Doc>).filter((r) => r.Type === 'AWS::AutoScaling::AutoScalingGroup');
}

/** Instances the refresh may replace at once, whichever way AWS rounds a fraction (the larger). */
const batchOf = (asg: Doc): number => {
  const p = asg.UpdatePolicy.AutoScalingInstanceRefresh.Preferences;
  expect(p.MinHealthyPercentage).toBe(100);
  expect(p.MaxHealthyPercentage - p.MinHealthyPercentage).toBeLessThanOrEqual(100);
  return rollBatch(Number(asg.Properties.DesiredCapacity), p.MaxHealthyPercentage)[1];
};

describe('a pool rolls in bounded batches', () => {
  for (const file of VALID)
    it(`${file}: each group replaces at most two instances at a time, one where 100 % / size is whole`, () => {
      const { name, sources } = fixtureSources('valid', file);
      const r = prepareEnvironment(name, sources);
      if (!r.prepared) throw new Error(formatted(r).join('\n'));
      const text = renderEnvironment(r.prepared).find((f) => f.path === 'aws/nodes.yaml')?.content;
      if (text === undefined) return;
      for (const asg of groups(text)) {
        const n = Number(asg.Properties.DesiredCapacity);
        expect(batchOf(asg)).toBe(100 % n === 0 ? 1 : 2);
      }
    });

  it('a pool of ten GPU nodes: 110 %, one replacement at a time (not ten launched and ten drained together)', () => {
    const { tree } = fixtureVariant('k3s-flux');
    const { sources } = fixtureSources('valid', 'k3s-flux.yaml');
    const env = sources.get('environments/k3s-flux.yaml')!.replace(/(name: general-amd64[\s\S]*?count: )2/, '$110');
    const files = tree(env);
    const asg = groups(files.get('k3s-flux/aws/nodes.yaml')!).find((g) => g.Properties.AutoScalingGroupName.endsWith('general-amd64'))!;
    expect(asg.Properties.DesiredCapacity).toBe('10');
    expect(asg.UpdatePolicy.AutoScalingInstanceRefresh.Preferences).toStrictEqual({ MinHealthyPercentage: 100, MaxHealthyPercentage: 110, InstanceWarmup: 300, SkipMatching: true });
    expect(batchOf(asg)).toBe(1);
  });

  it('sizes 1, 2 and N: launch first (200 %, 150 %, 100 + ⌈100/N⌉ %), one replacement at a time, the pool never below its size', () => {
    expect([1, 2, 4, 10].map((n) => [maxHealthyPercentage(n), rollBatch(n, maxHealthyPercentage(n))])).toStrictEqual([
      [200, [1, 1]],
      [150, [1, 1]],
      [125, [1, 1]],
      [110, [1, 1]],
    ]);
  });

  // Two pools changing in one update roll at the same time, on purpose (design notes, "Pools roll one instance at a
  // time"): CloudFormation updates resources with no dependency between them in parallel (template reference, "DependsOn
  // attribute"), and each group keeps MinHealthyPercentage 100, so neither pool is ever below its size.
  it('two pools in one update: no DependsOn between the groups (rolled in parallel), each kept at 100 % of its size', () => {
    const { sources } = fixtureSources('valid', 'k3s-flux.yaml');
    const r = prepareEnvironment('k3s-flux', sources);
    if (!r.prepared) throw new Error(formatted(r).join('\n'));
    const t = parseYamlStream(renderEnvironment(r.prepared).find((f) => f.path === 'aws/nodes.yaml')!.content)[0] as Doc;
    const ids = Object.keys(t.Resources).filter((k) => t.Resources[k].Type === 'AWS::AutoScaling::AutoScalingGroup');
    expect(ids.length).toBeGreaterThanOrEqual(2);
    for (const id of ids) {
      expect([id, (t.Resources[id].DependsOn ?? []).filter((d: string) => ids.includes(d))]).toStrictEqual([id, []]);
      expect(t.Resources[id].UpdatePolicy.AutoScalingInstanceRefresh.Preferences.MinHealthyPercentage).toBe(100);
    }
  });

  it('every size from 1 to 100: a valid maximum (100–200), a batch of one or two, never zero', () => {
    for (let n = 1; n <= 100; n++) {
      const max = maxHealthyPercentage(n);
      expect(max).toBeGreaterThan(100);
      expect(max).toBeLessThanOrEqual(200);
      const [low, high] = rollBatch(n, max);
      expect(low).toBe(1);
      expect(high).toBe(100 % n === 0 ? 1 : 2);
      expect(rollWords(n, max)).toMatch(100 % n === 0 ? /^one instance at a time$/ : /^1 or 2 instances at a time/);
    }
    // The old setting, for the record: the whole pool at once.
    expect(rollBatch(10, 200)).toStrictEqual([10, 10]);
  });
});
