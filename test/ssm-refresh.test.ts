/**
 * `npm run synth -- --refresh-ssm` end to end on a temporary copy of a small project, against the
 * local fake Parameter Store through the real SDK (AWS_ENDPOINT_URL_SSM), and plain synth with no
 * credentials and no network.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main, type SynthDeps } from '../generators/cli/synth.js';
import { readEnvironmentSources, resolveEnvironment } from '../generators/load/loader.js';
import { prepareEnvironment } from '../generators/pipeline.js';
import { renderModel } from '../generators/render/index.js';
import { createSsmClient } from '../generators/ssm/client.js';
import { findSsmReferences, lockFile, parseLock, placeholderLock, placeholderNames, serializeLock } from '../generators/load/ssm-lock.js';
import { listFiles } from '../generators/write/writer.js';
import { STATE_FILE } from '../generators/write/state.js';
import { resolveInputPath } from '../generators/lib/paths.js';
import { hermeticAwsEnv } from './support/aws-env.js';
import { exitOf } from './support/local-server.js';
import { closedPortUrl, FakeSsm, serveFakeSsm, TEST_CREDENTIALS, throttling } from './support/ssm-server.js';
import { PROVENANCE_FILE } from '../generators/render/header.js';
import { FIXTURES, ROOT, TSX } from './helpers.js';

const FIXTURE_BASE = readFileSync(join(FIXTURES, '_fixture.yaml'), 'utf8');
const SCHEMA = '# yaml-language-server: $schema=../schemas/environment.schema.json\n';

const envText = (name: string, extra = '') => `${SCHEMA}name: ${name}
extends: _fixture
aws:
  vpc:
    id: { ssm: /odp/${name}/network/vpc-id }
cluster:
  name: ${name}
  datastore:
    type: etcd
    backup: { bucket: { ssm: /odp/${name}/backup/bucket }, prefix: etcd, ageRecipientPublicKey: age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq }
workloads:
  - name: portal
    image: ghcr.io/opendev/portal:1.4.2
    resources: { requests: { cpu: 100m, memory: 128Mi } }
    envFrom: [{ ssmPath: /odp/${name}/portal/ }]
    env: { LOG_LEVEL: info, DB_PASSWORD: { secret: /odp/${name}/secrets/portal-db-password } }
${extra}`;

/** A SecureString value the tests recognise: it must never appear in a lock, rendered/ or the output. */
const plaintext = (env: string, what: string) => `PLAINTEXT-${what}-${env}-must-never-leak`;

/** The SecureStrings an environment of envText depends on: its { secret }, the Talos bundle, the Grafana admin (catalog). */
const SECRETS = (env: string): string[] => [`/odp/${env}/secrets/portal-db-password`, `/odp/${env}/talos/secrets-bundle`, `/odp/${env}/grafana/admin-user`, `/odp/${env}/grafana/admin-password`];

/** The AMI of the fixtures' Talos node class (v1.13.9, amd64, no extensions), account-wide. */
const TALOS_IMAGE = '/odp/images/talos/v1.13.9/amd64/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba';

function seed(server: FakeSsm): void {
  server.put(TALOS_IMAGE, 'ami-0a1b2c3d4e5f60718');
  for (const env of ['alpha', 'beta']) {
    server.put(`/odp/${env}/network/vpc-id`, `vpc-0${env === 'alpha' ? 'a' : 'b'}000000000000001`);
    server.put(`/odp/${env}/backup/bucket`, `odp-${env}-etcd-backups`);
    for (const [k, v] of [['DATABASE_HOST', `db.${env}.internal`], ['FEATURE_FLAGS', 'a,b,c'], ['PUBLIC_URL', `https://portal.${env}.example`]]) server.put(`/odp/${env}/portal/${k}`, v!);
    for (const name of SECRETS(env)) server.put(name, plaintext(env, name.split('/').pop()!), 'SecureString');
  }
}

const server = new FakeSsm({ pageSize: 2 });
let root: string;
let out: string[];
/** The summary lines synth ends with, kept apart from its report. */
let summaries: string[];

