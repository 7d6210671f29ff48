import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { expectations, FIXTURES, fixtureOptions, fixtureSources, formatted } from './helpers.js';

const invalid = readdirSync(join(FIXTURES, 'invalid')).filter((f) => f.endsWith('.yaml')).sort();
const valid = readdirSync(join(FIXTURES, 'valid')).filter((f) => f.endsWith('.yaml')).sort();

/** The errors (not warnings) of an environment written next to the valid fixtures. */
const errorsOf = (name: string, body: string): string[] => {
  const { sources } = fixtureSources('valid', 'minimal.yaml');
  sources.set(`environments/${name}.yaml`, `# yaml-language-server: $schema=../schemas/environment.schema.json\nname: ${name}\nextends: _fixture\n${body}`);
  return formatted(prepareEnvironment(name, sources)).filter((l) => !l.includes(': warning: '));
};

describe('invalid fixtures: one rule each, message and position asserted', () => {
  it.each(invalid)('%s', (file) => {
    const expected = expectations(readFileSync(join(FIXTURES, 'invalid', file), 'utf8'));
    expect(expected.length, 'fixture needs at least one # expect: line').toBeGreaterThan(0);
    const { name, sources } = fixtureSources('invalid', file);
    // A fixture of the version-skew rules brings the manifest of its rendered tree (<name>.provenance.json).
    const r = prepareEnvironment(name, sources, fixtureOptions('invalid', file));
    expect(r.prepared).toBeUndefined();
    const lines = formatted(r).filter((l) => !l.includes(': warning: '));
    for (const e of expected) expect(lines.some((l) => l.startsWith(e)), `expected a diagnostic starting with\n  ${e}\ngot\n  ${lines.join('\n  ')}`).toBe(true);
    // One rule per fixture: every error comes from the same rule.
    const rules = new Set(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.rule.replace(/^schema\..*/, 'schema')));
    expect([...rules].length, `errors from several rules: ${[...rules].join(', ')}`).toBe(1);
  });
});

describe('valid fixtures', () => {
  it.each(valid)('%s validates without errors', (file) => {
    const { name, sources } = fixtureSources('valid', file);
    const r = prepareEnvironment(name, sources);
    expect(formatted(r).filter((l) => !l.includes(': warning: '))).toStrictEqual([]);
    expect(r.prepared?.model.name).toBe(name);
  });
});

/** Pools with two control planes (etcd's even member count: an error of its own, next to the one under test). */
const EVEN_CONTROL_PLANES = `nodePools:
  - name: cp
    role: controlplane
    arch: amd64
    instanceType: m7i.large
    subnet: private-a
    nodes: [{ name: cp-1, ip: 10.10.1.10 }, { name: cp-2, ip: 10.10.1.11 }]
  - { name: workers, role: worker, arch: amd64, instanceType: m7i.xlarge, subnet: private-a, count: 1 }
`;

