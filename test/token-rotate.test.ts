/**
 * The runbook's server token rotation (rendered/<env>/<k3s|rke2>/rotate-token.sh, generators/distributions/rancher/
 * token-rotate.ts) executed on simulated servers (test/support/node-sandbox.ts) of every datastore the family offers
 * here: K3s Kine on PostgreSQL and on SQLite/Litestream, RKE2 Kine on PostgreSQL and embedded etcd. The stubs behave as
 * upstream does (test/support/node-stubs.mjs): `token rotate --new-token` takes the given password, rewrites
 * <data-dir>/server/token as K10<CA hash>::server:<new> (also when the datastore then fails) and re-encrypts the bootstrap data under it
 * (k3s-io/k3s pkg/server/handlers/token.go@b462a5f7:68-113, pkg/cluster/storage.go RotateBootstrapToken); a server
 * then starts only with the new token ("bootstrap data already found and encrypted with different token",
 * storage.go getBootstrapKeyFromStorage).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { parse } from 'yaml';
import { RKE2_ARTIFACTS } from '../generators/distributions/rke2/artifacts.js';
import { POOL_JOIN_HOOK } from '../generators/distributions/rancher/pool-join.js';
import { serveRelease } from './support/artifacts.js';
import { RKE2_INSTALL_STUB, rke2Tarball } from './support/installers.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { tokenRotateUnsupported, tokenRotationText } from '../generators/distributions/rancher/token-rotate.js';
import { K3S_TOKEN_ROTATE_SINCE } from '../generators/distributions/k3s/token-rotate.js';
import { RKE2_TOKEN_ROTATE_SINCE } from '../generators/distributions/rke2/token-rotate.js';
import { fixtureSources, formatted, renderExample } from './helpers.js';
import { World, type NodeBox } from './support/node-sandbox.js';

interface Setup {
  title: string;
  files: () => Map<string, string>;
  name: 'k3s' | 'rke2';
  unit: string;
  unitPath: string;
  servers: number;
  /** The servers' subnet (their fixed addresses are <net>.10, .11, …). */
  net?: string;
  /** Extra server state: the Kine DSN drop-in of RKE2 (K3s' config names its datastore itself), an etcd member. */
  prepare?: (node: NodeBox) => void;
}

const fixture = (file: string) => (): Map<string, string> => {
  const { name, sources } = fixtureSources('valid', file);
  const r = prepareEnvironment(name, sources);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  return new Map(renderEnvironment(r.prepared).map((f) => [f.path, f.content]));
};

const SETUPS: Setup[] = [
  { title: 'K3s, Kine on PostgreSQL', files: fixture('k3s-postgres.yaml'), name: 'k3s', unit: 'k3s', unitPath: '/etc/systemd/system/k3s.service', servers: 3 },
  { title: 'K3s, Kine on SQLite with Litestream (one server)', files: () => new Map(renderExample('dev-k3s').map((f) => [f.path, f.content])), name: 'k3s', unit: 'k3s', unitPath: '/etc/systemd/system/k3s.service', servers: 1, net: '10.11.1' },
  {
    title: 'RKE2, Kine on PostgreSQL',
    files: fixture('rke2-postgres.yaml'),
    name: 'rke2',
    unit: 'rke2-server',
    unitPath: '/usr/local/lib/systemd/system/rke2-server.service',
    servers: 3,
    prepare: (n) => n.write('/etc/rancher/rke2/config.yaml.d/10-node.yaml', `node-name: "${n.hostname}"\ndatastore-endpoint: "postgres://rke2:x@db:5432/rke2?sslmode=verify-full"\n`, 0o600),
  },
  {
    title: 'RKE2, embedded etcd',
    files: fixture('rke2-etcd.yaml'),
    name: 'rke2',
    unit: 'rke2-server',
    unitPath: '/usr/local/lib/systemd/system/rke2-server.service',
    servers: 3,
    prepare: (n) => n.write('/var/lib/rancher/rke2/server/db/etcd/name', `${n.hostname}-0000000${n.ip.slice(-1)}`),
  },
];

const HASH = 'c'.repeat(64);
const OLD = 'a1b2'.repeat(16);
const password = (t: string): string => (t.includes('::') ? t.slice(t.indexOf('::') + 2).replace(/^server:/, '') : t);

