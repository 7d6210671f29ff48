/**
 * NetworkPolicies the add-ons need on RKE2. RKE2's CIS profile puts `default-network-policy` into
 * kube-system, kube-public and default: ingress only from pods of the same namespace (rancher/rke2
 * v1.35.7+rke2r1 pkg/rke2/np.go defaultNamespacePolicies; its extra kube-system policies open only
 * RKE2's own charts: DNS on 53, rke2-ingress-nginx, rke2-traefik, rke2-metrics-server,
 * rke2-snapshot-validation-webhook). The kube-apiserver reaches webhooks and aggregated APIs from
 * the host network of the servers, which no pod selector matches, and Prometheus scrapes from the
 * monitoring namespace: both are blocked unless a policy opens them. Policies are additive, so these
 * open exactly the listed ports and sources.
 */
import type { EnvironmentModel } from '../../model/types.js';
import type { K8sObject } from '../../catalog/types.js';

/** Whether RKE2's CIS NetworkPolicies are in force (the RKE2 target always runs `profile: cis`). */
export const rke2CisPolicies = (m: EnvironmentModel): boolean => m.cluster.distribution === 'rke2';

/** Ingress to the pods matching `podLabels` in kube-system on `ports` from anywhere (the API server's webhook and aggregation calls). */
export function apiServerIngressPolicy(name: string, podLabels: Record<string, string>, ports: number[]): K8sObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: 'kube-system' },
    spec: {
      podSelector: { matchLabels: podLabels },
      policyTypes: ['Ingress'],
      ingress: [{ ports: ports.map((port) => ({ protocol: 'TCP', port })) }],
    },
  };
}

/** Ingress from the monitoring namespace to every kube-system pod (Prometheus scrapes CoreDNS, the controllers, metrics-server). */
export function monitoringIngressPolicy(monitoringNamespace: string): K8sObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'odp-allow-prometheus-scrape', namespace: 'kube-system' },
    spec: {
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': monitoringNamespace } } }] }],
    },
  };
}
