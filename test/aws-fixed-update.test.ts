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
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { FIXED_INSTANCE_UPDATES } from '../generators/infra/aws/instance-updates.js';
import { cfnSpec } from '../generators/infra/aws/spec/spec.js';
import { renderExample, ROOT } from './helpers.js';

type Doc = Record<string, any>;
const files = renderExample('prod');
const read = (path: string): Doc => parseYamlStream(files.find((f) => f.path === path)!.content)[0] as Doc;
const template = read('aws/nodes.yaml');
const deployment = read('aws/nodes.deployment.yaml');

/** The fixed instances in the order CloudFormation updates them: each after the one it DependsOn. */
function chain(): { id: string; node: string; param: string; ip: string; role: string }[] {
  const instances = Object.entries(template.Resources as Record<string, Doc>).filter(([, r]) => r.Type === 'AWS::EC2::Instance');
  const done: string[] = [];
  while (done.length < instances.length)
    for (const [id, r] of instances) if (!done.includes(id) && (r.DependsOn ?? []).every((d: string) => done.includes(d))) done.push(id);
  return done.map((id) => {
    const p = (template.Resources[id] as Doc).Properties;
    const tag = (k: string) => p.Tags.find((t: Doc) => t.Key === k).Value;
    return { id, node: tag('Name'), param: p.InstanceType.Ref, ip: p.PrivateIpAddress, role: tag('odp:role') };
  });
}
const FIXED = chain();
/** The types the running stack has: the previous commit's (every node one size smaller). */
const OLD: Record<string, string> = { 'm7i.xlarge': 'm7i.large', 'g5.2xlarge': 'g5.xlarge' };

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

describe('a fixed node’s new instance type, in motion', () => {
  let dir: string;
  let repo: string;
  let bin: string;
  let fleet: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'odp-fixed-'));
    repo = join(dir, 'repo');
    bin = join(dir, 'bin');
    fleet = join(dir, 'fleet');
    mkdirSync(bin);
    mkdirSync(fleet);
    for (const f of files) {
      const p = join(repo, 'rendered', 'prod', f.path);
      mkdirSync(join(p, '..'), { recursive: true });
      writeFileSync(p, f.content);
    }
    const stub = join(ROOT, 'test/support/fixed-fleet.mjs');
    for (const c of ['aws', 'kubectl', 'sleep']) symlinkSync(stub, join(bin, c));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const world = (): Doc => JSON.parse(readFileSync(join(fleet, 'fleet.json'), 'utf8'));
  const setWorld = (change: (w: Doc) => void) => {
    const w = world();
    change(w);
    writeFileSync(join(fleet, 'fleet.json'), JSON.stringify(w));
  };
  beforeEach(() => {
    const params: Record<string, string> = { ...deployment.parameters };
    for (const x of FIXED) params[x.param] = OLD[params[x.param]!]!;
    const w = {
      stack: {
        name: 'odp-prod-nodes',
        exists: true,
        deployRole: 'arn:aws:iam::333333333333:role/odp-prod-cfn-deploy',
        templateParameters: Object.keys(template.Parameters),
        parameters: params,
        outputs: Object.fromEntries(FIXED.map((x, i) => [`${x.id}InstanceId`, `i-0${i}aa`])),
        instances: FIXED.map((x, i) => ({ instance: `i-0${i}aa`, param: x.param })),
      },
      instances: Object.fromEntries(FIXED.map((x, i) => [`i-0${i}aa`, { type: params[x.param], state: 'running' }])),
      nodes: {
        ...Object.fromEntries(FIXED.map((x, i) => [x.ip, { name: `ip-${x.ip.replace(/\./g, '-')}`, fixed: x.node, role: x.role, ready: 'True', boot: `boot-${x.node}`, instance: `i-0${i}aa` }])),
        '10.30.1.99': { name: 'ip-10-30-1-99', role: 'worker', ready: 'True', boot: 'boot-pool' },
      },
      pods: [
        { ns: 'ml', name: 'inference-0', app: 'inference', node: 'ip-10-30-3-50' },
        { ns: 'ml', name: 'inference-1', app: 'inference', node: 'ip-10-30-1-99' },
        { ns: 'kube-system', name: 'cilium-gpu', app: 'cilium', node: 'ip-10-30-3-50', daemonSet: true },
      ],
      pdbs: [{ ns: 'ml', app: 'inference', minAvailable: 1 }],
      bootAsks: 2,
    };
    writeFileSync(join(fleet, 'fleet.json'), JSON.stringify(w));
    writeFileSync(join(fleet, 'calls.log'), '');
  });
  const run = (...args: string[]) => {
    writeFileSync(join(fleet, 'calls.log'), '');
    const r = spawnSync('sh', ['rendered/prod/aws/deploy.sh', ...args], { cwd: repo, env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, FLEET: fleet }, encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, calls: readFileSync(join(fleet, 'calls.log'), 'utf8').trim().split('\n').filter(Boolean) };
  };
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
      expect(order.indexOf('kubectl drain ip-' + x.ip.replace(/\./g, '-'))).toBeLessThan(order.indexOf('aws cloudformation deploy'));
      expect(order.at(-1)).toBe(`kubectl uncordon ip-${x.ip.replace(/\./g, '-')}`);
      // The stack update: this node's new type, every other node's current one.
      const deploy = r.calls.find((c) => c.startsWith('aws cloudformation deploy'))!;
      for (const y of FIXED) expect(deploy).toContain(`${y.param}=${world().stack.parameters[y.param]}`);
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
    expect(r.calls.filter((c) => c.startsWith('aws cloudformation deploy'))).toStrictEqual([]);
    const w = world();
    expect(w.events).toStrictEqual(['uncordon ip-10-30-3-50']);
    expect(w.instances['i-03aa'].type).toBe('g5.xlarge');
  });

  it('node-update refuses, touching nothing, while a control plane is not Ready, or when kubectl reaches another cluster', () => {
    setWorld((w) => (w.nodes['10.30.2.10'].ready = 'False'));
    const down = run('node-update', 'prod-cp-1');
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('deploy: the control plane is not healthy (a control-plane Node not Ready: ip-10-30-2-10, or the API server\'s /readyz not ok): node prod-cp-1 left alone');
    setWorld((w) => {
      w.nodes['10.30.2.10'].ready = 'True';
      w.otherCluster = true;
    });
    const other = run('node-update', 'prod-cp-1');
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('deploy: no Node with address 10.30.1.10 in the cluster kubectl reaches (KUBECONFIG)');
    for (const r of [down, other]) expect(r.calls.filter((c) => /^(kubectl drain|aws cloudformation deploy)/.test(c))).toStrictEqual([]);
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
  });

  it('a stack deployed before the type parameters: the current type is read off each instance; the first update from it keeps every running type', () => {
    setWorld((w) => {
      for (const x of FIXED) delete w.stack.parameters[x.param];
    });
    const refused = run('nodes');
    expect(refused.code).toBe(1);
    expect(refused.calls.filter((c) => c.includes('describe-instances') && c.includes('InstanceType'))).toHaveLength(4);
    const r = run('node-update', 'prod-gpu-1');
    expect(r.code, r.stderr).toBe(0);
    expect(world().stack.parameters).toMatchObject({ NodeProdCp1InstanceType: 'm7i.large', NodeProdGpu1InstanceType: 'g5.2xlarge' });
    expect(world().events.filter((e: string) => /^stop/.test(e))).toStrictEqual(['stop prod-gpu-1']);
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
