/**
 * An environment's `addons.<name>.secrets` entry replaces, by name, a Secret the add-on delivers itself
 * (CatalogEntry.secrets: "add to or replace them by name"): refused when the replacement lacks a key of the
 * add-on's own Secret, which the add-on's values read (e.g. kube-prometheus-stack's Grafana `admin.userKey`;
 * Grafana's admin.existingSecret is not optional: research sync-semantics.md C15.3), so its pods could not start.
 */
import { catalogEntry } from '../catalog/index.js';
import { replacedSecretsMissingKeys } from '../catalog/resolve.js';
import { locate, type ResolvedEnvironment } from '../load/loader.js';
import type { EnvironmentModel } from '../model/types.js';
import type { Diagnostic } from './diagnostics.js';

const list = (xs: readonly string[]): string => xs.map((x) => `'${x}'`).join(', ');

export function addonSecretDiagnostics(env: ResolvedEnvironment, m: EnvironmentModel): Diagnostic[] {
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
