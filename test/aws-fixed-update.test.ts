/**
 * A fixed node's instance type change, from the merge to the node back (prod: three Talos control planes and a fixed
 * GPU worker, every one on a new type), run against stubs that behave as CloudFormation, EC2 and kubectl do
 * (test/support/fixed-fleet.mjs). A new InstanceType of an AWS::EC2::Instance is "Update requires: Some interruptions":
 * CloudFormation stops the instance, changes its type (EC2: only while stopped) and starts it, and moves on along the
 * DependsOn chain once the instance runs — not once its node is Ready, and without a drain
 * (generators/infra/aws/instance-updates.ts). So `deploy.sh nodes` refuses such an update and `deploy.sh node-update
 * <node>` changes one node alone: drained (PodDisruptionBudgets honoured), the stack update with every other node's
 * current type, back with a new boot id and Ready (a control plane: the whole control plane healthy), uncordoned.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { FIXED_INSTANCE_UPDATES } from '../generators/infra/aws/instance-updates.js';
import { KUBECTL_REQUEST_TIMEOUT } from '../generators/lib/kubectl-timeout.js';
import { NODE_UPDATE_RENEW_SECONDS, NODE_UPDATE_WAIT, STACK_UPDATE_WAIT } from '../generators/infra/aws/deploy.js';
import { CLUSTER_LOCK, LOCK_RETRY } from '../generators/lib/cluster-lock.js';
import { cfnSpec } from '../generators/infra/aws/spec/spec.js';
import { renderExample, renderValidFixture, ROOT } from './helpers.js';

type Doc = Record<string, any>;
/** A Lease's renewTime (RFC 3339, UTC) in epoch seconds. */
const epochOf = (t: string): number => Math.floor(Date.parse(t) / 1000);
/** The bound every kubectl call of deploy.sh carries (lib/kubectl-timeout.ts), last on its line. */
const BOUND = `--request-timeout=${KUBECTL_REQUEST_TIMEOUT}`;
const files = renderExample('prod');
const read = (path: string): Doc => parseYamlStream(files.find((f) => f.path === path)!.content)[0] as Doc;
const template = read('aws/nodes.yaml');
const deployment = read('aws/nodes.deployment.yaml');

const b64 = (text: string): string => Buffer.from(text).toString('base64');
/** What EC2 holds for a template's UserData, base64 (DescribeInstanceAttribute userData): the literal, or Fn::Base64's text encoded. */
const heldUserData = (v: string | { 'Fn::Base64': string }): string => (typeof v === 'string' ? v : b64(v['Fn::Base64']));

/** The fixed instances in the order CloudFormation updates them: each after the one it DependsOn. */
function chain(template: Doc): { id: string; node: string; param: string; ip: string; role: string; userData?: string; protected: boolean }[] {
  const instances = Object.entries(template.Resources as Record<string, Doc>).filter(([, r]) => r.Type === 'AWS::EC2::Instance');
  const done: string[] = [];
  while (done.length < instances.length)
    for (const [id, r] of instances) if (!done.includes(id) && (r.DependsOn ?? []).every((d: string) => done.includes(d))) done.push(id);
  return done.map((id) => {
    const p = (template.Resources[id] as Doc).Properties;
    const tag = (k: string) => p.Tags.find((t: Doc) => t.Key === k).Value;
    return { id, node: tag('Name'), param: p.InstanceType.Ref, ip: p.PrivateIpAddress, role: tag('odp:role'), userData: p.UserData === undefined ? undefined : heldUserData(p.UserData), protected: p.DisableApiTermination === true };
  });
}
const FIXED = chain(template);
/** The types the running stack has: the previous commit's (every node one size smaller). */
const OLD: Record<string, string> = { 'm7i.xlarge': 'm7i.large', 'g5.2xlarge': 'g5.xlarge' };

/**
 * A sandbox repository with one environment's rendered tree, and the stubs linked as aws, kubectl, sleep, talosctl and
 * timeout, and date (./support/fleet-clock.mjs: the clock the stubs' sleeps and slow aws calls advance).
 */
