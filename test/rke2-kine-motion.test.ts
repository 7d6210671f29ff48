/**
 * RKE2 on Kine PostgreSQL under Flux in motion (audit10), against the simulated database and supervisor of
 * test/support/node-stubs.mjs (postgres.json, bootstrap.json) and RKE2's install.sh (test/support/installers.ts):
 * the fixture test/fixtures/valid/rke2-kine-canal.yaml (three servers, an amd64 and a Graviton pool, Canal) boots,
 * loses its database, rotates its token and its PostgreSQL password, upgrades and replaces a server, every step a
 * rendered script run on a node. The model is test/k3s-postgres-motion.test.ts (the same stubs).
 *
 * Upstream, RKE2 v1.36 (the shared supervisor it vendors):
 * - rancher/rke2 bundle/lib/systemd/system/rke2-server.service (@1a821cd3, lines 21-23): TimeoutStartSec=0,
 *   Restart=always, RestartSec=5s; RKE2 runs the supervisor (Type=notify from install.sh's tarball units): a server
 *   that cannot use its datastore exits before READY=1 and `systemctl start` waits for ever (systemd/systemd#33890).
 * - k3s-io/kine pkg/drivers/pgsql/pgsql.go (@006a11aa) prepareDSN: datastore-cafile becomes `sslrootcert` and sets
 *   sslmode=verify-full only when the DSN has no sslmode (the DSN's own `sslmode=verify-full` stays);
 *   createDBIfNotExist pings first (a refused password or an unreachable host is an error, not a CREATE DATABASE).
 *   pkg/drivers/generic/generic.go Open: 300 one-second pings, then the server exits.
 * - k3s-io/k3s pkg/cluster/storage.go storageBootstrap / getBootstrapKeyFromStorage: the bootstrap data in the
 *   database is encrypted under the token's password; another token is refused ("bootstrap data already found and
 *   encrypted with different token").
 * - rancher/rke2-docs@9477b7b1 docs/datastore/backup_restore.md lines 368-389 ("External DB Backups"): with an
 *   external datastore backup and restore are the database's own (snapshot or dump), plus the server token;
 *   docs/datastore/external.md (c7cda232, 2025-06-04 "Remove kine as experimental").
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { RKE2_ARTIFACTS } from '../generators/distributions/rke2/artifacts.js';
import { BOOT_WAITS, RDS_CA_BUNDLE_URL, SERVICE_READY_SECONDS } from '../generators/distributions/rancher/boot.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { failureBlocks, motionOf } from '../generators/validate/motion/index.js';
import { formatPlan, upgradePlan } from '../generators/upgrade-plan/plan.js';
import { accessGraph, routesTo } from '../generators/validate/access.js';
import { parseRenderedTree } from '../generators/validate/rendered/tree.js';
import { fixtureSources, formatted } from './helpers.js';
import { serveRelease } from './support/artifacts.js';
import { RKE2_INSTALL_STUB, rke2Tarball } from './support/installers.js';
import { World, type NodeBox } from './support/node-sandbox.js';

const ENV = 'rke2-kine-canal';
const VERSION = 'v1.36.3+rke2r1';
const OLD = 'v1.36.2+rke2r1';
const CIS = { 'vm.panic_on_oom': '0', 'vm.overcommit_memory': '1', 'kernel.panic': '10', 'kernel.panic_on_oops': '1' };
const PASSWORD = 'p@ss/w:rd';
const TOKEN = `/odp/${ENV}/rke2/token`;
const AGENT_TOKEN = `/odp/${ENV}/rke2/agent-token`;
const PG_PARAM = '/odp/fixture/kine/password';
const DB = { host: 'kine.fixture.internal', user: 'rke2', password: PASSWORD, up: true };
const SERVERS = [
  ['server-1', 'ip-10-10-1-10.eu-west-1.compute.internal', '10.10.1.10'],
  ['server-2', 'ip-10-10-1-11.eu-west-1.compute.internal', '10.10.1.11'],
  ['server-3', 'ip-10-10-1-12.eu-west-1.compute.internal', '10.10.1.12'],
] as const;
const CAUSES = `PostgreSQL kine.fixture.internal:5432 unreachable, the password of role rke2 (${PG_PARAM}) refused, or the bootstrap data in database rke2 encrypted with another server token`;
/** The boot's last line when RKE2 does not start: the cause read from the start's journal, then what can keep it from starting. */
const bootStop = (cause: string): string => `odp-rke2-boot: rke2-server is not ready (${BOOT_WAITS.datastoreSeconds} s): its journal says ${cause}; it exits until it can use its datastore (${CAUSES}): journalctl -u rke2-server. systemd keeps restarting it; once the cause is fixed, run /usr/local/sbin/odp-rke2-boot again`;