describe('schema and semantic errors in one run', () => {
  it('reports a misspelt key and an even etcd member count together', () => {
    const errors = errorsOf(
      'both',
      `git: { repoURL: https://github.com/opendev/odp-gitops.git, targetRevison: main }
${EVEN_CONTROL_PLANES}`,
    );
    expect(errors).toStrictEqual([
      "environments/both.yaml:4:60  git.targetRevison: unknown key 'targetRevison'; expected one of: repoURL, targetRevision  (did you mean 'targetRevision'?)",
      expect.stringMatching(/^environments\/both\.yaml:11:12  nodePools\[0\]\.nodes: etcd needs an odd number of control-plane nodes/),
    ]);
  });

  it('keeps a finding in a sibling list element of the one the schema rejected', () => {
    const errors = errorsOf(
      'sibling',
      `nodePools:
  - name: cp
    role: controlplane
    arch: amd64
    instanceType: m7i.large
    subnet: private-a
    nodes: [{ name: cp-1, ip: 10.10.9.10 }]
  - { name: workers, role: worker, arch: amd46, instanceType: m7i.xlarge, subnet: private-a, count: 1 }
`,
    );
    expect(errors).toStrictEqual([
      "environments/sibling.yaml:11:42  nodePools[1].arch: 'amd46' is not allowed; expected one of: amd64, arm64  (did you mean 'amd64'?)",
      "environments/sibling.yaml:10:31  nodePools[0].nodes[0].ip: 10.10.9.10 is not inside subnet 'private-a' (10.10.1.0/24)  (pick an address of 10.10.1.0/24 from 10.10.1.4 to 10.10.1.254 (AWS reserves the first four and the last))",
    ]);
  });

  it('reports a reference missing from the SSM lock together with every other error of the file', () => {
    // The lock stage used to stop the run: a newcomer was sent to AWS (--refresh-ssm) before learning what else is refused.
    const errors = errorsOf(
      'unlocked-and-more',
      `cluster:
  datastore:
    backup:
      bucket: { ssm: /odp/fixture/backup/new-bucket }
${EVEN_CONTROL_PLANES}workloads:
  - { name: portal, image: ghcr.io/opendev/portal:latest, resources: { requests: { cpu: 100m, memory: 128Mi } } }
`,
    );
    expect(errors).toStrictEqual([
      expect.stringMatching(/^environments\/unlocked-and-more\.yaml:7:15  cluster\.datastore\.backup\.bucket: SSM parameter \/odp\/fixture\/backup\/new-bucket is not in environments\/unlocked-and-more\.ssm\.lock\.json/),
      expect.stringMatching(/^environments\/unlocked-and-more\.yaml:14:12  nodePools\[0\]\.nodes: etcd needs an odd number of control-plane nodes/),
      expect.stringMatching(/^environments\/unlocked-and-more\.yaml:6:5  cluster\.datastore\.backup: etcd snapshots hold every Secret of the cluster and must be encrypted: ageRecipientPublicKey is missing/),
      expect.stringMatching(/^environments\/unlocked-and-more\.yaml:17:28  workloads\[0\]\.image: image 'ghcr\.io\/opendev\/portal:latest' uses the tag 'latest'/),
    ]);
  });

  it('without any lock file, says so and points at new-env', () => {
    const { sources } = fixtureSources('valid', 'minimal.yaml');
    sources.set('environments/nolock.yaml', '# yaml-language-server: $schema=../schemas/environment.schema.json\nname: nolock\nextends: _fixture\ncluster:\n  endpoint: { ssm: /odp/fixture/api/endpoint }\n');
    const d = prepareEnvironment('nolock', sources).diagnostics.find((x) => x.rule === 'ssm.unlocked');
    expect(d?.hint).toBe(
      'environments/nolock.ssm.lock.json does not exist: run npm run synth -- --env nolock --refresh-ssm (needs AWS credentials for account 111111111111), or start from npm run new-env, which writes a lock of placeholders so the environment renders offline',
    );
  });

  it('leaves out findings about the value of a reference missing from the lock (unknown, not wrong)', () => {
    // A new endpoint parameter: its value is not known until --refresh-ssm, so only ssm.unlocked is said there.
    const errors = errorsOf('unlocked-only', 'cluster:\n  endpoint: { ssm: /odp/fixture/api/endpoint }\n');
    expect(errors).toStrictEqual([expect.stringMatching(/^environments\/unlocked-only\.yaml:5:13  cluster\.endpoint: SSM parameter \/odp\/fixture\/api\/endpoint is not in /)]);
  });

  it('leaves out rule findings in a section the schema rejected', () => {
    const { sources } = fixtureSources('invalid', 'enum-typo.yaml');
    const r = prepareEnvironment('enum-typo', sources);
    expect(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.rule)).toStrictEqual(['schema.enum']);
  });
});

describe('addon-dependencies follows the GitOps engine', () => {
  it('a Flux environment may leave Argo CD off, and may not turn the Flux Operator or External Secrets off', () => {
    expect(errorsOf('flux-argo-off', 'gitops: flux\naddons:\n  argo-cd: { enabled: false }\n')).toStrictEqual([]);
    expect(errorsOf('flux-off', 'gitops: flux\naddons:\n  flux-operator: { enabled: false }\n  external-secrets: { enabled: false }\n')).toStrictEqual([
      'environments/flux-off.yaml:6:29  addons.flux-operator.enabled: flux-operator cannot be disabled: it is the GitOps engine of this environment (it installs Flux, which delivers every add-on and workload)  (Flux manages this environment; remove enabled: false (or switch the engine with gitops: argocd))',
      'environments/flux-off.yaml:7:32  addons.external-secrets.enabled: external-secrets cannot be disabled: flux-operator (the repository credentials ExternalSecret); kube-prometheus-stack (the grafana-admin ExternalSecret) need it  (remove enabled: false, or remove what needs external-secrets first)',
    ]);
  });
});

describe('quantities written as YAML numbers (Kubernetes accepts them)', () => {
  it('are rendered as the quantity strings Kubernetes reads the same way', () => {
    const { name, sources } = fixtureSources('valid', 'quantity-numbers.yaml');
    const r = prepareEnvironment(name, sources);
    const deployment = renderEnvironment(r.prepared!).find((f) => /^manifests\/portal\/deployment-/.test(f.path))!;
    const container = (parse(deployment.content) as { spec: { template: { spec: { containers: { resources: unknown }[] } } } }).spec.template.spec.containers[0]!;
    expect(container.resources).toMatchObject({ requests: { cpu: '0.5', memory: '1073741824' }, limits: { cpu: '2' } });
  });

  it('a number no quantity string writes the same way is refused with the reason', () => {
    expect(errorsOf('q-exp', 'workloads:\n  - { name: portal, image: ghcr.io/opendev/portal:1.4.2, resources: { requests: { cpu: 1e-7, memory: 128Mi } } }\n')).toStrictEqual([
      'environments/q-exp.yaml:5:88  workloads[0].resources.requests.cpu: 1e-7 is written with an exponent, which environment quantities do not take  (write it as a string such as 100m, 0.5 or 512Mi)',
    ]);
  });
});
