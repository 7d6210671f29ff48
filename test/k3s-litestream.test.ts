/**
 * The K3s + Argo CD + Kine SQLite/Litestream fixture (valid/k3s-litestream.yaml) in motion: what `npm run diff` tells
 * the operator to do with the nodes when their user data changes. The fixed server is an AWS::EC2::Instance:
 * CloudFormation stops and starts it with the new user data, which cloud-init does not run again (once per
 * instance: canonical/cloud-init cc_runcmd.py, cc_scripts_user.py PER_INSTANCE; AWS EC2 User Guide "Work with
 * instance user data": "the updated user data is not run"), and nothing relaunches it once terminated. A pool's
 * user data is a launch template version, which the nodes stack update rolls (instance refresh).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffTrees, type DiffContext } from '../generators/diff/diff.js';
import { formatText } from '../generators/diff/format.js';
import { envContext } from '../generators/diff/sources.js';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { fixtureSources, formatted } from './helpers.js';

const { name, sources } = fixtureSources('valid', 'k3s-litestream.yaml');
const FILE = `environments/${name}.yaml`;

function render(edit: (text: string) => string = (t) => t): { files: Map<string, string>; context: DiffContext } {
  const next = new Map(sources);
  next.set(FILE, edit(sources.get(FILE)!));
  const r = prepareEnvironment(name, next);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  return { files: new Map(renderEnvironment(r.prepared).map((f) => [`${name}/${f.path}`, f.content])), context: new Map([[name, envContext(r.prepared.model)]]) };
}

/** The numbered node steps of the diff's lead ("Nodes, in the order to run them"). */
function nodeSteps(edit: (text: string) => string): string[] {
  const base = render();
  const head = render(edit);
  const text = formatText(diffTrees(base.files, head.files, head.context), { base: 'main', head: 'HEAD' });
  return text.split('\n').filter((l) => /^ {4}\d+\. /.test(l));
}

describe('k3s-litestream: node steps of a user data change', () => {
  // A new SSM name for the agent token changes every node's boot script (user data only, no config key).
  const steps = nodeSteps((t) => t.replace('  k3sVersion: v1.35.9+k3s1\n', '  k3sVersion: v1.35.9+k3s1\n  k3s: { agentToken: { secret: /odp/k3s-litestream/k3s/agent-token-2 } }\n'));

  it('the fixed server: stopped and started by the nodes stack, the change made by hand; never "terminate, the AWS layer relaunches it"', () => {
    const server = steps.find((l) => l.includes('1. server-1'));
    // The setting the first-boot script carries changed (its settings file, by key): the by-hand text, naming it.
    expect(server).toContain('the nodes stack update stops and starts server-1 with the new user data, which does not run again (once per instance): make the change on the node by hand (ssh 10.10.1.10; the first-boot settings that changed: AGENT_TOKEN_PARAM: /odp/k3s-litestream/k3s/agent-token → /odp/k3s-litestream/k3s/agent-token-2)');
    expect(server).toContain('or replace the node with a reviewed change (README "Replacing a lost fixed node": deploy.sh terminate-node server-1, its cluster-side step, then raise nodes[].replacement)');
    expect(server).toContain('do not terminate the instance otherwise — nothing else relaunches a fixed node');
    expect(steps.join('\n')).not.toContain('the AWS layer launches a new one');
  });

  it('the pools: rolled by the nodes stack update (instance refresh), nothing by hand', () => {
    for (const pool of ['general-amd64', 'general-arm64'])
      expect(steps.find((l) => l.includes(`. ${pool} `))).toContain(`nothing by hand: the nodes stack update rolls pool ${pool} (instance refresh: each instance is replaced by one that boots with the new user data)`);
  });
});

