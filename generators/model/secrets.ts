/**
 * Every SSM SecureString an environment depends on, with where its name comes from. Pure: the
 * resolved environment (for positions) and the model (the names the renderers and commands use).
 *
 * - `explicit`: a `{ secret: /name }` written in the environment that an ExternalSecret reads at
 *   runtime (workload `env`, an add-on's `secrets`).
 * - `derived`: a name the model or the add-on catalog derives, read when the cluster is set up or
 *   by a catalog add-on: what the distribution's nodes read (its Distribution.secrets: a secrets bundle,
 *   the cluster tokens, the Kine PostgreSQL password), the SecureStrings a catalog add-on always needs
 *   (e.g. the Grafana admin credentials). Positioned at the value that names it when the environment
 *   writes one, else at the closest section (`defaultName`).
 *
 * Nothing here reads a value: the list holds names only.
 */
import { getAt, type DocPath } from '../lib/paths.js';
import type { ResolvedEnvironment } from '../load/loader.js';
import { resolveAddons } from '../catalog/resolve.js';
import { distributionOf } from '../distributions/registry.js';
import { engineOf } from '../engines/registry.js';
import type { EnvironmentModel, SecretRef } from './types.js';

export interface SecretDependency {
  /** The SSM parameter name. */
  name: string;
  origin: 'explicit' | 'derived';
  /** What reads it, in words (`workload api: env DATABASE_URL (ExternalSecret)`). */
  purpose: string;
  /** Where the name is written; for a default name, the closest section of the environment. */
  path: DocPath;
  /** Derived and not written in the environment: `path` is the section, the name is the default. */
  defaultName: boolean;
  /** Derived only, when known: where the environment may name another parameter. */
  setting?: DocPath;
  /** Derived only: the step that creates it (a command). */
  create?: string;
  /** What it unlocks, when it is one of the kinds the access graph guards (validate/access.ts). */
  sensitivity?: SecretClass;
  /**
   * Derived only: a parameter a rendered runbook script writes itself (never by hand: e.g. the pending token of a
   * token rotation), the script's name. The access graph guards it like any other; `--refresh-ssm` does not ask for it
   * (it does not exist until the script runs).
   */
  writtenBy?: string;
}

/**
 * Secrets whose readers the access graph restricts to those that need them: a credential of another
 * cluster (a hub's cluster registry), a token that joins a node or decrypts the cluster's secrets (a
 * cluster token, a secrets bundle), the password of the cluster's own datastore.
 */
export type SecretClass = 'cluster-credential' | 'node-token' | 'datastore-password';

/** `dep` marked as `sensitivity`. */
export const sensitive = (dep: SecretDependency, sensitivity: SecretClass): SecretDependency => ({ ...dep, sensitivity });

export const isSecretRef = (v: unknown): v is SecretRef =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as Record<string, unknown>).secret === 'string';

/** Every `{ secret: … }` below `path`, in document order. */
export function findSecretRefs(data: unknown, path: (string | number)[]): { name: string; path: DocPath }[] {
  if (isSecretRef(data)) return [{ name: data.secret, path }];
  if (Array.isArray(data)) return data.flatMap((v, i) => findSecretRefs(v, [...path, i]));
  if (data !== null && typeof data === 'object') return Object.entries(data).flatMap(([k, v]) => findSecretRefs(v, [...path, k]));
  return [];
}

/**
 * The environment tree an SSM name lies in: `<env>` of `/odp/<env>/…`, where every default name of an environment
 * lives (whether `<env>` is one of the repository's is the fleet's to say).
 */
export const environmentTreeOf = (name: string): string | undefined => /^\/odp\/([^/]+)\//.exec(name)?.[1];

/** The environment trees (environmentTreeOf) of the `{ secret }` names a document writes, sorted, once each. */
export const secretTrees = (data: unknown): string[] => [...new Set(findSecretRefs(data, []).flatMap((r) => environmentTreeOf(r.name) ?? []))].sort();

/** `path` if the environment writes a value there, else its closest written ancestor (the document at worst). */
export function closestSection(data: unknown, path: DocPath): DocPath {
  for (let n = path.length; n > 0; n--) if (getAt(data, path.slice(0, n)) !== undefined) return path.slice(0, n);
  return [];
}

