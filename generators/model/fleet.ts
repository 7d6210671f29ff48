/**
 * Hub mode across environments: which environment's engine (the hub; an engine with hubMode) manages
 * which others (`manages` in the sync policy section). Read once per set of sources from every
 * environment's merged document, so a managed environment learns its hub and the hub's rules see the
 * environments it names.
 */
import { engineNamed, SYNC_POLICY_KEY } from '../engines/registry.js';
import { listEnvironmentNames, resolveEnvironment, type SourceFiles } from '../load/loader.js';
import { lockFile, parseLock } from '../load/ssm-lock.js';
import { secretTrees } from './secrets.js';
import type { ManagingHub } from './types.js';

export interface FleetEntry {
  gitops: string;
  /** `manages` of the sync policy section, as written. */
  manages: string[];
  /** `decommission` of the sync policy section, as written: environments being let go. */
  decommission: string[];
  /** The namespace of the engine's own add-on (the environment's override, or the catalog's). */
  engineNamespace: string;
  /** `git` as written (a hub's ApplicationSet reads its managed environments from there). */
  git: { repoURL?: string; targetRevision?: string };
  /** `cluster.name` (a managed cluster's name in the hub's engine: the destination of its delivery objects). */
  clusterName?: string;
  /** `cluster.endpoint` when written as a URL (an `{ ssm }` reference is another account's value: left out). */
  endpoint?: string;
  /** The SSM parameter `cluster.endpoint` names when written as `{ ssm: <name> }` (in the environment's account and region). */
  endpointParameter?: string;
  /**
   * That parameter's value in the environment's SSM lock (environments/<env>.ssm.lock.json), when locked: the
   * value reviewers saw and a hub pins in its cluster Secret (absent when the parameter is not locked).
   */
  endpointLocked?: string;
  /** `aws.region` and `aws.accountId` (a hub's SSM parameters live there), `aws.vpc.cidr` (its engine reaches the managed APIs from there) and `aws.vpc.id` as written. */
  aws: { region?: string; accountId?: string; vpcCidr?: string; vpcId?: string };
  /** `promotion.from` as written (the promotion rule refuses a name that is not in the fleet; a hub orders its managed environments' rollout by it). */
  promotionFrom?: string;
  /** The `/odp/<env>/` trees its `{ secret }` names lie in (model/secrets.ts secretTrees; rule secret-other-environment). */
  secretTrees?: string[];
}

export type FleetIndex = ReadonlyMap<string, FleetEntry>;

const indexes = new WeakMap<SourceFiles, FleetIndex>();

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * One environment's part of the fleet, read from its merged document (undefined when it does not parse)
 * and, for an endpoint written as `{ ssm }`, its SSM lock's text (`lockText`: sources.get(lockFile(name))).
 */
export function fleetEntryOf(data: Record<string, unknown> | undefined, lockText?: string): FleetEntry | undefined {
  if (!data) return undefined;
  const sync = isRecord(data[SYNC_POLICY_KEY]) ? data[SYNC_POLICY_KEY] : {};
  const addons = isRecord(data.addons) ? data.addons : {};
  const engine = engineNamed(typeof data.gitops === 'string' ? data.gitops : undefined);
  const own = engine && isRecord(addons[engine.addon.name]) ? (addons[engine.addon.name] as Record<string, unknown>) : {};
  const git = isRecord(data.git) ? data.git : {};
  const cluster = isRecord(data.cluster) ? data.cluster : {};
  const aws = isRecord(data.aws) ? data.aws : {};
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const endpointParameter = isRecord(cluster.endpoint) ? str(cluster.endpoint.ssm) : undefined;
  // Parsed only for an { ssm } endpoint (the lock is one of the environment's sources: a changed lock is a changed entry).
  const locked = endpointParameter !== undefined && lockText !== undefined ? parseLock('', lockText).lock.parameters[endpointParameter] : undefined;
  return {
    gitops: typeof data.gitops === 'string' ? data.gitops : (engine?.name ?? ''),
    manages: Array.isArray(sync.manages) ? sync.manages.filter((x): x is string => typeof x === 'string') : [],
    decommission: Array.isArray(sync.decommission) ? sync.decommission.filter((x): x is string => typeof x === 'string') : [],
    engineNamespace: typeof own.namespace === 'string' ? own.namespace : (engine?.addon.namespace ?? ''),
    git: { repoURL: str(git.repoURL), targetRevision: str(git.targetRevision) },
    clusterName: str(cluster.name),
    endpoint: str(cluster.endpoint),
    endpointParameter,
    ...(locked?.type === 'String' ? { endpointLocked: locked.value } : {}),
    aws: { region: str(aws.region), accountId: str(aws.accountId), vpcCidr: str(isRecord(aws.vpc) ? aws.vpc.cidr : undefined), vpcId: str(isRecord(aws.vpc) ? aws.vpc.id : undefined) },
    ...(isRecord(data.promotion) && typeof data.promotion.from === 'string' ? { promotionFrom: data.promotion.from } : {}),
    secretTrees: secretTrees(data),
  };
}

/**
 * The fleet of every environment in `sources`. `known` supplies entries already read (the
 * incremental state's, for environments whose files did not change), so that a run that renders
 * one environment parses only that one; `null` there means "did not parse".
 */
