/**
 * The resolved add-on list of an environment: catalog entries enabled by their rules or by the
 * environment, plus the environment's third-party charts, each with its namespace, wave, merged
 * Helm values (catalog defaults ⊕ environment values: maps merge deeply, lists replace) and extra
 * manifests. Pure.
 */
import { ExternalSecret } from '../lib/k8s-objects.js';
import { mergeDeep } from '../load/loader.js';
import type { InputPath } from '../lib/paths.js';
import type { AddonOverride, EnvironmentModel } from '../model/types.js';
import { hasSecretEnv } from '../plan/workloads.js';
import { keepOnUnitDeletion } from '../plan/annotations.js';
import { distributionOf } from '../distributions/registry.js';
import { engines } from '../engines/registry.js';
import { catalogEntry, catalogNames, isCatalogAddon, THIRD_PARTY_SYNC_WAVE } from './index.js';
import { namespaceStoreName } from './secret-stores.js';
import { imdsDenyPolicy, imdsNamespaces, networkPolicyEnforcer, networkPolicyEnforcerInputs } from './network-policies.js';
import { CRD, type AddonContext, type CatalogEntry, type ChartRef, type DedicatedSecretStore, type DriftIgnore, type K8sObject, type OnDelete, type SecretSpec } from './types.js';

export interface ResolvedAddon {
  name: string;
  description: string;
  catalog?: CatalogEntry;
  chart?: ChartRef;
  namespace: string;
  syncWave: number;
  /** Merged Helm values (chart add-ons only). */
  values?: Record<string, unknown>;
  /** Extra manifests, ExternalSecrets included. */
  manifests: K8sObject[];
  /** Server-side apply: a catalog chart that ships CRDs, a third-party chart unless it opts out. */
  serverSideApply: boolean;
  driftIgnore: DriftIgnore[];
  clusterResources: string[];
  extraNamespaces: string[];
  podSecurity?: 'privileged' | 'baseline' | 'restricted';
  bootstrapOrder?: number;
  /** Catalog: the entry's onDelete; third-party charts cascade. */
  onDelete: OnDelete;
  /** Environment paths the add-on's files derive from. */
  inputs: InputPath[];
  /** Further paths its extra manifests (not its values or Application) derive from. */
  manifestInputs: InputPath[];
  /** A part of that add-on delivered by a unit of its own (CatalogEntry.parts): its namespace is the add-on's. */
  partOf?: string;
  /** The namespace a part's name is derived from (AddonPart.forNamespace). */
  partForNamespace?: string;
  /** Its pods take the node's credentials through IMDS in this environment (CatalogEntry.nodeCredentials). */
  nodeCredentials?: true;
}

/** Environment parts every catalog add-on may read (cluster identity, AWS, pools, Git). */
const CATALOG_INPUTS: InputPath[] = [['aws'], ['cluster'], ['git'], ['name'], ['nodePools']];

/**
 * `keep` (an add-on whose deletion must orphan it: the GitOps engine's own, whose Secret the
 * bootstrap creates first): the engine never prunes the ExternalSecret, and ESO writes the Secret
 * without an ownerReference (creationPolicy Orphan: external-secrets v2.9.0
 * apis/externalsecrets/v1/externalsecret_types.go), so deleting the ExternalSecret or ESO's CRDs
 * leaves the repository credentials in place.
 */
export function externalSecret(name: string, namespace: string, keys: Record<string, { secret: string }>, keep?: Record<string, string>): K8sObject {
  const es = new ExternalSecret({
    // Its order inside the unit comes from the delivery graph (render/delivery/render.ts).
    metadata: { name, namespace, ...(keep && Object.keys(keep).length > 0 ? { annotations: keep } : {}) },
    spec: {
      refreshInterval: '1h',
      secretStoreRef: { kind: 'ClusterSecretStore', name: namespaceStoreName(namespace) },
      target: { name, creationPolicy: keep ? 'Orphan' : 'Owner' },
      data: Object.entries(keys)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([secretKey, ref]) => ({ secretKey, remoteRef: { key: ref.secret } })),
    },
  });
  return es.toJSON() as unknown as K8sObject;
}

