/**
 * Catalog entry (data): cert-manager, certificates for webhooks and ingresses.
 */
import { createsServices, crds, placementAt, valueAt } from './facts.js';
import { cap } from '../plan/needs.js';
import { CRD, RBAC, WEBHOOKS, type CatalogEntry, type ChartFacts } from './types.js';

/**
 * cert-manager v1.21.1 (cert-manager/cert-manager tag v1.21.1, deploy/charts/cert-manager): CRDs with
 * crds.enabled (values.yaml:104-116); its validating webhook covers every resource of cert-manager.io
 * and acme.cert-manager.io with failurePolicy Fail, and no core kind (templates/webhook-validating-webhook.yaml:22-39;
 * the mutating one, CertificateRequests: templates/webhook-mutating-webhook.yaml:22-37).
 */
const CERT_MANAGER_FACTS: ChartFacts = {
  version: 'v1.21.1',
  provides: (values) => [
    ...(valueAt(values, 'crds.enabled') === true || valueAt(values, 'installCRDs') === true ? [...crds('cert-manager.io', ['Certificate', 'CertificateRequest', 'ClusterIssuer', 'Issuer']), ...crds('acme.cert-manager.io', ['Challenge', 'Order'])] : []),
    ...['Certificate', 'CertificateRequest', 'ClusterIssuer', 'Issuer'].map((k) => cap.webhook('cert-manager.io', k)),
  ],
  needs: () => [createsServices('cert-manager')],
  pods: (values) => [placementAt(values, 'the controller')],
};

export const certManager: CatalogEntry = {
  name: 'cert-manager',
  description: 'cert-manager (certificates for webhooks and ingresses)',
  // The classic Helm repository still serves every release; the chart version carries a leading v.
  chart: { repoURL: 'https://charts.jetstack.io', name: 'cert-manager', version: 'v1.21.1' },
  upgradeNotes: 'https://cert-manager.io/docs/installation/upgrade/',
  chartKubeVersions: { 'v1.21.1': { constraint: '>= 1.22.0-0', source: 'cert-manager/cert-manager deploy/charts/cert-manager/Chart.yaml at v1.21.1' } },
  namespace: 'cert-manager',
  syncWave: -1,
  enabledByDefault: () => true,
  condition: 'always',
  facts: CERT_MANAGER_FACTS,
  podSecurity: 'restricted',
  // orphan: the certificates it issues (the Load Balancer Controller's webhook certificate among them) stop renewing, and its webhook would be gone while other Applications' Certificates remain.
  onDelete: 'orphan',
  clusterResources: [CRD, ...RBAC, ...WEBHOOKS],
  values: () => ({ crds: { enabled: true, keep: true } }),
};
