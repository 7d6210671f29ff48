/**
 * The K3s releases the project lists, per Kubernetes minor: the newest patch it was checked
 * against. `v1.<minor>.0` up to that patch are releases (K3s follows every upstream Kubernetes
 * patch), each at least as `+k3s1`; a re-spin (`+k3s2` …) is listed in `respins`. A newer
 * release is one new entry here, after checking the flag tables (./flags.ts) still hold.
 */
export interface K3sMinor {
  newest: string;
  /** Patch → highest `+k3sN` suffix released for it, where above 1. */
  respins?: Record<number, number>;
}

export const K3S_RELEASES: Record<string, K3sMinor> = {
  '1.34': { newest: 'v1.34.6+k3s1' },
  '1.35': { newest: 'v1.35.9+k3s1' },
  '1.36': { newest: 'v1.36.3+k3s1' },
};

const parse = (v: string): { minor: string; patch: number; build: number } | undefined => {
  const m = /^v1\.(\d+)\.(\d+)\+k3s(\d+)$/.exec(v);
  return m ? { minor: `1.${m[1]}`, patch: Number(m[2]), build: Number(m[3]) } : undefined;
};

/** undefined when `version` is a listed release; otherwise the newest listed release of its minor (or undefined minor). */
export function k3sReleaseProblem(version: string): { newest?: string } | undefined {
  const v = parse(version);
  const entry = v ? K3S_RELEASES[v.minor] : undefined;
  if (!v || !entry) return {};
  const newest = parse(entry.newest)!;
  const maxBuild = v.patch === newest.patch ? newest.build : (entry.respins?.[v.patch] ?? 1);
  return v.patch <= newest.patch && v.build >= 1 && v.build <= maxBuild ? undefined : { newest: entry.newest };
}
