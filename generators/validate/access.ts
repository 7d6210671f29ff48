/**
 * The access graph of an environment: for every SSM parameter it uses, who can read it, and by which
 * route. Pure: the model, its AWS plan (infra/aws/plan.ts) and its secret dependencies (model/secrets.ts).
 *
 * Identities are IAM roles with what their policies let them read (`ssm:GetParameter*` resources)
 * and assume (`sts:AssumeRole`). Readers reach them by these routes:
 *
 * - **host**: host processes and host-network pods of a node wear the node's role (instance profile).
 * - **host network**: add-on pods on the host network (catalog/host-network.ts, e.g. kube-prometheus-stack's
 *   node-exporter) wear the role of every node they land on (their tolerations, nodeSelector and required
 *   affinity against plan/nodes.ts nodesOf): neither the IMDS denial (a NetworkPolicy does not select
 *   them) nor the hop limit (no extra hop) stops them. Their namespace is the reader.
 * - **IMDS**: pods on the pod network of a node whose IMDSv2 hop limit is 2 get the node's role too
 *   (the token PUT response crosses one more hop to reach a pod; with hop limit 1 it does not:
 *   research/day2.md §15a). Only the place that runs the credentialed controllers (the control
 *   planes, or the pool named by aws.iam.controllersPool: catalog/placement.ts) and control planes
 *   with add-ons of the distribution pinned there have hop limit 2. Workload namespaces deny egress
 *   by default and never reach 169.254.169.254 (rule workload-egress-imds), nor do add-on namespaces
 *   with the IMDS denial (catalog/network-policies.ts imdsDenyPolicy, where a CNI enforces it), so the
 *   readers are the other add-on namespaces whose pods may run there: the controllers pinned there, the add-ons the
 *   distribution pins to the control planes, every add-on on control planes that take ordinary pods
 *   and on an untainted controllers pool (add-ons carry no tolerations; the DaemonSets that tolerate
 *   every taint, the EBS CSI node plugin, are in kube-system with the controllers).
 * - **store**: a ClusterSecretStore admits the namespaces of its `conditions` (external-secrets
 *   v2.9.0 apis/externalsecrets/v1/secretstore_types.go lines 49-51, client_manager.go lines
 *   227-278: any listed namespace may use it) and reads with its identity (catalog/secret-stores.ts).
 *   The platform's stores admit one namespace each, with a role reading what that namespace's
 *   ExternalSecrets read; a namespace reaching any other parameter through a store is refused
 *   (storeDiagnostics), a warning where the user chose one role for all (settings.iamRoleArn).
 * - **namespaced store**: with ESO's SecretStore reconciler on, a SecretStore without `auth` reads
 *   with the controller's identity (external-secrets providers/v1/aws/auth/auth.go:74-105 @ v2.9.0), and the chart
 *   aggregates `secretstores` into `edit` (deploy/charts/external-secrets/templates/rbac.yaml:311-343 @ v2.9.0): any namespace where
 *   someone has `edit` reads what the controller's node role reads (research/day2.md §14c-d).
 * - **assume**: a reader of a role that may `sts:AssumeRole` another reads what that one reads.
 *
 * Sensitive parameters (SecretDependency.sensitivity) are needed by: node tokens and datastore
 * passwords, the nodes' own host processes (first boot); a cluster credential, the namespace of the
 * dedicated store that serves it. Rule `secret-access` refuses a route from anyone else, positioned at
 * the key that creates the route; rule `secret-tree` refuses a workload `{ secret }` under a platform
 * component's tree.
 */
import { resolveAddons, dedicatedSecretStores, imdsDeniedExtraNamespaces } from '../catalog/resolve.js';
import { SSM_READ } from '../catalog/placement.js';
import { IMDS_DENY_POLICY, imdsDeniedNamespaces, imdsNamespaces, networkPolicyEnforcer } from '../catalog/network-policies.js';
import { hostNetworkPods } from '../catalog/host-network.js';
import { nodesOf as schedulerNodes } from '../plan/nodes.js';
import { nodeMatches, untolerated } from '../lib/scheduling.js';
import { closestSection, listSecretDependencies, type SecretClass, type SecretDependency } from '../model/secrets.js';
import { getAt, formatPath, type DocPath } from '../lib/paths.js';
import { locate, type ResolvedEnvironment } from '../load/loader.js';
import type { EnvironmentModel } from '../model/types.js';
import { awsPlan, storeAuths, type NodeRoleKind } from '../infra/aws/plan.js';
import type { Statement } from '../infra/aws/facts.js';
import { externalSecretParametersByNamespace } from '../infra/aws/addon-iam.js';
import type { Diagnostic } from './diagnostics.js';

