/**
 * Recording the sha256 of what the family's nodes download (`npm run artifacts -- record`, needs
 * network): for a release asset, the release's own checksum file (e.g. `sha256sum-amd64.txt`,
 * `checksums.txt`) and the asset downloaded and hashed here must agree; for a repository file
 * (install.sh at the release's tag), the file downloaded and hashed. A value that cannot be read or
 * that disagrees is never written (the lock keeps null: the nodes keep refusing). Where from is
 * written next to each value. `origins` redirects the two hosts (tests run a local HTTP server).
 */
import { createHash } from 'node:crypto';
import { SHA256, type ArtifactFacts, type ArtifactLock, type AssetRecord, type AssetSpec, type ArtifactProduct } from './artifacts.js';

export interface RecordOptions {
  /** Replacement origins for https://github.com and https://raw.githubusercontent.com. */
  origins?: { github?: string; raw?: string };
  /** The date written into each source (ISO day). */
  today: string;
  fetch?: typeof fetch;
}

export interface RecordOutcome {
  product: string;
  version: string;
  key: string;
  sha256: string | null;
  note: string;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function redirect(url: string, o: RecordOptions['origins']): string {
  if (o?.github && url.startsWith('https://github.com/')) return o.github + url.slice('https://github.com'.length);
  if (o?.raw && url.startsWith('https://raw.githubusercontent.com/')) return o.raw + url.slice('https://raw.githubusercontent.com'.length);
  return url;
}

async function get(url: string, opts: RecordOptions): Promise<Uint8Array> {
  const r = await (opts.fetch ?? fetch)(redirect(url, opts.origins), { redirect: 'follow' });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

/** The hash of `file` in a checksum file's text (`<sha256>  <name>` or `<sha256> *<name>` lines). */
export function checksumOf(text: string, file: string): string | undefined {
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{64})\s+\*?(\S+)\s*$/.exec(line.trim());
    if (m && (m[2] === file || m[2]!.endsWith(`/${file}`))) return m[1];
  }
  return undefined;
}

async function recordOne(p: ArtifactProduct, version: string, spec: AssetSpec, opts: RecordOptions): Promise<AssetRecord> {
  const body = await get(spec.url, opts);
  const actual = sha256(body);
  if (spec.source.kind === 'repository-file')
    return { file: spec.file, url: spec.url, sha256: actual, source: `sha256 of ${spec.source.path} at tag ${p.tag(version)} of ${p.repo}, downloaded from ${spec.url} and hashed (${opts.today})` };
  const listUrl = `https://github.com/${p.repo}/releases/download/${encodeURIComponent(p.tag(version))}/${spec.source.checksums}`;
  const listed = checksumOf(new TextDecoder().decode(await get(listUrl, opts)), spec.file);
  if (!listed) throw new Error(`${spec.source.checksums} of ${p.title} ${version} lists no ${spec.file}`);
  if (listed !== actual) throw new Error(`${spec.file} of ${p.title} ${version} hashes to ${actual}, but ${spec.source.checksums} says ${listed}: refusing to record either`);
  return { file: spec.file, url: spec.url, sha256: actual, source: `${spec.source.checksums} of release ${p.tag(version)} of ${p.repo}, equal to the sha256 of the asset downloaded (${opts.today})` };
}

/**
 * Record every artifact of `versions` (default: the versions the generator pins, facts.pinned())
 * into a copy of the lock; failures leave the previous record (or null) and are reported.
 */
export async function recordArtifacts(facts: ArtifactFacts, opts: RecordOptions, versions = facts.pinned()): Promise<{ lock: ArtifactLock; outcomes: RecordOutcome[] }> {
  const lock: ArtifactLock = JSON.parse(JSON.stringify(facts.lock)) as ArtifactLock;
  const outcomes: RecordOutcome[] = [];
  for (const { product, version } of versions) {
    const p = facts.products.find((x) => x.product === product);
    if (!p) throw new Error(`no artifact product '${product}'`);
    const release = ((lock.products[product] ??= {})[version] ??= {});
    for (const spec of p.assets(version)) {
      try {
        const rec = await recordOne(p, version, spec, opts);
        if (!SHA256.test(rec.sha256!)) throw new Error(`not a sha256: ${rec.sha256}`);
        release[spec.key] = rec;
        outcomes.push({ product, version, key: spec.key, sha256: rec.sha256, note: 'recorded' });
      } catch (e) {
        release[spec.key] ??= { file: spec.file, url: spec.url, sha256: null, source: `not recorded: ${(e as Error).message}` };
        outcomes.push({ product, version, key: spec.key, sha256: null, note: (e as Error).message });
      }
    }
  }
  return { lock, outcomes };
}

/** The lock as written to disk (stable key order: products, versions, keys sorted). */
export function lockText(lock: ArtifactLock): string {
  const sorted = <T>(o: Record<string, T>): Record<string, T> => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const products = Object.fromEntries(Object.entries(sorted(lock.products)).map(([p, vs]) => [p, Object.fromEntries(Object.entries(sorted(vs)).map(([v, r]) => [v, sorted(r as Record<string, unknown>)]))]));
  return JSON.stringify({ ...(lock.$comment ? { $comment: lock.$comment } : {}), products }, null, 2) + '\n';
}
