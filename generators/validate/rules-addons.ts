/**
 * Add-on rules: override keys checked against the pinned chart's values (from the project's
 * derived key trees, schemas/charts/), settings against the catalog, and the catalog's conditions
 * (GPU pools, etcd backups).
 */
import { determinismViolations, valueAt } from '../catalog/determinism.js';
import { CATALOG } from '../catalog/index.js';
import { ESO_CONTROLLER_SERVICE_ACCOUNT, ESO_SSM_SERVICE_ACCOUNT } from '../catalog/external-secrets.js';
import { CHART_ADDON_IAM_ROLE, IRSA_ADDONS, NODE_ROLE_ADDONS } from '../catalog/irsa.js';
import { checkRoleArn } from './rules-aws.js';
import { CATALOG_ADDONS, isCatalogAddon } from '../catalog/names.js';
import { hintFor } from '../lib/suggest.js';
import { deriveKeysHint, loadChartKeys, unknownKeys, wrongTypes } from '../values/keys.js';
import type { Rule } from './rules.js';

/** The chart an add-on runs: the catalog's pin (at the environment's chart.version), or its own. */
function effectiveChart(name: string, a: NonNullable<Parameters<Rule>[0]['input']['addons']>[string]): { repoURL: string; name: string; version: string } | undefined {
  if (isCatalogAddon(name)) {
    const pinned = CATALOG[name].chart;
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
    const tried = isCatalogAddon(name) && chart && a.chart?.version !== undefined && a.chart.version !== CATALOG[name].chart?.version;
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
    const known = isCatalogAddon(name) ? Object.keys(CATALOG[name].settings ?? {}) : [];
    for (const key of Object.keys(a.settings ?? {})) {
      if (!known.includes(key))
        report('addon-settings', ['addons', name, 'settings', key], `unknown setting '${key}' for add-on ${name}`, {
          hint: hintFor(key, known) ?? (known.length > 0 ? `known settings: ${known.join(', ')}` : `${name} has no settings; use values for its chart`),
          key: true,
        });
    }
  }
};

/** Whether etcd-backup is on: enabled explicitly, or by default (Talos, etcd with a backup). */
const etcdBackupOn = (input: Parameters<Rule>[0]['input']): boolean => {
  const ds = input.cluster.datastore;
  return input.addons?.['etcd-backup']?.enabled ?? (input.cluster.distribution === 'talos' && ds.type === 'etcd' && ds.backup !== undefined);
};

const addonConditions: Rule = ({ input }, report) => {
  const addons = input.addons ?? {};
  if (addons['nvidia-device-plugin']?.enabled === true && !input.nodePools.some((p) => p.gpu))
    report('addon-gpu', ['addons', 'nvidia-device-plugin', 'enabled'], 'nvidia-device-plugin is enabled but no node pool has a GPU', { hint: 'add gpu: { vendor: nvidia } to a GPU pool, or remove enabled: true' });
  const ds = input.cluster.datastore;
  if (!etcdBackupOn(input)) return;
  if (input.cluster.distribution !== 'talos' || ds.type !== 'etcd' || !ds.backup) {
    report('addon-etcd-backup', ['addons', 'etcd-backup', 'enabled'], 'etcd-backup takes snapshots of Talos-managed etcd and needs cluster.datastore.backup', { hint: 'add backup: { bucket, ageRecipientPublicKey } to the etcd datastore' });
    return;
  }
  if (!ds.backup.ageRecipientPublicKey)
    report('addon-etcd-backup', ['cluster', 'datastore', 'backup'], 'etcd snapshots hold every Secret of the cluster and must be encrypted: ageRecipientPublicKey is missing', {
      hint: 'generate a key pair with age-keygen, keep the private key offline, and set ageRecipientPublicKey: age1…',
      key: true,
    });
  else if (!/^age1[02-9ac-hj-np-z]{58}$/.test(ds.backup.ageRecipientPublicKey))
    report('addon-etcd-backup', ['cluster', 'datastore', 'backup', 'ageRecipientPublicKey'], `'${ds.backup.ageRecipientPublicKey}' is not an age X25519 public key`, { hint: 'an age recipient is age1 followed by 58 bech32 characters' });
};

/**
 * IRSA for add-ons. The Load Balancer Controller and the EBS CSI driver could only annotate their
 * ServiceAccounts, which needs the EKS pod identity webhook; these clusters do not run it, so a role
 * there would be silently ignored: refused. external-secrets (the store's JWT auth: ESO requests the
 * token and assumes the role itself) and etcd-backup (it mounts the token) take a role, but only with
 * aws.iam.mode irsa: the role's trust policy needs the cluster's OIDC issuer (aws.iam.issuerURL).
 */
