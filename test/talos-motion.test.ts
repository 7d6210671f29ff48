/**
 * Talos + Argo CD with auto-scaled pools in motion (fixture test/fixtures/valid/talos-argocd-pools.yaml: three
 * control planes, a fixed GPU node, an amd64 and a Graviton pool with `count`). The rendered runbook scripts and
 * aws/talos-join.sh run together against stubs that behave as talosctl, kubectl and EC2 Auto Scaling do
 * (test/support/talos-fleet.mjs, each behaviour cited there).
 *
 * A `cluster.talosVersion` bump changes every machine config's install image and the AMI parameter
 * (`/odp/images/talos/<version>/…`) of the pools' launch templates: the nodes stack update (at the merge, with Git
 * sync) starts each pool's instance refresh (UpdatePolicy AutoScalingInstanceRefresh, 100 % minimum healthy:
 * a replacement first; 150 % maximum for these pools of two: one at a time, infra/aws/roll.ts), whose replacements boot the new version in maintenance mode under the launch hook
 * talos-apply. The upgrade script must join them, never upgrade the old instances in place (the refresh
 * terminates them), and finish only when every Node of a pool runs the new version.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setupSteps, targetSteps } from '../generators/distributions/talos/operations.js';
import { runbookScript } from '../generators/distributions/talos/runbook.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { motionOf } from '../generators/validate/motion/index.js';
import { schedulable, simulate } from '../generators/validate/motion/simulate.js';
import { parseRenderedTree } from '../generators/validate/rendered/tree.js';
import { fixtureSources, formatted, ROOT } from './helpers.js';

const ENV = 'talos-argocd-pools';
const OLD = 'v1.13.8';
const NEW = 'v1.13.9';
type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function prepared(edit: (text: string) => string = (t) => t) {
  const { sources } = fixtureSources('valid', `${ENV}.yaml`);
  sources.set(`environments/${ENV}.yaml`, edit(sources.get(`environments/${ENV}.yaml`)!));
  return prepareEnvironment(ENV, sources);
}
function rendered(edit?: (text: string) => string) {
  const r = prepared(edit);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  return { model: r.prepared.model, files: new Map(renderEnvironment(r.prepared).map((f) => [f.path, f.content])) };
}

interface Fleet {
  version: string;
  /** The API servers' Kubernetes version. */
  api: string;
  nodes: Record<string, { name: string; role: string; pool?: string; os: string; etcd?: string; down?: number; maintenance?: boolean; instance?: string; config?: string; unreachable?: boolean; cordoned?: boolean; nextOs?: string; stage?: string; etcdCutOff?: boolean }>;
  /** How a node's `talosctl upgrade` fails (the stub's header): by node name. */
  upgradeFailure?: Record<string, 'pull' | 'install' | 'sequence' | 'back' | 'gone'>;
  instances: Record<string, { group: string; ip: string; state: string; old?: boolean; bootsAfter?: number }>;
  events?: string[];
  unsafe?: string[];
  terminatedWhileRebooting?: string[];
  /** The new configs change a field outside CanApplyImmediate's list: `auto` reboots, `no-reboot` is refused. */
  rebootOnApply?: boolean;
  /** Nodes that do not come back from an upgrade's reboot. */
  neverBack?: string[];
  /** kubectl cannot reach the API server. */
  apiDown?: boolean;
  /** Pods by Node name (a DaemonSet's, a bare one, or a workload's `app`), and the PodDisruptionBudgets over apps. */
  pods?: { ns: string; name: string; node: string; app?: string; daemonSet?: boolean; bare?: boolean; lateOn?: string }[];
  pdbs?: { ns: string; name: string; app: string; minAvailable: number }[];
  /** Nodes rebooted with workload pods still on them (stopped, not evicted): "<node>: <pods>". */
  rebootedWithPods?: string[];
  /** Minutes passed; a failed health check waited its --wait-timeout, and why it failed. */
  clock?: number;
  healthFailures?: string[];
  /** Configs a node refused because they were rendered for a newer Talos minor than it runs. */
  refusedConfigs?: string[];
  /** Nodes a 1.12 upgrade rebooted with pods a budget kept (its own drain gave up after 5 minutes). */
  upgradedThroughBudget?: string[];
}

/** The cluster at the old version, both pools' old instances InService, and (merged) their replacements waiting. */
function fleet(replacements: boolean): Fleet {
  const os = `Talos (${OLD})`;
  const f: Fleet = { version: NEW, api: '1.35.2', nodes: {}, instances: {} };
  ['10.10.1.10', '10.10.1.11', '10.10.1.12'].forEach((ip, i) => (f.nodes[ip] = { name: `cp-${i + 1}`, role: 'controlplane', pool: 'cp', os, etcd: 'Running' }));
  f.nodes['10.10.1.50'] = { name: 'gpu-1', role: 'worker', pool: 'gpu', os };
  const pools = [['general-amd64', 20], ['general-arm64', 30]] as const;
  for (const [pool, base] of pools) {
    for (let i = 0; i < 2; i++) {
      const old = `i-old-${pool}-${i}`;
      f.instances[old] = { group: `pools-${pool}`, ip: `10.10.1.${base + i}`, state: 'InService', old: true };
      f.nodes[`10.10.1.${base + i}`] = { name: old, role: 'worker', pool, os, instance: old };
      if (replacements) {
        const id = `i-new-${pool}-${i}`;
        f.instances[id] = { group: `pools-${pool}`, ip: `10.10.1.${base + 5 + i}`, state: 'Pending:Wait' };
        f.nodes[`10.10.1.${base + 5 + i}`] = { name: id, role: 'worker', pool, os: `Talos (${NEW})`, instance: id, maintenance: true };
      }
    }
  }
  return f;
}

