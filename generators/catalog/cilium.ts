/**
 * Catalog entry (data): Cilium, the CNI with kube-proxy replacement when cluster.network.cni is cilium.
 */
import { cap } from '../plan/needs.js';
import { kubeVersionOf, RBAC, type CatalogEntry, type ChartFacts } from './types.js';

/** Cilium 1.18.0 (no chart data under shared/upstream): the agent DaemonSet tolerates every taint (its values' `tolerations: [{operator: Exists}]`) and gives nodes their pod network. */
const CILIUM_FACTS: ChartFacts = { version: '1.18.0', provides: () => [cap.podNetwork], needs: () => [], pods: () => [{ who: 'the Cilium agent', tolerations: [{ operator: 'Exists' }] }] };

/**
 * Cilium as CNI with kube-proxy replacement: IPAM from Kubernetes, and the API server reached at the
 * cluster endpoint, since kube-proxy is gone. A distribution adds its own values under these
 * (Distribution.addons.values: e.g. a node-local API endpoint, its cgroup and capability settings)
 * and its note to the description.
 *
 * cilium/cilium:install/kubernetes/cilium/values.yaml (1.18.0; no values.yaml of it under
 * shared/upstream/charts, so no key file) documents k8sServiceHost, k8sServicePort (string or
 * integer), and `k8sNetworkPolicy.enabled: true` by default: Cilium enforces the workloads'
 * NetworkPolicies without further values.
 */
export const cilium: CatalogEntry = {
  name: 'cilium',
  description: 'Cilium CNI with kube-proxy replacement',
  chart: { repoURL: 'https://helm.cilium.io/', name: 'cilium', version: '1.18.0' },
  upgradeNotes: 'https://docs.cilium.io/en/stable/operations/upgrade/',
  // cilium/charts (helm.cilium.io's repository) at 009b5e9 (2026-08-03): cilium-1.18.0.tgz (added in
  // 04fc170, from cilium/cilium 274205f) Chart.yaml:94 `kubeVersion: '>= 1.21.0-0'`; index.yaml lists
  // the same constraint for every 1.18.x and 1.19.x release it holds.
  chartKubeVersions: {
    ...kubeVersionOf(
      ['1.18.0', '1.18.1', '1.18.2', '1.18.3', '1.18.4', '1.18.5', '1.18.6', '1.18.7', '1.18.8', '1.18.9', '1.18.10', '1.18.11', '1.18.12', '1.19.0', '1.19.1', '1.19.2', '1.19.3', '1.19.4', '1.19.5', '1.19.6'],
      { constraint: '>= 1.21.0-0', source: 'cilium/charts index.yaml at 009b5e9 (1.18.0: cilium-1.18.0.tgz Chart.yaml:94)' },
    ),
  },
  namespace: 'kube-system',
  syncWave: -3,
  enabledByDefault: (m) => m.cluster.network.cni === 'cilium',
  condition: 'cluster.network.cni is cilium',
  facts: CILIUM_FACTS,
  bootstrapOrder: 10,
  // orphan: the CNI: deleting it takes every pod's network, the engine's included.
  onDelete: 'orphan',
  clusterResources: RBAC,
  values: ({ model }) => {
    return {
      ipam: { mode: 'kubernetes' },
      kubeProxyReplacement: true,
      k8sServiceHost: model.cluster.endpointHost,
      k8sServicePort: model.cluster.endpointPort,
      // Hubble is on by default with TLS from `method: helm`: genCA/genSignedCert (and a `lookup` that an
      // engine rendering without cluster access cannot run) at every render, so the delivery is always
      // OutOfSync and self-heal rotates the certificates on each sync. `certmanager` cannot work here: Cilium is the CNI and is
      // installed by helm in the bootstrap, before cert-manager (wave -1, and it needs pod networking
      // itself), so its Certificate objects would have no CRD. `cronJob` renders a certgen Job (a
      // post-install hook, host network: it runs before the CNI is ready) and a CronJob that create the
      // CA (reused: --ca-reuse-secret) and the Hubble server certificates as Secrets in the cluster, not
      // in the rendered chart: the render is deterministic (catalog/determinism.ts).
      hubble: { tls: { auto: { method: 'cronJob' } } },
    };
  },
};