describe.each(SETUPS)('rotate-token.sh: $title', (s) => {
  let world: World;
  let files: Map<string, string>;
  let script: string;
  let param: string;
  const tokenFile = `/etc/rancher/${s.name}/token`;
  // RKE2 keeps the secure token in SSM (its first server publishes it), K3s the short one.
  const oldValue = s.name === 'rke2' ? `K10${HASH}::server:${OLD}` : OLD;

  beforeEach(() => {
    world = new World();
    files = s.files();
    script = files.get(`${s.name}/rotate-token.sh`)!;
    expect(script, 'rendered').toBeDefined();
    param = /^PARAM='([^']+)'$/m.exec(script)![1]!;
    world.ssm(param, oldValue);
    world.bootstrapKey({ password: OLD, ca: '1' });
  });
  afterEach(() => world.cleanup());

  /**
   * A server of the cluster as its first boot leaves it (config with token-file, token-file from SSM: `token`, by
   * default the token the cluster had before any rotation), started; `started` false: its start is the caller's to check.
   */
  function server(i: number, token = oldValue, started = true): NodeBox {
    const net = s.net ?? '10.10.1';
    const node = world.node(`ip-${net.replace(/\./g, '-')}-1${i}.eu-west-1.compute.internal`, `${net}.1${i}`);
    const config = [...files].find(([p, c]) => new RegExp(`^${s.name}/[^/]+\\.yaml$`).test(p) && c.includes('agent-token-file'))![1];
    node.write(`/etc/rancher/${s.name}/config.yaml`, config, 0o600);
    node.write(tokenFile, token, 0o600);
    node.write(`/etc/rancher/${s.name}/agent-token`, 'agent-token-unchanged', 0o600);
    node.write(s.unitPath, `[Service]\nExecStart=/usr/local/bin/${s.name} server\n`);
    s.prepare?.(node);
    node.stubBinary(`/usr/local/bin/${s.name}`);
    node.write('/root/rotate-token.sh', script, 0o700);
    if (started) expect(node.run(`#!/bin/sh\nsystemctl start ${s.unit}.service\n`).code).toBe(0);
    return node;
  }
  const run = (node: NodeBox, mode: string) => node.run(`#!/bin/sh\nsh /root/rotate-token.sh ${mode}\n`);
  const lastLine = (stderr: string) => stderr.trim().split('\n').at(-1);
  const restart = (node: NodeBox) => node.run(`#!/bin/sh\nsystemctl restart ${s.unit}.service\n`);
  const pendingOf = () => `${param}-pending`;
  /** The calls that carried `secret` on their command line: only `token rotate --new-token` (upstream has no other way). */
  const exposed = (secret: string) => world.calls().filter((c) => c.includes(secret));

  it('rotate on one server: the token recorded as pending, then the cluster, this server restarted, then promoted; every other server follows; nothing secret is printed', () => {
    const nodes = Array.from({ length: s.servers }, (_, i) => server(i));
    const [first, ...others] = nodes;
    const r = run(first!, 'rotate');
    expect(r.code, r.stderr).toBe(0);
    const fresh = world.ssm(param)!;
    expect(password(fresh)).not.toBe(OLD);
    // SSM keeps the member's format and the parameter's KMS key; the pending parameter holds the same token, same key.
    if (s.name === 'rke2') expect(fresh).toMatch(new RegExp(`^K10${HASH}::server:[0-9a-f]{32}$`));
    else expect(fresh).toMatch(/^[0-9a-f]{32}$/);
    expect(world.ssmKey(param)).toBe('alias/odp-test');
    expect(world.ssm(pendingOf())).toBe(fresh);
    expect(world.ssmKey(pendingOf())).toBe('alias/odp-test');
    expect(first!.read(tokenFile)).toBe(fresh);
    expect(world.bootstrapKey()!.password).toBe(password(fresh));
    expect(first!.read(`/etc/rancher/${s.name}/agent-token`)).toBe('agent-token-unchanged');
    expect(first!.exists(`/etc/rancher/${s.name}/odp-token-pending`)).toBe(false);
    // The order: pending recorded, then the rotation, then this server's restart, then the promotion.
    expect(r.stderr).toContain(`odp-rotate-token: recorded the new token in ${pendingOf()}; rotating (${s.name} token rotate --new-token)`);
    expect(r.stderr).toContain(`odp-rotate-token: promoted the new token to ${param}`);
    expect(r.stderr.indexOf('recorded the new token')).toBeLessThan(r.stderr.indexOf('promoted the new token'));
    const calls = world.calls();
    const rotated = calls.findIndex((c) => c.includes(' token rotate'));
    // The restart: stopped, then started and watched (start_watched: systemctl start under timeout, one window).
    const restarted = calls.findIndex((c, i) => i > rotated && c.includes(`timeout 60 systemctl start ${s.unit}.service`));
    expect(calls.findIndex((c, i) => i > rotated && c.includes(`systemctl stop ${s.unit}.service`))).toBeLessThan(restarted);
    const promoted = calls.findIndex((c) => c.includes('put-parameter') && c.includes(`--name ${param} `));
    expect(calls.findIndex((c) => c.includes('put-parameter') && c.includes(`--name ${pendingOf()} `))).toBeLessThan(rotated);
    expect(rotated).toBeLessThan(restarted);
    expect(restarted).toBeLessThan(promoted);
    // The exact next command for every other server, by name and address (the fixture's servers are 10.10.1.1x).
    const next = r.stderr.split('\n').filter((l) => l.includes('next, one server at a time'));
    expect(next).toHaveLength(s.servers - 1);
    for (const l of next) expect(l).toMatch(/^odp-rotate-token: next, one server at a time, as root on \S+ \(10\.1[01]\.1\.1[1-9]\): sh rotate-token\.sh follow$/);
    for (const out of [r.stdout, r.stderr]) {
      expect(out).not.toContain(OLD);
      expect(out).not.toContain(password(fresh));
    }
    expect(exposed(password(fresh)).map((c) => c.replace(/^.*? token rotate/, 'token rotate'))).toStrictEqual([`token rotate --new-token ${password(fresh)}`]);
    for (const other of others) {
      // Before it follows, a server restarted with the old token cannot decrypt the bootstrap data (upstream's refusal).
      const early = restart(other);
      expect(early.code).toBe(1);
      expect(early.stderr).toContain('bootstrap data already found and encrypted with different token');
      // rotate on a server that has not followed is refused (it would rotate a second time).
      const wrong = run(other, 'rotate');
      expect(wrong.code).toBe(1);
      expect(lastLine(wrong.stderr)).toBe(`odp-rotate-token: ${tokenFile} differs from ${param}: another server rotated; run sh rotate-token.sh follow here`);
      const f = run(other, 'follow');
      expect(f.code, f.stderr).toBe(0);
      expect(lastLine(f.stderr)).toBe(`odp-rotate-token: ${s.unit} restarted with the token in ${param}`);
      expect(other.read(tokenFile)).toBe(fresh);
      expect(f.stdout + f.stderr).not.toContain(password(fresh));
    }
    // follow again (or on the server that rotated), or resume: nothing to do, no restart.
    const again = run(first!, 'follow');
    expect(again.code).toBe(0);
    expect(lastLine(again.stderr)).toBe(`odp-rotate-token: ${tokenFile} holds the token in ${param} already: nothing to do`);
    const resumed = run(first!, 'resume');
    expect(resumed.code).toBe(0);
    expect(lastLine(resumed.stderr)).toBe(`odp-rotate-token: no rotation is unfinished (${pendingOf()} holds no token other than the one in ${param}): nothing to do`);
    expect(world.calls().filter((c) => c.includes(' token rotate'))).toHaveLength(1);
  });

  it('the pending token cannot be recorded: nothing is rotated, and the script says so', () => {
    const node = server(0);
    world.ssmDenied([pendingOf()]);
    const r = run(node, 'rotate');
    expect(r.code).toBe(1);
    expect(lastLine(r.stderr)).toBe(`odp-rotate-token: writing ${pendingOf()} failed: nothing rotated; the cluster, ${param} and ${tokenFile} keep the token they had`);
    expect(world.calls().some((c) => c.includes(' token rotate'))).toBe(false);
    expect(world.bootstrapKey()!.password).toBe(OLD);
    expect(world.ssm(param)).toBe(oldValue);
    expect(world.ssm(pendingOf())).toBeUndefined();
    expect(node.read(tokenFile)).toBe(oldValue);
    expect(node.exists(`/etc/rancher/${s.name}/odp-token-pending`)).toBe(false);
    expect(restart(node).code).toBe(0);
  });

  it('the rotation fails after the pending token was recorded: the message names both; resume finds the datastore kept its token and discards the pending one', () => {
    const node = server(0);
    world.tokenRotateFails('etcdserver: request timed out');
    const r = run(node, 'rotate');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('500 Internal Server Error: etcdserver: request timed out');
    expect(lastLine(r.stderr)).toBe(`odp-rotate-token: ${s.name} token rotate failed after this server took the new token: the datastore needs the token in ${pendingOf()} if the re-encryption completed, else the one in ${param}; run sh rotate-token.sh resume here (it restarts ${s.unit} to find out)`);
    const recorded = world.ssm(pendingOf())!;
    expect(password(recorded)).toMatch(/^[0-9a-f]{32}$/);
    expect(password(node.read(`/var/lib/rancher/${s.name}/server/token`).trim())).toBe(password(recorded));
    expect(world.ssm(param)).toBe(oldValue);
    expect(node.read(tokenFile)).toBe(oldValue);
    expect(world.bootstrapKey()!.password).toBe(OLD);
    // Until it is settled, rotate and follow refuse.
    for (const mode of ['rotate', 'follow']) {
      const refused = run(node, mode);
      expect(refused.code).toBe(1);
      expect(lastLine(refused.stderr)).toBe(`odp-rotate-token: a rotation is unfinished (${pendingOf()} holds a token ${param} does not): run sh rotate-token.sh resume here first`);
    }
    const settled = run(node, 'resume');
    expect(settled.code, settled.stderr).toBe(0);
    // The current token first (the order a booting server tries them in): it starts, so the pending one is never tried.
    expect(settled.stderr).toContain(`odp-rotate-token: a rotation is unfinished: restarting ${s.unit} with the token in ${param}`);
    expect(settled.stderr).not.toContain('bootstrap data already found');
    expect(lastLine(settled.stderr)).toBe(`odp-rotate-token: ${s.unit} started with the token in ${param}: the rotation did not happen, the datastore needs that token; ${pendingOf()} discarded. Run sh rotate-token.sh rotate again`);
    expect(world.ssm(param)).toBe(oldValue);
    expect(world.ssm(pendingOf())).toBe(oldValue);
    expect(node.read(tokenFile)).toBe(oldValue);
    expect(restart(node).code).toBe(0);
    expect(world.calls().filter((c) => c.includes(' token rotate'))).toHaveLength(1);
  });

  it('the rotation fails before the server took the new token (its supervisor down): the datastore keeps its token, the pending one is discarded at once', () => {
    const node = server(0);
    expect(node.run(`#!/bin/sh\nsystemctl stop ${s.unit}.service\n`).code).toBe(0);
    const r = run(node, 'rotate');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('connect: connection refused');
    expect(lastLine(r.stderr)).toBe(`odp-rotate-token: ${s.name} token rotate failed before this server took the new token: the datastore needs the token in ${param}, as before (journalctl -u ${s.unit}); ${pendingOf()} discarded`);
    expect(world.ssm(pendingOf())).toBe(oldValue);
    expect(world.ssm(param)).toBe(oldValue);
    expect(world.bootstrapKey()!.password).toBe(OLD);
    expect(node.read(tokenFile)).toBe(oldValue);
    // Nothing unfinished: a later rotate runs.
    expect(node.run(`#!/bin/sh\nsystemctl start ${s.unit}.service\n`).code).toBe(0);
    const again = run(node, 'rotate');
    expect(again.code, again.stderr).toBe(0);
    expect(world.bootstrapKey()!.password).toBe(password(world.ssm(param)!));
  });

  it('the server dies between rotation and promotion: a replacement is refused with the old token; resume there promotes the pending one; the next boot takes it', () => {
    const node = server(0);
    world.ssmDenied([param]);
    const r = run(node, 'rotate');
    expect(r.code).toBe(1);
    expect(lastLine(r.stderr)).toBe(`odp-rotate-token: writing ${param} failed: the datastore needs the token in ${pendingOf()} (this server runs with it, in ${tokenFile}); ${param} holds the old one. Run sh rotate-token.sh resume again here`);
    const recorded = world.ssm(pendingOf())!;
    expect(world.bootstrapKey()!.password).toBe(password(recorded));
    expect(world.ssm(param)).toBe(oldValue);
    world.ssmDenied([]);
    // The server is lost. Its replacement boots as every server does: token-file from the current parameter.
    rmSync(node.root, { recursive: true, force: true });
    const replacement = server(0, world.ssm(param)!, false);
    const refused = replacement.run(`#!/bin/sh\nsystemctl start ${s.unit}.service\n`);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('bootstrap data already found and encrypted with different token');
    const before = world.calls().length;
    const resumed = run(replacement, 'resume');
    expect(resumed.code, resumed.stderr).toBe(0);
    // The current token first: refused, and the refusal is read from the journal of that start after ONE window of
    // start_watched (not after 900 s); then the pending one, which starts.
    expect(resumed.stderr).toContain(`odp-rotate-token: the datastore refuses the token in ${param}: restarting ${s.unit} with the one in ${pendingOf()}`);
    expect(world.calls().slice(before).filter((c) => c.includes(`timeout 60 systemctl start ${s.unit}.service`))).toHaveLength(2);
    expect(resumed.stderr).toContain(`odp-rotate-token: ${s.unit} started with the token in ${pendingOf()}: the datastore needs it`);
    expect(resumed.stderr).toContain(`odp-rotate-token: promoted the new token to ${param}`);
    expect(world.ssm(param)).toBe(recorded);
    expect(replacement.read(tokenFile)).toBe(recorded);
    expect(resumed.stdout + resumed.stderr).not.toContain(password(recorded));
    // The next server booting from SSM starts with the token the datastore needs.
    rmSync(replacement.root, { recursive: true, force: true });
    server(0, world.ssm(param)!);
    expect(world.calls().filter((c) => c.includes(' token rotate'))).toHaveLength(1);
  });

  it('refuses on an agent, and without a mode', () => {
    const agent = world.node('ip-10-10-1-50.eu-west-1.compute.internal', '10.10.1.50');
    agent.write('/root/rotate-token.sh', script, 0o700);
    const r = run(agent, 'rotate');
    expect(r.code).toBe(1);
    expect(lastLine(r.stderr)).toBe(`odp-rotate-token: no ${s.name === 'k3s' ? 'K3s' : 'RKE2'} server unit (${s.unitPath}) on this node: run this on the servers (agents keep their agent token)`);
    const bare = run(server(0), '');
    expect(bare.code).toBe(2);
    expect(lastLine(bare.stderr)).toBe('odp-rotate-token: usage: sh rotate-token.sh rotate (on one server), then sh rotate-token.sh follow (on each other server); sh rotate-token.sh resume after a failure');
  });
});