function isEnabled(entry: CatalogEntry, model: EnvironmentModel, o: AddonOverride | undefined): boolean {
  return o?.enabled ?? entry.enabledByDefault(model);
}

function secretsOf(ctx: AddonContext, entry: CatalogEntry | undefined, o: AddonOverride | undefined): SecretSpec {
  return { ...(entry?.secrets?.(ctx) ?? {}), ...(o?.secrets ?? {}) };
}

const contextOf = (model: EnvironmentModel, name: string, entry: CatalogEntry | undefined, o: AddonOverride | undefined): AddonContext => ({
  model,
  namespace: o?.namespace ?? entry?.namespace ?? name,
  settings: o?.settings ?? {},
  override: o,
});

/**
 * Secrets an environment's `addons.<name>.secrets` replaces by name (secretsOf) without every key of the add-on's own
 * Secret of that name: the chart reads those keys (e.g. Grafana's admin.userKey), so the Secret would lack one.
 */
export function replacedSecretsMissingKeys(model: EnvironmentModel): { addon: string; secret: string; missing: string[]; keys: string[] }[] {
  const out: { addon: string; secret: string; missing: string[]; keys: string[] }[] = [];
  for (const o of model.addons) {
    if (!isCatalogAddon(o.name) || !o.secrets) continue;
    const entry = catalogEntry(o.name);
    if (!isEnabled(entry, model, o)) continue;
    const own = entry.secrets?.(contextOf(model, o.name, entry, o)) ?? {};
    for (const [secret, keys] of Object.entries(o.secrets)) {
      const base = own[secret];
      if (!base) continue;
      const missing = Object.keys(base).filter((k) => !(k in (keys ?? {})));
      if (missing.length > 0) out.push({ addon: o.name, secret, missing: missing.sort(), keys: Object.keys(base).sort() });
    }
  }
  return out;
}

/** An enabled add-on before resolution: its name, catalog entry (none for third-party charts), override. */
type Enabled = { name: string; entry: CatalogEntry | undefined; o: AddonOverride | undefined };

/**
 * Namespaces where an ExternalSecret reads from the ClusterSecretStore: add-ons with secrets
 * (catalog defaults or the environment's `secrets`), workloads with `{ secret }` variables, and what
 * the engines' own ExternalSecrets need (Engine.secretStoreNamespaces: a hub's cluster Secrets).
 */
function storeNamespaces(model: EnvironmentModel, enabled: readonly Enabled[]): string[] {
  const namespaces = new Set<string>();
  for (const { name, entry, o } of enabled) {
    const ctx = contextOf(model, name, entry, o);
    if (Object.keys(secretsOf(ctx, entry, o)).length > 0) namespaces.add(ctx.namespace);
  }
  for (const w of model.workloads) if (hasSecretEnv(w)) namespaces.add(w.namespace);
  // An engine's own ExternalSecrets read from its dedicated stores (storesOf), never from this one.
  return [...namespaces].sort();
}

/** The engines' dedicated stores (Engine.secretStores), each in its add-on's namespace when that add-on is on. */
function storesOf(model: EnvironmentModel, enabled: readonly Enabled[]): DedicatedSecretStore[] {
  if (!enabled.some((x) => x.name === 'external-secrets')) return [];
  return engines().flatMap((e) => {
    const own = enabled.find((x) => x.name === e.addon.name);
    return e.secretStores?.(model, own ? contextOf(model, own.name, own.entry, own.o).namespace : undefined) ?? [];
  });
}

/** The engines' dedicated secret stores of an environment (resolved with its add-ons). */
export const dedicatedSecretStores = (model: EnvironmentModel): readonly DedicatedSecretStore[] => (resolveAddons(model), storesResolved.get(model) ?? []);
const storesResolved = new WeakMap<EnvironmentModel, DedicatedSecretStore[]>();

/**
 * Client-side apply stores the whole object in the kubectl.kubernetes.io/last-applied-configuration
 * annotation, limited to 262144 bytes: CRDs above that fail to sync (External Secrets 2.9.0's
 * SecretStore CRDs are ~349 KB, the ApplicationSet CRD ~1.4 MB). Every catalog chart that ships CRDs
 * syncs server-side; third-party charts too, since their CRD sizes are unknown, unless the
 * environment opts out (addons.<name>.serverSideApply: false).
 */
