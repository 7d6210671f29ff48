/** The add-on catalog: one module per add-on, each pinning its chart to an exact version. */
import { argoCd } from '../engines/argocd/addons/argo-cd.js';
import { awsCloudControllerManager } from './aws-cloud-controller-manager.js';
import { awsEbsCsiDriver } from './aws-ebs-csi-driver.js';
import { awsLoadBalancerController } from './aws-load-balancer-controller.js';
import { certManager } from './cert-manager.js';
import { cilium } from './cilium.js';
import { etcdBackup } from '../distributions/talos/addons/etcd-backup.js';
import { externalSecrets } from './external-secrets.js';
import { fluxOperator } from '../engines/flux/addons/flux-operator.js';
import { kubePrometheusStack } from './kube-prometheus-stack.js';
import { kubeletCsrApprover } from '../distributions/talos/addons/kubelet-csr-approver.js';
import { metricsServer } from './metrics-server.js';
import type { CatalogAddonName } from './names.js';
import { nvidiaDevicePlugin } from './nvidia-device-plugin.js';
import type { CatalogEntry } from './types.js';

export const CATALOG: Readonly<Record<CatalogAddonName, CatalogEntry>> = {
  'argo-cd': argoCd,
  'aws-cloud-controller-manager': awsCloudControllerManager,
  'aws-ebs-csi-driver': awsEbsCsiDriver,
  'aws-load-balancer-controller': awsLoadBalancerController,
  'cert-manager': certManager,
  cilium,
  'etcd-backup': etcdBackup,
  'external-secrets': externalSecrets,
  'flux-operator': fluxOperator,
  'kube-prometheus-stack': kubePrometheusStack,
  'kubelet-csr-approver': kubeletCsrApprover,
  'metrics-server': metricsServer,
  'nvidia-device-plugin': nvidiaDevicePlugin,
};

/** Default sync wave of third-party charts declared by an environment (after every catalog add-on). */
export const THIRD_PARTY_SYNC_WAVE = 2;
