/**
 * CloudFormation logical ids derived from names (generators/infra/aws/logical-ids.ts): two names giving one id are
 * refused by rule aws.logical-id (fixtures invalid/aws-logical-id-*.yaml assert the messages), and the template
 * builder throws on any id taken twice, so no id can collide silently.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { prepareEnvironment } from '../generators/pipeline.js';
import { awsPlan } from '../generators/infra/aws/plan.js';
import { baseTemplate, groupLogicalId, irsaRoleLogicalId, nodeLogicalId, nodesTemplate, storeRoleLogicalId } from '../generators/infra/aws/stacks.js';
import { assertDisjoint, logicalId, merged, put } from '../generators/infra/aws/template.js';
import { roleArnParts } from '../generators/infra/aws/plan.js';
import { namespaceStoreName } from '../generators/catalog/secret-stores.js';
import { catalogEntries } from '../generators/catalog/index.js';
import { SYSTEM_NAMESPACES } from '../generators/validate/rules-workloads.js';
import type { Node, NodePool } from '../generators/model/types.js';
import { fixtureSources } from './helpers.js';

const prepare = (name: string, body: string) => {
  const { sources } = fixtureSources('valid', 'minimal.yaml');
  sources.set(`environments/${name}.yaml`, `name: ${name}\nextends: _fixture\n${body}`);
  return prepareEnvironment(name, sources);
};
const rulesOf = (r: ReturnType<typeof prepare>): string[] => [...new Set(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.rule))];

/** Two distinct names from the same lowercase parts, joined by '-' or nothing: the pairs logicalId() may merge. */
const namePair = fc
  .tuple(fc.array(fc.stringMatching(/^[a-z0-9]{1,4}$/), { minLength: 2, maxLength: 3 }), fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }), fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }))
  .map(([parts, j1, j2]) => {
    const join = (hyphen: boolean[]) => parts.reduce((s, p, i) => (i === 0 ? p : `${s}${hyphen[i - 1] ? '-' : ''}${p}`), '');
    return [join(j1), join(j2)] as const;
  })
  .filter(([a, b]) => a !== b && /^[a-z]/.test(a) && /^[a-z]/.test(b) && !taken(a) && !taken(b));

/**
 * Names the tests' fixed objects hold (pool cp, its node cp-1, pool edge): a generated name equal to one of them, or
 * giving one of their ids (c-p → NodeCp, PoolCpGroup), is another rule's finding (unique-names) or a collision the
 * property does not compute, so the pairs avoid them (CI once drew ['c-p', 'cp']).
 */
function taken(name: string): boolean {
  return ['cp', 'cp1', 'edge'].includes(name.replace(/-/g, ''));
}

/**
 * Namespaces Kubernetes or an add-on owns: a workload there is rule workload-reserved-name's finding, so the namespace
 * pairs avoid them (the parts can join to 'argocd', 'monitoring', 'etcd-backup', 'kube-public', …).
 */
const RESERVED_NAMESPACES = new Set([...SYSTEM_NAMESPACES, ...catalogEntries().map((e) => e.namespace)]);
const namespacePair = namePair.filter(([a, b]) => !RESERVED_NAMESPACES.has(a) && !RESERVED_NAMESPACES.has(b));

