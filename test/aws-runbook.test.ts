/**
 * The prod runbook from an empty account with the VPC to `talosctl bootstrap`: every step of the
 * AWS layer's runbook and of the Talos runbook's first bootstrap is a rendered script or an exact
 * command line, and the rendered scripts do what they say, run against stub binaries that answer
 * as the AWS CLI, curl, xz, npm and talosctl do.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ssmParametersScript } from '../generators/infra/aws/deploy.js';
import type { AwsPlan } from '../generators/infra/aws/plan.js';
import { genericPlaceholder } from '../generators/lib/placeholder.js';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { renderExample, ROOT } from './helpers.js';

const files = renderExample('prod');
const readme = files.find((f) => f.path === 'README.md')!.content;
const rendered = new Set(files.map((f) => `rendered/prod/${f.path}`));
const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>;

/** The section of the README under `## title`, up to the next `## `. */
const section = (title: string): string => {
  const start = readme.indexOf(`## ${title}\n`);
  expect(start, title).toBeGreaterThanOrEqual(0);
  const end = readme.indexOf('\n## ', start + 4);
  return readme.slice(start, end === -1 ? undefined : end);
};

/** Shell lines of the fenced sh blocks, and commands in inline code of numbered steps, in order. */
function steps(text: string): string[] {
  const out: string[] = [];
  const re = /```sh\n([\s\S]*?)```|^\d+\. (.*)$/gm;
  for (const m of text.matchAll(re)) {
    // The setup block's multi-line helpers (lib/portable-shell.ts `bounded`: a command ended after so many seconds) are
    // definitions, not steps.
    if (m[1] !== undefined) out.push(...m[1].replace(MULTI_LINE_HELPER, '').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')));
    else for (const c of m[2]!.matchAll(/`([^`]+)`/g)) if (/^(npm|talosctl|aws|sh) /.test(c[1]!)) out.push(c[1]!);
  }
  return out;
}

/** The setup block's multi-line shell helpers, each `name() {` up to its closing `}` line. */
const MULTI_LINE_HELPER = /^bounded\(\) \{\n[\s\S]*?\n\}\n/gm;

/** The setup block's shell helpers (operations.ts ANY_CP). */
const HELPER = /^(cp_answers|cp_etcd|cp_preparing|pick_cp|any_cp|etcd_cp)\(\) \{ /;

/** Why a line is an executable, rendered step (or an error naming what is not). */
function checkLine(line: string): string | undefined {
  const words = line.split(/\s+/);
  switch (words[0]) {
    case 'sh':
      return rendered.has(words[1]!) ? undefined : `script ${words[1]} is not rendered`;
    case 'npm':
      return words[1] === 'run' && scripts[words[2]!] ? undefined : `npm script ${words[2]} does not exist`;
    case 'aws': {
      const t = /--template-file '?([^'\s]+)'?/.exec(line)?.[1];
      if (t && !rendered.has(t)) return `template ${t} is not rendered`;
      return /^aws (cloudformation deploy|codeconnections create-connection) /.test(line) ? undefined : `unexpected aws command: ${line}`;
    }
    case 'talosctl':
    case 'mkdir':
    case 'export':
    case 'git':
    case 'any_cp':
    case 'etcd_cp':
      return undefined;
    default:
      // The setup block's control-plane list and its shell helpers (a command through the first control plane that
      // answers, or whose etcd is healthy: generators/distributions/talos/operations.ts ANY_CP).
      if (/^CPS='[0-9a-fA-F.: ]+'$/.test(line) || HELPER.test(line)) return undefined;
      return `not a known command: ${line}`;
  }
}

describe('prod runbook: an empty account with the VPC → talosctl bootstrap', () => {
  const aws = steps(section('AWS layer (CloudFormation)').slice(section('AWS layer (CloudFormation)').indexOf('### Runbook')));
  const talos = steps(section('Talos runbook').slice(0, section('Talos runbook').indexOf('### Adding a node')));

  it('the AWS layer’s steps, in order: parameters, roles, base stack, images, lock, nodes, Git sync', () => {
    expect(aws.map((l) => l.replace(/ .*/, (s) => s.split(' ').slice(0, 3).join(' ')))).toStrictEqual([
      'sh rendered/prod/aws/ssm-parameters.sh',
      'aws cloudformation deploy',
      'sh rendered/prod/aws/deploy.sh base',
      'sh rendered/prod/aws/images/amd64.sh',
      'sh rendered/prod/aws/images/amd64-nvidia.sh',
      'sh rendered/prod/aws/images/arm64.sh',
      'npm run synth',
      'git add environments/prod.ssm.lock.json',
      'sh rendered/prod/aws/deploy.sh nodes',
      'aws codeconnections create-connection',
      'sh rendered/prod/aws/enable-git-sync.sh <the',
    ]);
  });

  it('every step is a rendered script or an exact command, up to talosctl bootstrap', () => {
    const walk = [...aws, ...talos];
    const bootstrap = walk.findIndex((l) => l.startsWith('talosctl bootstrap --nodes 10.30.1.10'));
    expect(bootstrap).toBeGreaterThan(aws.length);
    const problems = walk.slice(0, bootstrap + 1).map(checkLine).filter((x): x is string => x !== undefined);
    expect(problems).toStrictEqual([]);
    // Before the bootstrap: the secrets bundle, the talosconfig, the first control plane's config.
    const talosBefore = walk.slice(aws.length, bootstrap);
    expect(talosBefore).toStrictEqual([
      'talosctl gen secrets -o secrets.yaml',
      'npm run talos -- secrets import --env prod --from secrets.yaml',
      'mkdir -p -m 700 $HOME/.odp/prod',
      'npm run talos -- secrets export --env prod --out $HOME/.odp/prod/secrets.yaml',
      'talosctl gen config odp-prod https://api.prod.odp.internal:6443 --with-secrets $HOME/.odp/prod/secrets.yaml --output-types talosconfig --force -o $HOME/.odp/prod/talosconfig',
      'export TALOSCONFIG=$HOME/.odp/prod/talosconfig',
      'talosctl config endpoint 10.30.1.10 10.30.2.10 10.30.3.10',
      "CPS='10.30.1.10 10.30.2.10 10.30.3.10'",
      ...['cp_answers', 'cp_etcd', 'cp_preparing', 'pick_cp', 'any_cp', 'etcd_cp'].map((f) => expect.stringMatching(new RegExp(`^${f}\\(\\) \\{ `))),
      'npm run talos -- config --env prod --node prod-cp-1 --out $HOME/.odp/prod/prod-cp-1.yaml',
      'talosctl apply-config --insecure --nodes 10.30.1.10 --file $HOME/.odp/prod/prod-cp-1.yaml',
    ]);
  });

  it('the only written-down step that is not a command is the Git provider’s handshake in the console, after which the connection’s ARN is the argument', () => {
    const text = section('AWS layer (CloudFormation)');
    expect(text).toContain('The connection\'s handshake with GitHub is finished in the console');
    expect(aws.filter((l) => /<[^>]+>/.test(l))).toStrictEqual(["sh rendered/prod/aws/enable-git-sync.sh <the connection's ARN>"]);
  });
});

describe('the rendered scripts, against stub binaries', () => {
  let dir: string;
  let bin: string;
  let log: string;
  let repo: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'odp-aws-run-'));
    bin = join(dir, 'bin');
    repo = join(dir, 'repo');
    mkdirSync(bin);
    for (const f of files) {
      const p = join(repo, 'rendered', 'prod', f.path);
      mkdirSync(join(p, '..'), { recursive: true });
      writeFileSync(p, f.content);
    }
    log = join(dir, 'log');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const stub = (name: string, body: string) => writeFileSync(join(bin, name), `#!/bin/sh\necho "${name} $*" >>"${log}"\n${body}\n`, { mode: 0o755 });
  const run = (script: string, ...args: string[]) => {
    writeFileSync(log, '');
    const r = spawnSync('sh', [join('rendered/prod/aws', script), ...args], { cwd: repo, env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, HOME: join(dir, 'home') }, encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, calls: readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) };
  };

  it('ssm-parameters.sh creates the missing String parameters with their locked values, leaves existing ones', () => {
    stub('aws', 'case "$*" in *"get-parameter"*"/odp/prod/network/vpc-id"*) exit 0 ;; *get-parameter*) exit 255 ;; esac');
    const r = run('ssm-parameters.sh');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('exists: /odp/prod/network/vpc-id');
    expect(r.calls).toContain('aws ssm put-parameter --region eu-west-1 --type String --name /odp/prod/backup/bucket --value odp-prod-etcd-backups');
    expect(r.calls.filter((c) => c.includes('put-parameter') && c.includes('vpc-id'))).toStrictEqual([]);
  });

  it('ssm-parameters.sh never puts a placeholder of new-env into SSM: it stops naming the parameter when it is missing', () => {
    const m = { name: 'prod', aws: { accountId: '333333333333', region: 'eu-west-1', parameters: { '/odp/prod/backup/bucket': 'odp-prod-etcd-backups', '/odp/prod/network/vpc-id': genericPlaceholder('/odp/prod/network/vpc-id') } } };
    writeFileSync(join(repo, 'rendered/prod/aws/ssm-parameters-held.sh'), ssmParametersScript({ model: m } as unknown as AwsPlan));
    stub('aws', 'case "$*" in *get-parameter*) exit 255 ;; esac');
    const r = run('ssm-parameters-held.sh');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("missing: /odp/prod/network/vpc-id (the lock holds only new-env's placeholder: put its real value, then npm run synth -- --env prod --refresh-ssm)");
    expect(r.calls.filter((c) => c.includes('put-parameter'))).toStrictEqual(['aws ssm put-parameter --region eu-west-1 --type String --name /odp/prod/backup/bucket --value odp-prod-etcd-backups']);
    stub('aws', 'exit 0');
    expect(run('ssm-parameters-held.sh').code).toBe(0);
  });

  // The fixed nodes' instance types the running nodes stack has (its parameters): the rendered ones, so no update stops a
  // node (deploy.sh nodes refuses one that would: test/aws-fixed-update.test.ts); its instance outputs: rendered ones only,
  // so the update drops no instance (the gate on a dropped protected one: test/aws-fixed-update.test.ts).
  const TYPES = ['  *describe-stacks*odp-prod-nodes*ends_with*) printf "NodeProdCp1InstanceId\\tNodeProdGpu1InstanceId\\n" ;;', "  *describe-stacks*odp-prod-nodes*ParameterKey==*Gpu1*) echo g5.2xlarge ;;", '  *describe-stacks*odp-prod-nodes*ParameterKey==*) echo m7i.xlarge ;;'];

  it('deploy.sh deploys each stack with the deployment role of the git-sync stack, templates through its bucket, the AMIs of the lock', () => {
    stub('aws', ['case "$*" in', ...TYPES, '  *describe-stacks*StackStatus*) echo UPDATE_COMPLETE ;;', '  *describe-stacks*) echo arn:aws:iam::333333333333:role/odp-prod-cfn-deploy ;;', 'esac'].join('\n'));
    const base = run('deploy.sh', 'base');
    expect(base.code).toBe(0);
    // The stack's status first: a stack CloudFormation cannot update stops the run before its change set (test/aws-fixed-update.test.ts).
    expect(base.calls[1]).toBe('aws cloudformation describe-stacks --region eu-west-1 --stack-name odp-prod-base --query Stacks[0].StackStatus --output text');
    expect(base.calls[2]).toBe(
      'aws cloudformation deploy --region eu-west-1 --stack-name odp-prod-base --template-file rendered/prod/aws/base.yaml --role-arn arn:aws:iam::333333333333:role/odp-prod-cfn-deploy --s3-bucket odp-prod-templates-333333333333 --s3-prefix base --capabilities CAPABILITY_NAMED_IAM --no-fail-on-empty-changeset --tags odp:cluster=odp-prod odp:environment=prod odp:stack=base',
    );
    // Then the stack's termination protection (deleting the nodes stack terminates every node, its datastore disks too).
    expect(base.calls.slice(3)).toStrictEqual(['aws cloudformation update-termination-protection --region eu-west-1 --stack-name odp-prod-base --enable-termination-protection']);
    const nodes = run('deploy.sh', 'nodes');
    expect(nodes.calls.at(-1)).toBe('aws cloudformation update-termination-protection --region eu-west-1 --stack-name odp-prod-nodes --enable-termination-protection');
    expect(nodes.calls.find((c) => c.startsWith('aws cloudformation deploy'))).toMatch(/--stack-name odp-prod-nodes --template-file rendered\/prod\/aws\/nodes\.yaml .* --parameter-overrides NodeProdCp1Image=ami-[0-9a-f]+ .*ImageAmd64=ami-[0-9a-f]+ ImageArm64=ami-[0-9a-f]+ NodeProdGpu1Image=ami-[0-9a-f]+ /);
    stub('aws', 'case "$*" in *describe-stacks*) echo None ;; esac');
    const missing = run('deploy.sh', 'base');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("deploy: stack odp-prod-git-sync not found: run aws cloudformation deploy --region 'eu-west-1' --stack-name 'odp-prod-git-sync'");
  });

  it('deploy.sh drain-tags tags the pools\' running instances with the drain handler\'s tag, once per instance, and refuses what is no instance id', () => {
    stub('aws', ['case "$*" in', '  *describe-stacks*) echo arn:aws:iam::333333333333:role/odp-prod-cfn-deploy ;;', '  *describe-auto-scaling-groups*odp-prod-general-amd64*) printf "i-0abc123\\ti-0def456\\n" ;;', '  *describe-auto-scaling-groups*) echo None ;;', 'esac'].join('\n'));
    const r = run('deploy.sh', 'drain-tags');
    expect(r.code, r.stderr).toBe(0);
    const groups = r.calls.filter((c) => c.includes('describe-auto-scaling-groups')).map((c) => /--auto-scaling-group-names (\S+)/.exec(c)![1]);
    expect(groups).toStrictEqual(['odp-prod-general-amd64', 'odp-prod-general-arm64']);
    expect(r.calls.filter((c) => c.includes('create-tags'))).toStrictEqual([
      'aws ec2 create-tags --region eu-west-1 --resources i-0abc123 --tags Key=aws-node-termination-handler/odp-prod,Value=owned',
      'aws ec2 create-tags --region eu-west-1 --resources i-0def456 --tags Key=aws-node-termination-handler/odp-prod,Value=owned',
    ]);
    expect(r.stdout).toContain('tagged i-0abc123 (odp-prod-general-amd64)');
    // The tag is the one the groups propagate at launch and the handler acts on (its values).
    const nodes = parseYamlStream(files.find((f) => f.path === 'aws/nodes.yaml')!.content)[0] as { Resources: Record<string, { Type: string; Properties: { Tags?: { Key: string; Value: string }[] } }> };
    const propagated = Object.values(nodes.Resources).filter((x) => x.Type === 'AWS::AutoScaling::AutoScalingGroup').map((x) => x.Properties.Tags!.find((t) => t.Key.startsWith('aws-node-termination-handler/')));
    expect(propagated.every((t) => t?.Key === 'aws-node-termination-handler/odp-prod' && t.Value === 'owned')).toBe(true);
    stub('aws', ['case "$*" in', '  *describe-stacks*) echo arn:aws:iam::333333333333:role/odp-prod-cfn-deploy ;;', '  *describe-auto-scaling-groups*) echo "i-0abc;reboot" ;;', 'esac'].join('\n'));
    const bad = run('deploy.sh', 'drain-tags');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('deploy: not an instance id in group odp-prod-general-amd64: i-0abc;reboot');
    expect(bad.calls.filter((c) => c.includes('create-tags'))).toStrictEqual([]);
    expect(run('deploy.sh', 'nope').stderr).toContain('usage: rendered/prod/aws/deploy.sh base|nodes|drain-tags|terminate-node <node>|lift-protection|node-update <node>|roll-pool <pool>');
  });

  // AWS CLI v2 on a stack never created: ValidationError on stderr, exit code 254 (service errors).
  const NO_NODES_STACK = '  *describe-stacks*odp-prod-nodes*) echo "An error occurred (ValidationError) when calling the DescribeStacks operation: Stack with id odp-prod-nodes does not exist" >&2; exit 254 ;;';
  const GIT_SYNC = '  *describe-stacks*odp-prod-git-sync*) echo arn:aws:iam::333333333333:role/odp-prod-cfn-deploy ;;';

  it('deploy.sh nodes tags the running pool instances before it updates an existing nodes stack (an update that brings the hook and replaces them drains them too); idempotent', () => {
    stub('aws', ['case "$*" in', GIT_SYNC, ...TYPES, '  *describe-stacks*odp-prod-nodes*) echo UPDATE_COMPLETE ;;', '  *describe-auto-scaling-groups*odp-prod-general-amd64*) printf "i-0abc123\\ti-0def456\\n" ;;', '  *describe-auto-scaling-groups*) echo None ;;', 'esac'].join('\n'));
    const first = run('deploy.sh', 'nodes');
    expect(first.code, first.stderr).toBe(0);
    const kinds = first.calls.map((c) => (/^aws (\S+ \S+)/.exec(c) ?? [])[1]);
    // Then the type gate: the stack exists, each fixed node's type in it is the rendered one; the removal gate: the stack
    // exists, its instance outputs are all rendered ones.
    expect(kinds).toStrictEqual(['cloudformation describe-stacks', 'cloudformation describe-stacks', 'cloudformation describe-stacks', 'autoscaling describe-auto-scaling-groups', 'ec2 create-tags', 'ec2 create-tags', 'autoscaling describe-auto-scaling-groups', ...Array(7).fill('cloudformation describe-stacks'), 'cloudformation deploy', 'cloudformation update-termination-protection']);
    expect(first.calls[1]).toBe("aws cloudformation describe-stacks --region eu-west-1 --stack-name odp-prod-nodes --query Stacks[0].StackStatus --output text");
    const tags = first.calls.filter((c) => c.includes('create-tags'));
    expect(tags).toStrictEqual([
      'aws ec2 create-tags --region eu-west-1 --resources i-0abc123 --tags Key=aws-node-termination-handler/odp-prod,Value=owned',
      'aws ec2 create-tags --region eu-west-1 --resources i-0def456 --tags Key=aws-node-termination-handler/odp-prod,Value=owned',
    ]);
    // Again (the tags are there now: create-tags overwrites the same value): the same calls, the same result.
    const again = run('deploy.sh', 'nodes');
    expect(again.code).toBe(0);
    expect(again.calls).toStrictEqual(first.calls);
  });

  it('deploy.sh nodes: no drain tags before the nodes stack exists (its instances launch tagged); any other describe-stacks failure stops before the deploy', () => {
    stub('aws', ['case "$*" in', GIT_SYNC, NO_NODES_STACK, '  *describe-auto-scaling-groups*) echo i-0abc123 ;;', 'esac'].join('\n'));
    const created = run('deploy.sh', 'nodes');
    expect(created.code, created.stderr).toBe(0);
    expect(created.calls.filter((c) => c.includes('describe-auto-scaling-groups') || c.includes('create-tags'))).toStrictEqual([]);
    expect(created.calls.at(-2)).toMatch(/^aws cloudformation deploy --region eu-west-1 --stack-name odp-prod-nodes /);
    stub('aws', ['case "$*" in', GIT_SYNC, '  *describe-stacks*odp-prod-nodes*) echo "An error occurred (ExpiredToken) when calling the DescribeStacks operation: The security token included in the request is expired" >&2; exit 254 ;;', 'esac'].join('\n'));
    const expired = run('deploy.sh', 'nodes');
    expect(expired.code).toBe(1);
    expect(expired.stderr).toContain('deploy: cannot read stack odp-prod-nodes: An error occurred (ExpiredToken)');
    expect(expired.calls.filter((c) => c.includes('cloudformation deploy'))).toStrictEqual([]);
  });

  // deploy.sh roll-pool (generators/infra/aws/deploy.ts rollPoolFunction): what no launch template change rolls — a
  // pool moved to another subnet, a pool split by a failed refresh — replaced one at a time with the update policy's
  // own preferences (infra/aws/roll.ts), SkipMatching off so every instance goes.
  it('deploy.sh roll-pool starts an instance refresh of the pool\'s group with its one-at-a-time preferences, and refuses an unknown pool', () => {
    stub('aws', ['case "$*" in', GIT_SYNC, '  *start-instance-refresh*) echo \'{"InstanceRefreshId":"ir-1"}\' ;;', 'esac'].join('\n'));
    const r = run('deploy.sh', 'roll-pool', 'general-amd64');
    expect(r.code, r.stderr).toBe(0);
    expect(r.calls.slice(1)).toStrictEqual([
      'aws autoscaling start-instance-refresh --region eu-west-1 --auto-scaling-group-name odp-prod-general-amd64 --strategy Rolling --preferences {"MinHealthyPercentage":100,"MaxHealthyPercentage":150,"InstanceWarmup":300,"SkipMatching":false}',
    ]);
    expect(r.stdout).toContain('instance refresh of odp-prod-general-amd64 started; follow it: aws autoscaling describe-instance-refreshes --region eu-west-1 --auto-scaling-group-name odp-prod-general-amd64');
    // The same preferences as the group's update policy, but for SkipMatching.
    const nodes = parseYamlStream(files.find((f) => f.path === 'aws/nodes.yaml')!.content)[0] as { Resources: Record<string, { UpdatePolicy?: { AutoScalingInstanceRefresh: { Preferences: Record<string, unknown> } }; Properties: { AutoScalingGroupName?: string } }> };
    const group = Object.values(nodes.Resources).find((x) => x.Properties.AutoScalingGroupName === 'odp-prod-general-amd64')!;
    expect({ ...group.UpdatePolicy!.AutoScalingInstanceRefresh.Preferences, SkipMatching: false }).toStrictEqual(JSON.parse(r.calls[1]!.split('--preferences ')[1]!));
    const bad = run('deploy.sh', 'roll-pool', 'nope');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('usage: deploy.sh roll-pool <pool>; pools: general-amd64, general-arm64\n');
    // Another refresh running: the CLI's failure stops the script (set -e), nothing else is said to have started.
    stub('aws', ['case "$*" in', GIT_SYNC, '  *start-instance-refresh*) echo "An error occurred (InstanceRefreshInProgress)" >&2; exit 254 ;;', 'esac'].join('\n'));
    const busy = run('deploy.sh', 'roll-pool', 'general-arm64');
    expect(busy.code).toBe(254);
    expect(busy.stdout).toBe('');
  });

  // deploy.sh terminate-node: the first step of replacing a lost fixed node (generators/infra/aws/deploy.ts
  // terminateNodeFunction). The stub answers as the AWS CLI does: the output's value as text, DescribeInstances'
  // InvalidInstanceID.NotFound on stderr with exit 254 for an id EC2 no longer knows.
  const OUTPUT = `  *describe-stacks*odp-prod-nodes*"OutputKey=='NodeProdCp1InstanceId'"*) echo i-0abc123 ;;`;
  // A control plane carries termination protection (infra/aws/termination.ts): EC2 refuses TerminateInstances with
  // OperationNotPermitted until modify-instance-attribute --no-disable-api-termination lifted it (the stub keeps that
  // in a file).
  const PROTECTED = [
    `  *modify-instance-attribute*i-0abc123*--no-disable-api-termination*) : >"${'$'}(dirname "$0")/lifted" ;;`,
    `  *terminate-instances*) [ -e "${'$'}(dirname "$0")/lifted" ] || { echo "An error occurred (OperationNotPermitted) when calling the TerminateInstances operation: The instance 'i-0abc123' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again." >&2; exit 254; } ;;`,
  ];
  it('deploy.sh terminate-node lifts the instance\'s termination protection, terminates it (its id from the nodes stack\'s output) and waits until it is terminated', () => {
    rmSync(join(bin, 'lifted'), { force: true });
    stub('aws', ['case "$*" in', GIT_SYNC, OUTPUT, '  *describe-instances*i-0abc123*) echo running ;;', ...PROTECTED, 'esac'].join('\n'));
    // The stub as EC2: protected, the terminate alone is refused.
    const refused = spawnSync(join(bin, 'aws'), ['ec2', 'terminate-instances', '--instance-ids', 'i-0abc123'], { encoding: 'utf8' });
    expect([refused.status, refused.stderr]).toStrictEqual([254, "An error occurred (OperationNotPermitted) when calling the TerminateInstances operation: The instance 'i-0abc123' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.\n"]);
    const r = run('deploy.sh', 'terminate-node', 'prod-cp-1');
    expect([r.code, r.stderr]).toStrictEqual([0, '']);
    expect(r.calls.slice(1).map((c) => c.split(' --region')[0])).toStrictEqual(['aws cloudformation describe-stacks', 'aws ec2 describe-instances', 'aws ec2 modify-instance-attribute', 'aws ec2 terminate-instances', 'aws ec2 wait instance-terminated']);
    expect(r.calls[3]).toBe('aws ec2 modify-instance-attribute --region eu-west-1 --instance-id i-0abc123 --no-disable-api-termination');
    expect(r.calls[4]).toBe('aws ec2 terminate-instances --region eu-west-1 --instance-ids i-0abc123');
    expect(r.stdout).toBe('terminated i-0abc123 (prod-cp-1)\n');
  });

  it('deploy.sh terminate-node leaves an instance already terminated or unknown to EC2 alone, and waits for one shutting down', () => {
    stub('aws', ['case "$*" in', GIT_SYNC, OUTPUT, '  *describe-instances*) echo terminated ;;', 'esac'].join('\n'));
    const done = run('deploy.sh', 'terminate-node', 'prod-cp-1');
    expect(done.code).toBe(0);
    expect(done.calls.some((c) => c.includes('terminate-instances') || c.includes('modify-instance-attribute') || c.includes(' wait '))).toBe(false);
    stub('aws', ['case "$*" in', GIT_SYNC, OUTPUT, `  *describe-instances*) echo "An error occurred (InvalidInstanceID.NotFound) when calling the DescribeInstances operation: The instance ID 'i-0abc123' does not exist" >&2; exit 254 ;;`, 'esac'].join('\n'));
    const gone = run('deploy.sh', 'terminate-node', 'prod-cp-1');
    expect(gone.code).toBe(0);
    expect(gone.stdout).toBe('instance i-0abc123 of node prod-cp-1 is gone: nothing to terminate\n');
    expect(gone.calls.some((c) => c.includes('terminate-instances'))).toBe(false);
    stub('aws', ['case "$*" in', GIT_SYNC, OUTPUT, '  *describe-instances*) echo shutting-down ;;', 'esac'].join('\n'));
    const stopping = run('deploy.sh', 'terminate-node', 'prod-cp-1');
    expect(stopping.code).toBe(0);
    expect(stopping.calls.some((c) => c.includes('terminate-instances'))).toBe(false);
    expect(stopping.calls.at(-1)).toBe('aws ec2 wait instance-terminated --region eu-west-1 --instance-ids i-0abc123');
  });

  it('deploy.sh terminate-node refuses an unknown node, a missing output and what is no instance id; any other DescribeInstances failure stops it', () => {
    stub('aws', ['case "$*" in', GIT_SYNC, 'esac'].join('\n'));
    const unknown = run('deploy.sh', 'terminate-node', 'nope');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^usage: deploy\.sh terminate-node <node>; nodes: prod-cp-1, /);
    stub('aws', ['case "$*" in', GIT_SYNC, '  *describe-stacks*odp-prod-nodes*) echo None ;;', 'esac'].join('\n'));
    const none = run('deploy.sh', 'terminate-node', 'prod-cp-1');
    expect(none.code).toBe(1);
    expect(none.stderr).toBe('deploy: no instance of node prod-cp-1 in stack odp-prod-nodes\n');
    stub('aws', ['case "$*" in', GIT_SYNC, '  *describe-stacks*odp-prod-nodes*) echo "i-0abc;reboot" ;;', 'esac'].join('\n'));
    const bad = run('deploy.sh', 'terminate-node', 'prod-cp-1');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('deploy: not an instance id of node prod-cp-1: i-0abc;reboot\n');
    expect(bad.calls.some((c) => c.includes('ec2'))).toBe(false);
    stub('aws', ['case "$*" in', GIT_SYNC, OUTPUT, '  *describe-instances*) echo "An error occurred (ExpiredToken) when calling the DescribeInstances operation" >&2; exit 254 ;;', 'esac'].join('\n'));
    const expired = run('deploy.sh', 'terminate-node', 'prod-cp-1');
    expect(expired.code).toBe(1);
    expect(expired.stderr).toContain('deploy: cannot read instance i-0abc123 of node prod-cp-1: An error occurred (ExpiredToken)');
    expect(expired.calls.some((c) => c.includes('terminate-instances'))).toBe(false);
  });

  // deploy.sh lift-protection (deploy.ts liftProtectionFunction): before CloudFormation deletes the nodes stack's
  // instances, their termination protection is lifted (ListStackResources, paged by the CLI: the instances the stack
  // still holds); one terminated by hand (CloudFormation still lists it) is skipped, so the chained delete-stack runs.
  it('deploy.sh lift-protection lifts the termination protection of every instance the nodes stack still holds, skipping terminated ones', () => {
    stub('aws', ['case "$*" in', GIT_SYNC, '  *list-stack-resources*odp-prod-nodes*) printf "i-0abc123\\ti-0dead00\\ti-0def456\\ti-0beef00\\n" ;;', '  *describe-instances*i-0dead00*) echo terminated ;;', '  *describe-instances*i-0beef00*) echo "An error occurred (InvalidInstanceID.NotFound) when calling the DescribeInstances operation" >&2; exit 254 ;;', '  *describe-instances*) echo running ;;', 'esac'].join('\n'));
    const r = run('deploy.sh', 'lift-protection');
    expect([r.code, r.stderr]).toStrictEqual([0, '']);
    const state = (id: string) => `aws ec2 describe-instances --region eu-west-1 --instance-ids ${id} --query Reservations[].Instances[].State.Name --output text`;
    expect(r.calls.slice(1)).toStrictEqual([
      `aws cloudformation list-stack-resources --region eu-west-1 --stack-name odp-prod-nodes --query StackResourceSummaries[?ResourceType=='AWS::EC2::Instance' && ResourceStatus!='DELETE_COMPLETE' && PhysicalResourceId].PhysicalResourceId --output text`,
      state('i-0abc123'),
      'aws ec2 modify-instance-attribute --region eu-west-1 --instance-id i-0abc123 --no-disable-api-termination',
      state('i-0dead00'),
      state('i-0def456'),
      'aws ec2 modify-instance-attribute --region eu-west-1 --instance-id i-0def456 --no-disable-api-termination',
      state('i-0beef00'),
    ]);
    expect(r.stdout).toBe('termination protection lifted: i-0abc123\ninstance i-0dead00 is terminated: nothing to lift\ntermination protection lifted: i-0def456\ninstance i-0beef00 is gone: nothing to lift\n');
    // No instance left (the text output of an empty list): nothing to lift.
    stub('aws', ['case "$*" in', GIT_SYNC, '  *list-stack-resources*) echo ;;', 'esac'].join('\n'));
    const none = run('deploy.sh', 'lift-protection');
    expect([none.code, none.stdout, none.calls.filter((c) => c.includes(' ec2 '))]).toStrictEqual([0, '', []]);
  });

  // One shape check for every path (deploy.ts instanceIdFunction): defined once, called by drain_tags, the nodes step's
  // gate on dropped protected instances (removedGate),
  // terminate_node and lift_protection, and each refuses the same bad ids through it, naming its source.
  it('deploy.sh checks an instance id\'s shape in one function, which drain-tags, terminate-node and lift-protection go through', () => {
    const script = files.find((f) => f.path === 'aws/deploy.sh')!.content;
    expect(script.match(/^require_instance_id\(\) \{$/gm)).toHaveLength(1);
    expect(script.match(/require_instance_id "\$id"/g)).toHaveLength(4);
    expect(script.match(/not an instance id/g)).toHaveLength(1);
    for (const id of ['i-', 'i-0ABC123', 'i-0abc;id', 'x-0abc123', '--i-0abc']) {
      stub('aws', ['case "$*" in', GIT_SYNC, `  *describe-stacks*odp-prod-nodes*) echo ${JSON.stringify(id)} ;;`, `  *list-stack-resources*) echo ${JSON.stringify(id)} ;;`, `  *describe-auto-scaling-groups*odp-prod-general-amd64*) echo ${JSON.stringify(id)} ;;`, '  *describe-auto-scaling-groups*) echo None ;;', 'esac'].join('\n'));
      const drain = run('deploy.sh', 'drain-tags');
      expect([drain.code, drain.stderr], id).toStrictEqual([1, `deploy: not an instance id in group odp-prod-general-amd64: ${id}\n`]);
      const term = run('deploy.sh', 'terminate-node', 'prod-cp-1');
      expect([term.code, term.stderr], id).toStrictEqual([1, `deploy: not an instance id of node prod-cp-1: ${id}\n`]);
      const lift = run('deploy.sh', 'lift-protection');
      expect([lift.code, lift.stderr], id).toStrictEqual([1, `deploy: not an instance id in stack odp-prod-nodes: ${id}\n`]);
      expect([...drain.calls, ...term.calls, ...lift.calls].filter((c) => / ec2 /.test(c)), id).toStrictEqual([]);
    }
  });

  it('enable-git-sync.sh links the repository once and configures Git sync of both stacks from their deployment files', () => {
    stub('aws', ['case "$*" in', '  *describe-stacks*) echo arn:aws:iam::333333333333:role/odp-prod-git-sync ;;', '  *list-repository-links*) echo None ;;', '  *create-repository-link*) echo link-1 ;;', '  *get-sync-configuration*"odp-prod-base"*) exit 0 ;;', '  *get-sync-configuration*) exit 254 ;;', 'esac'].join('\n'));
    const r = run('enable-git-sync.sh', 'arn:aws:codeconnections:eu-west-1:333333333333:connection/abc');
    expect(r.code).toBe(0);
    expect(r.calls).toContain("aws codeconnections create-repository-link --region eu-west-1 --connection-arn arn:aws:codeconnections:eu-west-1:333333333333:connection/abc --owner-id opendev --repository-name odp-gitops --query RepositoryLinkInfo.RepositoryLinkId --output text");
    expect(r.stdout).toContain('git sync of odp-prod-base is already configured');
    expect(r.calls.filter((c) => c.includes('create-sync-configuration'))).toStrictEqual([
      'aws codeconnections create-sync-configuration --region eu-west-1 --branch main --config-file rendered/prod/aws/nodes.deployment.yaml --repository-link-id link-1 --resource-name odp-prod-nodes --role-arn arn:aws:iam::333333333333:role/odp-prod-git-sync --sync-type CFN_STACK_SYNC --publish-deployment-status ENABLED --trigger-resource-update-on FILE_CHANGE',
    ]);
    expect(run('enable-git-sync.sh').code).not.toBe(0);
  });

  it('images/amd64.sh registers the Image Factory disk image as an AMI once and records its id in SSM', () => {
    stub('curl', 'while [ $# -gt 0 ]; do [ "$1" = -o ] && printf raw >"$2"; shift; done');
    stub('xz', 'mv "$2" "${2%.xz}"');
    stub(
      'aws',
      ['case "$*" in', '  *describe-images*) echo None ;;', '  *describe-import-snapshot-tasks*) echo snap-1 ;;', '  *import-snapshot*) echo import-snap-1 ;;', '  *register-image*) echo ami-0fedcba9876543210 ;;', 'esac'].join('\n'),
    );
    const r = run('images/amd64.sh');
    expect(r.code).toBe(0);
    const id = '376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba';
    const name = `talos-v1.12.11-${id}-amd64`;
    expect(r.calls.find((c) => c.startsWith('curl'))).toContain(`https://factory.talos.dev/image/${id}/v1.12.11/aws-amd64.raw.xz`);
    expect(r.calls).toContain(`aws ec2 import-snapshot --region eu-west-1 --role-name odp-prod-vmimport --description ${name} --disk-container Format=raw,UserBucket={S3Bucket=odp-prod-images-333333333333,S3Key=${name}.raw} --query ImportTaskId --output text`);
    expect(r.calls).toContain('aws ec2 wait snapshot-imported --region eu-west-1 --import-task-ids import-snap-1');
    expect(r.calls.find((c) => c.includes('register-image'))).toContain(`--name ${name} --architecture x86_64 --virtualization-type hvm --ena-support --imds-support v2.0 --root-device-name /dev/xvda --block-device-mappings DeviceName=/dev/xvda,Ebs={DeleteOnTermination=true,SnapshotId=snap-1,VolumeType=gp3}`);
    expect(r.calls.at(-1)).toBe(`aws ssm put-parameter --region eu-west-1 --type String --overwrite --name /odp/images/talos/v1.12.11/amd64/${id} --value ami-0fedcba9876543210`);
    // Run again with the AMI registered: nothing is imported, the id is recorded.
    stub('aws', 'case "$*" in *describe-images*) echo ami-0fedcba9876543210 ;; esac');
    const again = run('images/amd64.sh');
    expect(again.calls.filter((c) => /import-snapshot|register-image|curl/.test(c))).toStrictEqual([]);
    expect(again.calls.at(-1)).toContain('--value ami-0fedcba9876543210');
  });

  /**
   * Stubs that behave as upstream does. aws: an auto-scaling group whose instances leave Pending:Wait once their
   * lifecycle action is completed (describe-auto-scaling-instances lists only those still waiting). talosctl:
   * `apply-config --insecure` reaches the maintenance API of an instance unless its address is listed in
   * `unreachable`; a configured node refuses --insecure and answers the talosconfig (Talos v1.13.9
   * api_service_config.go:108-135); `get nodestatus -o jsonpath={.spec.nodeReady}` prints the Node's Ready
   * condition as Talos mirrors it (v1.13.9 internal/app/machined/pkg/controllers/k8s/node_status.go:231-247):
   * `true` once the address is not listed in `notready`.
   */
  function joinStubs(instances: Record<string, string>, gone: string[] = []) {
    const state = join(dir, 'asg');
    writeFileSync(state, '');
    for (const f of ['unreachable', 'notready', 'configured']) writeFileSync(join(dir, f), '');
    stub('npm', 'while [ $# -gt 0 ]; do [ "$1" = --out ] && printf cfg >"$2"; shift; done');
    stub(
      'aws',
      [
        'case "$*" in',
        // An instance the hook no longer holds (abandoned, terminated): the heartbeat is refused.
        ...gone.map((id) => `  *record-lifecycle-action-heartbeat*"--instance-id ${id}") echo "ValidationError: No active Lifecycle Action found with instance ID ${id}" >&2; exit 254 ;;`),
        `  *describe-auto-scaling-instances*) for i in ${Object.keys(instances).join(' ')}; do grep -qx "$i" "${state}" || printf '%s ' "$i"; done; echo ;;`,
        `  *complete-lifecycle-action*) prev=; for a in "$@"; do [ "$prev" = --instance-id ] && echo "$a" >>"${state}"; prev=$a; done ;;`,
        ...Object.entries(instances).map(([id, ip]) => `  *"--instance-ids ${id}"*) echo ${ip} ;;`),
        'esac',
      ].join('\n'),
    );
    stub(
      'talosctl',
      [
        'ip=; prev=; for a in "$@"; do [ "$prev" = --nodes ] && ip=$a; prev=$a; done',
        'case "$*" in',
        `  *"apply-config --insecure"*) grep -qx "$ip" "${join(dir, 'unreachable')}" && exit 1; grep -qx "$ip" "${join(dir, 'configured')}" && exit 1; echo "$ip" >>"${join(dir, 'configured')}" ;;`,
        `  *"--talosconfig"*" version"*) grep -qx "$ip" "${join(dir, 'configured')}" || exit 1 ;;`,
        `  *"get nodestatus -o jsonpath={.spec.nodeReady}"*) grep -qx "$ip" "${join(dir, 'notready')}" && echo false || echo true ;;`,
        '  *) exit 1 ;;',
        'esac',
      ].join('\n'),
    );
    writeFileSync(join(bin, 'sleep'), '#!/bin/sh\n', { mode: 0o755 });
    // The API server's /version (prod's kubernetesVersion 1.35.4): talos-join.sh checks the kubelet skew (test/talos-motion.test.ts).
    stub('kubectl', `[ "$*" = 'get --raw /version' ] || exit 1\nprintf '{\\n  "major": "1",\\n  "minor": "35",\\n  "gitVersion": "v1.35.4"\\n}\\n'`);
    mkdirSync(join(dir, 'home', '.odp', 'prod'), { recursive: true });
    writeFileSync(join(dir, 'home', '.odp', 'prod', 'talosconfig'), 'context: prod\n');
    return { state, list: (f: string, ...ips: string[]) => writeFileSync(join(dir, f), ips.map((x) => `${x}\n`).join('')) };
  }
  const cfg = () => `${join(dir, 'home')}/.odp/prod/general-arm64.yaml`;
  const tc = () => `${join(dir, 'home')}/.odp/prod/talosconfig`;
  const complete = (id: string) => `aws autoscaling complete-lifecycle-action --region eu-west-1 --auto-scaling-group-name odp-prod-general-arm64 --lifecycle-hook-name talos-apply --instance-id ${id} --lifecycle-action-result CONTINUE`;
  const steps = (calls: string[]) => calls.filter((c) => c.startsWith('talosctl') || c.includes('complete-lifecycle-action'));

  it('talos-join.sh applies the pool’s config to each waiting instance, waits for its Node to be Ready, then lets it go InService', () => {
    const s = joinStubs({ 'i-1': '10.30.2.21', 'i-2': '10.30.2.22' });
    // i-2's maintenance API answers on the second try (the first sleep); its Node is Ready at the second poll.
    writeFileSync(join(bin, 'sleep'), `#!/bin/sh\nif [ -f "${dir}/slept" ]; then : >"${dir}/notready"; else : >"${dir}/unreachable"; touch "${dir}/slept"; fi\n`, { mode: 0o755 });
    rmSync(join(dir, 'slept'), { force: true });
    s.list('unreachable', '10.30.2.22');
    s.list('notready', '10.30.2.22');
    const r = run('talos-join.sh', 'general-arm64');
    expect(r.code).toBe(0);
    // The waiting instances are listed first; the config is materialized only because some wait.
    expect(r.calls[0]).toContain("describe-auto-scaling-instances --region eu-west-1 --query AutoScalingInstances[?AutoScalingGroupName=='odp-prod-general-arm64' && LifecycleState=='Pending:Wait']");
    expect(r.calls[1]).toBe(`npm run --silent talos -- config --env prod --node general-arm64 --out ${cfg()}`);
    const ready = (ip: string) => `talosctl --talosconfig ${tc()} --nodes ${ip} get nodestatus -o jsonpath={.spec.nodeReady}`;
    expect(steps(r.calls)).toStrictEqual([
      `talosctl apply-config --insecure --nodes 10.30.2.21 --file ${cfg()}`,
      ready('10.30.2.21'),
      complete('i-1'),
      `talosctl apply-config --insecure --nodes 10.30.2.22 --file ${cfg()}`,
      // Not configured yet either: the talosconfig gets no answer, so it waits and applies again.
      `talosctl --talosconfig ${tc()} --nodes 10.30.2.22 version`,
      `talosctl apply-config --insecure --nodes 10.30.2.22 --file ${cfg()}`,
      ready('10.30.2.22'),
      ready('10.30.2.22'),
      complete('i-2'),
    ]);
    expect(r.stdout).toContain('talos-join: general-arm64 i-2 (10.30.2.22) configured, Node Ready');
    // Each instance gets a fresh hook timeout when its turn comes (record-lifecycle-action-heartbeat), before its apply.
    const hb = (id: string) => `aws autoscaling record-lifecycle-action-heartbeat --region eu-west-1 --auto-scaling-group-name odp-prod-general-arm64 --lifecycle-hook-name talos-apply --instance-id ${id}`;
    expect(r.calls.filter((c) => c.includes('record-lifecycle-action-heartbeat'))).toStrictEqual([hb('i-1'), hb('i-2')]);
    expect(r.calls.indexOf(hb('i-2'))).toBeLessThan(r.calls.indexOf(`talosctl apply-config --insecure --nodes 10.30.2.22 --file ${cfg()}`));
    // Nothing is left waiting: a run now does nothing, and materializes no config.
    const idle = run('talos-join.sh', 'general-arm64');
    expect(steps(idle.calls)).toStrictEqual([]);
    expect(idle.calls.filter((c) => c.startsWith('npm '))).toStrictEqual([]);
  });

  it('talos-join.sh: one failing instance does not stop the others; each failure names its instance; exit 1; a re-run retries only those', () => {
    // i-1 has no address yet (None), i-2's API is unreachable, i-3's Node never becomes Ready, i-4 joins, i-5 is no
    // longer held by the hook when its turn comes.
    const s = joinStubs({ 'i-1': 'None', 'i-2': '10.30.2.22', 'i-3': '10.30.2.23', 'i-4': '10.30.2.24', 'i-5': '10.30.2.25' }, ['i-5']);
    s.list('unreachable', '10.30.2.22');
    s.list('notready', '10.30.2.23');
    const r = run('talos-join.sh', 'general-arm64');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('talos-join: general-arm64 i-1: no private IPv4 address (None)');
    expect(r.stderr).toContain('talos-join: general-arm64 i-2 (10.30.2.22) did not accept the config');
    expect(r.stderr).toContain('talos-join: general-arm64 i-3 (10.30.2.23) has its config, but its Node is not Ready after 10 minutes');
    expect(r.stderr).toContain('talos-join: general-arm64 i-5: no longer waiting under the hook talos-apply');
    expect(r.stderr).toContain('talos-join: general-arm64: not joined: i-1 i-2 i-3 i-5 (still in Pending:Wait: run sh rendered/prod/aws/talos-join.sh general-arm64 again to retry them)');
    expect(r.calls.filter((c) => c.includes('10.30.2.25'))).toStrictEqual([]);
    // Only i-4 went InService; the others were neither let go (an unconfigured node InService) nor abandoned.
    expect(r.calls.filter((c) => c.includes('complete-lifecycle-action'))).toStrictEqual([complete('i-4')]);
    expect(r.calls.filter((c) => c.includes('ABANDON'))).toStrictEqual([]);
    // Bounded waits: 30 attempts at the maintenance API, 60 polls of the Node.
    expect(r.calls.filter((c) => c.startsWith('talosctl apply-config') && c.includes('10.30.2.22'))).toHaveLength(30);
    expect(r.calls.filter((c) => c.includes('get nodestatus') && c.includes('10.30.2.23'))).toHaveLength(60);
    // The causes fixed, a re-run lists only i-1, i-2 and i-3 (i-4 is InService) and joins them. i-3 has its
    // config: it refuses --insecure and answers the talosconfig, and only the wait and the action are left.
    s.list('unreachable');
    s.list('notready');
    // i-5 is gone from the group (the hook abandoned it): the group no longer lists it.
    writeFileSync(join(bin, 'aws'), readFileSync(join(bin, 'aws'), 'utf8').replace('echo None', 'echo 10.30.2.21').replace(' i-5; do', '; do'), { mode: 0o755 });
    const again = run('talos-join.sh', 'general-arm64');
    expect(again.code).toBe(0);
    expect(again.calls.filter((c) => c.startsWith('talosctl apply-config')).map((c) => c.split(' ')[4])).toStrictEqual(['10.30.2.21', '10.30.2.22', '10.30.2.23']);
    expect(again.stdout).toContain('talos-join: general-arm64 i-3 (10.30.2.23) already has its config');
    expect(again.calls.filter((c) => c.includes('complete-lifecycle-action'))).toStrictEqual([complete('i-1'), complete('i-2'), complete('i-3')]);
    expect(readFileSync(s.state, 'utf8').trim().split('\n')).toStrictEqual(['i-4', 'i-1', 'i-2', 'i-3']);
  });

  it('talos-join.sh refuses to start without the runbook\'s talosconfig or with a pool that is not auto-scaled', () => {
    joinStubs({ 'i-1': '10.30.2.21' });
    rmSync(join(dir, 'home', '.odp', 'prod', 'talosconfig'));
    const missing = run('talos-join.sh', 'general-arm64');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`talos-join: ${join(dir, 'home')}/.odp/prod/talosconfig is missing: run the runbook's setup (Talos client configuration) first`);
    expect(missing.calls).toStrictEqual([]);
    const bad = run('talos-join.sh', 'gpu');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('usage: rendered/prod/aws/talos-join.sh general-amd64|general-arm64');
  });

  it('every rendered shell script parses (sh -n)', () => {
    for (const f of files.filter((x) => x.path.startsWith('aws/') && x.path.endsWith('.sh'))) {
      const p = join(repo, 'rendered', 'prod', f.path);
      expect(existsSync(p)).toBe(true);
      execFileSync('sh', ['-n', p]);
    }
  });
});
