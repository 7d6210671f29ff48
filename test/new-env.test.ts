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
import { formatPath } from '../generators/lib/paths.js';
import { main as synth } from '../generators/cli/synth.js';
import { main as validate } from '../generators/cli/validate.js';
import { namesEnvironment } from '../generators/scaffold/new-env.js';
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
    // Valid with its lock of placeholders (the refresh replaces them): a warning at the reference, no error.
    const r = prepareEnvironment('beta', readEnvironmentSources(root));
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toStrictEqual([]);
    expect(r.diagnostics.filter((d) => d.rule === 'ssm.placeholder').map((d) => `${d.line}:${d.col} ${formatPath(d.path)}`)).toStrictEqual(['14:13 cluster.endpoint']);
    expect(JSON.parse(readFileSync(join(root, 'environments', 'beta.ssm.lock.json'), 'utf8'))).toStrictEqual({
      version: 1,
      parameters: { '/odp/beta/api/endpoint': { value: 'https://odp-beta-api-endpoint.odp-placeholder.invalid:6443', type: 'String', version: 0, lastModified: '1970-01-01T00:00:00.000Z' } },
    });
    expect(out.stdout).toContain('wrote environments/beta.ssm.lock.json: 1 SSM placeholder (AWS refuses each;');
    expect(out.stdout).toMatch(/^new-env: wrote environments\/beta\.yaml and environments\/beta\.ssm\.lock\.json \(1 placeholder\); 0 values still name alpha \(\d+\.\d s\)$/m);
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

/** A source environment named like the team's staging, with values that name it in ways the rewrite cannot tell apart. */
const STAGING = `# yaml-language-server: $schema=../schemas/environment.schema.json
name: staging
extends: _fixture
aws:
  vpc:
    id: { ssm: /odp/staging/network/vpc-id }
    cidr: 10.10.0.0/16
    subnets:
      - { name: private-a, id: { ssm: /odp/staging/network/subnet-private-a }, cidr: 10.10.1.0/24, zone: eu-west-1a }
cluster:
  name: odp-staging
  endpoint: https://api.staging.odp.internal:6443
  datastore:
    type: etcd
    backup: { bucket: { ssm: /odp/staging/backup/bucket }, prefix: etcd/odp-staging, ageRecipientPublicKey: age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq }
nodePools:
  - name: cp
    role: controlplane
    arch: amd64
    instanceType: m7i.large
    subnet: private-a
    nodes: [{ name: stg-cp-1, ip: 10.10.1.10 }]
  - { name: workers, role: worker, arch: amd64, instanceType: m7i.xlarge, subnet: private-a, count: 1 }
workloads:
  - name: worker
    image: ghcr.io/opendev/worker:2.7.0
    env:
      QUEUE_NAME: odp-staging-jobs
      STAGE_LABEL: Stage
      DOCS_URL: https://docs.opendev.dev/platform
    envFrom: [{ ssmPath: /odp/staging/worker/ }]
    resources: { requests: { cpu: 100m, memory: 128Mi } }
`;
const STAGING_LOCK = JSON.stringify({
  version: 1,
  parameters: Object.fromEntries(
    [
      ['/odp/staging/network/vpc-id', 'vpc-0123456789abcdef0'],
      ['/odp/staging/network/subnet-private-a', 'subnet-0123456789abcdef0'],
      ['/odp/staging/backup/bucket', 'odp-staging-etcd-backups'],
      ['/odp/staging/worker/DATABASE_HOST', 'db.staging.internal'],
    ].map(([k, v]) => [k, { value: v, type: 'String', version: 1, lastModified: '2026-11-20T09:00:00.000Z' }]),
  ),
  paths: { '/odp/staging/worker/': ['/odp/staging/worker/DATABASE_HOST'] },
});

