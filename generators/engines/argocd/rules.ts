/**
 * Hub mode (`argocd.manages`): what a hub may manage. Measured against what Argo CD can run: the
 * ApplicationSet reads each managed environment's rendered/<env>/fleet.yaml, which only an existing
 * Argo CD environment renders; a managed environment has no Argo CD of its own, so it cannot be a hub.
 */
import { cidrsOverlap, parseCidr } from '../../lib/cidr.js';
import { hintFor } from '../../lib/suggest.js';
import { envFile, locate } from '../../load/loader.js';
import { REFRESH_COMMAND } from '../../load/ssm-lock.js';
import { type FleetEntry, hubOf } from '../../model/fleet.js';
import type { Rule } from '../../validate/rules.js';

/** The name Argo CD gives the cluster it runs in. */
const IN_CLUSTER_NAME = 'in-cluster';

/** An endpoint URL compared as Argo CD compares servers after parsing: scheme and host in lower case, no trailing slash. */
function sameEndpoint(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
  } catch {
    return url.toLowerCase().replace(/\/+$/, '');
  }
}

/**
 * Whether an endpoint is the in-cluster API server (kubernetes.default.svc, with or without the namespace
 * suffix, or the kubernetes Service's cluster DNS name): the server of Argo CD's own cluster (objects.ts IN_CLUSTER).
 */
function isInCluster(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    host = url.toLowerCase();
  }
  return /^kubernetes(\.default(\.svc(\.cluster\.local)?)?)?\.?$/.test(host);
}

/**
 * What identifies a fleet entry's API server: its URL as Argo CD compares it, or the SSM parameter it
 * names (one parameter, in one account and region, holds one value: two environments naming it are on
 * one endpoint, whatever the value is).
 */
function endpointKey(e: FleetEntry | undefined): string | undefined {
  if (e?.endpoint !== undefined) return sameEndpoint(e.endpoint);
  if (e?.endpointParameter !== undefined) return `ssm:${e.aws.accountId ?? ''}:${e.aws.region ?? ''}:${e.endpointParameter}`;
  return undefined;
}

/** The endpoint as the message shows it. */
const endpointText = (e: FleetEntry): string => e.endpoint ?? `{ ssm: ${e.endpointParameter} }`;