function serverSideApply(entry: CatalogEntry | undefined, o: AddonOverride | undefined): boolean {
  if (entry) return entry.serverSideApply ?? entry.clusterResources.includes(CRD);
  return o?.serverSideApply ?? true;
}

/** An add-on's parts (CatalogEntry.parts), each a manifests-only add-on `<add-on>-<suffix>` in the add-on's namespace. */
function partsOf(a: ResolvedAddon, ctx: AddonContext): ResolvedAddon[] {
  return (a.catalog?.parts?.(ctx) ?? []).map((p) => ({
    name: `${a.name}-${p.suffix}`,
    description: p.description,
    catalog: a.catalog,
    namespace: a.namespace,
    syncWave: a.syncWave,
    manifests: p.manifests,
    serverSideApply: false,
    driftIgnore: [],
    clusterResources: p.clusterResources,
    extraNamespaces: [],
    // Deleting the part's unit (its namespace's last consumer gone) deletes what it delivered.
    onDelete: 'cascade',
    inputs: a.inputs,
    manifestInputs: a.manifestInputs,
    partOf: a.name,
    ...(p.forNamespace !== undefined ? { partForNamespace: p.forNamespace } : {}),
  }));
}

function resolveOne(model: EnvironmentModel, e: Enabled, secretStoreNamespaces: readonly string[], dedicatedStores: readonly DedicatedSecretStore[]): ResolvedAddon[] {
  const { name, entry, o } = e;
  const ctx: AddonContext = { ...contextOf(model, name, entry, o), secretStoreNamespaces, dedicatedStores };
  const distribution = distributionOf(model);
  const { namespace } = ctx;
  // A catalog chart keeps its repository and name; the environment may try another version.
  const chart = entry?.chart ? (o?.chartVersion ? { ...entry.chart, version: o.chartVersion } : entry.chart) : o?.chart;
  const secrets = secretsOf(ctx, entry, o);
  const manifests = [
    ...(entry?.manifests?.(ctx) ?? []),
    ...Object.entries(secrets)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([secretName, keys]) => externalSecret(secretName, namespace, keys, entry?.secretsOutlive ? keepOnUnitDeletion(model) : undefined)),
  ];
  // The catalog's values, the distribution's for this add-on, then the environment's; then what the entry keeps.
  const merged = chart ? (mergeDeep(mergeDeep(entry?.values?.(ctx) ?? {}, (entry && distribution.addons?.values?.[name]?.(ctx)) ?? {}), o?.values ?? {}) as Record<string, unknown>) : undefined;
  const a: ResolvedAddon = {
    name,
    description: entry ? `${entry.description}${distribution.addons?.notes?.[name] ?? ''}` : `third-party chart ${chart?.name ?? name}`,
    catalog: entry,
    chart,
    namespace,
    syncWave: entry?.syncWave ?? THIRD_PARTY_SYNC_WAVE,
    values: merged && entry?.keepInValues ? entry.keepInValues(merged, ctx) : merged,
    manifests,
    serverSideApply: serverSideApply(entry, o),
    driftIgnore: entry?.driftIgnore ?? [],
    clusterResources: [...(entry?.clusterResources ?? []), ...(o?.clusterResources ?? [])],
    extraNamespaces: [...new Set([...(entry?.extraNamespaces?.(ctx) ?? []), ...(o?.extraNamespaces ?? [])])].sort(),
    // Every namespace the engine creates gets a Pod Security level; a third-party chart's defaults to
    // restricted (the environment lowers it per chart when the chart needs more).
    podSecurity: o?.podSecurity ?? entry?.podSecurity ?? (entry ? undefined : 'restricted'),
    bootstrapOrder: entry?.bootstrapOrder,
    onDelete: entry?.onDelete ?? 'cascade',
    inputs: entry ? [['addons', name], ...CATALOG_INPUTS] : [['addons', name]],
    manifestInputs: entry?.extraInputs?.(model) ?? [],
    ...(entry?.nodeCredentials === true || (typeof entry?.nodeCredentials === 'function' && entry.nodeCredentials(ctx)) ? { nodeCredentials: true as const } : {}),
  };
  return [a, ...partsOf(a, ctx)];
}