const deps = (): SynthDeps => ({
  ssmClient: (region) => createSsmClient(region, { credentials: TEST_CREDENTIALS, retryDelayMs: 1, maxAttempts: 3 }),
  checkAccount: true,
  stdout: (t) => (t.startsWith('synth: ') ? summaries.push(t) : out.push(t)),
});

const synth = (...args: string[]) => exitOf(() => main(['--root', root, ...args], deps()));

function snapshot(): Map<string, string> {
  return new Map(listFiles(root).filter((f) => f !== `rendered/${STATE_FILE}`).map((f) => [f, readFileSync(join(root, f), 'utf8')]));
}

/** rendered/ files of `env` in a snapshot that contain `text`. */
const mentioning = (snap: Map<string, string>, env: string, text: string): string[] =>
  [...snap].filter(([k, c]) => k.startsWith(`rendered/${env}/`) && !k.endsWith(PROVENANCE_FILE) && c.includes(text)).map(([k]) => k);

const changedFiles = (a: Map<string, string>, b: Map<string, string>): string[] => [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).sort();

/** rendered/ files of `env` whose declared inputs cover a reference to `parameter`. */
function filesUsing(env: string, parameter: string): string[] {
  const sources = readEnvironmentSources(root);
  const r = prepareEnvironment(env, sources);
  if (!r.prepared) throw new Error('environment does not prepare');
  const lock = parseLock(lockFile(env), sources.get(lockFile(env))).lock;
  const refPaths = findSsmReferences(r.prepared.resolved.data)
    .filter((ref) => (ref.kind === 'name' ? ref.name === parameter : (lock.paths[ref.name] ?? []).includes(parameter)))
    .map((ref) => ref.path);
  const overlaps = (a: readonly (string | number)[], b: readonly (string | number)[]) => a.slice(0, Math.min(a.length, b.length)).every((s, i) => s === b[i]);
  return renderModel(r.prepared.model)
    .filter((f) => f.inputs === undefined || f.inputs.some((i) => refPaths.some((p) => overlaps(resolveInputPath(r.prepared!.resolved.data, i), p))))
    .map((f) => `rendered/${env}/${f.path}`)
    .sort();
}

serveFakeSsm(server);

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), 'odp-ssm-'));
  mkdirSync(join(root, 'environments'));
  writeFileSync(join(root, 'environments', '_fixture.yaml'), FIXTURE_BASE);
  writeFileSync(join(root, 'environments', 'alpha.yaml'), envText('alpha'));
  writeFileSync(join(root, 'environments', 'beta.yaml'), envText('beta'));
  out = [];
  summaries = [];
  seed(server);
  // The project as committed: locks from a first refresh, rendered/ from it.
  const r = await synth('--refresh-ssm');
  expect(r.error?.message).toBeUndefined();
  server.requests.length = 0;
  out = [];
  summaries = [];
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
  server.parameters.clear();
  server.clearFaults();
  server.requests.length = 0;
  server.opts.accountId = undefined;
});

