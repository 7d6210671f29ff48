/**
 * Add-on rules: override keys checked against the pinned chart's values (from the project's
 * derived key trees, schemas/charts/), settings against the catalog, and the catalog's conditions
 * (GPU pools, etcd backups).
 */
import { CATALOG } from '../catalog/index.js';
import { CHART_ADDON_IAM_ROLE } from '../catalog/irsa.js';
import { isCatalogAddon } from '../catalog/names.js';
import { hintFor } from '../lib/suggest.js';
import { loadChartKeys, unknownKeys } from '../values/keys.js';
import type { Rule } from './rules.js';

const addonValues: Rule = ({ input }, report) => {
  for (const [name, a] of Object.entries(input.addons ?? {})) {
    if (a.values === undefined || Object.keys(a.values).length === 0) continue;
    const chart = isCatalogAddon(name) ? CATALOG[name].chart : a.chart;
    if (!chart) {
      report('addon-values', ['addons', name, 'values'], `${name} has no Helm chart, so values are not used`, { hint: 'use settings for this add-on', key: true });
      continue;
    }
    const keys = loadChartKeys(chart.name, chart.version);
    if (!keys) {
      report('addon-values', ['addons', name, 'values'], `values of chart ${chart.name} ${chart.version} are not checked: the project has no key description for that version`, {
        severity: 'warning',
        hint: 'derive one with generators/values/derive-keys.ts from the chart\'s values.yaml',
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
  }
};

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

const addonConditions: Rule = ({ input }, report) => {
  const addons = input.addons ?? {};
  if (addons['nvidia-device-plugin']?.enabled === true && !input.nodePools.some((p) => p.gpu))
    report('addon-gpu', ['addons', 'nvidia-device-plugin', 'enabled'], 'nvidia-device-plugin is enabled but no node pool has a GPU', { hint: 'add gpu: { vendor: nvidia } to a GPU pool, or remove enabled: true' });
  const ds = input.cluster.datastore;
  const backupOn = addons['etcd-backup']?.enabled ?? (input.cluster.distribution === 'talos' && ds.type === 'etcd' && ds.backup !== undefined);
  if (!backupOn) return;
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
 * IRSA for add-ons. etcd-backup renders the web-identity token volume and AWS_* variables itself, so
 * with IRSA it needs its role (a warning: without it, it uses the instance profile). The chart add-ons
 * could only annotate their ServiceAccounts, which needs the EKS pod identity webhook; these clusters
 * do not run it, so a role there would be silently ignored: refused.
 */
const addonIrsa: Rule = ({ input }, report) => {
  for (const name of ['aws-ebs-csi-driver', 'aws-load-balancer-controller', 'external-secrets'] as const) {
    const arn = input.addons?.[name]?.settings?.[CHART_ADDON_IAM_ROLE];
    if (arn !== undefined)
      report('addon-irsa', ['addons', name, 'settings', CHART_ADDON_IAM_ROLE], `${name} cannot use an IAM role of its own: the eks.amazonaws.com/role-arn annotation needs the EKS pod identity webhook, which these clusters do not run, so the add-on would keep the node instance profile`, {
        hint: 'remove iamRoleArn and grant the add-on\'s permissions to the nodes\' instance profile role (workloads and etcd-backup can still use IRSA: they mount the token themselves)',
        key: true,
      });
  }
  if (input.aws.iam?.mode !== 'irsa' || input.addons?.['etcd-backup']?.enabled === false) return;
  if (typeof input.addons?.['etcd-backup']?.settings?.iamRoleArn !== 'string')
    report('addon-irsa', ['aws', 'iam', 'mode'], 'with IRSA, etcd-backup needs addons.etcd-backup.settings.iamRoleArn', { severity: 'warning', hint: 'without it the backup job uses the node instance profile' });
};

export const ADDON_RULES: readonly Rule[] = [addonValues, addonSettings, addonConditions, addonIrsa];