const manages: Rule = ({ env, input, fleet }, report) => {
  const managed = input.argocd?.manages ?? [];
  const leaving = input.argocd?.decommission ?? [];
  if ((managed.length === 0 && leaving.length === 0) || !fleet) return;
  if ((input.gitops ?? 'argocd') !== 'argocd') {
    report('argocd-manages-engine', ['argocd', managed.length > 0 ? 'manages' : 'decommission'], `only an environment with gitops: argocd can be a hub (this one uses ${input.gitops})`, { hint: 'remove argocd.manages, or set gitops: argocd' });
    return;
  }
  // An environment being let go still has its root, Applications and cluster Secret on the hub: the same checks hold until it leaves.
  const list = [...managed, ...leaving];
  list.forEach((target, i) => {
    const path = i < managed.length ? ['argocd', 'manages', i] : ['argocd', 'decommission', i - managed.length];
    const entry = fleet.get(target);
    // In both lists: the ApplicationSet would keep generating its root (and restoring its automated sync), so the decommission script could not stop it.
    if (i >= managed.length && managed.includes(target))
      return report('argocd-decommission-managed', path, `'${target}' is in both argocd.manages and argocd.decommission: the ApplicationSet keeps generating its root ${target}-root and puts back the automated sync its decommission script turns off`, {
        hint: `remove ${target} from argocd.manages (it stays registered while in argocd.decommission), synth, let the hub sync, then run rendered/${target}/argocd/decommission.sh`,
      });
    if (target === env.name) return report('argocd-manages-self', path, `'${target}' is this environment: a hub does not manage itself`, { hint: 'list the other environments its Argo CD manages' });
    if (!entry) return report('argocd-manages-unknown', path, `no environment named '${target}'`, { hint: hintFor(target, [...fleet.keys()].filter((n) => n !== env.name)) ?? `environments: ${[...fleet.keys()].join(', ')}` });
    if (entry.gitops !== 'argocd') return report('argocd-manages-engine', path, `'${target}' uses gitops: ${entry.gitops}; a hub manages Argo CD environments only`, { hint: `set gitops: argocd in ${target}, or remove it here` });
    if (entry.manages.length > 0) return report('argocd-manages-hub', path, `'${target}' is itself a hub (it manages ${entry.manages.join(', ')}); a managed environment has no Argo CD of its own`, { hint: `manage ${entry.manages.join(', ')} from here directly, or drop argocd.manages in ${target}` });
    // The hub pins its cluster Secret's name and server from the managed file (hub.ts pinnedCluster) and reads only the
    // config from SSM: a file without a string cluster.name, or with an endpoint that is neither a URL nor { ssm }, gives it nothing to pin.
    if (entry.clusterName === undefined || (entry.endpoint === undefined && entry.endpointParameter === undefined))
      return report('argocd-managed-unpinned', path, `'${target}' has no ${entry.clusterName === undefined ? 'cluster.name' : 'cluster.endpoint'} this hub can read from environments/${target}.yaml (${entry.clusterName === undefined ? 'a string' : 'a URL or { ssm: <parameter> }'} expected): the hub's cluster Secret takes its name and server from that file`, {
        hint: `fix environments/${target}.yaml: npm run validate shows where`,
      });
    const other = [...fleet].filter(([n, e]) => n !== env.name && n !== target && (e.manages.includes(target) || e.decommission.includes(target))).map(([n]) => n);
    if (other.length > 0) return report('argocd-manages-twice', path, `'${target}' is also managed by ${other.join(', ')}; one hub per environment`, { hint: 'keep it in one hub' });
    // The hub's Argo CD knows each cluster by its cluster Secret's name (cluster.name), which the
    // Applications' destination.name selects; its own cluster is 'in-cluster'. Two clusters of one name
    // make destination.name ambiguous, and Argo CD refuses to deploy there.
    // Argo CD knows a cluster by its API server URL too: its cluster Secrets are looked up by
    // server (argo-cd util/db/cluster.go GetCluster(server)), so two environments on one endpoint are
    // one cluster, and each would deploy over the other's objects.
    // An endpoint read from SSM is one when both name the same parameter of one account and region.
    const endpoint = endpointKey(entry);
    const twin = endpoint === undefined ? undefined : endpoint === endpointKey(fleet.get(env.name)) ? env.name : list.slice(0, i).find((t) => t !== target && endpointKey(fleet.get(t)) === endpoint);
    if (twin !== undefined)
      return report('argocd-managed-endpoint', path, `'${target}' has cluster.endpoint ${endpointText(entry)}, as ${twin === env.name ? 'this hub does' : `'${twin}' does`}: two environments on one API server are one cluster, and each would apply its objects over the other's`, {
        hint: entry.endpoint === undefined ? `give ${target} the SSM parameter of its own cluster's endpoint` : `give ${target} the endpoint of its own cluster`,
      });
    // The hub's cluster Secret pins its server (hub.ts clusterSecret): an { ssm } endpoint is pinned to the value in
    // the managed environment's SSM lock, never read from the parameter at sync time — whoever may write that
    // parameter could set it to https://kubernetes.default.svc (or another cluster), and a cluster Secret of that
    // server replaces the hub's own in-cluster connection (argo-cd v3.4.4 util/db/cluster.go:87-98). Not locked: refused.
    if (entry.endpointParameter !== undefined && entry.endpoint === undefined && entry.endpointLocked === undefined)
      return report('argocd-managed-endpoint-unlocked', path, `'${target}' has cluster.endpoint { ssm: ${entry.endpointParameter} }, which is not locked in environments/${target}.ssm.lock.json: this hub pins its cluster Secret's server to the locked value, and will not let the parameter set it (a parameter set to https://kubernetes.default.svc would replace the hub's own cluster)`, {
        hint: `run ${REFRESH_COMMAND(target)} and commit the lock it writes`,
      });
    const server = entry.endpoint ?? entry.endpointLocked;
    if (server !== undefined && isInCluster(server))
      return report('argocd-managed-in-cluster', path, `'${target}' has cluster.endpoint ${server}${entry.endpoint === undefined ? ` (the value of ${entry.endpointParameter} in environments/${target}.ssm.lock.json)` : ''}, the address of the hub's own cluster from inside it: its cluster Secret would point the hub's Argo CD at its own cluster (and one whose server is exactly https://kubernetes.default.svc replaces the hub's in-cluster connection: argo-cd v3.4.4 util/db/cluster.go:87-98, ListClusters)`, {
        hint: `give ${target} the endpoint of its own API server`,
      });
    const name = entry.clusterName;
    const first = list.slice(0, i).find((t) => t !== target && fleet.get(t)?.clusterName === name);
    if (name === IN_CLUSTER_NAME || first !== undefined)
      report('argocd-managed-cluster-name', path, `'${target}' has cluster.name '${name}', ${first !== undefined ? `as '${first}' does` : "the name of the hub's own cluster in Argo CD"}: its Applications' destination.name would match two clusters`, {
        hint: `give ${target} its own cluster.name`,
      });
    // The hub reaches a managed API server in another VPC through peering or a transit gateway, which route by
    // address: VPCs whose IPv4 ranges overlap cannot be peered (AWS, "Create a VPC peering connection",
    // prerequisites: the connection goes to `failed`), and a VPC's local route covers its whole range, so no
    // route to the other VPC could take the overlap. The AWS layer would also take an equal range for the same VPC
    // (infra/aws/stacks.ts hubApiCidr: nothing admitted for the hub, the README saying it runs in that VPC).
    const hubAws = fleet.get(env.name)?.aws;
    const differ = (a: string | undefined, b: string | undefined) => a !== undefined && b !== undefined && a !== b;
    const [own, theirs] = [parseCidr(hubAws?.vpcCidr ?? ''), parseCidr(entry.aws.vpcCidr ?? '')];
    if ((differ(hubAws?.vpcId, entry.aws.vpcId) || differ(hubAws?.region, entry.aws.region)) && own && theirs && cidrsOverlap(own, theirs))
      report('argocd-managed-vpc', path, `'${target}' runs in VPC ${entry.aws.vpcId ?? '(from SSM)'} (${entry.aws.region ?? '?'}, ${entry.aws.vpcCidr}), this hub in VPC ${hubAws?.vpcId ?? '(from SSM)'} (${hubAws?.region ?? '?'}, ${hubAws?.vpcCidr}): the address ranges overlap, so no peering or transit gateway can route the hub to ${target}'s API server`, {
        hint: `give one of the two VPCs a range of its own (aws.vpc.cidr), or run ${target} in this hub's VPC`,
      });
  });
};

