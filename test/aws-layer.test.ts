/**
 * The AWS layer (issue 20) on the example environments and fixtures: what every environment gets
 * (templates, deployment files), what the issue's "Must show" asks of them (launch templates with
 * IMDSv2, auto-scaling groups, instances with their addresses, the API load balancer and its DNS
 * record, the ports between roles and nothing from 0.0.0.0/0, buckets, IRSA both sides), the
 * refusals positioned in the environment file, and the layer's own boundaries (no distribution named
 * in it: their facts live in their folders, Distribution.aws; no specification loaded by synth).
 */
import { gunzipSync } from 'node:zlib';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { awsPlan } from '../generators/infra/aws/plan.js';
import { drainsPools } from '../generators/infra/aws/drain.js';
import { maxHealthyPercentage, poolMaxSize, poolSurge, rollBatch, rollWords } from '../generators/infra/aws/roll.js';
import { baseTemplate, nodesTemplate } from '../generators/infra/aws/stacks.js';
import { deployScript } from '../generators/infra/aws/deploy.js';
import { talosCluster } from '../generators/distributions/talos/model.js';
import { TALOS_BACKUP_IMAGE, TALOS_BACKUP_S3_REQUESTS } from '../generators/distributions/talos/addons/etcd-backup.js';
import { ingressRules, portTable } from '../generators/infra/aws/ports.js';
import { specLoaded } from '../generators/infra/aws/spec/spec.js';
import { generateTypes, TYPES_FILE } from '../generators/infra/aws/spec/generate-types.js';
import { checkRenderedTree } from '../generators/validate/rendered/registry.js';
import { parseRenderedTree } from '../generators/validate/rendered/tree.js';
import { formatDiagnostic } from '../generators/validate/diagnostics.js';
import { exampleSources, fixtureSources, formatted, ROOT } from './helpers.js';

type Doc = Record<string, any>;
const EXAMPLES = ['dev', 'staging', 'prod', 'dev-k3s', 'staging-k3s'] as const;

function rendered(name: string, sources = exampleSources()) {
  const r = prepareEnvironment(name, sources);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  const files = renderEnvironment(r.prepared);
  const text = (p: string) => files.find((f) => f.path === p)?.content;
  const doc = (p: string): Doc => parseYamlStream(text(p) ?? '')[0] as Doc;
  return { model: r.prepared.model, files, text, doc };
}

const resourcesOf = (t: Doc, type: string): [string, Doc][] => Object.entries(t.Resources as Record<string, Doc>).filter(([, r]) => r.Type === type);

// Must run first in this file: rendering pays for nothing of the specification.
describe('synth stays light', () => {
  it('rendering every example loads neither the CloudFormation specification nor the IAM data', () => {
    for (const env of EXAMPLES) rendered(env);
    expect(specLoaded()).toBe(false);
  });
});

describe('every example renders its AWS layer', () => {
  it.each(EXAMPLES)('%s: base, nodes and git-sync templates, a Git sync deployment file per synced stack, the scripts', (env) => {
    const { files, doc, model } = rendered(env);
    const aws = files.filter((f) => f.path.startsWith('aws/')).map((f) => f.path);
    expect(aws).toEqual(expect.arrayContaining(['aws/base.yaml', 'aws/nodes.yaml', 'aws/git-sync.yaml', 'aws/base.deployment.yaml', 'aws/nodes.deployment.yaml', 'aws/deploy.sh', 'aws/enable-git-sync.sh']));
    for (const stack of ['base', 'nodes']) {
      const d = doc(`aws/${stack}.deployment.yaml`);
      expect(d['template-file-path']).toBe(`rendered/${env}/aws/${stack}.yaml`);
      expect(d.tags).toStrictEqual({ 'odp:cluster': model.cluster.name, 'odp:environment': env, 'odp:stack': stack });
    }
    // Every parameter of the nodes stack has its value in the deployment file (the examples' locks hold every image).
    expect(Object.keys(doc('aws/nodes.deployment.yaml').parameters).sort()).toStrictEqual(Object.keys(doc('aws/nodes.yaml').Parameters).sort());
  });

  it('the rendered example templates validate against the CloudFormation specification, IAM data and the layer’s rules', async () => {
    const files = new Map<string, string>();
    for (const env of EXAMPLES) for (const f of rendered(env).files) if (f.path.startsWith('aws/')) files.set(`${env}/${f.path}`, f.content);
    const findings = await checkRenderedTree(parseRenderedTree(files));
    expect(findings.map(formatDiagnostic)).toStrictEqual([]);
    expect(specLoaded()).toBe(true);
  });

  it('the generated resource types are current with the pinned specification', () => {
    expect(readFileSync(TYPES_FILE, 'utf8')).toBe(generateTypes());
  });
});