const addonIrsa: Rule = ({ input }, report) => {
  const irsa = input.aws.iam?.mode === 'irsa';
  for (const name of NODE_ROLE_ADDONS) {
    if (input.addons?.[name]?.settings?.[CHART_ADDON_IAM_ROLE] !== undefined)
      report('addon-irsa', ['addons', name, 'settings', CHART_ADDON_IAM_ROLE], `${name} cannot use an IAM role of its own: the eks.amazonaws.com/role-arn annotation needs the EKS pod identity webhook, which these clusters do not run, so the add-on would keep the node instance profile`, {
        hint: `remove iamRoleArn and grant the add-on's permissions to the nodes' instance profile role (with aws.iam.mode irsa, ${IRSA_ADDONS.join(', ')} and workloads can use a role of their own)`,
        key: true,
      });
  }
  for (const name of IRSA_ADDONS) {
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
  // The store's JWT auth needs ESO's controller (by its rendered name) and its ClusterRole.
  const eso = input.addons?.['external-secrets'];
  const values = eso?.values as { rbac?: Record<string, unknown>; serviceAccount?: Record<string, unknown> } | undefined;
  if (irsa && eso?.settings?.[CHART_ADDON_IAM_ROLE] !== undefined) {
    if (values?.rbac?.create === false)
      report('addon-irsa', ['addons', 'external-secrets', 'values', 'rbac', 'create'], `the ClusterSecretStore's JWT auth needs the controller's RBAC, which this value removes`, { hint: 'remove it' });
    for (const key of ['name', 'create'] as const)
      if (values?.serviceAccount?.[key] !== undefined)
        report('addon-irsa', ['addons', 'external-secrets', 'values', 'serviceAccount', key], `the Role that lets the controller request ${ESO_SSM_SERVICE_ACCOUNT}'s tokens is bound to ServiceAccount ${ESO_CONTROLLER_SERVICE_ACCOUNT}; this value changes the controller's ServiceAccount`, {
          hint: 'remove it',
        });
  }
  if (!irsa || !etcdBackupOn(input)) return;
  if (typeof input.addons?.['etcd-backup']?.settings?.[CHART_ADDON_IAM_ROLE] !== 'string')
    report('addon-irsa', ['aws', 'iam', 'mode'], 'with IRSA, etcd-backup needs addons.etcd-backup.settings.iamRoleArn', { severity: 'warning', hint: 'without it the backup job uses the node instance profile' });
};

/** Namespaces every cluster has (kube-apiserver creates them). */
export const SYSTEM_NAMESPACES = ['default', 'kube-node-lease', 'kube-public', 'kube-system'];

/** Namespace of an add-on as the environment names it: its override, the catalog's, or its name. */
const addonNamespace = (name: string, a: { namespace?: string } | undefined): string => a?.namespace ?? (isCatalogAddon(name) ? CATALOG[name].namespace : name);

/**
 * addons.<name>.extraNamespaces become destinations of the add-on's AppProject: least privilege.
 * Argo CD creates only an Application's destination namespace, so an extra one must already exist
 * (the system namespaces, or another add-on's or a workload's namespace), unless the chart creates
 * it (/Namespace in clusterResources). Argo CD's own namespace is refused: an Application that may
 * write there can create Applications and AppProjects, i.e. escape its project.
 */
const addonNamespaces: Rule = ({ input }, report) => {
  const addons = input.addons ?? {};
  const argoNs = addonNamespace('argo-cd', addons['argo-cd']);
  // Catalog add-ons count unless disabled explicitly (some are on only by condition: a superset).
  const known = new Set<string>([
    ...SYSTEM_NAMESPACES,
    ...CATALOG_ADDONS.filter((n) => addons[n]?.enabled !== false).map((n) => addonNamespace(n, addons[n])),
    ...Object.entries(addons).filter(([n, a]) => !isCatalogAddon(n) && a.enabled !== false).map(([n, a]) => addonNamespace(n, a)),
    ...(input.workloads ?? []).map((w) => w.namespace ?? w.name),
  ]);
  for (const [name, a] of Object.entries(addons)) {
    const own = addonNamespace(name, a);
    const createsNamespaces = (a.clusterResources ?? []).includes('/Namespace');
    (a.extraNamespaces ?? []).forEach((ns, i) => {
      const at = ['addons', name, 'extraNamespaces', i];
      if (ns === argoNs)
        report('addon-namespaces', at, `${name} may not write to Argo CD's namespace '${ns}': an Application allowed there can create Applications and AppProjects and leave its project`, {
          hint: 'install what the chart puts there another way, or ask the platform team to add it to the catalog',
        });
      else if (ns === own) report('addon-namespaces', at, `'${ns}' is already ${name}'s own namespace`, { hint: 'remove it from extraNamespaces' });
      else if (!known.has(ns) && !createsNamespaces)
        report('addon-namespaces', at, `namespace '${ns}' does not exist on the cluster: Argo CD creates only an Application's own namespace, and no add-on or workload of this environment uses '${ns}'`, {
          hint: hintFor(ns, [...known].sort()) ?? `existing namespaces: ${[...known].sort().join(', ')} (or list /Namespace in clusterResources if the chart creates it)`,
        });
    });
  }
};

/**
 * The GitOps engine's own add-on follows `gitops`: argo-cd with argocd, flux-operator with flux.
 * Enabling the other engine too would run two controllers applying the same add-ons and workloads,
 * each undoing the other's changes.
 */
const ENGINE_ADDONS = { argocd: 'argo-cd', flux: 'flux-operator' } as const;
const addonEngine: Rule = ({ input }, report) => {
  const engine = input.gitops ?? 'argocd';
  for (const [other, addon] of Object.entries(ENGINE_ADDONS)) {
    if (other === engine || input.addons?.[addon]?.enabled !== true) continue;
    report('addon-engine', ['addons', addon, 'enabled'], `${addon} is the ${other === 'flux' ? 'Flux' : 'Argo CD'} engine, but this environment is delivered by ${engine === 'flux' ? 'Flux' : 'Argo CD'} (gitops: ${engine})`, {
      hint: `remove enabled: true (two engines would fight over the same objects), or switch the engine with gitops: ${other}`,
    });
  }
};

export const ADDON_RULES: readonly Rule[] = [addonValues, addonValuesDeterminism, addonSettings, addonConditions, addonIrsa, addonNamespaces, addonEngine];
