/**
 * Rule s3-prefix (generators/validate/rules-aws.ts checkS3Prefix): the backup or replica folder inside its bucket.
 * Litestream v0.5.16 writes it verbatim into object keys (s3/replica_client.go:650 `c.Path + "/" + …`) and the IAM
 * policy names it verbatim in its resource ARNs, so a URL, a relative segment or an unsafe character is refused
 * before anything is written (the fixture invalid/s3-prefix.yaml asserts the position and message).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkS3Prefix } from '../generators/validate/rules-aws.js';

const ctx = { region: 'eu-west-1', accountId: '111111111111' };
const problem = (v: string): string | undefined => checkS3Prefix(v, ctx)?.problem;

describe('s3-prefix', () => {
  it('accepts folder names of S3 safe characters, with or without surrounding slashes', () => {
    for (const v of ['k3s/odp-dev-k3s', 'etcd/odp-prod', '/k3s/fixture/', "a.b_c!d*e'f(g)h-1"]) expect(problem(v)).toBeUndefined();
    const safe = fc.stringMatching(/^[A-Za-z0-9!_*'()-][A-Za-z0-9!_.*'()-]{0,20}$/).filter((s) => s !== '.' && s !== '..');
    fc.assert(fc.property(fc.array(safe, { minLength: 1, maxLength: 5 }), (parts) => problem(parts.join('/')) === undefined));
  });

  it('refuses a URL or ARN and names the folder to give', () => {
    expect(checkS3Prefix('s3://odp-litestream/k3s/odp-dev/', ctx)).toStrictEqual({
      problem: "'s3://odp-litestream/k3s/odp-dev/' is not an S3 key prefix: give the folder inside the bucket only",
      hint: "use 'k3s/odp-dev' (the bucket, odp-litestream, goes into the bucket setting)",
    });
    expect(checkS3Prefix('arn:aws:s3:::odp-litestream', ctx)?.hint).toBe('leave it out (the bucket, odp-litestream, goes into the bucket setting)');
  });

  it('refuses unsafe characters, empty folders and relative segments', () => {
    expect(problem('k3s/my cluster')).toBe("'k3s/my cluster' is not an S3 key prefix: a space is not among S3's safe characters");
    expect(problem('k3s/$HOME')).toBe("'k3s/$HOME' is not an S3 key prefix: '$' is not among S3's safe characters");
    expect(problem('k3s//odp')).toBe("'k3s//odp' is not an S3 key prefix: it has an empty folder (//)");
    expect(problem('k3s/../odp')).toBe("'k3s/../odp' is not an S3 key prefix: it has a '.' or '..' folder: S3 keeps it literally, it is no relative path");
  });
});
