/** Subnet tiers and ALB placement (rule ingress-subnets, the subnets annotation) and IMDS egress. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { albSubnets, egressIpBlock } from '../generators/model/aws.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { formatDiagnostic } from '../generators/validate/diagnostics.js';
import { checkRenderedTree, fileCheckers } from '../generators/validate/rendered/registry.js';
import { parseRenderedTree } from '../generators/validate/rendered/tree.js';
import { FIXTURES, formatted, prepareExample, renderExample } from './helpers.js';

type Obj = Record<string, any>;

/** The fixture base plus `body` (YAML appended after `extends`), as environment `t`. */
function prepareFixture(body: string) {
  const sources = new Map<string, string>();
  sources.set('environments/_fixture.yaml', readFileSync(join(FIXTURES, '_fixture.yaml'), 'utf8'));
  sources.set('environments/t.ssm.lock.json', readFileSync(join(FIXTURES, '_fixture.ssm.lock.json'), 'utf8'));
  sources.set('environments/t.yaml', `name: t\nextends: _fixture\n${body}`);
  return prepareEnvironment('t', sources);
}

const errors = (r: ReturnType<typeof prepareFixture>): string[] => formatted(r).filter((l) => !l.includes(': warning: '));

const subnets = (list: string): string =>
  `aws:\n  vpc:\n    id: vpc-0123456789abcdef0\n    cidr: 10.10.0.0/16\n    subnets:\n${list
    .trim()
    .split('\n')
    .map((l) => `      - ${l.trim()}\n`)
    .join('')}`;

const portal = (ingress: string): string =>
  `workloads:\n  - name: portal\n    image: ghcr.io/opendev/portal:1.4.2\n    resources: { requests: { cpu: 100m, memory: 128Mi } }\n    ports: [{ name: http, port: 8080 }]\n    ingress: ${ingress}\n`;

const PRIVATE_A = '{ name: private-a, id: subnet-0aaa0000000000001, cidr: 10.10.1.0/24, zone: eu-west-1a }';

describe('albSubnets', () => {
  const list = [
    { name: 'private-b', id: 'subnet-b', zone: 'eu-west-1b' },
    { name: 'public-c', id: 'subnet-pc', zone: 'eu-west-1c', public: true },
    { name: 'private-a', id: 'subnet-a', zone: 'eu-west-1a' },
    { name: 'private-a2', id: 'subnet-a2', zone: 'eu-west-1a' },
    { name: 'public-a', id: 'subnet-pa', zone: 'eu-west-1a', public: true },
  ];
  it('picks the tier of the scheme, the first declared subnet per zone, ordered by zone', () => {
    expect(albSubnets(list, 'internal').map((s) => s.name)).toStrictEqual(['private-a', 'private-b']);
    expect(albSubnets(list, 'internet-facing').map((s) => s.name)).toStrictEqual(['public-a', 'public-c']);
    expect(albSubnets([list[0]!], 'internet-facing')).toStrictEqual([]);
  });
});

