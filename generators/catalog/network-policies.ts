/**
 * NetworkPolicies the add-ons render where the distribution puts default-deny policies into
 * kube-system (DistributionFacts.kubeSystemPolicies): the kube-apiserver reaches webhooks and
 * aggregated APIs from the host network of the servers, which no pod selector matches, and Prometheus
 * scrapes from the monitoring namespace; both are blocked unless a policy opens them. Policies are
 * additive, so these open exactly the listed ports and sources.
 */
import { distributionOf } from '../distributions/registry.js';
import type { EnvironmentModel } from '../model/types.js';
import type { InputPath } from '../lib/paths.js';
import { egressIpBlock } from '../model/aws.js';
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

/** How NetworkPolicies are enforced on a cluster (Cilium itself, else the distribution's answer for flannel), or undefined when nothing does. */
export const networkPolicyEnforcer = (m: EnvironmentModel): string | undefined => (m.cluster.network.cni === 'cilium' ? 'Cilium' : distributionOf(m).facts.networkPolicyEnforcer(m));

/** Environment paths networkPolicyEnforcer reads. */
export const networkPolicyEnforcerInputs = (m: EnvironmentModel): InputPath[] => [['cluster', 'distribution'], ['cluster', 'network', 'cni'], ...(distributionOf(m).facts.networkPolicyInputs ?? [])];

/** The NetworkPolicy that keeps an add-on namespace's pods off the instance metadata service. */
export const IMDS_DENY_POLICY = 'odp-deny-imds';

/**
 * Egress from every pod of `namespace` anywhere but the EC2 instance metadata service: a pod on a node
 * whose IMDSv2 hop limit is 2 (where the AWS controllers take the node's credentials) would otherwise
 * get the node role, and with it every store role that node role may assume. Policies are additive and
 * the add-on charts render no egress policy, so this one alone decides: every pod (any namespace) and
 * every IPv4 address except 169.254.169.254/32. IPv6: the nodes' metadata options leave
 * HttpProtocolIpv6 at its default, disabled (infra/aws/stacks.ts metadataOptions), so fd00:ec2::254
 * does not answer (EC2 API Reference, InstanceMetadataOptionsRequest: HttpProtocolIpv6 "Default:
 * disabled"; EC2 User Guide, "Configure the Instance Metadata Service options": the IPv6 endpoint must
 * be enabled explicitly; the hop limit is "the maximum number of hops that the metadata token can
 * travel", and a pod is one hop further than the host).
 *
 * `except` is honoured by every enforcer a distribution names (DistributionFacts.networkPolicyEnforcer,
 * where each cites the source) and by Cilium; the NetworkPolicy conformance tests cover it (kubernetes
 * test/e2e/network/netpol/network_policy.go, "should ensure an IP overlapping both IPBlock.CIDR and
 * IPBlock.Except is allowed").
 */
export function imdsDenyPolicy(namespace: string): K8sObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: IMDS_DENY_POLICY, namespace },
    spec: {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{ to: [{ namespaceSelector: {} }] }, { to: [{ ipBlock: egressIpBlock('0.0.0.0/0') }] }],
    },
  };
}

/**
 * The namespaces that need IMDS: kube-system (the cluster's own components and the AWS controllers)
 * and the namespace of every add-on whose pods take the node's credentials in this environment
 * (CatalogEntry.nodeCredentials, resolved per environment: ResolvedAddon.nodeCredentials).
 */
export const imdsNamespaces = (addons: readonly { namespace: string; nodeCredentials?: true }[]): Set<string> =>
  new Set(['kube-system', ...addons.filter((a) => a.nodeCredentials).map((a) => a.namespace)]);

/** The namespaces with the IMDS egress denial (catalog/resolve.ts withImdsDenial placed it: an add-on's own, and its extra namespaces'). */
export const imdsDeniedNamespaces = (addons: readonly { manifests: readonly K8sObject[] }[]): Set<string> =>
  new Set(addons.flatMap((a) => a.manifests.flatMap((o) => (o.kind === 'NetworkPolicy' && o.metadata.name === IMDS_DENY_POLICY && o.metadata.namespace ? [o.metadata.namespace] : []))));