describe('token rotation: who may write the new token', () => {
  it('a K3s server role may write the server token parameter and its pending one (only them) and read parameters\' KMS keys; agents may not', () => {
    const files = fixture('k3s-postgres.yaml')();
    const base = parse(files.get('aws/base.yaml')!) as { Resources: Record<string, { Type: string; Properties: { ManagedPolicyName?: string; PolicyDocument?: { Statement: { Action: string[]; Resource: string[] }[] } } }> };
    const policies = Object.values(base.Resources).filter((r) => r.Type === 'AWS::IAM::ManagedPolicy');
    const writes = policies.filter((p) => p.Properties.PolicyDocument!.Statement.some((st) => st.Action.includes('ssm:PutParameter')));
    expect(writes.map((p) => p.Properties.ManagedPolicyName)).toStrictEqual([expect.stringMatching(/-controlplane-token-rotate$/)]);
    const put = writes[0]!.Properties.PolicyDocument!.Statement.find((st) => st.Action.includes('ssm:PutParameter'))!;
    const param = /^PARAM='([^']+)'$/m.exec(files.get('k3s/rotate-token.sh')!)![1]!;
    expect(put.Resource).toStrictEqual([expect.stringMatching(new RegExp(`:parameter${param.replace(/\//g, '\\/')}$`))]);
    // publish() keeps the parameter's KMS key: describe-parameters, which has no resource-level permissions.
    expect(writes[0]!.Properties.PolicyDocument!.Statement).toContainEqual(expect.objectContaining({ Action: ['ssm:DescribeParameters'], Resource: ['*'] }));
    // The pending token: recorded and read back by the same role (rotate-token.sh), on that one parameter.
    expect(writes[0]!.Properties.PolicyDocument!.Statement).toContainEqual(expect.objectContaining({ Action: ['ssm:GetParameter', 'ssm:PutParameter'], Resource: [expect.stringMatching(new RegExp(`:parameter${param.replace(/\//g, '\\/')}-pending$`))] }));
  });

  it.each(['k3s-postgres.yaml', 'rke2-postgres.yaml'])('%s: the server role\'s description names the pending token, which the rotation records and a booting server reads', (file) => {
    const base = parse(fixture(file)().get('aws/base.yaml')!) as { Resources: Record<string, { Type: string; Properties: { RoleName?: string; Description?: string } }> };
    const role = Object.values(base.Resources).find((r) => r.Type === 'AWS::IAM::Role' && /control-plane nodes/.test(r.Properties.Description ?? ''))!;
    expect(role.Properties.Description).toContain('records the new server token as pending (<token>-pending)'.replace('the new', file.startsWith('k3s') ? 'the new' : 'a new'));
    expect(role.Properties.Description).toContain('a booting server whose token the datastore refuses reads the pending one');
  });
});