export type Reader = { kind: 'host'; role: NodeRoleKind; nodes: string } | { kind: 'namespace'; namespace: string } | { kind: 'any-namespace' };

export interface Identity {
  /** The role's ARN (node roles: `node:<kind>`). */
  id: string;
  /** In words: `node role odp-dev-worker`, `role odp-dev-external-secrets`. */
  label: string;
  /** SSM names or patterns (`*` matches anything) its policies let it read. */
  reads: string[];
  /** Role ARNs it may assume. */
  assumes: string[];
}

export interface Entry {
  reader: Reader;
  /** The steps from the reader to the identity, in words. */
  via: string[];
  identity: string;
  route: 'host' | 'host-network' | 'imds' | 'store' | 'namespaced-store';
  /** Host network: the values key that puts the pod there (`addons.<name>.values.<key>`). */
  setting?: string;
  /** Where the environment creates this route. */
  position: DocPath;
  /** A store reading with the one role every namespace's store shares (settings.iamRoleArn). */
  shared?: true;
}

export interface Route {
  reader: Reader;
  /** Reader → … → identity → parameter, in words. */
  steps: string[];
  /** The identity that reads the parameter (the last role of the chain). */
  identity: string;
  route: Entry['route'];
  position: DocPath;
  /** Whether the chain assumes a role. */
  assumed: boolean;
  shared?: true;
}

export interface AccessGraph {
  identities: Identity[];
  entries: Entry[];
  /** Every SSM parameter the environment depends on, once, with its sensitivity and who needs it. */
  parameters: { name: string; sensitivity?: SecretClass; purpose: string; path: DocPath; needs: Reader[]; writtenBy?: string }[];
}

const parameterName = (arn: unknown): string | undefined => (typeof arn === 'string' ? /^arn:[^:]+:ssm:[^:]*:[^:]*:parameter(\/.*)$/.exec(arn)?.[1] : undefined);
const readsOf = (statements: readonly Statement[]): string[] =>
  statements.filter((s) => s.Effect === 'Allow' && s.Action.some((a) => SSM_READ.test(a))).flatMap((s) => s.Resource.flatMap((r) => parameterName(r) ?? []));
const assumesOf = (statements: readonly Statement[]): string[] =>
  statements.filter((s) => s.Effect === 'Allow' && s.Action.includes('sts:AssumeRole')).flatMap((s) => s.Resource.filter((r): r is string => typeof r === 'string'));
/** Each wildcard pattern compiled once (routesTo asks for the same few patterns for every reader and parameter). */
const PATTERNS = new Map<string, RegExp>();
const patternRegExp = (pattern: string): RegExp => {
  let re = PATTERNS.get(pattern);
  if (re === undefined) {
    re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    if (PATTERNS.size >= 4096) PATTERNS.clear(); // patterns come from the environments: bounded
    PATTERNS.set(pattern, re);
  }
  return re;
};
const matches = (pattern: string, name: string): boolean => pattern === name || patternRegExp(pattern).test(name);

export const readerText = (r: Reader): string =>
  r.kind === 'host' ? `host processes and host-network pods of the ${r.nodes}` : r.kind === 'namespace' ? `namespace ${r.namespace}` : 'any namespace where someone has edit';
const sameReader = (a: Reader, b: Reader): boolean => readerText(a) === readerText(b);

const graphs = new WeakMap<EnvironmentModel, AccessGraph>();

/** The access graph of a model (once per model). */
export function accessGraph(env: ResolvedEnvironment, m: EnvironmentModel): AccessGraph {
  const cached = graphs.get(m);
  if (cached) return cached;
  const g = buildGraph(env, m);
  graphs.set(m, g);
  return g;
}

