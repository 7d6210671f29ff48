/**
 * Catalog entry (data): the AWS Load Balancer Controller (ALBs for the workloads' ingresses).
 */
import { IAM_ROLE_SETTING } from './irsa.js';
import { apiServerIngressPolicy, kubeSystemPolicies } from './network-policies.js';
import { CRD, RBAC, WEBHOOKS, type CatalogEntry } from './types.js';

export const awsLoadBalancerController: CatalogEntry = {
  name: 'aws-load-balancer-controller',
  description: 'AWS Load Balancer Controller (ALB Ingress, NLB Services)',
  chart: { repoURL: 'https://aws.github.io/eks-charts', name: 'aws-load-balancer-controller', version: '3.5.0' },
  namespace: 'kube-system',
  syncWave: 0,
  enabledByDefault: () => true,
  condition: 'always',
  // orphan: without the controller the ALBs and NLBs it created are stranded, and the finalizers it put
  // on Ingresses and Services make deleting them hang.
  onDelete: 'orphan',
  clusterResources: [CRD, ...RBAC, ...WEBHOOKS, 'networking.k8s.io/IngressClass', 'elbv2.k8s.aws/IngressClassParams'],
  iamRole: 'node-role',
  settings: IAM_ROLE_SETTING,
  values: (ctx) => ({
    clusterName: ctx.model.cluster.name,
    region: ctx.model.aws.region,
    vpcId: ctx.model.aws.vpc.id,
    // Without cert-manager the chart generates the webhook certificate with genCA/genSignedCert at
    // every render; an engine rendering without Helm lookup cannot reuse the Secret (keepTLSSecret), so
    // the certificate changes on every refresh: always OutOfSync, and self-heal rotates it
    // (kubernetes-sigs/aws-load-balancer-controller#1828). cert-manager (wave -1) issues it instead.
    enableCertManager: true,
  }),
  // kube-system restricted: the API server calls the controller's webhooks on 9443 (chart 3.5.0 webhookBindPort default).
  manifests: ({ model }) => (kubeSystemPolicies(model) ? [apiServerIngressPolicy('odp-allow-aws-load-balancer-webhook', { 'app.kubernetes.io/name': 'aws-load-balancer-controller' }, [9443])] : []),
};