describe('token rotation: the release decides', () => {
  it('the first releases with token rotate (rke2-docs security/token.md Version Gate; k3s-io/k3s#8265 backports)', () => {
    expect(tokenRotateUnsupported('rke2', RKE2_TOKEN_ROTATE_SINCE, 'v1.28.3+rke2r2')).toBeUndefined();
    expect(tokenRotateUnsupported('rke2', RKE2_TOKEN_ROTATE_SINCE, 'v1.28.3+rke2r1')).toBe('v1.28.3+rke2r1 has no `rke2 token rotate` (first in v1.28.3+rke2r2: rke2-docs docs/security/token.md (Version Gate, 2023-11 releases))');
    expect(tokenRotateUnsupported('rke2', RKE2_TOKEN_ROTATE_SINCE, 'v1.35.7+rke2r1')).toBeUndefined();
    expect(tokenRotateUnsupported('k3s', K3S_TOKEN_ROTATE_SINCE, 'v1.27.6+k3s1')).toMatch(/^v1\.27\.6\+k3s1 has no `k3s token rotate` \(first in v1\.27\.7\+k3s1/);
    expect(tokenRotateUnsupported('k3s', K3S_TOKEN_ROTATE_SINCE, 'v1.24.17+k3s1')).toMatch(/first in v1\.29/);
    expect(tokenRotateUnsupported('k3s', K3S_TOKEN_ROTATE_SINCE, 'v1.34.1+k3s1')).toBeUndefined();
  });

  it('an environment on a release without it gets no script; its README says why', () => {
    const files = fixture('k3s-postgres.yaml')();
    expect(files.has('k3s/rotate-token.sh')).toBe(true);
    const readme = [...files].find(([p]) => p === 'README.md')![1];
    expect(readme).toContain('`sh rotate-token.sh rotate` on ONE server');
    // The order and the way back, as the script does them.
    expect(readme).toContain('records it in `/odp/k3s-postgres/k3s/token-pending` (pending)\nBEFORE `k3s token rotate --new-token` re-encrypts the bootstrap data with it');
    expect(readme).toContain('run `sh rotate-token.sh resume` on any server (the replacement too)');
    const { name, sources } = fixtureSources('valid', 'k3s-postgres.yaml');
    const r = prepareEnvironment(name, sources);
    const m = r.prepared!.model;
    expect(tokenRotationText(m, { name: 'k3s', title: 'K3s' }, { unsupported: 'v1.27.6+k3s1 has no `k3s token rotate`' })).toBe('Server token rotation: not rendered, v1.27.6+k3s1 has no `k3s token rotate`; upgrade first.\n');
  });
});

describe('rotate-token.sh in motion: RKE2 on embedded etcd booted from its user data', () => {
  const VERSION = 'v1.35.7+rke2r1';
  const SERVERS = { 'cp-1': '10.10.1.10', 'cp-2': '10.10.1.11', 'cp-3': '10.10.1.12' } as const;
  const host = (ip: string): string => `ip-${ip.replace(/\./g, '-')}.eu-west-1.compute.internal`;
  const PARAM = '/odp/rke2-etcd/rke2/token';
  let world: World;
  let restore: () => void;
  let files: Map<string, string>;
  beforeEach(() => {
    world = new World();
    world.sysctlDefaults({ 'vm.panic_on_oom': '0', 'vm.overcommit_memory': '1', 'kernel.panic': '10', 'kernel.panic_on_oops': '1' });
    world.ssm(PARAM, 'short-server-token');
    world.ssm('/odp/rke2-etcd/rke2/agent-token', 'short-agent-token');
    restore = serveRelease(world, RKE2_ARTIFACTS, 'rke2', VERSION, { 'install.sh': RKE2_INSTALL_STUB, amd64: rke2Tarball(VERSION) });
    files = fixture('rke2-etcd.yaml')();
    world.deployBase(files);
  });
  afterEach(() => {
    restore();
    world.cleanup();
  });
  const node = (name: keyof typeof SERVERS) => world.node(host(SERVERS[name]), SERVERS[name]);
  const run = (n: NodeBox, mode: string) => {
    n.write('/root/rotate-token.sh', files.get('rke2/rotate-token.sh')!, 0o700);
    n.stubBinary('/usr/local/bin/rke2');
    return n.run(`#!/bin/sh\nsh /root/rotate-token.sh ${mode}\n`);
  };

  it('rotated on a joined server, followed by the others; a pool instance joins during the window, a replaced server after it', () => {
    for (const name of Object.keys(SERVERS) as (keyof typeof SERVERS)[]) expect(node(name).boot(files.get(`rke2/userdata/${name}.yaml`)!).code).toBe(0);
    // From here the datastore's bootstrap data is encrypted under the cluster's token (the stubs check every start).
    world.bootstrapKey({ password: 'short-server-token', ca: String(world.etcd().ca) });
    const published = world.ssm(PARAM)!.trim();
    expect(published).toMatch(/^K10[0-9a-f]{64}::server:short-server-token$/);

    const r = run(node('cp-2'), 'rotate');
    expect(r.code, r.stderr).toBe(0);
    const fresh = world.ssm(PARAM)!;
    // Same CA hash (the CA does not change), new password; SSM keeps the secure format joining nodes wait for.
    expect(fresh.slice(0, fresh.indexOf('::'))).toBe(published.slice(0, published.indexOf('::')));
    expect(password(fresh)).not.toBe('short-server-token');
    expect(r.stderr).toContain('as root on cp-1 (10.10.1.10): sh rotate-token.sh follow');
    expect(r.stderr).toContain('as root on cp-3 (10.10.1.12): sh rotate-token.sh follow');
    expect(r.stderr).not.toContain('on cp-2 (');

    // A pool instance launched before the other servers followed: it joins with the agent token, which is unchanged.
    const agent = world.node('ip-10-10-1-99.eu-west-1.compute.internal', '10.10.1.99');
    world.launching(agent.instanceId, 'fixture-workers', POOL_JOIN_HOOK);
    const joined = agent.boot(files.get('rke2/userdata/workers.yaml')!);
    expect(joined.code, joined.stderr).toBe(0);
    expect(world.lifecycle()[agent.instanceId]).toMatchObject({ state: 'InService', result: 'CONTINUE' });
    expect(world.nodeState(agent.hostname)).toMatchObject({ unit: 'rke2-agent', caVerified: true });

    // The first server (its token-file still holds the short token of its first boot) and cp-3 follow.
    for (const name of ['cp-1', 'cp-3'] as const) {
      const f = run(node(name), 'follow');
      expect(f.code, f.stderr).toBe(0);
      expect(node(name).read('/etc/rancher/rke2/token')).toBe(fresh);
    }

    // cp-3 replaced: its member removed by the runbook, the replacement boots from the same user data with the new
    // token from SSM (the secure one it waits for) and joins the one cluster.
    rmSync(node('cp-3').root, { recursive: true, force: true });
    const removed = world.runScript(files.get('rke2/replace-server.sh')!.replace('#!/bin/sh\n', '#!/bin/sh\nset -- cp-3\n'));
    expect(removed.code, removed.stderr).toBe(0);
    rmSync(node('cp-3').root, { recursive: true, force: true });
    const replaced = node('cp-3').boot(files.get('rke2/userdata/cp-3.yaml')!);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(node('cp-3').read('/etc/rancher/rke2/token')).toBe(fresh);
    expect(world.nodeState(host(SERVERS['cp-3']))).toMatchObject({ caVerified: true });
    expect(world.etcd()).toMatchObject({ clusters: 1 });
    expect(world.etcd().members).toHaveLength(3);
  }, 400_000);
});
