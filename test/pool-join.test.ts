/**
 * K3s and RKE2 pool instances leave their launch lifecycle hook themselves
 * (generators/distributions/rancher/pool-join.ts): the rendered pool user data booted on simulated
 * nodes (test/support/node-sandbox.ts) whose aws stub answers CompleteLifecycleAction as EC2 Auto
 * Scaling does (one completion per waiting instance, ValidationError and exit 254 otherwise). A boot
 * that works releases the instance with CONTINUE after the agent's unit started; one that fails
 * sends ABANDON from its EXIT trap and keeps its exit code; a re-run sends nothing. The template
 * holds every pool instance under the hook, and the node role may complete its own groups' actions only. A boot that
 * waits (an RKE2 agent, for the secure agent token) records lifecycle heartbeats (the stub counts them; ValidationError
 * for an instance no longer waiting), so its wait and its bounded start fit the hook's timeout.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { K3S_ARTIFACTS } from '../generators/distributions/k3s/artifacts.js';
import { RKE2_ARTIFACTS } from '../generators/distributions/rke2/artifacts.js';
import { HEARTBEAT_POLLS, POOL_JOIN_HEARTBEAT_SECONDS, POOL_JOIN_HOOK } from '../generators/distributions/rancher/pool-join.js';
import { SERVICE_READY_SECONDS, START_REFUSALS, START_WINDOW_SECONDS } from '../generators/distributions/rancher/boot.js';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { resolveEnvironment } from '../generators/load/loader.js';
import { findSsmReferences, lockFile, placeholderLock, serializeLock } from '../generators/load/ssm-lock.js';
import { fixtureSources, formatted } from './helpers.js';
import { serveRelease } from './support/artifacts.js';
import { K3S_INSTALL_STUB, RKE2_INSTALL_STUB, rke2Tarball } from './support/installers.js';
import { sha256, World } from './support/node-sandbox.js';

const CIS = { 'vm.panic_on_oom': '0', 'vm.overcommit_memory': '1', 'kernel.panic': '10', 'kernel.panic_on_oops': '1' };
const HOST = 'ip-10-10-2-20.eu-west-1.compute.internal';
const ID = 'i-0123456789abcdef0';
type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function rendered(fixture: string, name: string, edit?: (sources: Map<string, string>) => void): Map<string, string> {
  const { sources } = fixtureSources('valid', `${fixture}.yaml`);
  edit?.(sources);
  const r = prepareEnvironment(name, sources);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  return new Map(renderEnvironment(r.prepared).map((f) => [f.path, f.content]));
}

const CASES = [
  {
    title: 'K3s',
    fixture: 'k3s-postgres',
    cluster: 'fixture',
    dir: 'k3s',
    tag: 'odp-k3s-boot',
    unit: 'k3s-agent',
    // A K3s agent waits for nothing before its bounded start: no heartbeats, no grant for them.
    waits: false,
    actions: ['autoscaling:CompleteLifecycleAction'],
    url: 'https://api.fixture.internal:6443',
    tokenParam: '/odp/k3s-postgres/k3s/agent-token',
    // The servers accept another agent token than the one in SSM.
    refuseToken: (world: World) => world.clusterAgentToken('another-agent-secret'),
    // What its journal says then (the agent's 401 on /v1-k3s/config: ../generators/distributions/rancher/boot.ts START_REFUSALS).
    refused: '/config: 401 Unauthorized',
    startUnit: 'k3s-agent',
    setup(world: World): () => void {
      world.ssm('/odp/k3s-postgres/k3s/agent-token', 'agent-secret');
      return serveRelease(world, K3S_ARTIFACTS, 'k3s', 'v1.35.2+k3s1', { 'install.sh': K3S_INSTALL_STUB, amd64: '#!/bin/sh\necho k3s v1.35.2+k3s1\n' });
    },
    tamper: (world: World) => world.serve('https://github.com/k3s-io/k3s/releases/download/v1.35.2%2Bk3s1/k3s', '#!/bin/sh\necho tampered\n'),
  },
  {
    title: 'RKE2',
    fixture: 'rke2-etcd',
    cluster: 'fixture',
    dir: 'rke2',
    tag: 'odp-rke2-boot',
    unit: 'rke2-agent',
    // An RKE2 agent waits for the secure agent token and records heartbeats meanwhile.
    waits: true,
    actions: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'],
    url: 'https://api.fixture.internal:9345',
    tokenParam: '/odp/rke2-etcd/rke2/agent-token',
    // A secure token pinning another cluster's CA.
    refuseToken: (world: World) => world.ssm('/odp/rke2-etcd/rke2/agent-token', `K10${sha256('ca-of-another-cluster\n')}::node:short-agent-token`),
    refused: 'token CA hash does not match the Cluster CA certificate hash',
    startUnit: 'rke2-agent.service',
    setup(world: World): () => void {
      // A running cluster: its first server has published the secure tokens.
      const ca = sha256('ca-of-cluster-1\n');
      world.ssm('/odp/rke2-etcd/rke2/token', `K10${ca}::server:short-server-token`);
      world.ssm('/odp/rke2-etcd/rke2/agent-token', `K10${ca}::node:short-agent-token`);
      world.runScript(`cat > "$WORLD/etcd.json" <<'EOF'\n${JSON.stringify({ clusters: 1, ca: '1', members: [{ name: 'm1', nodeName: 'cp-1', ip: '10.10.1.10' }] })}\nEOF\n`);
      return serveRelease(world, RKE2_ARTIFACTS, 'rke2', 'v1.35.7+rke2r1', { 'install.sh': RKE2_INSTALL_STUB, amd64: rke2Tarball('v1.35.7+rke2r1') });
    },
    tamper: (world: World) => world.serve('https://github.com/rancher/rke2/releases/download/v1.35.7%2Brke2r1/rke2.linux-amd64.tar.gz', 'tampered'),
  },
] as const;

describe.each(CASES)('$title pool instances complete their launch lifecycle hook', (c) => {
  let world: World;
  let restore: () => void;
  let files: Map<string, string>;
  const group = `${c.cluster}-workers`;
  beforeEach(() => {
    world = new World();
    world.sysctlDefaults(CIS);
    restore = c.setup(world);
    files = rendered(c.fixture, c.fixture);
    world.launching(ID, group, POOL_JOIN_HOOK);
  });
  afterEach(() => {
    restore();
    world.cleanup();
  });
  const completions = () => world.calls().filter((x) => x.includes('complete-lifecycle-action'));
  const complete = (result: string) => `${HOST} aws autoscaling complete-lifecycle-action --region eu-west-1 --auto-scaling-group-name ${group} --lifecycle-hook-name ${POOL_JOIN_HOOK} --instance-id ${ID} --lifecycle-action-result ${result}`;

  it('the template holds every pool instance under the hook (ABANDON by default) and the node role completes only its own groups', () => {
    const nodes = parseYamlStream(files.get('aws/nodes.yaml')!)[0] as Doc;
    const asg = nodes.Resources.PoolWorkersGroup as Doc;
    expect(asg.Properties.AutoScalingGroupName).toBe(group);
    // The launch hook, beside the drain's termination hook (infra/aws/drain.ts).
    expect(asg.Properties.LifecycleHookSpecificationList).toStrictEqual([
      { LifecycleHookName: POOL_JOIN_HOOK, LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', HeartbeatTimeout: 1800, DefaultResult: 'ABANDON' },
      { LifecycleHookName: 'node-drain', LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', HeartbeatTimeout: 300, DefaultResult: 'CONTINUE' },
    ]);
    const base = parseYamlStream(files.get('aws/base.yaml')!)[0] as Doc;
    const grants = Object.values(base.Resources as Record<string, Doc>)
      // The pool-join policies (the drain's handler has a CompleteLifecycleAction grant of its own: infra/aws/drain.ts).
      .filter((r) => r.Type === 'AWS::IAM::ManagedPolicy' && String(r.Properties.ManagedPolicyName).endsWith('-pool-join'))
      .flatMap((r) => (r.Properties.PolicyDocument.Statement as Doc[]).filter((st) => st.Action.includes('autoscaling:CompleteLifecycleAction')).map((st) => ({ roles: r.Properties.Roles as unknown[], st })));
    expect(grants.length).toBeGreaterThan(0);
    for (const { st } of grants) {
      expect(st).toMatchObject({ Effect: 'Allow', Action: [...c.actions] });
      expect(st.Condition).toBeUndefined();
      // Named groups of this environment's pools only: never a wildcard group name.
      for (const r of st.Resource as string[]) expect(r).toMatch(new RegExp(`^arn:aws:autoscaling:eu-west-1:\\d{12}:autoScalingGroup:\\*:autoScalingGroupName/${c.cluster}-[a-z0-9-]+$`));
    }
    // The worker role completes its own pool's group, and no group of a pool with another role (rke2-etcd's gpu pool).
    const worker = grants.find((g) => JSON.stringify(g.roles) === JSON.stringify([{ Ref: 'WorkerRole' }]))!;
    expect(worker.st.Resource).toStrictEqual([`arn:aws:autoscaling:eu-west-1:111111111111:autoScalingGroup:*:autoScalingGroupName/${group}`]);
    // Fixed nodes complete nothing: their boot scripts carry no hook.
    expect(files.get(`${c.dir}/userdata/cp-1.yaml`)).not.toContain('complete-lifecycle-action');
  });

  it('a boot that works releases the instance with CONTINUE once the agent started; a re-run (or a reboot) sends nothing', () => {
    const node = world.node(HOST, '10.10.2.20', 'amd64', ID);
    const r = node.boot(files.get(`${c.dir}/userdata/workers.yaml`)!);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`${c.tag}: released from the lifecycle hook ${POOL_JOIN_HOOK}: the instance goes InService`);
    expect(world.lifecycle()[ID]).toMatchObject({ state: 'InService', result: 'CONTINUE' });
    expect(completions()).toStrictEqual([complete('CONTINUE')]);
    // CONTINUE only after the unit started (systemctl start returns after READY=1).
    const calls = world.calls();
    expect(calls.findIndex((x) => x.includes('complete-lifecycle-action'))).toBeGreaterThan(calls.findIndex((x) => new RegExp(`systemctl (enable --now |start )${c.unit}`).test(x)));
    expect(world.nodeState(HOST)).toMatchObject({ unit: c.unit });

    // cloud-init runs the user data once per instance: a reboot runs nothing. A manual re-run of the
    // script: AWS would refuse a second completion (exit 254); the marker keeps the script from sending one.
    const again = node.run(c.dir === 'k3s' ? '/usr/local/sbin/odp-k3s-boot' : '/usr/local/sbin/odp-rke2-boot');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`${c.tag}: this instance already left the lifecycle hook ${POOL_JOIN_HOOK}`);
    expect(completions()).toStrictEqual([complete('CONTINUE')]);
  });

  it('a failed boot (a download without the recorded sha256) sends ABANDON from its exit trap and keeps its exit code', () => {
    c.tamper(world);
    const node = world.node(HOST, '10.10.2.20', 'amd64', ID);
    const r = node.boot(files.get(`${c.dir}/userdata/workers.yaml`)!);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('does not have the recorded sha256');
    expect(r.stderr).toContain(`${c.tag}: boot failed (exit 1): abandoning this instance (lifecycle hook ${POOL_JOIN_HOOK} of ${group})`);
    expect(completions()).toStrictEqual([complete('ABANDON')]);
    expect(world.lifecycle()[ID]).toMatchObject({ state: 'Terminating', result: 'ABANDON' });
    expect(node.exists('/var/lib/odp-gitops/pool-joined')).toBe(false);
  });

  it('a release without a recorded sha256 (its release parameter says unrecorded: refused before anything is installed) is abandoned too', () => {
    restore();
    restore = () => {};
    const unpinned = rendered(c.fixture, c.fixture).get(`${c.dir}/userdata/workers.yaml`)!;
    const r = world.node(HOST, '10.10.2.20', 'amd64', ID).boot(unpinned);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no sha256 is recorded');
    expect(completions()).toStrictEqual([complete('ABANDON')]);
    expect(world.lifecycle()[ID]).toMatchObject({ state: 'Terminating' });
  });

  it('user data carrying an SSM placeholder (npm run new-env) refuses to boot and abandons the instance at once (not after the hook\'s 1800 s)', () => {
    // The endpoint as an SSM reference whose lock holds npm run new-env's placeholder: the agents' server URL carries it.
    const placeholder = rendered(c.fixture, c.fixture, (sources) => {
      const file = `environments/${c.fixture}.yaml`;
      sources.set(file, sources.get(file)!.replace(/^cluster:\n/m, 'cluster:\n  endpoint: { ssm: /odp/fixture/api/endpoint }\n'));
      const { env } = resolveEnvironment(c.fixture, sources);
      sources.set(lockFile(c.fixture), serializeLock(placeholderLock(findSsmReferences(env!.data))));
    }).get(`${c.dir}/userdata/workers.yaml`)!;
    expect(placeholder).toContain('odp-fixture-api-endpoint.odp-placeholder.invalid');
    const r = world.node(HOST, '10.10.2.20', 'amd64', ID).boot(placeholder);
    // The exit code and the message of the refusal (rancher/boot.ts guardPlaceholders), then the trap's ABANDON.
    expect(r.code).toBe(1);
    // The refusal first, unchanged (the agents' port: K3s 6443, RKE2's supervisor 9345), then the trap's line.
    expect(r.stderr.split('\n')[0]).toMatch(/^odp-gitops: refusing to boot: this user data carries SSM placeholders of npm run new-env \(https:\/\/odp-fixture-api-endpoint\.odp-placeholder\.invalid:(6443|9345)\), locked before the AWS account existed\. /);
    expect(r.stderr).toContain(`${c.tag}: boot failed (exit 1): abandoning this instance (lifecycle hook ${POOL_JOIN_HOOK} of ${group})`);
    expect(completions()).toStrictEqual([complete('ABANDON')]);
    expect(world.lifecycle()[ID]).toMatchObject({ state: 'Terminating', result: 'ABANDON' });
    // Nothing else ran: no secret read, no download, no unit.
    expect(world.calls().filter((x) => !x.includes('complete-lifecycle-action') && !/ curl .*169\.254\.169\.254/.test(x))).toStrictEqual([]);
  });

  // The agent's unit is Type=notify with TimeoutStartSec=0 and Restart=always (each member's userdata.ts cites it): an
  // agent that never becomes ready kept systemctl start, and the boot, waiting until the hook's heartbeat ran out.
  const notReady = (cause: string) => `${c.tag}: ${c.unit} is not ready (${SERVICE_READY_SECONDS} s): ${cause}; it waits for a running server behind ${c.url} (unreachable from this node: the API endpoint's load balancer, its security groups, or no server up yet), or the agent token in ${c.tokenParam} is not the cluster's: journalctl -u ${c.unit}. This pool instance is abandoned and its group launches another: fix the cause and the next one boots`;

  it('the server URL reaches no server: the start is bounded, the boot names the URL and the token, and the instance is abandoned then (not after the hook\'s 1800 s)', () => {
    world.endpoint(false);
    // The rendered bound: SERVICE_READY_SECONDS in windows of START_WINDOW_SECONDS; the stub world runs 2 (no refusal ends it early).
    expect(files.get(`${c.dir}/userdata/workers.yaml`)).toContain(`start_watched ${c.startUnit} ${SERVICE_READY_SECONDS / START_WINDOW_SECONDS} || rc=$?`);
    world.shortStarts(2);
    const r = world.node(HOST, '10.10.2.20', 'amd64', ID).boot(files.get(`${c.dir}/userdata/workers.yaml`)!);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('server is not ready');
    expect(r.stderr).toContain(`${notReady(`see journalctl -u ${c.startUnit}`)}\n${c.tag}: boot failed (exit 1): abandoning this instance`);
    expect(world.calls().filter((x) => x.startsWith(`${HOST} timeout ${START_WINDOW_SECONDS} systemctl start ${c.unit}`))).toHaveLength(2);
    expect(completions()).toStrictEqual([complete('ABANDON')]);
    expect(world.lifecycle()[ID]).toMatchObject({ state: 'Terminating', result: 'ABANDON' });
  });

  it('a token the servers refuse: the start ends after its first window (not after the whole bound), says the token, and ABANDON', () => {
    c.refuseToken(world);
    const r = world.node(HOST, '10.10.2.20', 'amd64', ID).boot(files.get(`${c.dir}/userdata/workers.yaml`)!);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(c.refused);
    expect(r.stderr).toContain(notReady(`its journal says ${START_REFUSALS.find((x) => x.text === c.refused)!.cause}`));
    // One window: the refusal is in the journal of the start (no shortStarts here: the rendered 15 windows).
    expect(world.calls().filter((x) => x.startsWith(`${HOST} timeout ${START_WINDOW_SECONDS} systemctl start ${c.unit}`))).toHaveLength(1);
    expect(completions()).toStrictEqual([complete('ABANDON')]);
  });

  it('an instance no longer waiting (its hook timed out): the CONTINUE refused by AWS fails the boot, and the trap\'s ABANDON is refused too', () => {
    world.runScript(`rm -f "$WORLD/lifecycle.json"`);
    const node = world.node(HOST, '10.10.2.20', 'amd64', ID);
    const r = node.boot(files.get(`${c.dir}/userdata/workers.yaml`)!);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('No active Lifecycle Action found with instance ID');
    expect(r.stderr).toContain(`${c.tag}: could not complete the lifecycle hook ${POOL_JOIN_HOOK} of ${group} with CONTINUE`);
    expect(completions()).toStrictEqual([complete('CONTINUE'), complete('ABANDON')]);
  });

  // A boot that waits (RKE2: the secure agent token, up to 30 minutes, then a start of up to 15) keeps its hook alive: a
  // heartbeat every HEARTBEAT_POLLS polls and one after the wait (RecordLifecycleActionHeartbeat restarts the timeout).
  const heartbeat = `${HOST} aws autoscaling record-lifecycle-action-heartbeat --region eu-west-1 --auto-scaling-group-name ${group} --lifecycle-hook-name ${POOL_JOIN_HOOK} --instance-id ${ID}`;

  it('the bounds: between two heartbeats at most HEARTBEAT_POLLS polls of 10 s, and after the last one the bounded start, each well within the timeout', () => {
    expect(HEARTBEAT_POLLS * 10).toBeLessThanOrEqual(POOL_JOIN_HEARTBEAT_SECONDS / 2);
    // Half the timeout for the start, the other half for the install (downloads) before it.
    expect(SERVICE_READY_SECONDS).toBeLessThanOrEqual(POOL_JOIN_HEARTBEAT_SECONDS / 2);
    const script = files.get(`${c.dir}/userdata/workers.yaml`)!;
    // An RKE2 agent waits (and records heartbeats); a K3s agent waits for nothing before its bounded start. Fixed nodes carry no hook.
    if (c.waits) expect(script).toContain(`[ $((n % ${HEARTBEAT_POLLS})) -ne 0 ] || pool_heartbeat`);
    else expect(script).not.toContain('heartbeat');
    expect(files.get(`${c.dir}/userdata/cp-2.yaml`)).not.toContain('heartbeat');
  });

  it.runIf(c.waits)('the token there at once: one heartbeat after the wait, before the install and the bounded start; then CONTINUE', () => {
    const r = world.node(HOST, '10.10.2.20', 'amd64', ID).boot(files.get(`${c.dir}/userdata/workers.yaml`)!);
    expect(r.code, r.stderr).toBe(0);
    expect(world.lifecycle()[ID]).toMatchObject({ state: 'InService', result: 'CONTINUE', heartbeats: 1 });
    const calls = world.calls();
    expect(calls.indexOf(heartbeat)).toBeGreaterThan(-1);
    expect(calls.indexOf(heartbeat)).toBeLessThan(calls.findIndex((x) => x.startsWith(`${HOST} timeout ${START_WINDOW_SECONDS} systemctl start rke2-agent`)));
  });

  it.runIf(c.waits)('no secure token yet: a heartbeat every HEARTBEAT_POLLS polls while it waits; at the end of the wait it names the first server and is abandoned', () => {
    world.ssm(c.tokenParam, 'short-agent-token');
    // The rendered wait is 180 polls; the stub world runs it with HEARTBEAT_POLLS + 1 and no sleeping.
    expect(files.get(`${c.dir}/userdata/workers.yaml`)).toContain('[ "$n" -le 180 ]');
    world.instantSleep();
    world.shortPolls(180, HEARTBEAT_POLLS + 1);
    const r = world.node(HOST, '10.10.2.20', 'amd64', ID).boot(files.get(`${c.dir}/userdata/workers.yaml`)!);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`odp-rke2-boot: no secure (K10) token in ${c.tokenParam} after 30 minutes: waiting for the first server cp-1, whose boot publishes it`);
    expect(r.stderr).toContain('odp-rke2-boot: boot failed (exit 1): abandoning this instance');
    expect(world.calls().filter((x) => x === heartbeat)).toHaveLength(1);
    expect(world.lifecycle()[ID]).toMatchObject({ state: 'Terminating', result: 'ABANDON', heartbeats: 1 });
  }, 120_000);

  it.runIf(c.waits)('a heartbeat refused (the instance no longer waits) is said and the boot goes on; AWS refuses its CONTINUE then', () => {
    world.runScript(`rm -f "$WORLD/lifecycle.json"`);
    const r = world.node(HOST, '10.10.2.20', 'amd64', ID).boot(files.get(`${c.dir}/userdata/workers.yaml`)!);
    expect(r.stderr).toContain(`odp-rke2-boot: could not record a heartbeat of the lifecycle hook ${POOL_JOIN_HOOK}: the group abandons this instance ${POOL_JOIN_HEARTBEAT_SECONDS} s after the last one`);
    expect(r.stderr).toContain(`could not complete the lifecycle hook ${POOL_JOIN_HOOK} of ${group} with CONTINUE`);
    expect(r.code).toBe(1);
  });
});