describe('rule ingress-subnets', () => {
  it('a defaulted (internal) scheme is reported at the ingress key, naming the private subnets there are', () => {
    const r = prepareFixture(portal('{ host: portal.fixture.example }'));
    expect(errors(r)).toStrictEqual([
      "environments/t.yaml:8:5  workloads[0].ingress: the internal ALB of workload 'portal' needs private subnets in at least 2 Availability Zones, but aws.vpc.subnets has private subnets in 1 zone only: private-a (eu-west-1a) (public: none); missing: private subnets in 1 more zone  (add a private subnet in another zone to aws.vpc.subnets, e.g. { name: private-b, id: { ssm: /odp/t/network/subnet-private-b }, cidr: …, zone: eu-west-1b })",
    ]);
  });

  it('two subnets of the tier in one zone count once; workloads sharing a scheme are reported once', () => {
    const twoInA = subnets(`${PRIVATE_A}\n{ name: private-a2, id: subnet-0aaa0000000000002, cidr: 10.10.2.0/24, zone: eu-west-1a }`);
    const r = prepareFixture(`${twoInA}${portal('{ host: a.fixture.example, scheme: internal }')}  - name: admin\n    image: ghcr.io/opendev/admin:1.0.0\n    resources: { requests: { cpu: 100m, memory: 128Mi } }\n    ports: [{ name: http, port: 8080 }]\n    ingress: { host: b.fixture.example }\n`);
    const e = errors(r);
    expect(e).toHaveLength(1);
    expect(e[0]).toContain("workloads[0].ingress.scheme: the internal ALB of workloads 'portal', 'admin' needs private subnets in at least 2 Availability Zones, but aws.vpc.subnets has private subnets in 1 zone only: private-a (eu-west-1a), private-a2 (eu-west-1a)");
  });

  it('a subnet an ALB is placed in needs an id', () => {
    const r = prepareFixture(subnets(`${PRIVATE_A}\n{ name: private-b, cidr: 10.10.2.0/24, zone: eu-west-1b }`) + portal('{ host: portal.fixture.example }'));
    expect(errors(r)).toStrictEqual([
      "environments/t.yaml:9:9  aws.vpc.subnets[1]: subnet 'private-b' has no id, but the internal ALB of workload 'portal' is placed in it (alb.ingress.kubernetes.io/subnets names subnets by id)  (add id: { ssm: /odp/t/network/subnet-private-b } (or id: subnet-…))",
    ]);
  });

  it('a cronjob with an ingress is left to workload-kind; no ingress, no finding', () => {
    expect(errors(prepareFixture('workloads:\n  - { name: x, image: ghcr.io/opendev/x:1.0.0, resources: { requests: { cpu: 100m, memory: 128Mi } } }\n'))).toStrictEqual([]);
  });

  it('the schema refuses a non-boolean tier', () => {
    const r = prepareFixture(subnets('{ name: private-a, cidr: 10.10.1.0/24, zone: eu-west-1a, public: "yes" }'));
    expect(errors(r).join('\n')).toContain('aws.vpc.subnets[0].public');
  });
});

describe('the subnets annotation', () => {
  const ingresses = (env: string): Obj[] =>
    renderExample(env)
      .filter((f) => /^manifests\/[^/]+\/ingress-/.test(f.path))
      .flatMap((f) => parseYamlStream(f.content) as Obj[]);

  it.each(['dev', 'staging', 'prod'])('%s: every Ingress names one subnet of its tier per zone, by id, in zone order', (env) => {
    const m = prepareExample(env).prepared!.model;
    const list = ingresses(env);
    expect(list.length).toBeGreaterThan(0);
    for (const ing of list) {
      const scheme = ing.metadata.annotations['alb.ingress.kubernetes.io/scheme'];
      const ids: string[] = ing.metadata.annotations['alb.ingress.kubernetes.io/subnets'].split(',');
      const placed = ids.map((id) => m.aws.vpc.subnets.find((s) => s.id === id)!);
      expect(placed.every((s) => s !== undefined && s.public === (scheme === 'internet-facing'))).toBe(true);
      expect(new Set(placed.map((s) => s.zone)).size).toBe(ids.length);
      expect(ids.length).toBeGreaterThanOrEqual(2);
    }
  });

  it('prod: the internet-facing portal ALB sits in public-a, public-b, public-c', () => {
    const m = prepareExample('prod').prepared!.model;
    const id = (name: string) => m.aws.vpc.subnets.find((s) => s.name === name)!.id;
    const [portal] = ingresses('prod');
    expect(portal!.metadata.annotations['alb.ingress.kubernetes.io/subnets']).toBe([id('public-a'), id('public-b'), id('public-c')].join(','));
  });

  it('the Ingress lists aws.vpc.subnets among its inputs in the provenance manifest (a subnet change re-hashes it)', () => {
    const r = prepareExample('dev').prepared!;
    const before = renderEnvironment(r).find((f) => f.path === 'manifests/portal/ingress-portal.yaml')!;
    expect(Object.keys(before.provenance!.inputs)).toContain('aws.vpc.subnets');
  });
});

