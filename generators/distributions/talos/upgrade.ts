/**
 * Talos' support matrix for the upgrade plan: the minors this generator lists (./release.ts) and the
 * Kubernetes versions each runs. Source: siderolabs/talos pkg/machinery/compatibility/talos1<minor>
 * Minimum/MaximumKubernetesVersion (T@v1.13.9), enforced by `talosctl upgrade-k8s` and the machine
 * config validation (compatibility/kubernetes_version.go SupportedWith), and the support matrix page.
 */
import type { DistributionUpgrade } from '../types.js';
import { TALOS_RELEASES, TALOS_SUPPORT_MATRIX, type TalosMinor } from './release.js';

const parse = (v: string): { minor: string; patch: number } | undefined => {
  const m = /^v(\d+\.\d+)\.(\d+)$/.exec(v);
  return m ? { minor: m[1]!, patch: Number(m[2]) } : undefined;
};
const k8sMinor = (v: string): number | undefined => {
  const m = /^v?1\.(\d+)(\.|$)/.exec(v);
  return m ? Number(m[1]) : undefined;
};

export const talosUpgrade: DistributionUpgrade = {
  source: `siderolabs/talos pkg/machinery/compatibility (Minimum/MaximumKubernetesVersion per minor), ${TALOS_SUPPORT_MATRIX}`,
  unlisted(release) {
    const v = parse(release);
    const r = v && TALOS_RELEASES[v.minor as TalosMinor];
    if (!v || !r) return `Talos ${release} is not a minor this generator lists (${Object.keys(TALOS_RELEASES).map((m) => `v${m}.x`).join(', ')})`;
    if (v.patch > r.newestPatch) return `Talos ${release} is not a release this generator lists (the newest listed v${v.minor} release is v${v.minor}.${r.newestPatch})`;
    return undefined;
  },
  unsupported(release, kubernetes) {
    const v = parse(release);
    const r = v && TALOS_RELEASES[v.minor as TalosMinor];
    const k = k8sMinor(kubernetes);
    if (!r || k === undefined) return undefined; // unlisted() says what is wrong with the release
    if (k < k8sMinor(r.kubernetes.min)! || k > k8sMinor(r.kubernetes.max)!) return `Talos ${r.minor} runs Kubernetes ${r.kubernetes.min} to ${r.kubernetes.max}, not ${kubernetes}`;
    return undefined;
  },
};
