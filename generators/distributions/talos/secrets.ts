/**
 * The Talos secrets bundle (`talosctl gen secrets`): its exact structure, validation, the reference
 * syntax rendered files carry instead of secret values, and the SSM storage encoding.
 *
 * Reference syntax: `${talos-secrets:<bundle path>}`, e.g. `${talos-secrets:certs.k8s.key}`. The
 * `${…}` form cannot be mistaken for a token, a base64 blob or a PEM block, is not valid in any of
 * the fields it stands in for (Talos would reject it at apply time rather than accept it), and is
 * resolved only by `npm run talos -- config`, which reads the bundle from SSM.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { parseYamlStream } from '../../lib/yaml.js';
import type { ResolvedEnvironment } from '../../load/loader.js';
import { derivedSecret, sensitive, type SecretDependency } from '../../model/secrets.js';
import type { EnvironmentModel } from '../../model/types.js';
import { talosCluster } from './model.js';

/** Where a value in the bundle lives (lower-cased Go field names, as `talosctl gen secrets` writes them). */
export type BundlePath =
  | 'cluster.id'
  | 'cluster.secret'
  | 'secrets.bootstraptoken'
  | 'secrets.secretboxencryptionsecret'
  | 'trustdinfo.token'
  | 'certs.etcd.crt'
  | 'certs.etcd.key'
  | 'certs.k8s.crt'
  | 'certs.k8s.key'
  | 'certs.k8saggregator.crt'
  | 'certs.k8saggregator.key'
  | 'certs.k8sserviceaccount.key'
  | 'certs.os.crt'
  | 'certs.os.key';

type FieldKind = 'token' | 'id' | 'secret32' | 'crt' | 'key';

interface BundleField {
  path: BundlePath;
  kind: FieldKind;
  /** Secret (never in git even in encrypted form here); crt and cluster.id are public. */
  secret: boolean;
}

export const BUNDLE_FIELDS: readonly BundleField[] = [
  { path: 'cluster.id', kind: 'id', secret: false },
  { path: 'cluster.secret', kind: 'secret32', secret: true },
  { path: 'secrets.bootstraptoken', kind: 'token', secret: true },
  { path: 'secrets.secretboxencryptionsecret', kind: 'secret32', secret: true },
  { path: 'trustdinfo.token', kind: 'token', secret: true },
  { path: 'certs.etcd.crt', kind: 'crt', secret: false },
  { path: 'certs.etcd.key', kind: 'key', secret: true },
  { path: 'certs.k8s.crt', kind: 'crt', secret: false },
  { path: 'certs.k8s.key', kind: 'key', secret: true },
  { path: 'certs.k8saggregator.crt', kind: 'crt', secret: false },
  { path: 'certs.k8saggregator.key', kind: 'key', secret: true },
  { path: 'certs.k8sserviceaccount.key', kind: 'key', secret: true },
  { path: 'certs.os.crt', kind: 'crt', secret: false },
  { path: 'certs.os.key', kind: 'key', secret: true },
];

/** A validated bundle: bundle path → value exactly as in secrets.yaml (PEMs base64-encoded). */
export type SecretsBundle = Record<BundlePath, string>;

export const REF_PREFIX = '${talos-secrets:';
const REF_RE = /\$\{talos-secrets:([a-z0-9.]+)\}/g;
const REF_WHOLE = /^\$\{talos-secrets:([a-z0-9.]+)\}$/;

export const secretRef = (path: BundlePath): string => `${REF_PREFIX}${path}}`;

/** The bundle path a string references, if it is exactly one reference. */
export function refTarget(value: unknown): string | undefined {
  return typeof value === 'string' ? REF_WHOLE.exec(value)?.[1] : undefined;
}

/**
 * Which machine-config fields come from the bundle, per role (`init.go`/`worker.go` of
 * talosctl gen config). Workers get only the public CA certificates and the join tokens.
 */
