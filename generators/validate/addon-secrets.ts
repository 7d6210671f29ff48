/**
 * An environment's `addons.<name>.secrets` entry replaces, by name, a Secret the add-on delivers itself
 * (CatalogEntry.secrets: "add to or replace them by name"): refused when the replacement lacks a key of the
 * add-on's own Secret, which the add-on's values read (e.g. kube-prometheus-stack's Grafana `admin.userKey`;
 * Grafana's admin.existingSecret is not optional: research sync-semantics.md C15.3), so its pods could not start.
 */
import { catalogEntry } from '../catalog/index.js';
import { replacedSecretsMissingKeys, resolveAddons } from '../catalog/resolve.js';
import { locate, type ResolvedEnvironment } from '../load/loader.js';
import type { EnvironmentModel } from '../model/types.js';
import type { Diagnostic } from './diagnostics.js';

const list = (xs: readonly string[]): string => xs.map((x) => `'${x}'`).join(', ');

export function addonSecretDiagnostics(env: ResolvedEnvironment, m: EnvironmentModel): Diagnostic[] {
  return [...missingKeys(env, m), ...duplicateObjects(env, m)];
}

/**
 * One namespaced object delivered by two add-ons (e.g. a Secret name used twice: two add-ons' `secrets` in one
 * namespace): two units would apply it in turn, each overwriting the other's, and deleting either prunes it.
 * Reported at the later add-on's `secrets` entry when the object is one of its ExternalSecrets, else at the add-on.
 */
function duplicateObjects(env: ResolvedEnvironment, m: EnvironmentModel): Diagnostic[] {
  const seen = new Map<string, string>();
  const out: Diagnostic[] = [];
  const overrides = new Map(m.addons.map((a) => [a.name, a]));
  // Catalog add-ons first: the second holder, reported, is then the environment's own add-on where there is one.
  const order = (x: { catalog?: unknown }): number => (x.catalog ? 0 : 1);
  for (const a of [...resolveAddons(m)].sort((x, y) => order(x) - order(y) || x.name.localeCompare(y.name))) {
    for (const o of a.manifests) {
      const ns = o.metadata.namespace;
      if (ns === undefined) continue;
      const key = `${o.kind} ${ns}/${o.metadata.name}`;
      const first = seen.get(key);
      if (first === undefined) {
        seen.set(key, a.name);
        continue;
      }
      const own = o.kind === 'ExternalSecret' && overrides.get(a.name)?.secrets?.[o.metadata.name] !== undefined;
      const path = own ? ['addons', a.name, 'secrets', o.metadata.name] : ['addons', a.name];
      const pos = locate(env, path, true);
      out.push({
        severity: 'error',
        rule: 'addon-object-names',
        ...pos,
        path,
        message: `add-on ${a.name} delivers ${key}, which add-on ${first} delivers too: each unit would overwrite the other's, and removing either deletes it`,
        hint: own ? 'give the Secret another name, or put the add-on in a namespace of its own' : 'put the add-on in a namespace of its own',
      });
    }
  }
  return out;
}

function missingKeys(env: ResolvedEnvironment, m: EnvironmentModel): Diagnostic[] {
  return replacedSecretsMissingKeys(m).map(({ addon, secret, missing, keys }) => {
    const path = ['addons', addon, 'secrets', secret];
    const settings = Object.keys(catalogEntry(addon).settings ?? {}).filter((k) => k.endsWith('Secret'));
    const pos = locate(env, path, true);
    return {
      severity: 'error',
      rule: 'addon-secret-keys',
      ...pos,
      path,
      message: `'${secret}' replaces the Secret ${secret} that add-on ${addon} delivers itself, without its key${missing.length > 1 ? 's' : ''} ${list(missing)}: the add-on reads every key of it (${list(keys)})`,
      hint: `give every key${settings.length > 0 ? `, or choose the SSM parameters with settings ${settings.join(', ')} and drop this entry` : ''}, or name this Secret otherwise to add one`,
    };
  });
}
