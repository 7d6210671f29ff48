import { apiServerIngressPolicy, rke2CisPolicies } from '../distributions/rke2/cis.js';
import { RBAC, type CatalogEntry } from './types.js';

/**
 * metrics-server verifies the kubelets' serving certificates (no --kubelet-insecure-tls): Talos
 * enables rotate-server-certificates, so each kubelet requests a serving certificate signed by the
 * cluster CA through a CSR, which kubelet-csr-approver approves.
 */
export const metricsServer: CatalogEntry = {
  name: 'metrics-server',
  description: 'metrics-server (resource metrics for HPA and kubectl top), verifying kubelet serving certificates',
  chart: { repoURL: 'https://kubernetes-sigs.github.io/metrics-server/', name: 'metrics-server', version: '3.13.1' },
  namespace: 'kube-system',
  syncWave: 0,
  enabledByDefault: () => true,
  condition: 'always',
  // cascade: only resource metrics (HPA, kubectl top) stop; the APIService goes with it, so discovery stays clean.
  onDelete: 'cascade',
  clusterResources: [...RBAC, 'apiregistration.k8s.io/APIService'],
  // RKE2 CIS: the API server reaches the aggregated metrics API on the pod's port 10250 (chart 3.13.1 containerPort).
  manifests: ({ model }) => (rke2CisPolicies(model) ? [apiServerIngressPolicy('odp-allow-metrics-server', { 'app.kubernetes.io/name': 'metrics-server' }, [10250])] : []),
};
