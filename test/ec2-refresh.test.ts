/**
 * `--refresh-ssm` also locks EC2 facts of the pools' instance types, through the real
 * @aws-sdk/client-ec2 against a local endpoint speaking the EC2 query protocol (AWS_ENDPOINT_URL_EC2),
 * next to the fake Parameter Store; synth then checks the pools against the lock offline.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { main, type SynthDeps } from '../generators/cli/synth.js';
import { createSsmClient } from '../generators/ssm/client.js';
import { createEc2Facts } from '../generators/ssm/ec2.js';
import { parseLock, serializeLock } from '../generators/load/ssm-lock.js';
import { listFiles } from '../generators/write/writer.js';
import { hermeticAwsEnv } from './support/aws-env.js';
import { FakeEc2 } from './support/ec2-server.js';
import { exitOf } from './support/local-server.js';
import { FakeSsm, TEST_CREDENTIALS } from './support/ssm-server.js';
import { ROOT } from './helpers.js';

const FIXTURE_BASE = readFileSync(join(ROOT, 'test', 'fixtures', '_fixture.yaml'), 'utf8');
const envText = (workers: string) => `# yaml-language-server: $schema=../schemas/environment.schema.json
name: alpha
extends: _fixture
cluster: { name: alpha }
nodePools:
  - name: cp
    role: controlplane
    arch: amd64
    instanceType: m7i.large
    subnet: private-a
    nodes: [{ name: cp-1, ip: 10.10.1.10 }]
  - name: workers
    role: worker
    arch: amd64
    instanceType: ${workers}
    subnet: private-a
    count: 2
`;

const ssm = new FakeSsm();
const ec2 = new FakeEc2({ pageSize: 1 });
let restore: () => void = () => {};
let root: string;
let out: string[];

beforeAll(async () => {
  await ssm.start();
  await ec2.start();
  restore = hermeticAwsEnv({ AWS_ENDPOINT_URL_SSM: ssm.url, AWS_ENDPOINT_URL_EC2: ec2.url });
  for (const name of ['/odp/alpha/talos/secrets-bundle', '/odp/alpha/grafana/admin-user', '/odp/alpha/grafana/admin-password']) ssm.put(name, 'x', 'SecureString');
  ec2.add('m7i.large', { vcpu: 2, memoryMiB: 8192, arch: 'x86_64' }, ['eu-west-1', 'us-east-1']);
  ec2.add('m7i.xlarge', { vcpu: 4, memoryMiB: 16384, arch: 'x86_64' }, ['eu-west-1', 'us-east-1']);
  ec2.add('p5.4xlarge', { vcpu: 16, memoryMiB: 262144, arch: 'x86_64', gpus: [{ name: 'H100', manufacturer: 'NVIDIA', count: 1 }] }, ['us-east-1']);
  // A type the instance table does not know, offered in the region: EC2's facts make it usable.
  ec2.add('x8g.xlarge', { vcpu: 4, memoryMiB: 65536, arch: 'arm64' }, ['eu-west-1']);
});
afterAll(async () => {
  restore();
  await ssm.close();
  await ec2.close();
});

const deps = (): SynthDeps => ({
  ssmClient: (region) => createSsmClient(region, { credentials: TEST_CREDENTIALS, retryDelayMs: 1, maxAttempts: 2 }),
  checkAccount: true,
  stdout: (t) => out.push(t),
  ec2: (region) => createEc2Facts(region, { credentials: TEST_CREDENTIALS, retryDelayMs: 1, maxAttempts: 2 }),
});

const synth = (...args: string[]) => exitOf(() => main(['--root', root, ...args], deps()));

const snapshot = (): Map<string, string> => new Map(listFiles(root).map((f) => [f, readFileSync(join(root, f), 'utf8')]));
const lockText = (): string => readFileSync(join(root, 'environments', 'alpha.ssm.lock.json'), 'utf8');

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'odp-ec2-'));
  mkdirSync(join(root, 'environments'));
  writeFileSync(join(root, 'environments', '_fixture.yaml'), FIXTURE_BASE);
  writeFileSync(join(root, 'environments', 'alpha.yaml'), envText('m7i.xlarge'));
  out = [];
  ec2.requests.length = 0;
  ec2.faults.clear();
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('EC2 facts in the lock', () => {
  it('locks offering and sizes of the pools\u2019 types in the environment\u2019s region, through signed query-protocol requests', async () => {
    expect((await synth('--refresh-ssm')).error?.message).toBeUndefined();
    expect(JSON.parse(lockText()).ec2).toStrictEqual({
      region: 'eu-west-1',
      instanceTypes: {
        'm7i.large': { offered: true, arch: 'amd64', vcpu: 2, memoryMiB: 8192, gpus: 0 },
        'm7i.xlarge': { offered: true, arch: 'amd64', vcpu: 4, memoryMiB: 16384, gpus: 0 },
      },
    });
    // Paginated offerings (page size 1), one DescribeInstanceTypes; every request signed for eu-west-1.
    expect([ec2.count('DescribeInstanceTypeOfferings'), ec2.count('DescribeInstanceTypes')]).toStrictEqual([2, 1]);
    expect(ec2.requests.every((r) => r.signed)).toBe(true);
    expect(ec2.requests[0]!.params.get('LocationType')).toBe('region');
    expect(out.join('')).toContain('alpha: 2 instance types locked from EC2 (eu-west-1)');
    // Offline synth reads it back, and the serialization is stable.
    expect((await synth()).code).toBe(0);
    expect(serializeLock(parseLock('x', lockText()).lock)).toBe(lockText());
  });

  it('a type not offered in the region is a positioned error; nothing is written', async () => {
    expect((await synth('--refresh-ssm')).code).toBe(0);
    writeFileSync(join(root, 'environments', 'alpha.yaml'), envText('p5.4xlarge'));
    const before = snapshot();
    const r = await synth('--refresh-ssm');
    expect(r.code).toBe(2);
    expect(r.error?.message).toContain('environments/alpha.yaml:15:19  nodePools[1].instanceType: p5.4xlarge is not offered in region eu-west-1 (EC2 DescribeInstanceTypeOfferings, locked in environments/alpha.ssm.lock.json)');
    expect(snapshot()).toStrictEqual(before);
  });

  it('a type the table lacks is accepted with the facts EC2 gave', async () => {
    writeFileSync(join(root, 'environments', 'alpha.yaml'), envText('x8g.xlarge').replace('arch: amd64\n    instanceType: x8g', 'arch: arm64\n    instanceType: x8g'));
    expect((await synth('--refresh-ssm')).error?.message).toBeUndefined();
    expect(JSON.parse(lockText()).ec2.instanceTypes['x8g.xlarge']).toStrictEqual({ offered: true, arch: 'arm64', vcpu: 4, memoryMiB: 65536, gpus: 0 });
    // Without the lock's facts the same file is refused offline.
    const lock = JSON.parse(lockText());
    delete lock.ec2;
    writeFileSync(join(root, 'environments', 'alpha.ssm.lock.json'), JSON.stringify(lock));
    const r = await synth();
    expect(r.code).toBe(2);
    expect(r.error?.message).toContain("nodePools[1].instanceType: unknown EC2 instance type 'x8g.xlarge'");
  });

  it('an EC2 failure is exit 3 naming the environment and its pools; nothing is written', async () => {
    expect((await synth('--refresh-ssm')).code).toBe(0);
    const before = snapshot();
    ec2.faults.set('DescribeInstanceTypeOfferings', { code: 'UnauthorizedOperation', status: 403 });
    const r = await synth('--refresh-ssm');
    expect(r.code).toBe(3);
    expect(r.error?.message).toMatch(/^EC2 refresh failed for environment alpha \(region eu-west-1, account 111111111111\): DescribeInstanceTypeOfferings: UnauthorizedOperation/);
    expect(r.error?.message).toContain('environments/alpha.yaml:15:19  nodePools[1].instanceType: m7i.xlarge');
    expect(r.error?.message).toContain('Nothing was written');
    expect(snapshot()).toStrictEqual(before);
  });

  it('an old lock without ec2 stays readable', () => {
    const old = '{\n  "version": 1,\n  "parameters": {}\n}\n';
    expect(parseLock('x', old)).toStrictEqual({ lock: { version: 1, parameters: {}, paths: {} }, diagnostics: [] });
    expect(serializeLock(parseLock('x', old).lock)).toBe(old);
  });
});