function buildGraph(env: ResolvedEnvironment, m: EnvironmentModel): AccessGraph {
  const plan = awsPlan(m, m.aws.images);
  const identities: Identity[] = [];
  const entries: Entry[] = [];
  const nodeId = (k: NodeRoleKind): string => `node:${k}`;
  const nodesOf = (k: NodeRoleKind): string => (k === 'controlplane' ? 'control planes' : k === 'controllers' ? `workers of pool ${m.aws.iam.controllersPool}` : k === 'gpu' ? 'GPU workers' : 'workers');

  for (const r of plan.roles) {
    const statements = r.grants.flatMap((x) => x.statements);
    identities.push({ id: nodeId(r.kind), label: `node role ${r.name}`, reads: readsOf(statements), assumes: assumesOf(statements) });
    const pool = plan.pools.findIndex((p) => p.role === r.kind);
    entries.push({ reader: { kind: 'host', role: r.kind, nodes: nodesOf(r.kind) }, via: [], identity: nodeId(r.kind), route: 'host', position: pool >= 0 ? ['nodePools', pool] : [] });
  }
  for (const r of plan.storeRoles) identities.push({ id: r.arn, label: `role ${r.name}`, reads: readsOf(r.statements), assumes: [] });
  for (const r of plan.irsa?.roles ?? []) identities.push({ id: r.arn, label: `role ${r.name} (web identity of ServiceAccount ${r.namespace}/${r.serviceAccount})`, reads: readsOf(r.statements), assumes: [] });

  // IMDS: add-on pods on the pod network of nodes with hop limit 2.
  const addons = resolveAddons(m);
  const cpPods = new Set(plan.facts.controlPlanePodsWithNodeCredentials(m).map((who) => who.split(/[\s(]/)[0]));
  const cpSchedulable = plan.facts.controlPlaneSchedulable(m);
  // Namespaces whose egress to IMDS a NetworkPolicy denies (catalog/network-policies.ts imdsDenyPolicy).
  const denied = imdsDeniedNamespaces(addons);
  const pinned = (k: NodeRoleKind): Set<string> => new Set(plan.roles.filter((r) => r.kind === k).flatMap((r) => r.grants.flatMap((g) => g.addon ?? [])));
  plan.pools.forEach((p, i) => {
    if (p.hopLimit < 2) return;
    const here = pinned(p.role);
    const onPool = addons.filter((a) => here.has(a.name) || (p.group === 'controlplane' ? cpSchedulable || cpPods.has(a.name) : p.pool.taints.length === 0));
    // The chart's pods may run in its extra namespaces too (catalog/resolve.ts imdsDeniedExtraNamespaces: those no other add-on or workload owns).
    const own = new Set(addons.map((a) => a.namespace));
    for (const ns of [...new Set(onPool.flatMap((a) => [a.namespace, ...imdsDeniedExtraNamespaces(m, a, own)]))].filter((n) => !denied.has(n)).sort())
      entries.push({ reader: { kind: 'namespace', namespace: ns }, via: [`pod network of pool ${p.pool.name} (IMDS hop limit 2)`], identity: nodeId(p.role), route: 'imds', position: ['nodePools', i] });
  });

  // Host network: add-on pods in the node's network namespace, on every pool whose nodes they match and tolerate.
  const nodes = schedulerNodes(m);
  const onHost = hostNetworkPods(addons);
  plan.pools.forEach((p, i) => {
    const node = nodes.find((n) => n.name === p.pool.name);
    if (!node) return;
    for (const h of onHost.filter((x) => nodeMatches(node.labels, x.placement.nodeSelector, x.placement.terms) && untolerated(x.placement.tolerations, node.taints).length === 0))
      entries.push({ reader: { kind: 'namespace', namespace: h.namespace }, via: [`host network of pool ${p.pool.name} (${h.who})`], identity: nodeId(p.role), route: 'host-network', setting: `addons.${h.addon}.values.${h.key}`, position: ['nodePools', i] });
  });

  // Stores: the namespaces their conditions admit, with the store's identity.
  const eso = addons.find((a) => a.name === 'external-secrets');
  for (const s of storeAuths(m)) {
    // Refined per parameter (routePosition): the reference that makes the store serve it; a role
    // shared by every namespace's store is created by settings.iamRoleArn.
    const position = closestSection(env.data, ['addons', 'external-secrets', ...(s.shared ? ['settings', 'iamRoleArn'] : [])]);
    for (const ns of s.namespaces)
      entries.push({ reader: { kind: 'namespace', namespace: ns }, via: [`ClusterSecretStore ${s.store}`], identity: s.auth.roleArn, route: 'store', position, ...(s.shared ? { shared: true as const } : {}) });
  }
  // Namespaced SecretStores, unless the chart's reconciler is off.
  if (eso && (eso.values?.processSecretStore ?? true) !== false) {
    const controller = plan.roles.filter((r) => r.grants.some((x) => x.id === 'external-secrets'));
    for (const r of controller.length > 0 ? controller : plan.roles.filter((x) => x.kind === 'worker'))
      entries.push({
        reader: { kind: 'any-namespace' },
        via: ['a namespaced SecretStore without auth (processSecretStore on)', `the External Secrets controller on the ${nodesOf(r.kind)}`],
        identity: nodeId(r.kind),
        route: 'namespaced-store',
        position: closestSection(env.data, ['addons', 'external-secrets', 'values', 'processSecretStore']),
      });
  }

  // Parameters: the environment's dependencies (first mention), with who needs the sensitive ones.
  const deps = new Map<string, SecretDependency>();
  for (const d of listSecretDependencies(env, m)) if (!deps.has(d.name) || (d.sensitivity && !deps.get(d.name)!.sensitivity)) deps.set(d.name, d);
  const parameters = [...deps.values()].map((d) => ({ name: d.name, sensitivity: d.sensitivity, purpose: d.purpose, path: d.path, needs: needsOf(d, m, identities, plan.roles.map((r) => r.kind), nodesOf), ...(d.writtenBy ? { writtenBy: d.writtenBy } : {}) }));
  return { identities, entries, parameters };
}

function needsOf(d: SecretDependency, m: EnvironmentModel, identities: Identity[], kinds: NodeRoleKind[], nodesOf: (k: NodeRoleKind) => string): Reader[] {
  if (d.sensitivity === 'cluster-credential') return dedicatedSecretStores(m).filter((s) => s.parameters.includes(d.name)).map((s): Reader => ({ kind: 'namespace', namespace: s.namespace }));
  // Node tokens and datastore passwords: the nodes whose role reads them for their own boot.
  return kinds.filter((k) => identities.find((i) => i.id === `node:${k}`)?.reads.some((p) => matches(p, d.name))).map((k): Reader => ({ kind: 'host', role: k, nodes: nodesOf(k) }));
}

/** Every route to `name`: each reader, through the roles it wears or assumes, to an identity that reads it. */
export function routesTo(g: AccessGraph, name: string): Route[] {
  const byId = new Map(g.identities.map((i) => [i.id, i]));
  const out: Route[] = [];
  for (const e of g.entries) {
    const walk = (id: string, steps: string[], seen: Set<string>, assumed: boolean): void => {
      const idn = byId.get(id);
      if (!idn || seen.has(id)) return;
      const here = [...steps, idn.label];
      if (idn.reads.some((p) => matches(p, name))) out.push({ reader: e.reader, steps: [readerText(e.reader), ...here, name], identity: idn.label, route: e.route, position: e.position, assumed, ...(e.shared ? { shared: e.shared } : {}) });
      for (const a of idn.assumes) walk(a, [...here, 'sts:AssumeRole'], new Set([...seen, id]), true);
    };
    walk(e.identity, e.via, new Set(), false);
  }
  return out;
}

const CLASS_TEXT: Record<SecretClass, string> = { 'cluster-credential': 'a cluster credential', 'node-token': 'a node token', 'datastore-password': 'a datastore password' };

/** Rules `secret-access` and `secret-tree`. */
export function accessDiagnostics(env: ResolvedEnvironment, m: EnvironmentModel): Diagnostic[] {
  const out: Diagnostic[] = [];
  const at = (path: DocPath, severity: Diagnostic['severity'], rule: string, message: string, hint: string): void => {
    const pos = locate(env, path);
    out.push({ severity, rule, file: pos.file, line: pos.line, col: pos.col, path, message, hint });
  };
  const g = accessGraph(env, m);
  const deps = listSecretDependencies(env, m);
  for (const p of g.parameters) {
    if (!p.sensitivity) continue;
    // One finding per route (position and chain), naming every reader that takes it.
    const groups = new Map<string, { route: Route; readers: Reader[] }>();
    for (const r of routesTo(g, p.name)) {
      // Host-network pods: one warning per pool, rule host-network-role (nodeRoleDiagnostics).
      if (r.route === 'host-network' || p.needs.some((n) => sameReader(n, r.reader))) continue;
      const position = routePosition(r, deps, p.name);
      const key = `${formatPath(position)} ${r.steps.slice(1).join(' → ')}`;
      const found = groups.get(key);
      if (found) found.readers.push(r.reader);
      else groups.set(key, { route: { ...r, position }, readers: [r.reader] });
    }
    for (const { route: r, readers } of groups.values()) {
      const needs = p.needs.length > 0 ? `only ${p.needs.map(readerText).join(', ')}` : 'nothing in the cluster does';
      const who = readers.length === 1 ? readerText(readers[0]!) : `namespaces ${readers.map((x) => (x.kind === 'namespace' ? x.namespace : readerText(x))).join(', ')}`;
      // A node token the node role reads for its own boot, reached from a pool where the AWS
      // controllers need hop limit 2: the price of instance-profile credentials, a warning.
      const bootToken = p.sensitivity === 'node-token' && r.route === 'imds' && !r.assumed && p.needs.length > 0;
      at(
        r.position.length > 0 ? r.position : p.path,
        bootToken ? 'warning' : 'error',
        'secret-access',
        `${p.name} (${CLASS_TEXT[p.sensitivity]}: ${p.purpose}) is readable by ${who}, which ${readers.length === 1 ? 'does' : 'do'} not need it (${needs}): ${['…', ...r.steps.slice(1)].join(' → ')}`,
        hintFor(r),
      );
    }
  }
  nodeRoleDiagnostics(m, g, at);
  storeDiagnostics(env, m, g, deps, at);
  treeDiagnostics(env, m, at);
  return out;
}

/**
 * The node role's roles, reached from a namespace whose pods do not need the node's credentials (the
 * stores' roles in instance-profile mode): such a namespace reads whatever those roles read, sensitive
 * or not (Git credentials, workloads' secrets). One finding per pool, node role and route, at the pool
 * (host network: rule host-network-role, so that an acknowledgement of the pool's boot-token warning, rule
 * secret-access, does not silence it).
 * - IMDS: where a CNI enforces NetworkPolicies every such namespace has the IMDS egress denial and no
 *   entry; what remains is refused (an error).
 * - Host network (catalog/host-network.ts): no NetworkPolicy or hop limit stops those pods, a warning:
 *   the chart's pinned pod reads nothing from AWS, so a read needs that image compromised or someone
 *   who creates pods in that (privileged) namespace, who owns the node anyway through hostPID and the
 *   host's file system; closing it costs the node's network metrics or a move to web identities, the
 *   team's choice (docs/concepts/design-notes.md, "Host-network pods and the node role").
 */
function nodeRoleDiagnostics(m: EnvironmentModel, g: AccessGraph, at: (path: DocPath, severity: Diagnostic['severity'], rule: string, message: string, hint: string) => void): void {
  const byId = new Map(g.identities.map((i) => [i.id, i]));
  const needs = imdsNamespaces(resolveAddons(m));
  // Sensitive parameters the node role reads itself (node tokens, datastore passwords): the IMDS route to
  // them is judged per parameter (accessDiagnostics), the host-network one here; one every node role
  // reads (an agent token) is left out: any node holds it, so a pod on a node's host network gains nothing.
  const nodeRoles = g.identities.filter((i) => i.id.startsWith('node:'));
  const readBy = (i: Identity, name: string): boolean => i.reads.some((x) => matches(x, name));
  const ownSensitive = (id: string): AccessGraph['parameters'] =>
    g.parameters.filter((p) => p.sensitivity && readBy(byId.get(id)!, p.name) && !nodeRoles.every((i) => readBy(i, p.name)));
  const groups = new Map<string, { entry: Entry; namespaces: string[]; settings: string[] }>();
  for (const e of g.entries) {
    if ((e.route !== 'imds' && e.route !== 'host-network') || e.reader.kind !== 'namespace' || needs.has(e.reader.namespace)) continue;
    if ((byId.get(e.identity)?.assumes.length ?? 0) === 0 && (e.route === 'imds' || ownSensitive(e.identity).length === 0)) continue;
    const key = `${formatPath(e.position)} ${e.identity} ${e.route}`;
    const found = groups.get(key) ?? groups.set(key, { entry: e, namespaces: [], settings: [] }).get(key)!;
    if (!found.namespaces.includes(e.reader.namespace)) found.namespaces.push(e.reader.namespace);
    if (e.setting) found.settings.push(e.setting);
  }
  for (const { entry: e, namespaces, settings } of groups.values()) {
    const node = byId.get(e.identity)!;
    const assumed = node.assumes.map((a) => byId.get(a)?.label ?? `role ${a}`);
    const reads = [...new Set(node.assumes.flatMap((a) => byId.get(a)?.reads ?? []))].sort();
    const what = reads.length > 3 ? `${reads.slice(0, 3).join(', ')} and ${reads.length - 3} more` : reads.join(', ');
    const many = namespaces.length > 1;
    const via = g.entries.filter((x) => x.route === e.route && formatPath(x.position) === formatPath(e.position) && x.identity === e.identity && x.reader.kind === 'namespace' && namespaces.includes(x.reader.namespace)).flatMap((x) => x.via);
    const consequence = `that role may assume ${assumed.join(', ')}, so ${many ? 'they' : 'it'} can read ${what || 'what the stores read'}`;
    const own = ownSensitive(e.identity);
    // Beside the boot secrets, what the nodes' runbook scripts write for them (a token rotation's pending token).
    const scripts = [...new Set(own.flatMap((p) => p.writtenBy ?? []))];
    const ownText = `that role reads ${own.map((p) => p.name).join(', ')} itself (the nodes' boot secrets${scripts.length > 0 ? `, and what ${scripts.join(', ')} writes for them` : ''})`;
    const reach = [...(own.length > 0 ? [ownText] : []), ...(assumed.length > 0 ? [consequence] : [])].join('; ');
    if (e.route === 'imds')
      at(
        e.position,
        'error',
        'secret-access',
        `namespace${many ? 's' : ''} ${namespaces.join(', ')} reach${many ? '' : 'es'} ${node.label} from the ${e.via.join(', ')}, which none of ${many ? 'their' : 'its'} pods needs; ${consequence}`,
        `${networkPolicyEnforcer(m) === undefined ? 'nothing enforces NetworkPolicies on this cluster, so the generator cannot deny these namespaces egress to IMDS: ' : ''}taint the pool so that only the AWS controllers run there (and name it in aws.iam.controllersPool), use a CNI that enforces NetworkPolicies (cluster.network.cni: cilium, or a release of the distribution whose flannel does), or give the stores a web identity (aws.iam.mode irsa)`,
      );
    else
      at(
        e.position,
        'warning',
        'host-network-role',
        `namespace${many ? 's' : ''} ${namespaces.join(', ')} wear${many ? '' : 's'} ${node.label} from the ${[...new Set(via)].join(', ')}: no NetworkPolicy or IMDS hop limit applies to a host-network pod; ${reach}`,
        `${assumed.length > 0 ? 'give the stores a web identity (aws.iam.mode irsa), ' : ''}take the pod off the host network (${[...new Set(settings)].map((k) => `${k}: false`).join(', ')}; node-exporter's network collectors then report the pod's interfaces, not the node's), keep it off the pool with a taint it does not tolerate (node-exporter tolerates NoSchedule taints only, not NoExecute ones; the pool's nodes then go unmonitored), or acknowledge the warning with the reason`,
      );
  }
}

/**
 * The store route of every parameter: a namespace whose ClusterSecretStore reaches a parameter none of
 * its ExternalSecrets reads (external-secrets v2.9.0 pkg/controllers/secretstore/client_manager.go:227-278:
 * a store admits its `conditions` namespaces, which may then name any key its role reads) — an error
 * at the reference that makes the store read it; a warning at settings.iamRoleArn when it is the one
 * role every namespace's store shares (the user chose it). Sensitive parameters are judged above.
 */
function storeDiagnostics(env: ResolvedEnvironment, m: EnvironmentModel, g: AccessGraph, deps: readonly SecretDependency[], at: (path: DocPath, severity: Diagnostic['severity'], rule: string, message: string, hint: string) => void): void {
  const reads = readsByNamespace(m);
  const groups = new Map<string, { position: DocPath; shared: boolean; ns: string; store: string; identity: string; names: string[] }>();
  for (const p of g.parameters) {
    if (p.sensitivity) continue;
    for (const r of routesTo(g, p.name)) {
      if (r.route !== 'store' || r.reader.kind !== 'namespace' || reads.get(r.reader.namespace)?.has(p.name)) continue;
      const position = r.shared ? r.position : routePosition(r, deps, p.name);
      const key = `${formatPath(position)} ${r.reader.namespace} ${r.identity}`;
      const found = groups.get(key);
      if (found) found.names.push(p.name);
      else groups.set(key, { position, shared: r.shared === true, ns: r.reader.namespace, store: r.steps[1]!, identity: r.identity, names: [p.name] });
    }
  }
  for (const x of [...groups.values()].sort((a, b) => a.ns.localeCompare(b.ns))) {
    x.names.sort();
    const names = x.names.length > 3 ? `${x.names.slice(0, 3).join(', ')} and ${x.names.length - 3} more` : x.names.join(', ');
    at(
      x.position,
      x.shared ? 'warning' : 'error',
      'secret-access',
      `namespace ${x.ns} can read ${names} through ${x.store} (${x.identity}), which none of its ExternalSecrets reads${x.shared ? ': settings.iamRoleArn is one role for every namespace\'s store, so it reads every namespace\'s secrets' : ''}`,
      x.shared
        ? `remove addons.external-secrets.settings.iamRoleArn: each namespace's store then reads with a role of its own (${m.cluster.name}-external-secrets-<namespace>, created by the AWS layer), or acknowledge the warning with the reason`
        : 'a store must serve only what its namespace reads: read it through the namespace that needs it',
    );
  }
}

/** What each namespace's ExternalSecrets read: the platform stores' (by namespace) and the engines' dedicated stores'. */
function readsByNamespace(m: EnvironmentModel): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const add = (ns: string, names: readonly string[]): void => void names.forEach((n) => (out.get(ns) ?? out.set(ns, new Set()).get(ns)!).add(n));
  for (const [ns, names] of externalSecretParametersByNamespace(m)) add(ns, names);
  for (const s of dedicatedSecretStores(m)) add(s.namespace, s.parameters);
  return out;
}

