/**
 * Catalog entry (data): the AWS EBS CSI driver and the cluster's default StorageClass.
 */
import { StorageClass } from '../lib/k8s-objects.js';
import { IAM_ROLE_SETTING } from './irsa.js';
import { createsServices, placementAt, valueAt } from './facts.js';
import { RBAC, str, type CatalogEntry, type ChartFacts, type K8sObject } from './types.js';

/** aws-ebs-csi-driver 2.64.0: Services only for metrics (controller.enableMetrics, node.enableMetrics, default false: values.yaml:254, 382). */
const EBS_FACTS: ChartFacts = {
  version: '2.64.0',
  provides: () => [],
  needs: (values) => (valueAt(values, 'controller.enableMetrics') === true || valueAt(values, 'node.enableMetrics') === true ? [createsServices('aws-ebs-csi-driver')] : []),
  pods: (values) => [placementAt(values, 'the controller', 'controller.')],
};

export const DEFAULT_STORAGE_CLASS = 'gp3';

export const awsEbsCsiDriver: CatalogEntry = {
  name: 'aws-ebs-csi-driver',
  description: 'EBS CSI driver and the encrypted gp3 default StorageClass',
  chart: { repoURL: 'https://kubernetes-sigs.github.io/aws-ebs-csi-driver', name: 'aws-ebs-csi-driver', version: '2.64.0' },
  upgradeNotes: 'https://github.com/kubernetes-sigs/aws-ebs-csi-driver/blob/master/charts/aws-ebs-csi-driver/CHANGELOG.md',
  chartKubeVersions: { '2.64.0': { constraint: '>=1.17.0-0', source: 'kubernetes-sigs/aws-ebs-csi-driver charts/aws-ebs-csi-driver/Chart.yaml at helm-chart-aws-ebs-csi-driver-2.64.0' } },
  namespace: 'kube-system',
  syncWave: -1,
  enabledByDefault: () => true,
  condition: 'always',
  facts: EBS_FACTS,
  // orphan: volumes stop attaching and the default StorageClass disappears; bound volumes' pods cannot move.
  onDelete: 'orphan',
  clusterResources: [...RBAC, 'storage.k8s.io/CSIDriver', 'storage.k8s.io/StorageClass'],
  iamRole: 'node-role',
  settings: { ...IAM_ROLE_SETTING, kmsKeyId: 'KMS key ARN for volume encryption (default: the account\'s aws/ebs key)' },
  values: (ctx) => ({
    controller: {
      region: ctx.model.aws.region,
      k8sTagClusterId: ctx.model.cluster.name,
    },
    node: { tolerateAllTaints: true },
  }),
  manifests: (ctx) => {
    const kmsKeyId = str(ctx.settings.kmsKeyId);
    const sc = new StorageClass({
      metadata: { name: DEFAULT_STORAGE_CLASS, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'ebs.csi.aws.com',
      parameters: { type: 'gp3', encrypted: 'true', 'csi.storage.k8s.io/fstype': 'ext4', ...(kmsKeyId ? { kmsKeyId } : {}) },
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'WaitForFirstConsumer',
      allowVolumeExpansion: true,
    });
    return [sc.toJSON() as K8sObject];
  },
};
