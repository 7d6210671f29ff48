/**
 * IAM for add-on pods. Chart add-ons (External Secrets, the AWS Load Balancer Controller, the EBS CSI
 * driver) use the EC2 instance profile through IMDS. IRSA for them would need the EKS pod identity
 * webhook to turn the eks.amazonaws.com/role-arn annotation into a projected token and AWS_* variables;
 * these self-managed clusters do not run it, so the annotation alone would do nothing and the add-on
 * would silently keep the node's role. Rule addon-irsa refuses the setting; the key stays known so the
 * error says why instead of "unknown setting". (Workloads and etcd-backup do support IRSA: they render
 * the token volume and variables themselves.)
 */
export const CHART_ADDON_IAM_ROLE = 'iamRoleArn';
export const IAM_ROLE_SETTING = { [CHART_ADDON_IAM_ROLE]: 'not supported: chart add-ons use the node instance profile (rule addon-irsa explains why)' };
