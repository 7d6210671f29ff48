/**
 * Add-on rules: override keys checked against the pinned chart's values (from the project's
 * derived key trees, schemas/charts/), settings against the catalog, and the catalog's conditions
 * (GPU pools, and each entry's own: Catalog.rules).
 */
import { determinismViolations, valueAt } from '../catalog/determinism.js';
import { catalogEntries, catalogEntry, catalogNames, irsaAddons, isCatalogAddon, nodeRoleAddons } from '../catalog/index.js';
import { ESO_CONTROLLER_SERVICE_ACCOUNT, ESO_SSM_SERVICE_ACCOUNT } from '../catalog/external-secrets.js';
import { CHART_ADDON_IAM_ROLE } from '../catalog/irsa.js';
import { CONTROLLER_PLACEMENT_KEYS } from '../catalog/placement.js';
import { checkRoleArn } from './rules-aws.js';
import { engineNamed, engines } from '../engines/registry.js';
import { hintFor } from '../lib/suggest.js';
import { SYSTEM_NAMESPACES } from '../lib/k8s-names.js';
import { deriveKeysHint, loadChartKeys, unknownKeys, wrongTypes } from '../values/keys.js';
import type { Rule } from './rules.js';

/** The chart an add-on runs: the catalog's pin (at the environment's chart.version), or its own. */
function effectiveChart(name: string, a: NonNullable<Parameters<Rule>[0]['input']['addons']>[string]): { repoURL: string; name: string; version: string } | undefined {
  if (isCatalogAddon(name)) {
    const pinned = catalogEntry(name).chart;
    return pinned && a.chart?.version ? { ...pinned, version: a.chart.version } : pinned;
  }
  const c = a.chart;
  return c?.repoURL && c.name && c.version ? { repoURL: c.repoURL, name: c.name, version: c.version } : undefined;
}

const addonValues: Rule = ({ input }, report) => {
  for (const [name, a] of Object.entries(input.addons ?? {})) {
    const chart = effectiveChart(name, a);
    // A catalog add-on at another version: its catalog defaults and the environment's values go to
    // a chart the project has not described, unless a key table for that version is committed.
    const tried = isCatalogAddon(name) && chart && a.chart?.version !== undefined && a.chart.version !== catalogEntry(name).chart?.version;
    if (tried && !loadChartKeys(chart.name, chart.version)) {
      report('addon-values', ['addons', name, 'chart', 'version'], `${chart.name} ${chart.version} has no key table: the catalog's default values and this environment's values are not checked against that version`, {
        severity: 'warning',
        hint: deriveKeysHint(chart),
      });
      continue;
    }
    if (a.values === undefined || Object.keys(a.values).length === 0) continue;
    if (!chart) {
      if (isCatalogAddon(name)) report('addon-values', ['addons', name, 'values'], `${name} has no Helm chart, so values are not used`, { hint: 'use settings for this add-on', key: true });
      continue;
    }
    const keys = loadChartKeys(chart.name, chart.version);
    if (!keys) {
      report('addon-values-unchecked', ['addons', name, 'values'], `values of chart ${chart.name} ${chart.version} are not checked: the project has no key description for that version`, {
        severity: 'warning',
        hint: deriveKeysHint(chart),
        key: true,
      });
      continue;
    }
    for (const u of unknownKeys(a.values, keys.keys)) {
      const key = u.path[u.path.length - 1]!;
      report('addon-values', ['addons', name, 'values', ...u.path], `unknown key '${key}': chart ${chart.name} ${chart.version} has no value ${u.path.join('.')}`, {
        hint: hintFor(key, u.known) ?? `known keys here: ${u.known.slice(0, 12).join(', ')}${u.known.length > 12 ? ' …' : ''}`,
        key: true,
      });
    }
    // A map replaced by a scalar, a list by a string …: Helm merges the override over the default
    // and the templates then range over a string or index into a number (render error or garbage).
    for (const w of wrongTypes(a.values, keys.types ?? {}))
      report('addon-values-type', ['addons', name, 'values', ...w.path], `chart ${chart.name} ${chart.version} expects ${w.expected.map(article).join(' or ')} at ${w.path.join('.')}, not ${article(w.actual)}`, {
        hint: w.expected.includes('map') ? 'give the value as a map of keys (see the chart\'s values.yaml), or null to remove the default' : w.expected.includes('list') ? 'give a YAML list ([a, b] or one "- item" per line)' : 'give a single value',
      });
  }
};

