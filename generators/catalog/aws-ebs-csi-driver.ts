/**
 * Catalog entry (data): the AWS EBS CSI driver and the cluster's default StorageClass.
 */
import { StorageClass } from '../lib/k8s-objects.js';
import { IAM_ROLE_SETTING } from './irsa.js';
import { controllersPlacement } from './placement.js';
import { createsServices, placementAt, valueAt } from './facts.js';
import { cap } from '../plan/needs.js';
import { RBAC, str, type CatalogEntry, type ChartFacts, type K8sObject } from './types.js';

/**
 * aws-ebs-csi-driver 2.64.0 (helm-chart-aws-ebs-csi-driver-2.64.0 = 9767d852): Services only for metrics
 * (controller.enableMetrics, node.enableMetrics, default false: values.yaml:254, 382). Once Ready it provisions
 * volumes for StorageClasses naming `ebs.csi.aws.com` (templates/csidriver.yaml:3-5, the CSIDriver's name): the
 * controller Deployment runs the csi-provisioner sidecar beside the plugin (templates/controller.yaml:3, 73,
 * 216). Before that a claim of such a class stays Pending (with WaitForFirstConsumer, once its pod is scheduled),
 * so the StorageClass is provided to its consumers after the chart (plan/needs.ts `provisioner`).
 */
const EBS_FACTS: ChartFacts = {
  version: '2.64.0',
  provides: () => [cap.provisioner(EBS_PROVISIONER)],
  needs: (values) => (valueAt(values, 'controller.enableMetrics') === true || valueAt(values, 'node.enableMetrics') === true ? [createsServices('aws-ebs-csi-driver')] : []),
  pods: (values) => [placementAt(values, 'the controller', 'controller.')],
};

export const DEFAULT_STORAGE_CLASS = 'gp3';

/** The driver's name, its StorageClasses' provisioner (chart 2.64.0 templates/csidriver.yaml:5). */
const EBS_PROVISIONER = 'ebs.csi.aws.com';

/** Chart 2.64.0 values.yaml:316-321: the controller's default tolerations. */
const EBS_CONTROLLER_TOLERATIONS = [
  { key: 'CriticalAddonsOnly', operator: 'Exists' },
  { effect: 'NoExecute', operator: 'Exists', tolerationSeconds: 300 },
];

/**
 * The node DaemonSet runs on every node (tolerateAllTaints) on the pod network (node.hostNetwork
 * default false, values.yaml:455) and needs the instance id, type, region and zone. Its default
 * sources are `imds,kubernetes` (pkg/cloud/metadata/metadata.go:56 at helm-chart-aws-ebs-csi-driver-2.64.0
 * = 9767d852): on a hop-limit-1 node IMDSv2 answers no pod, so it reads the Node instead —
 * spec.providerID and the node.kubernetes.io/instance-type and topology.kubernetes.io/region|zone
 * labels the AWS cloud controller sets (pkg/cloud/metadata/k8s.go:107-210; docs/install.md
 * "Kubernetes Metadata"). `node.metadataSources` (values.yaml:439) becomes `--metadata-sources`
 * (templates/_node.tpl:86-87). The same source everywhere: no node plugin touches IMDS. It counts
 * one ENI and the root volume when computing the attach limit (docs/install.md), which matches the
 * nodes here (one interface, one root volume).
 */
export const EBS_NODE_METADATA_SOURCES = 'kubernetes';

export const awsEbsCsiDriver: CatalogEntry = {
  name: 'aws-ebs-csi-driver',
  description: 'EBS CSI driver and the encrypted gp3 default StorageClass',
  chart: { repoURL: 'https://kubernetes-sigs.github.io/aws-ebs-csi-driver', name: 'aws-ebs-csi-driver', version: '2.64.0' },
  upgradeNotes: 'https://github.com/kubernetes-sigs/aws-ebs-csi-driver/blob/master/charts/aws-ebs-csi-driver/CHANGELOG.md',
  chartKubeVersions: { '2.64.0': { constraint: '>=1.17.0-0', source: 'kubernetes-sigs/aws-ebs-csi-driver charts/aws-ebs-csi-driver/Chart.yaml at helm-chart-aws-ebs-csi-driver-2.64.0' } },
  namespace: 'kube-system',
  nodeCredentials: true,
  syncWave: -1,
  enabledByDefault: () => true,
  condition: 'always',
  facts: EBS_FACTS,
  // orphan: volumes stop attaching and the default StorageClass disappears; bound volumes' pods cannot move.
  onDelete: 'orphan',
  clusterResources: [...RBAC, 'storage.k8s.io/CSIDriver', 'storage.k8s.io/StorageClass'],
  iamRole: 'node-role',
  settings: { ...IAM_ROLE_SETTING, kmsKeyId: 'KMS key ARN for volume encryption (default: the account\'s aws/ebs key)' },
  values: (ctx) => {
    const pin = controllersPlacement(ctx.model);
    return {
      controller: {
        region: ctx.model.aws.region,
        k8sTagClusterId: ctx.model.cluster.name,
        // The controller calls EC2 with the node's credentials: pinned to the one place that has them
        // (catalog/placement.ts controllersHost). Chart 2.64.0 values.yaml:271 controller.nodeSelector;
        // :316-321 controller.tolerations, whose defaults a list here replaces, so they are kept.
        ...(pin ? { nodeSelector: pin.nodeSelector, tolerations: [...EBS_CONTROLLER_TOLERATIONS, ...pin.tolerations] } : {}),
      },
      node: { tolerateAllTaints: true, metadataSources: EBS_NODE_METADATA_SOURCES },
    };
  },
  manifests: (ctx) => {
    const kmsKeyId = str(ctx.settings.kmsKeyId);
    const sc = new StorageClass({
      metadata: { name: DEFAULT_STORAGE_CLASS, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: EBS_PROVISIONER,
      parameters: { type: 'gp3', encrypted: 'true', 'csi.storage.k8s.io/fstype': 'ext4', ...(kmsKeyId ? { kmsKeyId } : {}) },
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'WaitForFirstConsumer',
      allowVolumeExpansion: true,
    });
    return [sc.toJSON() as K8sObject];
  },
};
