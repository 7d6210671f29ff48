/**
 * What a nodes-stack update does to running nodes. CloudFormation "creates, updates, and deletes resources in
 * parallel to the extent possible" and only a dependency (DependsOn, Ref, Fn::GetAtt) orders two of them (AWS
 * CloudFormation template reference, "DependsOn attribute"). A change every control plane shares — the pool's
 * InstanceType or every server's UserData ("Update requires: Some interruptions": a stop and start), a root
 * volume (a replacement) — stopped them all at once: etcd lost its quorum, the API went. Over every valid
 * fixture: no two control planes (and no two fixed nodes of one pool) can be in one parallel wave of an update.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { FIXTURES, fixtureSources, formatted } from './helpers.js';

type Doc = Record<string, any>;
const VALID = readdirSync(join(FIXTURES, 'valid')).filter((f) => f.endsWith('.yaml')).sort();

function nodesTemplate(file: string): Doc {
  const { name, sources } = fixtureSources('valid', file);
  const r = prepareEnvironment(name, sources);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  const text = renderEnvironment(r.prepared).find((f) => f.path === 'aws/nodes.yaml')?.content;
  if (text === undefined) throw new Error(`${file}: no aws/nodes.yaml`);
  return parseYamlStream(text)[0] as Doc;
}

/** The resources a resource waits for: its DependsOn and every Ref / Fn::GetAtt of another resource. */
function dependencies(r: Doc, ids: Set<string>): string[] {
  const out = new Set<string>(r.DependsOn ?? []);
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (v === null || typeof v !== 'object') return;
    const o = v as Doc;
    if (typeof o.Ref === 'string' && ids.has(o.Ref)) out.add(o.Ref);
    if (Array.isArray(o['Fn::GetAtt']) && ids.has(o['Fn::GetAtt'][0])) out.add(o['Fn::GetAtt'][0]);
    Object.values(o).forEach(walk);
  };
  walk(r.Properties);
  return [...out];
}

/** Whether CloudFormation orders a and b (a path of dependencies one way or the other): never in one wave. */
function ordered(resources: Record<string, Doc>, a: string, b: string): boolean {
  const ids = new Set(Object.keys(resources));
  const reaches = (from: string, to: string): boolean => {
    const seen = new Set<string>();
    const stack = [from];
    while (stack.length > 0) {
      const x = stack.pop()!;
      if (x === to) return true;
      if (seen.has(x)) continue;
      seen.add(x);
      stack.push(...dependencies(resources[x]!, ids));
    }
    return false;
  };
  return reaches(a, b) || reaches(b, a);
}

const tag = (r: Doc, key: string): string | undefined => (r.Properties?.Tags as { Key: string; Value: string }[] | undefined)?.find((t) => t.Key === key)?.Value;

describe('a nodes-stack update never stops or replaces two control planes (or two fixed nodes of a pool) at once', () => {
  it.each(VALID)('%s', (file) => {
    const resources = nodesTemplate(file).Resources as Record<string, Doc>;
    const instances = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::EC2::Instance');
    const cps = instances.filter(([, r]) => tag(r, 'odp:role') === 'controlplane').map(([id]) => id);
    // Every valid fixture has its control planes as instances (rule controlplane-fixed).
    expect(cps.length, file).toBeGreaterThan(0);
    const groups = [cps, ...[...new Set(instances.map(([, r]) => tag(r, 'odp:pool')))].map((pool) => instances.filter(([, r]) => tag(r, 'odp:pool') === pool).map(([id]) => id))];
    for (const group of groups)
      for (const [i, a] of group.entries())
        for (const b of group.slice(i + 1)) expect(ordered(resources, a, b), `${file}: ${a} and ${b} are updated in parallel`).toBe(true);
  });

  it('the chain is in node order and follows a replaced node’s new logical id', () => {
    const { name, sources } = fixtureSources('valid', 'rke2-etcd.yaml');
    const file = `environments/${name}.yaml`;
    const text = sources.get(file)!;
    const cps = [...text.matchAll(/\{ name: (cp-\d), ip: ([0-9.]+)(?:, [^}]*)? \}/g)];
    expect(cps.length, 'the fixture lists its control planes inline').toBeGreaterThan(2);
    const edited = text.replace(`{ name: ${cps[1]![1]}, ip: ${cps[1]![2]}`, `{ name: ${cps[1]![1]}, ip: ${cps[1]![2]}, replacement: 1`);
    const r = prepareEnvironment(name, new Map([...sources, [file, edited]]));
    if (!r.prepared) throw new Error(formatted(r).join('\n'));
    const t = parseYamlStream(renderEnvironment(r.prepared).find((f) => f.path === 'aws/nodes.yaml')!.content)[0] as Doc;
    const ids = Object.entries(t.Resources as Record<string, Doc>).filter(([, x]) => x.Type === 'AWS::EC2::Instance' && tag(x, 'odp:role') === 'controlplane');
    expect(ids.map(([id, x]) => [id, x.DependsOn])).toStrictEqual([
      ['NodeCp1', undefined],
      ['NodeCp2R1', ['NodeCp1']],
      ['NodeCp3', ['NodeCp2R1']],
    ]);
  });
});
