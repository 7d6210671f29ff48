/**
 * Egress of NetworkPolicies to an address outside the pod network, as the API documents it
 * (kubernetes/api networking/v1 types.go NetworkPolicySpec, NetworkPolicyEgressRule, NetworkPolicyPeer, IPBlock):
 * - a pod selected by no policy with policyTypes Egress may go anywhere; once selected, it may go where at least
 *   one selecting policy's rule allows (policies are additive);
 * - a rule with no `to` (or an empty one) allows every destination; a peer allows an address outside the pod
 *   network only through an ipBlock whose cidr holds it and none of whose `except` does (namespaceSelector and
 *   podSelector peers match pods only).
 * Ingress likewise (ingressAdmits). And the policies the Flux Operator installs in its namespace (FluxInstance
 * spec.cluster.networkPolicy, default true): fluxcd/flux2 v2.9.0 manifests/policies/ (allow-egress, the one with egress;
 * allow-scraping; allow-webhooks), built by
 * controlplaneio-fluxcd/flux-operator v0.58.1 internal/builder/templates.go:29-31 with the instance's
 * spec.kustomize.patches appended (internal/controller/fluxinstance_controller.go:415-416, templates.go:164).
 * Only JSON6902 patches (a JSON or YAML list of operations) with op add/replace on a top-level spec field are
 * modelled; anything else throws, so a test never passes on a patch this stub does not understand.
 */
import { parse } from 'yaml';

export type Policy = {
  metadata: { name: string; namespace?: string };
  spec: { podSelector?: Selector; policyTypes?: string[]; egress?: { to?: Peer[] }[]; ingress?: { from?: Peer[]; ports?: { port?: number | string; protocol?: string }[] }[] };
};
type Selector = { matchLabels?: Record<string, string> };
type Peer = { ipBlock?: { cidr: string; except?: string[] }; namespaceSelector?: Selector; podSelector?: Selector };

const ipNum = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const inCidr = (ip: string, cidr: string): boolean => {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipNum(ip) / size) === Math.floor(ipNum(base!) / size);
};

/** Whether some pod of `namespace` may reach `ip` (an address that is no pod's) under `policies`. */
export function egressReaches(policies: Policy[], namespace: string, ip: string): boolean {
  const egress = policies.filter((p) => (p.metadata.namespace ?? namespace) === namespace && (p.spec.policyTypes ?? []).includes('Egress'));
  if (egress.length === 0) return true;
  return egress.some((p) =>
    (p.spec.egress ?? []).some((r) => !r.to || r.to.length === 0 || r.to.some((peer) => peer.ipBlock !== undefined && inCidr(ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c) => inCidr(ip, c)))),
  );
}

const selects = (sel: Selector | undefined, labels: Record<string, string>): boolean => Object.entries(sel?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);

/**
 * Whether a pod of `namespace` with `labels` admits TCP `port` (a number) from a pod of `from` (a namespace labelled only
 * with its kubernetes.io/metadata.name): a pod selected by no policy with policyTypes Ingress admits everything; once
 * selected, what one selecting policy's rule allows (a rule without `from` admits every source, without `ports` every
 * port; a namespaceSelector peer matches the source's namespace, a podSelector-only peer pods of the policy's own).
 * A named port in a rule matches only a `port` given with that name (the pod's container port of that name); a name
 * the caller did not give throws, so a test never passes on one this stub cannot resolve.
 */
export function ingressAdmits(policies: Policy[], namespace: string, labels: Record<string, string>, from: string, target: number | { port: number; name: string }): boolean {
  const port = typeof target === 'number' ? target : target.port;
  const name = typeof target === 'number' ? undefined : target.name;
  const ingress = policies.filter((p) => (p.metadata.namespace ?? namespace) === namespace && (p.spec.policyTypes ?? ['Ingress']).includes('Ingress') && selects(p.spec.podSelector, labels));
  if (ingress.length === 0) return true;
  const peer = (q: Peer): boolean => (q.namespaceSelector !== undefined ? selects(q.namespaceSelector, { 'kubernetes.io/metadata.name': from }) : q.podSelector !== undefined && from === namespace);
  const portOk = (ports: { port?: number | string; protocol?: string }[] | undefined): boolean =>
    !ports || ports.length === 0 || ports.some((x) => {
      if (typeof x.port === 'string') {
        if (name === undefined) throw new Error(`stub: named port ${x.port} is not modelled`);
        return (x.protocol ?? 'TCP') === 'TCP' && x.port === name;
      }
      return (x.protocol ?? 'TCP') === 'TCP' && (x.port === undefined || x.port === port);
    });
  return ingress.some((p) => (p.spec.ingress ?? []).some((r) => (!r.from || r.from.length === 0 || r.from.some(peer)) && portOk(r.ports)));
}

/**
 * The upstream policies (flux-operator v0.58.1 config/data/flux/v2.9.0/policies.yaml: allow-egress :1-14, allow-scraping
 * :16-29, allow-webhooks :31-43, the ones flux2 v2.9.0 manifests/policies/ holds).
 */
const upstreamPolicies = (namespace: string): Policy[] => [
  { metadata: { name: 'allow-egress', namespace }, spec: { policyTypes: ['Ingress', 'Egress'], podSelector: {}, egress: [{}], ingress: [{ from: [{ podSelector: {} }] }] } },
  { metadata: { name: 'allow-scraping', namespace }, spec: { policyTypes: ['Ingress'], podSelector: {}, ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 8080, protocol: 'TCP' }] }] } },
  { metadata: { name: 'allow-webhooks', namespace }, spec: { policyTypes: ['Ingress'], podSelector: { matchLabels: { app: 'notification-controller' } }, ingress: [{ from: [{ namespaceSelector: {} }] }] } },
];

/** The NetworkPolicies the operator builds for a FluxInstance, its patches applied. */
export function fluxOperatorPolicies(instance: { metadata: { namespace: string }; spec: { cluster?: { networkPolicy?: boolean }; kustomize?: { patches?: { target?: { kind?: string; name?: string }; patch: string }[] } } }): Policy[] {
  if (instance.spec.cluster?.networkPolicy === false) return [];
  const policies = upstreamPolicies(instance.metadata.namespace);
  for (const { target, patch } of instance.spec.kustomize?.patches ?? []) {
    for (const p of policies) {
      if ((target?.kind !== undefined && target.kind !== 'NetworkPolicy') || (target?.name !== undefined && target.name !== p.metadata.name)) continue;
      const ops = parse(patch) as unknown;
      if (!Array.isArray(ops)) throw new Error(`stub: only JSON6902 patches are modelled, got ${patch}`);
      for (const op of ops as { op: string; path: string; value: unknown }[]) {
        const m = /^\/spec\/([A-Za-z]+)$/.exec(op.path);
        if (!m || !['add', 'replace'].includes(op.op)) throw new Error(`stub: unmodelled patch operation ${JSON.stringify(op)}`);
        (p.spec as Record<string, unknown>)[m[1]!] = op.value;
      }
    }
  }
  return policies;
}