/**
 * The determinism table (catalog/determinism.ts) against the environment's own values: an override
 * that puts a chart back on a genCA / randAlphaNum / lookup / now path is refused here, at its line,
 * before anything is written (validate checks the rendered values files as well).
 */
const addonValuesDeterminism: Rule = ({ input }, report) => {
  for (const [name, a] of Object.entries(input.addons ?? {})) {
    const chart = effectiveChart(name, a);
    if (!chart || !a.values) continue;
    for (const r of determinismViolations(chart.name, chart.version, a.values)) {
      const v = valueAt(a.values, r.path);
      if (v === undefined) continue; // the catalog's value stands
      report('addon-values-determinism', ['addons', name, 'values', ...r.path], `${JSON.stringify(v)} makes chart ${chart.name} ${chart.version} render ${r.template} with ${r.functions.join('/')} at every render: the Application would never be in sync`, {
        hint: r.fix,
      });
    }
  }
};

const article = (t: string): string => (t === 'scalar' ? 'a single value' : `a ${t}`);

const addonSettings: Rule = ({ input }, report) => {
  for (const [name, a] of Object.entries(input.addons ?? {})) {
    const known = isCatalogAddon(name) ? Object.keys(catalogEntry(name).settings ?? {}) : [];
    for (const key of Object.keys(a.settings ?? {})) {
      if (!known.includes(key))
        report('addon-settings', ['addons', name, 'settings', key], `unknown setting '${key}' for add-on ${name}`, {
          hint: hintFor(key, known) ?? (known.length > 0 ? `known settings: ${known.join(', ')}` : `${name} has no settings; use values for its chart`),
          key: true,
        });
    }
  }
};

const addonConditions: Rule = (ctx, report) => {
  const addons = ctx.input.addons ?? {};
  if (addons['nvidia-device-plugin']?.enabled === true && !ctx.input.nodePools.some((p) => p.gpu))
    report('addon-gpu', ['addons', 'nvidia-device-plugin', 'enabled'], 'nvidia-device-plugin is enabled but no node pool has a GPU', { hint: 'add gpu: { vendor: nvidia } to a GPU pool, or remove enabled: true' });
  // What each catalog add-on checks of the environment it needs (a distribution's add-ons among them).
  for (const e of catalogEntries()) e.rules?.conditions?.(ctx, report);
};

/**
 * IRSA for add-ons. The Load Balancer Controller and the EBS CSI driver could only annotate their
 * ServiceAccounts, which needs the EKS pod identity webhook; these clusters do not run it, so a role
 * there would be silently ignored: refused. Add-ons that assume their role themselves (iamRole irsa:
 * external-secrets through the store's JWT auth, a backup job that mounts the token) take one, but only
 * with aws.iam.mode irsa: the role's trust policy needs the cluster's OIDC issuer (aws.iam.issuerURL).
 */