describe(`${ENV}: a Talos version bump with auto-scaled pools, in motion`, () => {
  let dir: string;
  let repo: string;
  let home: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'odp-talos-motion-'));
    repo = join(dir, 'repo');
    home = join(dir, 'home');
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    for (const c of ['talosctl', 'kubectl', 'aws', 'npm', 'sleep']) symlinkSync(join(ROOT, 'test', 'support', 'talos-fleet.mjs'), join(bin, c));
    const { files } = rendered();
    mkdirSync(join(repo, 'rendered', ENV, 'aws'), { recursive: true });
    // A probe after the shebang logs each run of talos-join.sh (with its arguments) with the stubs' calls.
    writeFileSync(join(repo, 'rendered', ENV, 'aws', 'talos-join.sh'), files.get('aws/talos-join.sh')!.replace('\n', '\necho "talos-join.sh $*" >>"$FLEET/calls.log"\n'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const setFleet = (f: Fleet) => writeFileSync(join(dir, 'fleet.json'), JSON.stringify(f));
  const state = (): Fleet => JSON.parse(readFileSync(join(dir, 'fleet.json'), 'utf8'));
  const calls = () => readFileSync(join(dir, 'calls.log'), 'utf8').trim().split('\n');
  const run = (script: string, env: Record<string, string> = {}) => {
    const r = spawnSync('sh', ['-c', script], {
      cwd: repo,
      encoding: 'utf8',
      env: { PATH: `${join(dir, 'bin')}:${process.env.PATH}`, HOME: home, FLEET: dir, ODP_POLL: '0', ODP_TRIES: '5', ...env },
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('the bump changes the install image of every config and the AMI parameter of both pools (a new launch template: a refresh)', () => {
    const before = prepared((t) => t.replace(`talosVersion: ${NEW}`, `talosVersion: ${OLD}`));
    expect(before.prepared).toBeDefined();
    // No AMI of the old version in the fixtures' lock: the nodes stack is not deployable, said at synth (a warning).
    expect(formatted(before).filter((d) => d.includes(`no AMI for node class`)).length).toBe(3);
    const { files } = rendered();
    const nodes = parseYamlStream(files.get('aws/nodes.yaml')!)[0] as Doc;
    for (const pool of ['GeneralAmd64', 'GeneralArm64']) {
      expect(nodes.Resources[`Pool${pool}Group`].UpdatePolicy.AutoScalingInstanceRefresh.Preferences).toMatchObject({ MinHealthyPercentage: 100, MaxHealthyPercentage: 150 });
      expect(nodes.Resources[`Pool${pool}Group`].Properties.LifecycleHookSpecificationList[0]).toMatchObject({ LifecycleHookName: 'talos-apply', DefaultResult: 'ABANDON' });
    }
    expect(nodes.Parameters.ImageAmd64.Description).toContain(`/odp/images/talos/${NEW}/amd64/`);
    expect(files.get('talos/general-arm64.yaml')).toContain(`:${NEW}`);
    // The README says the order: AMIs locked before the merge, the script right after it, pools never upgraded in place.
    const readme = files.get('README.md')!;
    const section = readme.slice(readme.indexOf('### Upgrading Talos'), readme.indexOf('### Upgrading Kubernetes'));
    expect(section).toContain('Before the merge, register the new version\'s AMIs and lock them');
    expect(section).toContain('the pools are never upgraded in place');
    expect(section).not.toMatch(/kubectl get nodes -l node\.opendev\.dev\/pool=general-(amd|arm)64[^\n]*talosctl upgrade/);
    expect(section).toContain(`sh rendered/${ENV}/aws/talos-join.sh general-arm64`);
  });

  it('after the merge: control planes one at a time, the fixed GPU node in place, the pools only through the refresh (joined, never upgraded in place)', () => {
    setFleet(fleet(true));
    const r = run(runbookScript(rendered().model, 'upgrade'));
    expect(r.stderr).toContain(`odp-talos-upgrade: every node of ${ENV} upgraded`);
    expect(r.code).toBe(0);
    const f = state();
    // In place: the control planes, one at a time (etcd healthy on the others), then the fixed worker. No pool instance.
    expect(f.events!.filter((e) => e.startsWith('upgrade '))).toStrictEqual(['upgrade cp-1', 'upgrade cp-2', 'upgrade cp-3', 'upgrade gpu-1']);
    expect(f.unsafe).toBeUndefined();
    // The replacements joined after every fixed node was upgraded; each InService let one old instance go.
    const events = f.events!;
    expect(events.findIndex((e) => e.startsWith('join '))).toBeGreaterThan(events.indexOf('upgrade gpu-1'));
    expect(Object.entries(f.instances).filter(([, i]) => i.state === 'Terminated').map(([k]) => k).sort()).toStrictEqual(['i-old-general-amd64-0', 'i-old-general-amd64-1', 'i-old-general-arm64-0', 'i-old-general-arm64-1']);
    expect(Object.entries(f.instances).filter(([, i]) => i.state === 'InService').map(([k]) => k).sort()).toStrictEqual(['i-new-general-amd64-0', 'i-new-general-amd64-1', 'i-new-general-arm64-0', 'i-new-general-arm64-1']);
    expect(f.terminatedWhileRebooting).toBeUndefined();
    // Every Node runs the new version; each replacement got its own pool's config.
    expect(Object.values(f.nodes).every((n) => n.os === `Talos (${NEW})`)).toBe(true);
    expect(f.nodes['10.10.1.35']!.config).toBe(`config of general-arm64 (${NEW})\n`);
    expect(calls().filter((c) => c.startsWith('talosctl upgrade')).every((c) => /--nodes 10\.10\.1\.(10|11|12|50) /.test(c))).toBe(true);
  });

  it('run again (after a failure, or once done): the setup writes its talosconfig anew (gen config --force), and nothing is upgraded twice', () => {
    setFleet(fleet(true));
    const script = runbookScript(rendered().model, 'upgrade');
    expect(run(script).code).toBe(0);
    const upgrades = state().events!.filter((e) => e.startsWith('upgrade ')).length;
    // The talosconfig of the first run (or of the README's bootstrap) is there now: talosctl refuses it without --force.
    const again = run(script);
    expect(again.stderr).not.toContain('already exists');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain("control plane cp-1 already runs");
    expect(state().events!.filter((e) => e.startsWith('upgrade ')).length).toBe(upgrades);
    // The apply script starts with the same setup.
    const apply = run(runbookScript(rendered().model, 'apply'));
    expect(apply.stderr).not.toContain('already exists');
    expect(apply.code, apply.stderr).toBe(0);
  }, 180_000);

  // refresh_pool (talos/runbook.ts poolUpgradeLines) runs talos-join.sh once when a pool's refresh starts, then
  // again only when a poll finds replacements waiting under the launch hook: each run materializes the pool's config.
  const configs = (pool: string) => calls().filter((c) => c.startsWith(`npm run --silent talos -- config --env ${ENV} --node ${pool} `)).length;
  const joins = () => calls().filter((c) => c.startsWith('talos-join.sh ')).map((c) => c.slice('talos-join.sh '.length));
  it('a replacement still booting at the first look: the pool is joined again once it waits, not at every poll', () => {
    const f0 = fleet(true);
    Object.assign(f0.instances['i-new-general-amd64-1']!, { state: 'Pending', bootsAfter: 3 });
    setFleet(f0);
    const r = run(runbookScript(rendered().model, 'upgrade'));
    expect(r.code, r.stderr).toBe(0);
    const f = state();
    expect(Object.values(f.nodes).every((n) => n.os === `Talos (${NEW})`)).toBe(true);
    const events = f.events!.filter((e) => /i-new-general-amd64/.test(e));
    expect(events).toStrictEqual(['join i-new-general-amd64-0', 'inservice i-new-general-amd64-0', 'waiting i-new-general-amd64-1', 'join i-new-general-amd64-1', 'inservice i-new-general-amd64-1']);
    // Three polls saw old Nodes, the third one finding the booted replacement: two joins, two materializations.
    expect(joins()).toStrictEqual(['general-amd64', 'general-amd64 waiting', 'general-amd64 waiting', 'general-amd64 waiting', 'general-amd64', 'general-arm64']);
    expect(configs('general-amd64')).toBe(2);
    expect(configs('general-arm64')).toBe(1);
  });

  // A pool of two rolled one instance at a time: the second replacement launches once the first retired an old one.
  const ONE_AT_A_TIME = ['join i-new-general-amd64-0', 'inservice i-new-general-amd64-0', 'terminate i-old-general-amd64-0', 'launch i-new-general-amd64-1', 'waiting i-new-general-amd64-1', 'join i-new-general-amd64-1', 'inservice i-new-general-amd64-1', 'terminate i-old-general-amd64-1'];
  it('one replacement at a time (150 % for a pool of two): the second launches once the first retired an old instance, and is joined at a later poll', () => {
    const f0 = fleet(true);
    for (const pool of ['general-amd64', 'general-arm64']) f0.instances[`i-new-${pool}-1`]!.state = 'Unlaunched';
    setFleet(f0);
    const r = run(runbookScript(rendered().model, 'upgrade'));
    expect(r.code, r.stderr).toBe(0);
    const f = state();
    expect(Object.values(f.nodes).every((n) => n.os === `Talos (${NEW})`)).toBe(true);
    expect(f.events!.filter((e) => /general-amd64/.test(e))).toStrictEqual(ONE_AT_A_TIME);
    expect(Object.entries(f.instances).filter(([, i]) => i.state === 'InService').map(([k]) => k).sort()).toStrictEqual(['i-new-general-amd64-0', 'i-new-general-amd64-1', 'i-new-general-arm64-0', 'i-new-general-arm64-1']);
  });

  it('talos-join.sh POOL follow joins each replacement of the one-at-a-time refresh as it appears, until the refresh has ended; without it, only the waiting one', () => {
    const f0 = fleet(true);
    f0.instances['i-new-general-amd64-1']!.state = 'Unlaunched';
    setFleet(f0);
    mkdirSync(join(home, '.odp', ENV), { recursive: true });
    writeFileSync(join(home, '.odp', ENV, 'talosconfig'), 'talosconfig\n');
    const once = run(`sh rendered/${ENV}/aws/talos-join.sh general-amd64`);
    expect(once.code, once.stderr).toBe(0);
    expect(state().instances['i-new-general-amd64-1']!.state).toBe('Pending');
    setFleet(f0);
    const r = run(`sh rendered/${ENV}/aws/talos-join.sh general-amd64 follow`);
    expect(r.code, r.stderr).toBe(0);
    expect(state().events!.filter((e) => /general-amd64/.test(e))).toStrictEqual(ONE_AT_A_TIME);
    expect(r.stdout).toContain('talos-join: general-amd64: the instance refresh of pools-general-amd64 has ended: Successful');
  });

  it('talos-join.sh POOL waiting prints the ids waiting under the hook and changes nothing (no talosconfig needed)', () => {
    setFleet(fleet(true));
    const r = run(`sh rendered/${ENV}/aws/talos-join.sh general-arm64 waiting`);
    expect([r.code, r.stdout, r.stderr]).toStrictEqual([0, 'i-new-general-arm64-0 i-new-general-arm64-1\n', '']);
    expect(calls()).toStrictEqual(['talos-join.sh general-arm64 waiting', `aws autoscaling describe-auto-scaling-instances --region eu-west-1 --query AutoScalingInstances[?AutoScalingGroupName=='pools-general-arm64' && LifecycleState=='Pending:Wait'].InstanceId --output text`]);
    const none = run(`sh rendered/${ENV}/aws/talos-join.sh general-arm64 nope`);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('[waiting|follow]');
  });

  it('before the nodes stack update (the refresh not started: no AMI locked, or not merged yet): nothing upgraded in place, the script stops naming the pool', () => {
    setFleet(fleet(false));
    const r = run(runbookScript(rendered().model, 'upgrade'), { ODP_POOL_TRIES: '2' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`odp-talos-upgrade: pool general-amd64: Nodes still run another Talos version: has the nodes stack update (with the AMI of ${NEW}) started the instance refresh?`);
    const f = state();
    expect(f.events!.filter((e) => e.startsWith('upgrade '))).toStrictEqual(['upgrade cp-1', 'upgrade cp-2', 'upgrade cp-3', 'upgrade gpu-1']);
    expect(Object.values(f.instances).every((i) => i.state === 'InService')).toBe(true);
    // Nothing ever waited: talos-join.sh ran once (it materializes nothing then), the polls only listed the group.
    expect(joins()).toStrictEqual(['general-amd64', 'general-amd64 waiting']); // ODP_POOL_TRIES=2: two polls
    expect(configs('general-amd64')).toBe(0);
  });

  it('a replacement that cannot join: the script stops, the old instances keep serving (the refresh retires none)', () => {
    const f0 = fleet(true);
    f0.instances['i-new-general-amd64-0']!.ip = 'None'; // no private address (EC2 answers None)
    setFleet(f0);
    const r = run(runbookScript(rendered().model, 'upgrade'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('talos-join: general-amd64 i-new-general-amd64-0: no private IPv4 address (None)');
    expect(r.stderr).toContain('odp-talos-upgrade: pool general-amd64: the instances named above did not join; fix them, then run this script again');
    const f = state();
    expect(f.instances['i-new-general-amd64-0']!.state).toBe('Pending:Wait');
    // One replacement joined and let one old instance go; the other old one still serves.
    expect(Object.values(f.instances).filter((i) => i.group === 'pools-general-amd64' && i.state === 'InService').length).toBe(2);
    // Fixed (the instance has its address now), the script again: the nodes already at the version are not upgraded again.
    f.instances['i-new-general-amd64-0']!.ip = '10.10.1.25';
    setFleet(f);
    const again = run(runbookScript(rendered().model, 'upgrade'));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`odp-talos-upgrade: control plane cp-1 already runs Talos ${NEW}`);
    expect(state().events!.filter((e) => e.startsWith('upgrade '))).toStrictEqual(['upgrade cp-1', 'upgrade cp-2', 'upgrade cp-3', 'upgrade gpu-1']);
    expect(Object.values(state().nodes).every((n) => n.os === `Talos (${NEW})`)).toBe(true);
  }, 180_000);

  // The upgrade script's config push (runbook.ts APPLY_NODE): with `--mode auto` to every node at once, a config that
  // also changed a field Talos cannot apply live rebooted cp-1, cp-2 and cp-3 within seconds of each other.
  it('upgrade with a config that also needs a reboot: each node upgraded, then its new config staged and the node rebooted alone (talosctl reboot waits), gated', () => {
    setFleet({ ...fleet(true), rebootOnApply: true });
    const r = run(runbookScript(rendered().model, 'upgrade'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('odp-talos-upgrade: 10.10.1.10: its config cannot be applied live (talosctl said why above): drained, staged, then rebooted (talosctl reboot waits until it is back)');
    const f = state();
    expect(f.unsafe).toBeUndefined();
    expect(f.events!.filter((e) => /^(reboot|upgrade) (cp|gpu)/.test(e))).toStrictEqual(['upgrade cp-1', 'reboot cp-1', 'upgrade cp-2', 'reboot cp-2', 'upgrade cp-3', 'reboot cp-3', 'upgrade gpu-1', 'reboot gpu-1']);
    expect(f.nodes['10.10.1.11']!.config).toBe(`config of cp-2 (${NEW})\n`);
    expect(Object.values(f.nodes).every((n) => n.os === `Talos (${NEW})` && !n.down)).toBe(true);
  });

  it('a control plane that does not come back from its upgrade: the gate gives up and the script stops; no other node is upgraded', () => {
    setFleet({ ...fleet(true), neverBack: ['cp-1'] });
    const r = run(runbookScript(rendered().model, 'upgrade'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('odp-talos-upgrade: gave up waiting: talosctl etcd members --nodes 10.10.1.10');
    const f = state();
    expect(f.events!.filter((e) => e.startsWith('upgrade ') || e.startsWith('join '))).toStrictEqual(['upgrade cp-1']);
    expect(f.unsafe).toBeUndefined();
  });

  // A Talos version change: the old machined parses an applied config strictly and refuses one rendered for a newer
  // minor (1.13's flannel kubeNetworkPoliciesEnabled here: release.ts TALOS_UPGRADE_ORDER). The script pushed every new
  // config before upgrading anything: on a 1.12 cluster it stopped at the first node, and nothing was ever upgraded.
  it('1.12 → 1.13: each fixed node upgraded first with the config it runs, then given the 1.13 config; none sent to a node still on 1.12', () => {
    const f0 = fleet(true);
    for (const n of Object.values(f0.nodes)) if (!n.maintenance) n.os = 'Talos (v1.12.11)';
    setFleet(f0);
    const { model, files } = rendered();
    // The premise: the 1.13 configs carry a field 1.12 does not know.
    expect(files.get('talos/cp-1.yaml')).toContain('kubeNetworkPoliciesEnabled: true');
    const r = run(runbookScript(model, 'upgrade'));
    expect(r.code, r.stderr).toBe(0);
    const f = state();
    expect(f.refusedConfigs).toBeUndefined();
    const order = calls().filter((c) => /^talosctl (upgrade|apply-config) --nodes 10\.10\.1\.(10|11|12|50) /.test(c)).map((c) => c.split(' ').slice(1, 4).join(' '));
    expect(order).toStrictEqual(['10', '11', '12', '50'].flatMap((n) => [`upgrade --nodes 10.10.1.${n}`, `apply-config --nodes 10.10.1.${n}`]));
    for (const [ip, name] of [['10.10.1.10', 'cp-1'], ['10.10.1.50', 'gpu-1']] as const) expect(f.nodes[ip]!.config).toBe(`config of ${name} (${NEW})\n`);
    expect(Object.values(f.nodes).every((n) => n.os === `Talos (${NEW})`)).toBe(true);
  });

  // The apply script asks each node's running Talos (talosctl version) before it pushes a config: one for a newer minor
  // than the node runs is never sent (release.ts talosContract, TALOS_UPGRADE_ORDER); before, it was sent and refused.
  it('the apply script run before the upgrade (1.13 configs, 1.12 nodes): refused before any config is sent, naming the upgrade command', () => {
    const f0 = fleet(false);
    for (const n of Object.values(f0.nodes)) n.os = 'Talos (v1.12.11)';
    setFleet(f0);
    const r = run(runbookScript(rendered().model, 'apply'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`odp-talos-apply: cp-1 (10.10.1.10): it runs Talos v1.12.11, older than its config (rendered for Talos ${NEW}, which an older Talos refuses as a whole): nothing applied. Upgrade it first: npm run -s talos -- commands --env ${ENV} upgrade | sh`);
    expect(calls().filter((c) => c.startsWith('talosctl apply-config'))).toStrictEqual([]);
    expect(state().refusedConfigs).toBeUndefined();
    expect(Object.values(state().nodes).every((n) => n.config === undefined)).toBe(true);
  });

  it('the apply script on nodes that already run the config\'s minor, or a newer one: applied (a newer Talos reads an older config)', () => {
    const f0 = fleet(false);
    f0.nodes['10.10.1.50']!.os = 'Talos (v1.14.0)';
    setFleet(f0);
    const r = run(runbookScript(rendered().model, 'apply'));
    expect(r.code, r.stderr).toBe(0);
    expect(state().nodes['10.10.1.50']!.config).toBe(`config of gpu-1 (${NEW})\n`);
    expect(state().nodes['10.10.1.10']!.config).toBe(`config of cp-1 (${NEW})\n`);
  });

  // talosctl upgrade drains the node itself. On a node running 1.12 (the legacy upgrade API) Talos' drain gives up after
  // 5 minutes and the upgrade reboots the node through the budget; on 1.13 talosctl's drain fails and leaves the node
  // cordoned with the new image installed (release.ts upgradeDrainOnBudget). The script drains first with kubectl.
  it.each([
    ['v1.12.10', 'v1.12.11'],
    ['v1.13.8', 'v1.13.9'],
  ])('upgrade from %s: a budget that allows no eviction on the GPU node stops the script before its upgrade; the node uncordoned, not rebooted', (from, to) => {
    const f0 = withPods(fleet(true), 2);
    for (const n of Object.values(f0.nodes)) if (!n.maintenance) n.os = `Talos (${from})`;
    setFleet({ ...f0, version: to });
    const r = run(runbookScript(rendered((t) => t.replace(`talosVersion: ${NEW}`, `talosVersion: ${to}`)).model, 'upgrade'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('odp-talos-upgrade: 10.10.1.50 (gpu-1): not drained within 5m: a PodDisruptionBudget allows no eviction of a pod kubectl named above (kubectl get pdb -A: ALLOWED DISRUPTIONS 0), or a pod did not stop in time. The node is uncordoned, not upgraded.');
    const f = state();
    expect(f.upgradedThroughBudget).toBeUndefined();
    expect(f.rebootedWithPods).toBeUndefined();
    expect(f.events!.filter((e) => e.startsWith('upgrade '))).toStrictEqual(['upgrade cp-1', 'upgrade cp-2', 'upgrade cp-3']);
    expect(f.nodes['10.10.1.50']).toMatchObject({ os: `Talos (${from})` });
    expect(f.nodes['10.10.1.50']!.cordoned).toBeUndefined();
    expect(f.nodes['10.10.1.50']!.nextOs).toBeUndefined();
    expect(f.pods!.filter((p) => p.app === 'web').map((p) => p.node).sort()).toStrictEqual(['gpu-1', 'i-old-general-amd64-0']);
    // Every node it upgraded was drained first and uncordoned once back.
    expect(calls().filter((c) => c.startsWith('kubectl drain ')).map((c) => c.split(' ')[2])).toStrictEqual(['cp-1', 'cp-2', 'cp-3', 'gpu-1']);
    expect(Object.values(f.nodes).some((n) => n.cordoned)).toBe(false);
  });

  // A talosctl upgrade that fails: the script asks the node where it was left (release.ts TALOS_UPGRADE_FAILURE) and says
  // the next step; before, set -e stopped it with the node cordoned by its drain and nothing said.
  it.each([
    ['1.13, the image not pulled', OLD, 'pull', 'not upgraded: its image was not installed (talosctl said why above). It runs v1.13.8, uncordoned. Next: fix the cause, then run this script again (safe: nothing changed on the node)', false],
    ['1.13, the installer failing', OLD, 'install', 'not upgraded: its image was not installed (talosctl said why above). It runs v1.13.8, uncordoned.', false],
    ['1.12, the request refused (image validation)', 'v1.12.11', 'pull', 'not upgraded: its image was not installed (talosctl said why above). It runs v1.12.11, uncordoned.', false],
    ['1.12, the Upgrade sequence failing part way', 'v1.12.11', 'sequence', 'its upgrade sequence stopped part way (talosctl said why above; machine stage rebooting, Talos v1.12.11): its pods and services are stopped, and only a reboot brings it back. Its Node cp-1 stays cordoned. Next: talosctl reboot --nodes 10.10.1.10 (it boots v1.12.11, or v1.13.9 if its install was done), then kubectl uncordon cp-1, then run this script again', true],
    ['1.13, the node not back from the reboot', OLD, 'gone', 'talosctl upgrade failed (said above) and its Talos API does not answer now: it is rebooting (into Talos v1.13.9 if its install was done) or down. Its Node cp-1 stays cordoned. Next: once it answers, kubectl uncordon cp-1, then run this script again', true],
  ] as const)('a failed talosctl upgrade (%s): the script stops, the node named with where it was left and the next step; cordoned only when said', (_what, from, failure, message, cordoned) => {
    const f0 = fleet(false);
    for (const n of Object.values(f0.nodes)) n.os = `Talos (${from})`;
    setFleet({ ...f0, upgradeFailure: { 'cp-1': failure } });
    const r = run(runbookScript(rendered().model, 'upgrade'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`odp-talos-upgrade: control plane cp-1 (10.10.1.10): ${message}`);
    const f = state();
    expect(Boolean(f.nodes['10.10.1.10']!.cordoned)).toBe(cordoned);
    // Nothing else changed: no other node drained or upgraded, no config applied.
    expect(calls().filter((c) => c.startsWith('kubectl drain ')).map((c) => c.split(' ')[2])).toStrictEqual(['cp-1']);
    expect(calls().filter((c) => c.startsWith('talosctl upgrade ')).length).toBe(1);
    expect(calls().some((c) => /^talosctl apply-config --nodes \S+ --file \S+ --mode/.test(c))).toBe(false);
    expect(Object.values(f.nodes).filter((n) => n.name !== 'cp-1').every((n) => !n.cordoned)).toBe(true);
  });

  it("a failed talosctl upgrade after the node booted the new version (talosctl's reboot wait gave up): uncordoned, gated, and the run goes on", () => {
    setFleet({ ...fleet(true), upgradeFailure: { 'cp-1': 'back' } });
    const r = run(runbookScript(rendered().model, 'upgrade'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`odp-talos-upgrade: control plane cp-1 (10.10.1.10): talosctl upgrade failed (said above) after the node booted Talos ${NEW}: it runs it; uncordoned, then gated`);
    const f = state();
    expect(Object.values(f.nodes).filter((n) => !n.instance).every((n) => n.os === `Talos (${NEW})` && !n.cordoned)).toBe(true);
    expect(f.unsafe).toBeUndefined();
  });

  // 1.13: talosctl installs the image, then drains; a pod scheduled on the node after the script's own drain (its
  // nodeName set) under a budget fails that drain: the node is left cordoned with the new image installed, not booted.
  it('1.13, talosctl\'s own drain failing on a pod scheduled after the script\'s drain: uncordoned, the installed image named with a drained reboot as the next step; following it, then running again, finishes the upgrade', () => {
    const f0 = fleet(true);
    setFleet({ ...f0, pods: [{ ns: 'batch', name: 'job-0', node: 'gpu-1', app: 'job', lateOn: 'cp-1' }], pdbs: [{ ns: 'batch', name: 'job', app: 'job', minAvailable: 1 }] });
    const { model } = rendered();
    const r = run(runbookScript(model, 'upgrade'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('10.10.1.10: upgrade completed');
    expect(r.stderr).toContain('error draining node "cp-1"');
    const next = `kubectl drain cp-1 --ignore-daemonsets --delete-emptydir-data --timeout=5m && talosctl reboot --nodes 10.10.1.10 && kubectl uncordon cp-1`;
    expect(r.stderr).toContain(`odp-talos-upgrade: control plane cp-1 (10.10.1.10): Talos ${NEW} is installed but not booted: talosctl's own drain or its reboot failed after the install (said above). The node runs ${OLD} again, uncordoned; its next reboot, any one, boots ${NEW} with the config it runs. Next: give the pod talosctl could not evict room, then reboot it drained: ${next}; then run this script again`);
    let f = state();
    expect(f.nodes['10.10.1.10']).toMatchObject({ os: `Talos (${OLD})`, nextOs: `Talos (${NEW})` });
    expect(f.nodes['10.10.1.10']!.cordoned).toBeUndefined();
    expect(calls().filter((c) => c.startsWith('talosctl upgrade ')).length).toBe(1);
    // The next step as said: the pod given room (its budget gone), the drained reboot boots the installed image.
    setFleet({ ...f, pdbs: [] });
    const step = run(`export TALOSCONFIG=${home}/.odp/${ENV}/talosconfig KUBECONFIG=${home}/.odp/${ENV}/kubeconfig; ${next}`);
    expect(step.code, step.stderr).toBe(0);
    const back = state();
    expect(back.nodes['10.10.1.10']!.os).toBe(`Talos (${NEW})`);
    // talosctl reboot returned once the node booted again; its etcd rejoins (the stub counts that down to the next ask).
    Object.assign(back.nodes['10.10.1.10']!, { down: 0, etcd: 'Running' });
    setFleet(back);
    const again = run(runbookScript(model, 'upgrade'));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`odp-talos-upgrade: control plane cp-1 already runs Talos ${NEW}`);
    f = state();
    expect(calls().filter((c) => c.startsWith('talosctl upgrade --nodes 10.10.1.10 ')).length).toBe(1);
    expect(Object.values(f.nodes).filter((n) => !n.instance).every((n) => n.os === `Talos (${NEW})` && !n.cordoned)).toBe(true);
  });

  it('the etcd snapshot with no control plane whose etcd is healthy: said, then through the first that answers (which says why it fails)', () => {
    const f0 = fleet(false);
    for (const ip of ['10.10.1.10', '10.10.1.11', '10.10.1.12']) Object.assign(f0.nodes[ip]!, { etcdCutOff: true });
    setFleet(f0);
    const readme = rendered().files.get('README.md')!;
    const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
    const setup = blocks.find((b) => b.startsWith('# Talos client configuration\n'))!;
    const snapshot = blocks.find((b) => b.startsWith('# etcd snapshot\n'))!;
    const r = run(['set -e', setup, snapshot].join('\n'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no control plane has a healthy etcd: through the first one that answers');
    expect(r.stderr).toContain('etcdserver: no leader');
    expect(calls().filter((c) => c.startsWith('talosctl etcd snapshot ')).map((c) => c.split(' ').at(-1))).toStrictEqual(['10.10.1.10']);
  });

  // With `--mode auto` the apply returned with the reboot only scheduled; the gate passed on the node still up (etcd
  // answers while the kubelet shuts down and the pods stop), and the next control plane went down with it.
  it('apply with a config that needs a reboot: one node at a time, each back (talosctl reboot waits) and gated before the next', () => {
    setFleet({ ...fleet(false), rebootOnApply: true });
    const r = run(runbookScript(rendered().model, 'apply'));
    expect(r.code, r.stderr).toBe(0);
    const f = state();
    expect(f.unsafe).toBeUndefined();
    expect(f.events!.filter((e) => e.startsWith('reboot '))).toStrictEqual(['reboot cp-1', 'reboot cp-2', 'reboot cp-3', 'reboot i-old-general-amd64-0', 'reboot i-old-general-amd64-1', 'reboot i-old-general-arm64-0', 'reboot i-old-general-arm64-1', 'reboot gpu-1']);
  });

  /** A Deployment `web` (two replicas, on the amd64 pool and the GPU node) under a budget, and node-exporter on every node. */
  const withPods = (f: Fleet, minAvailable: number): Fleet => ({
    ...f,
    pods: [
      { ns: 'shop', name: 'web-0', node: 'i-old-general-amd64-0', app: 'web' },
      { ns: 'shop', name: 'web-1', node: 'gpu-1', app: 'web' },
      ...Object.values(f.nodes).filter((n) => !n.maintenance).map((n) => ({ ns: 'monitoring', name: `node-exporter-${n.name}`, node: n.name, daemonSet: true })),
    ],
    pdbs: [{ ns: 'shop', name: 'web', app: 'web', minAvailable }],
  });

  // A Talos reboot stops the pods without evicting them (no drain in the Reboot sequence; talosctl reboot does not drain
  // by default): every replica on the node went down at once, whatever its PodDisruptionBudget said.
  it("apply with a reboot: each node drained first (evictions as the budgets allow), then uncordoned once it is back", () => {
    setFleet(withPods({ ...fleet(false), rebootOnApply: true }, 1));
    const r = run(runbookScript(rendered().model, 'apply'));
    expect(r.code, r.stderr).toBe(0);
    const f = state();
    expect(f.rebootedWithPods).toBeUndefined();
    expect(calls()).toContain('kubectl drain i-old-general-amd64-0 --ignore-daemonsets --delete-emptydir-data --timeout=5m');
    expect(Object.values(f.nodes).some((n) => (n as { cordoned?: boolean }).cordoned)).toBe(false);
    expect(f.events!.filter((e) => e.startsWith('reboot '))).toStrictEqual(['reboot cp-1', 'reboot cp-2', 'reboot cp-3', 'reboot i-old-general-amd64-0', 'reboot i-old-general-amd64-1', 'reboot i-old-general-arm64-0', 'reboot i-old-general-arm64-1', 'reboot gpu-1']);
    // The replicas were evicted one node at a time and run elsewhere: both still exist.
    expect(f.pods!.filter((p) => p.app === 'web').length).toBe(2);
  });

  // lib/node-drain.ts row reboot: a bare pod's object survives a reboot (the kubelet runs it again), and drain --force
  // would delete it for good: the drain stops at it, the script naming it and its delete command.
  it("apply with a reboot: a pod no controller re-creates on the GPU node stops the script there; the node uncordoned, neither staged nor rebooted, the pod kept", () => {
    setFleet({ ...fleet(false), rebootOnApply: true, pods: [{ ns: 'debug', name: 'shell', node: 'gpu-1', bare: true }] });
    const r = run(runbookScript(rendered().model, 'apply'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "odp-talos-apply: 10.10.1.50 (gpu-1): not drained: pods that no controller re-creates run on it (debug/shell). A drain would delete them for good (kubectl refuses without --force), and a reboot alone keeps them (their objects stay bound to the Node; an upgrade's own drain would delete them too). The node is uncordoned, its config neither staged nor rebooted. Delete each that may go (kubectl delete pod -n debug shell), or run it under a controller (a Deployment), then run this again",
    );
    const f = state();
    expect(f.pods).toStrictEqual([{ ns: 'debug', name: 'shell', node: 'gpu-1', bare: true }]);
    expect(f.nodes['10.10.1.50']!.cordoned).toBeUndefined();
    expect(f.events!.filter((e) => e.startsWith('reboot '))).not.toContain('reboot gpu-1');
  });

  it('apply with a reboot: a budget that allows no eviction stops the script within the drain timeout; the node uncordoned, neither staged nor rebooted', () => {
    setFleet(withPods({ ...fleet(false), rebootOnApply: true }, 2));
    const r = run(runbookScript(rendered().model, 'apply'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error when evicting pods/"web-0" -n "shop" (will retry after 5s): Cannot evict pod as it would violate the pod\'s disruption budget.');
    expect(r.stderr).toContain('global timeout reached: 5m0s');
    expect(r.stderr).toContain('odp-talos-apply: 10.10.1.20 (i-old-general-amd64-0): not drained within 5m: a PodDisruptionBudget allows no eviction of a pod kubectl named above');
    const f = state();
    expect(f.rebootedWithPods).toBeUndefined();
    expect(f.events!.filter((e) => e.startsWith('reboot '))).toStrictEqual(['reboot cp-1', 'reboot cp-2', 'reboot cp-3']);
    const n = f.nodes['10.10.1.20'] as Fleet['nodes'][string] & { cordoned?: boolean; staged?: string };
    expect(n.cordoned).toBeUndefined();
    expect(n.staged).toBeUndefined();
    expect(n.config).toBeUndefined();
  });

  it('ODP_DRAIN_TIMEOUT that is not a duration: refused before anything is applied', () => {
    setFleet(fleet(false));
    const r = run(runbookScript(rendered().model, 'apply'), { ODP_DRAIN_TIMEOUT: '5m; reboot' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('odp-talos-apply: ODP_DRAIN_TIMEOUT: a duration such as 5m, 300s or 10m30s (not zero), not 5m; reboot');
    expect(calls().some((c) => c.startsWith('talosctl apply-config'))).toBe(false);
  });

  // talosctl health without node lists expects discovery's members, and an instance the refresh terminated stays one
  // until its affiliate's TTL (30 minutes) expires: the gate after each pool waited that out.
  it("upgrade: the gate after a pool's refresh expects the Nodes the API lists, not the terminated instances discovery still lists", () => {
    setFleet(fleet(true));
    const r = run(runbookScript(rendered().model, 'upgrade'));
    expect(r.code, r.stderr).toBe(0);
    const f = state();
    expect(f.events!.filter((e) => e.startsWith('terminate ')).length).toBe(4);
    expect(f.healthFailures).toBeUndefined();
    expect(calls().filter((c) => c.startsWith('talosctl health')).at(-1)).toBe('talosctl health --wait-timeout 10m --control-plane-nodes 10.10.1.10,10.10.1.11,10.10.1.12 --worker-nodes 10.10.1.50,10.10.1.25,10.10.1.26,10.10.1.35,10.10.1.36 --nodes 10.10.1.10');
  });

  // Every talosctl call goes through the talosconfig's endpoints, every control plane (the setup's `config endpoint`):
  // with the first one down the scripts still reach the cluster. The loop names the node it cannot reach and skips it;
  // the next gate fails (etcd on every control plane) and stops the run before any node is changed or goes down.
  it.each(['upgrade', 'apply'] as const)('%s with the first control plane down: the cluster reached through another, the node named and skipped, the first gate stops the run before any change', (phase) => {
    const f0 = fleet(false);
    Object.assign(f0.nodes['10.10.1.10']!, { unreachable: true, etcd: 'Down' });
    setFleet({ ...withPods(f0, 1), rebootOnApply: true });
    const r = run(runbookScript(rendered().model, phase));
    expect(r.code).toBe(1);
    expect(calls()).toContain('talosctl config endpoint 10.10.1.10 10.10.1.11 10.10.1.12');
    expect(calls()).toContain(`talosctl kubeconfig --merge=false --force ${home}/.odp/${ENV}/kubeconfig --nodes 10.10.1.11`);
    expect(r.stderr).toContain(`odp-talos-${phase}: cp-1 (10.10.1.10): its Talos API does not answer through any control plane: skipped, nothing done to it`);
    expect(r.stderr).toContain(`odp-talos-${phase}: control plane cp-1 (10.10.1.10): its etcd has no leader, or its Talos API does not answer`);
    expect(r.stderr).toContain(`odp-talos-${phase}: not reached, nothing done to them: cp-1; run this script again once they answer`);
    // Gated before cp-2 was touched: nothing applied, drained, rebooted or upgraded.
    expect(calls().some((c) => /^talosctl apply-config --nodes \S+ --file \S+ --mode/.test(c) || c.startsWith('kubectl drain') || c.startsWith('talosctl reboot') || c.startsWith('talosctl upgrade '))).toBe(false);
    expect(state().events ?? []).toStrictEqual([]);
  });

  // etcd_cp: the calls that need etcd go through a control plane whose etcd is Running and healthy, not merely one whose
  // Talos API answers (release.ts TALOS_ETCD_HEALTHY); with none, said, through the first that answers.
  it.each([
    ['down', { unreachable: true }, 'control plane 10.10.1.10: its Talos API does not answer'],
    ['answering but its etcd cut off (no leader)', { etcdCutOff: true }, 'control plane 10.10.1.10: its etcd is not Running and healthy (talosctl service etcd / etcd members --nodes 10.10.1.10)'],
  ] as const)('upgrade-k8s with the first control plane %s: through the next one whose etcd is healthy', (_what, cp1, message) => {
    const f0 = fleet(false);
    Object.assign(f0.nodes['10.10.1.10']!, cp1);
    setFleet({ ...f0, api: '1.34.5' });
    const r = run(runbookScript(rendered().model, 'upgrade-k8s'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(message);
    expect(calls().filter((c) => c.startsWith('talosctl upgrade-k8s'))).toStrictEqual(['talosctl upgrade-k8s --to 1.35.2 --dry-run --nodes 10.10.1.11', 'talosctl upgrade-k8s --to 1.35.2 --nodes 10.10.1.11']);
  });

  it('the talosconfig with the first control plane as its only endpoint, and that one down: talosctl reaches nothing (the stub as talosctl)', () => {
    const f0 = fleet(false);
    Object.assign(f0.nodes['10.10.1.10']!, { unreachable: true });
    setFleet(f0);
    const r = run('talosctl config endpoint 10.10.1.10 && talosctl version --nodes 10.10.1.11');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('connection refused');
    expect(run('talosctl config endpoint 10.10.1.10 10.10.1.11 && talosctl version --nodes 10.10.1.12').code).toBe(0);
  });

  // The README's manual steps, as rendered, with the first control plane down: the setup's talosconfig has every control
  // plane as endpoints and defines any_cp, so each one-node step goes through cp-2 (it named cp-1 before and failed
  // "connection refused"). The per-node health check still fails, as it must: it now says which node is down.
  it("the rendered README's manual steps with the first control plane down: kubeconfig, upgrade-k8s and the etcd snapshot through the next one; a health check names the node that is down", () => {
    const f0 = fleet(false);
    Object.assign(f0.nodes['10.10.1.10']!, { unreachable: true, etcd: 'Down' });
    setFleet({ ...f0, api: '1.34.5' });
    const readme = rendered().files.get('README.md')!;
    const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
    const block = (title: string) => {
      const b = blocks.find((x) => x.startsWith(`# ${title}\n`));
      if (!b) throw new Error(`no README block ${title}`);
      return b;
    };
    const setup = block('Talos client configuration');
    const steps = ['kubeconfig', 'Upgrade Kubernetes', 'etcd snapshot'].map(block);
    expect(steps.join('').match(/--nodes 10\.10\.1\.10/)).toBeNull();
    const r = run(['set -e', setup, ...steps].join('\n'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('control plane 10.10.1.10: its Talos API does not answer');
    const oneNode = calls().filter((c) => /^talosctl (kubeconfig|upgrade-k8s|etcd snapshot) /.test(c));
    expect(oneNode.length).toBe(4);
    expect(oneNode.every((c) => c.endsWith(' --nodes 10.10.1.11'))).toBe(true);
    expect(state().api).toBe('1.35.2');
    const dirOf = join(home, '.odp', ENV);
    expect(readFileSync(join(dirOf, 'kubeconfig'), 'utf8')).toBe('admin kubeconfig of the fleet\n');
    const snapshot = calls().find((c) => c.startsWith('talosctl etcd snapshot '))!.split(' ')[3]!;
    expect(readFileSync(snapshot, 'utf8')).toBe('etcd snapshot of cp-2\n');
    // The fixed worker's upgrade step is the runbook's per-node command (its health check through a control plane that
    // answers, etcd_cp, is the runbook's: the per-node tests run it against the stub), no hand-typed talosctl line.
    expect(block('gpu-1: upgrade Talos').trim()).toBe(`# gpu-1: upgrade Talos\nnpm run -s talos -- commands --env ${ENV} upgrade --node gpu-1 | sh`);
  });

  // kubectl in the apply and upgrade scripts read the shell's KUBECONFIG: another cluster's listed none of the pools'
  // Nodes, and the pools' configs were silently never applied (a kubectl failure inside `for n in $(…)` did not stop it).
  it("apply: the pools' Nodes are asked of this cluster (a fresh kubeconfig through the Talos API), whatever KUBECONFIG the shell had", () => {
    setFleet(fleet(false));
    const other = join(dir, 'other-kubeconfig');
    writeFileSync(other, 'admin kubeconfig of another cluster\n');
    const r = run(runbookScript(rendered().model, 'apply'), { KUBECONFIG: other });
    expect(r.code, r.stderr).toBe(0);
    const f = state();
    for (const pool of ['general-amd64', 'general-arm64']) {
      const nodes = Object.values(f.nodes).filter((n) => n.pool === pool);
      expect(nodes.length).toBe(2);
      expect(nodes.every((n) => n.config === `config of ${pool} (${NEW})\n`)).toBe(true);
    }
    expect(calls()).toContain(`talosctl kubeconfig --merge=false --force ${home}/.odp/${ENV}/kubeconfig --nodes 10.10.1.10`);
  });

  it('apply: kubectl unable to list a pool stops the script (it does not skip the pool)', () => {
    setFleet({ ...fleet(false), apiDown: true });
    const r = run(runbookScript(rendered().model, 'apply'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('The connection to the server api.fixture.internal:6443 was refused');
    const f = state();
    expect(Object.values(f.nodes).filter((n) => n.pool === 'general-amd64').every((n) => n.config === undefined)).toBe(true);
    expect(f.nodes['10.10.1.50']!.config).toBeUndefined();
  });

  // The README's per-node upgrade step is one command, the upgrade script for that node alone (runbook.ts upgradeScript):
  // what the npm stub prints for it is what runbookScript renders (the CLI's output: test/talos-runbook.test.ts).
  const perNode = (name: string) => {
    const { model } = rendered();
    const step = targetSteps(model, model.configTargets.find((t) => t.name === name)!).find((s) => s.title === `${name}: upgrade Talos`)!;
    expect(step.lines).toStrictEqual([`npm run -s talos -- commands --env ${ENV} upgrade --node ${name} | sh`]);
    writeFileSync(join(dir, `commands-upgrade-${name}.sh`), runbookScript(model, 'upgrade', name));
    // After the README's client setup, in the same shell.
    return run(['set -e', ...setupSteps(model)[0]!.lines, ...step.lines].join('\n'));
  };

  it("the README's per-node upgrade step of the fixed GPU worker: gated, drained, upgraded, uncordoned, its new config, gated; no other node touched", () => {
    setFleet(fleet(false));
    const r = perNode('gpu-1');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`odp-talos-upgrade: gpu-1 upgraded to Talos ${NEW}`);
    const f = state();
    expect(f.nodes['10.10.1.50']).toMatchObject({ os: `Talos (${NEW})`, config: `config of gpu-1 (${NEW})\n` });
    expect(f.nodes['10.10.1.50']!.cordoned).toBeUndefined();
    const order = calls().filter((c) => /^(kubectl (drain|uncordon)|talosctl (upgrade|apply-config|health)) /.test(c)).map((c) => c.split(' ').slice(0, 2).join(' '));
    expect(order).toStrictEqual(['talosctl health', 'kubectl drain', 'talosctl upgrade', 'kubectl uncordon', 'talosctl health', 'talosctl apply-config', 'talosctl health']);
    // Through a control plane (a worker serves no health API); the other nodes are neither drained nor upgraded.
    expect(calls().filter((c) => c.startsWith('talosctl health ')).every((c) => c.endsWith('--nodes 10.10.1.10'))).toBe(true);
    expect(Object.values(f.nodes).filter((n) => n.name !== 'gpu-1').every((n) => n.os === `Talos (${OLD})` && !n.cordoned)).toBe(true);
  });

  it.each([
    ['pull', false, "control plane cp-2 (10.10.1.11): not upgraded: its image was not installed (talosctl said why above). It runs v1.13.8, uncordoned. Next: fix the cause, then run this script again (safe: nothing changed on the node)"],
    ['gone', true, `control plane cp-2 (10.10.1.11): talosctl upgrade failed (said above) and its Talos API does not answer now: it is rebooting (into Talos ${NEW} if its install was done) or down. Its Node cp-2 stays cordoned. Next: once it answers, kubectl uncordon cp-2, then run this script again (it skips a node that runs ${NEW})`],
  ] as const)("the README's per-node upgrade step of a control plane whose talosctl upgrade fails (%s): the diagnosis and the exact next step, cordoned only when said", (failure, cordoned, message) => {
    setFleet({ ...fleet(false), upgradeFailure: { 'cp-2': failure } });
    const r = perNode('cp-2');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`odp-talos-upgrade: ${message}`);
    expect(r.stderr).not.toContain('upgraded to Talos');
    const f = state();
    expect(Boolean(f.nodes['10.10.1.11']!.cordoned)).toBe(cordoned);
    expect(calls().filter((c) => c.startsWith('talosctl upgrade ')).map((c) => c.split(' ')[3])).toStrictEqual(['10.10.1.11']);
    expect(calls().some((c) => /^talosctl apply-config --nodes \S+ --file \S+ --mode/.test(c))).toBe(false);
    expect(Object.values(f.nodes).filter((n) => n.name !== 'cp-2').every((n) => n.os === `Talos (${OLD})` && !n.cordoned)).toBe(true);
  });

  it('upgrade-k8s: a dry run, then the upgrade, through the first control plane that answers; talos-join.sh then joins the waiting instances', () => {
    setFleet({ ...fleet(true), api: '1.34.5' });
    const r = run(runbookScript(rendered().model, 'upgrade-k8s'));
    expect(r.code, r.stderr).toBe(0);
    expect(state().events).toStrictEqual(['upgrade-k8s dry-run 1.35.2', 'upgrade-k8s 1.35.2']);
    expect(calls().filter((c) => c.startsWith('talosctl upgrade-k8s'))).toStrictEqual(['talosctl upgrade-k8s --to 1.35.2 --dry-run --nodes 10.10.1.10', 'talosctl upgrade-k8s --to 1.35.2 --nodes 10.10.1.10']);
    mkdirSync(join(home, '.odp', ENV), { recursive: true });
    writeFileSync(join(home, '.odp', ENV, 'talosconfig'), 'talosconfig\n');
    const join2 = run(`sh rendered/${ENV}/aws/talos-join.sh general-arm64`);
    expect(join2.code, join2.stderr).toBe(0);
  });

  it("the README's per-node 'apply a changed config' step: a config that needs a reboot returns only once the node is back", () => {
    setFleet({ ...fleet(false), rebootOnApply: true });
    const { model } = rendered();
    const gpu = model.configTargets.find((t) => t.name === 'gpu-1')!;
    const step = targetSteps(model, gpu).find((s) => s.title === 'gpu-1: apply a changed config')!;
    const r = run(['set -e', ...step.lines].join('\n'));
    expect(r.code, r.stderr).toBe(0);
    const n = state().nodes['10.10.1.50'] as Fleet['nodes'][string] & { rebootIn?: number; staged?: string };
    // Rebooted (staged, then talosctl reboot, which waits); not still about to go down, as after `--mode auto`.
    expect([n.config, n.rebootIn, n.staged]).toStrictEqual([`config of gpu-1 (${NEW})\n`, undefined, undefined]);
    expect(state().events).toStrictEqual(['reboot gpu-1']);
  });

  it.each([
    ['1.34.5', "the API server runs Kubernetes 1.34, the pool's config kubelet 1.35: run the upgrade-k8s script first (npm run -s talos -- commands --env talos-argocd-pools upgrade-k8s | sh); a kubelet newer than the API server breaks the version skew policy"],
    ['1.36.1', "the API server runs Kubernetes 1.36, the pool's config kubelet 1.35: this checkout is behind the cluster; update it"],
  ])('kubernetesVersion merged but upgrade-k8s not run (API server %s): talos-join.sh joins nothing, the instances keep waiting; after it, they join', (api, message) => {
    const f0 = fleet(true);
    f0.api = api;
    setFleet(f0);
    mkdirSync(join(home, '.odp', ENV), { recursive: true });
    writeFileSync(join(home, '.odp', ENV, 'talosconfig'), 'talosconfig\n');
    const r = run(`sh rendered/${ENV}/aws/talos-join.sh general-arm64`);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`talos-join: ${message}`);
    expect(calls().filter((c) => c.startsWith('talosctl') || c.includes('lifecycle-action'))).toStrictEqual([]);
    expect(state().instances['i-new-general-arm64-0']!.state).toBe('Pending:Wait');
    // The cluster at the config's minor (upgrade-k8s ran; or the checkout updated): the same run joins them.
    const f1 = state();
    f1.api = '1.35.2';
    setFleet(f1);
    const again = run(`sh rendered/${ENV}/aws/talos-join.sh general-arm64`);
    expect(again.code, again.stderr).toBe(0);
    expect(state().instances['i-new-general-arm64-0']!.state).toBe('InService');
  });

  // The typical mistakes, in a copy of the fixture: each refused at file:line:col before anything is written.
  it.each([
    [
      'a Talos the pinned Kubernetes is too new for',
      (t: string) => t.replace(`talosVersion: ${NEW}\n  kubernetesVersion: 1.35.2`, 'talosVersion: v1.12.11\n  kubernetesVersion: 1.36.3'),
      `environments/${ENV}.yaml:10:22  cluster.kubernetesVersion: Kubernetes 1.36.3 is not supported by Talos v1.12.11  (Talos 1.12 supports Kubernetes 1.30 to 1.35)`,
    ],
    [
      'a kubernetesVersion two minors ahead',
      (t: string) => t.replace('kubernetesVersion: 1.35.2', 'kubernetesVersion: 1.37.1'),
      `environments/${ENV}.yaml:10:22  cluster.kubernetesVersion: Kubernetes 1.37.1 is not supported by Talos ${NEW}  (Talos 1.13 supports Kubernetes 1.31 to 1.36)`,
    ],
    [
      'a pool without count and without nodes',
      (t: string) => t.replace('    count: 2\n    labels:\n      node.opendev.dev/pool: general-arm64', '    labels:\n      node.opendev.dev/pool: general-arm64'),
      `environments/${ENV}.yaml:29:5  nodePools[2]: pool 'general-arm64' gives neither nodes nor count  (add nodes: [{ name, ip }] or count: N)`,
    ],
    [
      'an arm64 type in an amd64 pool',
      (t: string) => t.replace('instanceType: m7i.xlarge', 'instanceType: m7g.xlarge'),
      `environments/${ENV}.yaml:23:11  nodePools[1].arch: amd64 does not match instance type m7g.xlarge, which is arm64  (m7g.xlarge is a Graviton (arm64) type; set arch: arm64)`,
    ],
  ])('refused: %s', (_title, edit, message) => {
    const r = prepared(edit);
    expect(r.prepared).toBeUndefined();
    const errors = formatted(r).filter((d) => !d.includes(': warning: '));
    expect(errors).toStrictEqual([message]);
  });
});

/**
 * The first sync under Argo CD v3.4.4 of this fixture, with pools joining late (what holds; each rule cited in
 * engines/argocd/motion.ts and checked against argoproj/argo-cd v3.4.4 this session):
 * - a wave's Applications are waited on while Progressing/Missing; Healthy succeeds it, Degraded fails the root's sync
 *   (gitops-engine/pkg/sync/sync_context.go:538-554); the last wave (the root itself, and what needs nothing after it)
 *   is never waited on (:688-697);
 * - an Application's health is the rendered Lua (argo-cd has none built in): Progressing until Synced, Degraded when its
 *   last operation Failed or Errored. A child retrying is still Running (controller/appcontroller.go:1537-1551 sets
 *   Phase Running and RetryCount++), so the root waits for it rather than failing;
 * - retry limit -1 retries a failed sync without end (:1538), each retry with the latest revision when refresh is set
 *   (:1483-1489); selfHeal never re-syncs a revision whose last sync failed (:2253-2257); the 3600 s sync timeout counts
 *   from the operation's StartedAt, retries included (:1460-1465), and a terminated operation is not retried (:1538).
 */
describe(`${ENV}: the first sync under Argo CD with pools joining late`, () => {
  const { model, files } = rendered();
  const report = motionOf(parseRenderedTree(new Map([...files].map(([p, c]) => [`${ENV}/${p}`, c]))), ENV, model)!;
  const lateSync = (pools: string[]) => {
    const early = report.nodes.filter((n) => !pools.includes(n.name));
    const late = report.nodes.filter((n) => pools.includes(n.name));
    const waiting = report.units.filter((u) => u.phases.flat().some((i) => i.pods.some((p) => !schedulable(p, early)))).map((u) => u.id);
    const s = simulate(report.units, report.base, early, new Set(), late);
    return { waiting, failures: [...s.failures], notReady: [...s.state].filter(([, x]) => x !== 'ready') };
  };

  it('every Application (the root included) syncs automatically with selfHeal and retries without limit, with the latest revision', () => {
    // apps/ also holds the root's monitoring objects (a ServiceMonitor, a PrometheusRule: engines/argocd/sync-alerts.ts).
    const objects = [...files].filter(([p]) => /^apps\/[^/]+\.yaml$/.test(p) || p === 'argocd/application-root.yaml').map(([, c]) => parseYamlStream(c)[0] as Doc);
    const apps = objects.filter((o) => o.kind === 'Application');
    expect(apps.length).toBeGreaterThan(10);
    expect(objects.filter((o) => o.kind !== 'Application').map((o) => o.kind).sort()).toStrictEqual(['PrometheusRule', 'ServiceMonitor']);
    for (const a of apps) {
      expect(a.spec.syncPolicy.automated, a.metadata.name).toMatchObject({ selfHeal: true });
      expect(a.spec.syncPolicy.retry, a.metadata.name).toStrictEqual({ limit: -1, refresh: true, backoff: { duration: '10s', factor: 2, maxDuration: '5m' } });
    }
    // The root is in the last wave: never waited on by its own sync.
    const wave = (a: Doc) => Number(a.metadata.annotations['argocd.argoproj.io/sync-wave']);
    expect(wave(apps.find((a) => a.metadata.name === 'root')!)).toBe(Math.max(...objects.map(wave)));
    const values = parseYamlStream(files.get('values/argo-cd.yaml')!)[0] as Doc;
    expect(values.configs.params['controller.sync.timeout.seconds']).toBe('3600');
    expect(values.configs.cm['resource.customizations.health.argoproj.io_Application']).toContain('op.phase == "Failed" or op.phase == "Error"');
  });

  it.each([
    [['gpu'], ['nvidia-device-plugin']],
    [['general-arm64'], []],
    [['general-amd64'], []],
    [['general-amd64', 'general-arm64', 'gpu'], ['argo-cd', 'cert-manager', 'kube-prometheus-stack', 'metrics-server', 'nvidia-device-plugin']],
  ])('%j late: these Applications wait (%j), none fails, every one ends Ready', (pools, waiting) => {
    expect(report.findings.filter((d) => d.severity === 'error')).toStrictEqual([]);
    const r = lateSync(pools);
    expect(r.waiting).toStrictEqual(waiting);
    expect(r.failures).toStrictEqual([]);
    expect(r.notReady).toStrictEqual([]);
  });
});
