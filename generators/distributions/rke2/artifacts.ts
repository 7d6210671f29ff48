/**
 * What RKE2 nodes download, pinned by content (../rancher/artifacts.ts): RKE2's install.sh at the
 * release's tag and the release tarball per architecture (`rke2.linux-<arch>.tar.gz`, listed in the
 * release's `sha256sum-<arch>.txt`). The hashes are in ./artifacts.lock.json.
 *
 * Sources: rancher/rke2 v1.35.7+rke2r1 install.sh lines 301-323 (TARBALL_URL
 * `${INSTALL_RKE2_ARTIFACT_URL}/${version_urlsafe}/rke2.${SUFFIX}.tar.gz`, SUFFIX linux-amd64|linux-arm64,
 * checked against `sha256sum-${ARCH}.txt`) and lines 340-355 (INSTALL_RKE2_ARTIFACT_PATH: the same
 * two files from a local directory, the tarball still checked against the local checksum file).
 */
import type { ArtifactFacts, ArtifactProduct } from '../rancher/artifacts.js';
import { RKE2_RELEASES } from './rules.js';
import lock from './artifacts.lock.json' with { type: 'json' };

const release = (tag: string, file: string): string => `https://github.com/rancher/rke2/releases/download/${encodeURIComponent(tag)}/${file}`;

/** The release tarball of an architecture. */
export const rke2Tarball = (arch: 'amd64' | 'arm64'): string => `rke2.linux-${arch}.tar.gz`;

export const RKE2_PRODUCT: ArtifactProduct = {
  product: 'rke2',
  title: 'RKE2',
  repo: 'rancher/rke2',
  tag: (v) => v,
  assets: (v) => [
    { key: 'install.sh', file: 'install.sh', url: `https://raw.githubusercontent.com/rancher/rke2/${encodeURIComponent(v)}/install.sh`, source: { kind: 'repository-file', path: 'install.sh' } },
    ...(['amd64', 'arm64'] as const).map((arch) => ({ key: arch, file: rke2Tarball(arch), url: release(v, rke2Tarball(arch)), source: { kind: 'release-asset' as const, checksums: `sha256sum-${arch}.txt` } })),
  ],
};

export const RKE2_ARTIFACTS: ArtifactFacts = {
  products: [RKE2_PRODUCT],
  lock,
  lockFile: 'generators/distributions/rke2/artifacts.lock.json',
  // The newest listed release of each RKE2 line.
  pinned: () => Object.values(RKE2_RELEASES).map((r) => ({ product: 'rke2', version: r.at(-1)! })),
};
