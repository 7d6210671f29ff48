/**
 * What K3s nodes download, pinned by content (../rancher/artifacts.ts): K3s' install.sh at the
 * release's tag, the K3s binary per architecture (release assets `k3s` and `k3s-arm64`, listed in the
 * release's `sha256sum-<arch>.txt`), and Litestream's release archive for kine-sqlite (goreleaser
 * names, listed in its `checksums.txt`). The hashes are in ./artifacts.lock.json.
 *
 * Sources: k3s-io/k3s install.sh (the binary URL `${GITHUB_URL}/download/${VERSION_K3S}/k3s${SUFFIX}`,
 * SUFFIX empty on amd64 and `-arm64` on arm64, checked against `sha256sum-${ARCH}.txt` of the same
 * release); benbjohnson/litestream v0.5.16 .goreleaser.yml (archive
 * `{{ .ProjectName }}-{{ .Version }}-{{ .Os }}-x86_64|arm64`, `checksums.txt`).
 */
import type { Arch } from '../../model/types.js';
import type { ArtifactFacts, ArtifactKey, ArtifactProduct } from '../rancher/artifacts.js';
import { K3S_RELEASES } from './releases.js';
import lock from './artifacts.lock.json' with { type: 'json' };
import { DEFAULTS } from '../../model/defaults.js';

const release = (repo: string, tag: string, file: string): string => `https://github.com/${repo}/releases/download/${encodeURIComponent(tag)}/${file}`;

export const K3S_PRODUCT: ArtifactProduct = {
  product: 'k3s',
  title: 'K3s',
  repo: 'k3s-io/k3s',
  tag: (v) => v,
  assets: (v) => [
    { key: 'install.sh', file: 'install.sh', url: `https://raw.githubusercontent.com/k3s-io/k3s/${encodeURIComponent(v)}/install.sh`, source: { kind: 'repository-file', path: 'install.sh' } },
    { key: 'amd64', file: 'k3s', url: release('k3s-io/k3s', v, 'k3s'), source: { kind: 'release-asset', checksums: 'sha256sum-amd64.txt' } },
    { key: 'arm64', file: 'k3s-arm64', url: release('k3s-io/k3s', v, 'k3s-arm64'), source: { kind: 'release-asset', checksums: 'sha256sum-arm64.txt' } },
  ],
};

/** goreleaser's archive of a Litestream release (`.Version` has no leading v). */
const litestreamArchive = (v: string, arch: 'amd64' | 'arm64'): string => `litestream-${v.replace(/^v/, '')}-linux-${arch === 'amd64' ? 'x86_64' : 'arm64'}.tar.gz`;

export const LITESTREAM_PRODUCT: ArtifactProduct = {
  product: 'litestream',
  title: 'Litestream',
  repo: 'benbjohnson/litestream',
  tag: (v) => v,
  assets: (v) =>
    (['amd64', 'arm64'] as const).map((arch) => ({
      key: arch,
      file: litestreamArchive(v, arch),
      url: release('benbjohnson/litestream', v, litestreamArchive(v, arch)),
      source: { kind: 'release-asset' as const, checksums: 'checksums.txt' },
    })),
};

/** The binary artifact of an architecture. */
export const archKey = (arch: Arch): ArtifactKey => arch;

export const K3S_ARTIFACTS: ArtifactFacts = {
  products: [K3S_PRODUCT, LITESTREAM_PRODUCT],
  lock,
  lockFile: 'generators/distributions/k3s/artifacts.lock.json',
  // The newest listed release of each K3s line, and the default Litestream release.
  pinned: () => [...Object.values(K3S_RELEASES).map((r) => ({ product: 'k3s', version: r.newest })), { product: 'litestream', version: DEFAULTS.litestreamVersion }],
};