/**
 * Where a route is created: for a store, the reference that makes it serve the parameter (an explicit
 * `{ secret }`, else the key that derives it, e.g. a hub's `manages` entry); else the route's own key.
 */
function routePosition(r: Route, deps: readonly SecretDependency[], name: string): DocPath {
  if (r.route !== 'store') return r.position;
  const own = deps.filter((d) => d.name === name);
  return (own.find((d) => d.origin === 'explicit') ?? own[0])?.path ?? r.position;
}

function hintFor(r: Route): string {
  switch (r.route) {
    case 'imds':
      return r.assumed
        ? "give the store a web identity (aws.iam.mode irsa): a role the node role assumes is readable by every pod that reaches IMDS there"
        : 'the node role reads it at boot and the AWS controllers need hop limit 2 on this pool: name one worker pool for them in aws.iam.controllersPool (the others get hop limit 1) and taint it so that only they run there, or acknowledge the warning with the reason';
    case 'namespaced-store':
      return 'remove processSecretStore (and crds.createSecretStore) from addons.external-secrets.values: namespaced SecretStores read with the controller\'s node role';
    case 'store':
      return 'a store must serve only what its namespaces need: read it through a dedicated store, or stop naming it in an ExternalSecret';
    case 'host-network':
      return 'take the pod off the host network in the add-on\'s values, or give the store that reads it a web identity (aws.iam.mode irsa)';
    case 'host':
      return 'a node role must not read what its nodes do not boot with: give the store that reads it a web identity (aws.iam.mode irsa)';
  }
}

