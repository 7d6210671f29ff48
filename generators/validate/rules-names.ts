/**
 * Names that the renderers turn into Kubernetes object names and file names: refused here, at
 * their position, before a renderer or the writer meets them. (Workload names, namespaces, pools,
 * nodes and add-ons are DNS labels by the schema; these are the free-form names left.)
 */
import { catalogEntries, catalogNames, isCatalogAddon } from '../catalog/index.js';
import { distributions } from '../distributions/registry.js';
import { dataKeyProblem, dns1123SubdomainProblem, labelKeyProblem, labelValueProblem } from '../lib/k8s-names.js';
import { engineNamed, engines } from '../engines/registry.js';
import { NAMESPACE_APP_PREFIX, namespaceAppName } from '../plan/workloads.js';
import type { Rule } from './rules.js';

/** A path component (file name) on the file systems rendered/ is checked out on: 255 bytes. */
export const FILE_NAME_MAX = 255;
/** Add-on secrets are written to manifests/<add-on>/externalsecret-<name>.yaml. */
const SECRET_FILE_OVERHEAD = 'externalsecret-'.length + '.yaml'.length;

const addonSecretNames: Rule = ({ input }, report) => {
  for (const [addon, a] of Object.entries(input.addons ?? {})) {
    for (const [secret, keys] of Object.entries(a.secrets ?? {})) {
      const at = ['addons', addon, 'secrets', secret];
      const problem = dns1123SubdomainProblem(secret);
      if (problem) report('addon-secret-name', at, `Secret name '${secret}' ${problem}`, { hint: 'a Kubernetes Secret name is a DNS subdomain such as my-chart-credentials; it also names the file manifests/<add-on>/externalsecret-<name>.yaml', key: true });
      else if (secret.length + SECRET_FILE_OVERHEAD > FILE_NAME_MAX)
        report('addon-secret-name', at, `Secret name '${secret.slice(0, 24)}…' is ${secret.length} characters; its file name externalsecret-<name>.yaml would exceed ${FILE_NAME_MAX} bytes`, { hint: `use at most ${FILE_NAME_MAX - SECRET_FILE_OVERHEAD} characters`, key: true });
      for (const key of Object.keys(keys ?? {})) {
        const p = dataKeyProblem(key);
        if (p) report('addon-secret-name', [...at, key], `Secret key '${key}' ${p}`, { hint: 'Kubernetes refuses the Secret the ExternalSecret would create', key: true });
      }
    }
  }
};

const poolLabels: Rule = ({ input }, report) =>
  input.nodePools.forEach((p, i) => {
    for (const [key, value] of Object.entries(p.labels ?? {})) {
      const at = ['nodePools', i, 'labels', key];
      const k = labelKeyProblem(key);
      if (k) report('label-syntax', at, `label key '${key}': ${k}`, { hint: 'a label key is [prefix/]name: prefix a DNS subdomain (≤ 253), name ≤ 63 characters, e.g. node.opendev.dev/pool', key: true });
      const v = typeof value === 'string' ? labelValueProblem(value) : undefined;
      if (v) report('label-syntax', at, `label value '${value}' ${v}`, { hint: 'Kubernetes refuses the node and every nodeSelector with it' });
    }
    (p.taints ?? []).forEach((t, j) => {
      const k = labelKeyProblem(t.key);
      if (k) report('label-syntax', ['nodePools', i, 'taints', j, 'key'], `taint key '${t.key}': ${k}`, { hint: 'a taint key follows the label key rules' });
      const v = t.value === undefined ? undefined : labelValueProblem(t.value);
      if (v) report('label-syntax', ['nodePools', i, 'taints', j, 'value'], `taint value '${t.value}' ${v}`, { hint: 'a taint value follows the label value rules' });
    });
  });

/** Add-on names that are unit names of something else (an engine's own object, a workload namespace). */
const addonNames: Rule = ({ input }, report) => {
  const namespaceApps = new Set((input.workloads ?? []).map((w) => namespaceAppName(w.namespace ?? w.name)));
  const reserved = reservedNames();
  const unit = (engineNamed(input.gitops) ?? engines()[0]!).text.unit;
  const declared = Object.keys(input.addons ?? {});
  const units = addonUnitNames([...catalogNames(), ...declared.filter((n) => !isCatalogAddon(n))]);
  for (const name of declared) {
    const taken = reserved.get(name) ?? units.get(name) ?? partUnitName(name);
    if (taken) report('addon-reserved-name', ['addons', name], `'${name}' is the name of ${taken.what}`, { hint: 'give the add-on another name', key: true });
    if (namespaceApps.has(name))
      report('addon-reserved-name', ['addons', name], `'${name}' is the name of the ${unit} of workload namespace '${name.slice(NAMESPACE_APP_PREFIX.length)}'`, {
        hint: `add-on names must not be '${NAMESPACE_APP_PREFIX}' followed by a workload namespace; give the add-on another name`,
        key: true,
      });
  }
};

/** The names the distribution reserves (its node-config files). */
const distributionNames: Rule = (ctx, report) => {
  for (const d of distributions()) d.rules.names?.(ctx, report);
};

/** A name of the kind an add-on's parts take (`<add-on>-<partsPrefix>…`, CatalogEntry.parts), reserved in every environment. */
export function partUnitName(name: string): { what: string } | undefined {
  const e = catalogEntries().find((x) => x.partsPrefix !== undefined && name.startsWith(`${x.name}-${x.partsPrefix}`));
  return e ? { what: `a unit of add-on ${e.name}'s own (its units ${e.name}-${e.partsPrefix}<…>, one per part: a ClusterSecretStore per namespace)` } : undefined;
}

/** Names the engines reserve for their own objects, in every environment (Engine.rules.reservedNames). */
export function reservedNames(): Map<string, { what: string; where: string }> {
  return new Map(engines().flatMap((e) => Object.entries(e.rules.reservedNames ?? {})));
}

/**
 * The names of the further units the engines deliver each of `addons` in (Engine.rules.addonUnitNames), reserved in
 * every environment like reservedNames: switching engines must not turn a valid name into a clash.
 */
export function addonUnitNames(addons: Iterable<string>): Map<string, { what: string; where: string }> {
  const out = new Map<string, { what: string; where: string }>();
  for (const addon of addons) for (const e of engines()) for (const u of e.rules.addonUnitNames?.(addon) ?? []) if (!out.has(u.name)) out.set(u.name, { what: u.what, where: u.where });
  return out;
}

export const NAME_RULES: readonly Rule[] = [addonSecretNames, poolLabels, addonNames, distributionNames];