export const CONFIG_SECRET_FIELDS: readonly { path: readonly string[]; bundle: BundlePath; roles: readonly ('controlplane' | 'worker')[] }[] = [
  { path: ['machine', 'token'], bundle: 'trustdinfo.token', roles: ['controlplane', 'worker'] },
  { path: ['machine', 'ca', 'crt'], bundle: 'certs.os.crt', roles: ['controlplane', 'worker'] },
  { path: ['machine', 'ca', 'key'], bundle: 'certs.os.key', roles: ['controlplane'] },
  { path: ['cluster', 'id'], bundle: 'cluster.id', roles: ['controlplane', 'worker'] },
  { path: ['cluster', 'secret'], bundle: 'cluster.secret', roles: ['controlplane', 'worker'] },
  { path: ['cluster', 'token'], bundle: 'secrets.bootstraptoken', roles: ['controlplane', 'worker'] },
  { path: ['cluster', 'secretboxEncryptionSecret'], bundle: 'secrets.secretboxencryptionsecret', roles: ['controlplane'] },
  { path: ['cluster', 'ca', 'crt'], bundle: 'certs.k8s.crt', roles: ['controlplane', 'worker'] },
  { path: ['cluster', 'ca', 'key'], bundle: 'certs.k8s.key', roles: ['controlplane'] },
  { path: ['cluster', 'aggregatorCA', 'crt'], bundle: 'certs.k8saggregator.crt', roles: ['controlplane'] },
  { path: ['cluster', 'aggregatorCA', 'key'], bundle: 'certs.k8saggregator.key', roles: ['controlplane'] },
  { path: ['cluster', 'serviceAccount', 'key'], bundle: 'certs.k8sserviceaccount.key', roles: ['controlplane'] },
  { path: ['cluster', 'etcd', 'ca', 'crt'], bundle: 'certs.etcd.crt', roles: ['controlplane'] },
  { path: ['cluster', 'etcd', 'ca', 'key'], bundle: 'certs.etcd.key', roles: ['controlplane'] },
];

export interface BundleProblem {
  path: string;
  message: string;
}

const TOKEN = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;
const TOP_LEVEL: Record<string, readonly string[]> = {
  cluster: ['id', 'secret'],
  secrets: ['bootstraptoken', 'secretboxencryptionsecret', 'aescbcencryptionsecret'],
  trustdinfo: ['token'],
  certs: ['etcd', 'k8s', 'k8saggregator', 'k8sserviceaccount', 'os'],
};
const CERT_KEYS: Record<string, readonly string[]> = {
  etcd: ['crt', 'key'],
  k8s: ['crt', 'key'],
  k8saggregator: ['crt', 'key'],
  k8sserviceaccount: ['key'],
  os: ['crt', 'key'],
};

function decodeBase64(text: string, url: boolean): Buffer | undefined {
  const re = url ? /^[A-Za-z0-9_-]+={0,2}$/ : /^[A-Za-z0-9+/]+={0,2}$/;
  if (!re.test(text) || text.length % 4 !== 0) return undefined;
  return Buffer.from(text, url ? 'base64url' : 'base64');
}

function checkValue(kind: FieldKind, value: string): string | undefined {
  switch (kind) {
    case 'token':
      return TOKEN.test(value) ? undefined : 'expected a token of the form [a-z0-9]{6}.[a-z0-9]{16}';
    case 'id':
      return decodeBase64(value, true)?.length === 32 ? undefined : 'expected base64url of 32 bytes (44 characters)';
    case 'secret32':
      return decodeBase64(value, false)?.length === 32 ? undefined : 'expected base64 of 32 bytes (44 characters)';
    case 'crt': {
      const pem = decodeBase64(value, false)?.toString('utf8');
      if (!pem?.startsWith('-----BEGIN CERTIFICATE-----')) return 'expected base64 of a PEM certificate';
      try {
        if (!new X509Certificate(pem).ca) return 'the certificate is not a CA certificate';
      } catch (e) {
        return `the certificate does not parse: ${(e as Error).message}`;
      }
      return undefined;
    }
    case 'key': {
      const pem = decodeBase64(value, false)?.toString('utf8');
      if (!pem || !/^-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(pem)) return 'expected base64 of a PEM private key';
      try {
        createPrivateKey(pem);
      } catch (e) {
        return `the private key does not parse: ${(e as Error).message}`;
      }
      return undefined;
    }
  }
}

