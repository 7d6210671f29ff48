/**
 * Artifacts pinned by content, for the distributions of this family: what a node downloads (the
 * installer script, the release binary or tarball per architecture, a helper such as a replication
 * tool), where from, and the sha256 each one must have. The hashes live in one lock per
 * distribution folder (`<name>/artifacts.lock.json`, written by `npm run artifacts -- record`, which
 * reads them from the upstream release: GitHub's asset `digest` and the release's own checksum file,
 * cross-checked); a value nobody could verify is `null` there, never guessed.
 *
 * The boot scripts check every download with `sha256sum -c` against the literal hash before using
 * it, and refuse, with a console message naming the command that records it, to install anything
 * whose hash is not recorded (they fail closed). `npm run validate` warns (rule artifact-sha256).
 */
import type { Rule } from '../../validate/rules.js';
import { shQuote } from './boot.js';

/** What a release provides a node: the installer script, and the binary or tarball per architecture. */
export type ArtifactKey = 'install.sh' | 'amd64' | 'arm64';

/** One recorded artifact of a release. */
export interface AssetRecord {
  /** File name (the release asset's, or the repository file's). */
  file: string;
  /** Where the nodes download it. */
  url: string;
  /** Lower-case hex sha256, or null when it could not be verified (the nodes then refuse it). */
  sha256: string | null;
  /** Where the value comes from (how it was verified), or why it is missing. */
  source: string;
}

export type ReleaseRecord = Partial<Record<ArtifactKey, AssetRecord>>;

/** A distribution's lock: product → version → artifact. */
export interface ArtifactLock {
  $comment?: string;
  products: Record<string, Record<string, ReleaseRecord>>;
}

/** How the record command finds an artifact's expected hash upstream. */
export type AssetSource =
  /** A release asset, listed in the release's checksum file `checksums` (GitHub's asset digest is the second source). */
  | { kind: 'release-asset'; checksums: string }
  /** A file of the repository at the release's tag (its git blob id from the contents API is the second source). */
  | { kind: 'repository-file'; path: string };

export interface AssetSpec {
  key: ArtifactKey;
  file: string;
  url: string;
  source: AssetSource;
}

/** A product whose releases a distribution's nodes install (the distribution itself, or a tool beside it). */
export interface ArtifactProduct {
  /** Its key in the lock. */
  product: string;
  /** Name in messages. */
  title: string;
  /** GitHub owner/name of its releases. */
  repo: string;
  /** The release tag of a version (the version itself unless the project tags differently). */
  tag(version: string): string;
  /** What a release provides (for the record command and the boot scripts). */
  assets(version: string): AssetSpec[];
}

/** What a distribution of this family declares about its artifacts (RancherKeys.artifacts). */
export interface ArtifactFacts {
  products: readonly ArtifactProduct[];
  lock: ArtifactLock;
  /** The lock's file, repository-relative (the record command writes it). */
  lockFile: string;
  /** Versions the generator pins itself (defaults, the newest listed releases): the lock must cover them (a test). */
  pinned(): { product: string; version: string }[];
}

/** The command that records the hashes (needs network), named by every message about a missing one. */
export const RECORD_COMMAND = 'npm run artifacts -- record';

export const SHA256 = /^[0-9a-f]{64}$/;

/** The release record of a product's version, if the lock has one. */
export const releaseOf = (lock: ArtifactLock, product: string, version: string): ReleaseRecord | undefined => lock.products[product]?.[version];

/** An artifact a node needs: the lock's record, or (not recorded at all) the spec with no hash. */
export function artifactOf(facts: ArtifactFacts, product: string, version: string, key: ArtifactKey): AssetRecord & { title: string; version: string } {
  const p = facts.products.find((x) => x.product === product);
  if (!p) throw new Error(`no artifact product '${product}'`);
  const spec = p.assets(version).find((a) => a.key === key);
  if (!spec) throw new Error(`${p.title} ${version} has no artifact '${key}'`);
  const rec = releaseOf(facts.lock, product, version)?.[key];
  // A recorded hash counts only for the URL the node downloads (a lock written for another URL is stale).
  const sha256 = rec && rec.url === spec.url && rec.sha256 !== null && SHA256.test(rec.sha256) ? rec.sha256 : null;
  return { file: spec.file, url: spec.url, sha256, source: rec?.source ?? 'not recorded', title: p.title, version };
}

