/**
 * Every SSM SecureString an environment depends on, with where its name comes from. Pure: the
 * resolved environment (for positions) and the model (the names the renderers and commands use).
 *
 * - `explicit`: a `{ secret: /name }` written in the environment that an ExternalSecret reads at
 *   runtime (workload `env`, an add-on's `secrets`).
 * - `derived`: a name the model or the add-on catalog derives, read when the cluster is set up or
 *   by a catalog add-on: the Talos secrets bundle (`cluster.talos.secretsBundle.parameter`), the
 *   K3s server and agent tokens and the Kine PostgreSQL password (read by the boot script), the
 *   SecureStrings a catalog add-on always needs (e.g. the Grafana admin credentials). Positioned at
 *   the value that names it when the environment writes one, else at the closest section
 *   (`defaultName`).
 *
 * Nothing here reads a value: the list holds names only.
 */
import { getAt, type DocPath } from '../lib/paths.js';
import type { ResolvedEnvironment } from '../load/loader.js';
import { resolveAddons } from '../catalog/resolve.js';
import { clusterSecretParameters, siblingDir } from '../render/argocd/hub.js';
import type { EnvironmentModel, SecretRef } from '../model/types.js';

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
}

const isSecretRef = (v: unknown): v is SecretRef =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as Record<string, unknown>).secret === 'string';

/** Every `{ secret: … }` below `path`, in document order. */
function findSecretRefs(data: unknown, path: (string | number)[]): { name: string; path: DocPath }[] {
  if (isSecretRef(data)) return [{ name: data.secret, path }];
  if (Array.isArray(data)) return data.flatMap((v, i) => findSecretRefs(v, [...path, i]));
  if (data !== null && typeof data === 'object') return Object.entries(data).flatMap(([k, v]) => findSecretRefs(v, [...path, k]));
  return [];
}

/** `path` if the environment writes a value there, else its closest written ancestor (the document at worst). */
function closestSection(data: unknown, path: DocPath): DocPath {
  for (let n = path.length; n > 0; n--) if (getAt(data, path.slice(0, n)) !== undefined) return path.slice(0, n);
  return [];
}

/** `aws ssm put-parameter` for a SecureString (the value left to the reader). */
export function putSecureStringCommand(region: string, name: string, value = '…', kmsKeyId?: string): string {
  return `aws ssm put-parameter --region ${region} --type SecureString --name ${name} --value ${value}${kmsKeyId ? ` --key-id ${kmsKeyId}` : ''}`;
}

export const TALOS_IMPORT_COMMAND = (env: string): string => `talosctl gen secrets -o secrets.yaml, then npm run talos -- secrets import --env ${env} --from secrets.yaml`;

function derived(env: ResolvedEnvironment, name: string, written: DocPath, purpose: string, create: string, isWritten: (v: unknown) => boolean): SecretDependency {
  const here = isWritten(getAt(env.data, written));
  return { name, origin: 'derived', purpose, path: here ? written : closestSection(env.data, written), defaultName: !here, setting: written, create };
}

function clusterSecrets(env: ResolvedEnvironment, m: EnvironmentModel): SecretDependency[] {
  const region = m.aws.region;
  if (m.cluster.distribution === 'talos') {
    const b = m.cluster.talos.secretsBundle;
    return [
      derived(env, b.parameter, ['cluster', 'talos', 'secretsBundle', 'parameter'], 'Talos secrets bundle (read by npm run talos -- config at apply time)', TALOS_IMPORT_COMMAND(m.name), (v) => v === b.parameter),
    ];
  }
  const written = (name: string) => (v: unknown) => isSecretRef(v) && v.secret === name;
  const [key, product] = m.cluster.distribution === 'rke2' ? (['rke2', 'RKE2'] as const) : (['k3s', 'K3s'] as const);
  const token = m.cluster[key].token.secret;
  const agentToken = m.cluster[key].agentToken.secret;
  const out = [
    derived(env, token, ['cluster', key, 'token'], `${product} server token (read by the servers at first boot)`, putSecureStringCommand(region, token, '"$(openssl rand -hex 32)"'), written(token)),
    derived(env, agentToken, ['cluster', key, 'agentToken'], `${product} agent token (read by every node at first boot)`, putSecureStringCommand(region, agentToken, '"$(openssl rand -hex 32)"'), written(agentToken)),
  ];
  const d = m.cluster.datastore;
  if (d.type === 'kine-postgres') {
    const pw = d.postgres.password.secret;
    out.push(
      derived(env, pw, ['cluster', 'datastore', 'postgres', 'password'], `Kine PostgreSQL password of role ${d.postgres.user} (read by the servers at first boot)`, putSecureStringCommand(region, pw, `'<password of PostgreSQL role ${d.postgres.user}>'`), written(pw)),
    );
  }
  return out;
}

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
 * A hub's Argo CD cluster Secrets: per managed environment, the `config` SecureString (bearer token
 * and CA) that the hub's ExternalSecret cluster-<env> reads (render/argocd/hub.ts), positioned at the
 * environment's entry in `argocd.manages`. The managed environment's bootstrap script writes it (with
 * the `name` and `server` Strings next to it) into the hub's account and region.
 */
function hubClusterSecrets(env: ResolvedEnvironment, m: EnvironmentModel): SecretDependency[] {
  const written = getAt(env.data, ['argocd', 'manages']);
  return m.argocd.manages.map((managed): SecretDependency => {
    const i = Array.isArray(written) ? written.indexOf(managed) : -1;
    return {
      name: clusterSecretParameters(m.name, managed).config,
      origin: 'derived',
      purpose: `Argo CD cluster Secret of managed environment ${managed} (bearer token and CA; the hub's ExternalSecret cluster-${managed} reads it)`,
      path: i >= 0 ? ['argocd', 'manages', i] : closestSection(env.data, ['argocd', 'manages']),
      defaultName: false,
      create: `${siblingDir(m, managed)}/argocd/bootstrap/bootstrap.sh writes it (run with ${managed}'s kubeconfig and credentials for this hub's account; README of ${managed}, "Bootstrap and join the hub")`,
    };
  });
}

/**
 * Every SecureString the environment depends on: the cluster's (by distribution), the enabled
 * add-ons', a hub's cluster Secrets, then every other `{ secret: … }` of the document (workloads),
 * in that order. One entry per place that names it: a name used twice appears twice.
 */
export function listSecretDependencies(env: ResolvedEnvironment, model: EnvironmentModel): SecretDependency[] {
  // `cluster` and `addons` are covered above through the model: secrets of the other distribution
  // or of a disabled add-on are no dependency; Helm values are free-form, not references.
  const rest = Object.entries(env.data)
    .filter(([k]) => k !== 'cluster' && k !== 'addons')
    .flatMap(([k, v]) => findSecretRefs(v, [k]));
  return [
    ...clusterSecrets(env, model),
    ...addonSecrets(env, model),
    ...hubClusterSecrets(env, model),
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