const cache = new Map<string, Map<string, string>>();
/** The fixture's rendered files, at its release or (a bump) at `version`. */
const files = (version = VERSION): Map<string, string> => {
  const hit = cache.get(version);
  if (hit) return hit;
  const { name, sources } = fixtureSources('valid', `${ENV}.yaml`);
  const file = `environments/${name}.yaml`;
  const text = sources.get(file)!.replace(`rke2Version: ${VERSION}\n  kubernetesVersion: 1.36.3`, `rke2Version: ${version}\n  kubernetesVersion: ${version.slice(1, version.indexOf('+'))}`);
  expect(text).toContain(`rke2Version: ${version}`);
  sources.set(file, text);
  const r = prepareEnvironment(name, sources);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  const out = new Map(renderEnvironment(r.prepared).map((f) => [f.path, f.content]));
  cache.set(version, out);
  return out;
};
const lastLine = (stderr: string): string | undefined => stderr.trim().split('\n').at(-1);
/** A runbook script run with its first argument. */
const withArgs = (script: string, ...args: string[]): string => script.replace(/^#!\/bin\/sh\n/, `#!/bin/sh\nset -- ${args.join(' ')}\n`);

describe('RKE2 on Kine PostgreSQL: first boot of three servers, and what the datastore can do to a boot', () => {
  let world: World;
  let restore: () => void;
  beforeEach(() => {
    world = new World();
    world.sysctlDefaults(CIS);
    world.ssm(TOKEN, 'server-secret');
    world.ssm(AGENT_TOKEN, 'agent-secret');
    world.ssm(PG_PARAM, PASSWORD);
    world.serve(RDS_CA_BUNDLE_URL, 'rds-ca');
    world.postgres(DB);
    world.deployBase(files());
    restore = serveRelease(world, RKE2_ARTIFACTS, 'rke2', VERSION, { 'install.sh': RKE2_INSTALL_STUB, amd64: rke2Tarball(VERSION), arm64: rke2Tarball(VERSION) });
  });
  afterEach(() => {
    restore();
    world.cleanup();
  });
  const node = (i: number): NodeBox => world.node(SERVERS[i]![1], SERVERS[i]![2]);
  const boot = (i: number) => ({ node: node(i), host: SERVERS[i]![1], r: node(i).boot(files().get(`rke2/userdata/${SERVERS[i]![0]}.yaml`)!) });

  it('three servers on an empty database: server-1 writes the bootstrap data and publishes the secure tokens, the others start on its CA', () => {
    // No Kine server joins a supervisor (no `server:`); no etcd key at all.
    for (const [name] of SERVERS) expect(files().get(`rke2/${name}.yaml`)).not.toMatch(/^(server|etcd-[a-z0-9-]+|cluster-init):/m);
    const booted = SERVERS.map((_, i) => boot(i));
    for (const { r } of booted) {
      expect(r.code, r.stderr).toBe(0);
      expect(lastLine(r.stderr)).toBe('odp-rke2-boot: RKE2 server started');
    }
    expect(booted[0]!.r.stderr).toContain(`odp-rke2-boot: published the secure token to ${TOKEN}`);
    expect(world.bootstrapKey()).toMatchObject({ password: 'server-secret', by: booted[0]!.host });
    for (const { host } of booted) expect(world.nodeState(host)).toMatchObject({ unit: 'rke2-server', ca: `kine-${booted[0]!.host}`, datastore: expect.stringMatching(/^postgres:\/\/rke2:%70%40%73%73%2f%77%3a%72%64@kine\.fixture\.internal:5432\/rke2\?sslmode=verify-full$/) });
    expect(world.ssm(TOKEN)).toMatch(/^K10[0-9a-f]{64}::server:server-secret\n?$/);
    // The password reaches the root-only drop-in, percent-encoded; never the rendered tree, never the console.
    for (const [p, c] of files()) expect(c, p).not.toContain(PASSWORD);
    for (const { r } of booted) expect(r.stdout + r.stderr).not.toMatch(/p@ss|%70%40%73%73/);
    expect(booted[1]!.node.read('/etc/rancher/rke2/config.yaml')).toContain('datastore-cafile: /etc/ssl/certs/rds-global-bundle.pem\n');
  });

  it('PostgreSQL unreachable: the first server\'s boot stops after the bound and names the datastore (it waited for ever in systemctl start)', () => {
    world.postgres({ ...DB, up: false });
    // The rendered bound: 30 windows of 60 s (BOOT_WAITS, the other servers' token wait too); the stub world runs 2.
    expect(files().get('rke2/userdata/server-1.yaml')).toContain(`start_watched rke2-server.service ${BOOT_WAITS.tokenSeconds / 60} || rc=$?`);
    world.shortStarts(2);
    const { r, host, node: n } = boot(0);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Failed to ping database connection');
    expect(lastLine(r.stderr)).toBe(bootStop('Kine cannot reach PostgreSQL'));
    // One bound (BOOT_WAITS): as long as the other servers wait for this one's token, in 60 s windows of one start job.
    expect(world.calls().filter((c) => c === `${host} timeout 60 systemctl start rke2-server.service`)).toHaveLength(2);
    // Nothing was published: the other servers keep waiting for the secure token.
    expect(world.ssm(TOKEN)).toBe('server-secret');
    world.postgres(DB);
    const again = n.run('/usr/local/sbin/odp-rke2-boot');
    expect(again.code, again.stderr).toBe(0);
    expect(lastLine(again.stderr)).toBe('odp-rke2-boot: RKE2 server started');
    expect(world.ssm(TOKEN)).toMatch(/^K10/);
  });

  it('server-1 cannot start: servers 2 and 3 wait for its secure token, then name what they waited for (server-1\'s boot: its console, its journal), not only ssm:PutParameter', () => {
    world.postgres({ ...DB, up: false });
    world.shortStarts(2);
    expect(boot(0).r.code).toBe(1);
    // The rendered wait: 180 polls 10 s apart (30 minutes). The stub world runs it with 2 polls and no sleeping.
    expect(files().get('rke2/userdata/server-2.yaml')).toContain('[ "$n" -le 180 ]');
    world.instantSleep();
    world.shortPolls(180, 2);
    const { r, node: n } = boot(1);
    expect(r.code).toBe(1);
    expect(lastLine(r.stderr)).toBe(
      `odp-rke2-boot: no secure (K10) token in ${TOKEN} after 30 minutes: waiting for the first server server-1, whose boot publishes it once its RKE2 started. Its boot says why it has not (on its console: aws ec2 get-console-output; on server-1: journalctl -u rke2-server); it also needs ssm:PutParameter on ${TOKEN}`,
    );
    // One read before the wait and one per poll; nothing installed, nothing started.
    expect(world.calls().filter((c) => c.startsWith(`${SERVERS[1][1]} aws ssm get-parameter`) && c.includes(TOKEN))).toHaveLength(3);
    expect(n.exists('/usr/local/bin/rke2')).toBe(false);
    expect(world.nodeState(SERVERS[1][1])).toBeUndefined();
  });

  it('the password in SSM is not the role\'s: the boot stops with the cause named', () => {
    world.postgres({ ...DB, password: 'the-real-one' });
    world.shortStarts(2);
    const { r } = boot(0);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('password authentication failed for user "rke2"');
    expect(lastLine(r.stderr)).toBe(bootStop('PostgreSQL refuses the password'));
  });

  it('a server whose token is not the one the bootstrap data is encrypted under stops its boot (RKE2 refuses it)', () => {
    expect(boot(0).r.code).toBe(0);
    world.ssm(TOKEN, `K10${'b'.repeat(64)}::server:another-token`);
    const { r } = boot(1);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('bootstrap data already found and encrypted with different token');
    expect(lastLine(r.stderr)).toBe(bootStop('the bootstrap data is under another server token'));
  });

  it('the SSM read of the password fails: the boot stops naming the parameter, before any DSN or install', () => {
    world.instantSleep();
    const table = join(world.dir, 'ssm.json');
    const params = JSON.parse(readFileSync(table, 'utf8')) as Record<string, unknown>;
    delete params[PG_PARAM];
    writeFileSync(table, JSON.stringify(params));
    const { node: n, r } = boot(0);
    expect(r.code).toBe(1);
    expect(lastLine(r.stderr)).toBe(`odp-rke2-boot: cannot read SSM parameter ${PG_PARAM}`);
    expect(n.exists('/etc/rancher/rke2/config.yaml.d/10-node.yaml')).toBe(false);
    expect(n.exists('/usr/local/bin/rke2')).toBe(false);
  });

  it('datastore-password.sh: a password the database refuses stops the restart with the cause; after ALTER ROLE it brings the server back', () => {
    expect(boot(0).r.code).toBe(0);
    world.ssm(PG_PARAM, 'n3w&pass');
    const script = files().get('rke2/datastore-password.sh')!;
    const r = node(0).run(script);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('password authentication failed for user "rke2"');
    expect(lastLine(r.stderr)).toBe(
      `odp-datastore-password: rke2-server.service is not ready after ${SERVICE_READY_SECONDS} s: ${CAUSES}: journalctl -u rke2-server. This server is down: ALTER ROLE rke2 must have the password now in ${PG_PARAM}; fix that and run this script again here before any other server`,
    );
    world.postgres({ ...DB, password: 'n3w&pass' });
    const again = node(0).run(script);
    expect(again.code, again.stderr).toBe(0);
    expect(lastLine(again.stderr)).toBe(`odp-datastore-password: rke2-server restarted with the password in ${PG_PARAM}`);
    expect(node(0).read('/etc/rancher/rke2/config.yaml.d/10-node.yaml')).toContain('%6e%33%77%26%70%61%73%73@kine.fixture.internal');
  });

  it('rotate-token.sh on Kine: rotate re-encrypts the bootstrap data in the database; follow restarts the others on the new token', () => {
    const booted = SERVERS.map((_, i) => boot(i));
    for (const { r } of booted) expect(r.code, r.stderr).toBe(0);
    const script = files().get('rke2/rotate-token.sh')!;
    node(0).stubBinary('/usr/local/bin/rke2');
    const r = node(0).run(withArgs(script, 'rotate'));
    expect(r.code, r.stderr).toBe(0);
    const fresh = world.ssm(TOKEN)!;
    expect(fresh).toMatch(/^K10[0-9a-f]{64}::server:[0-9a-f]{32}\n?$/);
    expect(world.bootstrapKey()!.password).toBe(fresh.trim().replace(/^.*::server:/, ''));
    for (const i of [1, 2]) {
      const ok = node(i).run(withArgs(script, 'follow'));
      expect(ok.code, ok.stderr).toBe(0);
      expect(world.nodeState(SERVERS[i]![1])).toMatchObject({ starts: 2, ca: `kine-${SERVERS[0][1]}` });
    }
    // The runbook never speaks of etcd on Kine.
    expect(script).not.toMatch(/etcd|snapshot/i);
  });

  it('manual-upgrade.sh on a server whose new release cannot reach PostgreSQL stops the round there, with the cause', () => {
    // The server runs the previous release (the base stack's release parameter said so at its first boot).
    const old = serveRelease(world, RKE2_ARTIFACTS, 'rke2', OLD, { 'install.sh': RKE2_INSTALL_STUB, amd64: rke2Tarball(OLD) });
    try {
      expect(boot(0).r.code).toBe(0);
    } finally {
      old();
    }
    expect(node(0).read('/usr/local/bin/rke2')).toContain(OLD);
    // The script carries the hashes of the lock as this test serves the release (its tarball is built anew).
    cache.delete(VERSION);
    const script = files().get('rke2/manual-upgrade.sh')!;
    world.postgres({ ...DB, up: false });
    const r = node(0).run(script);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Failed to ping database connection');
    expect(lastLine(r.stderr)).toBe(
      `odp-manual-upgrade: RKE2 ${VERSION} is not ready after ${SERVICE_READY_SECONDS} s: it exits and systemd keeps restarting it (journalctl -u rke2-server, or rke2-agent on an agent; a server also when the database is unreachable or refuses its password). Upgrade no other node until this one is Ready again`,
    );
    world.postgres(DB);
    const again = node(0).run(script);
    expect(again.code, again.stderr).toBe(0);
    expect(node(0).read('/usr/local/bin/rke2')).toContain(VERSION);
    expect(script).not.toMatch(/etcd|snapshot/i);
  });

  it('datastore-restore.sh: stop on every server, the database restored (bootstrap data under the token of its time), start names the token until it is put back', () => {
    const booted = SERVERS.map((_, i) => boot(i));
    for (const { r } of booted) expect(r.code, r.stderr).toBe(0);
    const script = files().get('rke2/datastore-restore.sh')!;
    expect(script).not.toMatch(/etcd|snapshot|cluster-reset/i);
    for (const i of [0, 1, 2]) {
      const r = node(i).run(withArgs(script, 'stop'));
      expect(r.code, r.stderr).toBe(0);
      expect(lastLine(r.stderr)).toBe('odp-datastore-restore: rke2-server stopped and disabled (a reboot leaves it stopped): stop every server, then restore the database (it must be reachable as kine.fixture.internal:5432), then run start on one server');
    }
    // A server rebooted during the database restore stays stopped (its unit is WantedBy=multi-user.target, Restart=always:
    // rancher/rke2@6ce1a801 bundle/lib/systemd/system/rke2-server.service lines 7-8, 21-22) until `start` enables it.
    expect(node(2).reboot()).not.toContain('rke2-server');
    // The RDS restore (outside RKE2): the backup was taken before a token rotation, so its bootstrap data is under the old token.
    world.bootstrapKey({ ...world.bootstrapKey()!, password: 'token-of-the-backup' });
    const refused = node(0).run(withArgs(script, 'start'));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('bootstrap data already found and encrypted with different token');
    expect(lastLine(refused.stderr)).toBe(
      `odp-datastore-restore: rke2-server.service is not ready after ${SERVICE_READY_SECONDS} s: ${CAUSES}: journalctl -u rke2-server. When the restored data is under another token, put the server token of the backup's time (aws ssm get-parameter-history --with-decryption --name ${TOKEN}) into /etc/rancher/rke2/token on every server and back into ${TOKEN}, then run start again`,
    );
    // The token of the backup's time in the token-file: the server starts on the restored database.
    node(0).write('/etc/rancher/rke2/token', 'token-of-the-backup', 0o600);
    const ok = node(0).run(withArgs(script, 'start'));
    expect(ok.code, ok.stderr).toBe(0);
    expect(lastLine(ok.stderr)).toBe('odp-datastore-restore: rke2-server started on the restored database: run start on the other servers, one at a time');
    expect(node(0).run(withArgs(script, 'bogus')).code).toBe(2);
    expect(node(0).reboot()).toContain('rke2-server');
  });

  it('replacing a server: the new instance (fresh disk, same user data) starts on the database with the published token, on the same CA', () => {
    for (const i of [0, 1, 2]) expect(boot(i).r.code).toBe(0);
    rmSync(node(1).root, { recursive: true, force: true });
    const { r, host } = boot(1);
    expect(r.code, r.stderr).toBe(0);
    expect(world.nodeState(host)).toMatchObject({ ca: `kine-${SERVERS[0][1]}`, starts: 2 });
    // No member step on Kine: nothing of etcd is rendered.
    for (const p of files().keys()) expect(p).not.toMatch(/replace-server|restore-etcd/);
  });
});

type Obj = { kind?: string; metadata?: { name?: string; namespace?: string }; spec?: Record<string, unknown> };
const objects = (path: string): Obj[] => parseAllDocuments(files().get(path) ?? '').map((d) => d.toJS() as Obj).filter((o) => o && o.kind);
const dependsOn = (unit: string): string[] => ((objects(`flux/kustomizations/${unit}.yaml`)[0]?.spec?.dependsOn ?? []) as { name: string }[]).map((d) => d.name);

describe('RKE2 on Kine under Flux: the first sync and the upgrade Plans', () => {
  const model = () => {
    const { name, sources } = fixtureSources('valid', `${ENV}.yaml`);
    return prepareEnvironment(name, sources).prepared!.model;
  };

  it('one owner per component: RKE2 keeps Canal and CoreDNS (no object of theirs rendered), its metrics-server and ingress-nginx are off for the add-ons', () => {
    const server = parse(files().get('rke2/server-1.yaml')!) as Record<string, unknown>;
    // rancher/rke2 pkg/cli/cmds/server.go disableExceptSelected: ingress-controller none disables rke2-ingress-nginx; the
    // packaged metrics-server is disabled for the catalog's; the built-in cloud controller for aws-cloud-controller-manager.
    expect(server).toMatchObject({ cni: ['canal'], 'ingress-controller': ['none'], disable: ['rke2-metrics-server'], 'disable-cloud-controller': true });
    const delivered = [...files().keys()].filter((p) => /^(manifests|flux)\/.*\.yaml$/.test(p) && !/kustomiz(ation|econfig)\.yaml$/.test(p)).flatMap(objects);
    // Nothing of RKE2's own charts: no HelmChart/HelmChartConfig, no release named like a packaged chart, no CoreDNS.
    expect(delivered.filter((o) => /^HelmChart(Config)?$/.test(o.kind!))).toStrictEqual([]);
    expect(delivered.filter((o) => o.kind === 'HelmRelease' && /^rke2-|^(canal|calico|coredns|ingress-nginx)$/.test(o.metadata!.name!))).toStrictEqual([]);
    expect(delivered.filter((o) => o.metadata?.namespace === 'kube-system' && /^(coredns|kube-dns|rke2-coredns-rke2-coredns)$/.test(o.metadata?.name ?? ''))).toStrictEqual([]);
    for (const u of ['metrics-server', 'aws-load-balancer-controller', 'aws-cloud-controller-manager']) expect(files().has(`flux/kustomizations/${u}.yaml`), u).toBe(true);
  });

  it('first sync: providers before consumers, no cycle, a failed unit holds back only what needs it', () => {
    expect(dependsOn('system-upgrade-plans')).toContain('system-upgrade-controller');
    expect(dependsOn('queue')).toEqual(expect.arrayContaining(['aws-ebs-csi-driver-manifests', 'namespace-apps']));
    expect(dependsOn('kube-prometheus-stack')).toContain('aws-ebs-csi-driver-manifests');
    expect(dependsOn('flux-operator-manifests')).toContain('external-secrets-store-flux-system');
    const tree = parseRenderedTree(new Map([...files()].map(([p, c]) => [`${ENV}/${p}`, c])));
    const m = motionOf(tree, ENV, model())!;
    expect(m.findings.filter((f) => f.severity === 'error')).toStrictEqual([]);
    expect(failureBlocks(m, 'system-upgrade-controller')).toStrictEqual(['system-upgrade-plans']);
    expect(failureBlocks(m, 'aws-ebs-csi-driver-manifests')).toEqual(expect.arrayContaining(['queue', 'kube-prometheus-stack']));
    expect(failureBlocks(m, 'aws-ebs-csi-driver-manifests')).not.toContain('web');
  });

  it('the Plans: servers one at a time, then the agents (prepare waits for the server Plan); nothing of etcd on Kine', () => {
    const server = objects('manifests/system-upgrade-plans/plan-server-plan.yaml')[0]!.spec as { version: string; concurrency: number; cordon: boolean; prepare?: unknown; upgrade: { image: string } };
    const agent = objects('manifests/system-upgrade-plans/plan-agent-plan.yaml')[0]!.spec as { version: string; concurrency: number; prepare: { args: string[]; image: string } };
    expect(server).toMatchObject({ version: VERSION, concurrency: 1, cordon: true, upgrade: { image: 'rancher/rke2-upgrade:v1.36.3-rke2r1' } });
    // On embedded etcd the server Plan's prepare waits for etcd; on Kine for every server's Node only (no etcd, no
    // snapshot: test/rke2-kine-flux.test.ts runs it), so a release that does not start stops at the first server.
    expect(server.prepare).toMatchObject({ command: ['chroot', '/host'], args: ['sh', '-c', expect.stringContaining('odp-upgrade-gate: the server $ip is not Ready')] });
    // rancher/rke2-upgrade scripts/upgrade.sh prepare: waits until the named Plan applies to no node (`.status.applying`
    // empty) and every control plane's kubelet runs the Plan's version (verify_masters_versions).
    expect(agent).toMatchObject({ version: VERSION, concurrency: 1, prepare: { args: ['prepare', 'server-plan'], image: 'rancher/rke2-upgrade:v1.36.3-rke2r1' } });
    for (const p of ['manifests/system-upgrade-plans/plan-server-plan.yaml', 'manifests/system-upgrade-plans/plan-agent-plan.yaml', 'rke2/rotate-token.sh', 'rke2/datastore-password.sh', 'rke2/manual-upgrade.sh'])
      expect(files().get(p), p).not.toMatch(/etcd|snapshot/i);
  });

  it('the README on Kine: the servers boot together and are ordered by the token; backup and restore are the database\'s own; no etcd member or snapshot step', () => {
    const readme = files().get('README.md')!;
    expect(readme).not.toContain('start server-1 first');
    expect(readme).toContain('the nodes stack launches the servers together and their boot scripts order them');
    expect(readme).toContain("**Backup and restore are the database's own**");
    expect(readme).toContain('on Kine RKE2 takes no snapshots and restores none of its own');
    expect(readme).toContain('`sh datastore-restore.sh stop` on\nevery server');
    expect(readme).not.toMatch(/etcd members?\b(?! and)|restored snapshot|restore-etcd|replace-server\.sh [a-z]/);
    expect(readme).toContain('agents are no datastore members');
  });
});

describe('RKE2 on Kine: npm run plan of a release bump', () => {
  it('the control-plane steps speak of API servers, not of etcd members or quorum (the state is in PostgreSQL)', () => {
    const { name, sources } = fixtureSources('valid', `${ENV}.yaml`);
    const at = (release: string) => {
      const src = new Map(sources);
      src.set(`environments/${name}.yaml`, src.get(`environments/${name}.yaml`)!.replace(`rke2Version: ${VERSION}\n  kubernetesVersion: 1.36.3`, `rke2Version: ${release}\n  kubernetesVersion: ${release.slice(1, release.indexOf('+'))}`));
      return prepareEnvironment(name, src).prepared!;
    };
    const head = at(VERSION);
    const p = upgradePlan(at('v1.36.1+rke2r2').data as Record<string, unknown>, head.model, head.data as Record<string, unknown>);
    const servers = p.steps.filter((s) => s.title.startsWith('control plane '));
    expect(servers.map((s) => s.title)).toStrictEqual(['control plane 1/3: server-1', 'control plane 2/3: server-2', 'control plane 3/3: server-3']);
    for (const s of servers) {
      expect(s).toMatchObject({ gate: 'API servers', verdict: 'safe' });
      expect(s.reason).toContain('no quorum among the servers, the other 2 keep serving the API');
    }
    expect(formatPlan(p)).not.toMatch(/etcd|quorum is|members stay up|snapshot/i);
  });
});

describe('RKE2 on Kine: who can read the PostgreSQL password', () => {
  it('only the servers\' host processes and host-network pods (their role; IMDS hop limit 1 keeps the pod network out)', () => {
    const { name, sources } = fixtureSources('valid', `${ENV}.yaml`);
    const p = prepareEnvironment(name, sources).prepared!;
    const routes = routesTo(accessGraph(p.resolved, p.model), PG_PARAM);
    // The add-on pods on the servers' host network wear that role too (rule host-network-role warns: test/host-network.test.ts).
    expect(routes.map((r) => r.steps.join(' → '))).toStrictEqual([
      `host processes and host-network pods of the control planes → node role fixture-controlplane → ${PG_PARAM}`,
      `namespace monitoring → host network of pool server (prometheus-node-exporter) → node role fixture-controlplane → ${PG_PARAM}`,
      `namespace kube-system → host network of pool server (the AWS cloud controller manager) → node role fixture-controlplane → ${PG_PARAM}`,
    ]);
    // The servers' instances (one per fixed node): hop limit 1, IMDSv2 required.
    const nodes = parse(files().get('aws/nodes.yaml')!) as { Resources: Record<string, { Type: string; Properties: { MetadataOptions?: unknown } }> };
    const servers = Object.entries(nodes.Resources).filter(([id, r]) => r.Type === 'AWS::EC2::Instance' && /^NodeServer\d$/.test(id));
    expect(servers).toHaveLength(3);
    for (const [, r] of servers) expect(r.Properties.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
  });
});
