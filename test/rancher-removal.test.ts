/**
 * The K3s/RKE2 review steps of a removed node (generators/distributions/rancher/impact.ts rolloutStep, nodeImpact).
 */
import { describe, expect, it } from 'vitest';
import { K3S_KEYS } from '../generators/distributions/k3s/model.js';
import { rancherDiff } from '../generators/distributions/rancher/impact.js';

// A removed fixed server's instance carries termination protection (generators/infra/aws/termination.ts): the merge's
// nodes stack update cannot terminate it (its cleanup skips it; the server runs on and registers its Node again), so the
// review's removal commands end with deploy.sh terminate-node, before the merge. A removed pool has no such instance.
describe('the K3s review steps of a removed node (rancher/impact.ts rolloutStep)', () => {
  const nodesYaml = 'Outputs:\n  NodeDevCp2InstanceId:\n    Description: Instance of node dev-cp-2 (10.10.1.11)\n';
  const base = new Map([
    ['k3s/dev-cp-2.yaml', 'server: x\n'],
    ['k3s/userdata/dev-cp-2.yaml', '#cloud-config\n'],
    ['k3s/general.yaml', 'server: x\n'],
    ['k3s/userdata/general.yaml', '#cloud-config\n'],
    ['aws/nodes.yaml', nodesYaml],
  ]);
  const head = new Map([['aws/nodes.yaml', '']]);
  it('a fixed node: drained, deleted, then its instance terminated before the merge; a pool: drained and deleted', () => {
    const d = rancherDiff(K3S_KEYS);
    const entries = d.impact({ base, head, changed: () => true }, {}).entries;
    const steps = d.report.rollout!({ env: 'dev', ...entries } as never).steps;
    const cp = steps.find((s) => s.node === 'dev-cp-2')!;
    expect(cp.effect).toBe('removed: drained, deleted and its instance terminated, before the merge');
    expect(cp.commands.at(-1)).toBe("sh rendered/dev/aws/deploy.sh terminate-node dev-cp-2 (before the merge: a server's instance carries termination protection, which the merge's stack update cannot get past)");
    const pool = steps.find((s) => s.node === 'general')!;
    expect(pool.effect).toBe('removed: drained and deleted');
    expect(pool.commands.some((c) => c.includes('terminate-node'))).toBe(false);
  });
});
