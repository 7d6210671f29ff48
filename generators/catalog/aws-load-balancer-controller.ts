/**
 * Catalog entry (data): the AWS Load Balancer Controller (ALBs for the workloads' ingresses).
 */
import { IAM_ROLE_SETTING } from './irsa.js';
import { controllersPlacement } from './placement.js';
import { apiServerIngressPolicy } from './network-policies.js';
import { crds, placementAt, stringAt, valueAt } from './facts.js';
import { cap } from '../plan/needs.js';
import { CRD, RBAC, WEBHOOKS, type CatalogEntry, type ChartFacts } from './types.js';

/**
 * aws-load-balancer-controller chart 3.5.0 (kubernetes-sigs/aws-load-balancer-controller tag v3.5.0,
 * helm/aws-load-balancer-controller):
 * - `mservice.elbv2.k8s.aws` mutates every Service CREATE in every namespace with
 *   serviceMutatorWebhookConfig.failurePolicy, default Fail, when enableServiceMutatorWebhook (default
 *   true); only the controller's own Services are exempt (templates/webhook.yaml:104-145,
 *   values.yaml:485-509): while the controller does not serve, no other Service can be created;
 * - `vingress.elbv2.k8s.aws` validates every Ingress CREATE/UPDATE, ingressValdationFailurePolicy
 *   default Fail (templates/webhook.yaml:308-355, values.yaml:230-242);
 * - the IngressClass `alb` (createIngressClassResource, ingressClass; values.yaml:144, 172);
 * - with enableCertManager its webhook certificate is a cert-manager Certificate and Issuer.
 */
const ALB_FACTS: ChartFacts = {
  version: '3.5.0',
  provides: (values) => [
    ...crds('elbv2.k8s.aws', ['IngressClassParams', 'TargetGroupBinding']),
    ...(valueAt(values, 'createIngressClassResource') !== false ? [cap.ingressClass(stringAt(values, 'ingressClass') ?? 'alb')] : []),
    ...(valueAt(values, 'enableServiceMutatorWebhook') !== false && (stringAt(values, 'serviceMutatorWebhookConfig.failurePolicy') ?? 'Fail') === 'Fail' ? [cap.webhook('', 'Service')] : []),
    ...(valueAt(values, 'webhookConfig.disableIngressValidation') !== true && (stringAt(values, 'webhookConfig.ingressValdationFailurePolicy') ?? 'Fail') === 'Fail' ? [cap.webhook('networking.k8s.io', 'Ingress')] : []),
  ],
  needs: (values) =>
    valueAt(values, 'enableCertManager') === true
      ? [
          { what: cap.crd('cert-manager.io', 'Certificate'), why: 'values enableCertManager (its webhook certificate)' },
          { what: cap.crd('cert-manager.io', 'Issuer'), why: 'values enableCertManager (its certificate issuer)' },
          { what: cap.webhook('cert-manager.io', 'Certificate'), why: 'values enableCertManager', mode: 'webhook' },
        ]
      : [],
  pods: (values) => [placementAt(values, 'the controller')],
};

export const awsLoadBalancerController: CatalogEntry = {
  name: 'aws-load-balancer-controller',
  description: 'AWS Load Balancer Controller (ALB Ingress, NLB Services)',
  chart: { repoURL: 'https://aws.github.io/eks-charts', name: 'aws-load-balancer-controller', version: '3.5.0' },
  upgradeNotes: 'https://github.com/kubernetes-sigs/aws-load-balancer-controller/blob/main/helm/aws-load-balancer-controller/README.md',
  chartKubeVersions: { '3.5.0': { constraint: null, source: 'aws/eks-charts stable/aws-load-balancer-controller/Chart.yaml at 5239609 (chart 3.5.0): no kubeVersion' } },
  namespace: 'kube-system',
  nodeCredentials: true,
  syncWave: 0,
  enabledByDefault: () => true,
  condition: 'always',
  facts: ALB_FACTS,
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
    // It calls AWS with the node's credentials (IMDS): pinned to the one place that has them, hop
    // limit 2 and its permissions (catalog/placement.ts controllersHost). Chart 3.5.0 values.yaml:78
    // nodeSelector and :80 tolerations apply to the controller Deployment.
    ...(controllersPlacement(ctx.model) ?? {}),
  }),
  // kube-system restricted: the API server calls the controller's webhooks on 9443 (chart 3.5.0 webhookBindPort default).
  manifests: ({ model }) => apiServerIngressPolicy(model, 'odp-allow-aws-load-balancer-webhook', { 'app.kubernetes.io/name': 'aws-load-balancer-controller' }, [9443]),
};