const getIn = (obj: unknown, dotted: string): unknown =>
  dotted.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);

/**
 * Validate a `talosctl gen secrets` bundle (Bundle.Validate plus key/certificate checks): every
 * field present with the right shape, no unknown keys, each CA key matching its certificate.
 */
export function parseBundle(text: string): { bundle?: SecretsBundle; problems: BundleProblem[] } {
  const problems: BundleProblem[] = [];
  let docs: unknown[];
  try {
    docs = parseYamlStream(text);
  } catch (e) {
    return { problems: [{ path: '(document)', message: `not YAML: ${(e as Error).message}` }] };
  }
  const doc = docs[0];
  if (docs.length !== 1 || !doc || typeof doc !== 'object' || Array.isArray(doc))
    return { problems: [{ path: '(document)', message: 'expected one YAML mapping (the secrets.yaml written by talosctl gen secrets)' }] };
  const root = doc as Record<string, unknown>;
  for (const [k, v] of Object.entries(root)) {
    const allowed = TOP_LEVEL[k];
    if (!allowed) {
      problems.push({ path: k, message: `unknown key (a bundle has ${Object.keys(TOP_LEVEL).join(', ')})` });
      continue;
    }
    if (!v || typeof v !== 'object') continue;
    for (const sub of Object.keys(v)) {
      if (!allowed.includes(sub)) problems.push({ path: `${k}.${sub}`, message: `unknown key (expected ${allowed.join(', ')})` });
      else if (k === 'certs') {
        const inner = (v as Record<string, unknown>)[sub];
        for (const kk of Object.keys(inner && typeof inner === 'object' ? inner : {}))
          if (!CERT_KEYS[sub]!.includes(kk)) problems.push({ path: `certs.${sub}.${kk}`, message: `unknown key (expected ${CERT_KEYS[sub]!.join(', ')})` });
      }
    }
  }
  if (getIn(root, 'secrets.aescbcencryptionsecret') !== undefined)
    problems.push({
      path: 'secrets.aescbcencryptionsecret',
      message: 'this bundle uses the legacy AES-CBC encryption secret (Talos ≤ 1.2 contract); the configs use secretbox encryption (secrets.secretboxencryptionsecret)',
    });
  const bundle: Partial<SecretsBundle> = {};
  for (const f of BUNDLE_FIELDS) {
    const v = getIn(root, f.path);
    if (v === undefined || v === null || v === '') {
      problems.push({ path: f.path, message: 'missing' });
      continue;
    }
    if (typeof v !== 'string') {
      problems.push({ path: f.path, message: `expected a string, got ${Array.isArray(v) ? 'a list' : typeof v}` });
      continue;
    }
    const err = checkValue(f.kind, v);
    if (err) problems.push({ path: f.path, message: err });
    else bundle[f.path] = v;
  }
  for (const ca of ['etcd', 'k8s', 'k8saggregator', 'os'] as const) {
    const crt = bundle[`certs.${ca}.crt`];
    const key = bundle[`certs.${ca}.key`];
    if (!crt || !key) continue;
    const cert = new X509Certificate(Buffer.from(crt, 'base64').toString('utf8'));
    if (!cert.checkPrivateKey(createPrivateKey(Buffer.from(key, 'base64').toString('utf8'))))
      problems.push({ path: `certs.${ca}.key`, message: `does not match certs.${ca}.crt` });
  }
  return problems.length > 0 ? { problems } : { bundle: bundle as SecretsBundle, problems };
}