describe('rule aws.logical-id: distinct names never share an id unreported', () => {
  it('namespaces of secret stores (Store<ns>Role)', () => {
    fc.assert(
      fc.property(namespacePair, ([a, b]) => {
        const w = (n: string, ns: string) => `  - { name: ${n}, namespace: ${ns}, image: ghcr.io/opendev/x:1.0.0, env: { K: { secret: /odp/p/${n}/k } }, resources: { requests: { cpu: 100m, memory: 128Mi } } }\n`;
        const r = prepare('p', `workloads:\n${w('one', a)}${w('two', b)}`);
        const same = storeRoleLogicalId(namespaceStoreName(a)) === storeRoleLogicalId(namespaceStoreName(b));
        expect(rulesOf(r)).toStrictEqual(same ? ['aws.logical-id'] : []);
      }),
      { numRuns: 25, examples: [[['a-1b', 'a1b']]] },
    );
  });

  it('pools (Pool<name>Group)', () => {
    fc.assert(
      fc.property(namePair, ([a, b]) => {
        const pool = (n: string) => `  - { name: ${n}, role: worker, arch: amd64, instanceType: m7i.xlarge, subnet: private-a, count: 1 }\n`;
        const r = prepare('p', `nodePools:\n  - { name: cp, role: controlplane, arch: amd64, instanceType: m7i.large, subnet: private-a, nodes: [{ name: cp-1, ip: 10.10.1.10 }] }\n${pool(a)}${pool(b)}`);
        const same = groupLogicalId({ name: a } as NodePool) === groupLogicalId({ name: b } as NodePool);
        expect(rulesOf(r)).toStrictEqual(same ? ['aws.logical-id'] : []);
      }),
      { numRuns: 25, examples: [[['gpu-1x', 'gpu1x']]] },
    );
  });

  it('fixed nodes (Node<name>, its AMI parameter and output)', () => {
    fc.assert(
      fc.property(namePair, ([a, b]) => {
        const r = prepare('p', `nodePools:\n  - { name: cp, role: controlplane, arch: amd64, instanceType: m7i.large, subnet: private-a, nodes: [{ name: cp-1, ip: 10.10.1.10 }] }\n  - { name: edge, role: worker, arch: amd64, instanceType: m7i.large, subnet: private-a, nodes: [{ name: ${a}, ip: 10.10.1.20 }, { name: ${b}, ip: 10.10.1.21 }] }\n`);
        const same = nodeLogicalId({ name: a } as Node) === nodeLogicalId({ name: b } as Node);
        expect(rulesOf(r)).toStrictEqual(same ? ['aws.logical-id'] : []);
      }),
      { numRuns: 25, examples: [[['w-1a', 'w1a']]] },
    );
  });

  it('IRSA roles named by workloads (Irsa<role>Role)', () => {
    fc.assert(
      fc.property(namePair, ([a, b]) => {
        const w = (n: string, role: string) => `  - { name: ${n}, namespace: m, image: ghcr.io/opendev/x:1.0.0, resources: { requests: { cpu: 100m, memory: 128Mi } }, serviceAccount: { iamRoleArn: "arn:aws:iam::111111111111:role/${role}" } }\n`;
        const r = prepare('p', `aws:\n  iam: { mode: irsa, issuerURL: https://oidc.fixture.example/irsa }\nworkloads:\n${w('one', a)}${w('two', b)}`);
        const same = irsaRoleLogicalId(roleArnParts(`arn:aws:iam::1:role/${a}`).name) === irsaRoleLogicalId(roleArnParts(`arn:aws:iam::1:role/${b}`).name);
        expect(rulesOf(r)).toStrictEqual(same ? ['aws.logical-id'] : []);
      }),
      { numRuns: 25, examples: [[['team-1a', 'team1a']]] },
    );
  });
});

describe('the template builder refuses an id taken twice (a programming error)', () => {
  it('put, merged and assertDisjoint throw instead of replacing', () => {
    const out: Record<string, number> = { A: 1 };
    expect(() => put(out, 'A', 2)).toThrow(/logical id A is taken twice/);
    expect(out.A).toBe(1);
    expect(() => merged([{ A: 1 }, { B: 2 }, { A: 3 }])).toThrow(/logical id A is taken twice/);
    expect(() => assertDisjoint({ parameter: { NodeXImage: 1 }, resource: { NodeXImage: 2 } })).toThrow(/NodeXImage is in two sections of the template: parameter and resource/);
    expect(() => assertDisjoint({ resource: { NodeXInstanceId: 1 }, output: { NodeXInstanceId: 2 } })).toThrow(/NodeXInstanceId is in two sections of the template: resource and output/);
  });

  it('a plan whose names the rule did not check cannot render a stack that loses a resource', () => {
    const r = prepare('p', `workloads:\n  - { name: one, namespace: a-1b, image: ghcr.io/opendev/x:1.0.0, env: { K: { secret: /odp/p/one/k } }, resources: { requests: { cpu: 100m, memory: 128Mi } } }\n`);
    expect(rulesOf(r)).toStrictEqual([]);
    const p = awsPlan(r.prepared!.model);
    expect(() => baseTemplate(p)).not.toThrow();
    // The same store role twice under other names (as a1b would add): the builder throws.
    expect(() => baseTemplate({ ...p, storeRoles: [...p.storeRoles, { ...p.storeRoles.find((s) => s.store.endsWith('a-1b'))!, store: namespaceStoreName('a1b') }] })).toThrow(/StoreAwsSsmParameterStoreA1bRole is taken twice/);
    // A pool twice: the nodes stack throws as well.
    expect(() => nodesTemplate({ ...p, pools: [...p.pools, p.pools[p.pools.length - 1]!] })).toThrow(/is taken twice/);
  });
});

describe('logicalId', () => {
  /** The implementation before issue 23's one-pass loop: what every rendered id was made with. */
  const splitJoin = (...parts: string[]): string =>
    parts
      .flatMap((p) => p.split(/[^A-Za-z0-9]+/))
      .filter((s) => s.length > 0)
      .map((s) => s[0]!.toUpperCase() + s.slice(1))
      .join('');
  const part = fc.oneof(fc.string(), fc.string({ unit: fc.constantFrom('a', 'Z', '0', '9', '-', '_', '.', '/', ' ', 'é', '\u{1F600}', '') }));

  it('joins the runs of A-Za-z0-9, first letters upper-cased, as the split/map/join it replaced', () => {
    expect(logicalId('general-arm64', 'LaunchTemplate')).toBe('GeneralArm64LaunchTemplate');
    expect(logicalId('--a_b..9z', '', 'éx')).toBe('AB9zX');
    fc.assert(fc.property(fc.array(part, { maxLength: 4 }), (parts) => logicalId(...parts) === splitJoin(...parts)), { numRuns: 2000 });
  });
});
