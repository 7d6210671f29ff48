/**
 * The node classes' AMIs in the lock: `--refresh-ssm` reads the image parameter of each class (the
 * one a Talos registration script writes, a vendor's public one for K3s/RKE2) through the real SDK
 * against the local fake Parameter Store, pins each fixed node to the AMI it is created with, and
 * keeps the pin when the class's image moves on; synth then fills the nodes stack's deployment file
 * offline.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { main, type SynthDeps } from '../generators/cli/synth.js';
import { readEnvironmentSources } from '../generators/load/loader.js';
import { prepareEnvironment } from '../generators/pipeline.js';
import { imageParameters } from '../generators/infra/aws/images.js';
import { createSsmClient } from '../generators/ssm/client.js';
import { hermeticAwsEnv } from './support/aws-env.js';
import { exitOf } from './support/local-server.js';
import { FakeSsm, TEST_CREDENTIALS } from './support/ssm-server.js';
import { FIXTURES } from './helpers.js';

const FIXTURE_BASE = readFileSync(join(FIXTURES, '_fixture.yaml'), 'utf8');
const talos = `# yaml-language-server: $schema=../schemas/environment.schema.json
name: alpha
extends: _fixture
cluster: { name: alpha }
`;
const k3s = `# yaml-language-server: $schema=../schemas/environment.schema.json
name: beta
extends: _fixture
cluster:
  name: beta
  distribution: k3s
  talosVersion: null
  k3sVersion: v1.35.2+k3s1
  datastore:
    type: kine-postgres
    postgres: { host: kine.beta.internal, database: k3s, user: k3s, password: { secret: /odp/beta/kine/password } }
`;

const ssm = new FakeSsm();
let restore: () => void = () => {};
let root: string;
let out: string[];

beforeAll(async () => {
  await ssm.start();
  restore = hermeticAwsEnv({ AWS_ENDPOINT_URL_SSM: ssm.url });
  for (const name of ['/odp/alpha/talos/secrets-bundle', '/odp/alpha/grafana/admin-user', '/odp/alpha/grafana/admin-password', '/odp/beta/grafana/admin-user', '/odp/beta/grafana/admin-password', '/odp/beta/kine/password', '/odp/beta/k3s/token', '/odp/beta/k3s/agent-token'])
    ssm.put(name, 'x', 'SecureString');
  ssm.put('/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id', 'ami-0aaaaaaaaaaaaaaa1');
});
afterAll(async () => {
  restore();
  await ssm.close();
});

const deps = (): SynthDeps => ({ ssmClient: (region) => createSsmClient(region, { credentials: TEST_CREDENTIALS, retryDelayMs: 1, maxAttempts: 2 }), checkAccount: true, stdout: (t) => out.push(t) });
const synth = (...args: string[]) => exitOf(() => main(['--root', root, ...args], deps()));
const lock = (env: string) => JSON.parse(readFileSync(join(root, 'environments', `${env}.ssm.lock.json`), 'utf8'));
const deployment = (env: string) => readFileSync(join(root, 'rendered', env, 'aws', 'nodes.deployment.yaml'), 'utf8');

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'odp-images-'));
  mkdirSync(join(root, 'environments'));
  writeFileSync(join(root, 'environments', '_fixture.yaml'), FIXTURE_BASE);
  writeFileSync(join(root, 'environments', 'alpha.yaml'), talos);
  writeFileSync(join(root, 'environments', 'beta.yaml'), k3s);
  out = [];
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function talosParameter(): string {
  const p = prepareEnvironment('alpha', readEnvironmentSources(root)).prepared!;
  return imageParameters(p.model)[0]!;
}

describe('AMIs in the lock', () => {
  it('a Talos class not registered yet is a warning with the script that registers it; once registered, refresh locks it and pins the fixed node', async () => {
    const first = await synth('--refresh-ssm', '--env', 'alpha');
    expect(first.error?.message).toBeUndefined();
    expect(out.join('')).toMatch(/environments\/_fixture\.yaml:\d+:\d+  nodePools\[0\]\.arch: warning: no AMI for node class amd64: SSM parameter \/odp\/images\/talos\/v1\.13\.9\/amd64\/[0-9a-f]{64} does not exist \(account 111111111111, region eu-west-1\)  \(register it first: sh rendered\/alpha\/aws\/images\/amd64\.sh \(after the base stack exists\)\)/);
    expect(out.join('')).toContain('alpha: 0 node images locked, 1 missing');
    expect(lock('alpha').nodeImages).toBeUndefined();
    // No AMI yet: only the fixed node's instance type (its own parameter, infra/aws/stacks.ts nodeTypeParameter).
    expect(deployment('alpha')).not.toMatch(/Image\w*: ami-/);
    expect(deployment('alpha')).toMatch(/parameters:\n  NodeCp1InstanceType: [a-z0-9]+\.[a-z0-9]+\n/);

    ssm.put(talosParameter(), 'ami-0123456789abcdef0');
    out = [];
    expect((await synth('--refresh-ssm', '--env', 'alpha')).error?.message).toBeUndefined();
    expect(out.join('')).toContain('alpha: 1 node image locked');
    expect(lock('alpha').parameters[talosParameter()].value).toBe('ami-0123456789abcdef0');
    expect(lock('alpha').nodeImages).toStrictEqual({ 'cp-1': 'ami-0123456789abcdef0' });
    expect(deployment('alpha')).toContain('ImageAmd64: ami-0123456789abcdef0');
    expect(deployment('alpha')).toContain('NodeCp1Image: ami-0123456789abcdef0');

    // The class moves on (a newer registration): the pool follows, the running node keeps its image.
    ssm.put(talosParameter(), 'ami-0fedcba9876543210');
    expect((await synth('--refresh-ssm', '--env', 'alpha')).error?.message).toBeUndefined();
    expect(lock('alpha').nodeImages).toStrictEqual({ 'cp-1': 'ami-0123456789abcdef0' });
    expect(deployment('alpha')).toContain('ImageAmd64: ami-0fedcba9876543210');
    expect(deployment('alpha')).toContain('NodeCp1Image: ami-0123456789abcdef0');
    // Offline synth reads it back unchanged.
    expect((await synth('--env', 'alpha')).code).toBe(0);
  });

  it('K3s reads the vendor’s public parameter (Canonical’s Ubuntu 24.04) into the lock', async () => {
    const r = await synth('--refresh-ssm', '--env', 'beta');
    expect(r.error?.message).toBeUndefined();
    expect(lock('beta').parameters['/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id'].value).toBe('ami-0aaaaaaaaaaaaaaa1');
    expect(lock('beta').nodeImages).toStrictEqual({ 'cp-1': 'ami-0aaaaaaaaaaaaaaa1' });
    expect(ssm.requests.some((q) => q.target.endsWith('GetParameters') && JSON.stringify(q.body).includes('/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id'))).toBe(true);
  });

  // A pinned AMI is of one architecture: a pool moved to the other one (m7i → m7g) cannot keep its fixed nodes on it
  // (EC2 runs no AMI on an instance type of another architecture; the instance changes its image only by a replacement).
  it('each pin records its architecture (also for a pin of a lock from before); a pool moved to the other one is refused at its arch', async () => {
    expect((await synth('--refresh-ssm', '--env', 'beta')).code).toBe(0);
    expect(lock('beta').nodeImageArch).toStrictEqual({ 'cp-1': 'amd64' });
    const l = lock('beta');
    delete l.nodeImageArch;
    writeFileSync(join(root, 'environments', 'beta.ssm.lock.json'), JSON.stringify(l, null, 2));
    expect((await synth('--refresh-ssm', '--env', 'beta')).code).toBe(0);
    expect(lock('beta').nodeImageArch).toStrictEqual({ 'cp-1': 'amd64' });
    const graviton = `nodePools:
  - { name: cp, role: controlplane, arch: arm64, instanceType: m7g.large, subnet: private-a, nodes: [{ name: cp-1, ip: 10.10.1.10 }] }
  - { name: workers, role: worker, arch: amd64, instanceType: m7i.xlarge, subnet: private-a, count: 1 }
`;
    writeFileSync(join(root, 'environments', 'beta.yaml'), k3s + graviton);
    out = [];
    const r = await synth('--env', 'beta');
    expect(r.code).not.toBe(0);
    expect(`${out.join('')}${r.error?.message ?? ''}`).toMatch(/environments\/beta\.yaml:\d+:\d+  nodePools\[0\]\.arch: node cp-1 keeps its pinned amd64 AMI ami-0aaaaaaaaaaaaaaa1 \(the lock's nodeImages\), but its pool is now arm64 \(m7g\.large\)/);
    // The pin followed (its entries deleted, as the hint says): the node takes the class's image, a replacement.
    const unpinned = lock('beta');
    delete unpinned.nodeImages;
    delete unpinned.nodeImageArch;
    writeFileSync(join(root, 'environments', 'beta.ssm.lock.json'), JSON.stringify(unpinned, null, 2));
    out = [];
    const again = await synth('--env', 'beta');
    expect(`${out.join('')}${again.error?.message ?? ''}`).not.toContain('aws.node-image-arch');
    expect(`${out.join('')}${again.error?.message ?? ''}`).not.toContain('keeps its pinned');
  });

  it('a lock with a malformed node image is refused at its line', async () => {
    expect((await synth('--refresh-ssm', '--env', 'beta')).code).toBe(0);
    const l = lock('beta');
    l.nodeImages['cp-1'] = 'not-an-ami';
    writeFileSync(join(root, 'environments', 'beta.ssm.lock.json'), JSON.stringify(l, null, 2));
    const r = await synth('--env', 'beta');
    expect(r.code).toBe(2);
    expect(r.error?.message).toMatch(/environments\/beta\.ssm\.lock\.json:\d+:\d+  nodeImages\.cp-1: unreadable SSM lock: node cp-1: expected an AMI id \(ami-…\)/);
  });
});