describe('a new environment before its AWS account exists', () => {
  let qa: string;
  beforeAll(() => {
    qa = mkdtempSync(join(tmpdir(), 'odp-new-env-qa-'));
    mkdirSync(join(qa, 'environments'));
    writeFileSync(join(qa, 'environments', '_fixture.yaml'), readFileSync(join(FIXTURES, '_fixture.yaml'), 'utf8'));
    writeFileSync(join(qa, 'environments', 'staging.yaml'), STAGING);
    writeFileSync(join(qa, 'environments', 'staging.ssm.lock.json'), STAGING_LOCK);
  });
  afterAll(() => rmSync(qa, { recursive: true, force: true }));

  it('new-env lists, with positions, every value that still names the source; then synth renders offline and validate warns per placeholder', async () => {
    expect(await main(['qa', '--from', 'staging', '--account', '333333333333', '--cidr', '10.60.0.0/16', '--root', qa])).toBe(0);
    const lines = out.stdout.split('\n');
    const at = lines.indexOf('Values that still name staging (new-env rewrote the names it could tell apart; review these):');
    expect(at).toBeGreaterThan(0);
    expect(lines.slice(at + 1, lines.indexOf('', at))).toStrictEqual([
      '  environments/qa.yaml:23:20  nodePools[0].nodes[0].name: stg-cp-1',
      '  environments/qa.yaml:29:19  workloads[0].env.QUEUE_NAME: odp-staging-jobs',
      '  environments/qa.yaml:30:7  workloads[0].env.STAGE_LABEL: the key STAGE_LABEL',
      '  environments/qa.yaml:30:20  workloads[0].env.STAGE_LABEL: Stage',
    ]);
    // What new-env could tell apart was rewritten; the node-pool label's domain (.dev) is no environment name.
    const text = readFileSync(join(qa, 'environments', 'qa.yaml'), 'utf8');
    expect(text).toContain('endpoint: https://api.qa.odp.internal:6443');
    expect(text).toContain('prefix: etcd/odp-qa');
    // The lock: a placeholder per parameter; the ssmPath gets the names the source had below it.
    const lock = JSON.parse(readFileSync(join(qa, 'environments', 'qa.ssm.lock.json'), 'utf8')) as { parameters: Record<string, { value: string; version: number }>; paths: Record<string, string[]> };
    expect(Object.fromEntries(Object.entries(lock.parameters).map(([k, v]) => [k, v.value]))).toStrictEqual({
      '/odp/qa/backup/bucket': 'odp-placeholder(/odp/qa/backup/bucket)',
      '/odp/qa/network/subnet-private-a': 'odp-placeholder(/odp/qa/network/subnet-private-a)',
      '/odp/qa/network/vpc-id': 'odp-placeholder(/odp/qa/network/vpc-id)',
      '/odp/qa/worker/DATABASE_HOST': 'odp-placeholder(/odp/qa/worker/DATABASE_HOST)',
    });
    expect(lock.paths).toStrictEqual({ '/odp/qa/worker/': ['/odp/qa/worker/DATABASE_HOST'] });
    expect(Object.values(lock.parameters).every((p) => p.version === 0)).toBe(true);
    expect(out.stdout).toContain('  1. Render it now, offline, and open the pull request: npm run synth -- --env qa');

    // synth: offline (no SSM client may be created), warnings only.
    out.stdout = '';
    out.stderr = '';
    const deps = { ssmClient: () => { throw new Error('synth must not call SSM'); }, checkAccount: false, stdout: (t: string) => void (out.stdout += t) };
    expect(await synth(['--root', qa, '--env', 'qa'], deps)).toBe(0);
    expect(out.stdout).toMatch(/^synth: 1 environment, \d+ files: \d+ written/m);
    expect(out.stderr.split('\n').filter((l) => l.includes('[ssm.placeholder]')).map((l) => l.replace(/ .*/, ''))).toStrictEqual([
      'environments/qa.yaml:6:9',
      'environments/qa.yaml:9:31',
      'environments/qa.yaml:16:22',
      'environments/qa.yaml:32:15',
    ]);
    const cronjob = readFileSync(join(qa, 'rendered', 'qa', 'manifests', 'etcd-backup', 'cronjob-etcd-backup.yaml'), 'utf8');
    expect(cronjob).toContain('odp-placeholder(/odp/qa/backup/bucket)');
    // validate: the same warnings, one per rendered file that carries a placeholder, no error.
    out.stdout = '';
    expect(await validate(['--root', qa, '--env', 'qa'])).toBe(0);
    expect(out.stdout).toMatch(/^rendered\/qa\/manifests\/etcd-backup\/cronjob-etcd-backup\.yaml:\d+:\d+ {2}\(document\): warning: carries the SSM placeholder odp-placeholder\(\/odp\/qa\/backup\/bucket\)/m);
    expect(out.stdout).toMatch(/^validate: 1 environment, \d+ rendered files: 0 errors, \d+ warnings/m);
  });

  it('what names an environment: the name, its words and abbreviations, not a top-level domain or a product word', () => {
    expect(namesEnvironment('stg-cp-1', 'staging')).toBe(true);
    expect(namesEnvironment('odp-staging-jobs', 'staging')).toBe(true);
    expect(namesEnvironment('STAGING_URL', 'staging')).toBe(true);
    expect(namesEnvironment('stagingBucket', 'staging')).toBe(true);
    expect(namesEnvironment('prd-db', 'prod')).toBe(true);
    expect(namesEnvironment('production', 'prod')).toBe(true);
    expect(namesEnvironment('pod-security', 'prod')).toBe(false);
    expect(namesEnvironment('portal.dev.example', 'dev')).toBe(true);
    expect(namesEnvironment('node.opendev.dev/pool', 'dev')).toBe(false);
    expect(namesEnvironment('devops', 'dev')).toBe(false);
    expect(namesEnvironment('/etc/rancher/rke2/config.yaml', 'staging-rke2')).toBe(false);
    expect(namesEnvironment('stg-rke2-server-1', 'staging-rke2')).toBe(true);
  });
});
