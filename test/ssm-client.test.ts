/**
 * The SSM client module through the real SDK against the local fake Parameter Store
 * (test/support/ssm-server.ts), reached via AWS_ENDPOINT_URL_SSM: serialization, signing,
 * batching, pagination, retries and how each failure is classified.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createSsmClient, describeSsmFailure, getParameters, getParametersByPath, SsmRequestError, type SsmClientOptions } from '../generators/ssm/client.js';
import { closedPortUrl, expiredToken, FakeSsm, serveFakeSsm, TEST_CREDENTIALS, throttling } from './support/ssm-server.js';
import { hermeticAwsEnv } from './support/aws-env.js';

const server = new FakeSsm({ pageSize: 2 });

serveFakeSsm(server);
afterEach(() => {
  server.clearFaults();
  server.requests.length = 0;
  server.parameters.clear();
});

const fast: SsmClientOptions = { credentials: TEST_CREDENTIALS, retryDelayMs: 1, maxAttempts: 3 };
const client = (opts: SsmClientOptions = fast) => createSsmClient('eu-west-1', opts);

async function failure(p: Promise<unknown>): Promise<SsmRequestError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(SsmRequestError);
  return e as SsmRequestError;
}

describe('reads', () => {
  it('GetParameters: 25 names in batches of at most 10, signed, never decrypting; missing names apart', async () => {
    const names = Array.from({ length: 25 }, (_, i) => `/odp/t/p${String(i).padStart(2, '0')}`);
    for (const n of names.slice(0, 24)) server.put(n, `value-of-${n}`);
    const { found, missing } = await getParameters(client(), names);
    expect(found.map((p) => p.name)).toStrictEqual(names.slice(0, 24));
    expect(found[0]).toStrictEqual({ name: '/odp/t/p00', value: 'value-of-/odp/t/p00', type: 'String', version: 1, lastModified: '2026-11-20T09:00:00.000Z', arn: 'arn:aws:ssm:eu-west-1:111111111111:parameter/odp/t/p00' });
    expect(missing).toStrictEqual(['/odp/t/p24']);
    const calls = server.requests.filter((r) => r.target === 'AmazonSSM.GetParameters');
    expect(calls.map((r) => (r.body.Names as string[]).length)).toStrictEqual([10, 10, 5]);
    expect(calls.every((r) => r.signed && r.body.WithDecryption === false)).toBe(true);
  });

  it('GetParametersByPath: follows NextToken through every page, only direct children when not recursive', async () => {
    for (const n of ['A', 'B', 'C', 'D', 'E']) server.put(`/odp/t/app/${n}`, n.toLowerCase());
    server.put('/odp/t/app/nested/X', 'x');
    const direct = await getParametersByPath(client(), '/odp/t/app/', { recursive: false });
    expect(direct.map((p) => [p.name, p.value])).toStrictEqual([['/odp/t/app/A', 'a'], ['/odp/t/app/B', 'b'], ['/odp/t/app/C', 'c'], ['/odp/t/app/D', 'd'], ['/odp/t/app/E', 'e']]);
    expect(server.count('GetParametersByPath')).toBe(3); // pages of 2
    expect(server.requests.map((r) => r.body.NextToken === undefined)).toStrictEqual([true, false, false]);
    const all = await getParametersByPath(client(), '/odp/t/app/');
    expect(all.map((p) => p.name)).toContain('/odp/t/app/nested/X');
  });

  it('a SecureString comes back with its type and without any value (not even ciphertext)', async () => {
    server.put('/odp/t/secret', 'plaintext-never', 'SecureString').put('/odp/t/dir/S', 'also-never', 'SecureString');
    const { found } = await getParameters(client(), ['/odp/t/secret']);
    expect(found.map((p) => [p.type, p.value])).toStrictEqual([['SecureString', '']]);
    const byPath = await getParametersByPath(client(), '/odp/t/dir/');
    expect(byPath.map((p) => [p.type, p.value])).toStrictEqual([['SecureString', '']]);
    expect(server.requests.every((r) => r.body.WithDecryption === false)).toBe(true);
  });
});

describe('retries and failures', () => {
  it('throttling is retried with the standard rules and then succeeds', async () => {
    server.put('/odp/t/a', '1').fail('GetParameters', throttling, 2);
    const { found } = await getParameters(client(), ['/odp/t/a']);
    expect(found.map((p) => p.value)).toStrictEqual(['1']);
    expect(server.count('GetParameters')).toBe(3);
  });

  it('throttling beyond the attempts: classified, with the attempt count and the names of the request', async () => {
    server.fail('*', throttling);
    const e = await failure(getParameters(client(), ['/odp/t/a', '/odp/t/b']));
    expect(server.count('GetParameters')).toBe(3);
    expect(e.failure.kind).toBe('throttled');
    expect(e.failure.summary).toBe('throttled by SSM after 3 attempts (ThrottlingException: Rate exceeded)');
    expect(e.names).toStrictEqual(['/odp/t/a', '/odp/t/b']);
  });

  it('access denied names the parameter the service names, and is not retried', async () => {
    server.fail('*', server.accessDenied('/odp/t/b'));
    const e = await failure(getParameters(client(), ['/odp/t/a', '/odp/t/b']));
    expect(server.count('GetParameters')).toBe(1);
    expect([e.failure.kind, e.failure.parameter]).toStrictEqual(['access-denied', '/odp/t/b']);
  });

  it('expired credentials', async () => {
    server.fail('*', expiredToken);
    const e = await failure(getParametersByPath(client(), '/odp/t/'));
    expect(e.failure.kind).toBe('bad-credentials');
    expect(e.failure.summary).toContain('ExpiredTokenException');
  });

  it('no credentials anywhere in the chain: fails before any request', async () => {
    const e = await failure(getParameters(client({ retryDelayMs: 1, maxAttempts: 2 }), ['/odp/t/a']));
    expect(e.failure.kind).toBe('no-credentials');
    expect(server.requests).toStrictEqual([]);
  });

  it('a request that never gets an answer times out (request timeout), retried, then fails', async () => {
    server.fail('*', 'hang');
    const e = await failure(getParameters(client({ ...fast, maxAttempts: 2, requestTimeoutMs: 150 }), ['/odp/t/a']));
    expect(e.failure.kind).toBe('timeout');
    expect(server.count('GetParameters')).toBe(2);
  });

  it('an unreachable endpoint', async () => {
    const url = await closedPortUrl();
    const restore = hermeticAwsEnv({ AWS_ENDPOINT_URL_SSM: url });
    try {
      const e = await failure(getParameters(client(), ['/odp/t/a']));
      expect(e.failure.kind).toBe('unreachable');
      expect(e.failure.summary).toMatch(/^the SSM endpoint is unreachable after 3 attempts \(ECONNREFUSED/);
      expect(e.failure.hint).toContain(url);
    } finally {
      restore();
    }
  });

  it('anything else keeps the service words', () => {
    expect(describeSsmFailure(Object.assign(new Error('boom'), { name: 'InternalServerError', $metadata: { attempts: 5 } }))).toStrictEqual({
      kind: 'other',
      summary: 'SSM request failed after 5 attempts (InternalServerError: boom)',
      hint: 'run again with --debug for the stack trace',
    });
  });
});
