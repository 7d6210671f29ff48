/**
 * Catalog entry (data): the AWS cloud controller manager, which initializes every node.
 */
import { controlPlaneSelector } from './placement.js';
import { placementAt } from './facts.js';
import { cap } from '../plan/needs.js';
import { CONTROL_PLANE_TOLERATION, RBAC, type CatalogEntry, type ChartFacts } from './types.js';

/** aws-cloud-controller-manager 0.0.11: a DaemonSet placed by nodeSelector and tolerations (values.yaml:18 onwards); it lifts node.cloudprovider.kubernetes.io/uninitialized from every node. */
const CCM_FACTS: ChartFacts = { version: '0.0.11', provides: () => [cap.nodeInitialization], needs: () => [], pods: (values) => [placementAt(values, 'the cloud controller')] };

/**
 * Every distribution runs the kubelet with cloud-provider=external (and its own cloud controller off),
 * so nodes start with the node.cloudprovider.kubernetes.io/uninitialized taint until this controller
 * initializes them (addresses, provider ID, zone labels). It runs on control-plane nodes only.
 */
export const awsCloudControllerManager: CatalogEntry = {
  name: 'aws-cloud-controller-manager',
  description: 'AWS cloud controller manager (node initialization, zones, provider IDs) on control-plane nodes',
  chart: { repoURL: 'https://kubernetes.github.io/cloud-provider-aws', name: 'aws-cloud-controller-manager', version: '0.0.11' },
  chartKubeVersions: { '0.0.11': { constraint: null, source: 'kubernetes/cloud-provider-aws charts/aws-cloud-controller-manager/Chart.yaml at helm-chart-aws-cloud-controller-manager-0.0.11: no kubeVersion' } },
  namespace: 'kube-system',
  syncWave: -3,
  enabledByDefault: () => true,
  condition: 'always (every distribution runs an external cloud provider)',
  facts: CCM_FACTS,
  bootstrapOrder: 20,
  // orphan: new nodes keep the uninitialized taint without it: nothing schedules on them.
  onDelete: 'orphan',
  clusterResources: RBAC,
  values: ({ model }) => ({
    // Only the node controllers (k8s.io/cloud-provider's known controllers are cloud-node,
    // cloud-node-lifecycle, service and route): routes are not configured here, and LoadBalancer
    // Services belong to the AWS Load Balancer Controller, whose service mutator webhook (chart 3.5.0
    // enableServiceMutatorWebhook: true) sets their loadBalancerClass. So the control-plane role
    // needs only the Describe actions of the AWS layer (infra/aws/addon-iam.ts), no ELB or security
    // group writes.
    args: ['--v=2', '--cloud-provider=aws', '--configure-cloud-routes=false', '--controllers=cloud-node,cloud-node-lifecycle', `--cluster-name=${model.cluster.name}`],
    // On the host network: it initializes nodes before any CNI-dependent path is trusted, and it
    // reaches the instance metadata service (credentials, instance data) in one hop.
    hostNetworking: true,
    nodeSelector: controlPlaneSelector(model),
    tolerations: [
      { key: 'node.cloudprovider.kubernetes.io/uninitialized', value: 'true', effect: 'NoSchedule' },
      CONTROL_PLANE_TOLERATION,
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoSchedule' },
    ],
  }),
};