export function fleetIndex(sources: SourceFiles, known?: (name: string) => FleetEntry | null | undefined): FleetIndex {
  const cached = known ? undefined : indexes.get(sources);
  if (cached) return cached;
  const out = new Map<string, FleetEntry>();
  for (const name of listEnvironmentNames(sources)) {
    const prior = known?.(name);
    const entry = prior === undefined ? fleetEntryOf(resolveEnvironment(name, sources).env?.data, sources.get(lockFile(name))) : (prior ?? undefined);
    if (entry) out.set(name, entry);
  }
  if (!known) indexes.set(sources, out);
  return out;
}

/**
 * Everything of the fleet that can change how `name` validates and renders: its hub, for each
 * environment it manages that environment's entry and the other hubs claiming it (whole entries, so a
 * rule comparing any of their fields is covered), and whether the environment its `promotion.from`
 * names exists (rules-promotion.ts), and which of the `/odp/<env>/` trees its secrets lie in are other environments
 * (rules-ssm.ts secret-other-environment). Environments outside these relations do not affect it (adding
 * one re-renders nobody; adding or deleting the one it promotes from, or one whose tree its secrets name, re-renders it).
 */
export function fleetRelations(fleet: FleetIndex, name: string): unknown {
  const self = fleet.get(name);
  const targets = [...(self?.manages ?? []), ...(self?.decommission ?? [])].map((t) => ({
    name: t,
    entry: fleet.get(t) ?? null,
    claimedBy: [...fleet].filter(([n, e]) => n !== name && (e.manages.includes(t) || e.decommission.includes(t))).map(([n]) => n).sort(),
  }));
  const hub = hubOf(fleet, name);
  const promotion = self?.promotionFrom === undefined ? null : { from: self.promotionFrom, exists: fleet.has(self.promotionFrom), chain: promotionChain(fleet, name) };
  const otherTrees = (self?.secretTrees ?? []).filter((t) => t !== name && fleet.has(t));
  return { self: self ?? null, hub: hub ? { ...hub, entry: fleet.get(hub.name) ?? null } : null, targets, promotion, secretTrees: otherTrees };
}

/**
 * The fleet's hubs (environments whose engine runs in hub mode), sorted by name: once per fleet, not
 * once per call (hubOf runs for every environment: sorting the whole fleet each time made 1000
 * environments' runs quadratic, issue 23). Fleets are not changed once built (a changed size is
 * sorted again all the same).
 */
const HUBS = new WeakMap<FleetIndex, { size: number; hubs: [string, FleetEntry][] }>();
function hubsByName(fleet: FleetIndex): [string, FleetEntry][] {
  const hit = HUBS.get(fleet);
  if (hit && hit.size === fleet.size) return hit.hubs;
  const hubs = [...fleet].filter(([, e]) => engineNamed(e.gitops)?.hubMode).sort(([a], [b]) => a.localeCompare(b));
  HUBS.set(fleet, { size: fleet.size, hubs });
  return hubs;
}

/**
 * The hub managing an environment (the first, by name, when several claim it: a rule refuses that).
 * An environment in a hub's `decommission` list still has that hub (`leaving`): it renders as managed
 * until its decommission script ran and it leaves the list.
 */
export function hubOf(fleet: FleetIndex, name: string): ManagingHub | undefined {
  for (const [hub, e] of hubsByName(fleet)) {
    const leaving = !e.manages.includes(name) && e.decommission.includes(name);
    if (hub !== name && engineNamed(e.gitops)?.hubMode && (e.manages.includes(name) || leaving))
      return { name: hub, namespace: e.engineNamespace, region: e.aws.region ?? '', accountId: e.aws.accountId ?? '', ...(e.aws.vpcCidr ? { vpcCidr: e.aws.vpcCidr } : {}), ...(leaving ? { leaving: true } : {}) };
  }
  return undefined;
}

/**
 * The environments `promotion.from` leads through from `name` (not included), in order, until one without
 * `promotion.from`, one not in the fleet, or one already passed (a cycle: the list then ends with that one).
 */
export function promotionChain(fleet: FleetIndex, name: string): string[] {
  const seen = new Set([name]);
  const out: string[] = [];
  for (let from = fleet.get(name)?.promotionFrom; from !== undefined; from = fleet.get(from)?.promotionFrom) {
    out.push(from);
    if (seen.has(from)) break;
    seen.add(from);
  }
  return out;
}

/**
 * Each environment a hub manages, with its stage in their promotion chain: 0 when its `promotion.from`
 * is not among them, else one more than that environment's (a cycle stops at the environments already seen).
 */
export function promotionStages(fleet: FleetIndex, manages: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  const stage = (env: string, seen: Set<string>): number => {
    if (out[env] !== undefined) return out[env]!;
    const from = fleet.get(env)?.promotionFrom;
    const s = from !== undefined && manages.includes(from) && !seen.has(from) ? stage(from, new Set([...seen, env])) + 1 : 0;
    return s;
  };
  for (const env of manages) out[env] = stage(env, new Set([env]));
  return out;
}

/**
 * cluster.name and cluster.endpoint of each environment a hub registers: the endpoint as written, or, written as
 * `{ ssm }`, its value in that environment's SSM lock (unlocked: left out, and the hub engine's fleet rules
 * refuse the hub, so the Secret's server never comes from the parameter itself).
 */
export function fleetClusters(fleet: FleetIndex, envs: readonly string[]): Record<string, { name?: string; server?: string }> {
  return Object.fromEntries(
    envs.map((env) => {
      const e = fleet.get(env);
      const server = e?.endpoint ?? e?.endpointLocked;
      return [env, { ...(e?.clusterName !== undefined ? { name: e.clusterName } : {}), ...(server !== undefined ? { server } : {}) }];
    }),
  );
}