describe('k3s-litestream: moving the Litestream replica', () => {
  // The replica's place is where a new server restores the cluster from (litestream restore -if-replica-exists
  // exits 0 on an empty place: v0.5.16 cmd/litestream/restore.go:145-149, replica.go:1622-1623).
  const steps = nodeSteps((t) => t.replace('prefix: k3s/fixture }', 'prefix: k3s/fixture-v2 }'));
  const from = 's3://odp-fixture-litestream/k3s/fixture';
  const to = 's3://odp-fixture-litestream/k3s/fixture-v2';

  it('is a setting fixed at creation, with the steps that keep the cluster: copy the replica, then point the running Litestream at it', () => {
    expect(steps).toHaveLength(1);
    const [server] = steps;
    expect(server).toContain('1. server-1 (control plane) — cluster rebuild (a setting fixed at creation changed): ');
    expect(server).toContain(`the Litestream replica moves from ${from} to ${to} (a server booting with this user data restores from ${to} and, with nothing there, refuses to start K3s (the replica marker names the old place);`);
    expect(server).toContain(`after the base stack update: aws s3 sync ${from}/ ${to}/, then on the server: set bucket and path in /etc/litestream.yml to ${to} and systemctl restart litestream`);
  });

  it('a bucket change says the new bucket has no marker: a server booting with nothing there starts an empty cluster', () => {
    const [server] = nodeSteps((t) => t.replace('bucket: odp-fixture-litestream,', 'bucket: odp-fixture-litestream-2,'));
    expect(server).toContain(`the Litestream replica moves from ${from} to s3://odp-fixture-litestream-2/k3s/fixture (a server booting with this user data restores from s3://odp-fixture-litestream-2/k3s/fixture and, with nothing there, starts an empty cluster (the new bucket has no replica marker);`);
  });

  it('other Litestream settings of the user data are no rebuild (snapshot retention is edited in place or replaced)', () => {
    const base = render();
    const head = render();
    // The same replica with another retention: only the user data differs.
    const ud = `${name}/k3s/userdata/server-1.yaml`;
    head.files.set(ud, head.files.get(ud)!.replace('retention: 168h', 'retention: 72h'));
    const text = formatText(diffTrees(base.files, head.files, head.context), { base: 'main', head: 'HEAD' });
    expect(text).not.toContain('cluster rebuild');
    expect(text).toContain('1. server-1 (control plane) — replaced (new user data runs at first boot only)');
  });
});

describe('k3s-litestream: the replica marker\'s grants (the restore hook, distributions/k3s/litestream.ts)', () => {
  // S3 answers a GET of a missing key with 404 NoSuchKey only for a caller allowed to list the bucket ("If you don't
  // have the s3:ListBucket permission, Amazon S3 returns an HTTP status code 403": S3 API reference, GetObject,
  // Permissions, https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html): the hook tells "no marker" from
  // a fault by NoSuchKey, so the role lists the Litestream bucket; the replica's ListBucket is that one grant.
  type Res = Record<string, { Type: string; Properties: { ManagedPolicyName?: string; Roles?: { Ref: string }[]; PolicyDocument?: { Statement: { Action: string[]; Resource: string[]; Condition?: unknown }[] } } }>;
  const base = (): Res => (parseYamlStream(render().files.get(`${name}/aws/base.yaml`)!)[0] as { Resources: Res }).Resources;
  const marker = 'arn:aws:s3:::odp-fixture-litestream/.odp/k3s/fixture/replica';

  it('the control-plane role gets and puts the marker object and lists its Litestream bucket (a 404 for a missing marker, not a 403); no other role does', () => {
    const policies = Object.values(base()).filter((r) => r.Type === 'AWS::IAM::ManagedPolicy');
    const holders = policies.filter((p) => JSON.stringify(p.Properties.PolicyDocument).includes('.odp/k3s/fixture/replica'));
    expect(holders.map((p) => p.Properties.Roles)).toStrictEqual([[{ Ref: 'ControlPlaneRole' }]]);
    const statements = holders[0]!.Properties.PolicyDocument!.Statement;
    expect(statements).toContainEqual({ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: [marker] });
    // One ListBucket grant on the bucket, unconditional (the replica's, widened: a GetObject carries no s3:prefix).
    const lists = statements.filter((x) => x.Action.includes('s3:ListBucket'));
    expect(lists).toStrictEqual([{ Effect: 'Allow', Action: ['s3:ListBucket'], Resource: ['arn:aws:s3:::odp-fixture-litestream'] }]);
    // No GetBucketLocation: Litestream asks it only for a replica without a region (litestream v0.5.16
    // s3/replica_client.go:345-357), and its config names the region.
    expect(JSON.stringify(statements)).not.toContain('s3:GetBucketLocation');
    expect(render().files.get(`${name}/k3s/userdata/server-1.yaml`)).toMatch(/^ +region: eu-west-1$/m);
    // Never a delete: only an operator resets the marker (the README's command).
    expect(JSON.stringify(statements.filter((x) => x.Resource.includes(marker)))).not.toContain('s3:DeleteObject');
  });
});