const addonIrsa: Rule = (ctx, report) => {
  const { input } = ctx;
  const irsa = input.aws.iam?.mode === 'irsa';
  for (const name of nodeRoleAddons()) {
    if (input.addons?.[name]?.settings?.[CHART_ADDON_IAM_ROLE] !== undefined)
      report('addon-irsa', ['addons', name, 'settings', CHART_ADDON_IAM_ROLE], `${name} cannot use an IAM role of its own: the eks.amazonaws.com/role-arn annotation needs the EKS pod identity webhook, which these clusters do not run, so the add-on would keep the node instance profile`, {
        hint: `remove iamRoleArn and grant the add-on's permissions to the nodes' instance profile role (with aws.iam.mode irsa, ${irsaAddons().join(', ')} and workloads can use a role of their own)`,
        key: true,
      });
  }
  for (const name of irsaAddons()) {
    const addon = input.addons?.[name];
    const arn = addon?.settings?.[CHART_ADDON_IAM_ROLE];
    if (arn === undefined) continue;
    const at = ['addons', name, 'settings', CHART_ADDON_IAM_ROLE];
    if (!irsa)
      report('addon-irsa', at, `an IAM role for ${name} needs IRSA, but aws.iam.mode is ${input.aws.iam?.mode ?? 'instance-profile'}`, {
        hint: `set aws.iam: { mode: irsa, issuerURL: … }, or remove iamRoleArn (${name} then uses the node instance profile)`,
        key: true,
      });
    else {
      const problem = typeof arn === 'string' ? checkRoleArn(arn, { region: input.aws.region, accountId: input.aws.accountId }) : { problem: `${JSON.stringify(arn)} is not an IAM role ARN`, hint: 'an IAM role ARN looks like arn:aws:iam::<12-digit account>:role/<name>' };
      if (problem) report('addon-irsa', at, problem.problem, { hint: problem.hint });
    }
  }
  // With IRSA every store's JWT auth (catalog/secret-stores.ts) needs ESO's controller (by its rendered name) and its ClusterRole.
  const eso = input.addons?.['external-secrets'];
  const values = eso?.values as { rbac?: Record<string, unknown>; serviceAccount?: Record<string, unknown> } | undefined;
  if (irsa && eso?.enabled !== false) {
    if (values?.rbac?.create === false)
      report('addon-irsa', ['addons', 'external-secrets', 'values', 'rbac', 'create'], `the ClusterSecretStore's JWT auth needs the controller's RBAC, which this value removes`, { hint: 'remove it' });
    for (const key of ['name', 'create'] as const)
      if (values?.serviceAccount?.[key] !== undefined)
        report('addon-irsa', ['addons', 'external-secrets', 'values', 'serviceAccount', key], `the Roles that let the controller request the tokens of the stores' ServiceAccounts (${ESO_SSM_SERVICE_ACCOUNT}-<namespace>, ${ESO_SSM_SERVICE_ACCOUNT}) are bound to ServiceAccount ${ESO_CONTROLLER_SERVICE_ACCOUNT}; this value changes the controller's ServiceAccount`, {
          hint: 'remove it',
        });
  }
  for (const e of catalogEntries()) e.rules?.irsa?.(ctx, report);
};


/** Namespace of an add-on as the environment names it: its override, the catalog's, or its name. */
const addonNamespace = (name: string, a: { namespace?: string } | undefined): string => a?.namespace ?? (isCatalogAddon(name) ? catalogEntry(name).namespace : name);

/**
 * addons.<name>.extraNamespaces become the namespaces the add-on's delivery may write to: least
 * privilege. The engine creates only the namespaces its text says, so an extra one must already
 * exist (the system namespaces, or another add-on's or a workload's namespace), unless the chart
 * creates it (/Namespace in clusterResources). A namespace an engine guards (its own add-on's) is
 * refused in every environment (Engine.rules.guardedNamespace).
 */