/** A component's tree: the first three segments (`/odp/dev/grafana/admin-user` → `/odp/dev/grafana/`), else the directory. */
const treeOf = (name: string): string => {
  const s = name.split('/');
  return s.length > 4 ? `${s.slice(0, 4).join('/')}/` : name.slice(0, name.lastIndexOf('/') + 1);
};

/**
 * `secret-tree`: a workload's `{ secret }` under the tree of a platform component (the directory of a
 * parameter the distribution, an add-on or the engine reads): the platform store would then read it
 * and every namespace it admits could turn it into a Secret.
 */
function treeDiagnostics(env: ResolvedEnvironment, m: EnvironmentModel, at: (path: DocPath, severity: Diagnostic['severity'], rule: string, message: string, hint: string) => void): void {
  const deps = listSecretDependencies(env, m);
  const trees = new Map<string, SecretDependency>();
  for (const d of deps) if (d.path[0] !== 'workloads' && !trees.has(treeOf(d.name))) trees.set(treeOf(d.name), d);
  for (const d of deps) {
    if (d.path[0] !== 'workloads') continue;
    const owner = [...trees.entries()].find(([t]) => d.name.startsWith(t))?.[1];
    if (!owner) continue;
    const workload = getAt(env.data, ['workloads', d.path[1] as number, 'name']);
    at(d.path, 'error', 'secret-tree', `${d.name} is under ${treeOf(owner.name)}, the tree of ${owner.purpose}: workload ${String(workload)} may not read it`, `store the workload's secret under its own tree (e.g. /odp/${m.name}/${String(workload)}/…)`);
  }
}