describe('IMDS: workloads never reach 169.254.169.254', () => {
  it('egressIpBlock excepts IMDS from CIDRs that contain it, and only those', () => {
    expect(egressIpBlock('0.0.0.0/0')).toStrictEqual({ cidr: '0.0.0.0/0', except: ['169.254.169.254/32'] });
    expect(egressIpBlock('169.254.0.0/16')).toStrictEqual({ cidr: '169.254.0.0/16', except: ['169.254.169.254/32'] });
    expect(egressIpBlock('128.0.0.0/1')).toStrictEqual({ cidr: '128.0.0.0/1', except: ['169.254.169.254/32'] });
    expect(egressIpBlock('10.30.0.0/16')).toStrictEqual({ cidr: '10.30.0.0/16' });
    expect(egressIpBlock('0.0.0.0/1')).toStrictEqual({ cidr: '0.0.0.0/1' });
  });

  it.each(['staging', 'prod'])('%s: the worker egress to 0.0.0.0/0 excepts IMDS; VPC CIDRs stay as declared', (env) => {
    const files = renderExample(env);
    const policy = (name: string) => parseYamlStream(files.find((f) => f.path === `manifests/${name}/networkpolicy-${name}.yaml`)!.content)[0] as Obj;
    expect(policy('worker').spec.egress).toContainEqual({ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.169.254/32'] } }], ports: [{ port: 443, protocol: 'TCP' }] });
    const api = policy('api').spec.egress.find((e: Obj) => e.to[0].ipBlock);
    expect(api.to[0].ipBlock.except).toBeUndefined();
  });
});

describe('npm run validate: policy.alb-subnets', () => {
  const prodTree = (edit: (content: string) => string = (c) => c) => {
    const m = prepareExample('prod').prepared!.model;
    const files = new Map(renderExample('prod').map((f) => [`prod/${f.path}`, f.path === 'manifests/portal/ingress-portal.yaml' ? edit(f.content) : f.content]));
    return parseRenderedTree(files, new Map(), new Map([['prod', m.aws.vpc.subnets]]));
  };
  const found = async (tree: ReturnType<typeof prodTree>) =>
    (await checkRenderedTree(tree, fileCheckers().filter((c) => c.name === 'policy.alb-subnets'), [])).map(formatDiagnostic);
  const ids = (names: string[]) => names.map((n) => prepareExample('prod').prepared!.model.aws.vpc.subnets.find((s) => s.name === n)!.id!);

  it('the rendered Ingresses pass', async () => {
    expect(await found(prodTree())).toStrictEqual([]);
  });

  it('a private subnet, two subnets in one zone, an unknown id, a missing annotation are reported', async () => {
    const [pubA, pubB, privB] = ids(['public-a', 'public-b', 'private-b']);
    const wrong = await found(prodTree((c) => c.replace(/(alb\.ingress\.kubernetes\.io\/subnets: ).*/, `$1${pubA},${privB},${pubB},subnet-0ffffffffffffffff`)));
    const [pubC] = ids(['public-c']);
    expect(wrong.map((l) => l.replace(/^\S+\s+\S+\s+/, ''))).toStrictEqual([
      `subnet ${privB} (private-b) is private, but an internet-facing ALB belongs in public subnets`,
      `subnet subnet-0ffffffffffffffff is not in aws.vpc.subnets of prod  (its public subnets: public-a (${pubA}), public-b (${pubB}), public-c (${pubC}))`,
    ]);
    const sameZone = await found(prodTree((c) => c.replace(/(alb\.ingress\.kubernetes\.io\/subnets: ).*/, `$1${pubA},${pubA}`)));
    expect(sameZone).toHaveLength(1);
    expect(sameZone[0]).toContain(`subnets ${pubA} and ${pubA} are both in eu-west-1a`);
    const none = await found(prodTree((c) => c.replace(/ +alb\.ingress\.kubernetes\.io\/subnets: .*\n/, '')));
    expect(none).toHaveLength(1);
    expect(none[0]).toContain('does not name its subnets');
  });
});