const addonNamespaces: Rule = ({ input }, report) => {
  const addons = input.addons ?? {};
  const guarded = engines().flatMap((e) => (e.rules.guardedNamespace ? [{ ns: addonNamespace(e.addon.name, addons[e.addon.name]), why: e.rules.guardedNamespace }] : []));
  const engine = engineNamed(input.gitops);
  // Catalog add-ons count unless disabled explicitly (some are on only by condition: a superset).
  const known = new Set<string>([
    ...SYSTEM_NAMESPACES,
    ...catalogNames().filter((n) => addons[n]?.enabled !== false).map((n) => addonNamespace(n, addons[n])),
    ...Object.entries(addons).filter(([n, a]) => !isCatalogAddon(n) && a.enabled !== false).map(([n, a]) => addonNamespace(n, a)),
    ...(input.workloads ?? []).map((w) => w.namespace ?? w.name),
  ]);
  for (const [name, a] of Object.entries(addons)) {
    const own = addonNamespace(name, a);
    const createsNamespaces = (a.clusterResources ?? []).includes('/Namespace');
    (a.extraNamespaces ?? []).forEach((ns, i) => {
      const at = ['addons', name, 'extraNamespaces', i];
      const guard = guarded.find((g) => g.ns === ns);
      if (guard) {
        const why = guard.why(name, ns);
        report('addon-namespaces', at, why.message, { hint: why.hint });
      } else if (ns === own) report('addon-namespaces', at, `'${ns}' is already ${name}'s own namespace`, { hint: 'remove it from extraNamespaces' });
      else if (!known.has(ns) && !createsNamespaces)
        report('addon-namespaces', at, `namespace '${ns}' does not exist on the cluster: ${(engine ?? engines()[0]!).text.createsNamespaces}, and no add-on or workload of this environment uses '${ns}'`, {
          hint: hintFor(ns, [...known].sort()) ?? `existing namespaces: ${[...known].sort().join(', ')} (or list /Namespace in clusterResources if the chart creates it)`,
        });
    });
  }
};

/**
 * The GitOps engine's own add-on follows `gitops`: each engine's add-on (Engine.addon) with that engine.
 * Enabling another engine too would run two controllers applying the same add-ons and workloads,
 * each undoing the other's changes.
 */
/**
 * A third-party chart declares the cluster-scoped kinds it creates (clusterResources), which its
 * tenant may then create. Without them the tenant may create none: most charts ship at least a
 * ClusterRole. Not an error (a chart may create only namespaced objects), a warning at the chart.
 */
/** External Secrets kinds a third-party chart's tenant may not create, each with why. */
const SECRET_STORE_KINDS: Readonly<Record<string, string>> = {
  'external-secrets.io/ClusterSecretStore': "a store names the namespaces it admits and the role it reads with, so its tenant could read every namespace's secrets",
  'external-secrets.io/ClusterExternalSecret': "it writes Secrets of its choosing, from each namespace's own store, into every namespace its selectors match",
  'external-secrets.io/ClusterPushSecret': 'it reads the Secrets of every namespace its selectors match and pushes them to a store',
};

const addonClusterResources: Rule = ({ input }, report) => {
  const engine = engineNamed(input.gitops) ?? engines()[0]!;
  for (const [name, a] of Object.entries(input.addons ?? {})) {
    // A tenant that may write a ClusterSecretStore names its own namespaces in its conditions and any
    // role the controller may assume (external-secrets v2.9.0 client_manager.go:227-278; a store
    // without auth reads with the controller's credentials, providers/v1/aws/auth/auth.go:74-130):
    // it would read every namespace's secrets. Only the platform's own stores exist.
    // The same holds for the kinds that act across namespaces through those stores: a ClusterExternalSecret
    // writes an ExternalSecret (and so a Secret, with the template and name it chooses) into every
    // namespace its selectors match, with that namespace's store; a ClusterPushSecret reads Secrets of
    // the namespaces it selects and pushes them to a store (external-secrets apis/externalsecrets: v1
    // ClusterExternalSecretSpec and v1alpha1 ClusterPushSecretSpec, each with namespaceSelectors).
    if (!isCatalogAddon(name))
      (a.clusterResources ?? []).forEach((kind, i) => {
        const why = SECRET_STORE_KINDS[kind];
        if (why)
          report('addon-secret-store', ['addons', name, 'clusterResources', i], `${name} may not create ${kind.split('/')[1]}s: ${why}`, {
            hint: "remove it; the chart's ExternalSecrets read through the platform's store of their namespace (add the parameters as the add-on's secrets)",
          });
      });
    if (isCatalogAddon(name) || !a.chart || a.enabled === false || (a.clusterResources ?? []).length > 0) continue;
    const chart = effectiveChart(name, a);
    const what = chart ? `chart ${chart.name} ${chart.version}` : 'its chart';
    report('addon-cluster-resources', ['addons', name, 'chart'], `${name} declares no clusterResources: if ${what} renders any cluster-scoped object, ${engine.text.refusesClusterKinds}`, {
      severity: 'warning',
      hint: `list the kinds it renders: helm template ${name} ${chart ? `${chart.name} --repo ${chart.repoURL} --version ${chart.version}` : '<chart>'} --values <its values> | yq -N '.apiVersion + " " + .kind' | sort -u; those kubectl api-resources --namespaced=false lists (or CRDs of scope Cluster) go in clusterResources as group/Kind ('/Kind' for the core group); acknowledge the warning if it renders none`,
      key: true,
    });
  }
};

