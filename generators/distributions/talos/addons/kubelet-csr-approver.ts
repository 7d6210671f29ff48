/**
 * Talos' add-on (catalog data): approves the kubelet serving-certificate CSRs of rotate-server-certificates.
 */
import { RBAC, type CatalogEntry } from '../../../catalog/types.js';

/** Escape a string for use inside a Go (RE2) regular expression. */
const reEscape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Approves the kubelet serving-certificate CSRs that Talos' rotate-server-certificates produces,
 * but only for node names of this VPC (EC2 private DNS: ip-name or resource-name hostnames of the
 * region) and addresses inside the VPC CIDR; anything else is denied.
 */
export const kubeletCsrApprover: CatalogEntry = {
  name: 'kubelet-csr-approver',
  description: 'Approves kubelet serving-certificate CSRs whose names and IPs belong to this VPC (so metrics-server can verify kubelets)',
  chart: { repoURL: 'https://postfinance.github.io/kubelet-csr-approver', name: 'kubelet-csr-approver', version: '1.2.14' },
  namespace: 'kube-system',
  syncWave: -2,
  enabledByDefault: (m) => m.cluster.distribution === 'talos',
  condition: 'Talos (kubelet serving certificates rotate through CSRs)',
  // orphan: kubelets of new nodes get no serving certificate: kubectl logs/exec and metrics-server fail on them.
  onDelete: 'orphan',
  clusterResources: RBAC,
  values: ({ model }) => {
    const domain = model.aws.region === 'us-east-1' ? 'ec2.internal' : `${model.aws.region}.compute.internal`;
    return {
      providerRegex: `^(ip-[0-9]+-[0-9]+-[0-9]+-[0-9]+|i-[0-9a-f]+)\\.${reEscape(domain)}$`,
      providerIpPrefixes: [model.aws.vpc.cidr],
    };
  },
};