describe('the committed lock', () => {
  it('holds name, value, type, version and last modified of every referenced parameter, in stable order; ssmPath expands to a map', () => {
    const lock = JSON.parse(readFileSync(join(root, 'environments', 'alpha.ssm.lock.json'), 'utf8'));
    expect(Object.keys(lock.parameters)).toStrictEqual([
      '/odp/alpha/backup/bucket',
      '/odp/alpha/network/vpc-id',
      '/odp/alpha/portal/DATABASE_HOST',
      '/odp/alpha/portal/FEATURE_FLAGS',
      '/odp/alpha/portal/PUBLIC_URL',
      TALOS_IMAGE,
    ]);
    expect(lock.parameters['/odp/alpha/backup/bucket']).toStrictEqual({ value: 'odp-alpha-etcd-backups', type: 'String', version: 1, lastModified: '2026-11-20T09:00:00.000Z' });
    expect(lock.paths).toStrictEqual({ '/odp/alpha/portal/': ['/odp/alpha/portal/DATABASE_HOST', '/odp/alpha/portal/FEATURE_FLAGS', '/odp/alpha/portal/PUBLIC_URL'] });
    const prepared = prepareEnvironment('alpha', readEnvironmentSources(root)).prepared!;
    expect(prepared.model.workloads[0]!.env).toStrictEqual({
      DATABASE_HOST: 'db.alpha.internal',
      FEATURE_FLAGS: 'a,b,c',
      PUBLIC_URL: 'https://portal.alpha.example',
      LOG_LEVEL: 'info',
      DB_PASSWORD: { secret: '/odp/alpha/secrets/portal-db-password' },
    });
    expect(prepared.model.aws.vpc.id).toBe('vpc-0a000000000000001');
  });

  it('synth with no AWS credentials and no network renders from the lock (a real process)', () => {
    const before = snapshot();
    rmSync(join(root, 'rendered'), { recursive: true });
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: root,
      AWS_CONFIG_FILE: join(root, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(root, 'no-aws-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL_SSM: 'http://127.0.0.1:9', // would refuse, if anything tried
    };
    const r = spawnSync(TSX, [join(ROOT, 'generators', 'cli', 'synth.ts'), '--root', root], { env, encoding: 'utf8' });
    // Nothing but the fixture base's host-network-role warnings (node-exporter on the control planes: test/host-network.test.ts)
    // and the default-budget warning of the portal's 2 replicas on the base's one worker (test/workload-rules.test.ts).
    expect(r.stderr.split('\n').filter((l) => l !== '' && !l.includes(' from the host network of pool ') && !l.includes('with the default disruption budget'))).toStrictEqual([]);
    expect(r.status).toBe(0);
    expect(changedFiles(before, snapshot())).toStrictEqual([]);
  });

  it('plain synth never creates an SSM client', async () => {
    const r = await main(['--root', root], { ...deps(), ssmClient: () => { throw new Error('synth must not talk to SSM'); } });
    expect(r).toBe(0);
  });
});

describe('--refresh-ssm', () => {
  it('updates the lock, prints old → new, and changes exactly the rendered files that show the value (and the manifest)', async () => {
    const declared = filesUsing('alpha', '/odp/alpha/backup/bucket');
    const before = snapshot();
    server.put('/odp/alpha/backup/bucket', 'odp-alpha-etcd-backups-v2', 'String', new Date(Date.UTC(2026, 11, 1, 12, 0, 0)));
    const r = await synth('--refresh-ssm');
    expect(r.error?.message).toBeUndefined();
    expect(out.join('')).toBe(
      [
        'environments/alpha.ssm.lock.json (eu-west-1): 6 parameters, 1 change:',
        '  ~ /odp/alpha/backup/bucket: "odp-alpha-etcd-backups" → "odp-alpha-etcd-backups-v2" (v1 → v2, modified 2026-12-01T12:00:00.000Z)',
        'alpha: 4 secret references verified (SecureString, values not read)',
        'alpha: 1 node image locked',
        'environments/beta.ssm.lock.json (eu-west-1): 6 parameters, no value changed',
        'beta: 4 secret references verified (SecureString, values not read)',
        'beta: 1 node image locked',
        '',
      ].join('\n'),
    );
    const shown = mentioning(snapshot(), 'alpha', 'odp-alpha-etcd-backups-v2');
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.filter((f) => !declared.includes(f))).toStrictEqual([]);
    expect(changedFiles(before, snapshot())).toStrictEqual(['environments/alpha.ssm.lock.json', `rendered/alpha/${PROVENANCE_FILE}`, ...shown].sort());
    expect(JSON.parse(readFileSync(join(root, lockFile('alpha')), 'utf8')).parameters['/odp/alpha/backup/bucket']).toStrictEqual({
      value: 'odp-alpha-etcd-backups-v2',
      type: 'String',
      version: 2,
      lastModified: '2026-12-01T12:00:00.000Z',
    });
    // The next plain synth is offline and changes nothing more.
    const after = snapshot();
    expect((await synth()).code).toBe(0);
    expect(changedFiles(after, snapshot())).toStrictEqual([]);
  });

  it("replaces the placeholders new-env locked (before the account existed) with the parameters' values", async () => {
    const sources = readEnvironmentSources(root);
    const { env } = resolveEnvironment('alpha', sources);
    writeFileSync(join(root, lockFile('alpha')), serializeLock(placeholderLock(findSsmReferences(env!.data))));
    const before = prepareEnvironment('alpha', readEnvironmentSources(root));
    expect(before.diagnostics.filter((d) => d.rule === 'ssm.placeholder')).toHaveLength(3);
    expect((await synth('--env', 'alpha', '--refresh-ssm')).code).toBe(0);
    expect(out.join('')).toContain('  ~ /odp/alpha/network/vpc-id: "odp-placeholder(/odp/alpha/network/vpc-id)" → "vpc-0a000000000000001" (v0 → v1');
    const lock = parseLock(lockFile('alpha'), readFileSync(join(root, lockFile('alpha')), 'utf8')).lock;
    expect(placeholderNames(lock)).toStrictEqual([]);
    const after = prepareEnvironment('alpha', readEnvironmentSources(root));
    expect(after.diagnostics.filter((d) => d.rule === 'ssm.placeholder')).toStrictEqual([]);
    expect(mentioning(snapshot(), 'alpha', 'odp-placeholder')).toStrictEqual([]);
  });

  it('--env refreshes only that environment; a parameter no rendered file uses changes only the lock', async () => {
    const before = snapshot();
    server.put('/odp/beta/network/vpc-id', 'vpc-0b000000000000002');
    server.put('/odp/alpha/network/vpc-id', 'vpc-0a000000000000002');
    expect((await synth('--env', 'beta', '--refresh-ssm')).code).toBe(0);
    // Only beta's parameters, and the account-wide image of its node class.
    expect(server.requests.every((q) => JSON.stringify(q.body).includes('/odp/beta/') || JSON.stringify(q.body).includes(TALOS_IMAGE))).toBe(true);
    const shown = mentioning(snapshot(), 'beta', 'vpc-0b000000000000002');
    expect(shown.filter((f) => !filesUsing('beta', '/odp/beta/network/vpc-id').includes(f))).toStrictEqual([]);
    const manifest = filesUsing('beta', '/odp/beta/network/vpc-id').length > 0 ? [`rendered/beta/${PROVENANCE_FILE}`] : [];
    expect(changedFiles(before, snapshot())).toStrictEqual(['environments/beta.ssm.lock.json', ...manifest, ...shown].sort());
  });

  it('batches GetParameters, pages GetParametersByPath, never asks for decryption', async () => {
    expect((await synth('--refresh-ssm')).code).toBe(0);
    expect(server.count('GetParameters')).toBe(6); // per environment: one batch of { ssm } names, one of SecureString names, one of node images
    expect(server.count('GetParametersByPath')).toBe(4); // 3 parameters, pages of 2, per environment
    expect(server.requests.every((q) => q.body.WithDecryption === false && q.signed)).toBe(true);
  });

  it('a throttled endpoint is retried until it recovers', async () => {
    server.fail('GetParameters', throttling, 2);
    expect((await synth('--refresh-ssm')).code).toBe(0);
    expect(server.count('GetParameters')).toBe(8);
  });
});