/** A managed environment's Argo CD is the hub's: installing another one would fight it for the cluster. */
const managedInstall: Rule = ({ env, input, fleet }, report) => {
  const hub = fleet ? hubOf(fleet, env.name) : undefined;
  if (hub && (input.gitops ?? 'argocd') === 'argocd' && input.addons?.['argo-cd']?.enabled === true)
    report('argocd-managed-install', ['addons', 'argo-cd', 'enabled'], `the hub ${hub.name} manages this environment, so it runs no Argo CD of its own`, { hint: `remove addons.argo-cd, or remove ${env.name} from ${hub.name}'s argocd.manages` });
};

/**
 * A managed environment's argo-cd settings: its Argo CD is the hub's, so the argo-cd add-on is never installed here
 * (addons/argo-cd.ts enabledByDefault: not under a hub; argocd-managed-install refuses `enabled: true`), and nothing
 * else reads it: its values and settings, chart, namespace, sync wave, secrets … are not rendered (render.ts takes
 * the Argo CD namespace from the hub, `fleet.hub.namespace`), and argocd-pinned-setting leaves them unchecked. The hub's
 * Argo CD runs on the hub's own addons.argo-cd. `enabled: false` states what holds and stays allowed. Written in this
 * file: refused. Inherited from a base (extends: a base shared with environments that run their own Argo CD): a warning.
 */
