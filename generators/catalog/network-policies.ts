/**
 * NetworkPolicies the add-ons render where the distribution puts default-deny policies into
 * kube-system (DistributionFacts.kubeSystemPolicies): the kube-apiserver reaches webhooks and
 * aggregated APIs from the host network of the servers, which no pod selector matches, and Prometheus
 * scrapes from the monitoring namespace; both are blocked unless a policy opens them. Policies are
 * additive, so these open exactly the listed ports and sources.
 */
import { distributionOf } from '../distributions/registry.js';
import type { EnvironmentModel } from '../model/types.js';
import type { K8sObject } from './types.js';

/** Whether the environment's distribution restricts ingress into kube-system. */
export const kubeSystemPolicies = (m: EnvironmentModel): boolean => distributionOf(m).facts.kubeSystemPolicies === true;

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