/**
 * SSM encoding. A bundle with the RSA-4096 service-account key is about 8.8 KB as YAML, above the
 * 8 KB limit of an Advanced SecureString; PEMs are stored decoded (one base64 layer less) as
 * gzip-compressed JSON, about 6.3 KB. Round trip is exact: standard base64 of the same PEM bytes.
 */
export const SSM_ENCODING = 'odp-talos-secrets/v1+gzip:';
const PEM_KINDS = new Set<FieldKind>(['crt', 'key']);

export function encodeBundle(b: SecretsBundle): string {
  const obj: Record<string, string> = {};
  for (const f of BUNDLE_FIELDS) obj[f.path] = PEM_KINDS.has(f.kind) ? Buffer.from(b[f.path], 'base64').toString('utf8') : b[f.path];
  return SSM_ENCODING + gzipSync(JSON.stringify(obj), { level: 9 }).toString('base64');
}

export function decodeBundle(value: string): SecretsBundle {
  if (!value.startsWith(SSM_ENCODING)) throw new Error(`the parameter does not hold a bundle stored by 'npm run talos -- secrets import' (no ${SSM_ENCODING} prefix)`);
  const obj = JSON.parse(gunzipSync(Buffer.from(value.slice(SSM_ENCODING.length), 'base64')).toString('utf8')) as Record<string, unknown>;
  const out: Partial<SecretsBundle> = {};
  for (const f of BUNDLE_FIELDS) {
    const v = obj[f.path];
    if (typeof v !== 'string' || v === '') throw new Error(`the stored bundle lacks ${f.path}`);
    out[f.path] = PEM_KINDS.has(f.kind) ? Buffer.from(v, 'utf8').toString('base64') : v;
  }
  return out as SecretsBundle;
}

/** The bundle as `talosctl gen secrets` writes it (for `talosctl gen config --with-secrets`). */
export function bundleToTalosYaml(b: SecretsBundle): Record<string, unknown> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const f of BUNDLE_FIELDS) {
    const parts = f.path.split('.');
    let cur: Record<string, unknown> = out;
    for (const p of parts.slice(0, -1)) cur = (cur[p] ??= {}) as Record<string, unknown>;
    cur[parts.at(-1)!] = b[f.path];
  }
  return out;
}

/** Replace every reference in `value` (deeply) with the bundle's value; unknown references throw. */
export function fillReferences<T>(value: T, bundle: SecretsBundle): T {
  const fill = (s: string): string =>
    s.replace(REF_RE, (_, path: string) => {
      if (!(path in bundle)) throw new Error(`unknown secrets-bundle reference ${REF_PREFIX}${path}}`);
      return bundle[path as BundlePath];
    });
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return fill(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

/** Every string in `value` that still contains a reference, with its path. */
export function findReferences(value: unknown, path: (string | number)[] = []): { path: (string | number)[]; value: string }[] {
  if (typeof value === 'string') return value.includes(REF_PREFIX) ? [{ path, value }] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => findReferences(v, [...path, i]));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => findReferences(v, [...path, k]));
  return [];
}

/** How the bundle gets into SSM (the hint of a missing one). */
export const TALOS_IMPORT_COMMAND = (env: string): string => `talosctl gen secrets -o secrets.yaml, then npm run talos -- secrets import --env ${env} --from secrets.yaml`;

/** The SecureString a Talos environment depends on: its secrets bundle, read at apply time. */
export function talosSecrets(env: ResolvedEnvironment, m: EnvironmentModel): SecretDependency[] {
  const b = talosCluster(m).secretsBundle;
  return [sensitive(derivedSecret(env, b.parameter, ['cluster', 'talos', 'secretsBundle', 'parameter'], 'Talos secrets bundle (read by npm run talos -- config at apply time)', TALOS_IMPORT_COMMAND(m.name), (v) => v === b.parameter), 'node-token')];
}