describe('Must show: nodes', () => {
  it.each(EXAMPLES)('%s: each pool a launch template (IMDSv2 required) and an auto-scaling group; each fixed node an instance with its address', (env) => {
    const { model, doc } = rendered(env);
    const nodes = doc('aws/nodes.yaml');
    const plan = awsPlan(model, model.aws.images);
    const lts = resourcesOf(nodes, 'AWS::EC2::LaunchTemplate');
    const asgs = resourcesOf(nodes, 'AWS::AutoScaling::AutoScalingGroup');
    const instances = resourcesOf(nodes, 'AWS::EC2::Instance');
    for (const p of model.pools.filter((x) => x.count !== undefined)) {
      const [ltId, lt] = lts.find(([, r]) => r.Properties.LaunchTemplateName === `${model.cluster.name}-${p.name}`)!;
      expect(lt.Properties.LaunchTemplateData.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpEndpoint: 'enabled' });
      expect(lt.Properties.LaunchTemplateData.InstanceType).toBe(p.instanceType);
      const [, asg] = asgs.find(([, r]) => r.Properties.AutoScalingGroupName === `${model.cluster.name}-${p.name}`)!;
      expect(asg.Properties.LaunchTemplate).toStrictEqual({ LaunchTemplateId: { Ref: ltId }, Version: { 'Fn::GetAtt': [ltId, 'LatestVersionNumber'] } });
      // MaxSize leaves the refresh its room above the size, whichever way AWS rounds it (roll.ts poolSurge).
      const max = asg.UpdatePolicy.AutoScalingInstanceRefresh.Preferences.MaxHealthyPercentage as number;
      expect([asg.Properties.MinSize, asg.Properties.MaxSize, asg.Properties.DesiredCapacity]).toStrictEqual([String(p.count), String(p.count! + rollBatch(p.count!, max)[1]), String(p.count)]);
      expect(asg.UpdatePolicy.AutoScalingInstanceRefresh).toMatchObject({ Strategy: 'Rolling', Preferences: { MinHealthyPercentage: 100 } });
      expect(lt.Properties.LaunchTemplateData.MetadataOptions.HttpPutResponseHopLimit).toBe(plan.pools.find((x) => x.pool.name === p.name)!.hopLimit);
    }
    expect(lts.length).toBe(model.pools.filter((x) => x.count !== undefined).length);
    for (const n of model.nodes) {
      const found = instances.find(([, r]) => r.Properties.PrivateIpAddress === n.ip);
      expect(found, n.name).toBeDefined();
      const props = found![1].Properties;
      expect(props.Tags).toContainEqual({ Key: 'Name', Value: n.name });
      expect(props.SubnetId).toBe(n.subnet!.id);
      expect(props.MetadataOptions.HttpTokens).toBe('required');
      // Termination protection on control planes (datastore members) only (termination.ts).
      const role = model.pools.find((x) => x.nodes.some((y) => y.name === n.name))!.role;
      expect(props.DisableApiTermination, n.name).toBe(role === 'controlplane' ? true : undefined);
    }
    expect(instances.length).toBe(model.nodes.length);
  });

  // AWS documents MaxHealthyPercentage against the desired capacity and nothing of MaxSize during a replacement, nor how
  // a fraction of an instance above 100 % rounds (roll.ts): MaxSize makes room for the larger rounding.
  it('a pool\'s MaxSize is its size plus the refresh\'s room above 100 % rounded up: a pool of 3 may replace 1 or 2 at once, and MaxSize 5 holds both', () => {
    expect(maxHealthyPercentage(3)).toBe(134);
    expect(rollBatch(3, 134)).toStrictEqual([1, 2]);
    expect(rollWords(3, 134)).toMatch(/^1 or 2 instances at a time/);
    expect([1, 2, 3, 4, 5, 10].map((n) => [n, poolSurge(n), poolMaxSize(n)])).toStrictEqual([[1, 1, 2], [2, 1, 3], [3, 2, 5], [4, 1, 5], [5, 1, 6], [10, 1, 11]]);
    // 133 % would be a room of 0.99 instances: zero if AWS rounds down (a refresh that cannot move).
    expect((3 * 33) / 100).toBeLessThan(1);
  });

  it('K3s/RKE2 nodes boot with the rendered user data; Talos nodes with none (their configs hold the join secrets)', () => {
    const k3s = rendered('staging-k3s');
    for (const [, r] of resourcesOf(k3s.doc('aws/nodes.yaml'), 'AWS::EC2::Instance')) {
      const name = r.Properties.Tags.find((t: Doc) => t.Key === 'Name').Value;
      const file = k3s.files.find((f) => f.path === `k3s/userdata/${name}.yaml`)!.content;
      // The rendered file carries the generated-file header after #cloud-config; the body is the same, gunzipped.
      expect(typeof r.Properties.UserData).toBe('string');
      expect(file.replace(/^(#cloud-config\n)(#[^\n]*\n)+/, '$1')).toBe(gunzipSync(Buffer.from(r.Properties.UserData, 'base64')).toString('utf8'));
    }
    const prod = rendered('prod').doc('aws/nodes.yaml');
    for (const [, r] of [...resourcesOf(prod, 'AWS::EC2::Instance'), ...resourcesOf(prod, 'AWS::EC2::LaunchTemplate')]) expect(JSON.stringify(r)).not.toContain('UserData');
  });

  it('Talos pools hold new instances under a launch lifecycle hook until their config is applied; K3s pools until their boot script releases them', () => {
    for (const [, asg] of resourcesOf(rendered('prod').doc('aws/nodes.yaml'), 'AWS::AutoScaling::AutoScalingGroup'))
      expect(asg.Properties.LifecycleHookSpecificationList[0]).toStrictEqual({ LifecycleHookName: 'talos-apply', LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', HeartbeatTimeout: 7200, DefaultResult: 'ABANDON' });
    const groups = resourcesOf(rendered('staging-k3s').doc('aws/nodes.yaml'), 'AWS::AutoScaling::AutoScalingGroup');
    expect(groups.length).toBeGreaterThan(0);
    for (const [, asg] of groups) {
      expect(asg.Properties.LifecycleHookSpecificationList[0]).toStrictEqual({ LifecycleHookName: 'node-joined', LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', HeartbeatTimeout: 1800, DefaultResult: 'ABANDON' });
      // Beside it, the drain's termination hook (drain.ts).
      expect(asg.Properties.LifecycleHookSpecificationList.map((h: Doc) => h.LifecycleTransition)).toStrictEqual(['autoscaling:EC2_INSTANCE_LAUNCHING', 'autoscaling:EC2_INSTANCE_TERMINATING']);
    }
  });

  it('IMDS hop limits by role: 2 only where the AWS controllers are pinned (and where Talos backs up etcd), 1 elsewhere', () => {
    const prod = rendered('prod');
    const plan = awsPlan(prod.model, prod.model.aws.images);
    const hop = (pool: string) => plan.pools.find((p) => p.pool.name === pool)!.hopLimit;
    // prod (Talos): the controllers and the etcd backup run on the control planes; no worker pool needs IMDS.
    expect([hop('control-plane'), hop('general-amd64'), hop('general-arm64'), hop('gpu')]).toStrictEqual([2, 1, 1, 1]);
    expect(plan.pools.find((p) => p.pool.name === 'gpu')!.role).toBe('gpu');
    const k3s = rendered('staging-k3s');
    const kp = awsPlan(k3s.model, k3s.model.aws.images);
    // staging-k3s names general-amd64 (aws.iam.controllersPool): the servers and the other pools get 1.
    expect(kp.pools.map((p) => [p.pool.name, p.hopLimit, p.role])).toStrictEqual([
      ['server', 1, 'controlplane'],
      ['general-amd64', 2, 'controllers'],
      ['general-arm64', 1, 'worker'],
      ['gpu', 1, 'gpu'],
    ]);
  });

  it('fixed nodes keep the AMI they were created with (lock nodeImages); pools use their class’s current image', () => {
    const sources = exampleSources();
    const lock = JSON.parse(sources.get('environments/prod.ssm.lock.json')!);
    const classParam = Object.keys(lock.parameters).find((k) => k.includes('/amd64/3765'))!;
    lock.parameters[classParam].value = 'ami-0123456789abcdef0';
    sources.set('environments/prod.ssm.lock.json', JSON.stringify(lock));
    const { doc } = rendered('prod', sources);
    const params = doc('aws/nodes.deployment.yaml').parameters;
    expect(params.ImageAmd64).toBe('ami-0123456789abcdef0');
    expect(params.NodeProdCp1Image).toBe(lock.nodeImages['prod-cp-1']);
    expect(params.NodeProdCp1Image).not.toBe('ami-0123456789abcdef0');
  });
});

/**
 * Draining before termination: the AWS Node Termination Handler's Queue Processor setup
 * (aws/aws-node-termination-handler v1.25.6 README.md:300-495; infra/aws/drain.ts cites each part).
 */
describe('Must show: pool instances are drained before EC2 terminates them', () => {
  // Talos and K3s (RKE2: below); Argo CD and Flux.
  const DRAINED = [['prod', 'apps'], ['staging-k3s', 'flux'], ['dev-k3s', 'apps']] as const;
  it.each(DRAINED)('%s: every pool group has the TERMINATING hook (CONTINUE after 300 s) and propagates the handler tag', (name) => {
    const e = rendered(name);
    const asgs = resourcesOf(e.doc('aws/nodes.yaml'), 'AWS::AutoScaling::AutoScalingGroup');
    expect(asgs.length).toBe(e.model.pools.filter((p) => p.count !== undefined).length);
    for (const [, asg] of asgs) {
      // README.md:375-379: --lifecycle-transition=autoscaling:EC2_INSTANCE_TERMINATING --default-result=CONTINUE --heartbeat-timeout=300
      expect(asg.Properties.LifecycleHookSpecificationList).toContainEqual({ LifecycleHookName: 'node-drain', LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', HeartbeatTimeout: 300, DefaultResult: 'CONTINUE' });
      // README.md:396-404: the tag propagated from the group to its instances (sqs-monitor.go:433-441 reads the instance's tags).
      expect(asg.Properties.Tags).toContainEqual({ Key: `aws-node-termination-handler/${e.model.cluster.name}`, Value: 'owned', PropagateAtLaunch: true });
    }
  });

  it.each(DRAINED)('%s: the base stack has the SSE queue, its policy for EventBridge and the five rules to it', (name) => {
    const e = rendered(name);
    const base = e.doc('aws/base.yaml');
    const queue = resourcesOf(base, 'AWS::SQS::Queue')[0]![1];
    expect(queue.Properties).toStrictEqual({ QueueName: `${e.model.cluster.name}-node-termination`, MessageRetentionPeriod: 300, SqsManagedSseEnabled: true });
    const policy = resourcesOf(base, 'AWS::SQS::QueuePolicy')[0]![1];
    // Only EventBridge, and only this stack's five rules (ArnEquals aws:SourceArn, as the EventBridge User Guide's
    // "Amazon SQS permissions" policy has it; infra/aws/drain.ts queuePolicyStatement): no confused deputy, no
    // sqs.amazonaws.com (NTH README.md:326-345 names it; nothing here sends as it).
    const ruleIds = resourcesOf(base, 'AWS::Events::Rule').map(([id]) => id);
    expect(ruleIds).toHaveLength(5);
    const [statement, ...more] = policy.Properties.PolicyDocument.Statement;
    expect(more).toStrictEqual([]);
    const { Condition, ...rest } = statement;
    expect(rest).toStrictEqual({ Sid: 'NodeDrainRulesOnly', Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': ['NodeDrainQueue', 'Arn'] } });
    expect(Object.keys(Condition)).toStrictEqual(['ArnEquals']);
    expect(Object.keys(Condition.ArnEquals)).toStrictEqual(['aws:SourceArn']);
    expect(Condition.ArnEquals['aws:SourceArn']).toHaveLength(ruleIds.length);
    expect(Condition.ArnEquals['aws:SourceArn']).toEqual(expect.arrayContaining(ruleIds.map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] }))));
    expect(JSON.stringify(base)).not.toContain('sqs.amazonaws.com');
    const rules = resourcesOf(base, 'AWS::Events::Rule').map(([, r]) => r.Properties);
    expect(rules.map((r) => r.EventPattern['detail-type'][0]).sort()).toStrictEqual(['AWS Health Event', 'EC2 Instance Rebalance Recommendation', 'EC2 Instance State-change Notification', 'EC2 Instance-terminate Lifecycle Action', 'EC2 Spot Instance Interruption Warning']);
    for (const r of rules) expect(r.Targets).toStrictEqual([{ Id: 'queue', Arn: { 'Fn::GetAtt': ['NodeDrainQueue', 'Arn'] } }]);
    // Only this cluster's groups' terminations; launch actions stay the distribution's (README.md:500-528).
    const groups = resourcesOf(e.doc('aws/nodes.yaml'), 'AWS::AutoScaling::AutoScalingGroup').map(([, a]) => a.Properties.AutoScalingGroupName).sort();
    expect(rules.find((r) => r.EventPattern.source[0] === 'aws.autoscaling')!.EventPattern.detail.AutoScalingGroupName.sort()).toStrictEqual(groups);
    expect(JSON.stringify(rules)).not.toContain('launch Lifecycle');
  });

  it.each(DRAINED)('%s: the handler renders in Queue Processor mode, pinned with the credentialed controllers, whose node role holds its permissions', (name, engine) => {
    const e = rendered(name);
    const values = parseYamlStream(e.text('values/aws-node-termination-handler.yaml')!)[0] as Doc;
    const c = e.model.cluster.name;
    expect(values).toMatchObject({
      enableSqsTerminationDraining: true,
      queueURL: `https://sqs.${e.model.aws.region}.amazonaws.com/${e.model.aws.accountId}/${c}-node-termination`,
      awsRegion: e.model.aws.region,
      checkTagBeforeDraining: true,
      managedTag: `aws-node-termination-handler/${c}`,
      useProviderId: true,
      nodeTerminationGracePeriod: 120,
    });
    // The same place as the AWS Load Balancer Controller (the only one with hop limit 2 and the grants).
    const alb = parseYamlStream(e.text('values/aws-load-balancer-controller.yaml')!)[0] as Doc;
    expect([values.nodeSelector, values.tolerations]).toStrictEqual([alb.nodeSelector, alb.tolerations]);
    const delivery = engine === 'apps' ? e.text('apps/aws-node-termination-handler.yaml')! : e.files.filter((f) => f.path.startsWith('flux/units/aws-node-termination-handler/')).map((f) => f.content).join('\n');
    expect(delivery).toContain('0.27.6');
    // Argo CD: Helm over OCI only without the scheme (engines/argocd/objects.ts argoChartRepo); Flux: an OCIRepository of the chart.
    expect(delivery).toContain(engine === 'apps' ? 'repoURL: public.ecr.aws/aws-ec2/helm\n' : 'url: oci://public.ecr.aws/aws-ec2/helm/aws-node-termination-handler\n');
    const plan = awsPlan(e.model, e.model.aws.images);
    const holders = plan.roles.filter((r) => r.grants.some((g) => g.id === 'node-termination-handler'));
    expect(holders.length).toBe(1);
    const grant = holders[0]!.grants.find((g) => g.id === 'node-termination-handler')!;
    // README.md:476-495, writes narrowed to the queue and this cluster's groups.
    expect(grant.statements.flatMap((s) => s.Action).sort()).toStrictEqual(['autoscaling:CompleteLifecycleAction', 'autoscaling:DescribeAutoScalingInstances', 'autoscaling:DescribeTags', 'ec2:DescribeInstances', 'sqs:DeleteMessage', 'sqs:ReceiveMessage']);
    expect(grant.statements.find((s) => s.Sid === 'NthQueue')!.Resource).toStrictEqual([`arn:aws:sqs:${e.model.aws.region}:${e.model.aws.accountId}:${c}-node-termination`]);
  });

  it.each(DRAINED)('%s: the README says how nodes are drained, with the hook, the queue, the tag and the limits', (name) => {
    const e = rendered(name);
    const readme = e.text('README.md')!;
    const c = e.model.cluster.name;
    expect(readme).toContain(`waits in \`Terminating:Wait\` under the hook \`node-drain\` (\`EC2_INSTANCE_TERMINATING\`, 300 s, then CONTINUE)`);
    expect(readme).toContain(`SQS queue \`${c}-node-termination\``);
    expect(readme).toContain(`instances tagged \`aws-node-termination-handler/${c}\``);
    expect(readme).toContain('a budget never blocks a termination for longer');
    expect(readme).toContain('Until the handler runs (the first deploy, before the engine has synced it) or while it is down, terminations wait the 300 s and go on undrained');
  });

  it('RKE2 (valid/rke2-etcd.yaml): the same hook, tag, queue and handler', () => {
    const f = fixtureSources('valid', 'rke2-etcd.yaml');
    const e = rendered(f.name, f.sources);
    expect(e.model.cluster.distribution).toBe('rke2');
    const asgs = resourcesOf(e.doc('aws/nodes.yaml'), 'AWS::AutoScaling::AutoScalingGroup');
    expect(asgs.length).toBeGreaterThan(0);
    // Beside the launch hook its pool-join kind holds new instances with (node-joined: test/pool-join.test.ts).
    for (const [, asg] of asgs) expect(asg.Properties.LifecycleHookSpecificationList.filter((h: Doc) => h.LifecycleTransition === 'autoscaling:EC2_INSTANCE_TERMINATING')).toStrictEqual([{ LifecycleHookName: 'node-drain', LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', HeartbeatTimeout: 300, DefaultResult: 'CONTINUE' }]);
    expect(resourcesOf(e.doc('aws/base.yaml'), 'AWS::Events::Rule').length).toBe(5);
    expect(parseYamlStream(e.text('values/aws-node-termination-handler.yaml')!)[0]).toMatchObject({ enableSqsTerminationDraining: true, managedTag: `aws-node-termination-handler/${e.model.cluster.name}` });
  });

  it('disabling the handler (addons.aws-node-termination-handler.enabled: false) removes the hook, the tag, the queue, the rules and the grant', () => {
    const sources = exampleSources();
    const file = [...sources.keys()].find((k) => k.endsWith('/staging-k3s.yaml'))!;
    const text = sources.get(file)!;
    const patched = /^addons:\n/m.test(text) ? text.replace(/^addons:\n/m, 'addons:\n  aws-node-termination-handler:\n    enabled: false\n') : `${text}\naddons:\n  aws-node-termination-handler:\n    enabled: false\n`;
    const e = rendered('staging-k3s', new Map([...sources, [file, patched]]));
    expect(e.text('values/aws-node-termination-handler.yaml')).toBeUndefined();
    expect(resourcesOf(e.doc('aws/base.yaml'), 'AWS::SQS::Queue')).toStrictEqual([]);
    expect(resourcesOf(e.doc('aws/base.yaml'), 'AWS::Events::Rule')).toStrictEqual([]);
    for (const [, asg] of resourcesOf(e.doc('aws/nodes.yaml'), 'AWS::AutoScaling::AutoScalingGroup')) {
      // Only the launch hook is left (node-joined, test/pool-join.test.ts): no termination hook.
      expect(asg.Properties.LifecycleHookSpecificationList.map((h: Doc) => h.LifecycleTransition)).toStrictEqual(['autoscaling:EC2_INSTANCE_LAUNCHING']);
      expect(JSON.stringify(asg.Properties.Tags)).not.toContain('aws-node-termination-handler');
    }
    expect(awsPlan(e.model, e.model.aws.images).roles.flatMap((r) => r.grants.map((g) => g.id))).not.toContain('node-termination-handler');
    expect(e.text('README.md')).toContain('Draining: none. `addons.aws-node-termination-handler` is disabled');
    expect(awsPlan(e.model, e.model.aws.images).drainsPools).toBe(false);
  });

  it('the drain decision is made once per plan (AwsPlan.drainsPools): the stacks and deploy.sh follow the plan, not the model', () => {
    const e = rendered('staging-k3s');
    const plan = awsPlan(e.model, e.model.aws.images);
    expect(plan.drainsPools).toBe(drainsPools(e.model));
    expect(plan.drainsPools).toBe(true);
    // The same model, the decision flipped in the plan only: every consumer reads the field.
    const off = { ...plan, drainsPools: false };
    expect(resourcesOf(baseTemplate(off) as Doc, 'AWS::SQS::Queue')).toStrictEqual([]);
    expect(resourcesOf(baseTemplate(plan) as Doc, 'AWS::SQS::Queue')).toHaveLength(1);
    for (const [, asg] of resourcesOf(nodesTemplate(off) as Doc, 'AWS::AutoScaling::AutoScalingGroup')) {
      expect(asg.Properties.LifecycleHookSpecificationList.map((h: Doc) => h.LifecycleHookName)).not.toContain('node-drain');
      expect(JSON.stringify(asg.Properties.Tags)).not.toContain('aws-node-termination-handler');
    }
    expect(deployScript(off)).not.toContain('drain-tags');
    expect(deployScript(off)).not.toContain('drain_tags');
    // nodes_stack_exists stays: the fixed nodes' type gate of `deploy.sh nodes` reads it too.
    expect(deployScript(off)).toContain('if nodes_stack_exists; then\n      changed=');
    expect(deployScript(plan)).toContain('drain-tags)');
  });
});

describe('Must show: the API endpoint', () => {
  it.each(EXAMPLES)('%s: an internal network load balancer with a target group per endpoint port (control planes as IP targets) and a private DNS record', (env) => {
    const { model, doc } = rendered(env);
    const base = doc('aws/base.yaml');
    const [, nlb] = resourcesOf(base, 'AWS::ElasticLoadBalancingV2::LoadBalancer')[0]!;
    expect(nlb.Properties).toMatchObject({ Type: 'network', Scheme: 'internal' });
    const tgs = resourcesOf(base, 'AWS::ElasticLoadBalancingV2::TargetGroup');
    const ports = model.cluster.distribution === 'rke2' ? [6443, 9345] : [model.cluster.endpointPort];
    expect(tgs.map(([, t]) => t.Properties.Port).sort()).toStrictEqual(ports);
    for (const [, t] of tgs) expect(t.Properties.Targets).toStrictEqual(model.controlPlaneNodes.map((n) => ({ Id: n.ip, Port: t.Properties.Port })));
    expect(resourcesOf(base, 'AWS::ElasticLoadBalancingV2::Listener').length).toBe(ports.length);
    const [, zone] = resourcesOf(base, 'AWS::Route53::HostedZone')[0]!;
    expect(zone.Properties).toMatchObject({ Name: model.cluster.endpointHost, VPCs: [{ VPCId: model.aws.vpc.id, VPCRegion: model.aws.region }] });
    const [, record] = resourcesOf(base, 'AWS::Route53::RecordSet')[0]!;
    expect(record.Properties).toMatchObject({ Name: `${model.cluster.endpointHost}.`, Type: 'A', AliasTarget: { DNSName: { 'Fn::GetAtt': ['ApiLoadBalancer', 'DNSName'] } } });
  });

  it('a hub in another VPC is admitted on the Kubernetes API port only, and the README says what is not created', () => {
    const sources = exampleSources();
    const key = [...sources.keys()].find((k) => k.endsWith('/dev.yaml'))!;
    sources.set(key, `${sources.get(key)!}argocd:\n  manages: [dev-k3s]\n`);
    const { model, doc, text } = rendered('dev-k3s', sources);
    expect(model.fleet.hub).toMatchObject({ name: 'dev', vpcCidr: '10.10.0.0/16' });
    const [, group] = resourcesOf(doc('aws/base.yaml'), 'AWS::EC2::SecurityGroup').find(([id]) => id === 'ApiLoadBalancerSecurityGroup')!;
    const fromHub = (group.Properties.SecurityGroupIngress as Doc[]).filter((r) => r.CidrIp === '10.10.0.0/16');
    expect(fromHub).toStrictEqual([{ IpProtocol: 'tcp', FromPort: model.cluster.endpointPort, ToPort: model.cluster.endpointPort, CidrIp: '10.10.0.0/16', Description: `${model.cluster.endpointPort}/tcp Kubernetes API from the hub dev` }]);
    expect(text('README.md')).toContain('VPC peering or a transit gateway');
    // Without a hub, only the own VPC.
    const alone = rendered('dev-k3s').doc('aws/base.yaml');
    const [, g] = resourcesOf(alone, 'AWS::EC2::SecurityGroup').find(([id]) => id === 'ApiLoadBalancerSecurityGroup')!;
    expect((g.Properties.SecurityGroupIngress as Doc[]).every((r) => r.CidrIp === '10.11.0.0/16')).toBe(true);
  });

  it('operator networks (aws.vpc.operatorCidrs) reach the API port and the operator node ports, nothing else', () => {
    const sources = exampleSources();
    const key = [...sources.keys()].find((k) => k.endsWith('/dev.yaml'))!;
    sources.set(key, sources.get(key)!.replace(/\n    cidr: 10\.10\.0\.0\/16\n/, '\n    cidr: 10.10.0.0/16\n    operatorCidrs: [10.200.0.0/16]\n'));
    const { model, doc } = rendered('dev', sources);
    expect(model.aws.vpc.operatorCidrs).toStrictEqual(['10.200.0.0/16']);
    const base = doc('aws/base.yaml');
    const [, group] = resourcesOf(base, 'AWS::EC2::SecurityGroup').find(([id]) => id === 'ApiLoadBalancerSecurityGroup')!;
    expect((group.Properties.SecurityGroupIngress as Doc[]).filter((r) => r.CidrIp === '10.200.0.0/16').map((r) => r.FromPort)).toStrictEqual([model.cluster.endpointPort]);
    // Node ports: exactly the rows whose peers include the operators, each also from the VPC.
    const fromOperators = resourcesOf(base, 'AWS::EC2::SecurityGroupIngress').filter(([, r]) => r.Properties.CidrIp === '10.200.0.0/16');
    const fromVpc = resourcesOf(base, 'AWS::EC2::SecurityGroupIngress').filter(([, r]) => r.Properties.CidrIp === model.aws.vpc.cidr);
    expect(fromOperators.length).toBeGreaterThan(0);
    expect(fromOperators.map(([id]) => id.replace(/Network1$/, '')).sort()).toStrictEqual(fromVpc.map(([id]) => id).sort());
  });

  // Bucket-level grants (policy.ts s3ReadWrite): no GetBucketLocation (both clients are given the region and never ask:
  // RKE2's etcd-s3 client through minio-go, rke2/aws.ts; Litestream, k3s/aws.ts); and a policy holds one ListBucket
  // grant per bucket (the Litestream marker's widened the replica's, k3s/aws.ts).
  it.each(['rke2-etcd.yaml', 'k3s-litestream.yaml'])('%s: no GetBucketLocation; one ListBucket statement per bucket and policy', (file) => {
    const { name, sources } = fixtureSources('valid', file);
    const base = rendered(name, sources).doc('aws/base.yaml');
    const statements = resourcesOf(base, 'AWS::IAM::ManagedPolicy').map(([id, r]) => [id, r.Properties.PolicyDocument.Statement as { Action: string[]; Resource: unknown[]; Condition?: unknown }[]] as const);
    const locate = statements.flatMap(([, st]) => st.filter((x) => x.Action.includes('s3:GetBucketLocation')));
    expect(locate).toStrictEqual([]);
    let lists = 0;
    for (const [id, st] of statements) {
      const buckets = st.filter((x) => x.Action.includes('s3:ListBucket')).flatMap((x) => x.Resource.map(String));
      lists += buckets.length;
      expect(new Set(buckets).size, `${id}: ${buckets.join(', ')}`).toBe(buckets.length);
    }
    expect(lists).toBeGreaterThan(0);
  });

  it('RKE2 (fixture): the supervisor port 9345 has its own listener and target group', () => {
    const { name, sources } = fixtureSources('valid', 'rke2-etcd.yaml');
    const base = rendered(name, sources).doc('aws/base.yaml');
    expect(resourcesOf(base, 'AWS::ElasticLoadBalancingV2::Listener').map(([, l]) => l.Properties.Port).sort()).toStrictEqual([6443, 9345]);
  });
});

describe('Must show: security groups', () => {
  /** The security-group matrix: (target group ← peer) → ports, from the template's ingress resources. */
  function matrix(base: Doc): Map<string, string[]> {
    const groups: Record<string, string> = { ControlPlaneSecurityGroup: 'controlplane', WorkerSecurityGroup: 'worker', ApiLoadBalancerSecurityGroup: 'api-lb' };
    const out = new Map<string, string[]>();
    for (const [, r] of resourcesOf(base, 'AWS::EC2::SecurityGroupIngress')) {
      const p = r.Properties;
      const to = groups[p.GroupId['Fn::GetAtt'][0]];
      const from = p.CidrIp ? `cidr ${p.CidrIp}` : groups[p.SourceSecurityGroupId['Fn::GetAtt'][0]];
      const key = `${to} <- ${from}`;
      out.set(key, [...(out.get(key) ?? []), `${p.FromPort}${p.ToPort !== p.FromPort && p.IpProtocol !== 'icmp' ? `-${p.ToPort}` : ''}/${p.IpProtocol}`].sort());
    }
    return out;
  }

  it('prod (Talos, Cilium): exactly the ports between the right roles, from the port table', () => {
    const base = rendered('prod').doc('aws/base.yaml');
    expect(Object.fromEntries(matrix(base))).toStrictEqual({
      'controlplane <- api-lb': ['6443/tcp'],
      'controlplane <- cidr 10.30.0.0/16': ['50000/tcp'],
      // 9100 (node-exporter on the host network) only from where Prometheus runs: the untainted workers (test/host-network-ports.test.ts).
      'controlplane <- controlplane': ['10250/tcp', '2379-2380/tcp', '4240/tcp', '4244/tcp', '50000/tcp', '50001/tcp', '6443/tcp', '8/icmp', '8472/udp'],
      'controlplane <- worker': ['10250/tcp', '4240/tcp', '4244/tcp', '50001/tcp', '6443/tcp', '8/icmp', '8472/udp', '9100/tcp'],
      'worker <- cidr 10.30.0.0/16': ['50000/tcp'],
      'worker <- controlplane': ['10250/tcp', '4240/tcp', '4244/tcp', '50000/tcp', '8/icmp', '8472/udp'],
      'worker <- worker': ['10250/tcp', '4240/tcp', '4244/tcp', '8/icmp', '8472/udp', '9100/tcp'],
    });
  });

  it('staging-k3s (K3s, flannel): 6443 to the servers, flannel’s 8472/udp, no etcd, no Talos API', () => {
    const m = matrix(rendered('staging-k3s').doc('aws/base.yaml'));
    expect(m.get('controlplane <- worker')).toStrictEqual(['10250/tcp', '6443/tcp', '8472/udp', '9100/tcp']);
    expect(m.get('worker <- controlplane')).toStrictEqual(['10250/tcp', '8472/udp']);
    expect(m.has('controlplane <- cidr 10.20.0.0/16') || [...m.keys()].some((k) => k.includes('cidr') && !k.startsWith('api'))).toBe(false);
  });

  it('Talos flannel uses VXLAN 4789 (its own port), RKE2 Canal 8472 and 9099, RKE2 etcd 2379-2380 between servers', () => {
    const dev = matrix(rendered('dev').doc('aws/base.yaml'));
    expect(dev.get('worker <- worker')).toContain('4789/udp');
    const { name, sources } = fixtureSources('valid', 'rke2-etcd.yaml');
    const rke2 = matrix(rendered(name, sources).doc('aws/base.yaml'));
    expect(rke2.get('controlplane <- worker')).toStrictEqual(['10250/tcp', '6443/tcp', '8472/udp', '9099/tcp', '9100/tcp', '9345/tcp']);
    expect(rke2.get('controlplane <- controlplane')).toContain('2379-2380/tcp');
  });

  it.each(EXAMPLES)('%s: nothing from 0.0.0.0/0; every rule references the stack’s own groups; every row of the port table is a rule', (env) => {
    const { model, doc } = rendered(env);
    const base = doc('aws/base.yaml');
    expect(JSON.stringify(base)).not.toMatch(/0\.0\.0\.0\/0|::\/0/);
    const groups = new Set(resourcesOf(base, 'AWS::EC2::SecurityGroup').map(([id]) => id));
    for (const [, r] of resourcesOf(base, 'AWS::EC2::SecurityGroupIngress')) {
      expect(groups.has(r.Properties.GroupId['Fn::GetAtt'][0])).toBe(true);
      if (r.Properties.SourceSecurityGroupId) expect(groups.has(r.Properties.SourceSecurityGroupId['Fn::GetAtt'][0])).toBe(true);
      else expect(r.Properties.CidrIp).toBe(model.aws.vpc.cidr);
    }
    expect(resourcesOf(base, 'AWS::EC2::SecurityGroupIngress').length).toBe(ingressRules(model).length);
    // The README's table lists the same rows the rules come from.
    const readme = rendered(env).text('README.md')!;
    for (const r of portTable(model)) expect(readme).toContain(`| ${r.component.replace(/\|/g, '\\|')} |`);
  });
});

describe('Must show: buckets', () => {
  it.each([
    ['prod', 'odp-prod-etcd-backups'],
    ['dev-k3s', 'odp-dev-k3s-litestream'],
  ])('%s: the bucket the environment names is versioned, KMS-encrypted, public access blocked, TLS only, with a lifecycle', (env, bucket) => {
    const { doc, model } = rendered(env);
    const base = doc('aws/base.yaml');
    const named = resourcesOf(base, 'AWS::S3::Bucket').find(([, b]) => b.Properties.BucketName === bucket);
    expect(named, `bucket ${bucket} of ${env}`).toBeDefined();
    const [id, b] = named!;
    expect(b.Properties.VersioningConfiguration).toStrictEqual({ Status: 'Enabled' });
    expect(b.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0]).toStrictEqual({ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': ['EnvironmentKey', 'Arn'] } }, BucketKeyEnabled: true });
    expect(b.Properties.PublicAccessBlockConfiguration).toStrictEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(b.DeletionPolicy).toBe('RetainExceptOnCreate');
    const [, policy] = resourcesOf(base, 'AWS::S3::BucketPolicy').find(([, p]) => p.Properties.Bucket.Ref === id)!;
    expect(policy.Properties.PolicyDocument.Statement).toContainEqual(expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    const rules = b.Properties.LifecycleConfiguration.Rules;
    expect(rules).toContainEqual({ Id: 'expire-noncurrent-versions', Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 7 } });
    // Talos' snapshot expiry is its part of the model (cluster.datastore.backup.expireAfterDays, default 30).
    const expire = model.cluster.distribution === 'talos' ? talosCluster(model).snapshotExpireAfterDays : undefined;
    if (env === 'prod') expect(expire).toBe(30);
    if (expire) expect(rules).toContainEqual({ Id: 'expire-snapshots', Status: 'Enabled', Prefix: 'etcd/odp-prod/', ExpirationInDays: expire });
  });

  it('the role that writes a bucket can use its key for exactly that bucket', () => {
    const base = rendered('prod').doc('aws/base.yaml');
    const [, policy] = resourcesOf(base, 'AWS::IAM::ManagedPolicy').find(([, p]) => p.Properties.ManagedPolicyName === 'odp-prod-controlplane-etcd-snapshots')!;
    expect(policy.Properties.PolicyDocument.Statement).toStrictEqual([
      { Sid: 'EtcdSnapshotUpload', Effect: 'Allow', Action: ['s3:PutObject'], Resource: ['arn:aws:s3:::odp-prod-etcd-backups/etcd/odp-prod/*'] },
      { Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: [{ 'Fn::GetAtt': ['EnvironmentKey', 'Arn'] }], Condition: { StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } } },
    ]);
  });

  // The uploader's S3 requests (TALOS_BACKUP_S3_REQUESTS, read in talos-backup's pkg/s3/s3.go at the image's tag): object
  // requests below the prefix only, no bucket-level one (no HeadBucket, no GetBucketLocation), so PutObject is the grant.
  it('Talos etcd-backup: every S3 request talos-backup makes at the pinned tag is granted on the snapshot key, nothing bucket-level', () => {
    expect(TALOS_BACKUP_IMAGE.endsWith(`:${TALOS_BACKUP_S3_REQUESTS.readAt}`), 'a new talos-backup tag: re-read its pkg/s3/s3.go').toBe(true);
    const base = rendered('prod').doc('aws/base.yaml');
    const [, policy] = resourcesOf(base, 'AWS::IAM::ManagedPolicy').find(([, p]) => p.Properties.ManagedPolicyName === 'odp-prod-controlplane-etcd-snapshots')!;
    const s3 = (policy.Properties.PolicyDocument.Statement as { Action: string[]; Resource: string[] }[]).filter((x) => x.Action.some((a) => a.startsWith('s3:')));
    expect(s3).toStrictEqual([{ Sid: 'EtcdSnapshotUpload', Effect: 'Allow', Action: ['s3:PutObject'], Resource: ['arn:aws:s3:::odp-prod-etcd-backups/etcd/odp-prod/*'] }]);
    const granted = new Set(s3.flatMap((x) => x.Action));
    for (const r of TALOS_BACKUP_S3_REQUESTS.requests) expect(granted.has(r.action), r.request).toBe(r.granted);
    expect(TALOS_BACKUP_S3_REQUESTS.requests.map((r) => r.request)).not.toContain('HeadBucket');
    expect(TALOS_BACKUP_S3_REQUESTS.requests.map((r) => r.request)).not.toContain('GetBucketLocation');
    // The one request left ungranted leaves parts the bucket's lifecycle removes.
    const [, b] = resourcesOf(base, 'AWS::S3::Bucket').find(([, x]) => x.Properties.BucketName === 'odp-prod-etcd-backups')!;
    expect(b.Properties.LifecycleConfiguration.Rules).toContainEqual({ Id: 'abort-incomplete-uploads', Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } });
  });

  it('Talos snapshots expire after backup.expireAfterDays; the field is refused on RKE2 (invalid/backup-expire-rke2.yaml)', () => {
    const { name, sources } = fixtureSources('valid', 'irsa-roles.yaml');
    const base = rendered(name, sources).doc('aws/base.yaml');
    const [, b] = resourcesOf(base, 'AWS::S3::Bucket').find(([, x]) => x.Properties.BucketName === 'odp-fixture-etcd')!;
    expect(b.Properties.LifecycleConfiguration.Rules).toContainEqual({ Id: 'expire-snapshots', Status: 'Enabled', Prefix: 'etcd/fixture/', ExpirationInDays: 14 });
  });
});

describe('Must show: IRSA, both sides', () => {
  /** Every role ARN the rendered tree references, with the ServiceAccount that assumes it. */
  function referencedRoles(files: { path: string; content: string }[]): { arn: string; namespace: string; serviceAccount: string }[] {
    const out: { arn: string; namespace: string; serviceAccount: string }[] = [];
    for (const f of files.filter((x) => /\.ya?ml$/.test(x.path) && !x.path.startsWith('aws/'))) {
      for (const d of parseYamlStream(f.content) as Doc[]) {
        if (d?.kind === 'ServiceAccount' && d.metadata?.annotations?.['eks.amazonaws.com/role-arn'])
          out.push({ arn: d.metadata.annotations['eks.amazonaws.com/role-arn'], namespace: d.metadata.namespace, serviceAccount: d.metadata.name });
        const spec = d?.spec?.jobTemplate?.spec?.template?.spec ?? d?.spec?.template?.spec;
        for (const c of spec?.containers ?? [])
          for (const e of c.env ?? []) if (e.name === 'AWS_ROLE_ARN') out.push({ arn: e.value, namespace: d.metadata.namespace, serviceAccount: spec.serviceAccountName });
      }
    }
    return out;
  }

  it.each([
    ['valid', 'irsa-roles.yaml', 3],
    ['valid', 'eso-irsa.yaml', 1],
  ] as const)('%s/%s: every role ARN of the rendered values and annotations is created by the base stack, trusted only by its ServiceAccount', (dir, file, count) => {
    const { name, sources } = fixtureSources(dir, file);
    const { files, doc, model } = rendered(name, sources);
    const refs = referencedRoles(files);
    expect(new Set(refs.map((r) => r.arn)).size).toBe(count);
    const base = doc('aws/base.yaml');
    const roles = resourcesOf(base, 'AWS::IAM::Role');
    const issuer = model.aws.iam.issuerURL!.replace(/^https:\/\//, '');
    for (const ref of refs) {
      const [, account, path] = /^arn:aws:iam::(\d{12}):role(\/.*)$/.exec(ref.arn)!;
      expect(account).toBe(model.aws.accountId);
      const roleName = path!.slice(path!.lastIndexOf('/') + 1);
      const rolePath = path!.slice(0, path!.lastIndexOf('/') + 1);
      const role = roles.find(([, r]) => r.Properties.RoleName === roleName && (r.Properties.Path ?? '/') === rolePath);
      expect(role, ref.arn).toBeDefined();
      expect(role![1].Properties.AssumeRolePolicyDocument.Statement).toStrictEqual([
        {
          Effect: 'Allow',
          Principal: { Federated: { Ref: 'OidcProvider' } },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: { StringEquals: { [`${issuer}:sub`]: `system:serviceaccount:${ref.namespace}:${ref.serviceAccount}`, [`${issuer}:aud`]: 'sts.amazonaws.com' } },
        },
      ]);
    }
    const [, oidc] = resourcesOf(base, 'AWS::IAM::OIDCProvider')[0]!;
    expect(oidc.Properties).toStrictEqual({ Url: model.aws.iam.issuerURL!.replace(/\/+$/, ''), ClientIdList: ['sts.amazonaws.com'] });
  });

  it('the External Secrets role reads exactly the SSM parameters of the environment’s ExternalSecrets; the node roles then read none of them', () => {
    const { name, sources } = fixtureSources('valid', 'irsa-roles.yaml');
    const base = rendered(name, sources).doc('aws/base.yaml');
    const policies = resourcesOf(base, 'AWS::IAM::ManagedPolicy');
    const eso = policies.find(([, p]) => p.Properties.ManagedPolicyName === 'fixture-irsa-odp-fixture-eso-access')![1];
    expect(eso.Properties.PolicyDocument.Statement[0].Resource).toStrictEqual(['arn:aws:ssm:eu-west-1:111111111111:parameter/odp/irsa-roles/grafana/admin-password', 'arn:aws:ssm:eu-west-1:111111111111:parameter/odp/irsa-roles/grafana/admin-user']);
    expect(policies.filter(([, p]) => /fixture-(worker|controlplane)-external-secrets/.test(p.Properties.ManagedPolicyName))).toStrictEqual([]);
  });
});

describe('IAM', () => {
  it('RKE2: the servers may replace the two tokens in SSM with the secure ones the first server publishes (the other nodes wait for them)', () => {
    const { name, sources } = fixtureSources('valid', 'rke2-etcd.yaml');
    const { doc, files } = rendered(name, sources);
    const [, policy] = resourcesOf(doc('aws/base.yaml'), 'AWS::IAM::ManagedPolicy').find(([id]) => id === 'ControlPlaneRoleTokenPublishPolicy')!;
    expect(policy.Properties.Roles).toStrictEqual([{ Ref: 'ControlPlaneRole' }]);
    const put = (policy.Properties.PolicyDocument.Statement as Doc[]).find((st) => st.Action.includes('ssm:PutParameter'))!;
    const boot = files.filter((f) => f.path.startsWith('rke2/userdata/')).map((f) => f.content).join('\n');
    // The boot script names its parameters through the settings file it sources (/etc/odp-gitops/boot-settings.env).
    const published = [...boot.matchAll(/publish_token "\$([A-Z_]+)"/g)].map((m) => new RegExp(`^\\s*${m[1]}='([^']+)'$`, 'm').exec(boot)?.[1]);
    for (const arn of put.Resource as string[]) expect(published).toContain(arn.replace(/^arn:[^:]+:ssm:[^:]+:\d+:parameter/, ''));
    expect(put.Resource).toHaveLength(2);
  });

  it.each(EXAMPLES)('%s: node roles split by role, every write statement names resources (no * but where AWS allows nothing else)', (env) => {
    const { doc, model } = rendered(env);
    const base = doc('aws/base.yaml');
    const names = resourcesOf(base, 'AWS::IAM::Role').map(([, r]) => r.Properties.RoleName);
    expect(names).toEqual(expect.arrayContaining([`${model.cluster.name}-controlplane`]));
    if (model.pools.some((p) => p.role === 'worker' && !p.gpu)) expect(names).toContain(`${model.cluster.name}-worker`);
    for (const [, p] of resourcesOf(base, 'AWS::IAM::ManagedPolicy')) {
      expect(JSON.stringify(p.Properties.PolicyDocument).length).toBeLessThanOrEqual(6144);
      for (const s of p.Properties.PolicyDocument.Statement) for (const r of s.Resource) if (typeof r === 'string' && r !== '*') expect(r).toMatch(new RegExp(`^arn:aws:[a-z0-9-]+:(${model.aws.region})?:(${model.aws.accountId})?:`));
    }
  });

  it('K3s: the servers read both tokens, the agents only the agent token', () => {
    const { doc } = rendered('staging-k3s');
    const base = doc('aws/base.yaml');
    const policy = (n: string) => resourcesOf(base, 'AWS::IAM::ManagedPolicy').find(([, p]) => p.Properties.ManagedPolicyName === n)![1].Properties.PolicyDocument.Statement;
    expect(policy('odp-staging-k3s-controlplane-boot-secrets')[0].Resource).toStrictEqual([
      'arn:aws:ssm:eu-west-1:222222222222:parameter/odp/staging-k3s/k3s/agent-token',
      'arn:aws:ssm:eu-west-1:222222222222:parameter/odp/staging-k3s/k3s/token',
      'arn:aws:ssm:eu-west-1:222222222222:parameter/odp/staging-k3s/kine/password',
    ]);
    expect(policy('odp-staging-k3s-worker-boot-secrets')[0].Resource).toStrictEqual(['arn:aws:ssm:eu-west-1:222222222222:parameter/odp/staging-k3s/k3s/agent-token']);
  });
});

describe('refusals positioned in the environment file', () => {
  it("a fixed server's config over SSM's 8 KB is refused at synth, at the pool of the node (its config is a parameter, not user data)", () => {
    const { name, sources } = fixtureSources('valid', 'k3s-postgres.yaml');
    const text = sources.get(`environments/${name}.yaml`)!;
    // 500 extra server arguments of ~60 bytes each push the servers' config (an SSM parameter: node-config.ts) over 8 KB.
    const args = Array.from({ length: 500 }, (_, i) => `        - audit-log-maxage=${String(i).padStart(40, '0')}`).join('\n');
    const patched = text.replace('  datastore:\n    type: kine-postgres', `  k3s:\n    extraArgs:\n      kube-apiserver-arg:\n${args}\n  datastore:\n    type: kine-postgres`);
    expect(patched).not.toBe(text);
    sources.set(`environments/${name}.yaml`, patched);
    const r = prepareEnvironment(name, sources);
    expect(r.prepared).toBeUndefined();
    const lines = formatted(r).filter((l) => l.includes('SSM parameter'));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines[0]).toMatch(new RegExp(`^environments/(${name}|_fixture)\\.yaml:\\d+:\\d+  nodePools\\[\\d+\\]: SSM parameter /odp/${name}/k3s/config/\\S+ would hold \\d+ bytes; an SSM parameter holds at most 8192 \\(Advanced tier\\)`));
    // Before anything is written, and never the renderer's own exception.
    expect(formatted(r).join('\n')).not.toMatch(/internal error/);
  });

  it('a node class without a locked AMI is a warning at its pool, with the step that creates it', () => {
    const { name, sources } = fixtureSources('valid', 'minimal.yaml');
    // The fixtures' lock holds the images of Talos v1.13.9; another version has none yet.
    sources.set(`environments/${name}.yaml`, `${sources.get(`environments/${name}.yaml`)}cluster: { talosVersion: v1.12.11 }\n`);
    const r = prepareEnvironment(name, sources);
    const w = formatted(r).filter((l) => l.includes('no AMI'));
    expect(w).toStrictEqual([
      expect.stringMatching(/^environments\/_fixture\.yaml:24:11  nodePools\[0\]\.arch: warning: no AMI for node class amd64 in environments\/minimal\.ssm\.lock\.json \(SSM \/odp\/images\/talos\/v1\.12\.11\/amd64\/[0-9a-f]{64}\): the nodes stack cannot be deployed yet  \(register it: sh rendered\/minimal\/aws\/images\/amd64\.sh, then npm run synth -- --env minimal --refresh-ssm\)$/),
    ]);
    expect(r.prepared).toBeDefined();
  });

  it('a subnet the nodes are placed in without an id is a warning at the subnet', () => {
    const { name, sources } = fixtureSources('valid', 'minimal.yaml');
    sources.set(`environments/${name}.yaml`, `${sources.get(`environments/${name}.yaml`)}aws:\n  vpc:\n    subnets:\n      - { name: private-a, cidr: 10.10.1.0/24, zone: eu-west-1a }\n`);
    const r = prepareEnvironment(name, sources);
    expect(formatted(r).filter((l) => l.includes('has no id'))).toStrictEqual([
      "environments/minimal.yaml:7:9  aws.vpc.subnets[0]: warning: subnet 'private-a' has no id: the nodes stack places instances in it by id, and cannot be deployed without one  (add id: subnet-… (or { ssm: /… }) to the subnet)",
    ]);
  });

  it('a cluster name too long for the load balancer is refused at cluster.name', () => {
    const { name, sources } = fixtureSources('valid', 'minimal.yaml');
    sources.set(`environments/${name}.yaml`, `${sources.get(`environments/${name}.yaml`)}cluster: { name: a-very-long-cluster-name-for-the-api }\n`);
    const r = prepareEnvironment(name, sources);
    expect(r.prepared).toBeUndefined();
    expect(formatted(r)).toContain(
      "environments/minimal.yaml:4:18  cluster.name: cluster.name 'a-very-long-cluster-name-for-the-api' is too long for the AWS names derived from it: load balancer 'a-very-long-cluster-name-for-the-api-api' (40 characters, AWS allows 32), target group 'a-very-long-cluster-name-for-the-api-6443' (41 characters, AWS allows 32)  (shorten cluster.name to at most 27 characters)",
    );
  });
});

describe('boundaries', () => {
  // The distributions' AWS facts live in their own folders (Distribution.aws); test/structure.test.ts checks every name.
  it('generators/infra/aws names no distribution', () => {
    const dir = join(ROOT, 'generators', 'infra', 'aws');
    const offenders: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.ts') && e.name !== 'cfn-types.ts') {
          readFileSync(p, 'utf8')
            .split('\n')
            .forEach((l, i) => /\b(talos|k3s|rke2)\b/i.test(l) && offenders.push(`${p.slice(ROOT.length + 1)}:${i + 1}: ${l.trim()}`));
        }
      }
    };
    walk(dir);
    expect(offenders).toStrictEqual([]);
  });
});