/** Download-and-verify, as a shell function of the boot scripts (POSIX sh; `log` from the prelude). */
export const FETCH_VERIFIED = `# Download $1 to $2 and check it against the literal sha256 $3 before anything uses it.
fetch_verified() {
  curl -sfL --retry 5 -o "$2" "$1" || { log "cannot download $1"; exit 1; }
  printf '%s  %s\\n' "$3" "$2" | sha256sum -c - >/dev/null 2>&1 || { rm -f "$2"; log "$1 does not have the recorded sha256 $3: refusing to use it"; exit 1; }
}`;

/** What a script says where no hash is recorded: never a hash, so `sha256sum -c` fails on it too (the refusal above it stops first). */
export const UNRECORDED = 'sha256-not-recorded';

/** The shell line that downloads one artifact to `dest` and verifies it against its literal hash. */
export const fetchLine = (a: AssetRecord, dest: string): string => `fetch_verified ${shQuote(a.url)} ${dest} ${a.sha256 ?? UNRECORDED}`;

/**
 * The lines that stop a script before it changes anything when an artifact it needs has no recorded
 * hash: the console (cloud-init's output) says which and how to record it. `tag` prefixes the lines.
 */
export function refuseUnpinned(needed: readonly (AssetRecord & { title: string; version: string })[], tag: string, then = 'replace this instance'): string[] {
  const missing = needed.filter((a) => a.sha256 === null);
  if (missing.length === 0) return [];
  const say = (text: string): string => `echo ${shQuote(`${tag}: ${text}`)} >&2`;
  return [
    '# Fail closed: no sha256 is recorded for these downloads, so nothing is installed.',
    ...missing.map((a) => say(`refusing to install ${a.file} of ${a.title} ${a.version}: no sha256 is recorded for it`)),
    say(`record the hashes (${RECORD_COMMAND}, needs network), run npm run synth, commit, and ${then}`),
    'exit 1',
  ];
}

/**
 * Rule artifact-sha256 (a warning): the environment pins a release whose downloads have no recorded
 * sha256, so its nodes refuse to install (they fail closed, above). Read from the input: the
 * distribution's version key, the pools' architectures, and Litestream's release on kine-sqlite.
 */
export function artifactRule(keys: { title: string; versionKey: string; artifacts(): ArtifactFacts }, product: string, litestream?: { product: string; defaultVersion: string }): Rule {
  return ({ input }, report) => {
    const c = input.cluster as unknown as Record<string, unknown> & { datastore?: { type?: string; litestream?: { version?: string } } };
    const version = c[keys.versionKey];
    if (typeof version !== 'string') return;
    const facts = keys.artifacts();
    const arches = [...new Set((input.nodePools ?? []).map((p) => p.arch).filter((a): a is 'amd64' | 'arm64' => a === 'amd64' || a === 'arm64'))];
    const missing = (p: string, v: string, ks: ArtifactKey[]) => ks.filter((k) => artifactOf(facts, p, v, k).sha256 === null);
    const hint = `run ${RECORD_COMMAND} (needs network), then npm run synth`;
    const gone = missing(product, version, ['install.sh', ...arches]);
    if (gone.length > 0)
      report('artifact-sha256', ['cluster', keys.versionKey], `no sha256 is recorded for ${gone.join(', ')} of ${keys.title} ${version}: its nodes refuse to install it`, { severity: 'warning', hint });
    if (litestream && c.datastore?.type === 'kine-sqlite') {
      const v = c.datastore.litestream?.version ?? litestream.defaultVersion;
      const lgone = missing(litestream.product, v, arches);
      if (lgone.length > 0)
        report('artifact-sha256', ['cluster', 'datastore'], `no sha256 is recorded for the ${lgone.join(', ')} archive of Litestream ${v}: the server refuses to install it`, { severity: 'warning', hint });
    }
  };
}
