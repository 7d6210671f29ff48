/**
 * Catalog entry (data): cert-manager, certificates for webhooks and ingresses.
 */
import { CRD, RBAC, WEBHOOKS, type CatalogEntry } from './types.js';

export const certManager: CatalogEntry = {
  name: 'cert-manager',
  description: 'cert-manager (certificates for webhooks and ingresses)',
  // The classic Helm repository still serves every release; the chart version carries a leading v.
  chart: { repoURL: 'https://charts.jetstack.io', name: 'cert-manager', version: 'v1.21.1' },
  namespace: 'cert-manager',
  syncWave: -1,
  enabledByDefault: () => true,
  condition: 'always',
  podSecurity: 'restricted',
  // orphan: the certificates it issues (the Load Balancer Controller's webhook certificate among them) stop renewing, and its webhook would be gone while other Applications' Certificates remain.
  onDelete: 'orphan',
  clusterResources: [CRD, ...RBAC, ...WEBHOOKS],
  values: () => ({ crds: { enabled: true, keep: true } }),
};
