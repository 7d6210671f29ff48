/**
 * npm run new-env, in a temporary root holding the fixture base and an environment written here.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { main } from '../generators/cli/new-env.js';
import { prepareEnvironment } from '../generators/pipeline.js';
import { readEnvironmentSources } from '../generators/load/loader.js';
import { scaffoldEnvironment } from '../generators/scaffold/new-env.js';
import { FIXTURES } from './helpers.js';

const ALPHA = `# yaml-language-server: $schema=../schemas/environment.schema.json
# Alpha: the team's first environment.
name: alpha
extends: _fixture
aws:
  accountId: "111111111111"
  vpc:
    id: vpc-0123456789abcdef0
    cidr: 10.10.0.0/16
    subnets:
      - { name: private-a, cidr: 10.10.1.0/24, zone: eu-west-1a }   # the nodes' subnet
cluster:
  name: odp-alpha
  endpoint: { ssm: /odp/alpha/api/endpoint }
  extraSANs: [api.alpha.example]
nodePools:
  - name: cp
    role: controlplane
    arch: amd64
    instanceType: m7i.large
    subnet: private-a
    nodes: [{ name: alpha-cp-1, ip: 10.10.1.10 }]
  - { name: workers, role: worker, arch: amd64, instanceType: m7i.xlarge, subnet: private-a, count: 1 }
workloads:
  - name: portal
    image: ghcr.io/opendev/portal:1.4.2
    env: { DB_PASSWORD: { secret: /odp/alpha/portal/db-password } }
    resources: { requests: { cpu: 100m, memory: 128Mi } }
    network: { egressTo: [{ cidr: 10.10.0.0/16, ports: [5432] }] }
`;
const LOCK = JSON.stringify({ version: 1, parameters: { '/odp/alpha/api/endpoint': { value: 'https://api.alpha.internal:6443', type: 'String', version: 1, lastModified: '2026-11-20T09:00:00.000Z' } } });

let root: string;
const out = { stdout: '', stderr: '' };
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'odp-new-env-'));
  mkdirSync(join(root, 'environments'));
  writeFileSync(join(root, 'environments', '_fixture.yaml'), readFileSync(join(FIXTURES, '_fixture.yaml'), 'utf8'));
  writeFileSync(join(root, 'environments', 'alpha.yaml'), ALPHA);
  writeFileSync(join(root, 'environments', 'alpha.ssm.lock.json'), LOCK);
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out.stdout += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((out.stderr += String(s)), true));
});
afterEach(() => {
  out.stdout = '';
  out.stderr = '';
});
afterAll(() => {
  vi.restoreAllMocks();
  rmSync(root, { recursive: true, force: true });
});

describe('npm run new-env', () => {
  it('writes the new environment: names, SSM paths, hosts, addresses re-based, comments kept', async () => {
    expect(await main(['beta', '--from', 'alpha', '--account', '222222222222', '--cidr', '10.50.0.0/16', '--root', root])).toBe(0);
    const text = readFileSync(join(root, 'environments', 'beta.yaml'), 'utf8');
    expect(text).toContain("# Alpha: the team's first environment.");
    expect(text).toContain('# the nodes\' subnet');
    const doc = parse(text);
    expect(doc.name).toBe('beta');
    expect(doc.aws).toStrictEqual({ accountId: '222222222222', vpc: { id: 'vpc-0123456789abcdef0', cidr: '10.50.0.0/16', subnets: [{ name: 'private-a', cidr: '10.50.1.0/24', zone: 'eu-west-1a' }] } });
    expect(doc.cluster).toStrictEqual({ name: 'odp-beta', endpoint: { ssm: '/odp/beta/api/endpoint' }, extraSANs: ['api.beta.example'] });
    expect(doc.nodePools[0].nodes).toStrictEqual([{ name: 'beta-cp-1', ip: '10.50.1.10' }]);
    expect(doc.workloads[0].env.DB_PASSWORD).toStrictEqual({ secret: '/odp/beta/portal/db-password' });
    expect(doc.workloads[0].network.egressTo).toStrictEqual([{ cidr: '10.50.0.0/16', ports: [5432] }]);
    expect(out.stdout).toContain('wrote environments/beta.yaml from environments/alpha.yaml: 4 addresses re-based into 10.50.0.0/16');
    expect(out.stdout).toContain('       /odp/beta/api/endpoint  (String)');
    expect(out.stdout).toContain('       /odp/beta/portal/db-password  (SecureString)');
    expect(out.stdout).toContain('npm run synth -- --env beta --refresh-ssm');
    expect(out.stdout).toContain('npm run talos -- secrets import --env beta --from secrets.yaml');
    // Valid apart from its SSM lock, which the refresh writes.
    const r = prepareEnvironment('beta', readEnvironmentSources(root));
    expect(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.rule)).toStrictEqual(['ssm.unlocked']);
  });

  it('refuses to overwrite, and refuses a VPC too small for the addresses', async () => {
    await expect(main(['beta', '--from', 'alpha', '--account', '222222222222', '--cidr', '10.60.0.0/16', '--root', root])).rejects.toThrow('environments/beta.yaml exists already; new-env never overwrites');
    await expect(main(['gamma', '--from', 'alpha', '--account', '222222222222', '--cidr', '10.60.0.0/24', '--root', root])).rejects.toThrow('10.10.1.0/24 is 256 addresses into 10.10.0.0/16, beyond the new VPC 10.60.0.0/24');
    expect(existsSync(join(root, 'environments', 'gamma.yaml'))).toBe(false);
    await expect(main(['gamma', '--from', 'nope', '--account', '222222222222', '--cidr', '10.60.0.0/16', '--root', root])).rejects.toThrow('no such environment: nope');
    await expect(main(['gamma', '--from', 'alpha', '--account', '2222', '--cidr', '10.60.0.0/16', '--root', root])).rejects.toThrow('an AWS account ID is 12 digits');
  });

  it('does not write a result that would not validate', async () => {
    // A /16 at a base that overlaps the pod network: the re-based subnets collide with 10.244.0.0/16.
    expect(await main(['delta', '--from', 'alpha', '--account', '222222222222', '--cidr', '10.244.0.0/16', '--root', root])).toBe(2);
    expect(out.stderr).toMatch(/^environments\/delta\.yaml would not validate; nothing written:\nenvironments\/_fixture\.yaml:\d+:\d+  cluster\.network\.podCIDR: pod CIDR 10\.244\.0\.0\/16 overlaps VPC CIDR 10\.244\.0\.0\/16/);
    expect(existsSync(join(root, 'environments', 'delta.yaml'))).toBe(false);
  });
});

describe('scaffoldEnvironment', () => {
  it('moves ARNs and zones to the new account and region; certificates become SSM placeholders', () => {
    const src = `name: prod
aws: { region: eu-west-1, accountId: "333333333333", vpc: { cidr: 10.30.0.0/16, subnets: [{ name: a, cidr: 10.30.1.0/24, zone: eu-west-1a }] } }
cluster: { talos: { secretsBundle: { kmsKeyId: arn:aws:kms:eu-west-1:333333333333:key/abc } } }
workloads:
  - name: portal
    ingress: { host: portal.prod.example, certificateArn: arn:aws:acm:eu-west-1:333333333333:certificate/x }
`;
    const r = scaffoldEnvironment(src, '10.30.0.0/16', 'eu-west-1', { name: 'dr', from: 'prod', accountId: '444444444444', region: 'eu-central-1', cidr: '10.70.0.0/16' });
    const doc = parse(r.text);
    expect(doc.aws).toStrictEqual({ region: 'eu-central-1', accountId: '444444444444', vpc: { cidr: '10.70.0.0/16', subnets: [{ name: 'a', cidr: '10.70.1.0/24', zone: 'eu-central-1a' }] } });
    expect(doc.cluster.talos.secretsBundle.kmsKeyId).toBe('arn:aws:kms:eu-central-1:444444444444:key/abc');
    expect(doc.workloads[0].ingress).toStrictEqual({ host: 'portal.dr.example', certificateArn: { ssm: '/odp/dr/acm/portal' } });
    expect(r.certificates).toStrictEqual([{ parameter: '/odp/dr/acm/portal', host: 'portal.dr.example' }]);
  });
});
