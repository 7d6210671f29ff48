/**
 * IAM for add-on pods.
 *
 * The AWS Load Balancer Controller and the EBS CSI driver use the EC2 instance profile through IMDS.
 * IRSA for them would need the EKS pod identity webhook to turn the eks.amazonaws.com/role-arn
 * annotation into a projected token and AWS_* variables; these self-managed clusters do not run it,
 * so the annotation alone would do nothing and the add-on would silently keep the node's role. Rule
 * addon-irsa refuses the setting; the key stays known so the error says why instead of "unknown setting".
 *
 * Add-ons take a role of their own with IRSA, without the webhook, when they assume it themselves:
 * - external-secrets: the ClusterSecretStore authenticates with `auth.jwt.serviceAccountRef`. ESO
 *   (providers/v1/aws/auth/auth.go, v2.9.0) reads that ServiceAccount's eks.amazonaws.com/role-arn
 *   annotation, requests a token for it through the TokenRequest API (audience sts.amazonaws.com
 *   unless the SA says eks.amazonaws.com/audience) and calls STS AssumeRoleWithWebIdentity itself.
 * - an add-on whose pods mount the projected token and set AWS_ROLE_ARN/AWS_WEB_IDENTITY_TOKEN_FILE
 *   (e.g. a distribution's backup job). Workloads do the same (serviceAccount.iamRoleArn).
 */
import type { EnvironmentModel } from '../model/types.js';
import { partitionOf } from '../infra/aws/policy.js';
import { str } from './types.js';

export const CHART_ADDON_IAM_ROLE = 'iamRoleArn';
/* Which add-ons take a role and which cannot: CatalogEntry.iamRole (catalog/index.ts irsaAddons, nodeRoleAddons). */
export const IAM_ROLE_SETTING = { [CHART_ADDON_IAM_ROLE]: 'not supported: this add-on uses the node instance profile (rule addon-irsa explains why)' };
/**
 * The role an IRSA add-on assumes, only with `aws.iam.mode: irsa`: its `settings.iamRoleArn`, else, for an add-on
 * with a role of its own by default (`defaultRole`), the role the AWS layer creates for it, `<cluster>-<defaultRole>`
 * in the environment's account (infra/aws/plan.ts irsaRoles creates every role it names, trusted by its ServiceAccount only).
 */
export const irsaRoleArn = (model: EnvironmentModel, settings: Record<string, unknown> | undefined, defaultRole?: string): string | undefined =>
  model.aws.iam.mode === 'irsa'
    ? (str(settings?.[CHART_ADDON_IAM_ROLE]) ?? (defaultRole ? `arn:${partitionOf(model.aws.region)}:iam::${model.aws.accountId}:role/${model.cluster.name}-${defaultRole}` : undefined))
    : undefined;

/**
 * The etcd-backup add-on's upload role (a distribution's backup job): with IRSA always one of its own, which may only
 * write below the snapshot prefix (infra/aws/addon-iam.ts etcdBackupStatements), so the job never needs the node
 * role and its namespace is denied IMDS (catalog/network-policies.ts). Without IRSA: undefined (the control-plane role).
 */
export const ETCD_BACKUP_ADDON = 'etcd-backup';
export const etcdBackupRoleArn = (model: EnvironmentModel): string | undefined => irsaRoleArn(model, model.addons.find((a) => a.name === ETCD_BACKUP_ADDON)?.settings, ETCD_BACKUP_ADDON);
