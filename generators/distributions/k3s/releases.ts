/**
 * The K3s releases the project lists, per Kubernetes minor: the first and the newest patch it was
 * checked against. `v1.<minor>.<first>` up to that newest patch are releases (within a line K3s
 * follows every upstream Kubernetes patch), each at least as `+k3s1`; a re-spin (`+k3s2` …) is
 * listed in `respins`. A newer release is one new entry here, after checking the flag tables
 * (./flags.ts) still hold.
 *
 * Checked against upstream (k3s-io/k3s releases, pull requests and k3s-io/docs release notes):
 * - 1.34: the line starts at v1.34.1+k3s1 (k3s-io/docs docs/release-notes/v1.34.X.md: "the first k3s
 *   release in the 1.34 release line"; there is no v1.34.0+k3s1); v1.34.6+k3s1: k3s-io/k3s#13834
 *   "[release-1.34] Update to v1.34.6-k3s1", #13873 "Update stable to v1.34.6+k3s1" (2026-03-28).
 * - 1.35: v1.35.0+k3s1 (k3s-io/docs v1.35.X.md, Dec 23 2025; its re-spin is +k3s3, +k3s2 was never
 *   released: #13514 closed unmerged); v1.35.9+k3s1 (the September 2026 patch, after v1.35.7 in
 *   July and v1.35.8 in August) is confirmed only by third-party installs, not by an upstream page.
 * - 1.36: v1.36.0+k3s1 (k3s-io/docs v1.36.X.md, May 06 2026); v1.36.3+k3s1: #14492 "Update stable
 *   channel to v1.36.3+k3s1" (2026-08-04).
 */
export interface K3sMinor {
  /** The first patch released on this line (K3s skipped v1.34.0). */
  first: number;
  newest: string;
  /** Patch → highest `+k3sN` suffix released for it, where above 1. */
  respins?: Record<number, number>;
}

export const K3S_RELEASES: Record<string, K3sMinor> = {
  '1.34': { first: 1, newest: 'v1.34.6+k3s1' },
  '1.35': { first: 0, newest: 'v1.35.9+k3s1' },
  '1.36': { first: 0, newest: 'v1.36.3+k3s1' },
};

const parse = (v: string): { minor: string; patch: number; build: number } | undefined => {
  const m = /^v1\.(\d+)\.(\d+)\+k3s(\d+)$/.exec(v);
  return m ? { minor: `1.${m[1]}`, patch: Number(m[2]), build: Number(m[3]) } : undefined;
};

/**
 * undefined when `version` is a listed release; otherwise the newest listed release of its minor
 * (none for an unlisted minor) and, for a patch older than the line's first, that first release.
 */
export function k3sReleaseProblem(version: string): { first?: string; newest?: string } | undefined {
  const v = parse(version);
  const entry = v ? K3S_RELEASES[v.minor] : undefined;
  if (!v || !entry) return {};
  const newest = parse(entry.newest)!;
  const maxBuild = v.patch === newest.patch ? newest.build : (entry.respins?.[v.patch] ?? 1);
  const listed = v.patch >= entry.first && v.patch <= newest.patch && v.build >= 1 && v.build <= maxBuild;
  if (listed) return undefined;
  return v.patch < entry.first ? { first: `v${v.minor}.${entry.first}+k3s1`, newest: entry.newest } : { newest: entry.newest };
}
