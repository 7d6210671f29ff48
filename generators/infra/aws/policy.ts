/**
 * ARNs and IAM statements scoped to an environment: its SSM parameters, its buckets and prefixes,
 * its KMS key. Pure data; the stacks and the distribution facts build policies from these.
 */
import type { EnvironmentModel } from '../../model/types.js';
import type { Statement } from './facts.js';

/** The ARN partition of a region (aws, aws-cn, aws-us-gov). */
export const partitionOf = (region: string): string => (region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws');

export const arn = (m: EnvironmentModel, service: string, resource: string, opts: { region?: boolean; account?: boolean } = {}): string =>
  `arn:${partitionOf(m.aws.region)}:${service}:${opts.region === false ? '' : m.aws.region}:${opts.account === false ? '' : m.aws.accountId}:${resource}`;

/** The auto-scaling group of an auto-scaled pool (AutoScalingGroupName in the nodes stack; the boot scripts name it too). */
export const poolGroupName = (m: EnvironmentModel, pool: { name: string }): string => `${m.cluster.name}-${pool.name}`;

/**
 * An auto-scaling group by name. autoscaling:CompleteLifecycleAction takes this resource type
 * (AWS Service Authorization Reference, "Actions, resources, and condition keys for Amazon EC2 Auto
 * Scaling": CompleteLifecycleAction → autoScalingGroup*, ARN
 * `arn:${Partition}:autoscaling:${Region}:${Account}:autoScalingGroup:${GroupId}:autoScalingGroupName/${GroupFriendlyName}`).
 */
export const autoScalingGroupArn = (m: EnvironmentModel, name: string): string => arn(m, 'autoscaling', `autoScalingGroup:*:autoScalingGroupName/${name}`);

/** An SSM parameter (name with its leading slash) or a prefix ending in `/*`. */
export const ssmParameterArn = (m: EnvironmentModel, name: string): string => arn(m, 'ssm', `parameter${name.startsWith('/') ? '' : '/'}${name}`);

export const bucketArn = (m: EnvironmentModel, bucket: string): string => `arn:${partitionOf(m.aws.region)}:s3:::${bucket}`;

/** Objects below a prefix (`a/b` → `arn:…:bucket/a/b/*`; empty prefix → the whole bucket). */
export const objectsArn = (m: EnvironmentModel, bucket: string, prefix: string): string => {
  const p = prefix.replace(/^\/+|\/+$/g, '');
  return `${bucketArn(m, bucket)}/${p ? `${p}/` : ''}*`;
};

/** Read SecureStrings by name (decryption with the default aws/ssm key needs no KMS permission). */
export const ssmGet = (m: EnvironmentModel, names: readonly string[]): Statement => ({
  Effect: 'Allow',
  Action: ['ssm:GetParameter', 'ssm:GetParameters'],
  Resource: [...new Set(names)].sort().map((n) => ssmParameterArn(m, n)),
});

/**
 * Read, write, delete and list objects below a prefix (a datastore replica, snapshots the writer prunes itself).
 * ListBucket is narrowed to the prefix (\`s3:prefix\` is the ListObjects request's prefix parameter); with
 * \`listBucket: 'whole'\` it is granted on the whole bucket instead, for a client that also GETs keys which may be
 * missing (S3 API reference, GetObject, Permissions: "If you don't have the s3:ListBucket permission, Amazon S3
 * returns an HTTP status code 403" for a missing key, 404 with it:
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html; a GetObject request carries no s3:prefix, so
 * a narrowed grant is not assumed to count), or for a client that checks the bucket first with HeadBucket (allowed by
 * s3:ListBucket: S3 API reference, HeadBucket, "Permissions"; a HEAD of the bucket carries no s3:prefix, and IAM
 * condition keys absent from the request do not match: IAM User Guide, "Condition keys that aren't present"): one
 * ListBucket grant per bucket either way (key names only: objects stay below the prefix). No s3:GetBucketLocation:
 * every client this grants for is given its region and never asks (each caller cites its client's source).
 */
export function s3ReadWrite(m: EnvironmentModel, bucket: string, prefix: string, opts: { listBucket?: 'prefix' | 'whole' } = {}): Statement[] {
  const p = prefix.replace(/^\/+|\/+$/g, '');
  const narrowed = p !== '' && opts.listBucket !== 'whole';
  return [
    { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], Resource: [objectsArn(m, bucket, prefix)] },
    { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: [bucketArn(m, bucket)], ...(narrowed ? { Condition: { StringLike: { 's3:prefix': [p, `${p}/*`] } } } : {}) },
  ];
}

/** Upload below a prefix only (a snapshot uploader that never reads or deletes). */
export const s3Put = (m: EnvironmentModel, bucket: string, prefix: string): Statement => ({ Effect: 'Allow', Action: ['s3:PutObject'], Resource: [objectsArn(m, bucket, prefix)] });

/** Use a KMS key for S3 server-side encryption (multipart uploads need Decrypt too). */
export const kmsForS3 = (m: EnvironmentModel, key: unknown, bucket: string): Statement => ({
  Effect: 'Allow',
  Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
  Resource: [key],
  Condition: { StringEquals: { 'kms:ViaService': `s3.${m.aws.region}.amazonaws.com` }, StringLike: { 'kms:EncryptionContext:aws:s3:arn': `${bucketArn(m, bucket)}*` } },
});
