/**
 * Add-on pods on the host network: they share the node's network namespace, so no NetworkPolicy selects
 * them (the IMDS denial of catalog/network-policies.ts does not apply) and the IMDSv2 hop limit does not
 * count (no extra hop): they wear the node's role like the host's own processes (validate/access.ts,
 * route host-network). One row per pod a catalog chart can run with hostNetwork, with the values key
 * that turns it on, the chart's default, and where the pod goes (the chart's placement keys and defaults),
 * from the pinned chart's values.yaml. A key the environment (or the catalog) sets wins over the default.
 */
import { placementAt, valueAt } from './facts.js';
import type { ResolvedAddon } from './resolve.js';
import type { PodPlacement } from '../plan/needs.js';
import type { Toleration } from '../lib/scheduling.js';

export interface HostNetworkPod {
  addon: string;
  who: string;
  /** Dotted values key whose `true` puts the pod on the host network, and the chart's default. */
  key: string;
  byDefault: boolean;
  /** Dotted values key that, when `false`, leaves the pod out altogether (a subchart's condition). */
  condition?: string;
  /** Prefix of the chart's tolerations/nodeSelector/affinity keys for this pod, and their defaults. */
  prefix: string;
  defaults: { tolerations?: Toleration[]; nodeSelector?: Record<string, string> };
  /**
   * The TCP port it listens on at the node's addresses (a values key and the chart's default) for pods on other
   * nodes, and which pods connect (the prefix of their placement keys in the same values): the node security
   * groups admit exactly this (infra/aws/ports.ts). Absent: nothing on another node connects to it.
   */
  serves?: { key: string; byDefault: number; purpose: string; clients: { who: string; prefix: string; condition?: string }; source: string };
  source: string;
}

export const HOST_NETWORK_PODS: readonly HostNetworkPod[] = [
  {
    addon: 'kube-prometheus-stack',
    who: 'prometheus-node-exporter',
    key: 'prometheus-node-exporter.hostNetwork',
    byDefault: true,
    condition: 'nodeExporter.enabled',
    prefix: 'prometheus-node-exporter.',
    // Tolerates every NoSchedule taint (the control-plane taint included), not NoExecute ones.
    defaults: { tolerations: [{ effect: 'NoSchedule', operator: 'Exists' }], nodeSelector: { 'kubernetes.io/os': 'linux' } },
    // The chart's service.port "sets the port of the exposed container as well (NE or kubeRBACProxy)": node_exporter
    // listens with --web.listen-address=[$(HOST_IP)]:<service.port> (HOST_IP 0.0.0.0 with listenOnAllInterfaces: true,
    // the default), or kube-rbac-proxy --secure-listen-address=:<service.port> in front of it on 127.0.0.1.
    serves: {
      key: 'prometheus-node-exporter.service.port',
      byDefault: 9100,
      purpose: 'Prometheus scrapes node-exporter on every node’s address (host network)',
      clients: { who: 'Prometheus', prefix: 'prometheus.prometheusSpec.', condition: 'prometheus.enabled' },
      source:
        'prometheus-community/helm-charts charts/prometheus-node-exporter @ 0193199: values.yaml (service.port: 9100, listenOnAllInterfaces: true, kubeRBACProxy.enabled: false), templates/daemonset.yaml (--web.listen-address=[$(HOST_IP)]:$servicePort; kube-rbac-proxy --secure-listen-address=:service.port; hostNetwork: .Values.hostNetwork)',
    },
    source:
      'prometheus-community/helm-charts charts/prometheus-node-exporter/values.yaml @ 0193199 (keys hostNetwork: true, hostPID: true, tolerations [{effect: NoSchedule, operator: Exists}], nodeSelector kubernetes.io/os: linux); subchart 4.56.1 of kube-prometheus-stack 88.5.3 (Chart.yaml:58-61, condition nodeExporter.enabled: true at values.yaml:2711-2712)',
  },
  {
    addon: 'aws-cloud-controller-manager',
    who: 'the AWS cloud controller manager',
    key: 'hostNetworking',
    byDefault: false,
    prefix: '',
    defaults: { tolerations: [{ key: 'node.cloudprovider.kubernetes.io/uninitialized', value: 'true', effect: 'NoSchedule' }], nodeSelector: { 'node-role.kubernetes.io/control-plane': '' } },
    source: 'kubernetes/cloud-provider-aws charts/aws-cloud-controller-manager 0.0.11 values.yaml:17-19 (nodeSelector), 133-137 (tolerations); templates: `{{- if .Values.hostNetworking }} hostNetwork: true` (values/derive-keys.ts)',
  },
  {
    addon: 'metrics-server',
    who: 'metrics-server',
    key: 'hostNetwork.enabled',
    byDefault: false,
    prefix: '',
    defaults: {},
    source: 'kubernetes-sigs/metrics-server charts/metrics-server 3.13.1 values.yaml:70-76 (hostNetwork.enabled: false), 185-189 (placement)',
  },
  {
    addon: 'cert-manager',
    who: "cert-manager's webhook",
    key: 'webhook.hostNetwork',
    byDefault: false,
    prefix: 'webhook.',
    defaults: {},
    source: 'cert-manager/cert-manager deploy/charts/cert-manager v1.21.1 values.yaml:1092-1101 (webhook.hostNetwork: false)',
  },
  {
    addon: 'external-secrets',
    who: 'the External Secrets controller',
    key: 'hostNetwork',
    byDefault: false,
    prefix: '',
    defaults: {},
    source: 'external-secrets/external-secrets deploy/charts/external-secrets v2.9.0 values.yaml:464 (hostNetwork: false), 439-445 (placement)',
  },
  {
    addon: 'aws-load-balancer-controller',
    who: 'the AWS Load Balancer Controller',
    key: 'hostNetwork',
    byDefault: false,
    prefix: '',
    defaults: {},
    source: 'aws/eks-charts stable/aws-load-balancer-controller 3.5.0 values.yaml:352 (hostNetwork: false), 78-83 (placement)',
  },
];

export interface HostNetworkPodOf {
  addon: string;
  namespace: string;
  who: string;
  key: string;
  placement: PodPlacement;
  /** The port it serves to pods on other nodes (its values, else the chart's default) and their placement; absent when no client runs (HostNetworkPod.serves). */
  serves?: { port: number; key: string; purpose: string; clients: PodPlacement; source: string };
}

/** The add-on pods of an environment on the host network, with their namespace and placement. */
export function hostNetworkPods(addons: readonly ResolvedAddon[]): HostNetworkPodOf[] {
  return HOST_NETWORK_PODS.flatMap((row) => {
    const a = addons.find((x) => x.name === row.addon && x.catalog);
    if (!a || (row.condition && valueAt(a.values, row.condition) === false)) return [];
    const set = valueAt(a.values, row.key);
    if (!(typeof set === 'boolean' ? set : row.byDefault)) return [];
    const s = row.serves;
    const port = s && valueAt(a.values, s.key);
    const serves =
      s && !(s.clients.condition && valueAt(a.values, s.clients.condition) === false)
        ? { port: typeof port === 'number' ? port : s.byDefault, key: s.key, purpose: s.purpose, clients: placementAt(a.values, s.clients.who, s.clients.prefix), source: s.source }
        : undefined;
    return [{ addon: a.name, namespace: a.namespace, who: row.who, key: row.key, placement: placementAt(a.values, row.who, row.prefix, row.defaults), ...(serves ? { serves } : {}) }];
  });
}
