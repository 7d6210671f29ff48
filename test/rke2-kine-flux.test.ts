/**
 * The valid fixture rke2-kine-flux (auditflux: RKE2 under Flux on Kine + PostgreSQL, three servers across three
 * subnets, an x86, a Graviton and a tainted NVIDIA pool, two workloads with Secrets from SSM) and what its walk found:
 * the API endpoint's port. The API load balancer forwards each endpoint port to the same port on the control planes
 * (generators/infra/aws/stacks.ts), and the control planes serve the Kubernetes API on 6443 only
 * (rancher/rke2-docs@9477b7b1 docs/install/requirements.md, Inbound Network Rules: 6443 Kubernetes API, 9345 RKE2
 * supervisor; k3s-io/docs docs/installation/requirements.md: 6443 "K3s supervisor and Kubernetes API Server", moved
 * by `--https-listen-port`; siderolabs/talos@v1.12.11 firewallpatch.go: 6443 kube-apiserver). An endpoint on another
 * port rendered a load balancer forwarding to a port where nothing answers; on RKE2's 9345 a template with two
 * listeners on one port and two target groups of one name (ELB refuses both: a port takes one listener, a target
 * group name is unique in the account and region).
 */
import { describe, expect, it } from 'vitest';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { prepareEnvironment } from '../generators/pipeline.js';
import { fixtureSources, formatted, renderValidFixture } from './helpers.js';

type Doc = Record<string, any>;
const resourcesOf = (base: string, type: string): Doc[] =>
  Object.values((parseYamlStream(base)[0] as Doc).Resources as Record<string, Doc>).filter((r) => r.Type === type);

/** The errors of a valid fixture with `from` replaced by `to` in its file. */
function errorsOf(file: string, from: string | RegExp, to: string): string[] {
  const { name, sources } = fixtureSources('valid', file);
  const key = [...sources.keys()].find((k) => k === `environments/${name}.yaml`)!;
  const text = sources.get(key)!;
  const changed = text.replace(from, to);
  expect(changed, 'the edit applies').not.toBe(text);
  sources.set(key, changed);
  return formatted(prepareEnvironment(name, sources)).filter((l) => !l.includes(': warning: '));
}

describe('rke2-kine-flux: the API load balancer forwards only to ports the servers serve', () => {
  it('each listener has a port of its own, each target group a name of its own, and each forwards to the API (6443) or the supervisor (9345)', () => {
    const base = renderValidFixture('rke2-kine-flux.yaml').get('aws/base.yaml')!;
    const listeners = resourcesOf(base, 'AWS::ElasticLoadBalancingV2::Listener').map((l) => l.Properties.Port);
    expect(listeners.sort()).toStrictEqual([6443, 9345]);
    const groups = resourcesOf(base, 'AWS::ElasticLoadBalancingV2::TargetGroup');
    expect(new Set(groups.map((g) => g.Properties.Name)).size).toBe(groups.length);
    for (const g of groups) for (const t of g.Properties.Targets) expect([6443, 9345]).toContain(t.Port);
  });

  it.each([
    ['the supervisor port', 'https://api.rke2-kine-flux.internal:9345', "port 9345 is not the port the control planes serve the Kubernetes API on (6443): the API load balancer forwards it to port 9345 of the control planes, the supervisor's, whose listener it would take a second time  (write https://api.rke2-kine-flux.internal:6443)"],
    ['no port (443)', 'https://api.rke2-kine-flux.internal', 'port 443 (none written: 443) is not the port the control planes serve the Kubernetes API on (6443): the API load balancer forwards it to port 443 of the control planes, where nothing answers  (write https://api.rke2-kine-flux.internal:6443)'],
    ['a server\'s address and the supervisor port (no load balancer)', 'https://10.10.1.20:9345', "port 9345 is not the port the control planes serve the Kubernetes API on (6443): clients would call port 9345 of the control plane at that address, the supervisor's  (write https://10.10.1.20:6443)"],
  ])('RKE2, an endpoint on %s, is refused at cluster.endpoint', (_what, endpoint, message) => {
    expect(errorsOf('rke2-kine-flux.yaml', 'https://api.rke2-kine-flux.internal:6443', endpoint)).toStrictEqual([
      expect.stringMatching(new RegExp(`^environments/rke2-kine-flux\\.yaml:\\d+:13  cluster\\.endpoint: the endpoint's `)),
    ]);
    expect(errorsOf('rke2-kine-flux.yaml', 'https://api.rke2-kine-flux.internal:6443', endpoint)[0]).toContain(message);
  });

  it('K3s: an endpoint on 443 is refused, and accepted once the servers serve the API there (https-listen-port)', () => {
    // k3s-postgres's endpoint is the fixtures' (https://api.fixture.internal:6443, from _fixture.yaml).
    const endpoint = '  endpoint: https://api.fixture.internal:443\n';
    expect(errorsOf('k3s-postgres.yaml', /^cluster:\n/m, `cluster:\n${endpoint}`)).toStrictEqual([
      expect.stringContaining("cluster.endpoint: the endpoint's port 443 is not the port the control planes serve the Kubernetes API on (6443)"),
    ]);
    expect(errorsOf('k3s-postgres.yaml', /^cluster:\n/m, `cluster:\n${endpoint}  k3s: { extraArgs: { https-listen-port: 443 } }\n`)).toStrictEqual([]);
  });

  it('Talos: an endpoint on 443 is refused', () => {
    expect(errorsOf('minimal.yaml', /^extends: _fixture\n/m, 'extends: _fixture\ncluster:\n  endpoint: https://api.fixture.internal:443\n')).toStrictEqual([
      expect.stringContaining("cluster.endpoint: the endpoint's port 443 is not the port the control planes serve the Kubernetes API on (6443)"),
    ]);
  });
});
