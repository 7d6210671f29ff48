/**
 * The one bounded drain of every rendered script (generators/lib/node-drain.ts): its shell functions, rendered from each
 * row of NODE_DRAIN, executed against the kubectl stub (test/support/fixed-fleet.mjs linked as kubectl; its drain is
 * test/support/fleet-stub.mjs, which behaves as kubectl's: cordon, refusals before any eviction — a pod no controller
 * re-creates without --force, pkg/drain/filters.go unreplicatedFilter — then evictions a PodDisruptionBudget may refuse
 * until --timeout).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DRAIN_TIMEOUT_MAX, drainFunctions, drainOptions, durationSeconds, NODE_DRAIN, removalDrain, type DrainEvent } from '../generators/lib/node-drain.js';
import { CLUSTER_LOCK } from '../generators/lib/cluster-lock.js';
import { TALOS_DRAIN } from '../generators/distributions/talos/release.js';
import { APPLY_DRAIN, APPLY_LOCK_STRETCH } from '../generators/distributions/rancher/apply-config.js';
import { NODE_UPDATE_WAIT } from '../generators/infra/aws/deploy.js';

const ROOT = join(import.meta.dirname, '..');
type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const NODE = 'ip-10-0-1-10';
const script = (row: DrainEvent): string =>
  [
    '#!/bin/sh',
    'set -eu',
    'log() { echo "odp-test: $*" >&2; }',
    ...drainFunctions(NODE_DRAIN[row], { kubectl: 'kubectl', say: (t) => `log "${t}"` }),
    'drain_timeout',
    'drain_bounded "$1" \'nothing changed here\' || exit 1',
    'log "$1 drained"',
    '',
  ].join('\n');

describe('the one drain table', () => {
  it('per row: bare pods deleted where they are lost anyway (stop, removal), the drain stopped where the step keeps them (restart, reboot: the object survives it)', () => {
    expect(Object.fromEntries(Object.entries(NODE_DRAIN).map(([k, p]) => [k, [drainOptions(p), p.timeout, p.env, p.uncordonOnFailure]]))).toStrictEqual({
      reboot: ['--ignore-daemonsets --delete-emptydir-data', '5m', 'ODP_DRAIN_TIMEOUT', true],
      restart: ['--ignore-daemonsets --delete-emptydir-data', '600s', 'ODP_DRAIN_TIMEOUT', true],
      stop: ['--ignore-daemonsets --delete-emptydir-data --force', '5m', 'ODP_DRAIN_TIMEOUT', true],
      removal: ['--ignore-daemonsets --delete-emptydir-data --force', '5m', 'ODP_DRAIN_TIMEOUT', false],
    });
    for (const p of Object.values(NODE_DRAIN)) expect(p.source.length).toBeGreaterThan(40);
  });

  it('the cap of ODP_DRAIN_TIMEOUT (every row, 45m) leaves the Lease room: a drain runs between two renewals of the cluster-wide lock', () => {
    for (const p of Object.values(NODE_DRAIN)) expect([p.max, durationSeconds(p.timeout) <= durationSeconds(p.max)]).toStrictEqual([DRAIN_TIMEOUT_MAX, true]);
    expect(durationSeconds(DRAIN_TIMEOUT_MAX)).toBe(2700);
    // The drain's stretch (taken or renewed, one gate check, the drain, renewed) keeps at least the longest other stretch
    // between two renewals of the scripts that take the Lease: apply-config's bounded restart (900 s), node-update's wait
    // for its node (600 s).
    const other = Math.max(APPLY_LOCK_STRETCH, NODE_UPDATE_WAIT.tries * NODE_UPDATE_WAIT.seconds);
    expect(other).toBe(900);
    expect(durationSeconds(DRAIN_TIMEOUT_MAX) + other).toBeLessThanOrEqual(CLUSTER_LOCK.seconds);
    expect([durationSeconds('5m'), durationSeconds('600s'), durationSeconds('1h30m'), durationSeconds('08m1s')]).toStrictEqual([300, 600, 5400, 481]);
    expect(() => durationSeconds('5')).toThrow('not a duration');
  });

  it("the callers read their row: Talos' drain is talosctl's (nodedrain.go:29-30, 84-91) less Force (a reboot keeps a bare pod), apply-config's the restart, the review's removal", () => {
    expect(TALOS_DRAIN).toStrictEqual({ policy: NODE_DRAIN.reboot, options: '--ignore-daemonsets --delete-emptydir-data', timeout: '5m' });
    expect(APPLY_DRAIN).toBe(NODE_DRAIN.restart);
    expect(removalDrain('"$N"')).toBe('kubectl drain "$N" --ignore-daemonsets --delete-emptydir-data --force --timeout=5m');
  });
});

/** What the step after a non-forcing drain does to a bare pod, as its refusal says. */
const KEPT: Partial<Record<keyof typeof NODE_DRAIN, string>> = {
  restart: 'and this step would keep them running',
  reboot: "and a reboot alone keeps them (their objects stay bound to the Node; an upgrade's own drain would delete them too)",
};

