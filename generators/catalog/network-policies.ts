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

/**
 * The subnets nodes run in (sorted CIDRs): the fixed nodes' and pools' subnets, every private subnet
 * for an auto-scaled pool that names none (the AWS layer spreads it over them), the VPC when a node
 * has no subnet in the model.
 */
export function nodeSubnetCidrs(m: EnvironmentModel): string[] {
  const privateSubnets = m.aws.vpc.subnets.filter((s) => !s.public).map((s) => s.cidr);
  const cidrs = new Set<string>();
  for (const p of m.pools) {
    const fixed = p.nodes.map((n) => n.subnet ?? p.subnet);
    const placed = p.nodes.length > 0 ? fixed : [p.subnet];
    for (const s of placed) {
      if (s) cidrs.add(s.cidr);
      else if (p.nodes.length === 0 && privateSubnets.length > 0) privateSubnets.forEach((c) => cidrs.add(c));
      else cidrs.add(m.aws.vpc.cidr);
    }
  }
  return [...cidrs].sort();
}

/**
 * Ingress to the pods matching `podLabels` in kube-system on `ports` from the nodes (the API server's
 * webhook and aggregation calls come from the servers' host network): none where the distribution's
 * own policy admits the nodes already (DistributionFacts.kubeSystemNodeIngress), otherwise from the
 * node subnets. A pod's own node is always admitted ("Pods cannot ... block access from their resident
 * node": kubernetes/website content/en/docs/concepts/services-networking/network-policies.md, "What you
 * can't do with network policies").
 */
export function apiServerIngressPolicy(m: EnvironmentModel, name: string, podLabels: Record<string, string>, ports: number[]): K8sObject[] {
  if (!kubeSystemPolicies(m) || distributionOf(m).facts.kubeSystemNodeIngress?.(m) !== undefined) return [];
  return [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name, namespace: 'kube-system' },
      spec: {
        podSelector: { matchLabels: podLabels },
        policyTypes: ['Ingress'],
        ingress: [{ from: nodeSubnetCidrs(m).map((cidr) => ({ ipBlock: { cidr } })), ports: ports.map((port) => ({ protocol: 'TCP', port })) }],
      },
    },
  ];
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