const managedArgoCdKeys: Rule = ({ env, input, fleet }, report) => {
  const hub = fleet ? hubOf(fleet, env.name) : undefined;
  const addon = input.addons?.['argo-cd'];
  if (!hub || (input.gitops ?? 'argocd') !== 'argocd' || !addon) return;
  for (const [key, value] of Object.entries(addon)) {
    if (key === 'enabled' || value === undefined || value === null) continue;
    const path = ['addons', 'argo-cd', key];
    const from = locate(env, path, true).file;
    // The value, shortly: a map by its keys.
    const shown = value !== null && typeof value === 'object' ? `{ ${Object.keys(value).join(', ')} }` : JSON.stringify(value);
    const why = `the hub ${hub.name} runs this environment's Argo CD objects in its own Argo CD: no argo-cd is installed here, so this setting (${key}: ${shown}) is never rendered`;
    if (from === env.file)
      report('argocd-managed-unused', path, `${why}; the hub's Argo CD takes its ${key} from ${envFile(hub.name)}`, { key: true, hint: `remove addons.argo-cd.${key} here (addons.argo-cd may only say enabled: false); to change the hub's Argo CD, set it in ${envFile(hub.name)}` });
    else
      report('argocd-managed-unused', path, `inherited from ${from}, it has no effect here: ${why}`, {
        key: true,
        severity: 'warning',
        hint: `it stays in ${from} for the environments that run their own Argo CD; \`addons: { argo-cd: { ${key}: null } }\` here silences this`,
      });
  }
};

/**
 * A managed environment is served from the hub's repository and revision: the hub's ApplicationSet
 * reads rendered/<env>/fleet.yaml with its git generator (the hub's git.repoURL at its
 * git.targetRevision), and the root Application it creates syncs rendered/<env>/apps and argocd from
 * there; the environment's own Applications take their values files and manifests from its own
 * git.repoURL and targetRevision. Another repository is one the hub never reads (nor its AppProjects'
 * sourceRepos allow), another revision syncs Applications of one commit with values of another.
 */
const managedGit: Rule = ({ env, input, fleet }, report) => {
  const hub = fleet ? hubOf(fleet, env.name) : undefined;
  const git = hub ? fleet!.get(hub.name)!.git : undefined;
  if (!hub || !git || (input.gitops ?? 'argocd') !== 'argocd') return;
  if (git.repoURL !== undefined && input.git.repoURL !== git.repoURL)
    report('argocd-managed-repo', ['git', 'repoURL'], `the hub ${hub.name} reads this environment's fleet.yaml and Applications from its repository ${git.repoURL}, but its Applications take their values and manifests from ${input.git.repoURL}`, {
      hint: hintFor(input.git.repoURL, [git.repoURL]) ?? `set git.repoURL: ${git.repoURL} (the hub's)`,
    });
  else if (git.targetRevision !== undefined && input.git.targetRevision !== git.targetRevision)
    report('argocd-managed-revision', ['git', 'targetRevision'], `the hub ${hub.name} syncs this environment's Applications from revision '${git.targetRevision}', but they take their values and manifests from '${input.git.targetRevision}': the two drift apart`, {
      hint: hintFor(input.git.targetRevision, [git.targetRevision]) ?? `set git.targetRevision: ${git.targetRevision} (the hub's)`,
    });
};

/** RollingSync rolls a hub's managed environments: without any, the key would only switch on the controller's progressive syncs. */
const rollingSyncHub: Rule = ({ input }, report) => {
  if (input.argocd?.rollingSync && (input.argocd.manages ?? []).length === 0)
    report('argocd-rolling-sync-hub', ['argocd', 'rollingSync'], 'argocd.rollingSync rolls the environments this hub manages, and it manages none', { hint: 'remove argocd.rollingSync, or list the managed environments in argocd.manages' });
};

export const FLEET_RULES: readonly Rule[] = [manages, managedInstall, managedArgoCdKeys, managedGit, rollingSyncHub];