describe('k3s-litestream: the restore hook quotes what reaches the shell', () => {
  it('a prefix of S3\'s safe characters (quote, parentheses, star, bang) reaches the hook unchanged', () => {
    const prefix = "k3s/it's(1)!*";
    const ud = parseYamlStream(render((t) => t.replace('prefix: k3s/fixture }', `prefix: "${prefix}" }`)).files.get(`${name}/k3s/userdata/server-1.yaml`)!)[0] as { write_files: { path: string; content: string }[] };
    const hook = ud.write_files.find((f) => f.path === '/usr/local/sbin/odp-litestream-restore')!.content;
    const line = hook.split('\n').find((l) => l.startsWith('REGION='))!;
    const r = spawnSync('sh', ['-c', `${line}\nprintf '%s|%s|%s|%s' "$REGION" "$BUCKET" "$MARKER" "$REPLICA"`], { encoding: 'utf8' });
    expect(r.stdout).toBe(`eu-west-1|odp-fixture-litestream|.odp/k3s/fixture/replica|${prefix}`);
  });
});

describe('k3s-litestream: the server Plan refuses to upgrade while Litestream is stopped', () => {
  /**
   * A stub systemctl that answers as systemd's does (systemd/systemd@004c571b src/shared/verbs.c): is-active is
   * VERB_ONLINE_ONLY, and when running_in_chroot_or_offline() holds it logs "Running in chroot, ignoring command
   * 'is-active'" and exits 0 without asking the manager; $SYSTEMD_OFFLINE, when set, decides that before any chroot
   * detection. Here the chroot is always detected (the prepare step is `chroot /host`); online, the unit's state
   * decides: 0 when active, 3 otherwise (systemctl(1), is-active).
   */
  const STUB = [
    '#!/bin/sh',
    'case "${SYSTEMD_OFFLINE:-}" in 0|no|false) offline=0 ;; 1|yes|true) offline=1 ;; *) offline=1 ;; esac',
    'if [ "$offline" = 1 ]; then echo "Running in chroot, ignoring command \'$1\'" >&2; exit 0; fi',
    '[ "$1" = is-active ] || exit 1',
    'state=$(cat "$STATE")',
    '[ "$state" = active ] && exit 0',
    'exit 3',
    '',
  ].join('\n');

  function prepare(state: 'active' | 'inactive'): number | null {
    const dir = mkdtempSync(join(tmpdir(), 'odp-suc-prepare-'));
    writeFileSync(join(dir, 'systemctl'), STUB, { mode: 0o755 });
    writeFileSync(join(dir, 'state'), state);
    const plan = parseYamlStream(render().files.get(`${name}/manifests/system-upgrade-plans/plan-server-plan.yaml`)!)[0] as { spec: { prepare: { command: string[]; args: string[] } } };
    // What `chroot /host` then runs: the Plan's args, on the host's PATH (the stub's directory first).
    expect(plan.spec.prepare.command).toStrictEqual(['chroot', '/host']);
    const [cmd, ...args] = plan.spec.prepare.args;
    const r = spawnSync(cmd!, args, { env: { PATH: `${dir}:/usr/bin:/bin`, STATE: join(dir, 'state') }, encoding: 'utf8' });
    return r.status;
  }

  it('a stopped Litestream fails the prepare step (the Job retries; no upgrade), a running one lets it go on', () => {
    expect(prepare('inactive')).toBe(3);
    expect(prepare('active')).toBe(0);
  });
});