describe('drain_timeout and drain_bounded, executed against the kubectl stub', () => {
  let dir: string;
  let bin: string;
  let fleet: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'odp-drain-'));
    bin = join(dir, 'bin');
    fleet = join(dir, 'fleet');
    mkdirSync(bin);
    mkdirSync(fleet);
    symlinkSync(join(ROOT, 'test/support/fixed-fleet.mjs'), join(bin, 'kubectl'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const world = (): Doc => JSON.parse(readFileSync(join(fleet, 'fleet.json'), 'utf8'));
  const setWorld = (change: (w: Doc) => void) => {
    const w = world();
    change(w);
    writeFileSync(join(fleet, 'fleet.json'), JSON.stringify(w));
  };
  beforeEach(() => {
    writeFileSync(
      join(fleet, 'fleet.json'),
      JSON.stringify({
        nodes: { '10.0.1.10': { name: NODE, role: 'worker' }, '10.0.1.11': { name: 'ip-10-0-1-11', role: 'worker' } },
        pods: [
          { ns: 'shop', name: 'web-0', app: 'web', node: NODE },
          { ns: 'shop', name: 'web-1', app: 'web', node: 'ip-10-0-1-11' },
          { ns: 'monitoring', name: 'node-exporter-0', app: 'node-exporter', node: NODE, daemonSet: true },
        ],
        pdbs: [{ ns: 'shop', app: 'web', minAvailable: 1 }],
      }),
    );
    writeFileSync(join(fleet, 'calls.log'), '');
  });
  const run = (row: DrainEvent, env: Record<string, string> = {}) => {
    const file = join(dir, `${row}.sh`);
    writeFileSync(file, script(row));
    const base: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}:${process.env.PATH}`, FLEET: fleet };
    delete base.ODP_DRAIN_TIMEOUT;
    const r = spawnSync('sh', [file, NODE], { env: { ...base, ...env }, encoding: 'utf8' });
    const calls = readFileSync(join(fleet, 'calls.log'), 'utf8').split('\n').filter(Boolean);
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, last: r.stderr.trimEnd().split('\n').at(-1), calls };
  };
  const ROWS: DrainEvent[] = ['reboot', 'restart', 'stop', 'removal'];

  for (const row of ROWS) {
    it(`${row}: drained: the pods evicted (the budget allows one), the DaemonSet's left, the Node stays cordoned for the step`, () => {
      const r = run(row);
      expect(r.code, r.stderr).toBe(0);
      expect(r.calls).toStrictEqual([`kubectl drain ${NODE} ${drainOptions(NODE_DRAIN[row])} --timeout=${NODE_DRAIN[row].timeout}`]);
      expect(r.stdout).toContain(`node/${NODE} drained`);
      expect(r.stderr).toContain('Warning: ignoring DaemonSet-managed Pods: monitoring/node-exporter-0');
      expect(r.last).toBe(`odp-test: ${NODE} drained`);
      const w = world();
      expect(w.nodes['10.0.1.10'].cordoned).toBe(true);
      expect(w.pods.filter((p: Doc) => p.node === NODE).map((p: Doc) => p.name)).toStrictEqual(['node-exporter-0']);
    });

    it(`${row}: a budget that allows no eviction: ${NODE_DRAIN[row].uncordonOnFailure ? 'uncordoned' : 'left cordoned'}, the message, exit 1`, () => {
      setWorld((w) => (w.pdbs[0].minAvailable = 2));
      const r = run(row);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("Cannot evict pod as it would violate the pod's disruption budget.");
      const state = NODE_DRAIN[row].uncordonOnFailure ? 'The node is uncordoned' : 'The node stays cordoned';
      expect(r.last).toBe(
        `odp-test: ${NODE}: not drained within ${NODE_DRAIN[row].timeout}: a PodDisruptionBudget allows no eviction of a pod kubectl named above (kubectl get pdb -A: ALLOWED DISRUPTIONS 0), or a pod did not stop in time. ${state}, nothing changed here. Give the workload room (more replicas Ready elsewhere), or raise ODP_DRAIN_TIMEOUT, then run this again`,
      );
      expect(r.calls.filter((c) => c.startsWith('kubectl uncordon'))).toStrictEqual(NODE_DRAIN[row].uncordonOnFailure ? [`kubectl uncordon ${NODE}`] : []);
      expect(world().nodes['10.0.1.10'].cordoned ?? false).toBe(!NODE_DRAIN[row].uncordonOnFailure);
      expect(world().pods.find((p: Doc) => p.name === 'web-0').node).toBe(NODE);
    });

    it(`${row}: pods no controller re-creates: ${NODE_DRAIN[row].force ? 'deleted with the drain (lost with the node anyway)' : 'the drain stops, the node uncordoned, each pod and its delete command named'}`, () => {
      setWorld((w) => w.pods.push({ ns: 'debug', name: 'shell', node: NODE, bare: true }, { ns: 'default', name: 'probe', node: NODE, bare: true }));
      const r = run(row);
      if (NODE_DRAIN[row].force) {
        expect(r.code, r.stderr).toBe(0);
        expect(world().pods.filter((p: Doc) => p.bare)).toStrictEqual([]);
        return;
      }
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('cannot delete Pods that declare no controller (use --force to override): debug/shell, default/probe');
      expect(r.last).toBe(
        `odp-test: ${NODE}: not drained: pods that no controller re-creates run on it (debug/shell, default/probe). A drain would delete them for good (kubectl refuses without --force), ${KEPT[row]}. The node is uncordoned, nothing changed here. Delete each that may go (kubectl delete pod -n debug shell; kubectl delete pod -n default probe), or run it under a controller (a Deployment), then run this again`,
      );
      const w = world();
      expect(w.nodes['10.0.1.10'].cordoned).toBeUndefined();
      // Nothing evicted: kubectl refuses before any eviction.
      expect(w.pods.filter((p: Doc) => p.node === NODE).map((p: Doc) => p.name)).toStrictEqual(['web-0', 'node-exporter-0', 'shell', 'probe']);
    });
  }

  it('ODP_DRAIN_TIMEOUT overrides the default: a duration of whole hours, minutes and seconds up to 45m reaches kubectl as it is', () => {
    for (const t of ['90s', '10m5s', '45m', '0h44m60s', '2700s', '08m']) {
      const r = run('restart', { ODP_DRAIN_TIMEOUT: t });
      expect(r.code, r.stderr).toBe(0);
      expect(r.calls.at(-1)).toBe(`kubectl drain ${NODE} --ignore-daemonsets --delete-emptydir-data --timeout=${t}`);
      setWorld((w) => (w.nodes['10.0.1.10'].cordoned = false));
    }
  });

  it('ODP_DRAIN_TIMEOUT that is not a duration (or zero: kubectl would wait for ever) is refused before kubectl runs, exit 2', () => {
    for (const t of ['5m; reboot', '300', 'm', '-5m', '0s', '0m0s', '$(reboot)', ' 5m']) {
      const r = run('reboot', { ODP_DRAIN_TIMEOUT: t });
      expect([r.code, r.last], JSON.stringify(t)).toStrictEqual([2, `odp-test: ODP_DRAIN_TIMEOUT: a duration such as 5m, 300s or 10m30s (not zero), not ${t}`]);
      expect(r.calls).toStrictEqual([]);
    }
    // A second line that is a duration does not carry the first through grep's line-by-line match.
    const multi = run('reboot', { ODP_DRAIN_TIMEOUT: 'x\n5m' });
    expect([multi.code, multi.calls]).toStrictEqual([2, []]);
  });

  it('ODP_DRAIN_TIMEOUT above 45m (the cluster-wide lock\'s room) is refused before kubectl runs, exit 2, naming the bound and why', () => {
    for (const row of ROWS) {
      for (const t of ['46m', '2701s', '44m61s', '1h', '1h30m', '0h45m1s', '99999999999999999999h']) {
        const r = run(row, { ODP_DRAIN_TIMEOUT: t });
        expect([r.code, r.last], `${row} ${t}`).toStrictEqual([
          2,
          `odp-test: ODP_DRAIN_TIMEOUT: at most 45m, not ${t}: a node change drains while it holds the cluster-wide lock (Lease kube-system/odp-apply-config), which expires 3600 s after its last renewal; a longer drain would let another run take the lock over while this one drains (one bound for every script)`,
        ]);
        expect(r.calls).toStrictEqual([]);
      }
    }
  });
});
