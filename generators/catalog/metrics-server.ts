/**
 * Catalog entry (data): metrics-server, resource metrics for HPAs and kubectl top.
 */
import { apiServerIngressPolicy } from './network-policies.js';
import { createsServices, placementAt } from './facts.js';
import { cap } from '../plan/needs.js';
import { kubeVersionOf, RBAC, type CatalogEntry, type ChartFacts } from './types.js';

/**
 * metrics-server 3.13.1 (app 0.8.1): the Service behind its APIService (values.yaml `service`), placed by
 * tolerations/nodeSelector (values.yaml:185-189, defaults empty). Its Deployment is Ready only once it has
 * scraped a kubelet: the readiness probe is /readyz (values.yaml:112-119), whose `metric-storage-ready` check
 * fails with "no metrics to serve" until the storage holds two scrapes of a node or pod (kubernetes-sigs/
 * metrics-server v0.8.1 pkg/server/server.go:148-152, 187-197; pkg/storage/storage.go:40-46). It verifies the
 * kubelets' serving certificates (no --kubelet-insecure-tls, values.yaml:96-100), so it needs them signed by the
 * cluster CA: a distribution that gives them at boot lists `kubelet serving certificates` among its cluster
 * capabilities; one whose kubelets request them by CSR brings the approver that provides it (the edge
 * metrics-server → approver: without it metrics-server installs side by side with the approver, its release
 * waits on a Deployment that cannot be Ready and may spend its remediation retries, then stall). Nothing of it
 * is refused meanwhile and it keeps trying: it scrapes every --metric-resolution (15s, values.yaml:99; the
 * ticker of server.go runScrape, :114-127) and the kubelet keeps probing /readyz, so it turns Ready by itself
 * once the certificates exist (Need.retried: an engine ordering by layers may keep the approver in its layer).
 */
const METRICS_SERVER_FACTS: ChartFacts = {
  version: '3.13.1',
  provides: () => [],
  needs: () => [createsServices('metrics-server'), { what: cap.kubeletServingCertificates, why: 'chart metrics-server: its readiness (/readyz metric-storage-ready) needs a kubelet scraped over verified TLS', retried: true }],
  pods: (values) => [placementAt(values, 'metrics-server')],
};

/**
 * metrics-server verifies the kubelets' serving certificates (no --kubelet-insecure-tls): they are
 * signed by the cluster CA (a distribution whose kubelets request them through CSRs brings an
 * approver add-on, kubelet-csr-approver).
 */
export const metricsServer: CatalogEntry = {
  name: 'metrics-server',
  description: 'metrics-server (resource metrics for HPA and kubectl top), verifying kubelet serving certificates',
  chart: { repoURL: 'https://kubernetes-sigs.github.io/metrics-server/', name: 'metrics-server', version: '3.13.1' },
  // The chart's changelog (charts/metrics-server/CHANGELOG.md at metrics-server-helm-chart-3.13.1, 842dcc8; Keep a Changelog, "Changed"/"Removed" per release).
  upgradeNotes: 'https://github.com/kubernetes-sigs/metrics-server/blob/master/charts/metrics-server/CHANGELOG.md',
  // charts/metrics-server/Chart.yaml at each metrics-server-helm-chart-<version> tag (3.10.0 … 3.13.1): no kubeVersion.
  chartKubeVersions: kubeVersionOf(
    ['3.10.0', '3.11.0', '3.12.0', '3.12.1', '3.12.2', '3.13.0', '3.13.1'],
    { constraint: null, source: 'kubernetes-sigs/metrics-server charts/metrics-server/Chart.yaml at metrics-server-helm-chart-<version> (3.13.1: 842dcc8): no kubeVersion' },
  ),
  namespace: 'kube-system',
  syncWave: 0,
  enabledByDefault: () => true,
  condition: 'always',
  facts: METRICS_SERVER_FACTS,
  // cascade: only resource metrics (HPA, kubectl top) stop; the APIService goes with it, so discovery stays clean.
  onDelete: 'cascade',
  clusterResources: [...RBAC, 'apiregistration.k8s.io/APIService'],
  // kube-system restricted: the API server reaches the aggregated metrics API on the pod's port 10250 (chart 3.13.1 containerPort).
  manifests: ({ model }) => apiServerIngressPolicy(model, 'odp-allow-metrics-server', { 'app.kubernetes.io/name': 'metrics-server' }, [10250]),
};
