/**
 * Secret-shaped values: one detector shared by the diff (which masks them) and the rendered-tree
 * policy (which rejects them). Value patterns apply anywhere; the entropy test only applies to
 * fields whose name says they hold a secret, so hashes, IDs and image digests elsewhere pass.
 */

export interface SecretMatch {
  /** What was recognised, e.g. `PEM private key`. */
  kind: string;
}

const VALUE_PATTERNS: readonly [string, RegExp][] = [
  ['PEM private key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  // base64 of "-----BEGIN " … "PRIVATE KEY-" (node config bundles store PEM keys base64-encoded)
  ['base64 PEM private key', /LS0tLS1CRUdJTi[A-Za-z0-9+/]*UFJJVkFURSBLRVkt/],
  ['AWS access key id', /\b(AKIA|ASIA)[0-9A-Z]{16}\b/],
  // trustd token, Kubernetes bootstrap token: [a-z0-9]{6}.[a-z0-9]{16}
  ['bootstrap/trustd token', /(?<![0-9a-z.])[0-9a-z]{6}\.[0-9a-z]{16}(?![0-9a-z])/],
  ['GitHub token', /\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b/],
  ['Slack token', /\bxox[abprs]-[A-Za-z0-9-]{10,}/],
  ['JSON Web Token', /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/],
  ['password in a URL', /:\/\/[^\s:@/]+:[^\s@/${}<>]{6,}@/],
];

/** Field names that announce secret content (matched on the last path segment). */
export const SECRET_FIELD = /(secret|password|passwd|passphrase|token|privatekey|private_key|apikey|api_key|credential|encryptionsecret|^key$)/i;

/** Field names that look secret but hold references or public material. */
const NOT_SECRET_FIELD = /(ref|name|path|arn|file|id|kind|type|namespace|version|selector|store|audience|issuer|url|endpoint|enabled|crt|cert|public)/i;

/** Bits per character (Shannon entropy) of a string. */
export function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** A value that is obviously not a literal secret: a reference path, a URL, a placeholder. */
function isReferenceLike(s: string): boolean {
  return /^\/[A-Za-z0-9_.\-/]+$/.test(s) || /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(\/[A-Za-z0-9._-]+)?$/.test(s) && /[.\/-]/.test(s) || /^[a-z][a-z0-9+.-]*:\/\/[^@\s]*$/.test(s) || /^\$\{[^}]+\}$/.test(s) || /^<[^>]+>$/.test(s);
}

/**
 * Whether `value` at a field named `key` looks like secret material. `key` is the last path
 * segment (or undefined for list items and whole documents).
 */
export function secretShape(key: string | undefined, value: unknown): SecretMatch | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  for (const [kind, re] of VALUE_PATTERNS) if (re.test(value)) return { kind };
  if (key === undefined || !SECRET_FIELD.test(key) || NOT_SECRET_FIELD.test(key.replace(SECRET_FIELD, ''))) return undefined;
  if (isReferenceLike(value) || /\s/.test(value)) return undefined;
  const classes = [/[A-Z]/, /[a-z]/, /[0-9]/].filter((re) => re.test(value)).length;
  // A bare `key` is also a toleration, label or selector key (CriticalAddonsOnly, nvidia.com/gpu):
  // there, only long base64-like material with digits counts.
  if (/^key$/i.test(key) && !(value.length >= 32 && classes === 3 && /^[A-Za-z0-9+/=_-]+$/.test(value))) return undefined;
  if (value.length >= 16 && classes >= 2 && entropy(value) >= 3.5) return { kind: `high-entropy value in the secret-named field '${key}'` };
  return undefined;
}

export interface SecretHit {
  path: (string | number)[];
  kind: string;
}

/** Kinds whose `data`/`stringData` hold secret values whatever they look like. */
const isSecretObject = (doc: unknown): boolean =>
  !!doc && typeof doc === 'object' && (doc as { kind?: unknown }).kind === 'Secret' && typeof (doc as { apiVersion?: unknown }).apiVersion === 'string' && (doc as { apiVersion: string }).apiVersion === 'v1';

/** Every secret-shaped value in a parsed document, with its path. */
export function findSecrets(doc: unknown): SecretHit[] {
  const out: SecretHit[] = [];
  const secretObject = isSecretObject(doc);
  const walk = (v: unknown, path: (string | number)[]): void => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
    else {
      const key = typeof path[path.length - 1] === 'string' ? (path[path.length - 1] as string) : undefined;
      if (secretObject && path.length === 2 && (path[0] === 'data' || path[0] === 'stringData')) out.push({ path, kind: `value of Secret ${String(path[0])}` });
      else {
        const m = secretShape(key, v);
        if (m) out.push({ path, kind: m.kind });
      }
    }
  };
  walk(doc, []);
  return out;
}