describe('--refresh-ssm failures: one message, exit 3 (2 for a SecureString), nothing written', () => {
  async function failing(...args: string[]): Promise<Error & { exitCode?: number }> {
    const before = snapshot();
    const r = await synth('--refresh-ssm', ...args);
    expect(r.error).toBeDefined();
    expect(changedFiles(before, snapshot())).toStrictEqual([]);
    expect(out).toStrictEqual([]);
    return r.error!;
  }

  it('throttled beyond the retries', async () => {
    server.put('/odp/alpha/backup/bucket', 'changed-but-never-written');
    server.fail((q) => JSON.stringify(q.body).includes('/odp/beta/') && q.target === 'AmazonSSM.GetParameters', throttling);
    const e = await failing();
    expect(e.exitCode).toBe(3);
    expect(e.message).toBe(
      [
        'SSM refresh failed for environment beta (region eu-west-1, account 111111111111): GetParameters throttled by SSM after 3 attempts (ThrottlingException: Rate exceeded)',
        '  environments/beta.yaml:6:9  aws.vpc.id: parameter /odp/beta/network/vpc-id',
        '  environments/beta.yaml:11:23  cluster.datastore.backup.bucket: parameter /odp/beta/backup/bucket',
        "  hint: retry later, or raise the account's Parameter Store throughput (higher throughput setting)",
        'Nothing was written: the SSM locks and rendered/ are unchanged.',
      ].join('\n'),
    );
    expect(server.count('GetParameters')).toBe(6); // alpha three times ({ ssm } names, secrets, images), beta three attempts
  });

  it('a missing parameter and an empty path', async () => {
    server.parameters.delete('/odp/alpha/backup/bucket');
    for (const k of ['DATABASE_HOST', 'FEATURE_FLAGS', 'PUBLIC_URL']) server.parameters.delete(`/odp/beta/portal/${k}`);
    const e = await failing();
    expect(e.exitCode).toBe(3);
    expect(e.message.split('\n')).toStrictEqual([
      'SSM refresh failed:',
      'environments/alpha.yaml:11:23  cluster.datastore.backup.bucket: SSM parameter /odp/alpha/backup/bucket does not exist (account 111111111111, region eu-west-1)  (create it (aws ssm put-parameter --type String --name /odp/alpha/backup/bucket --value …), or fix the name; check that the credentials are for account 111111111111)',
      'environments/beta.yaml:16:15  workloads[0].envFrom[0]: SSM path /odp/beta/portal/ has no parameters directly below it (account 111111111111, region eu-west-1)  (create String parameters named /odp/beta/portal/<NAME>, or fix the prefix; check that the credentials are for account 111111111111)',
      'Nothing was written: the SSM locks and rendered/ are unchanged.',
    ]);
  });

  it('a SecureString referenced as { ssm } is refused at the reference, and its value is never read or stored', async () => {
    writeFileSync(join(root, 'environments', 'alpha.yaml'), envText('alpha').replace('DB_PASSWORD: { secret: /odp/alpha/secrets/portal-db-password }', 'DB_PASSWORD: { ssm: /odp/alpha/portal-db/password }'));
    server.put('/odp/alpha/portal-db/password', 'hunter2-plaintext', 'SecureString');
    const e = await failing();
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain(
      'environments/alpha.yaml:17:42  workloads[0].env.DB_PASSWORD: SSM parameter /odp/alpha/portal-db/password is a SecureString: its value may not enter the lock or rendered/  (use { secret: /odp/alpha/portal-db/password } here',
    );
    expect(e.message).not.toMatch(/hunter2|CIPHERTEXT/);
    expect(server.requests.every((q) => q.body.WithDecryption === false)).toBe(true);
  });

  it('a SecureString under an ssmPath prefix is refused', async () => {
    server.put('/odp/alpha/portal/API_TOKEN', 'plaintext', 'SecureString');
    const e = await failing('--env', 'alpha');
    expect(e.message).toContain('environments/alpha.yaml:16:15  workloads[0].envFrom[0]: SSM path /odp/alpha/portal/ holds SecureString /odp/alpha/portal/API_TOKEN');
  });

  it('access denied names the parameter the service named', async () => {
    server.fail('GetParameters', server.accessDenied('/odp/alpha/backup/bucket'));
    const e = await failing('--env', 'alpha');
    expect(e.exitCode).toBe(3);
    expect(e.message.split('\n').slice(0, 2)).toStrictEqual([
      expect.stringMatching(/^SSM refresh failed for environment alpha \(region eu-west-1, account 111111111111\): GetParameters access denied \(AccessDeniedException: User: .* on resource: arn:aws:ssm:eu-west-1:111111111111:parameter\/odp\/alpha\/backup\/bucket/),
      '  environments/alpha.yaml:11:23  cluster.datastore.backup.bucket: parameter /odp/alpha/backup/bucket',
    ]);
  });

  it('credentials for another account', async () => {
    server.opts.accountId = '999999999999';
    const e = await failing('--env', 'alpha');
    expect(e.message).toContain('environments/_fixture.yaml:6:14  aws.accountId: the AWS credentials read SSM in account 999999999999, but environment alpha is in account 111111111111');
  });

  it('no credentials at all', async () => {
    const before = snapshot();
    const r = await main(['--root', root, '--refresh-ssm'], { ...deps(), ssmClient: (region) => createSsmClient(region, { retryDelayMs: 1 }) }).catch((e: Error & { exitCode?: number }) => e);
    expect(r).toBeInstanceOf(Error);
    expect((r as Error & { exitCode: number }).exitCode).toBe(3);
    expect((r as Error).message).toMatch(/^SSM refresh failed for environment alpha \(region eu-west-1, account 111111111111\): GetParameters no AWS credentials found/);
    expect(changedFiles(before, snapshot())).toStrictEqual([]);
  });

  it('an unreachable endpoint', async () => {
    const restore = hermeticAwsEnv({ AWS_ENDPOINT_URL_SSM: await closedPortUrl() });
    try {
      const e = await failing();
      expect(e.exitCode).toBe(3);
      expect(e.message).toMatch(/GetParameters the SSM endpoint is unreachable after 3 attempts \(ECONNREFUSED/);
    } finally {
      restore();
    }
  });

  it('a locked value the environment cannot use fails the render, and the lock is not written either', async () => {
    writeFileSync(join(root, 'environments', 'alpha.yaml'), envText('alpha').replace('  name: alpha\n', '  name: alpha\n  endpoint: { ssm: /odp/alpha/api-endpoint }\n'));
    server.put('/odp/alpha/api-endpoint', 'api.alpha.internal:6443'); // no https://
    const e = await failing('--env', 'alpha');
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain("environments/alpha.yaml:9:13  cluster.endpoint: 'api.alpha.internal:6443' is not of the form ^https://[a-z0-9.-]+(:[0-9]+)?$ (the value of SSM parameter /odp/alpha/api-endpoint in environments/alpha.ssm.lock.json)");
  });
});

describe('--refresh-ssm verifies every SecureString the environment depends on, without reading one', () => {
  /** Every file below the project root and everything printed: where no secret may ever show up. */
  const everything = (): string => [...snapshot().values(), ...out].join('\n');

  it('all present: a count per environment, no decryption asked, no value or version in the lock, output or rendered/', async () => {
    for (const name of SECRETS('alpha')) server.put(name, plaintext('alpha', `rotated-${name.split('/').pop()}`), 'SecureString', new Date(Date.UTC(2026, 11, 24)));
    const before = snapshot();
    expect((await synth('--env', 'alpha', '--refresh-ssm')).code).toBe(0);
    expect(out.join('')).toBe(['environments/alpha.ssm.lock.json (eu-west-1): 6 parameters, no value changed', 'alpha: 4 secret references verified (SecureString, values not read)', 'alpha: 1 node image locked', ''].join('\n'));
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatch(/^synth: 1 environment, (\d+) files: 0 written, \1 unchanged, 0 removed(; 1 of 1 not rendered: inputs, lock and generator unchanged, tree verified \(--force renders them\))? \(\d+\.\d s\)\n$/);
    // Rotating every secret (new values, new versions) changed no file.
    expect(changedFiles(before, snapshot())).toStrictEqual([]);
    const secretRequests = server.requests.filter((q) => (q.body.Names as string[] | undefined)?.includes('/odp/alpha/talos/secrets-bundle'));
    expect(secretRequests.map((q) => [...(q.body.Names as string[])].sort())).toStrictEqual([[...SECRETS('alpha')].sort()]);
    expect(server.requests.length).toBeGreaterThan(0);
    expect(server.requests.every((q) => q.body.WithDecryption === false)).toBe(true);
    expect(everything()).not.toMatch(/PLAINTEXT|CIPHERTEXT/);
    const lock = readFileSync(join(root, lockFile('alpha')), 'utf8');
    for (const name of SECRETS('alpha')) expect(lock).not.toContain(name);
  });

  it('a { secret } that does not exist: an error at the reference naming environment, account and region; exit 3, nothing written', async () => {
    server.parameters.delete('/odp/alpha/secrets/portal-db-password');
    const before = snapshot();
    const r = await synth('--refresh-ssm');
    expect(r.code).toBe(3);
    expect(r.error!.message.split('\n')).toStrictEqual([
      'SSM refresh failed:',
      'environments/alpha.yaml:17:42  workloads[0].env.DB_PASSWORD: SSM SecureString /odp/alpha/secrets/portal-db-password does not exist (environment alpha, account 111111111111, region eu-west-1): workload portal: env DB_PASSWORD (ExternalSecret) would fail at runtime  (create it (aws ssm put-parameter --region eu-west-1 --type SecureString --name /odp/alpha/secrets/portal-db-password --value …), or fix the name; check that the credentials are for account 111111111111)',
      'Nothing was written: the SSM locks and rendered/ are unchanged.',
    ]);
    expect(changedFiles(before, snapshot())).toStrictEqual([]);
    expect(out).toStrictEqual([]);
  });

  it('a String where a SecureString is expected: an error (plaintext at rest), its value not repeated', async () => {
    server.parameters.delete('/odp/beta/grafana/admin-password');
    server.put('/odp/beta/grafana/admin-password', 'grafana-admin-in-plaintext');
    const before = snapshot();
    const r = await synth('--refresh-ssm');
    expect(r.code).toBe(3);
    expect(r.error!.message.split('\n')).toStrictEqual([
      'SSM refresh failed:',
      'environments/beta.yaml:2:1  (document): SSM parameter /odp/beta/grafana/admin-password (the default name) is a String, not a SecureString (environment beta, account 111111111111, region eu-west-1): add-on kube-prometheus-stack: Secret monitoring/grafana-admin key admin-password (ExternalSecret) is stored in plaintext at rest  (re-create it as a SecureString (SSM cannot change the type of an existing parameter): aws ssm delete-parameter --region eu-west-1 --name /odp/beta/grafana/admin-password, then aws ssm put-parameter --region eu-west-1 --type SecureString --name /odp/beta/grafana/admin-password --value …; rotate the value, it was readable without kms:Decrypt)',
      'Nothing was written: the SSM locks and rendered/ are unchanged.',
    ]);
    expect(r.error!.message).not.toContain('grafana-admin-in-plaintext');
    expect(changedFiles(before, snapshot())).toStrictEqual([]);
  });

  it('a derived secret not created yet (the Talos bundle before secrets import): a warning with the step, and the refresh succeeds', async () => {
    server.parameters.delete('/odp/alpha/talos/secrets-bundle');
    server.put('/odp/alpha/backup/bucket', 'odp-alpha-etcd-backups-v2');
    const r = await synth('--refresh-ssm');
    expect(r.error?.message).toBeUndefined();
    expect(r.code).toBe(0);
    expect(out.join('').split('\n')).toStrictEqual([
      'environments/alpha.ssm.lock.json (eu-west-1): 6 parameters, 1 change:',
      '  ~ /odp/alpha/backup/bucket: "odp-alpha-etcd-backups" → "odp-alpha-etcd-backups-v2" (v1 → v2, modified 2026-11-20T09:00:00.000Z)',
      'environments/alpha.yaml:7:1  cluster: warning: Talos secrets bundle (read by npm run talos -- config at apply time): SSM SecureString /odp/alpha/talos/secrets-bundle (the default name; cluster.talos.secretsBundle.parameter names another) does not exist yet (environment alpha, account 111111111111, region eu-west-1)  (create it before it is needed: talosctl gen secrets -o secrets.yaml, then npm run talos -- secrets import --env alpha --from secrets.yaml)',
      'alpha: 3 secret references verified (SecureString, values not read), 1 not created yet (warning above)',
      'alpha: 1 node image locked',
      'environments/beta.ssm.lock.json (eu-west-1): 6 parameters, no value changed',
      'beta: 4 secret references verified (SecureString, values not read)',
      'beta: 1 node image locked',
      '',
    ]);
    expect(JSON.parse(readFileSync(join(root, lockFile('alpha')), 'utf8')).parameters['/odp/alpha/backup/bucket'].value).toBe('odp-alpha-etcd-backups-v2');
  });

  it('a bundle parameter named in the environment is checked under that name, and positioned there', async () => {
    writeFileSync(join(root, 'environments', 'alpha.yaml'), envText('alpha').replace('  name: alpha\n', '  name: alpha\n  talos: { secretsBundle: { parameter: /odp/alpha/talos/bundle-v2 } }\n'));
    const r = await synth('--env', 'alpha', '--refresh-ssm');
    expect(r.code).toBe(0);
    expect(out.join('')).toContain(
      'environments/alpha.yaml:9:40  cluster.talos.secretsBundle.parameter: warning: Talos secrets bundle (read by npm run talos -- config at apply time): SSM SecureString /odp/alpha/talos/bundle-v2 does not exist yet',
    );
    expect(out.join('')).toContain('alpha: 3 secret references verified (SecureString, values not read), 1 not created yet (warning above)');
  });

  it("a hub: each managed cluster's config SecureString (what the hub's ExternalSecret reads) is checked by name and type", async () => {
    // alpha becomes the hub of beta (beta's cluster needs an endpoint of its own).
    // A hub reads its cluster registry with a web identity (IRSA; rule secret-access).
    writeFileSync(join(root, 'environments', 'alpha.yaml'), `${envText('alpha').replace('aws:\n', 'aws:\n  iam: { mode: irsa, issuerURL: https://oidc.alpha.example }\n')}argocd: { manages: [beta] }\n`);
    writeFileSync(join(root, 'environments', 'beta.yaml'), envText('beta').replace('  name: beta\n', '  name: beta\n  endpoint: https://api.beta.internal:6443\n'));
    const config = '/odp/alpha/argocd/clusters/beta/config';
    // Not written yet (beta has not run its bootstrap): a warning at beta's entry in argocd.manages, with the step.
    let r = await synth('--env', 'alpha', '--refresh-ssm');
    expect(r.error?.message).toBeUndefined();
    expect(out.join('')).toContain(
      `environments/alpha.yaml:19:21  argocd.manages[0]: warning: Argo CD cluster Secret of managed environment beta (bearer token and CA; the hub's ExternalSecret cluster-beta reads it): SSM SecureString ${config} does not exist yet (environment alpha, account 111111111111, region eu-west-1)  (create it before it is needed: rendered/beta/argocd/bootstrap/bootstrap.sh writes it`,
    );
    expect(out.join('')).toContain('alpha: 4 secret references verified (SecureString, values not read), 1 not created yet (warning above)');
    // Stored as a String: refused (the token would be plaintext at rest), its value never repeated.
    server.put(config, 'PLAINTEXT-bearer-token-must-never-leak');
    out = [];
    r = await synth('--env', 'alpha', '--refresh-ssm');
    expect(r.code).toBe(3);
    expect(r.error!.message).toContain(`environments/alpha.yaml:19:21  argocd.manages[0]: SSM parameter ${config} is a String, not a SecureString`);
    expect(r.error!.message).not.toContain('PLAINTEXT');
    // A SecureString: verified, never decrypted, never locked.
    server.parameters.delete(config);
    server.put(config, plaintext('alpha', 'cluster-config'), 'SecureString');
    out = [];
    r = await synth('--env', 'alpha', '--refresh-ssm');
    expect(r.code).toBe(0);
    expect(out.join('')).toContain('alpha: 5 secret references verified (SecureString, values not read)');
    expect(server.requests.every((q) => q.body.WithDecryption === false)).toBe(true);
    expect(readFileSync(join(root, lockFile('alpha')), 'utf8')).not.toContain(config);
  });

  it('access denied on a SecureString names it at its reference; the hint asks for no kms:Decrypt', async () => {
    server.fail((q) => q.target === 'AmazonSSM.GetParameters' && JSON.stringify(q.body).includes('portal-db-password'), server.accessDenied('/odp/alpha/secrets/portal-db-password'));
    const r = await synth('--env', 'alpha', '--refresh-ssm');
    expect(r.code).toBe(3);
    const lines = r.error!.message.split('\n');
    expect(lines[1]).toBe('  environments/alpha.yaml:17:42  workloads[0].env.DB_PASSWORD: SecureString /odp/alpha/secrets/portal-db-password');
    expect(lines[2]).toMatch(/^ {2}hint: .*ssm:GetParameters.*no kms:Decrypt/);
  });
});
