import { describe, expect, it } from 'vitest';
import { K3S_RELEASES } from '../generators/distributions/k3s/releases.js';
import { FLUX_KUBERNETES_MIN } from '../generators/engines/flux/objects.js';
import { KUBERNETES_NEWEST_PATCH, TALOS_RELEASES } from '../generators/distributions/talos/release.js';
import { RKE2_RELEASES, rke2Kubernetes } from '../generators/distributions/rke2/rules.js';

const patchOf = (k8s: string): number => Number(k8s.split('.')[2]);
const k3sKubernetes = (v: string): string => v.slice(1).split('+')[0]!;

// K3s and RKE2 ship the same upstream Kubernetes patches (often the same day): no list may name a
// Kubernetes patch the Kubernetes list does not have, and every minor a distribution lists is one
// Kubernetes lists.
describe('the release lists agree', () => {
  it('every K3s and RKE2 release ships a listed Kubernetes patch', () => {
    const shipped = [
      ...Object.values(K3S_RELEASES).map((e) => k3sKubernetes(e.newest)),
      ...Object.values(RKE2_RELEASES).flatMap((l) => l.map(rke2Kubernetes)),
    ];
    const beyond = shipped.filter((k8s) => !(patchOf(k8s) <= (KUBERNETES_NEWEST_PATCH[k8s.split('.').slice(0, 2).join('.')] ?? -1)));
    expect(beyond).toStrictEqual([]);
  });

  it('K3s and RKE2 cover the same minors; each line starts no later than its newest patch', () => {
    expect(Object.keys(K3S_RELEASES)).toStrictEqual(Object.keys(RKE2_RELEASES));
    for (const [minor, e] of Object.entries(K3S_RELEASES)) expect(e.first, minor).toBeLessThanOrEqual(patchOf(k3sKubernetes(e.newest)));
  });

  it('RKE2 lists each minor oldest first, without duplicates, and only its own minor', () => {
    for (const [minor, list] of Object.entries(RKE2_RELEASES)) {
      expect(new Set(list).size, minor).toBe(list.length);
      for (const v of list) expect(v.startsWith(`v${minor}.`), v).toBe(true);
      const keys = list.map((v) => { const m = /^v1\.\d+\.(\d+)\+rke2r(\d+)$/.exec(v)!; return Number(m[1]) * 100 + Number(m[2]); });
      expect(keys, minor).toStrictEqual([...keys].sort((a, b) => a - b));
    }
  });

  it('Kubernetes is listed for every minor a Talos release supports and Flux 2.9.0 needs', () => {
    const minors = new Set<number>();
    for (const r of Object.values(TALOS_RELEASES))
      for (let m = Number(r.kubernetes.min.split('.')[1]); m <= Number(r.kubernetes.max.split('.')[1]); m++) minors.add(m);
    expect([...minors].filter((m) => KUBERNETES_NEWEST_PATCH[`1.${m}`] === undefined)).toStrictEqual([]);
    expect(KUBERNETES_NEWEST_PATCH[FLUX_KUBERNETES_MIN]).toBeDefined();
  });
});
