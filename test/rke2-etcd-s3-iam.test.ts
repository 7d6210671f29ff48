/**
 * The servers' etcd-snapshot grant evaluated against the S3 requests RKE2's etcd-s3 client makes with the instance
 * profile (rendered aws/base.yaml, policy fixture-controlplane-etcd-snapshots):
 * - the supervisor's pkg/etcd/s3/s3.go GetClient (k3s-io/k3s s3.go:124, 244-250 @ 0d0a789a) first calls minio BucketExists, a HEAD of the bucket: allowed by
 *   s3:ListBucket on the bucket (S3 API reference, HeadBucket, "Permissions"), and the request carries no s3:prefix;
 *   its failure is "failed to test for existence of bucket" and nothing is uploaded, listed or restored from S3;
 * - then PutObject/GetObject/DeleteObject of <folder>/<snapshot> and ListObjectsV2 with prefix <folder>/;
 * - never GetBucketLocation: the client has the region (etcd-s3-region), and minio-go asks the location only without
 *   one (bucket-cache.go getBucketLocation `if c.region != ""`; cited in generators/distributions/rke2/aws.ts).
 * Evaluation as IAM does it for one identity policy: an Allow statement matches when action, resource and every
 * condition match, and a condition on a key absent from the request does not match (IAM User Guide, "Condition keys
 * that aren't present in the request").
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { fixtureSources, formatted } from './helpers.js';

type Statement = { Effect: string; Action: string[]; Resource: string[]; Condition?: Record<string, Record<string, string | string[]>> };
const glob = (pattern: string, value: string): boolean => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`).test(value);
const list = (v: string | string[]): string[] => (Array.isArray(v) ? v : [v]);

function allowed(statements: Statement[], action: string, resource: string, context: Record<string, string> = {}): boolean {
  return statements.some(
    (s) =>
      s.Effect === 'Allow' &&
      s.Action.some((a) => glob(a, action)) &&
      s.Resource.some((r) => glob(r, resource)) &&
      Object.entries(s.Condition ?? {}).every(([op, keys]) =>
        Object.entries(keys).every(([key, values]) => {
          const have = context[key];
          if (have === undefined) return false;
          return list(values).some((v) => (op === 'StringLike' ? glob(v, have) : op === 'StringEquals' ? v === have : false));
        }),
      ),
  );
}

describe('RKE2 etcd-s3 with the instance profile: every request the snapshot client makes is allowed', () => {
  const { sources } = fixtureSources('valid', 'rke2-etcd.yaml');
  const r = prepareEnvironment('rke2-etcd', sources);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  const base = parse(renderEnvironment(r.prepared).find((f) => f.path === 'aws/base.yaml')!.content) as { Resources: Record<string, { Properties: { ManagedPolicyName?: string; PolicyDocument?: { Statement: Statement[] } } }> };
  const policy = Object.values(base.Resources).find((x) => x.Properties.ManagedPolicyName === 'fixture-controlplane-etcd-snapshots')!;
  const statements = policy.Properties.PolicyDocument!.Statement;
  const bucket = 'arn:aws:s3:::odp-fixture-etcd';
  const key = `${bucket}/etcd/fixture/etcd-snapshot-ip-10-10-1-10.eu-west-1.compute.internal-1765065600.zip`;

  it('HeadBucket (BucketExists, no s3:prefix in the request): allowed', () => {
    expect(allowed(statements, 's3:ListBucket', bucket)).toBe(true);
  });

  it('upload, download, prune and list below the folder: allowed; objects elsewhere in the bucket: not', () => {
    for (const a of ['s3:PutObject', 's3:GetObject', 's3:DeleteObject']) {
      expect(allowed(statements, a, key)).toBe(true);
      expect(allowed(statements, a, `${bucket}/other/etcd-snapshot-x`)).toBe(false);
    }
    expect(allowed(statements, 's3:ListBucket', bucket, { 's3:prefix': 'etcd/fixture/' })).toBe(true);
  });

  it('the client is given the region, so GetBucketLocation is neither asked nor granted', () => {
    const { prepared } = r as { prepared: NonNullable<typeof r.prepared> };
    const config = renderEnvironment(prepared).find((f) => f.path.startsWith('rke2/') && f.path.endsWith('.yaml') && f.content.includes('etcd-s3-bucket:'));
    expect(config?.content).toMatch(/^etcd-s3-region: eu-west-1$/m);
    expect(allowed(statements, 's3:GetBucketLocation', bucket)).toBe(false);
  });
});
