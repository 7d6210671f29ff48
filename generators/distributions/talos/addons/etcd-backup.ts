/**
 * Talos' add-on (catalog data): encrypted etcd snapshots to S3 through the Talos API (talos-backup).
 */
import { CronJob, ServiceAccount } from '../../../lib/k8s-objects.js';
import { CHART_ADDON_IAM_ROLE, etcdBackupRoleArn } from '../../../catalog/irsa.js';
import { controlPlaneSelector } from '../../../catalog/placement.js';
import { CONTROL_PLANE_TOLERATION, type CatalogEntry, type K8sObject } from '../../../catalog/types.js';
import type { EnvironmentInput } from '../../../model/input.js';
import type { Rule } from '../../../validate/rules.js';

export const TALOS_BACKUP_IMAGE = 'ghcr.io/siderolabs/talos-backup:v0.1.0-beta.3';
/**
 * The S3 requests the uploader makes, read at TALOS_BACKUP_IMAGE's tag (siderolabs/talos-backup v0.1.0-beta.3,
 * commit 33d19cb0), and the IAM action each needs. pkg/s3/s3.go:24-43 builds an aws-sdk-go-v2 client with
 * config.WithRegion(AWS_REGION) and :56-62 uploads one PutObjectInput{Bucket, Key, Body} through
 * feature/s3/manager's Uploader (PartSize 10 MiB): one PutObject, or for a larger snapshot CreateMultipartUpload,
 * UploadPart and CompleteMultipartUpload, and on a failed part AbortMultipartUpload (manager upload.go
 * multiuploader.fail, unless LeavePartsOnError; its error ignored). No other S3 call exists in the program (its other
 * S3 use is cmd/talos-backup/service/service.go:47,61 calling these two). No bucket-level request, so no HeadBucket and
 * no GetBucketLocation: nothing needs s3:ListBucket or s3:GetBucketLocation, and `s3:PutObject` below the prefix
 * (../../../infra/aws/addon-iam.ts etcdBackupStatements) is the whole grant. Multipart requests need s3:PutObject (S3
 * User Guide, "Multipart upload API and permissions"); AbortMultipartUpload needs s3:AbortMultipartUpload, not
 * granted: every bucket of the AWS layer has the lifecycle rule abort-incomplete-uploads (1 day), which removes the
 * parts a failed upload leaves.
 */
export const TALOS_BACKUP_S3_REQUESTS: { readAt: string; requests: readonly { request: string; action: string; granted: boolean }[] } = {
  readAt: 'v0.1.0-beta.3',
  requests: [
    { request: 'PutObject', action: 's3:PutObject', granted: true },
    { request: 'CreateMultipartUpload', action: 's3:PutObject', granted: true },
    { request: 'UploadPart', action: 's3:PutObject', granted: true },
    { request: 'CompleteMultipartUpload', action: 's3:PutObject', granted: true },
    { request: 'AbortMultipartUpload', action: 's3:AbortMultipartUpload', granted: false },
  ],
};

/** Name of the talos.dev ServiceAccount; Talos creates a Secret of the same name with a talosconfig. */
export const TALOS_SA = 'talos-backup-secrets';
export const ETCD_BACKUP_ROLE = 'os:etcd:backup';
const IRSA_TOKEN_DIR = '/var/run/secrets/eks.amazonaws.com/serviceaccount';

/**
 * Scheduled etcd snapshots through the Talos API (siderolabs/talos-backup): a CronJob in namespace
 * etcd-backup, a talos.dev/v1alpha1 ServiceAccount with role os:etcd:backup (Talos answers with a
 * Secret holding a talosconfig; the namespace must be in machine.features.kubernetesTalosAPIAccess
 * .allowedKubernetesNamespaces), age-encrypted snapshots uploaded to S3 with the node's instance
 * profile or IRSA. It runs on control-plane nodes, tolerating their taint.
 *
 * Server-side encryption (cluster.datastore.backup.kmsKeyId): talos-backup has no flag or variable
 * for it. Its whole configuration is AWS_REGION, BUCKET, S3_PREFIX, CLUSTER_NAME, CUSTOM_S3_ENDPOINT,
 * USE_PATH_STYLE, DISABLE_ENCRYPTION, AGE_X25519_PUBLIC_KEY (pkg/config/service.go at v0.1.0-beta.3),
 * and its PutObjectInput sets only Bucket, Key and Body (pkg/s3/s3.go): no x-amz-server-side-encryption
 * header. S3 then applies the bucket's default encryption, so the key is wired there: the
 * per-environment README renders the put-bucket-encryption command for it and the KMS permissions
 * of the uploading role (../readme.ts).
 */
/** Whether etcd-backup is on: enabled explicitly, or by default (Talos, etcd with a backup). */
const etcdBackupOn = (input: EnvironmentInput): boolean => {
  const ds = input.cluster.datastore;
  return input.addons?.['etcd-backup']?.enabled ?? (input.cluster.distribution === 'talos' && ds.type === 'etcd' && ds.backup !== undefined);
};

