import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareEnvironment } from '../generators/pipeline.js';
import { FIXTURES, fixtureOptions, fixtureSources } from './helpers.js';

// House rule: an error names file:line:col, the document path, the value, what was expected AND a hint
// (what to do). The Reporter type makes every rule pass a hint; this catches the ones computed at run
// time (schema errors, YAML syntax, tables of values) that come out empty.
const invalid = readdirSync(join(FIXTURES, 'invalid')).filter((f) => f.endsWith('.yaml')).sort();

describe('every error of every invalid fixture carries a hint', () => {
  it.each(invalid)('%s', (file) => {
    const { name, sources } = fixtureSources('invalid', file);
    // A fixture's rendered-tree manifest (<name>.provenance.json: the versions it runs) is read as synth reads it.
    const r = prepareEnvironment(name, sources, fixtureOptions('invalid', file));
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

  it("a newcomer's near-misses get the value to write (newcomer2)", () => {
    const workload = (extra: string) => `workloads:\n  - { name: portal, image: ghcr.io/opendev/portal:1.4.2, resources: { requests: { cpu: 100m, memory: 128Mi } }, ${extra} }\n`;
    const pool = (extra: string) => `nodePools:\n  - { name: cp, role: controlplane, arch: amd64, instanceType: m7i.large, subnet: private-a, nodes: [{ name: cp-1, ip: 10.10.1.10 }] }\n  - { name: workers, role: worker, arch: amd64, instanceType: m7i.xlarge, subnet: private-a, count: 1, ${extra} }\n`;
    const hint = (body: string) => errorsOf(body).map((l) => l.slice(l.indexOf(' || ') + 4));
    expect(hint(pool('labels: [node.opendev.dev/pool=general]'))).toStrictEqual(['write a map of key: value: labels: { node.opendev.dev/pool: general }']);
    expect(hint(pool('taints: [dedicated=batch:NoSchedule]'))).toStrictEqual(["write the taint as a map: { key: dedicated, value: batch, effect: NoSchedule } (kubectl's key=value:Effect form is not read here)"]);
    expect(hint(pool('gpu: true'))[0]).toBe('write a map: gpu: { vendor: nvidia }');
    expect(hint(pool('maxPods: 0'))).toStrictEqual([expect.stringMatching(/^a number from \d+ to \d+$|^\d+ or more$/)]);
    expect(hint(workload('readiness: { httpGet: ready }'))).toStrictEqual(['an absolute path: httpGet: /ready']);
    expect(hint(workload('liveness: { tcpSocket: { port: 8080 } }'))).toStrictEqual(["Kubernetes' tcpSocket is written tcp: true here (with port: N for another port than the first)"]);
    expect(hint(workload('kind: statefulset, volumes: [{ name: cache, mountPath: /models, size: 50GB }]'))).toStrictEqual(['GB is not a Kubernetes unit: write size: 50Gi (binary, powers of 1024, as Kubernetes shows sizes) or 50G (decimal)']);
    expect(hint('workloads:\n  - { name: portal, image: ghcr.io/opendev/portal:1.4.2, resources: { requests: { cpu: 0.5core, memory: 128Mi } } }\n')).toStrictEqual(['write cores as a plain number or in millicores: cpu: 0.5 or 500m']);
    expect(hint('workloads:\n  - { name: portal, image: ghcr.io/OpenDev/portal:1.4.2-RC1, resources: { requests: { cpu: 100m, memory: 128Mi } } }\n')).toStrictEqual(['image repositories are lowercase: image: ghcr.io/opendev/portal:1.4.2-RC1']);
    expect(hint(workload('network: { egressTo: [api] }'))).toStrictEqual(['write a map: { workload: api } (or cidr: …)']);
    expect(hint(workload('network: { ingressFrom: [{ workload: web }] }'))).toStrictEqual(['write the value alone: web (a string here, not a map)']);
    expect(hint('cluster: { endpoint: https://api.fixture.internal:6443/ }\n')).toStrictEqual(['write the URL without a path or trailing slash: endpoint: https://api.fixture.internal:6443']);
    expect(hint('cluster: { talosVersion: 1.13.9 }\n')).toStrictEqual(['write it with the leading v: talosVersion: v1.13.9']);
  });

  it('extends with the file extension, and a colon inside an unquoted value', () => {
    const { sources } = fixtureSources('valid', 'minimal.yaml');
    sources.set('environments/h.yaml', 'name: h\nextends: _fixture.yaml\n');
    expect(prepareEnvironment('h', sources).diagnostics.filter((d) => d.severity === 'error').map((d) => d.hint)).toStrictEqual(["write extends: _fixture (the file's name without .yaml)"]);
    sources.set('environments/h.yaml', 'name: h\nextends: _fixture\ndescription: h: a shop\n');
    expect(prepareEnvironment('h', sources).diagnostics.filter((d) => d.severity === 'error').map((d) => d.hint)).toStrictEqual(['quote the value: a ": " inside an unquoted value starts a map (e.g. description: "nc: a shop")']);
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

  it("says from the instance table whether a Talos pool's NVIDIA extension meant the gpu key (no guess from the name)", () => {
    const pool = (type: string) => pools('{ name: cp-1, ip: 10.10.1.10 }', `  - { name: extra, role: worker, arch: amd64, instanceType: ${type}, subnet: private-a, count: 1, talos: { extensions: [siderolabs/nvidia-container-toolkit-lts] } }\n`);
    const hintOf = (type: string) => errorsOf(pool(type)).filter((e) => e.includes('nvidia-container-toolkit-lts but has no gpu')).map((e) => e.split(' || ')[1]);
    expect(hintOf('m7i.xlarge')).toStrictEqual(['m7i.xlarge has no GPU (instance table: 0 GPUs, 4 vCPUs): remove it, or move the pool to an NVIDIA GPU type and write gpu: { vendor: nvidia }']);
    expect(hintOf('g5.12xlarge')).toStrictEqual(['g5.12xlarge has 4 NVIDIA A10G GPUs (instance table): write gpu: { vendor: nvidia } on the pool instead of the extension (the generator adds the driver and toolkit)']);
    // A type the table does not know (instance-type refuses it too): said to be unknown, not guessed from its g prefix.
    expect(hintOf('g9.xlarge')).toStrictEqual(['g9.xlarge is not in the instance table (generators/model/instance-types.ts) nor in the EC2 lock (npm run synth -- --refresh-ssm): if it has an NVIDIA GPU, write gpu: { vendor: nvidia } on the pool instead (the generator adds the driver and toolkit); otherwise remove it']);
  });
});
