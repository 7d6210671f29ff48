import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareEnvironment } from '../generators/pipeline.js';
import { FIXTURES, fixtureSources } from './helpers.js';

// House rule: an error names file:line:col, the document path, the value, what was expected AND a hint
// (what to do). The Reporter type makes every rule pass a hint; this catches the ones computed at run
// time (schema errors, YAML syntax, tables of values) that come out empty.
const invalid = readdirSync(join(FIXTURES, 'invalid')).filter((f) => f.endsWith('.yaml')).sort();

describe('every error of every invalid fixture carries a hint', () => {
  it.each(invalid)('%s', (file) => {
    const { name, sources } = fixtureSources('invalid', file);
    const r = prepareEnvironment(name, sources);
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    expect(errors.length).toBeGreaterThan(0);
    const bare = errors.filter((d) => !d.hint?.trim()).map((d) => `${d.file}:${d.line}:${d.col} [${d.rule}] ${d.message}`);
    expect(bare).toStrictEqual([]);
  });
});

describe('hints that point at the fix', () => {
  const errorsOf = (body: string): string[] => {
    const { sources } = fixtureSources('valid', 'minimal.yaml');
    sources.set('environments/h.yaml', `name: h\nextends: _fixture\n${body}`);
    return prepareEnvironment('h', sources).diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.message} || ${d.hint}`);
  };
  const subnets = `aws:
  vpc:
    id: vpc-0123456789abcdef0
    cidr: 10.10.0.0/16
    subnets:
      - { name: private-a, id: subnet-0f1a000000000000a, cidr: 10.10.1.0/24, zone: eu-west-1a }
      - { name: private-b, id: subnet-0f1a000000000000b, cidr: 10.10.2.0/28, zone: eu-west-1b }
`;
  const pools = (cp: string, extra = '') => `nodePools:
  - { name: cp, role: controlplane, arch: amd64, instanceType: m7i.large, subnet: private-a, nodes: [${cp}] }
  - { name: workers, role: worker, arch: amd64, instanceType: m7i.xlarge, subnet: private-a, count: 1 }
${extra}`;

  it('shows the right shape for a map where a list goes and a list where a map goes, and a number written otherwise', () => {
    const workload = (extra: string) => `workloads:\n  - { name: portal, image: ghcr.io/opendev/portal:1.4.2, resources: { requests: { cpu: 100m, memory: 128Mi } }, ${extra} }\n`;
    // Ports named by key (a compose-file habit): one item per key, with the name and port slots filled.
    expect(errorsOf(workload('ports: { http: 8080, metrics: 9090 }'))).toStrictEqual([
      'expected array, got a map || write a list of maps, one per item: ports: [{ name: http, port: 8080 }, { name: metrics, port: 9090 }]',
    ]);
    // env as docker's KEY=value list.
    expect(errorsOf(workload('env: [LOG_LEVEL=info, MODE=fast]'))).toStrictEqual([
      'expected object, got a list || write a map of key: value: env: { LOG_LEVEL: info, MODE: fast }',
    ]);
    // Add-ons listed by name: a map keyed by name.
    expect(errorsOf('addons: [metrics-server]\n')).toStrictEqual(['expected object, got a list || write a map keyed by name: addons: { metrics-server: {} }']);
    expect(errorsOf(workload('replicas: 3 pods'))).toStrictEqual(["expected integer, got '3 pods' || write the number alone: replicas: 3 (no unit or suffix after it)"]);
    expect(errorsOf(workload('replicas: many'))).toStrictEqual(["expected integer, got 'many' || write a number in digits, e.g. replicas: 1"]);
  });

  it('names the subnet an address belongs to', () => {
    expect(errorsOf(subnets + pools('{ name: cp-1, ip: 10.10.2.5 }'))).toStrictEqual([
      "10.10.2.5 is not inside subnet 'private-a' (10.10.1.0/24) || 10.10.2.5 is in subnet 'private-b': set subnet: private-b on the node, or pick an address of 10.10.1.0/24",
    ]);
  });

  it("gives the usable range of a subnet (its first four and last addresses are AWS's)", () => {
    expect(errorsOf(subnets + pools('{ name: cp-1, ip: 10.10.2.15, subnet: private-b }'))).toStrictEqual([
      "10.10.2.15 is the broadcast address of subnet 'private-b' (10.10.2.0/28); AWS reserves the first four and the last address of every subnet || use an address from 10.10.2.4 to 10.10.2.14",
    ]);
    expect(errorsOf(subnets + pools('{ name: cp-1, ip: 10.10.2.4, subnet: private-b }'))).toStrictEqual([]);
    expect(errorsOf(subnets + pools('{ name: cp-1, ip: 10.10.2.14, subnet: private-b }'))).toStrictEqual([]);
  });

  it('names the first holder of a duplicated address', () => {
    expect(errorsOf(subnets + pools('{ name: cp-1, ip: 10.10.1.10 }, { name: cp-2, ip: 10.10.1.11 }, { name: cp-3, ip: 10.10.1.10 }'))).toStrictEqual([
      'IP 10.10.1.10 is used by two nodes || nodePools[0].nodes[0] (cp-1) has this address already: give each node its own',
    ]);
  });
});
