/** IAM for add-on pods: EC2 instance profile by default, IRSA (a role per service account) as an option. */
import type { AddonContext } from './types.js';
import { str } from './types.js';

export const IAM_ROLE_SETTING = { iamRoleArn: 'IAM role ARN for the add-on service account (needed when aws.iam.mode is irsa)' };

/** ServiceAccount annotations for IRSA (read by the pod identity webhook), empty with instance profiles. */
export function irsaAnnotations(ctx: AddonContext): Record<string, string> {
  const arn = str(ctx.settings.iamRoleArn);
  return ctx.model.aws.iam.mode === 'irsa' && arn ? { 'eks.amazonaws.com/role-arn': arn } : {};
}
