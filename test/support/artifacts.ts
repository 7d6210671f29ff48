/**
 * Serving a release's artifacts to a simulated fleet (./node-sandbox.ts) and recording their hashes in
 * the distribution's artifact lock for the duration of a test (the committed lock holds only verified
 * upstream values; a test's placeholders never reach it).
 */
import type { ArtifactFacts, ArtifactKey, AssetRecord } from '../../generators/distributions/rancher/artifacts.js';
import type { World } from './node-sandbox.js';
import { releaseRecord } from '../../generators/distributions/rancher/release.js';

/**
 * Serve `content` per artifact key of `product` `version` in `world` and put their hashes into the
 * lock; the returned function restores the lock.
 */
export function serveRelease(world: World, facts: ArtifactFacts, product: string, version: string, content: Partial<Record<ArtifactKey, string | Buffer>>): () => void {
  const p = facts.products.find((x) => x.product === product)!;
  const lockProduct = (facts.lock.products[product] ??= {});
  const before = lockProduct[version];
  const record: Partial<Record<ArtifactKey, AssetRecord>> = { ...before };
  for (const spec of p.assets(version)) {
    const c = content[spec.key];
    if (c === undefined) continue;
    record[spec.key] = { file: spec.file, url: spec.url, sha256: world.serve(spec.url, c), source: 'test' };
  }
  lockProduct[version] = record;
  // The base stack's release parameter (generators/distributions/rancher/release.ts) for every environment of the
  // world, as a deployed base stack holds it: the boot scripts read the release from it.
  const release = p.assets(version).some((a) => a.key === 'install.sh');
  if (release) world.ssm(`/odp/*/${product}/release`, releaseRecord(facts, product, version));
  return () => {
    if (before) lockProduct[version] = before;
    else delete lockProduct[version];
    // The parameter as the restored lock writes it (`unrecorded` where it holds no hash).
    if (release) world.ssm(`/odp/*/${product}/release`, releaseRecord(facts, product, version));
  };
}
