/**
 * Talos' add-on (catalog data): approves the kubelet serving-certificate CSRs of rotate-server-certificates.
 */
import { createsServices, placementAt, valueAt } from '../../../catalog/facts.js';
import { cap } from '../../../plan/needs.js';
import { kubeVersionOf, RBAC, type CatalogEntry, type ChartFacts } from '../../../catalog/types.js';

/** Escape a string for use inside a Go (RE2) regular expression. */
const reEscape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * kubelet-csr-approver 1.2.14 (postfinance/kubelet-csr-approver tag v1.2.14, charts/kubelet-csr-approver): a metrics
 * Service unless metrics.enable is false (values.yaml:41-42 `enable: true`, templates/service.yaml:1), so it is applied
 * after a fail-closed Service webhook serves (the AWS Load Balancer Controller's); its Deployment is placed by
 * nodeSelector/tolerations (templates/deployment.yaml:108-121), whose defaults tolerate the control planes
 * (values.yaml:93-98).
 */
const KUBELET_CSR_APPROVER_FACTS: ChartFacts = {
  version: '1.2.14',
  // Talos kubelets request their serving certificates by CSR (machineconfig.ts rotate-server-certificates) and
  // serve no TLS until one is approved: what metrics-server needs (catalog/metrics-server.ts) exists once the
  // approver runs (a controller-runtime controller `For` CertificateSigningRequests: the ones pending before it started too,
  // postfinance/kubelet-csr-approver v1.2.14 internal/controller/csr_controller.go:86, 214-217).
  provides: () => [cap.kubeletServingCertificates],
  needs: (values) => (valueAt(values, 'metrics.enable') === false ? [] : [createsServices('kubelet-csr-approver')]),
  pods: (values) =>
    [placementAt(values, 'kubelet-csr-approver', '', { tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Equal', effect: 'NoSchedule' }] })],
};

/**
 * Approves the kubelet serving-certificate CSRs that Talos' rotate-server-certificates produces,
 * but only for node names of this VPC (EC2 private DNS: ip-name or resource-name hostnames of the
 * region) and addresses inside the VPC CIDR; anything else is denied.
 */
export const kubeletCsrApprover: CatalogEntry = {
  name: 'kubelet-csr-approver',
  description: 'Approves kubelet serving-certificate CSRs whose names and IPs belong to this VPC (so metrics-server can verify kubelets)',
  chart: { repoURL: 'https://postfinance.github.io/kubelet-csr-approver', name: 'kubelet-csr-approver', version: '1.2.14' },
  // No kubeVersion: the published chart's Chart.yaml (postfinance/kubelet-csr-approver gh-pages at
  // af7b829, kubelet-csr-approver-1.2.14.tgz) has none, nor has charts/kubelet-csr-approver/Chart.yaml
  // at tag v1.2.14 (its version is a placeholder the release sets); gh-pages index.yaml lists none
  // for any 1.2.x release.
  chartKubeVersions: kubeVersionOf(
    ['1.2.0', '1.2.1', '1.2.2', '1.2.3', '1.2.4', '1.2.5', '1.2.6', '1.2.7', '1.2.8', '1.2.10', '1.2.11', '1.2.12', '1.2.13', '1.2.14'],
    { constraint: null, source: 'postfinance/kubelet-csr-approver gh-pages index.yaml at af7b829 (1.2.14: kubelet-csr-approver-1.2.14.tgz Chart.yaml): no kubeVersion' },
  ),
  namespace: 'kube-system',
  syncWave: -2,
  enabledByDefault: (m) => m.cluster.distribution === 'talos',
  condition: 'Talos (kubelet serving certificates rotate through CSRs)',
  // orphan: kubelets of new nodes get no serving certificate: kubectl logs/exec and metrics-server fail on them.
  onDelete: 'orphan',
  clusterResources: RBAC,
  facts: KUBELET_CSR_APPROVER_FACTS,
  values: ({ model }) => {
    const domain = model.aws.region === 'us-east-1' ? 'ec2.internal' : `${model.aws.region}.compute.internal`;
    return {
      providerRegex: `^(ip-[0-9]+-[0-9]+-[0-9]+-[0-9]+|i-[0-9a-f]+)\\.${reEscape(domain)}$`,
      providerIpPrefixes: [model.aws.vpc.cidr],
    };
  },
};