const addonEngine: Rule = ({ input }, report) => {
  const engine = input.gitops ?? engines()[0]!.name;
  const title = engineNamed(engine)?.title ?? engine;
  for (const other of engines()) {
    const addon = other.addon.name;
    if (other.name === engine || input.addons?.[addon]?.enabled !== true) continue;
    report('addon-engine', ['addons', addon, 'enabled'], `${addon} is the ${other.title} engine, but this environment is delivered by ${title} (gitops: ${engine})`, {
      hint: `remove enabled: true (two engines would fight over the same objects), or switch the engine with gitops: ${other.name}`,
    });
  }
};

/**
 * `addon-controllers-placement`: the placement of an add-on that calls AWS with the node's credentials
 * is the generator's (catalog/placement.ts): its values pin it to the one place with IMDS hop limit 2
 * and its permissions. External Secrets only while a store's role is assumed with node credentials
 * (not with aws.iam.mode irsa and its own iamRoleArn).
 */
const addonControllersPlacement: Rule = ({ input }, report) => {
  for (const [name, keys] of Object.entries(CONTROLLER_PLACEMENT_KEYS)) {
    const a = input.addons?.[name];
    if (!a?.values) continue;
    if (name === 'external-secrets' && input.aws.iam?.mode === 'irsa' && a.settings?.[CHART_ADDON_IAM_ROLE] !== undefined) continue;
    for (const key of keys) {
      const path = key.split('.');
      if (valueAt(a.values, path) === undefined) continue;
      const metadata = key === 'node.metadataSources';
      report(
        'addon-controllers-placement',
        ['addons', name, 'values', ...path],
        metadata
          ? `${name} ${key} is set by the generator to kubernetes: the node plugin runs on every node, and IMDS answers no pod on a node with hop limit 1`
          : `${name} calls AWS with the node's credentials: its ${key} is set by the generator, to the one place with IMDS hop limit 2 and its permissions`,
        { hint: metadata ? 'remove it here' : 'remove it here; to move the AWS controllers to a worker pool, set aws.iam.controllersPool (docs/concepts/hardening.md)' },
      );
    }
  }
};

/**
 * `addon-sync-wave`: an environment orders no add-on by a number. The engines order units by the delivery graph
 * (plan/graph.ts: a unit after the units providing what it needs, nothing ordered without a need); a syncWave here
 * would change nothing the cluster sees, so it is refused rather than ignored.
 */
const addonSyncWave: Rule = ({ input }, report) => {
  for (const [name, a] of Object.entries(input.addons ?? {})) {
    if (a.syncWave === undefined) continue;
    const what = isCatalogAddon(name)
      ? `the catalog's facts for the chart say what ${name} provides and needs`
      : 'a third-party chart comes after its namespace and, with secrets, after External Secrets (its ExternalSecrets go before the chart); nothing else orders it';
    report('addon-sync-wave', ['addons', name, 'syncWave'], `syncWave ${a.syncWave} would not order ${name}: the delivery order comes from the delivery graph, each unit after the units providing what it needs, not from a number`, {
      hint: `remove syncWave: ${what} (docs/concepts/delivery-and-engines.md, "Order")`,
    });
  }
};

export const ADDON_RULES: readonly Rule[] = [addonSyncWave, addonValues, addonValuesDeterminism, addonSettings, addonConditions, addonIrsa, addonNamespaces, addonClusterResources, addonEngine, addonControllersPlacement];