/** Every enabled add-on of the environment, ordered by sync wave, then name. */
/** Resolved once per model: the engine's renderer and the README all read it. */
const resolved = new WeakMap<EnvironmentModel, ResolvedAddon[]>();

export function resolveAddons(model: EnvironmentModel): ResolvedAddon[] {
  let r = resolved.get(model);
  if (!r) resolved.set(model, (r = resolveAll(model)));
  return r;
}

function resolveAll(model: EnvironmentModel): ResolvedAddon[] {
  const overrides = new Map(model.addons.map((a) => [a.name, a]));
  const enabled: Enabled[] = [];
  for (const name of catalogNames()) {
    const entry = catalogEntry(name);
    const o = overrides.get(name);
    if (isEnabled(entry, model, o)) enabled.push({ name, entry, o });
  }
  for (const o of model.addons) {
    if (isCatalogAddon(o.name) || o.enabled === false || !o.chart) continue;
    enabled.push({ name: o.name, entry: undefined, o });
  }
  const secretStoreNamespaces = storeNamespaces(model, enabled);
  const stores = storesOf(model, enabled);
  storesResolved.set(model, stores);
  const out = enabled.flatMap((e) => resolveOne(model, e, secretStoreNamespaces, stores));
  return withImdsDenial(model, out.sort((a, b) => a.syncWave - b.syncWave || a.name.localeCompare(b.name)));
}

/**
 * Where a CNI enforces NetworkPolicies, every add-on namespace but those that need IMDS
 * (imdsNamespaces) gets the IMDS egress denial, delivered by its first add-on (sync wave, then name):
 * no add-on pod there reaches the node role on a node whose hop limit is 2 (docs/concepts/hardening.md).
 */
/** Which add-ons exist and in which namespace (the catalog's rules read the cluster, pools and workloads). */
const IMDS_DENIAL_INPUTS: InputPath[] = [...CATALOG_INPUTS, ['addons'], ['workloads']];

/** The environment paths that decide which namespaces get the IMDS denial. */
export const imdsDenialInputs = (model: EnvironmentModel): InputPath[] => [...IMDS_DENIAL_INPUTS, ...networkPolicyEnforcerInputs(model)];

function withImdsDenial(model: EnvironmentModel, addons: ResolvedAddon[]): ResolvedAddon[] {
  if (networkPolicyEnforcer(model) === undefined) return addons;
  const skip = imdsNamespaces(addons);
  const own = new Set(addons.map((a) => a.namespace));
  return addons.map((a) => {
    if (a.partOf !== undefined) return a;
    const namespaces = [a.namespace, ...imdsDeniedExtraNamespaces(model, a, own)].filter((ns) => !skip.has(ns));
    if (namespaces.length === 0) return a;
    namespaces.forEach((ns) => skip.add(ns));
    return { ...a, manifests: [...a.manifests, ...namespaces.map(imdsDenyPolicy)], manifestInputs: [...a.manifestInputs, ...imdsDenialInputs(model)] };
  });
}

/**
 * The namespaces an add-on's chart writes to besides its own (extraNamespaces: a system namespace, another add-on's,
 * a workload's, or one the chart creates: validate/rules-addons.ts addonNamespaces) whose IMDS denial it carries:
 * default, kube-public, kube-node-lease and those the chart creates. Not kube-system (it needs IMDS), not another
 * add-on's (that add-on carries it: one owner per object), not a workload's (its default policies deny all egress
 * and open only what the workloads declare, never IMDS: rule workload-egress-imds; a policy allowing the rest would
 * widen them). A namespace the chart creates may not exist yet when the policy is first applied: the engine retries
 * until the chart has created it.
 */
export function imdsDeniedExtraNamespaces(model: EnvironmentModel, a: Pick<ResolvedAddon, 'extraNamespaces'>, addonNamespaces: ReadonlySet<string>): string[] {
  const workloads = new Set(model.workloads.map((w) => w.namespace));
  return a.extraNamespaces.filter((ns) => ns !== 'kube-system' && !addonNamespaces.has(ns) && !workloads.has(ns));
}
