/**
 * A distribution and an engine the repository does not know, from test/fixtures/toy/, registered at
 * run time: an environment using both validates against the schema composed with their fragments
 * (not the build's precompiled validator) and renders through the normal pipeline. No other file changes.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDistribution } from '../generators/distributions/registry.js';
import { diffTrees } from '../generators/diff/diff.js';
import { formatText } from '../generators/diff/format.js';
import { registerEngine } from '../generators/engines/registry.js';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { deliveryPlan } from '../generators/plan/index.js';
import { environmentSchemaText, SCHEMA_FILE } from '../generators/schema/compose.js';
import { precompiledName, PRECOMPILED_DIR } from '../generators/validate/schema.js';
import { formatDiagnostic } from '../generators/validate/diagnostics.js';
import { FIXTURES, ROOT } from './helpers.js';
import { toy } from './fixtures/toy/distribution.js';
import { toycd } from './fixtures/toy/engine.js';

/** The fixtures' bases and lock, and the toy environment (with its text edited). */
function sources(edit: (text: string) => string = (t) => t): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of readdirSync(FIXTURES)) if (f.endsWith('.yaml') || f.endsWith('.json')) out.set(`environments/${f}`, readFileSync(join(FIXTURES, f), 'utf8'));
  out.set('environments/toy.yaml', edit(readFileSync(join(FIXTURES, 'toy', 'toy.yaml'), 'utf8')));
  out.set('environments/toy.ssm.lock.json', out.get('environments/_fixture.ssm.lock.json')!);
  return out;
}

const errors = (s: Map<string, string>) => prepareEnvironment('toy', s).diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
const render = (s: Map<string, string>) => new Map(renderEnvironment(prepareEnvironment('toy', s).prepared!).map((f) => [f.path, f.content]));

describe('without the toy registered', () => {
  it('the schema refuses its distribution and engine', () => {
    expect(errors(sources())).toEqual(
      expect.arrayContaining([
        "environments/toy.yaml:7:17  cluster.distribution: 'toy' is not allowed; expected one of: talos, k3s, rke2",
        "environments/toy.yaml:5:9  gitops: 'toycd' is not allowed; expected one of: argocd, flux",
        expect.stringMatching(/^environments\/toy\.yaml:9:3 {2}cluster\.toyVersion: unknown key 'toyVersion'/),
      ]),
    );
  });
});