/** `npm run validate -- --explain-access <name>`: the graph for one parameter, in words. */
export function explainAccess(env: ResolvedEnvironment, m: EnvironmentModel, name: string): string {
  const g = accessGraph(env, m);
  const p = g.parameters.find((x) => x.name === name);
  const routes = routesTo(g, name);
  const deps = listSecretDependencies(env, m);
  const lines = [`${m.name}: ${name}`];
  if (p) {
    lines.push(`  ${p.sensitivity ? `${CLASS_TEXT[p.sensitivity]}: ` : ''}${p.purpose}`);
    if (p.sensitivity) lines.push(`  needed by: ${p.needs.length > 0 ? p.needs.map(readerText).join(', ') : 'nothing in the cluster'}`);
  } else lines.push('  not a parameter this environment depends on');
  const readers = g.identities.filter((i) => i.reads.some((x) => matches(x, name)));
  lines.push(`  identities that read it: ${readers.length > 0 ? readers.map((i) => i.label).join(', ') : 'none'}`);
  lines.push(routes.length > 0 ? '  routes:' : '  routes: none');
  for (const r of routes) {
    const denied = p?.sensitivity && !p.needs.some((n) => sameReader(n, r.reader));
    const at = routePosition(r, deps, name);
    // A store route to a default name the file never writes (a catalog add-on's secret): say so, and where another name goes.
    const dep = r.route === 'store' ? deps.find((d) => d.name === name && d.defaultName) : undefined;
    const where = dep ? `a default of ${dep.purpose}, not written in the environment file${dep.setting ? `; another name goes at ${formatPath(dep.setting)}` : ''}` : `created at ${at.length > 0 ? formatPath(at) : 'the document'}`;
    lines.push(`    ${denied ? '✗' : '-'} ${r.steps.join(' → ')}  (${where})`);
  }
  return `${lines.join('\n')}\n`;
}