function sandbox(env: string, rendered: { path: string; content: string }[]) {
  const dir = mkdtempSync(join(tmpdir(), 'odp-fixed-'));
  const repo = join(dir, 'repo');
  const bin = join(dir, 'bin');
  const fleet = join(dir, 'fleet');
  mkdirSync(bin);
  mkdirSync(fleet);
  for (const f of rendered) {
    const p = join(repo, 'rendered', env, f.path);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, f.content);
  }
  const stub = join(ROOT, 'test/support/fixed-fleet.mjs');
  for (const c of ['aws', 'kubectl', 'sleep', 'talosctl', 'timeout']) symlinkSync(stub, join(bin, c));
  symlinkSync(join(ROOT, 'test/support/fleet-clock.mjs'), join(bin, 'date'));
  // A stub that is not executable is skipped by the shell's PATH search: the script would then run the host's own date,
  // whose clock the stubs' sleeps do not advance, and a renewal retried until the Lease could expire would wait an hour.
  for (const c of ['aws', 'date']) accessSync(join(bin, c), constants.X_OK);
  const world = (): Doc => JSON.parse(readFileSync(join(fleet, 'fleet.json'), 'utf8'));
  const setWorld = (change: (w: Doc) => void) => {
    const w = world();
    change(w);
    writeFileSync(join(fleet, 'fleet.json'), JSON.stringify(w));
  };
  const reset = (w: Doc) => {
    // The stubs' clock starts at this reset and moves only with their sleeps (fleet-clock.mjs clockBase).
    writeFileSync(join(fleet, 'fleet.json'), JSON.stringify({ clockBase: Math.floor(Date.now() / 1000), ...w }));
    writeFileSync(join(fleet, 'calls.log'), '');
    for (const f of ['leases.json', 'leases.log', 'leases-unreachable.json']) rmSync(join(fleet, f), { force: true });
  };
  const runWith = (vars: Record<string, string>, ...args: string[]) => {
    writeFileSync(join(fleet, 'calls.log'), '');
    const { TALOSCONFIG: _t, KUBECONFIG: _k, ...base } = process.env;
    const r = spawnSync('sh', [`rendered/${env}/aws/deploy.sh`, ...args], { cwd: repo, env: { ...base, HOME: join(dir, 'home'), PATH: `${bin}:${process.env.PATH}`, FLEET: fleet, ...vars }, encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, calls: readFileSync(join(fleet, 'calls.log'), 'utf8').trim().split('\n').filter(Boolean) };
  };
  /** Run a command line as the operator would (the stubs on PATH, from the repository root). */
  const operator = (line: string) => {
    writeFileSync(join(fleet, 'calls.log'), '');
    const r = spawnSync('sh', ['-c', line], { cwd: repo, env: { ...process.env, HOME: join(dir, 'home'), PATH: `${bin}:${process.env.PATH}`, FLEET: fleet }, encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, calls: readFileSync(join(fleet, 'calls.log'), 'utf8').trim().split('\n').filter(Boolean) };
  };
  return { dir, bin, fleet, world, setWorld, reset, runWith, operator, run: (...args: string[]) => runWith({}, ...args), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A PATH of macOS's tools where they differ from GNU's, for the script's own commands (the stubs come first): every
 * command of this machine's PATH but `date`, `base64` and `sha256sum`, which are replaced by stubs that behave as
 * BSD's: `date` refuses -d ("illegal option", as BSD date does: it parses with -j -f); `base64` decodes with -D or
 * --decode only (macOS before 13: -d is --debug, which encodes); `shasum -a 256` prints "<hex>  -" (macOS has no
 * sha256sum).
 */
function bsdPath(dir: string): string {
  const box = join(dir, 'bsd');
  if (existsSync(box)) return box;
  mkdirSync(box);
  const real = (c: string) => spawnSync('sh', ['-c', `command -v ${c}`], { encoding: 'utf8' }).stdout.trim();
  const [date, base64, sha256sum] = ['date', 'base64', 'sha256sum'].map(real);
  const tool = (name: string, body: string) => writeFileSync(join(box, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  tool('date', `for a in "$@"; do case "$a" in -d* | --date*) echo 'date: illegal option -- d' >&2; echo 'usage: date [-jnRu] [-r seconds|file] [-v[+|-]val[ymwdHMS]] [+output_fmt]' >&2; exit 1 ;; esac; done\nexec ${date} "$@"`);
  tool('base64', `case "\${1:-}" in -D | --decode) shift; exec ${base64} -d "$@" ;; -d | --debug) shift; exec ${base64} "$@" ;; esac\nexec ${base64} "$@"`);
  tool('shasum', `[ "$*" = '-a 256' ] || { echo "shasum stub: $*" >&2; exit 1; }\n${sha256sum} | sed 's/ .*/  -/'`);
  for (const d of (process.env.PATH ?? '').split(':'))
    for (const f of existsSync(d) ? readdirSync(d) : []) if (!['date', 'base64', 'sha256sum', 'shasum'].includes(f) && !existsSync(join(box, f))) symlinkSync(join(d, f), join(box, f));
  return box;
}

/** The nodes stack as deployed (`params`), its fixed instances i-0<n>aa (with their user data) and their Ready Nodes. */
function fleetOf(stackName: string, tpl: Doc, fixed: ReturnType<typeof chain>, params: Record<string, string>): Doc {
  return {
    stack: {
      name: stackName,
      exists: true,
      deployRole: 'arn:aws:iam::333333333333:role/odp-cfn-deploy',
      templateParameters: Object.keys(tpl.Parameters),
      parameters: params,
      outputs: Object.fromEntries(fixed.map((x, i) => [`${x.id}InstanceId`, `i-0${i}aa`])),
      instances: fixed.map((x, i) => ({ instance: `i-0${i}aa`, param: x.param })),
    },
    instances: Object.fromEntries(fixed.map((x, i) => [`i-0${i}aa`, { type: params[x.param], state: 'running', ...(x.protected ? { protected: true } : {}), ...(x.userData !== undefined ? { userData: x.userData } : {}) }])),
    nodes: Object.fromEntries(fixed.map((x, i) => [x.ip, { name: `ip-${x.ip.replace(/\./g, '-')}`, fixed: x.node, role: x.role, ready: 'True', boot: `boot-${x.node}`, instance: `i-0${i}aa` }])),
    bootAsks: 2,
  };
}

describe('what a stack update does to a fixed node, per property we render (infra/aws/instance-updates.ts)', () => {
  it('the table names every property of a rendered fixed instance (K3s: with user data), each as the specification has it', () => {
    const k3s = parseYamlStream(renderExample('staging-k3s').find((f) => f.path === 'aws/nodes.yaml')!.content)[0] as Doc;
    const rendered = new Set(Object.values(k3s.Resources as Record<string, Doc>).filter((r) => r.Type === 'AWS::EC2::Instance').flatMap((r) => Object.keys(r.Properties)));
    expect([...rendered].sort()).toStrictEqual(Object.keys(FIXED_INSTANCE_UPDATES).sort());
    const spec = cfnSpec().resource('AWS::EC2::Instance')!.properties;
    for (const [property, update] of Object.entries(FIXED_INSTANCE_UPDATES)) {
      const r = spec[property]!.causesReplacement;
      // "Some interruptions" (a stop) and the conditional ones are `maybe`; a replacement `yes`; no interruption absent.
      if (update === 'stop' || update === 'replace unless DeleteOnTermination') expect(r, property).toBe('maybe');
      else if (update === 'replace') expect(r, property).toBe('yes');
      else expect([undefined, 'no', ...(property === 'SecurityGroupIds' ? ['maybe'] : [])], property).toContain(r);
    }
  });
});

// Each run spawns a stub process per aws/kubectl/talosctl/sleep call (hundreds in a wait): slow on a loaded machine, not timed.
describe('a fixed node’s new instance type, in motion', { timeout: 300_000 }, () => {
  const box = sandbox('prod', files);
  const { bin, fleet, world, setWorld, run, runWith } = box;
  const dir = box.dir;
  // The Talos runbook's setup ran: its talosconfig where node-update looks for it ($HOME/.odp/<env>/talosconfig).
  beforeAll(() => {
    mkdirSync(join(dir, 'home', '.odp', 'prod'), { recursive: true });
    writeFileSync(join(dir, 'home', '.odp', 'prod', 'talosconfig'), 'context: odp-prod\n');
  });
  afterAll(() => box.cleanup());
  beforeEach(() => {
    const params: Record<string, string> = { ...deployment.parameters };
    for (const x of FIXED) params[x.param] = OLD[params[x.param]!]!;
    const w = fleetOf('odp-prod-nodes', template, FIXED, params);
    w.nodes['10.30.1.99'] = { name: 'ip-10-30-1-99', role: 'worker', ready: 'True', boot: 'boot-pool' };
    w.pods = [
      { ns: 'ml', name: 'inference-0', app: 'inference', node: 'ip-10-30-3-50' },
      { ns: 'ml', name: 'inference-1', app: 'inference', node: 'ip-10-30-1-99' },
      { ns: 'kube-system', name: 'cilium-gpu', app: 'cilium', node: 'ip-10-30-3-50', daemonSet: true },
    ];
    w.pdbs = [{ ns: 'ml', app: 'inference', minAvailable: 1 }];
    box.reset(w);
  });
  /** What Git sync does on merge: the stack update with the deployment file's parameters. */
  const gitSync = () =>
    spawnSync(join(bin, 'aws'), ['cloudformation', 'deploy', '--stack-name', 'odp-prod-nodes', '--parameter-overrides', ...Object.entries(deployment.parameters).map(([k, v]) => `${k}=${v}`)], { env: { ...process.env, FLEET: fleet }, encoding: 'utf8' });

  it('the template: each fixed node’s InstanceType is its own parameter, valued in the deployment file with its pool’s type; control planes chained first', () => {
    expect(FIXED.map((x) => [x.node, x.param, deployment.parameters[x.param]])).toStrictEqual([
      ['prod-cp-1', 'NodeProdCp1InstanceType', 'm7i.xlarge'],
      ['prod-cp-2', 'NodeProdCp2InstanceType', 'm7i.xlarge'],
      ['prod-cp-3', 'NodeProdCp3InstanceType', 'm7i.xlarge'],
      ['prod-gpu-1', 'NodeProdGpu1InstanceType', 'g5.2xlarge'],
    ]);
    expect(template.Parameters.NodeProdCp1InstanceType).toMatchObject({ Type: 'String', AllowedPattern: '^[a-z][a-z0-9-]*\\.[a-z0-9]+$' });
  });

  it('the merge as CloudFormation alone runs it (Git sync): each control plane stopped while the previous one is not Ready yet, the GPU worker stopped with its pods on it', () => {
    const r = gitSync();
    expect(r.status, r.stderr).toBe(0);
    const w = world();
    expect(w.events).toStrictEqual(['stop prod-cp-1', 'start prod-cp-1 m7i.xlarge', 'stop prod-cp-2', 'start prod-cp-2 m7i.xlarge', 'stop prod-cp-3', 'start prod-cp-3 m7i.xlarge', 'stop prod-gpu-1', 'start prod-gpu-1 g5.2xlarge', 'stack updated: prod-cp-1, prod-cp-2, prod-cp-3, prod-gpu-1']);
    expect(w.unsafe).toStrictEqual(['prod-cp-2', 'prod-cp-3']);
    expect(w.stoppedWithPods).toStrictEqual(['prod-gpu-1']);
  });

  it('deploy.sh nodes refuses an update that changes fixed nodes’ types, names the node-update steps in order, and stops nothing', () => {
    const r = run('nodes');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('deploy: this update changes the instance type of fixed nodes: CloudFormation would stop each one undrained');
    expect(r.stderr).toContain(
      [
        '  sh rendered/prod/aws/deploy.sh node-update prod-cp-1   (m7i.large -> m7i.xlarge)',
        '  sh rendered/prod/aws/deploy.sh node-update prod-cp-2   (m7i.large -> m7i.xlarge)',
        '  sh rendered/prod/aws/deploy.sh node-update prod-cp-3   (m7i.large -> m7i.xlarge)',
        '  sh rendered/prod/aws/deploy.sh node-update prod-gpu-1   (g5.xlarge -> g5.2xlarge)',
      ].join('\n'),
    );
    expect(r.calls.filter((c) => c.startsWith('aws cloudformation deploy'))).toStrictEqual([]);
    expect(world().events).toBeUndefined();
  });

  it('node-update, node by node: each drained, alone in its stack update, back (new boot id, Ready, control plane healthy) and uncordoned before the next; then deploy.sh nodes stops nothing and the merge changes nothing', () => {
    for (const x of FIXED) {
      const r = run('node-update', x.node);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`node ${x.node} (ip-${x.ip.replace(/\./g, '-')}): ${OLD[deployment.parameters[x.param]]} -> ${deployment.parameters[x.param]}, Ready again and uncordoned; the next node may go`);
      const order = r.calls.map((c) => c.split(' ').slice(0, 3).join(' '));
      expect(order.indexOf('kubectl drain ip-' + x.ip.replace(/\./g, '-'))).toBeLessThan(order.indexOf('aws cloudformation update-stack'));
      // Released: the lock is gone once the node is back (the last kubectl calls: uncordon, then the Lease deleted).
      expect(r.calls.filter((c) => c.startsWith('kubectl uncordon')).at(-1)).toBe(`kubectl uncordon ip-${x.ip.replace(/\./g, '-')} ${BOUND}`);
      expect(r.calls.at(-1)).toBe(`kubectl -n kube-system delete lease odp-apply-config ${BOUND}`);
      // Every kubectl request bounded (lib/kubectl-timeout.ts); the stack polled, not waited on with the CLI's waiter.
      expect(r.calls.filter((c) => c.startsWith('kubectl ') && !c.endsWith(` ${BOUND}`))).toStrictEqual([]);
      expect(r.calls.filter((c) => c.startsWith('aws cloudformation wait'))).toStrictEqual([]);
      // The stack update: its own template, this node's new type, every other parameter its previous value.
      const update = r.calls.find((c) => c.startsWith('aws cloudformation update-stack'))!;
      expect(update).toContain('--use-previous-template');
      expect(r.calls.filter((c) => c.startsWith('aws cloudformation deploy'))).toStrictEqual([]);
      for (const y of FIXED) expect(update).toContain(y === x ? `ParameterKey=${y.param},ParameterValue=${deployment.parameters[y.param]}` : `ParameterKey=${y.param},UsePreviousValue=true`);
    }
    const w = world();
    expect(w.events.filter((e: string) => /^(stop|start)/.test(e))).toStrictEqual(['stop prod-cp-1', 'start prod-cp-1 m7i.xlarge', 'stop prod-cp-2', 'start prod-cp-2 m7i.xlarge', 'stop prod-cp-3', 'start prod-cp-3 m7i.xlarge', 'stop prod-gpu-1', 'start prod-gpu-1 g5.2xlarge']);
    expect(w.unsafe).toBeUndefined();
    expect(w.stoppedWithPods).toBeUndefined();
    // The GPU worker's pod was evicted to the pool node (its budget allowed it: the other replica stayed up).
    expect(w.pods.filter((p: Doc) => p.app === 'inference').map((p: Doc) => p.node)).toStrictEqual(['ip-10-30-1-99', 'ip-10-30-1-99']);
    expect(Object.values(w.nodes).filter((n: any) => n.cordoned)).toStrictEqual([]);
    const nodes = run('nodes');
    expect(nodes.code, nodes.stderr).toBe(0);
    expect(nodes.stdout).toContain('No changes to deploy. Stack odp-prod-nodes is up to date');
    expect(gitSync().status).toBe(0);
    expect(world().events.filter((e: string) => /^stop/.test(e))).toHaveLength(4);
    expect(run('node-update', 'prod-cp-1').stdout).toContain('node prod-cp-1 is m7i.xlarge already: nothing to change');
  });

  it('node-update waits for the node’s new boot: a Node still Ready from before the stop does not count', () => {
    setWorld((w) => {
      w.bootAsks = 4;
      w.staleReady = true;
    });
    const r = run('node-update', 'prod-cp-1');
    expect(r.code, r.stderr).toBe(0);
    expect(r.calls.filter((c) => c === 'sleep 10')).toHaveLength(4);
  });

  it('node-update of the GPU worker whose pod’s budget allows no eviction: refused after the drain’s timeout, uncordoned, its instance untouched', () => {
    setWorld((w) => (w.pods = w.pods.filter((p: Doc) => p.name !== 'inference-1')));
    const r = run('node-update', 'prod-gpu-1');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Cannot evict pod as it would violate the pod's disruption budget.");
    expect(r.stderr).toContain('deploy: node prod-gpu-1 (ip-10-30-3-50): not drained within 5m: a PodDisruptionBudget allows no eviction of a pod kubectl named above (kubectl get pdb -A: ALLOWED DISRUPTIONS 0), or a pod did not stop in time. The node is uncordoned, its instance untouched.');
    expect(r.calls.filter((c) => /^aws cloudformation (deploy|update-stack)/.test(c))).toStrictEqual([]);
    const w = world();
    expect(w.events).toStrictEqual(['uncordon ip-10-30-3-50']);
    expect(w.instances['i-03aa'].type).toBe('g5.xlarge');
  });

  it('node-update refuses, touching nothing, while a control plane is not Ready, or when kubectl reaches another cluster', () => {
    setWorld((w) => (w.nodes['10.30.2.10'].ready = 'False'));
    const down = run('node-update', 'prod-cp-1');
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('deploy: the control plane is not healthy (a control-plane Node not Ready: ip-10-30-2-10): node prod-cp-1 left alone');
    setWorld((w) => {
      w.nodes['10.30.2.10'].ready = 'True';
      w.otherCluster = true;
    });
    const other = run('node-update', 'prod-cp-1');
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('deploy: no Node with address 10.30.1.10 in the cluster kubectl reaches (KUBECONFIG)');
    for (const r of [down, other]) expect(r.calls.filter((c) => /^(kubectl drain|aws cloudformation (deploy|update-stack))/.test(c))).toStrictEqual([]);
    expect(world().events).toBeUndefined();
  });

  it('a control plane that does not come back: node-update stops after its wait with the node cordoned and says to update no other', () => {
    setWorld((w) => (w.bootAsks = 1e9));
    const r = run('node-update', 'prod-cp-2');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('deploy: node prod-cp-2 (ip-10-30-2-10) has type m7i.xlarge now but is not back after 10 minutes');
    expect(r.stderr).toContain('it stays cordoned. Update no other node');
    expect(r.calls.filter((c) => c === 'sleep 10')).toHaveLength(59);
    expect(world().nodes['10.30.2.10'].cordoned).toBe(true);
    // The lock renewed while it waited (once NODE_UPDATE_RENEW_SECONDS old, by the clock its sleeps advance: 59 × 10 s),
    // after the drain and after the stack update; released at the exit. By the wall clock, so what is asserted is the
    // gap: no two writes of the Lease further apart than the renewal interval and one poll.
    const renewals = r.calls.filter((c) => c.startsWith('kubectl replace -f -')).length;
    expect(renewals).toBeGreaterThanOrEqual(2 + Math.floor(((NODE_UPDATE_WAIT.tries - 1) * NODE_UPDATE_WAIT.seconds) / NODE_UPDATE_RENEW_SECONDS));
    const writes = readFileSync(join(fleet, 'leases.log'), 'utf8').trim().split('\n').map((l) => epochOf((JSON.parse(l) as { renewTime: string }).renewTime));
    expect(Math.max(...writes.slice(1).map((t, i) => t - writes[i]!))).toBeLessThanOrEqual(NODE_UPDATE_RENEW_SECONDS + Math.max(NODE_UPDATE_WAIT.seconds, STACK_UPDATE_WAIT.seconds));
    expect(r.stderr).toContain('Then: kubectl uncordon ip-10-30-2-10\n');
    expect(JSON.parse(readFileSync(join(fleet, 'leases.json'), 'utf8'))).toStrictEqual({});
  });

  /** How many `sleep 30` (the stack polls) come before each renewal of the Lease (a PUT: kubectl replace). */
  const sleepsBeforeRenewals = (calls: string[]) => {
    let sleeps = 0;
    const at: number[] = [];
    for (const c of calls) {
      if (c === `sleep ${STACK_UPDATE_WAIT.seconds}`) sleeps += 1;
      if (c.startsWith('kubectl replace -f -')) at.push(sleeps);
    }
    return at;
  };

  it('the stack update polled (describe-stacks every 30 s), not left to the CLI\'s hour-long waiter: the lock renewed every 5 minutes (by the clock) while it runs', () => {
    setWorld((w) => (w.updatePolls = 25));
    const r = run('node-update', 'prod-gpu-1');
    expect(r.code, r.stderr).toBe(0);
    expect(r.calls.filter((c) => c.startsWith('aws cloudformation describe-stacks') && c.includes('--query Stacks[0].StackStatus'))).toHaveLength(27); // stack_ready's read before the lock, then 26 polls
    expect(r.calls.filter((c) => c === 'sleep 30')).toHaveLength(25);
    // Renewed after the drain (no sleep yet), once 300 s old (10 and 20 sleeps of 30 s), after the update (25 polls).
    expect(sleepsBeforeRenewals(r.calls)).toStrictEqual([0, 10, 20, 25]);
    expect(r.calls.filter((c) => c.startsWith('aws cloudformation wait'))).toStrictEqual([]);
  });

  it('a rolled-back stack update: node-update waits the rollback out (it stops the instance again), says the stack is as before with the events and the step again, leaves the node cordoned with when and how to uncordon it, and releases the lock', () => {
    setWorld((w) => {
      w.updatePolls = 2;
      w.rollbackPolls = 2;
      w.updateFails = 'UPDATE_ROLLBACK_COMPLETE';
    });
    const r = run('node-update', 'prod-gpu-1');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('deploy: the update of stack odp-prod-nodes failed and CloudFormation rolled it back (UPDATE_ROLLBACK_COMPLETE): the stack is as it was before. Why it failed: aws cloudformation describe-stack-events --region eu-west-1 --stack-name odp-prod-nodes. Fix the cause, then run this again:\n  sh rendered/prod/aws/deploy.sh node-update prod-gpu-1\n');
    expect(r.stderr).toContain('deploy: node prod-gpu-1 (ip-10-30-3-50) stays cordoned. This run releases the lock (Lease kube-system/odp-apply-config) as it exits');
    expect(r.stderr).toContain("Uncordon it only once the stack update has ended (aws cloudformation describe-stacks --region eu-west-1 --stack-name odp-prod-nodes --query 'Stacks[0].StackStatus' --output text: UPDATE_COMPLETE, or UPDATE_ROLLBACK_COMPLETE after a rollback), its instance i-03aa is running (aws ec2 describe-instances --region eu-west-1 --instance-ids i-03aa --query 'Reservations[].Instances[].[State.Name,InstanceType]' --output text) and its Node is Ready (kubectl get node ip-10-30-3-50)");
    expect(r.stderr).toMatch(/Then: kubectl uncordon ip-10-30-3-50\n$/);
    // Two polls of the update, two of its rollback.
    expect(r.calls.filter((c) => c === 'sleep 30')).toHaveLength(4);
    expect(world().nodes['10.30.3.50'].cordoned).toBe(true);
    expect(JSON.parse(readFileSync(join(fleet, 'leases.json'), 'utf8'))).toStrictEqual({});
  });

  it('a stack update whose rollback fails too: node-update names continue-update-rollback, its wait and the step again as the next command; the node stays cordoned', () => {
    setWorld((w) => (w.updateFails = 'UPDATE_ROLLBACK_FAILED'));
    const r = run('node-update', 'prod-gpu-1');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('deploy: the update of stack odp-prod-nodes failed and so did its rollback (UPDATE_ROLLBACK_FAILED)');
    expect(r.stderr).toContain('\n  aws cloudformation continue-update-rollback --region eu-west-1 --stack-name odp-prod-nodes --role-arn arn:aws:iam::333333333333:role/odp-cfn-deploy && aws cloudformation wait stack-rollback-complete --region eu-west-1 --stack-name odp-prod-nodes && sh rendered/prod/aws/deploy.sh node-update prod-gpu-1\n');
    expect(world().nodes['10.30.3.50'].cordoned).toBe(true);
  });

  it('the nodes stack UPDATE_IN_PROGRESS (its Git sync) when node-update starts: waited out before the lock and the drain, then the node updated', () => {
    setWorld((w) => {
      w.stack.status = 'UPDATE_COMPLETE';
      w.statusQueue = ['UPDATE_IN_PROGRESS', 'UPDATE_IN_PROGRESS', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS'];
    });
    const r = run('node-update', 'prod-gpu-1');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('deploy: stack odp-prod-nodes is UPDATE_IN_PROGRESS (another run, or its Git sync): waiting for it to end\n');
    expect(r.calls.filter((c) => c === `sleep ${STACK_UPDATE_WAIT.seconds}`)).toHaveLength(3);
    // Every poll of that wait before any kubectl call (the Lease, the drain): no Lease held, nothing cordoned meanwhile.
    expect(r.calls.findIndex((c) => c.startsWith('kubectl'))).toBeGreaterThan(r.calls.lastIndexOf(`sleep ${STACK_UPDATE_WAIT.seconds}`));
    expect(r.stdout).toContain('node prod-gpu-1 (ip-10-30-3-50): g5.xlarge -> g5.2xlarge, Ready again and uncordoned');
    expect(world().events.filter((e: string) => /^(stop|start)/.test(e))).toStrictEqual(['stop prod-gpu-1', 'start prod-gpu-1 g5.2xlarge']);
  });

  it('the nodes stack UPDATE_ROLLBACK_FAILED: node-update refuses before the lock and the drain, the node not cordoned, with continue-update-rollback and the step again as the next command; which then updates it', () => {
    setWorld((w) => (w.stack.status = 'UPDATE_ROLLBACK_FAILED'));
    const r = run('node-update', 'prod-gpu-1');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^deploy: nothing deployed: the update of stack odp-prod-nodes failed and so did its rollback \(UPDATE_ROLLBACK_FAILED\)/);
    const cmd = 'aws cloudformation continue-update-rollback --region eu-west-1 --stack-name odp-prod-nodes --role-arn arn:aws:iam::333333333333:role/odp-cfn-deploy && aws cloudformation wait stack-rollback-complete --region eu-west-1 --stack-name odp-prod-nodes && sh rendered/prod/aws/deploy.sh node-update prod-gpu-1';
    expect(r.stderr.trimEnd().split('\n').at(-1)!.trim()).toBe(cmd);
    expect(r.calls.filter((c) => !c.startsWith('aws cloudformation describe-stacks'))).toStrictEqual([]);
    expect(world().nodes['10.30.3.50'].cordoned).toBeUndefined();
    expect(world().events).toBeUndefined();
    // The next command as printed: the rollback continued, then the node updated.
    const again = box.operator(cmd);
    expect(again.code, again.stderr).toBe(0);
    expect(world().events).toStrictEqual(['rollback continued: UPDATE_ROLLBACK_COMPLETE', 'stop prod-gpu-1', 'start prod-gpu-1 g5.2xlarge', 'stack updated (its own template): prod-gpu-1', 'uncordon ip-10-30-3-50']);
  });

  it('an update-stack refused after the drain (the stack\'s Git sync began meanwhile): the stack\'s status and the next command said, not a bare refusal; the node stays cordoned with how to uncordon it', () => {
    setWorld((w) => (w.syncOnDrain = 'UPDATE_IN_PROGRESS'));
    const r = run('node-update', 'prod-gpu-1');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('when calling the UpdateStack operation: Stack:arn:aws:cloudformation:eu-west-1:333333333333:stack/odp-prod-nodes/1 is in UPDATE_IN_PROGRESS state and can not be updated.');
    expect(r.stderr).toContain("deploy: stack odp-prod-nodes did not accept the update (the AWS CLI's error above); it is UPDATE_IN_PROGRESS: stack odp-prod-nodes is UPDATE_IN_PROGRESS (another run, or its Git sync, is at work): follow it (aws cloudformation describe-stack-events --region eu-west-1 --stack-name odp-prod-nodes); once it has ended, run this again:\n  sh rendered/prod/aws/deploy.sh node-update prod-gpu-1\n");
    expect(r.stderr).not.toContain('the update was not accepted');
    expect(r.stderr).toMatch(/Then: kubectl uncordon ip-10-30-3-50\n$/);
    expect(world().nodes['10.30.3.50'].cordoned).toBe(true);
    expect(world().events).toBeUndefined();
    expect(JSON.parse(readFileSync(join(fleet, 'leases.json'), 'utf8'))).toStrictEqual({});
  });

  // About 250 stub processes (120 polls, their sleeps and renewals): slow on a loaded machine, so a longer bound; not timed.
  it('a stack update that never completes: node-update gives up after 120 polls (60 minutes), the lock renewed all along, the node cordoned with the uncordon command', { timeout: 900_000 }, () => {
    setWorld((w) => (w.updateStuck = true));
    const r = run('node-update', 'prod-gpu-1');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('deploy: the update of stack odp-prod-nodes has not completed after 60 minutes (status UPDATE_IN_PROGRESS): look at its events (aws cloudformation describe-stack-events --region eu-west-1 --stack-name odp-prod-nodes)\n');
    expect(r.calls.filter((c) => c === 'sleep 30')).toHaveLength(STACK_UPDATE_WAIT.tries - 1);
    expect(sleepsBeforeRenewals(r.calls)).toStrictEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110]);
    expect(r.stderr).toMatch(/Then: kubectl uncordon ip-10-30-3-50\n$/);
  });

  it('the API server unreachable once the stack update stops the node: every kubectl call fails after its --request-timeout instead of hanging; the renewal is retried (not read as lost) until the Lease could expire; the run ends with the node cordoned, says how to uncordon it and how to release the Lease it could not', () => {
    setWorld((w) => (w.apiDownOnUpdate = true));
    const r = run('node-update', 'prod-cp-1');
    expect(r.code).toBe(1);
    expect(world().hung).toBeUndefined();
    expect(r.calls.filter((c) => c.startsWith('kubectl ') && !c.endsWith(` ${BOUND}`))).toStrictEqual([]);
    expect(r.stderr).not.toContain('lost the lock');
    expect(r.stderr).toContain(`deploy: could not renew the lock (Lease kube-system/odp-apply-config): the API server does not answer; trying again in ${LOCK_RETRY.first} s (until `);
    // Retried by the wall clock (the stubs' sleeps advance it) until LOCK_RETRY.margin s before the Lease could expire.
    const lease = JSON.parse(readFileSync(join(fleet, 'leases.json'), 'utf8'))['odp-apply-config'];
    const waited = r.calls.filter((c) => c.startsWith('sleep ') && !c.startsWith(`sleep ${NODE_UPDATE_WAIT.seconds}`)).reduce((n, c) => n + Number(c.split(' ')[1]), 0);
    expect(waited).toBeGreaterThanOrEqual(CLUSTER_LOCK.seconds - LOCK_RETRY.margin - 60);
    expect(waited).toBeLessThanOrEqual(CLUSTER_LOCK.seconds - LOCK_RETRY.margin);
    const expiry = new Date((epochOf(lease.renewTime) + CLUSTER_LOCK.seconds) * 1000).toISOString().replace(/\.000Z$/, 'Z');
    expect(r.stderr).toContain(`deploy: this run could not renew the lock (Lease kube-system/odp-apply-config) since ${lease.renewTime} (the API server does not answer): it may expire at ${expiry}, another run then taking it over while its instance was stopped and started\n`);
    expect(r.stderr).toContain('deploy: node prod-cp-1 (ip-10-30-1-10) stays cordoned.');
    expect(r.stderr).toContain('(if the API server cannot be reached, the Lease expires 3600 s after its last renewal)');
    expect(r.stderr).toContain('Then: kubectl uncordon ip-10-30-1-10\n');
    // The exit's release could not reach the API server either: said, with the command that releases it.
    expect(lease.holderIdentity).toMatch(/^node-update prod-cp-1 on .+ pid \d+$/);
    expect(r.stderr).toMatch(
      new RegExp(`deploy: could not release the lock \\(Lease kube-system/odp-apply-config, held by node-update prod-cp-1 on .+ pid \\d+\\): the API server did not answer\\. It expires at ${expiry}; to release it sooner, once the API server answers and the Lease still names this run \\(kubectl -n kube-system get lease odp-apply-config -o jsonpath='\\{\\.spec\\.holderIdentity\\}'\\): kubectl -n kube-system delete lease odp-apply-config\n$`),
    );
  });

  it('a slow aws (each call 10 minutes: the CLI\'s own retries) does not outlive the Lease: node-update renews it by the wall clock, not by its polls', () => {
    setWorld((w) => {
      w.updatePolls = 12;
      w.awsSeconds = 600;
    });
    const r = run('node-update', 'prod-gpu-1');
    expect(r.code, r.stderr).toBe(0);
    // Renewed at every poll (each one more than NODE_UPDATE_RENEW_SECONDS after the last renewal), so no two writes of
    // the Lease are more apart than one poll (its call and its sleep) and the renewal interval: far within the hour.
    const log = readFileSync(join(fleet, 'leases.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { verb: string; renewTime: string });
    const gaps = log.slice(1).map((l, i) => epochOf(l.renewTime) - epochOf(log[i]!.renewTime));
    expect(log.filter((l) => l.verb === 'replaced').length).toBeGreaterThanOrEqual(12);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(NODE_UPDATE_RENEW_SECONDS + 600 + STACK_UPDATE_WAIT.seconds + 5);
    expect(Math.max(...gaps)).toBeLessThan(CLUSTER_LOCK.seconds);
  });

  it('a renewal the API server does not answer, or answers late: retried, not read as lost; the run goes on', () => {
    // After the create: the renewal's PUT and the read back fail (not reached), then it passes.
    writeFileSync(join(fleet, 'leases-unreachable.json'), JSON.stringify({ skip: 1, before: 2 }));
    const r = run('node-update', 'prod-gpu-1');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`deploy: could not renew the lock (Lease kube-system/odp-apply-config): the API server does not answer; trying again in ${LOCK_RETRY.first} s`);
    expect(JSON.parse(readFileSync(join(fleet, 'leases.json'), 'utf8'))).toStrictEqual({});
  });

  it('a renewal whose PUT was applied but its answer lost (a client-side timeout does not undo the write): the read back names this run, so it goes on with the resourceVersion read', () => {
    rmSync(join(fleet, 'leases.log'), { force: true });
    writeFileSync(join(fleet, 'leases-unreachable.json'), JSON.stringify({ skip: 1, after: 1 }));
    const late = run('node-update', 'prod-gpu-1');
    expect(late.code, late.stderr).toBe(0);
    expect(late.stderr).toContain("deploy: could not renew the lock (Lease kube-system/odp-apply-config): its renewal failed, the Lease still this run's; trying again");
    expect(late.stderr).not.toContain('lost the lock');
    const verbs = readFileSync(join(fleet, 'leases.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).verb + ' ' + JSON.parse(l).resourceVersion);
    expect(verbs.slice(0, 3)).toStrictEqual(['created 1', 'replaced 2', 'replaced 3']);
  });

  it('refuses while a Node is cordoned by an apply-config.sh hand-over (its annotation), as apply-config.sh on a server does: nothing drained', () => {
    setWorld((w) => (w.nodes['10.30.1.99'].handover = 'prod-pool-1:0123abcd'));
    const r = run('node-update', 'prod-gpu-1');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('deploy: Node ip-10-30-1-99 (prod-pool-1:0123abcd) is cordoned by a hand-over (its annotation odp-gitops.io/apply-config-handover): drained for its own apply-config.sh run, not finished; no other node changes before it ends. Finish or abandon it with apply-config.sh (ODP_ABANDON_HANDOVER=<node>, on a server), then run this again; node prod-gpu-1 left alone\n');
    expect(r.calls.filter((c) => /^(kubectl drain|aws cloudformation update-stack)/.test(c))).toStrictEqual([]);
    expect(JSON.parse(readFileSync(join(fleet, 'leases.json'), 'utf8'))).toStrictEqual({});
  });

  it('talosctl etcd members bounded (timeout, 15 s): a control plane whose member hangs fails the gate instead of hanging the run that holds the Lease', () => {
    setWorld((w) => (w.etcdHangs = true));
    const r = run('node-update', 'prod-gpu-1');
    expect(r.code).toBe(1);
    expect(world().hung).toBeUndefined();
    expect(r.calls).toContain('timeout 15 talosctl etcd members --nodes 10.30.1.10');
    expect(r.stderr).toContain('deploy: the control plane is not healthy (control plane 10.30.1.10: its etcd has no leader, or its Talos API does not answer within 15 s (talosctl etcd members --nodes 10.30.1.10)): node prod-gpu-1 left alone');
    expect(JSON.parse(readFileSync(join(fleet, 'leases.json'), 'utf8'))).toStrictEqual({});
  });

  it('with macOS\'s tools (BSD date without -d, no sha256sum, base64 -d not a decode): the lock\'s expiry is read and said, an expired one taken over, the node updated', () => {
    const path = `${bin}:${bsdPath(dir)}`;
    const probe = (c: string) => spawnSync('sh', ['-c', c], { env: { PATH: path }, encoding: 'utf8' });
    expect(probe('date -u -d @0 +%s').status).not.toBe(0);
    expect(probe('command -v sha256sum').status).not.toBe(0);
    expect(probe("printf 'YQ==' | base64 -d").stdout).not.toBe('a');
    const lease = (renewTime: string) => writeFileSync(join(fleet, 'leases.json'), JSON.stringify({ 'odp-apply-config': { holderIdentity: 'node-update prod-cp-2 on laptop pid 7', leaseDurationSeconds: 3600, acquireTime: renewTime, renewTime, resourceVersion: '3' } }));
    lease('2099-12-31T23:30:00.000000Z');
    const held = runWith({ PATH: path }, 'node-update', 'prod-gpu-1');
    expect(held.code).toBe(1);
    expect(held.stderr).toContain('deploy: another node change holds the lock (Lease kube-system/odp-apply-config: node-update prod-cp-2 on laptop pid 7, until 2100-01-01T00:30:00Z)');
    lease('2024-02-29T23:00:00.000000Z');
    const r = runWith({ PATH: path }, 'node-update', 'prod-gpu-1');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('deploy: took over the expired lock of node-update prod-cp-2 on laptop pid 7');
    expect(r.stdout).toContain('node prod-gpu-1 (ip-10-30-3-50): g5.xlarge -> g5.2xlarge, Ready again and uncordoned');
  });

  it('a stack deployed before the type parameters: the current type is read off each instance; node-update refuses (its template has no parameter to change) and says to deploy the stack from main first', () => {
    setWorld((w) => {
      for (const x of FIXED) delete w.stack.parameters[x.param];
    });
    const refused = run('nodes');
    expect(refused.code).toBe(1);
    expect(refused.calls.filter((c) => c.includes('describe-instances') && c.includes('InstanceType'))).toHaveLength(4);
    const r = run('node-update', 'prod-gpu-1');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('deploy: stack odp-prod-nodes has no parameter NodeProdGpu1InstanceType: it was deployed before each fixed node\'s instance type was a parameter. Deploy it from the main branch first (sh rendered/prod/aws/deploy.sh nodes there: its types are the running ones, it stops nothing), then run this again\n');
    expect(r.calls.filter((c) => /^(kubectl|aws cloudformation (deploy|update-stack))/.test(c))).toStrictEqual([]);
    expect(world().events).toBeUndefined();
  });

  it('a branch with another change besides the type (its template): node-update deploys none of it, only this node\'s type parameter changes; deploy.sh nodes then finds the type in place', () => {
    setWorld((w) => {
      w.templateChanged = true;
      // The branch also changes prod-cp-2's user data (the stub stops an instance whose user data changes).
      w.instances['i-01aa'].userData = 'old';
      w.templateUserData = { 'i-01aa': 'new' };
    });
    const r = run('node-update', 'prod-gpu-1');
    expect(r.code, r.stderr).toBe(0);
    const w = world();
    expect(w.events.filter((e: string) => /^(stop|start|stack)/.test(e))).toStrictEqual(['stop prod-gpu-1', 'start prod-gpu-1 g5.2xlarge', 'stack updated (its own template): prod-gpu-1']);
    expect(w.instances['i-01aa'].userData).toBe('old');
    expect(w.templateChanged).toBe(true);
    // The other types are still old: deploy.sh nodes still refuses them, and names no change of prod-gpu-1's type.
    const nodes = run('nodes');
    expect(nodes.code).toBe(1);
    expect(nodes.stderr).not.toContain('node-update prod-gpu-1');
    expect(nodes.stderr).toContain('node-update prod-cp-1');
  });

  it('node-update on Talos: kubectl gets a fresh admin kubeconfig through the Talos API first; without a talosconfig it refuses at the start with the setup\'s commands', () => {
    const r = run('node-update', 'prod-gpu-1');
    expect(r.code, r.stderr).toBe(0);
    const first = r.calls.findIndex((c) => c.startsWith('kubectl'));
    expect(r.calls.findIndex((c) => c.startsWith('talosctl kubeconfig --merge=false --force'))).toBeLessThan(first);
    expect(r.calls).toContain(`talosctl kubeconfig --merge=false --force ${join(dir, 'home')}/.odp/prod/kubeconfig --nodes 10.30.1.10`);
    setWorld((w) => (w.stack.parameters.NodeProdGpu1InstanceType = 'g5.xlarge'));
    const none = runWith({ TALOSCONFIG: join(dir, 'nowhere') }, 'node-update', 'prod-gpu-1');
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`deploy: node-update reaches this cluster through the Talos API, and there is no talosconfig at ${join(dir, 'nowhere')}. Write it with the Talos runbook's setup (from the repository root), then run this again:`);
    expect(none.stderr).toContain('  npm run talos -- secrets export --env prod --out $HOME/.odp/prod/secrets.yaml\n');
    expect(none.stderr).toContain('  talosctl config endpoint 10.30.1.10 10.30.2.10 10.30.3.10\n');
    expect(none.calls.filter((c) => /^(kubectl|talosctl)/.test(c))).toStrictEqual([]);
  });

  it('node-update on Talos refuses while a control plane\'s etcd has no leader (talosctl etcd members), touching nothing', () => {
    setWorld((w) => (w.noLeader = true));
    const r = run('node-update', 'prod-cp-1');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('deploy: the control plane is not healthy (control plane 10.30.1.10: its etcd has no leader, or its Talos API does not answer within 15 s (talosctl etcd members --nodes 10.30.1.10)): node prod-cp-1 left alone');
    expect(r.calls.filter((c) => /^(kubectl drain|aws cloudformation (deploy|update-stack))/.test(c))).toStrictEqual([]);
  });

  it('two operators: node-update refuses while another run holds the cluster-wide lock (the Lease apply-config.sh takes too), naming its holder and expiry; an expired one is taken over', () => {
    const lease = (renewTime: string) => writeFileSync(join(fleet, 'leases.json'), JSON.stringify({ 'odp-apply-config': { holderIdentity: 'node-update prod-cp-2 on laptop pid 7', leaseDurationSeconds: 3600, acquireTime: renewTime, renewTime, resourceVersion: '3' } }));
    lease('2099-01-01T00:00:00.000000Z');
    const r = run('node-update', 'prod-cp-1');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('deploy: another node change holds the lock (Lease kube-system/odp-apply-config: node-update prod-cp-2 on laptop pid 7, until 2099-01-01T01:00:00Z): change one node at a time; nothing changed here');
    expect(r.stderr).toContain('delete it sooner: kubectl -n kube-system delete lease odp-apply-config');
    expect(r.calls.filter((c) => /^(kubectl drain|aws cloudformation (deploy|update-stack))/.test(c))).toStrictEqual([]);
    expect(JSON.parse(readFileSync(join(fleet, 'leases.json'), 'utf8'))['odp-apply-config'].holderIdentity).toBe('node-update prod-cp-2 on laptop pid 7');
    lease('2000-01-01T00:00:00.000000Z');
    const taken = run('node-update', 'prod-cp-1');
    expect(taken.code, taken.stderr).toBe(0);
    expect(taken.stderr).toContain('deploy: took over the expired lock of node-update prod-cp-2 on laptop pid 7');
    expect(JSON.parse(readFileSync(join(fleet, 'leases.json'), 'utf8'))).toStrictEqual({});
  });

  it('a fixed node the stack does not have yet (added in this merge): deploy.sh nodes creates it, node-update leaves it to nodes', () => {
    setWorld((w) => {
      for (const x of FIXED) w.stack.parameters[x.param] = deployment.parameters[x.param];
      for (const [id, i] of Object.entries(w.instances) as [string, Doc][]) i.type = w.stack.parameters[w.stack.instances.find((x: Doc) => x.instance === id).param];
      delete w.stack.parameters.NodeProdGpu1InstanceType;
      delete w.stack.outputs.NodeProdGpu1InstanceId;
      w.stack.instances = w.stack.instances.filter((x: Doc) => x.instance !== 'i-03aa');
      delete w.instances['i-03aa'];
      delete w.nodes['10.30.3.50'];
    });
    const added = run('node-update', 'prod-gpu-1');
    expect(added.code).toBe(1);
    expect(added.stderr).toBe('deploy: node prod-gpu-1 has no instance in stack odp-prod-nodes yet: deploy.sh nodes creates it\n');
    const r = run('nodes');
    expect(r.code, r.stderr).toBe(0);
    expect(r.calls.find((c) => c.startsWith('aws cloudformation deploy'))).toContain('NodeProdGpu1InstanceType=g5.2xlarge');
    expect(world().events.filter((e: string) => /^stop/.test(e))).toStrictEqual([]);
  });

  it('node-update refuses an unknown node and a type read back in another shape', () => {
    const r = run('node-update', 'nope');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('usage: deploy.sh node-update <node>; nodes: prod-cp-1, prod-cp-2, prod-cp-3, prod-gpu-1\n');
    setWorld((w) => (w.stack.parameters.NodeProdCp1InstanceType = 'm7i.large;reboot'));
    const bad = run('node-update', 'prod-cp-1');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('deploy: not an instance type for node prod-cp-1: m7i.large;reboot');
  });
});

/**
 * `deploy.sh base|nodes` when CloudFormation fails (generators/infra/aws/stack-states.ts), against the stub's failed
 * deploys (test/support/fixed-fleet.mjs: awscli deployer.py's change set and waiters, the stack statuses CloudFormation
 * leaves): every failure ends with what happened and the exact next command on its last line, and that command, run
 * against the same stub, brings the stack to where deploy.sh goes on.
 */
describe('deploy.sh when a stack update or creation fails', { timeout: 300_000 }, () => {
  const box = sandbox('prod', files);
  const { world, setWorld, run, operator } = box;
  afterAll(() => box.cleanup());
  beforeEach(() => box.reset(fleetOf('odp-prod-nodes', template, FIXED, { ...deployment.parameters })));
  const ROLE = 'arn:aws:iam::333333333333:role/odp-cfn-deploy';
  const EVENTS = 'aws cloudformation describe-stack-events --region eu-west-1 --stack-name odp-prod-nodes';
  /** The message's last line: the exact next command. */
  const next = (stderr: string) => stderr.trimEnd().split('\n').at(-1)!.trim();

  it('a re-run with nothing changed: exit 0, nothing on stderr, no stack touched but the termination protection (already on)', () => {
    for (const step of ['base', 'nodes']) {
      const r = run(step);
      expect([r.code, r.stderr], step).toStrictEqual([0, '']);
      expect(r.stdout).toContain(`No changes to deploy. Stack odp-prod-${step} is up to date`);
      expect(r.calls.filter((c) => / cloudformation (delete-stack|continue-update-rollback|update-stack)/.test(c))).toStrictEqual([]);
      expect(r.calls.at(-1)).toBe(`aws cloudformation update-termination-protection --region eu-west-1 --stack-name odp-prod-${step} --enable-termination-protection`);
    }
    expect(world().events).toBeUndefined();
  });

  it('an update that fails and rolls back (UPDATE_ROLLBACK_COMPLETE): says the stack is as before, the events command, and to run the same step again; which then deploys', () => {
    setWorld((w) => {
      w.deployFails = 'UPDATE_ROLLBACK_COMPLETE';
      w.templateChanged = true;
    });
    const r = run('nodes');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Failed to create/update the stack');
    expect(r.stderr).toContain(`deploy: the update of stack odp-prod-nodes failed and CloudFormation rolled it back (UPDATE_ROLLBACK_COMPLETE): the stack is as it was before. Why it failed: ${EVENTS}. Fix the cause, then run this again:\n  sh rendered/prod/aws/deploy.sh nodes\n`);
    expect(r.calls.filter((c) => c.includes('update-termination-protection'))).toStrictEqual([]);
    // UPDATE_ROLLBACK_COMPLETE can be updated: the same step again deploys.
    const again = operator(next(r.stderr));
    expect([again.code, again.stderr]).toStrictEqual([0, '']);
    expect(world().stack.status).toBe('UPDATE_COMPLETE');
  });

  it('a rollback in progress when deploy.sh starts (another run, Git sync): waited for, then judged', () => {
    setWorld((w) => {
      w.stack.status = 'UPDATE_ROLLBACK_COMPLETE';
      w.statusQueue = ['UPDATE_ROLLBACK_IN_PROGRESS', 'UPDATE_ROLLBACK_IN_PROGRESS', 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS'];
    });
    const r = run('nodes');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('deploy: stack odp-prod-nodes is UPDATE_ROLLBACK_IN_PROGRESS (another run, or its Git sync): waiting for it to end\n');
    expect(r.calls.filter((c) => c === 'sleep 30')).toHaveLength(3);
    expect(r.calls.findIndex((c) => c.startsWith('aws cloudformation deploy'))).toBeGreaterThan(r.calls.lastIndexOf('sleep 30'));
  });

  it('an update whose rollback fails (UPDATE_ROLLBACK_FAILED): continue-update-rollback, its wait and the step again, as one command; refused before any change set until then', () => {
    setWorld((w) => {
      w.deployFails = 'UPDATE_ROLLBACK_FAILED';
      w.templateChanged = true;
    });
    const r = run('nodes');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('deploy: the update of stack odp-prod-nodes failed and so did its rollback (UPDATE_ROLLBACK_FAILED): CloudFormation updates it no more until the rollback is continued.');
    expect(r.stderr).toContain('add --resources-to-skip ITS_LOGICAL_ID to continue-update-rollback');
    const cmd = `aws cloudformation continue-update-rollback --region eu-west-1 --stack-name odp-prod-nodes --role-arn ${ROLE} && aws cloudformation wait stack-rollback-complete --region eu-west-1 --stack-name odp-prod-nodes && sh rendered/prod/aws/deploy.sh nodes`;
    expect(next(r.stderr)).toBe(cmd);
    // Run again as is: refused before the change set (no drain tags, no gates), with the same next command.
    const again = run('nodes');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^deploy: nothing deployed: the update of stack odp-prod-nodes failed and so did its rollback/);
    expect(next(again.stderr)).toBe(cmd);
    expect(again.calls.filter((c) => !c.startsWith('aws cloudformation describe-stacks'))).toStrictEqual([]);
    // The cause not fixed yet: the rollback fails again, the waiter says so, nothing deployed.
    setWorld((w) => (w.rollbackBlocked = true));
    const blocked = operator(cmd);
    expect(blocked.code).toBe(255);
    expect(blocked.stderr).toContain('Waiter StackRollbackComplete failed');
    expect(blocked.calls.filter((c) => c.startsWith('aws cloudformation deploy'))).toStrictEqual([]);
    // Fixed: the rollback completes, and the step runs and deploys.
    setWorld((w) => (w.rollbackBlocked = false));
    const fixed = operator(cmd);
    expect([fixed.code, fixed.stderr]).toStrictEqual([0, '']);
    expect(world().events).toStrictEqual(['deploy failed: UPDATE_ROLLBACK_FAILED', 'rollback continued: UPDATE_ROLLBACK_FAILED', 'rollback continued: UPDATE_ROLLBACK_COMPLETE', 'stack updated']);
  });

  it('a first creation that fails (ROLLBACK_COMPLETE): delete-stack, its wait and the step again, as one command; refused until the stack is deleted', () => {
    setWorld((w) => {
      w.stack.exists = false;
      w.stack.parameters = {};
      w.deployFails = 'ROLLBACK_COMPLETE';
    });
    const r = run('nodes');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`deploy: the creation of stack odp-prod-nodes failed and CloudFormation rolled it back (ROLLBACK_COMPLETE): a stack in this state cannot be updated, only deleted. Why it failed: ${EVENTS}.`);
    // The nodes stack's delete command lifts the instances' termination protection first (none left after the rollback).
    const cmd = `sh rendered/prod/aws/deploy.sh lift-protection && aws cloudformation delete-stack --region eu-west-1 --stack-name odp-prod-nodes --role-arn ${ROLE} && aws cloudformation wait stack-delete-complete --region eu-west-1 --stack-name odp-prod-nodes && sh rendered/prod/aws/deploy.sh nodes`;
    expect(next(r.stderr)).toBe(cmd);
    // No termination protection on the failed stack (it is turned on after a deploy that succeeded only): deletable.
    expect(r.calls.filter((c) => c.includes('update-termination-protection'))).toStrictEqual([]);
    const again = run('nodes');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^deploy: nothing deployed: the creation of stack odp-prod-nodes failed/);
    expect(again.calls.filter((c) => c.startsWith('aws cloudformation deploy') || c.includes('describe-auto-scaling-groups'))).toStrictEqual([]);
    const fixed = operator(cmd);
    expect([fixed.code, fixed.stderr]).toStrictEqual([0, '']);
    expect(world().stack).toMatchObject({ exists: true, status: 'CREATE_COMPLETE', protected: true });
    expect(world().events).toStrictEqual(['deploy failed: ROLLBACK_COMPLETE', 'stack deleted', 'stack updated']);
  });

  // Termination protection (generators/infra/aws/termination.ts): CloudFormation deletes an instance through
  // TerminateInstances, which EC2 refuses for a protected control plane (OperationNotPermitted).
  it('a creation whose rollback could not terminate the protected control planes (ROLLBACK_FAILED): delete-stack alone ends in DELETE_FAILED; the printed command lifts the protection first and recovers', () => {
    setWorld((w) => {
      w.stack.exists = false;
      w.stack.parameters = {};
      w.deployFails = 'ROLLBACK_FAILED';
    });
    const r = run('nodes');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('deploy: stack odp-prod-nodes is ROLLBACK_FAILED: CloudFormation could not delete every resource of it');
    const del = `aws cloudformation delete-stack --region eu-west-1 --stack-name odp-prod-nodes --role-arn ${ROLE} && aws cloudformation wait stack-delete-complete --region eu-west-1 --stack-name odp-prod-nodes && sh rendered/prod/aws/deploy.sh nodes`;
    const cmd = `sh rendered/prod/aws/deploy.sh lift-protection && ${del}`;
    expect(next(r.stderr)).toBe(cmd);
    const cps = FIXED.map((x, i) => [x, `i-0${i}aa`] as const).filter(([x]) => x.role === 'controlplane').map(([, id]) => id);
    expect(cps.length).toBeGreaterThan(0);
    expect(cps.every((id) => world().instances[id].protected === true)).toBe(true);
    // The deletion without the lift: refused for the control planes, the stack DELETE_FAILED, they still run.
    const bare = operator(del);
    expect(bare.code).toBe(255);
    expect(world().stack.status).toBe('DELETE_FAILED');
    expect(world().events.at(-1)).toBe(`stack delete failed: ${cps.join(' ')} OperationNotPermitted`);
    expect(cps.map((id) => world().instances[id].state)).toStrictEqual(cps.map(() => 'running'));
    const again = run('nodes');
    expect(again.stderr).toContain('deploy: nothing deployed: stack odp-prod-nodes is DELETE_FAILED');
    expect(next(again.stderr)).toBe(cmd);
    // The printed command: the protection lifted from every instance the stack holds, the stack deleted, then created.
    const fixed = operator(cmd);
    expect([fixed.code, fixed.stderr]).toStrictEqual([0, '']);
    expect(fixed.stdout).toContain(cps.map((id) => `termination protection lifted: ${id}\n`).join(''));
    expect(fixed.calls.filter((c) => c.includes('modify-instance-attribute'))).toStrictEqual(cps.map((id) => `aws ec2 modify-instance-attribute --region eu-west-1 --instance-id ${id} --no-disable-api-termination`));
    expect(world().events.slice(-cps.length - 2)).toStrictEqual([...cps.map((id) => `protection lifted: ${id}`), 'stack deleted', 'stack updated']);
  });

  // A fixed node the branch removes (deploy.ts removedGate): its instance is in the deployed stack, not in the template.
  const dropNode = (w: Doc, protectedInstance: boolean) => {
    w.stack.outputs.NodeProdCp9InstanceId = 'i-09aa';
    w.stack.descriptions = { NodeProdCp9InstanceId: 'Instance of node prod-cp-9 (10.30.1.19)' };
    w.stack.instances.push({ instance: 'i-09aa', param: 'NodeProdCp9InstanceType', dropped: true });
    w.instances['i-09aa'] = { type: 'm7i.xlarge', state: 'running', ...(protectedInstance ? { protected: true } : {}) };
  };

  it('an update that drops a protected control plane: CloudFormation\'s cleanup skips it (UPDATE_COMPLETE, the instance runs on); deploy.sh nodes refuses first with terminate-node, which the branch\'s script runs for the removed node; then the update passes and the cleanup deletes it', () => {
    setWorld((w) => dropNode(w, true));
    // What the update alone does (the stub as CloudFormation: three refused tries, skipped, the update successful).
    const bare = operator('aws cloudformation deploy --region eu-west-1 --stack-name odp-prod-nodes');
    expect(bare.code).toBe(0);
    expect(world().stack.status).toBe('UPDATE_COMPLETE');
    expect(world().instances['i-09aa']).toMatchObject({ state: 'running', protected: true });
    expect(world().events).toStrictEqual(['cleanup skipped: i-09aa OperationNotPermitted', 'stack updated']);
    box.reset(fleetOf('odp-prod-nodes', template, FIXED, { ...deployment.parameters }));
    setWorld((w) => dropNode(w, true));
    const r = run('nodes');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("deploy: this update removes fixed nodes whose instances carry termination protection: CloudFormation's cleanup cannot terminate them (EC2 refuses: OperationNotPermitted), skips them and still ends UPDATE_COMPLETE");
    expect(r.stderr).toContain('\n  sh rendered/prod/aws/deploy.sh terminate-node prod-cp-9   (i-09aa, running)\nthen deploy.sh nodes again.\n');
    expect(r.calls.filter((c) => c.startsWith('aws cloudformation deploy') || c.includes('modify-instance-attribute'))).toStrictEqual([]);
    // terminate-node knows the removed node from the deployed stack's output.
    const t = run('terminate-node', 'prod-cp-9');
    expect([t.code, t.stderr, t.stdout]).toStrictEqual([0, '', 'terminated i-09aa (prod-cp-9)\n']);
    const ok = run('nodes');
    expect([ok.code, ok.stderr]).toStrictEqual([0, '']);
    expect(world().events).toStrictEqual(['protection lifted: i-09aa', 'terminated: i-09aa', 'cleanup deleted: i-09aa', 'stack updated']);
    expect(world().stack.outputs.NodeProdCp9InstanceId).toBeUndefined();
    // A name neither rendered nor in the stack: the usage.
    const none = run('terminate-node', 'prod-cp-8');
    expect([none.code, none.stderr]).toStrictEqual([2, 'usage: deploy.sh terminate-node <node>; nodes: prod-cp-1, prod-cp-2, prod-cp-3, prod-gpu-1, or a node removed from the environment that stack odp-prod-nodes still has\n']);
  });

  it('an update that drops an unprotected fixed instance passes (the cleanup terminates it)', () => {
    setWorld((w) => dropNode(w, false));
    const r = run('nodes');
    expect([r.code, r.stderr]).toStrictEqual([0, '']);
    expect(world().events).toStrictEqual(['cleanup deleted: i-09aa', 'stack updated']);
  });

  it('an update that created a protected control plane and failed: the rollback could not delete it (UPDATE_ROLLBACK_COMPLETE, the instance runs on its address); the message names it with the lift, terminate and wait before the step again', () => {
    setWorld((w) => {
      w.deployFails = 'UPDATE_ROLLBACK_COMPLETE';
      w.rollbackOrphan = { id: 'i-0f00aa', type: 'm7i.xlarge' };
      w.templateChanged = true;
    });
    const r = run('nodes');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`deploy: the update of stack odp-prod-nodes failed and CloudFormation rolled it back (UPDATE_ROLLBACK_COMPLETE), but its rollback could not delete the instances it had created, which carry termination protection (DELETE_FAILED: ${EVENTS} --query "StackEvents[?ResourceType=='AWS::EC2::Instance' && ResourceStatus=='DELETE_FAILED']"): i-0f00aa, out of the stack`);
    const cmd = 'aws ec2 modify-instance-attribute --region eu-west-1 --instance-id i-0f00aa --no-disable-api-termination && aws ec2 terminate-instances --region eu-west-1 --instance-ids i-0f00aa >/dev/null && aws ec2 wait instance-terminated --region eu-west-1 --instance-ids i-0f00aa && sh rendered/prod/aws/deploy.sh nodes';
    expect(next(r.stderr)).toBe(cmd);
    const fixed = operator(cmd);
    expect([fixed.code, fixed.stderr]).toStrictEqual([0, '']);
    expect(world().instances['i-0f00aa'].state).toBe('terminated');
    expect(world().events).toStrictEqual(['rollback cleanup skipped: i-0f00aa OperationNotPermitted', 'deploy failed: UPDATE_ROLLBACK_COMPLETE', 'protection lifted: i-0f00aa', 'terminated: i-0f00aa', 'stack updated']);
  });

  it('lift-protection skips an instance terminated by hand (CloudFormation still lists it), so the chained delete-stack runs', () => {
    const cps = FIXED.map((x, i) => [x, `i-0${i}aa`] as const).filter(([x]) => x.role === 'controlplane').map(([, id]) => id);
    const gone = operator(`aws ec2 modify-instance-attribute --region eu-west-1 --instance-id ${cps[0]} --no-disable-api-termination && aws ec2 terminate-instances --region eu-west-1 --instance-ids ${cps[0]}`);
    expect(gone.code).toBe(0);
    const r = run('lift-protection');
    expect([r.code, r.stderr]).toStrictEqual([0, '']);
    expect(r.stdout).toContain(`instance ${cps[0]} is terminated: nothing to lift\n`);
    expect(r.calls.filter((c) => c.includes('modify-instance-attribute'))).toStrictEqual(FIXED.map((_, i) => `i-0${i}aa`).filter((id) => id !== cps[0]).map((id) => `aws ec2 modify-instance-attribute --region eu-west-1 --instance-id ${id} --no-disable-api-termination`));
    expect(r.calls.some((c) => c.startsWith('aws cloudformation list-stack-resources'))).toBe(true);
  });

  it('deploy.sh terminate-node lifts a control plane\'s termination protection before it terminates the instance; EC2 refuses the terminate otherwise', () => {
    const i = FIXED.findIndex((x) => x.role === 'controlplane');
    const id = `i-0${i}aa`;
    const bare = operator(`aws ec2 terminate-instances --region eu-west-1 --instance-ids ${id}`);
    expect(bare.code).toBe(254);
    expect(bare.stderr).toContain(`An error occurred (OperationNotPermitted) when calling the TerminateInstances operation: The instance '${id}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.`);
    expect(world().instances[id].state).toBe('running');
    const r = run('terminate-node', FIXED[i]!.node);
    expect([r.code, r.stderr]).toStrictEqual([0, '']);
    expect(r.stdout).toBe(`terminated ${id} (${FIXED[i]!.node})\n`);
    expect(r.calls.filter((c) => c.startsWith('aws ec2 modify-instance-attribute') || c.startsWith('aws ec2 terminate-instances'))).toStrictEqual([
      `aws ec2 modify-instance-attribute --region eu-west-1 --instance-id ${id} --no-disable-api-termination`,
      `aws ec2 terminate-instances --region eu-west-1 --instance-ids ${id}`,
    ]);
    expect(world().instances[id]).toMatchObject({ state: 'terminated', protected: false });
  });

  it('a change set CloudFormation refuses (nothing executed): the stack not changed, the step again; a stack never created: nothing to clean up', () => {
    setWorld((w) => {
      w.changeSetRefused = true;
      w.templateChanged = true;
    });
    const r = run('nodes');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('An error occurred (ValidationError) when calling the CreateChangeSet operation: Template format error');
    expect(r.stderr).toContain("deploy: stack odp-prod-nodes was not changed (it is UPDATE_COMPLETE): the AWS CLI's error above says why");
    expect(next(r.stderr)).toBe('sh rendered/prod/aws/deploy.sh nodes');
    setWorld((w) => {
      w.stack.exists = false;
      w.stack.parameters = {};
    });
    const fresh = run('nodes');
    expect(fresh.code).toBe(1);
    expect(fresh.stderr).toContain("deploy: stack odp-prod-nodes was not created: the AWS CLI's error above says why. Fix the cause, then run this again:\n  sh rendered/prod/aws/deploy.sh nodes\n");
    setWorld((w) => (w.changeSetRefused = false));
    expect(operator(next(fresh.stderr)).code).toBe(0);
  });
});

/**
 * RKE2 on embedded etcd (valid fixture rke2-etcd): the distribution's gate is apply-config.sh's (the API server's
 * /readyz/etcd, every control plane's EtcdIsVoter True, APPLY_GATE.stable passing polls after the restart), and its
 * fixed nodes have user data (their boot script), which no per-node step changes.
 */
describe('node-update and user data on RKE2 with embedded etcd', { timeout: 300_000 }, () => {
  const rendered = [...renderValidFixture('rke2-etcd.yaml')].map(([path, content]) => ({ path, content }));
  const tpl = parseYamlStream(rendered.find((f) => f.path === 'aws/nodes.yaml')!.content)[0] as Doc;
  const dep = parseYamlStream(rendered.find((f) => f.path === 'aws/nodes.deployment.yaml')!.content)[0] as Doc;
  const fixed = chain(tpl);
  const stackName = /nodes_stack_exists\(\) \{\n  stack_status '([^']+)'/.exec(rendered.find((f) => f.path === 'aws/deploy.sh')!.content)![1]!;
  const box = sandbox('rke2-etcd', rendered);
  const { world, setWorld, run, runWith } = box;
  afterAll(() => box.cleanup());
  const cp = (n: number) => fixed.find((x) => x.node === `cp-${n}`)!;
  const instanceOf = (n: number) => `i-0${fixed.indexOf(cp(n))}aa`;
  beforeEach(() => {
    // cp-1 one size smaller in the stack: the branch changes its type.
    box.reset(fleetOf(stackName, tpl, fixed, { ...dep.parameters, [cp(1).param]: 'm7i.medium' }));
  });
  const stops = () => (world().events ?? []).filter((e: string) => /^stop/.test(e));

  it('the fixture: three control planes with user data, cp-1 first in the chain', () => {
    expect(fixed.slice(0, 3).map((x) => [x.node, x.role, typeof x.userData])).toStrictEqual([
      ['cp-1', 'controlplane', 'string'],
      ['cp-2', 'controlplane', 'string'],
      ['cp-3', 'controlplane', 'string'],
    ]);
  });

  it('the branch also changes cp-2\'s user data: node-update cp-1 stops cp-1 alone, gated on etcd (EtcdIsVoter, /readyz/etcd, 3 passing polls); deploy.sh nodes then names cp-2 with its drain and deploys it alone', () => {
    // cp-2 runs the previous commit's user data; the branch's template has the rendered one.
    setWorld((w) => {
      w.templateChanged = true;
      w.instances[instanceOf(2)].userData = b64('#cloud-config\n# the previous commit\n');
      w.templateUserData = { [instanceOf(2)]: cp(2).userData };
    });
    const r = run('node-update', 'cp-1');
    expect(r.code, r.stderr).toBe(0);
    expect(stops()).toStrictEqual(['stop cp-1']);
    expect(world().instances[instanceOf(2)].userData).toBe(b64('#cloud-config\n# the previous commit\n'));
    expect(r.calls).toContain(`kubectl get --raw /readyz/etcd ${BOUND}`);
    expect(r.calls.some((c) => c.startsWith('kubectl get nodes -l node-role.kubernetes.io/control-plane') && c.includes('EtcdIsVoter'))).toBe(true);
    // Back after 2 polls (the boot), then 2 more: 3 passing gates in a row.
    expect(r.calls.filter((c) => c === 'sleep 10')).toHaveLength(4);
    const nodes = run('nodes');
    expect(nodes.code, nodes.stderr).toBe(0);
    expect(nodes.stderr).not.toContain('node-update');
    expect(nodes.stderr).toContain('deploy: node cp-2: this update changes its user data. CloudFormation stops and starts its instance (AWS::EC2::Instance UserData: Update requires: Some interruptions), undrained');
    expect(nodes.stderr).toContain(`  kubectl drain "$(kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name} {.status.addresses[?(@.type=="InternalIP")].address}{"\\n"}{end}' | awk '$2 == "10.10.1.11" { print $1 }')" --ignore-daemonsets --delete-emptydir-data --force --timeout=5m\n`);
    expect(nodes.stderr).not.toContain('node cp-1:');
    expect(stops()).toStrictEqual(['stop cp-1', 'stop cp-2']);
  });

  it('with macOS\'s tools (no sha256sum, base64 -d not a decode): deploy.sh nodes still tells the node whose user data changes from those whose does not', () => {
    setWorld((w) => {
      w.stack.parameters[cp(1).param] = dep.parameters[cp(1).param];
      w.instances[instanceOf(1)].type = dep.parameters[cp(1).param];
      w.templateChanged = true;
      w.instances[instanceOf(2)].userData = b64('#cloud-config\n# the previous commit\n');
      w.templateUserData = { [instanceOf(2)]: cp(2).userData };
    });
    const r = runWith({ PATH: `${join(box.dir, 'bin')}:${bsdPath(box.dir)}` }, 'nodes');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('deploy: node cp-2: this update changes its user data.');
    expect(r.stderr).not.toMatch(/deploy: node cp-[13]:/);
    expect(stops()).toStrictEqual(['stop cp-2']);
  });

  it('node-update refuses while a control plane\'s etcd member is not a healthy voter, touching nothing', () => {
    setWorld((w) => (w.nodes[cp(3).ip].voter = 'False'));
    const r = run('node-update', 'cp-1');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('deploy: the control plane is not healthy (the etcd member of ip-10-10-1-12 is not a healthy voter (EtcdIsVoter)): node cp-1 left alone');
    expect(r.calls.filter((c) => /^(kubectl drain|aws cloudformation (deploy|update-stack))/.test(c))).toStrictEqual([]);
  });

  it('a control plane\'s user data changing together with another node\'s: deploy.sh nodes refuses, naming both, unless ODP_CONFIRM_USER_DATA names exactly them', () => {
    setWorld((w) => {
      w.stack.parameters[cp(1).param] = dep.parameters[cp(1).param];
      w.instances[instanceOf(1)].type = dep.parameters[cp(1).param];
      w.templateChanged = true;
      for (const n of [1, 2]) w.instances[instanceOf(n)].userData = b64(`#cloud-config\n# cp-${n}, the previous commit\n`);
      w.templateUserData = { [instanceOf(1)]: cp(1).userData, [instanceOf(2)]: cp(2).userData };
    });
    const refused = run('nodes');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('deploy: node cp-1: this update changes its user data.');
    expect(refused.stderr).toContain('deploy: node cp-2: this update changes its user data.');
    expect(refused.stderr).toContain("deploy: a control plane's user data changes together with another node's (cp-1 cp-2): CloudFormation would stop them one after another");
    expect(refused.stderr).toContain("ODP_CONFIRM_USER_DATA='cp-1 cp-2' sh rendered/rke2-etcd/aws/deploy.sh nodes");
    expect(refused.calls.filter((c) => c.startsWith('aws cloudformation deploy'))).toStrictEqual([]);
    expect(runWith({ ODP_CONFIRM_USER_DATA: 'cp-1' }, 'nodes').code).toBe(1);
    // Confirmed, but cp-2 not drained (not cordoned): refused, naming it; nothing deployed.
    setWorld((w) => (w.nodes[cp(1).ip].cordoned = true));
    const undrained = runWith({ ODP_CONFIRM_USER_DATA: 'cp-1 cp-2' }, 'nodes');
    expect(undrained.code).toBe(1);
    expect(undrained.stderr).toContain('deploy: ODP_CONFIRM_USER_DATA confirms cp-1 cp-2, but not cordoned (not drained): cp-2 (ip-10-10-1-11). CloudFormation would stop them with their pods on them. Nothing deployed.');
    expect(undrained.stderr).toContain('also set ODP_USER_DATA_UNDRAINED=1');
    expect(undrained.calls).toContain(`kubectl get node ip-10-10-1-11 -o jsonpath={.spec.unschedulable} ${BOUND}`);
    expect(undrained.calls.filter((c) => c.startsWith('aws cloudformation deploy'))).toStrictEqual([]);
    expect(stops()).toStrictEqual([]);
    // Both drained: deployed, each named with its uncordon command for after the update.
    setWorld((w) => (w.nodes[cp(2).ip].cordoned = true));
    const confirmed = runWith({ ODP_CONFIRM_USER_DATA: 'cp-1 cp-2' }, 'nodes');
    expect(confirmed.code, confirmed.stderr).toBe(0);
    expect(confirmed.stderr).toContain('deploy: the drained nodes stay cordoned after the update: uncordon each once its Node is Ready again (kubectl get node NAME):\n  kubectl uncordon ip-10-10-1-10   (cp-1)\n  kubectl uncordon ip-10-10-1-11   (cp-2)\n');
    expect(stops()).toStrictEqual(['stop cp-1', 'stop cp-2']);
  });

  it('ODP_USER_DATA_UNDRAINED=1: the confirmed nodes stopped undrained on purpose, said before the deploy', () => {
    setWorld((w) => {
      w.stack.parameters[cp(1).param] = dep.parameters[cp(1).param];
      w.instances[instanceOf(1)].type = dep.parameters[cp(1).param];
      w.templateChanged = true;
      for (const n of [1, 2]) w.instances[instanceOf(n)].userData = b64(`#cloud-config\n# cp-${n}, the previous commit\n`);
      w.templateUserData = { [instanceOf(1)]: cp(1).userData, [instanceOf(2)]: cp(2).userData };
    });
    const r = runWith({ ODP_CONFIRM_USER_DATA: 'cp-1 cp-2', ODP_USER_DATA_UNDRAINED: '1' }, 'nodes');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('deploy: ODP_USER_DATA_UNDRAINED=1: stopping undrained: cp-1 (ip-10-10-1-10), cp-2 (ip-10-10-1-11)\n');
    expect(r.stderr).not.toContain('kubectl uncordon');
    expect(stops()).toStrictEqual(['stop cp-1', 'stop cp-2']);
  });
});
