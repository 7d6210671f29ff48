/**
 * The Talos runbook scripts (`npm run talos -- commands --env E <phase>`) executed against a stub
 * fleet whose talosctl behaves as Talos does (test/support/node-stubs.mjs; research/day2.md §10-11):
 * `health` and `etcd members` refused on workers ("… is only available on control plane nodes"),
 * etcd without a leader while a control plane reboots, `bootstrap` refused unless etcd is Preparing.
 * Invariants: control planes upgraded one at a time with etcd healthy on every member between them;
 * every gate names a control plane; the restore resets or re-creates every control plane, waits for
 * all of them, and is refused without the explicit confirmation.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RUNBOOK_PHASES, runbookScript } from '../generators/distributions/talos/runbook.js';
import { cli, prepareExample, renderedExamples } from './helpers.js';
import { prepareInline } from './support/inline-env.js';
import { World } from './support/node-sandbox.js';

const CPS = ['10.10.1.10', '10.10.1.11', '10.10.1.12'];
const WORKER = '10.10.1.20';
const model = () => {
  const r = prepareInline(
    'talos-rb',
    'nodePools:\n  - { name: cp, role: controlplane, arch: amd64, instanceType: m7i.large, subnet: private-a, nodes: [{ name: cp-1, ip: 10.10.1.10 }, { name: cp-2, ip: 10.10.1.11 }, { name: cp-3, ip: 10.10.1.12 }] }\n  - { name: workers, role: worker, arch: amd64, instanceType: m7i.xlarge, subnet: private-a, nodes: [{ name: w-1, ip: 10.10.1.20 }] }\n',
  );
  if (!r.prepared) throw new Error(JSON.stringify(r.diagnostics));
  return r.prepared.model;
};

type TalosState = { nodes: Record<string, { name: string; role: string; etcd?: string; down?: number; maintenance?: boolean }>; upgraded?: string[]; unsafe?: string[]; healthChecks?: string[]; etcdChecks?: string[]; resets?: string[]; bootstraps?: { node: string; from: string; skipHashCheck: boolean }[] };

describe('Talos runbook scripts', () => {
  let world: World;
  beforeEach(() => {
    world = new World();
    world.setTalos({
      nodes: {
        ...Object.fromEntries(CPS.map((ip, i) => [ip, { name: `cp-${i + 1}`, role: 'controlplane', etcd: 'Running' }])),
        [WORKER]: { name: 'w-1', role: 'worker' },
      },
    });
  });
  afterEach(() => world.cleanup());
  const run = (script: string, env: Record<string, string> = {}) => world.runScript(script, { HOME: world.dir, ODP_POLL: '0', ODP_TRIES: '5', ...env });

  it.each(RUNBOOK_PHASES)('%s: a POSIX sh script that parses (sh -n) and stops at the first failure', (phase) => {
    const text = runbookScript(model(), phase);
    expect(text.startsWith('#!/bin/sh\n')).toBe(true);
    expect(text).toContain('\nset -eu\n');
    const r = spawnSync('sh', ['-n'], { input: text, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('upgrade: control planes one at a time, etcd healthy on every member between, workers gated through a control plane', () => {
    const r = run(runbookScript(model(), 'upgrade'));
    expect(r.stderr).toContain('every node of talos-rb upgraded');
    expect(r.code).toBe(0);
    const t = world.talos<TalosState>();
    expect(t.upgraded).toStrictEqual([...CPS, WORKER]);
    // No control plane was upgraded while another one's etcd was down (Talos 1.13's upgrade API does not check).
    expect(t.unsafe).toBeUndefined();
    // Every gate asked a control plane (the first that answers: cp-1 is down during its own upgrade); the worker's
    // health API (refused) was never used.
    expect(t.healthChecks!.length).toBeGreaterThan(0);
    expect(t.healthChecks!.every((ip) => CPS.includes(ip))).toBe(true);
    expect(t.etcdChecks!.every((ip) => CPS.includes(ip))).toBe(true);
    expect(Object.values(t.nodes).every((n) => !n.down)).toBe(true);
  });

  it('a gate on a worker would fail: the stub refuses the health API there, as Talos 1.13 does', () => {
    const r = run(`set -e\ntalosctl health --nodes ${WORKER} --wait-timeout 1m\n`);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('cluster health check is only available on control plane nodes');
  });

  it('restore: refused without confirmation; then every control plane reset or re-created, all Preparing, recovered from the snapshot', () => {
    const script = runbookScript(model(), 'restore');
    const refused = run(script);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('refusing: set ODP_CONFIRM_RESTORE=talos-rb');
    expect(world.talos<TalosState>().resets).toBeUndefined();

    const snapshot = join(world.dir, 'db.snapshot');
    writeFileSync(snapshot, 'snapshot');
    // cp-2 is a replacement instance: it waits in maintenance mode for its config.
    const t = world.talos<TalosState>();
    t.nodes[CPS[1]!] = { name: 'cp-2', role: 'controlplane', maintenance: true };
    for (const ip of [CPS[0]!, CPS[2]!]) t.nodes[ip]!.etcd = 'Down';
    world.setTalos(t);
    const r = run(script, { ODP_CONFIRM_RESTORE: 'talos-rb', SNAPSHOT: snapshot, REPLACED: 'cp-2' });
    expect(r.stderr).toContain(`etcd of talos-rb restored on ${CPS[0]}; 3 control planes healthy`);
    expect(r.code).toBe(0);
    const after = world.talos<TalosState>();
    expect(after.resets).toStrictEqual([CPS[0], CPS[2]]);
    expect(after.bootstraps).toStrictEqual([{ node: CPS[0], from: snapshot, skipHashCheck: false }]);
    expect(CPS.every((ip) => after.nodes[ip]!.etcd === 'Running')).toBe(true);
  });

  it('restore: a worker that joined after the snapshot (no Node in it) gets its kubelet restarted, which registers it again; the health check then passes', () => {
    const snapshot = join(world.dir, 'db.snapshot');
    writeFileSync(snapshot, 'snapshot');
    const t = world.talos<TalosState>();
    // Its kubelet runs, but the restored API has no Node of it: it never registers again by itself.
    (t.nodes[WORKER] as { registered?: boolean }).registered = false;
    world.setTalos(t);
    const r = run(runbookScript(model(), 'restore'), { ODP_CONFIRM_RESTORE: 'talos-rb', SNAPSHOT: snapshot });
    expect(r.code, r.stderr).toBe(0);
    const after = world.talos<TalosState & { kubeletRestarts?: string[] }>();
    // Only workers: the control planes were reset (their kubelets start again with them).
    expect(after.kubeletRestarts).toStrictEqual([WORKER]);
    expect((after.nodes[WORKER] as { registered?: boolean }).registered).toBeUndefined();
  });

  // The apply and upgrade gates name the nodes to expect (the API's Nodes), which would no longer see a member with no
  // Node: the restore's check keeps discovery's members, so a worker still unregistered after it fails the restore.
  it("restore: its health check expects discovery's members (no node lists): a worker whose kubelet restart failed keeps it failing", () => {
    const script = runbookScript(model(), 'restore');
    expect(script).toContain('retry etcd_cp talosctl health --wait-timeout 15m\n');
    expect(script).not.toMatch(/talosctl health[^\n]*--worker-nodes/);
    const snapshot = join(world.dir, 'db.snapshot');
    writeFileSync(snapshot, 'snapshot');
    const t = world.talos<TalosState>();
    (t.nodes[WORKER] as { registered?: boolean }).registered = false;
    world.setTalos(t);
    // The kubelet restart does not reach the worker (the stub's talosctl fails for it).
    const r = run(script.replace('talosctl service kubelet restart --nodes "$n"', 'false'), { ODP_CONFIRM_RESTORE: 'talos-rb', SNAPSHOT: snapshot });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('gave up waiting: etcd_cp talosctl health');
  });

  // The restore bootstraps one named node (the first control plane) once every control plane waits in Preparing: a
  // control plane that does not answer is named before anything is wiped (before, the first one down stopped the run at
  // its reset with "connection refused", a later one after the ones before it were wiped).
  it.each([0, 1])('restore with control plane %i not answering (not replaced): refused before any reset, the node named', (i) => {
    const snapshot = join(world.dir, 'db.snapshot');
    writeFileSync(snapshot, 'snapshot');
    const t = world.talos<TalosState>();
    (t.nodes[CPS[i]!] as { unreachable?: boolean }).unreachable = true;
    world.setTalos(t);
    const r = run(runbookScript(model(), 'restore'), { ODP_CONFIRM_RESTORE: 'talos-rb', SNAPSHOT: snapshot });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `odp-talos-restore: control plane cp-${i + 1} (${CPS[i]}): its Talos API does not answer: nothing was reset. Bring it back; or, lost for good, boot a new instance at ${CPS[i]} (maintenance mode) and run this again with REPLACED=cp-${i + 1}: the restored etcd starts with the recovering node as its only member and the replacement joins it (no talosctl etcd remove-member: the lost member is not in it)`,
    );
    const after = world.talos<TalosState>();
    expect([after.resets, after.bootstraps]).toStrictEqual([undefined, undefined]);
    // Lost for good: the printed step (a new instance at its address, in maintenance mode; REPLACED) restores.
    after.nodes[CPS[i]!] = { name: `cp-${i + 1}`, role: 'controlplane', maintenance: true };
    world.setTalos(after);
    const again = run(runbookScript(model(), 'restore'), { ODP_CONFIRM_RESTORE: 'talos-rb', SNAPSHOT: snapshot, REPLACED: `cp-${i + 1}` });
    expect(again.code, again.stderr).toBe(0);
    const done = world.talos<TalosState>();
    expect(done.resets).toStrictEqual(CPS.filter((_, j) => j !== i));
    expect(done.bootstraps).toStrictEqual([{ node: i === 0 ? CPS[1] : CPS[0], from: snapshot, skipHashCheck: false }]);
    expect(CPS.every((ip) => done.nodes[ip]!.etcd === 'Running')).toBe(true);
  });

  // The restore bootstraps any control plane in Preparing, a kept one first (operations.ts cp_preparing, pick_cp): with
  // the first control plane replaced by a new instance, a kept one restores and the replacement joins (before, the
  // restore always bootstrapped the first control plane's address).
  it('restore with the first control plane replaced: a kept control plane bootstraps from the snapshot, the others join', () => {
    const snapshot = join(world.dir, 'db.snapshot');
    writeFileSync(snapshot, 'snapshot');
    const t = world.talos<TalosState>();
    t.nodes[CPS[0]!] = { name: 'cp-1', role: 'controlplane', maintenance: true };
    world.setTalos(t);
    const r = run(runbookScript(model(), 'restore'), { ODP_CONFIRM_RESTORE: 'talos-rb', SNAPSHOT: snapshot, REPLACED: 'cp-1' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`etcd of talos-rb restored on ${CPS[1]}; 3 control planes healthy`);
    const after = world.talos<TalosState>();
    expect(after.resets).toStrictEqual([CPS[1], CPS[2]]);
    expect(after.bootstraps).toStrictEqual([{ node: CPS[1], from: snapshot, skipHashCheck: false }]);
    expect(CPS.every((ip) => after.nodes[ip]!.etcd === 'Running')).toBe(true);
  });

  it('restore from a db copied out of the data directory skips the hash check', () => {
    const snapshot = join(world.dir, 'db');
    writeFileSync(snapshot, 'db');
    const r = run(runbookScript(model(), 'restore'), { ODP_CONFIRM_RESTORE: 'talos-rb', SNAPSHOT: snapshot, SNAPSHOT_FROM_DB_COPY: '1' });
    expect(r.code, r.stderr).toBe(0);
    expect(world.talos<TalosState>().bootstraps).toStrictEqual([{ node: CPS[0], from: snapshot, skipHashCheck: true }]);
  });

  it('npm run talos -- commands --env prod <phase>: only the script on stdout, the summary on stderr, and it parses', () => {
    expect(prepareExample('prod').prepared).toBeDefined();
    const root = renderedExamples();
    for (const phase of ['bootstrap', 'upgrade'] as const) {
      const r = cli('talos', root, 'commands', '--env', 'prod', phase);
      expect(r.code).toBe(0);
      expect(r.stdout.startsWith('#!/bin/sh\n')).toBe(true);
      expect(r.stderr).toContain(`prod: ${phase} script`);
      expect(spawnSync('sh', ['-n'], { input: r.stdout }).status).toBe(0);
    }
    // One fixed node's upgrade (the README's per-node step): the upgrade script for that node alone.
    const one = cli('talos', root, 'commands', '--env', 'prod', 'upgrade', '--node', 'prod-gpu-1');
    expect(one.code, one.stderr).toBe(0);
    expect(one.stderr).toContain('prod: upgrade script for prod-gpu-1 alone');
    expect(one.stdout).toBe(runbookScript(prepareExample('prod').prepared!.model, 'upgrade', 'prod-gpu-1'));
    expect(one.stdout.match(/^if reach .*$/gm)).toStrictEqual([expect.stringMatching(/^if reach \S+ prod-gpu-1; then upgrade_node /)]);
    expect(spawnSync('sh', ['-n'], { input: one.stdout }).status).toBe(0);
    // A pool is never upgraded in place; --node with another phase means nothing.
    const pool = cli('talos', root, 'commands', '--env', 'prod', 'upgrade', '--node', 'general-amd64');
    expect([pool.code, pool.stderr]).toStrictEqual([2, expect.stringContaining('general-amd64 is an auto-scaled pool: never upgraded in place; the whole upgrade script joins its instance refresh (npm run -s talos -- commands --env prod upgrade | sh)')]);
    // --node with apply: that node's config alone (the review comment's step); with another phase it means nothing.
    const apply = cli('talos', root, 'commands', '--env', 'prod', 'apply', '--node', 'prod-gpu-1');
    expect(apply.code).toBe(0);
    expect(apply.stdout.match(/^if reach .*$/gm)).toStrictEqual([expect.stringMatching(/^if reach \S+ prod-gpu-1; then fits .* apply_node /)]);
    const k8s = cli('talos', root, 'commands', '--env', 'prod', 'upgrade-k8s', '--node', 'prod-gpu-1');
    expect([k8s.code, k8s.stderr]).toStrictEqual([2, expect.stringContaining('--node goes with the upgrade, apply, join, remove scripts only (the upgrade-k8s script is for the whole cluster)')]);
  }, 120_000);
});
