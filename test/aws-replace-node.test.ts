/**
 * Replacing a lost fixed node (generators/infra/aws/stacks.ts nodeLogicalId, readme.ts replaceText): raising
 * `nodePools[].nodes[].replacement` renames the node's instance resource and changes nothing else, so the update
 * creates a new instance and deletes the old resource (AWS CloudFormation user guide, "Understand update behaviors
 * of stack resources"); the instance-id output keeps its name; the README names each distribution's cluster side.
 */
import { describe, expect, it } from 'vitest';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { awsPlan } from '../generators/infra/aws/plan.js';
import { nodesTemplate } from '../generators/infra/aws/stacks.js';
import { fixtureSources, renderExample } from './helpers.js';

const POOLS = (cp: string) => `nodePools:
  - name: cp
    role: controlplane
    arch: amd64
    instanceType: m7i.large
    subnet: private-a
    nodes: [${cp}]
`;
const prepare = (body: string, fixture = 'minimal.yaml') => {
  const { sources } = fixtureSources('valid', fixture);
  sources.set('environments/p.yaml', `name: p\nextends: _fixture\n${body}`);
  return prepareEnvironment('p', sources);
};
const errors = (r: ReturnType<typeof prepare>) => r.diagnostics.filter((d) => d.severity === 'error');
const template = (body: string) => {
  const r = prepare(body);
  expect(errors(r)).toStrictEqual([]);
  return nodesTemplate(awsPlan(r.prepared!.model)) as { Resources: Record<string, { Type: string; Properties: unknown }>; Outputs: Record<string, { Value: unknown }> };
};

describe('nodePools[].nodes[].replacement', () => {
  it('renames only the instance resource (Node<X>R<n>), with the same properties; the instance-id output keeps its name and follows it', () => {
    const before = template(POOLS('{ name: cp-1, ip: 10.10.1.10 }'));
    const after = template(POOLS('{ name: cp-1, ip: 10.10.1.10, replacement: 1 }'));
    expect(Object.keys(before.Resources).filter((k) => k.startsWith('NodeCp1'))).toStrictEqual(['NodeCp1']);
    expect(Object.keys(after.Resources).filter((k) => k.startsWith('NodeCp1'))).toStrictEqual(['NodeCp1R1']);
    expect(after.Resources.NodeCp1R1).toStrictEqual(before.Resources.NodeCp1);
    expect(before.Outputs.NodeCp1InstanceId!.Value).toStrictEqual({ Ref: 'NodeCp1' });
    expect(after.Outputs.NodeCp1InstanceId!.Value).toStrictEqual({ Ref: 'NodeCp1R1' });
    const { NodeCp1: _b, ...restBefore } = before.Resources;
    const { NodeCp1R1: _a, ...restAfter } = after.Resources;
    expect(restAfter).toStrictEqual(restBefore);
    expect(Object.keys(template(POOLS('{ name: cp-1, ip: 10.10.1.10, replacement: 2 }')).Resources)).toContain('NodeCp1R2');
  });

  it('is refused below 1 or when it is no integer, at its line', () => {
    for (const v of ['0', '1.5', 'two']) {
      const r = prepare(POOLS(`{ name: cp-1, ip: 10.10.1.10, replacement: ${v} }`));
      const e = errors(r);
      expect(e.length).toBeGreaterThan(0);
      expect(e[0]!.path).toStrictEqual(['nodePools', 0, 'nodes', 0, 'replacement']);
      expect([e[0]!.file, e[0]!.line]).toStrictEqual(['environments/p.yaml', 9]);
    }
  });

  it('a replacement id that another node\'s name gives is refused by rule aws.logical-id', () => {
    const r = prepare(POOLS('{ name: cp-1, ip: 10.10.1.10, replacement: 1 }, { name: cp-1-r1, ip: 10.10.1.11 }, { name: cp-3, ip: 10.10.1.12 }'));
    expect(errors(r).map((d) => d.rule)).toContain('aws.logical-id');
  });
});

describe('the README\'s replacement step', () => {
  const step = (env: string): string => {
    const readme = renderExample(env).find((f) => f.path === 'README.md')!.content;
    const start = readme.indexOf('**Replacing a lost fixed node**');
    expect(start).toBeGreaterThan(0);
    return readme.slice(start, readme.indexOf('\n\n', readme.indexOf('3. Raise', start)));
  };

  it('terminates first, names the cluster side per node from the distribution, then raises the key', () => {
    const s = step('prod');
    expect(s).toContain('`sh rendered/prod/aws/deploy.sh terminate-node <node>`');
    expect(s).toMatch(/- `prod-cp-1`: remove its etcd member from a healthy control plane .*talosctl -n <healthy control plane> etcd remove-member <id>/);
    expect(s).toMatch(/- `prod-gpu-1`: delete its old Node .*apply its config with `--insecure`/);
    expect(s).not.toMatch(/- `prod-gpu-1`: remove its etcd member/);
    expect(s).toContain('`NodeProdCp1R1`');
    expect(s.indexOf('1. If its instance')).toBeLessThan(s.indexOf('2. The cluster side'));
    expect(s.indexOf('2. The cluster side')).toBeLessThan(s.indexOf('3. Raise'));
  });
});

describe('each distribution\'s cluster side (DistributionAwsFacts.replaceNode)', () => {
  const factsOf = (file: string) => {
    const { name, sources } = fixtureSources('valid', file);
    const r = prepareEnvironment(name, sources);
    expect(errors(r)).toStrictEqual([]);
    const p = awsPlan(r.prepared!.model);
    const node = (role: string) => p.pools.flatMap((pp) => pp.pool.nodes).find((n) => n.role === role);
    return { p, node, text: (role: string) => p.facts.replaceNode(p.model, node(role)!) };
  };

  it('RKE2 on embedded etcd: a server runs replace-server.sh first (its etcd member), then the Node goes', () => {
    const f = factsOf('rke2-etcd.yaml');
    const cp = f.node('controlplane')!;
    expect(f.text('controlplane')).toContain(`\`sh ${f.p.model.renderedDir}/rke2/replace-server.sh ${cp.name}\``);
    expect(f.text('controlplane')).toContain(`the Node whose InternalIP is ${cp.ip}`);
  });

  it('RKE2 and K3s on Kine PostgreSQL: nothing to remove from the datastore; K3s on SQLite restores the Litestream replica', () => {
    expect(factsOf('rke2-postgres.yaml').text('controlplane')).toMatch(/^the datastore is the Kine PostgreSQL database.*: nothing to remove; delete its old Node/);
    // RKE2 on Kine: no etcd member, so the etcd step is skipped, said so, and its script is not rendered.
    expect(factsOf('rke2-postgres.yaml').text('controlplane')).toContain('it has no member to remove, so the member step (replace-server.sh) is skipped and not rendered');
    const kine = fixtureSources('valid', 'rke2-postgres.yaml');
    const prepared = prepareEnvironment(kine.name, kine.sources).prepared!;
    expect(renderEnvironment(prepared).map((f) => f.path).filter((p) => p.includes('replace-server'))).toStrictEqual([]);
    expect(factsOf('k3s-postgres.yaml').text('controlplane')).toMatch(/^the datastore is the Kine PostgreSQL database.*: nothing to remove; delete its old Node/);
    const sqlite = renderExample('dev-k3s').find((f) => f.path === 'README.md')!.content;
    expect(sqlite).toMatch(/: the new server restores the Litestream replica before K3s starts .*the old instance must be terminated first/);
  });
});
