import fc from 'fast-check';
import { mockClient } from 'aws-sdk-client-mock';
import { GetParametersByPathCommand, GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import { prepareEnvironment } from '../generators/pipeline.js';
import { diffLocks, formatLockChange, parseLock, serializeLock, type SsmLock } from '../generators/load/ssm-lock.js';
import { formatRefreshReport, refreshLocks } from '../generators/ssm/refresh.js';
import { fixtureSources } from './helpers.js';

const param = (value: string, version = 1) => ({ value, type: 'String' as const, version, lastModified: '2026-11-20T09:00:00.000Z' });

describe('lock format', () => {
  it('serializes in stable order whatever the insertion order, and parses back', () => {
    const names = fc.uniqueArray(fc.stringMatching(/^\/[a-z]{1,6}(\/[A-Za-z0-9_]{1,6}){0,2}$/), { minLength: 0, maxLength: 12 });
    fc.assert(
      fc.property(names, fc.func(fc.integer()), (ns, order) => {
        const lock: SsmLock = { version: 1, parameters: Object.fromEntries(ns.map((n) => [n, param(`v-${n}`)])), paths: {} };
        const shuffled: SsmLock = { ...lock, parameters: Object.fromEntries([...ns].sort((a, b) => order(a) - order(b) || a.localeCompare(b)).map((n) => [n, lock.parameters[n]!])) };
        const text = serializeLock(shuffled);
        expect(text).toBe(serializeLock(lock));
        expect(serializeLock(parseLock('environments/x.ssm.lock.json', text).lock)).toBe(text);
        expect(Object.keys(JSON.parse(text).parameters)).toStrictEqual([...ns].sort());
      }),
    );
  });

  it('refuses a SecureString in a lock (hand-edited), with the command that rewrites it', () => {
    const text = JSON.stringify({ version: 1, parameters: { '/a': { value: 'x', type: 'SecureString', version: 1, lastModified: '' } } });
    expect(parseLock('environments/prod.ssm.lock.json', text).diagnostics.map((d) => `${d.message} (${d.hint})`)).toStrictEqual([
      'unreadable SSM lock: parameter /a: type "SecureString" may not be locked (only String and StringList; SecureStrings never enter the lock) (run npm run synth -- --env prod --refresh-ssm to rewrite it)',
    ]);
  });

  it('positions a broken lock at the offending line: JSON syntax, a name listed twice in a path, a bad value', () => {
    const at = (text: string) => parseLock('environments/prod.ssm.lock.json', text).diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`);
    const p = '"/a": { "value": "x", "type": "String", "version": 1, "lastModified": "" }';
    expect(at(`{\n  "version": 1,\n  "parameters": {\n    ${p},\n  }\n}x\n`)).toStrictEqual([expect.stringMatching(/^6:2 unreadable SSM lock: /)]);
    expect(at(`{\n  "version": 1,\n  "parameters": { ${p} },\n  "paths": {\n    "/": ["/a",\n      "/a"]\n  }\n}\n`)).toStrictEqual(['6:7 unreadable SSM lock: path /: /a is listed twice']);
    expect(at(`{\n  "version": 1,\n  "parameters": {\n    "/a": {\n      "value": 42,\n      "type": "String"\n    }\n  }\n}\n`)).toStrictEqual(['5:16 unreadable SSM lock: parameter /a: "value" must be a string']);
  });

  it('diff: added, removed, changed (old → new), unchanged values omitted', () => {
    const before: SsmLock = { version: 1, parameters: { '/a': param('1'), '/b': param('2'), '/c': param('3') }, paths: {} };
    const after: SsmLock = { version: 1, parameters: { '/a': param('1', 2), '/b': param('20', 2), '/d': param('4') }, paths: {} };
    expect(diffLocks(before, after).map(formatLockChange)).toStrictEqual([
      '  ~ /b: "2" → "20" (v1 → v2, modified 2026-11-20T09:00:00.000Z)',
      '  - /c (was "3", v1; no longer referenced)',
      '  + /d = "4" (v1)',
    ]);
  });
});

describe('resolution from the lock', () => {
  it('{ ssm } in endpoint, extraSANs and an IAM role; envFrom { ssmPath } merged under env (env wins); secrets stay references', () => {
    const { name, sources } = fixtureSources('valid', 'ssm-references.yaml');
    const p = prepareEnvironment(name, sources).prepared!;
    expect(p.model.cluster.endpoint).toBe('https://api.fixture.internal:6443');
    expect(p.model.cluster.certSANs).toContain('odp-fixture-api-0123456789.elb.eu-west-1.amazonaws.com');
    const w = p.model.workloads[0]!;
    expect(w.env).toStrictEqual({ DATABASE_HOST: 'db.fixture.internal', PUBLIC_URL: 'https://override.fixture.example', DB_PASSWORD: { secret: '/odp/fixture/portal/db-password' } });
    expect(w.serviceAccount.iamRoleArn).toBe('arn:aws:iam::111111111111:role/odp-fixture-portal');
    expect(p.ssmParameters).toStrictEqual(['/odp/fixture/api/endpoint', '/odp/fixture/api/nlb', '/odp/fixture/portal/DATABASE_HOST', '/odp/fixture/portal/PUBLIC_URL', '/odp/fixture/portal/role-arn']);
  });
});

describe('refresh with a mocked client (no middleware)', () => {
  it('StringList values are locked as they are; ARNs of the right account pass the account check; SecureStrings are checked, not locked', async () => {
    const { name, sources } = fixtureSources('valid', 'ssm-references.yaml');
    const ssm = mockClient(SSMClient);
    const at = new Date(Date.UTC(2026, 10, 20, 9));
    const arn = (n: string) => `arn:aws:ssm:eu-west-1:111111111111:parameter${n}`;
    const secure = ['/odp/fixture/portal/db-password', '/odp/ssm-references/talos/secrets-bundle', '/odp/ssm-references/grafana/admin-user', '/odp/ssm-references/grafana/admin-password'];
    const wire = (n: string) =>
      secure.includes(n)
        ? { Name: n, Value: 'AQICAHh-ciphertext', Type: 'SecureString', Version: 3, LastModifiedDate: at, ARN: arn(n) }
        : { Name: n, Value: n.endsWith('nlb') ? 'a.elb.amazonaws.com' : n.endsWith('role-arn') ? 'arn:aws:iam::111111111111:role/odp-fixture-portal' : n.endsWith('/endpoint') ? 'https://api.fixture.internal:6443' : `https://${n.split('/').pop()}.example`, Type: n.endsWith('nlb') ? 'StringList' : 'String', Version: 7, LastModifiedDate: at, ARN: arn(n) };
    ssm.on(GetParametersCommand).callsFake((input: { Names: string[] }) => ({ Parameters: input.Names.map(wire), InvalidParameters: [] }));
    ssm.on(GetParametersByPathCommand).resolves({ Parameters: [{ Name: '/odp/fixture/portal/DATABASE_HOST', Value: 'db', Type: 'String', Version: 1, LastModifiedDate: at, ARN: arn('/odp/fixture/portal/DATABASE_HOST') }] });
    // The endpoint keeps the API's port (rule aws.endpoint-port refuses one the load balancer would forward nowhere).
    // The nlb parameter is a StringList of one name: it feeds cluster.extraSANs, where a comma-joined list is one
    // (invalid) subject alternative name and rule extra-san refuses it.
    const [r] = await refreshLocks(sources, [name], { client: () => new SSMClient({ region: 'eu-west-1' }) });
    expect(r!.lock.parameters['/odp/fixture/api/nlb']).toStrictEqual({ value: 'a.elb.amazonaws.com', type: 'StringList', version: 7, lastModified: '2026-11-20T09:00:00.000Z' });
    expect(r!.lock.paths).toStrictEqual({ '/odp/fixture/portal/': ['/odp/fixture/portal/DATABASE_HOST'] });
    expect(ssm.commandCalls(GetParametersCommand).map((c) => [c.args[0].input.WithDecryption, [...c.args[0].input.Names!].sort()])).toStrictEqual([
      [false, ['/odp/fixture/api/endpoint', '/odp/fixture/api/nlb', '/odp/fixture/portal/role-arn']],
      [false, [...secure].sort()],
      // The node class's AMI (generators/infra/aws/images.ts): locked like a { ssm } reference.
      [false, ['/odp/images/talos/v1.13.9/amd64/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba']],
    ]);
    expect(r!.secrets).toStrictEqual({ verified: 4, pending: 0, warnings: [] });
    expect(r!.text).not.toMatch(/ciphertext|db-password|grafana|secrets-bundle/);
    ssm.restore();
  });
});

describe('refresh report', () => {
  it('says when the SecureStrings and node images were not checked (the environment does not build with the new lock)', () => {
    const lock: SsmLock = { version: 1, parameters: {}, paths: {} };
    const text = formatRefreshReport([{ name: 'fixture', region: 'eu-west-1', previous: lock, lock, text: '', fileChanged: false, changes: [] }]);
    expect(text).toContain('fixture: SecureStrings and node images not checked: the environment does not build with the refreshed lock (npm run synth -- --env fixture says why)');
  });
});