describe('k3s-litestream: typical mistakes are refused at file:line:col before anything is written', () => {
  const F = `environments/${name}.yaml`;
  // Each: the edit, and the diagnostic the user sees first (position, document path, message).
  const MISTAKES: [string, string, string, string][] = [
    ['indentation', '    litestream: {', '   litestream: {', `${F}:17:4  cluster.datastore: 'litestream' is indented 3 spaces, but the block it belongs to is indented 4 spaces`],
    ['a key typo', 'prefix: k3s/fixture }', 'prefx: k3s/fixture }', `${F}:17:51  cluster.datastore.litestream.prefx: unknown key 'prefx'; expected one of: bucket, prefix, version  (did you mean 'prefix'?)`],
    ['two servers with SQLite', '      - { name: server-1, ip: 10.10.1.10 }', '      - { name: server-1, ip: 10.10.1.10 }\n      - { name: server-2, ip: 10.10.1.11 }', `${F}:26:7  nodePools[0].nodes: kine-sqlite needs exactly one server node; this environment has 2`],
    ['a bucket given as a URL', 'bucket: odp-fixture-litestream,', 'bucket: s3://odp-fixture-litestream,', `${F}:17:27  cluster.datastore.litestream.bucket: 's3://odp-fixture-litestream' is not a valid S3 bucket name: give the bare bucket name  (use 'odp-fixture-litestream'`],
    ['a prefix given as a URL', 'prefix: k3s/fixture }', 'prefix: s3://odp-fixture-litestream/k3s/fixture }', `${F}:17:59  cluster.datastore.litestream.prefix: 's3://odp-fixture-litestream/k3s/fixture' is not an S3 key prefix: give the folder inside the bucket only  (use 'k3s/fixture'`],
    ['a region for the replica (it is the environment\'s)', 'prefix: k3s/fixture }', 'prefix: k3s/fixture, region: us-east-1 }', `${F}:17:72  cluster.datastore.litestream.region: unknown key 'region'; expected one of: bucket, prefix, version`],
    ['a Graviton type in an x86 pool', '    instanceType: m7i.xlarge\n    subnet: private-a\n    count: 2', '    instanceType: m7g.xlarge\n    subnet: private-a\n    count: 2', `${F}:29:11  nodePools[1].arch: amd64 does not match instance type m7g.xlarge, which is arm64  (m7g.xlarge is a Graviton (arm64) type; set arch: arm64)`],
    ['a CronJob schedule with four fields', 'schedule: "15 3 * * *"', 'schedule: "15 3 * *"', `${F}:65:15  workloads[1].schedule: schedule '15 3 * *': 4 fields, expected 5`],
    ['a CronJob minute out of range', 'schedule: "15 3 * * *"', 'schedule: "61 3 * * *"', `${F}:65:15  workloads[1].schedule: schedule '61 3 * * *': minute 61 is above 59`],
    ['a K3s version with - for +', 'k3sVersion: v1.35.9+k3s1', 'k3sVersion: v1.35.9-k3s1', `${F}:13:15  cluster.k3sVersion: 'v1.35.9-k3s1' is not of the form ^v1\\.[0-9]+\\.[0-9]+\\+k3s[0-9]+$`],
    ['an RKE2 release as K3s version', 'k3sVersion: v1.35.9+k3s1', 'k3sVersion: v1.35.9+rke2r1', `${F}:13:15  cluster.k3sVersion: 'v1.35.9+rke2r1' is not of the form`],
    ['a K3s release of another Kubernetes', 'kubernetesVersion: 1.35.9', 'kubernetesVersion: 1.36.3', `${F}:13:15  cluster.k3sVersion: K3s v1.35.9+k3s1 ships Kubernetes 1.35.9, not kubernetesVersion 1.36.3`],
  ];

  it.each(MISTAKES)('%s', (_what, from, to, expected) => {
    const text = sources.get(FILE)!;
    expect(text).toContain(from);
    const r = prepareEnvironment(name, new Map([...sources, [FILE, text.replace(from, to)]]));
    expect(r.prepared).toBeUndefined();
    const errors = formatted(r).filter((l) => !l.includes(': warning: '));
    expect(errors[0]).toContain(expected);
  });
});

describe('k3s-litestream: the hand restore (k3s/litestream-restore.sh) survives a reboot', () => {
  it('disables both units before the database is moved away and enables them after: a reboot meanwhile starts neither', () => {
    const { files } = render();
    const readme = files.get(`${name}/README.md`)!;
    const script = files.get(`${name}/k3s/litestream-restore.sh`)!;
    const lines = script.split('\n').filter((l) => /^(timeout \d+ )?systemctl /.test(l));
    // Both start at boot: litestream.service is enabled by the server's user data, k3s.service by install.sh
    // (k3s-io/k3s@0136cf25 install.sh systemd_enable; [Install] WantedBy=multi-user.target). With the database moved
    // away, K3s would start on a new, empty one: the restore hook skips a node it has marked done. Run on a node:
    // test/k3s-audit-motion.test.ts.
    const server = [...files].find(([p, c]) => p.includes('/k3s/userdata/') && c.includes('litestream.service'))![1];
    expect(server).toContain('systemctl enable litestream.service');
    expect(lines[0]).toBe('systemctl disable --now litestream.service k3s.service');
    expect(lines.slice(1).map((l) => l.split(' ||')[0])).toStrictEqual(['systemctl enable k3s.service', 'timeout 900 systemctl start k3s.service', 'systemctl enable --now litestream.service']);
    expect(readme).toContain('after a reboot mid-restore, run the\nscript again.');
  });
});