/** Where it is on: Talos-managed etcd with a backup whose snapshots are encrypted to an age recipient. */
const conditions: Rule = ({ input }, report) => {
  const ds = input.cluster.datastore;
  if (!etcdBackupOn(input)) return;
  if (input.cluster.distribution !== 'talos' || ds.type !== 'etcd' || !ds.backup) {
    report('addon-etcd-backup', ['addons', 'etcd-backup', 'enabled'], 'etcd-backup takes snapshots of Talos-managed etcd and needs cluster.datastore.backup', { hint: 'add backup: { bucket, ageRecipientPublicKey } to the etcd datastore' });
    return;
  }
  if (!ds.backup.ageRecipientPublicKey)
    report('addon-etcd-backup', ['cluster', 'datastore', 'backup'], 'etcd snapshots hold every Secret of the cluster and must be encrypted: ageRecipientPublicKey is missing', {
      hint: 'generate a key pair with age-keygen, keep the private key offline, and set ageRecipientPublicKey: age1…',
      key: true,
    });
  else if (!/^age1[02-9ac-hj-np-z]{58}$/.test(ds.backup.ageRecipientPublicKey))
    report('addon-etcd-backup', ['cluster', 'datastore', 'backup', 'ageRecipientPublicKey'], `'${ds.backup.ageRecipientPublicKey}' is not an age X25519 public key`, { hint: 'an age recipient is age1 followed by 58 bech32 characters' });
};

export const etcdBackup: CatalogEntry = {
  name: 'etcd-backup',
  description: 'Encrypted etcd snapshots to S3 on a schedule (talos-backup CronJob on control-plane nodes)',
  namespace: 'etcd-backup',
  // The instance profile only without IRSA: with aws.iam.mode irsa the job always has a role of its own
  // (catalog/irsa.ts etcdBackupRoleArn), reads a projected token (AWS_WEB_IDENTITY_TOKEN_FILE) and calls STS itself, and
  // its namespace is denied IMDS like any other (the control-plane role then holds no snapshot grant: ../aws.ts
  // controlPlanePodsWithNodeCredentials).
  nodeCredentials: ({ model }) => etcdBackupRoleArn(model) === undefined,
  syncWave: 1,
  enabledByDefault: (m) => m.cluster.distribution === 'talos' && m.cluster.datastore.type === 'etcd' && m.cluster.datastore.backup !== undefined,
  condition: 'Talos with cluster.datastore.backup',
  podSecurity: 'restricted',
  // cascade: a CronJob and its ServiceAccounts; snapshots already in S3 stay.
  onDelete: 'cascade',
  clusterResources: [],
  iamRole: 'irsa',
  program: 'talos-backup',
  rules: { conditions },
  settings: { [CHART_ADDON_IAM_ROLE]: 'IAM role ARN the job assumes with IRSA (aws.iam.mode irsa only; default: <cluster>-etcd-backup in the environment\'s account, which the AWS layer creates)' },
  manifests: ({ model, namespace, settings }) => {
    const ds = model.cluster.datastore;
    if (ds.type !== 'etcd' || !ds.backup) throw new Error('etcd-backup needs cluster.datastore.backup (checked by rule addon-etcd-backup)');
    const b = ds.backup;
    const roleArn = etcdBackupRoleArn(model);
    const talosSa: K8sObject = { apiVersion: 'talos.dev/v1alpha1', kind: 'ServiceAccount', metadata: { name: TALOS_SA, namespace }, spec: { roles: [ETCD_BACKUP_ROLE] } };
    const sa = new ServiceAccount({ metadata: { name: 'etcd-backup', namespace }, automountServiceAccountToken: false });
    const env = [
      { name: 'AWS_REGION', value: model.aws.region },
      { name: 'BUCKET', value: b.bucket },
      { name: 'CLUSTER_NAME', value: model.cluster.name },
      ...(b.prefix ? [{ name: 'S3_PREFIX', value: b.prefix }] : []),
      ...(b.ageRecipientPublicKey ? [{ name: 'AGE_X25519_PUBLIC_KEY', value: b.ageRecipientPublicKey }] : []),
      ...(roleArn ? [{ name: 'AWS_ROLE_ARN', value: roleArn }, { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: `${IRSA_TOKEN_DIR}/token` }] : []),
    ];
    const cron = new CronJob({
      metadata: { name: 'etcd-backup', namespace },
      spec: {
        schedule: b.schedule,
        concurrencyPolicy: 'Forbid',
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          spec: {
            backoffLimit: 2,
            template: {
              metadata: { labels: { 'app.kubernetes.io/name': 'etcd-backup' } },
              spec: {
                serviceAccountName: 'etcd-backup',
                automountServiceAccountToken: false,
                restartPolicy: 'OnFailure',
                nodeSelector: controlPlaneSelector(model),
                tolerations: [{ ...CONTROL_PLANE_TOLERATION }],
                securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
                containers: [
                  {
                    name: 'talos-backup',
                    image: TALOS_BACKUP_IMAGE,
                    imagePullPolicy: 'IfNotPresent',
                    command: ['/talos-backup'],
                    workingDir: '/tmp',
                    env,
                    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
                    securityContext: {
                      allowPrivilegeEscalation: false,
                      readOnlyRootFilesystem: true,
                      capabilities: { drop: ['ALL'] },
                    },
                    volumeMounts: [
                      { name: 'tmp', mountPath: '/tmp' },
                      { name: 'talos-secrets', mountPath: '/var/run/secrets/talos.dev', readOnly: true },
                      ...(roleArn ? [{ name: 'aws-token', mountPath: IRSA_TOKEN_DIR, readOnly: true }] : []),
                    ],
                  },
                ],
                volumes: [
                  { name: 'tmp', emptyDir: {} },
                  { name: 'talos-secrets', secret: { secretName: TALOS_SA } },
                  ...(roleArn
                    ? [{ name: 'aws-token', projected: { sources: [{ serviceAccountToken: { audience: 'sts.amazonaws.com', expirationSeconds: 86400, path: 'token' } }] } }]
                    : []),
                ],
              },
            },
          },
        },
      },
    });
    return [talosSa, sa.toJSON() as K8sObject, cron.toJSON() as K8sObject];
  },
};