describe('a toy distribution and a toy engine registered at run time', () => {
  const unregister: (() => void)[] = [];
  beforeAll(() => {
    unregister.push(registerDistribution(toy), registerEngine(toycd));
  });
  afterAll(() => {
    for (const u of unregister.reverse()) u();
  });

  it('compose into the schema, which is not the committed one, and no precompiled validator is used for it', () => {
    const text = environmentSchemaText();
    const schema = JSON.parse(text) as { properties: { cluster: { properties: Record<string, { enum?: string[] }> }; gitops: { enum: string[] } } };
    expect(schema.properties.cluster.properties.distribution!.enum).toContain('toy');
    expect(Object.keys(schema.properties.cluster.properties)).toEqual(expect.arrayContaining(['toyVersion', 'toy']));
    expect(schema.properties.gitops.enum).toContain('toycd');
    expect(text).not.toBe(readFileSync(join(ROOT, SCHEMA_FILE), 'utf8'));
    // The build's standalone validator is named after the schema text it was compiled from: the one for
    // the committed registry is never picked for this one, which is compiled at run time.
    expect(precompiledName(text)).not.toBe(precompiledName(readFileSync(join(ROOT, SCHEMA_FILE), 'utf8')));
    expect(existsSync(join(PRECOMPILED_DIR, precompiledName(text)))).toBe(false);
  });

  it('an environment on both validates: the fragments check their own keys', () => {
    expect(errors(sources())).toStrictEqual([]);
    expect(errors(sources((t) => t.replace('toyVersion: t7', 'toyVersion: x7')))).toStrictEqual([expect.stringMatching(/^environments\/toy\.yaml:9:15 {2}cluster\.toyVersion: /)]);
    expect(errors(sources((t) => t.replace('toy: { greeting: hi }', 'toy: { greting: hi }')))).toStrictEqual([
      "environments/toy.yaml:25:12  nodePools[1].toy.greting: unknown key 'greting'; expected one of: greeting  (did you mean 'greeting'?)",
    ]);
  });

  it('renders through the normal pipeline: one node config per target, one object per delivery unit, the README', () => {
    const files = render(sources());
    const paths = [...files.keys()];
    const yaml = (p: string) => parseYamlStream(files.get(p)!)[0] as Record<string, unknown>;
    expect(paths.filter((p) => p.startsWith('toy/')).sort()).toStrictEqual(['toy/cp-1.yaml', 'toy/workers.yaml']);
    expect(yaml('toy/cp-1.yaml')).toStrictEqual({ node: 'cp-1', role: 'controlplane', arch: 'amd64', release: 't7', motd: 'welcome to the toy', labels: {}, taints: [] });
    expect(yaml('toy/workers.yaml')).toMatchObject({ node: 'workers', role: 'worker', arch: 'arm64', greeting: 'hi', labels: { tier: 'general' } });
    // Every unit of the plan is one ToyUnit, the engine's own add-on among them; its values file is rendered.
    const plan = deliveryPlan(prepareEnvironment('toy', sources()).prepared!.model);
    expect(paths.filter((p) => p.startsWith('toycd/') && p !== 'toycd/bootstrap.sh').sort()).toStrictEqual(plan.map((u) => `toycd/${u.name}.yaml`).sort());
    expect(yaml('toycd/toycd.yaml')).toMatchObject({ kind: 'ToyUnit', metadata: { name: 'toycd' }, spec: { chart: { name: 'toycd', version: '1.0.0', values: 'values/toycd.yaml' } } });
    expect(paths).toContain('values/toycd.yaml');
    expect(files.get('toycd/bootstrap.sh')).toContain('# Bootstrap ToyCD on toy');
    // Nothing of the built-in distributions and engines.
    expect(paths.filter((p) => /^(talos|k3s|rke2|argocd|apps|flux)\//.test(p))).toStrictEqual([]);
    const readme = files.get('README.md')!;
    expect(readme).toContain('## Toy nodes');
    expect(readme).toContain('Toy t7: 2 node configs under `toy/`; ToyCD delivers the rest.');
    expect(readme).toContain('## ToyCD delivery');
    expect(readme).toContain('| Cluster | `fixture` (Toy t7) |');
    expect(readme).toContain('| Datastore | etcd (toy-managed) |');
  });

  it('the AWS layer renders its nodes from the toy distribution’s facts (Distribution.aws): image, ports, user data', () => {
    const files = render(sources());
    const doc = (p: string) => parseYamlStream(files.get(p)!)[0] as { Parameters: Record<string, { Description: string }>; Resources: Record<string, { Type: string; Properties: Record<string, any> }> };
    const nodes = doc('aws/nodes.yaml');
    // One image per class the toy names (one per arch), from its public parameter.
    expect(nodes.Parameters.ImageArm64!.Description).toContain('SSM /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64');
    // Its node config is the user data, of the fixed node and of the pool's launch template (instances join by themselves: no
    // launch lifecycle hook; the one hook is the core's drain before termination, infra/aws/drain.ts, whatever the distribution).
    expect(nodes.Resources.NodeCp1!.Properties.UserData).toStrictEqual({ 'Fn::Base64': expect.stringMatching(/^#toy\n[^]*node: cp-1\n/) });
    expect(nodes.Resources.PoolWorkersLaunchTemplate!.Properties.LaunchTemplateData.UserData).toStrictEqual({ 'Fn::Base64': expect.stringContaining('greeting: hi') });
    expect(nodes.Resources.PoolWorkersGroup!.Properties.LifecycleHookSpecificationList.map((h: { LifecycleTransition: string }) => h.LifecycleTransition)).toStrictEqual(['autoscaling:EC2_INSTANCE_TERMINATING']);
    // Its ports are the security groups' rules, and no join script is rendered.
    const ingress = Object.values(doc('aws/base.yaml').Resources).filter((r) => r.Type === 'AWS::EC2::SecurityGroupIngress').map((r) => `${r.Properties.FromPort}/${r.Properties.IpProtocol}`);
    expect(ingress).toEqual(expect.arrayContaining(['6443/tcp', '10250/tcp', '8472/udp']));
    expect([...files.keys()].filter((p) => p.startsWith('aws/')).sort()).toStrictEqual(['aws/base.deployment.yaml', 'aws/base.yaml', 'aws/deploy.sh', 'aws/enable-git-sync.sh', 'aws/git-sync.yaml', 'aws/nodes.deployment.yaml', 'aws/nodes.yaml', 'aws/ssm-parameters.sh']);
  });

  it('the diff asks the toy distribution for its node impact', () => {
    const prefixed = (m: Map<string, string>) => new Map([...m].map(([p, c]) => [`toy/${p}`, c]));
    const d = diffTrees(prefixed(render(sources())), prefixed(render(sources((t) => t.replace('welcome to the toy', 'goodbye')))));
    expect((d.envs[0] as unknown as { toy: string[] }).toy).toStrictEqual(['cp-1', 'workers']);
    expect(formatText(d, { base: 'a', head: 'b' })).toContain('Toy: reboot cp-1\nToy: reboot workers\n');
  });
});

describe('after unregistering', () => {
  it('the composition is the committed schema again', () => {
    expect(environmentSchemaText()).toBe(readFileSync(join(ROOT, SCHEMA_FILE), 'utf8'));
  });
});