/** `aws ssm put-parameter` for a SecureString (the value left to the reader). */
export function putSecureStringCommand(region: string, name: string, value = '…', kmsKeyId?: string): string {
  return `aws ssm put-parameter --region ${region} --type SecureString --name ${name} --value ${value}${kmsKeyId ? ` --key-id ${kmsKeyId}` : ''}`;
}

/**
 * A name the model or the catalog derives (not a `{ secret }` the environment writes): positioned at
 * `written` when the environment writes a value there that `isWritten` accepts, else at its closest section.
 */
export function derivedSecret(env: ResolvedEnvironment, name: string, written: DocPath, purpose: string, create: string, isWritten: (v: unknown) => boolean): SecretDependency {
  const here = isWritten(getAt(env.data, written));
  return { name, origin: 'derived', purpose, path: here ? written : closestSection(env.data, written), defaultName: !here, setting: written, create };
}

/** Whether `v` is `{ secret: name }`. */
export const writesSecret = (name: string) => (v: unknown): boolean => isSecretRef(v) && v.secret === name;

interface ExternalSecretData {
  secretKey: string;
  remoteRef: { key: string };
}

/** The SecureStrings the enabled add-ons' ExternalSecrets read (the rendered manifests are the source). */
function addonSecrets(env: ResolvedEnvironment, m: EnvironmentModel): SecretDependency[] {
  const out: SecretDependency[] = [];
  for (const a of resolveAddons(m)) {
    for (const es of a.manifests.filter((o) => o.kind === 'ExternalSecret')) {
      const secretName = es.metadata.name;
      for (const d of ((es.spec as { data?: ExternalSecretData[] } | undefined)?.data ?? [])) {
        const name = d.remoteRef.key;
        const purpose = `add-on ${a.name}: Secret ${a.namespace}/${secretName} key ${d.secretKey} (ExternalSecret)`;
        const ref: DocPath = ['addons', a.name, 'secrets', secretName, d.secretKey];
        const v = getAt(env.data, ref);
        if (isSecretRef(v) && v.secret === name) {
          out.push({ name, origin: 'explicit', purpose, path: ref, defaultName: false });
          continue;
        }
        // A catalog secret: named by one of the add-on's settings, or the catalog's default name.
        const settings = getAt(env.data, ['addons', a.name, 'settings']);
        const key = settings !== null && typeof settings === 'object' ? Object.keys(settings).find((k) => (settings as Record<string, unknown>)[k] === name) : undefined;
        const path: DocPath = key !== undefined ? ['addons', a.name, 'settings', key] : closestSection(env.data, ['addons', a.name]);
        out.push({ name, origin: 'derived', purpose, path, defaultName: key === undefined, create: putSecureStringCommand(m.aws.region, name) });
      }
    }
  }
  return out;
}

/**
 * Every SecureString the environment depends on: the cluster's (its distribution's), the enabled
 * add-ons', its engine's (a hub's cluster Secrets), then every other `{ secret: … }` of the document
 * (workloads), in that order. One entry per place that names it: a name used twice appears twice.
 */
export function listSecretDependencies(env: ResolvedEnvironment, model: EnvironmentModel): SecretDependency[] {
  // `cluster` and `addons` are covered above through the model: secrets of the other distribution
  // or of a disabled add-on are no dependency; Helm values are free-form, not references.
  const rest = Object.entries(env.data)
    .filter(([k]) => k !== 'cluster' && k !== 'addons')
    .flatMap(([k, v]) => findSecretRefs(v, [k]));
  return [
    ...distributionOf(model).secrets(env, model),
    ...addonSecrets(env, model),
    ...(engineOf(model).secrets?.(env, model) ?? []),
    ...rest.map((r): SecretDependency => ({ name: r.name, origin: 'explicit', purpose: purposeOf(env, r.path), path: r.path, defaultName: false })),
  ];
}

function purposeOf(env: ResolvedEnvironment, path: DocPath): string {
  if (path[0] === 'workloads' && typeof path[1] === 'number') {
    const w = getAt(env.data, ['workloads', path[1], 'name']);
    return `workload ${String(w)}: ${path.slice(2).join(' ')} (ExternalSecret)`;
  }
  return path.join('.');
}
