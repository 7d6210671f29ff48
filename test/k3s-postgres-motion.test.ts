/**
 * K3s on Kine PostgreSQL in motion, against a simulated database (test/support/node-stubs.mjs: postgres.json): the
 * three servers of test/fixtures/valid/k3s-postgres.yaml boot together on an empty database (one takes the bootstrap
 * key, all run on its CA: k3s-io/k3s pkg/cluster/storage.go storageBootstrap, the lock of k3s-io/k3s#7215), and every
 * way the datastore can keep a server from starting (unreachable, password refused, bootstrap data under another
 * token, the password's SSM read failing) stops the boot or the runbook's datastore-password.sh with the cause named,
 * instead of waiting for ever in `systemctl start` (the unit's TimeoutStartSec=0 and Restart=always; systemd/systemd#33890).
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { K3S_ARTIFACTS } from '../generators/distributions/k3s/artifacts.js';
import { BOOT_WAITS, RDS_CA_BUNDLE_URL, SERVICE_READY_SECONDS, START_WINDOW_SECONDS } from '../generators/distributions/rancher/boot.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { fixtureSources, formatted } from './helpers.js';
import { serveRelease } from './support/artifacts.js';
import { K3S_INSTALL_STUB } from './support/installers.js';
import { World, type NodeBox } from './support/node-sandbox.js';

const CIS = { 'vm.panic_on_oom': '0', 'vm.overcommit_memory': '1', 'kernel.panic': '10', 'kernel.panic_on_oops': '1' };
const PASSWORD = 'p@ss/w:rd';
const DB = { host: 'kine.fixture.internal', user: 'k3s', password: PASSWORD, up: true };
const SERVERS = [
  ['cp-1', 'ip-10-10-1-10.eu-west-1.compute.internal', '10.10.1.10'],
  ['cp-2', 'ip-10-10-1-11.eu-west-1.compute.internal', '10.10.1.11'],
  ['cp-3', 'ip-10-10-1-12.eu-west-1.compute.internal', '10.10.1.12'],
] as const;
const CAUSES = 'PostgreSQL kine.fixture.internal:5432 unreachable, the password of role k3s (/odp/fixture/kine/password) refused, or the bootstrap data in database k3s encrypted with another server token';
/** The boot's last line when K3s does not start: the cause read from the start's journal, then what can keep it from starting. */
const bootStop = (cause: string): string => `odp-k3s-boot: k3s is not ready (${BOOT_WAITS.datastoreSeconds} s): its journal says ${cause}; it exits until it can use its datastore (${CAUSES}): journalctl -u k3s. systemd keeps restarting it; once the cause is fixed, run /usr/local/sbin/odp-k3s-boot again`;

const cache = new Map<string, Map<string, string>>();
/** The fixture's rendered files, at its release or (a bump) at `version`. */
const files = (version = 'v1.35.2+k3s1'): Map<string, string> => {
  const hit = cache.get(version);
  if (hit) return hit;
  const { name, sources } = fixtureSources('valid', 'k3s-postgres.yaml');
  const file = `environments/${name}.yaml`;
  sources.set(file, sources.get(file)!.replace('k3sVersion: v1.35.2+k3s1', `k3sVersion: ${version}\n  kubernetesVersion: ${version.slice(1, version.indexOf('+'))}`));
  const r = prepareEnvironment(name, sources);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  const out = new Map(renderEnvironment(r.prepared).map((f) => [f.path, f.content]));
  cache.set(version, out);
  return out;
};
const mode = (node: NodeBox, p: string): number => statSync(node.path(p)).mode & 0o777;
const lastLine = (stderr: string): string | undefined => stderr.trim().split('\n').at(-1);

describe('K3s on Kine PostgreSQL: first boot of three servers, and what the datastore can do to a boot', () => {
  let world: World;
  let restore: () => void;
  beforeEach(() => {
    world = new World();
    world.sysctlDefaults(CIS);
    world.ssm('/odp/k3s-postgres/k3s/token', 'server-secret');
    world.ssm('/odp/k3s-postgres/k3s/agent-token', 'agent-secret');
    world.ssm('/odp/fixture/kine/password', PASSWORD);
    world.serve(RDS_CA_BUNDLE_URL, 'rds-ca');
    world.postgres(DB);
    restore = serveRelease(world, K3S_ARTIFACTS, 'k3s', 'v1.35.2+k3s1', { 'install.sh': K3S_INSTALL_STUB, amd64: '#!/bin/sh\necho k3s v1.35.2+k3s1\n' });
    world.deployBase(files());
  });
  afterEach(() => {
    restore();
    world.cleanup();
  });
  const boot = (i: number) => {
    const [name, host, ip] = SERVERS[i]!;
    const node = world.node(host, ip);
    return { node, host, r: node.boot(files().get(`k3s/userdata/${name}.yaml`)!) };
  };

  it('three servers booted on an empty database: the first takes the bootstrap key, every server runs on its CA; secrets stay root-only', () => {
    // No server is told to go first (the nodes stack launches them together; no `server:` on a Kine server): K3s's lock
    // on the bootstrap key decides, because every server has the token (token-file) before it starts.
    for (const [name] of SERVERS) expect(files().get(`k3s/${name}.yaml`)).not.toMatch(/^(server|cluster-init):/m);
    const booted = SERVERS.map((_, i) => boot(i));
    for (const { r } of booted) {
      expect(r.code, r.stderr).toBe(0);
      expect(lastLine(r.stderr)).toBe('odp-k3s-boot: K3s server started');
    }
    expect(world.bootstrapKey()).toMatchObject({ password: 'server-secret', by: booted[0]!.host });
    for (const { host } of booted) expect(world.nodeState(host)).toMatchObject({ unit: 'k3s', ca: `kine-${booted[0]!.host}` });
    const { node } = booted[1]!;
    for (const p of ['/etc/rancher/k3s/config.yaml', '/etc/rancher/k3s/token', '/etc/rancher/k3s/agent-token', '/etc/rancher/k3s/config.yaml.d/10-node.yaml']) expect(mode(node, p), p).toBe(0o600);
    expect(mode(node, '/etc/rancher/k3s')).toBe(0o700);
    expect(node.read('/etc/rancher/k3s/config.yaml')).not.toContain('postgres://');
    // The password reaches the drop-in only, percent-encoded; never the rendered tree, never the console.
    for (const [p, c] of files()) expect(c, p).not.toContain(PASSWORD);
    for (const { r } of booted) expect(r.stdout + r.stderr).not.toMatch(/p@ss|%70%40%73%73/);
  });

  it('PostgreSQL unreachable: the boot stops after the bound and names the datastore (it waited for ever in systemctl start)', () => {
    world.postgres({ ...DB, up: false });
    // The rendered bound: 30 windows of 60 s (BOOT_WAITS); the stub world runs 2.
    expect(files().get('k3s/userdata/cp-1.yaml')).toContain(`start_watched k3s ${BOOT_WAITS.datastoreSeconds / 60} || rc=$?`);
    world.shortStarts(2);
    const { r, host, node } = boot(0);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Failed to ping database connection');
    expect(lastLine(r.stderr)).toBe(bootStop('Kine cannot reach PostgreSQL'));
    // One bound (BOOT_WAITS, as long as an RKE2 joiner waits for the first server's token), in 60 s windows of the same start job.
    expect(world.calls().filter((c) => c === `${host} timeout 60 systemctl start k3s`)).toHaveLength(2);
    expect(r.stderr).not.toContain('K3s server started');
    // Fixed (the database answers): the same boot script, run again, finishes the boot.
    world.postgres(DB);
    const again = node.run('/usr/local/sbin/odp-k3s-boot');
    expect(again.code, again.stderr).toBe(0);
    expect(lastLine(again.stderr)).toBe('odp-k3s-boot: K3s server started');
  });

  it('the password in SSM is not the role\'s: the boot stops with the cause named', () => {
    world.postgres({ ...DB, password: 'the-real-one' });
    world.shortStarts(2);
    const { r } = boot(0);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('password authentication failed for user "k3s"');
    expect(lastLine(r.stderr)).toBe(bootStop('PostgreSQL refuses the password'));
  });

  it('a server whose token is not the one the bootstrap data is encrypted under stops its boot (K3s refuses it)', () => {
    expect(boot(0).r.code).toBe(0);
    world.ssm('/odp/k3s-postgres/k3s/token', 'another-token');
    const { r } = boot(1);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('bootstrap data already found and encrypted with different token');
    expect(lastLine(r.stderr)).toBe(bootStop('the bootstrap data is under another server token'));
    expect(world.bootstrapKey()!.password).toBe('server-secret');
    // Refused at once (the journal of the start says so), not after the bound; no pending token: nothing else to try.
    expect(world.calls().filter((c) => c.endsWith(' timeout 60 systemctl start k3s') && c.startsWith(SERVERS[1]![1]))).toHaveLength(1);
  });

  it('a server booting between token rotate and the promotion: the current token refused, the pending one starts it, and the boot says so', () => {
    expect(boot(0).r.code).toBe(0);
    // The rotation re-encrypted the bootstrap data under the pending token; the promotion has not happened.
    world.ssm('/odp/k3s-postgres/k3s/token-pending', 'rotated-secret');
    world.bootstrapKey({ ...world.bootstrapKey()!, password: 'rotated-secret' });
    const { r, node, host } = boot(1);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('odp-k3s-boot: the token in /odp/k3s-postgres/k3s/token is refused: trying the one in /odp/k3s-postgres/k3s/token-pending');
    expect(r.stderr).toContain('odp-k3s-boot: k3s started with the token in /odp/k3s-postgres/k3s/token-pending: a rotation is unfinished; run sh rotate-token.sh resume here');
    expect(lastLine(r.stderr)).toBe('odp-k3s-boot: K3s server started');
    expect(node.read('/etc/rancher/k3s/token')).toBe('rotated-secret');
    // The refusal was seen in the first window of the first start: two starts, one window each.
    expect(world.calls().filter((c) => c === `${host} timeout 60 systemctl start k3s`)).toHaveLength(2);
    expect(r.stdout + r.stderr).not.toContain('rotated-secret');
    // Neither token: the current one is put back and the boot stops with the journal's cause.
    world.bootstrapKey({ ...world.bootstrapKey()!, password: 'a-third-secret' });
    const third = boot(2);
    expect(third.r.code).toBe(1);
    expect(lastLine(third.r.stderr)).toBe(bootStop('the bootstrap data is under another server token'));
    expect(third.node.read('/etc/rancher/k3s/token')).toBe('server-secret');
  });

  it('the SSM read of the password fails: the boot stops naming the parameter, before any DSN or install (no defect: ssm_secret exits in $(…), set -e)', () => {
    world.instantSleep();
    const name = '/odp/fixture/kine/password';
    // A missing parameter (a denied read exits non-zero the same way): retried 30 times, then named.
    const table = join(world.dir, 'ssm.json');
    const params = JSON.parse(readFileSync(table, 'utf8')) as Record<string, unknown>;
    delete params[name];
    writeFileSync(table, JSON.stringify(params));
    const { node, r } = boot(0);
    expect(r.code).toBe(1);
    expect(lastLine(r.stderr)).toBe(`odp-k3s-boot: cannot read SSM parameter ${name}`);
    expect(world.calls().filter((c) => c.includes('ssm get-parameter') && c.includes(name))).toHaveLength(30);
    expect(node.exists('/etc/rancher/k3s/config.yaml.d/10-node.yaml')).toBe(false);
    expect(node.exists('/usr/local/bin/k3s')).toBe(false);
  });

  it('datastore-password.sh with a password the database refuses (SSM changed, ALTER ROLE not run) stops, says the server is down and what to do', () => {
    expect(boot(0).r.code).toBe(0);
    const node = world.node(SERVERS[0][1], SERVERS[0][2]);
    world.ssm('/odp/fixture/kine/password', 'n3w&pass');
    const r = node.run(files().get('k3s/datastore-password.sh')!);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('password authentication failed for user "k3s"');
    expect(lastLine(r.stderr)).toBe(
      `odp-datastore-password: k3s.service is not ready after ${SERVICE_READY_SECONDS} s: ${CAUSES}: journalctl -u k3s. This server is down: ALTER ROLE k3s must have the password now in /odp/fixture/kine/password; fix that and run this script again here before any other server`,
    );
    // ALTER ROLE done: the same script brings the server back.
    world.postgres({ ...DB, password: 'n3w&pass' });
    const again = node.run(files().get('k3s/datastore-password.sh')!);
    expect(again.code, again.stderr).toBe(0);
    expect(lastLine(again.stderr)).toBe('odp-datastore-password: k3s restarted with the password in /odp/fixture/kine/password');
  });

  it('manual-upgrade.sh on a server whose new release cannot reach PostgreSQL stops the round there, with the cause (it waited for ever in systemctl restart)', () => {
    expect(boot(0).r.code).toBe(0);
    const node = world.node(SERVERS[0][1], SERVERS[0][2]);
    const bump = serveRelease(world, K3S_ARTIFACTS, 'k3s', 'v1.35.3+k3s1', { 'install.sh': K3S_INSTALL_STUB, amd64: '#!/bin/sh\necho k3s v1.35.3+k3s1\n', arm64: 'arm' });
    try {
      world.postgres({ ...DB, up: false });
      const r = node.run(files('v1.35.3+k3s1').get('k3s/manual-upgrade.sh')!);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('Failed to ping database connection');
      expect(lastLine(r.stderr)).toBe(
        `odp-manual-upgrade: K3s v1.35.3+k3s1 is not ready after ${SERVICE_READY_SECONDS} s: it exits and systemd keeps restarting it (journalctl -u k3s, or k3s-agent on an agent; a server also when the database is unreachable or refuses its password). Upgrade no other node until this one is Ready again`,
      );
      expect(node.read('/usr/local/bin/k3s')).toContain('v1.35.3+k3s1');
      // The database back: the same script brings the server up on the new release.
      world.postgres(DB);
      const again = node.run(files('v1.35.3+k3s1').get('k3s/manual-upgrade.sh')!);
      expect(again.code, again.stderr).toBe(0);
      expect(lastLine(again.stderr)).toBe('odp-manual-upgrade: server k3s upgraded to v1.35.3+k3s1');
    } finally {
      bump();
    }
  });

  it('datastore-restore.sh: stop on every server, the database restored (bootstrap data under the token of its time), start names the token until it is put back', () => {
    const booted = SERVERS.map((_, i) => boot(i));
    for (const { r } of booted) expect(r.code, r.stderr).toBe(0);
    const script = files().get('k3s/datastore-restore.sh')!;
    expect(script).not.toMatch(/etcd|snapshot|cluster-reset/i);
    const run = (node: NodeBox, arg: string) => node.run(script.replace(/^#!\/bin\/sh\n/, `#!/bin/sh\nset -- ${arg}\n`));
    for (const { node, host } of booted) {
      const r = run(node, 'stop');
      expect(r.code, r.stderr).toBe(0);
      expect(lastLine(r.stderr)).toBe('odp-datastore-restore: k3s stopped and disabled (a reboot leaves it stopped): stop every server, then restore the database (it must be reachable as kine.fixture.internal:5432), then run start on one server');
      expect(world.calls()).toContain(`${host} systemctl disable --now k3s.service`);
    }
    // A server rebooted while the database is restored stays stopped: its unit (WantedBy=multi-user.target,
    // Restart=always: k3s-io/k3s@0136cf25 install.sh create_systemd_service_file) is disabled until `start`.
    const starts = world.nodeState(booted[1]!.host)!.starts;
    expect(booted[1]!.node.reboot()).not.toContain('k3s');
    expect(world.nodeState(booted[1]!.host)!.starts).toBe(starts);
    expect(run(booted[1]!.node, 'stop').code).toBe(0);
    // The RDS restore (outside K3s): the backup was taken before a token rotation, so its bootstrap data is under the old token.
    world.bootstrapKey({ ...world.bootstrapKey()!, password: 'token-of-the-backup' });
    const { node } = booted[0]!;
    const refused = run(node, 'start');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('bootstrap data already found and encrypted with different token');
    expect(lastLine(refused.stderr)).toBe(
      `odp-datastore-restore: k3s.service is not ready after ${SERVICE_READY_SECONDS} s: ${CAUSES}: journalctl -u k3s. When the restored data is under another token, put the server token of the backup's time (aws ssm get-parameter-history --with-decryption --name /odp/k3s-postgres/k3s/token) into /etc/rancher/k3s/token on every server and back into /odp/k3s-postgres/k3s/token, then run start again`,
    );
    // The token of the backup's time in the token-file: the server starts on the restored database.
    node.write('/etc/rancher/k3s/token', 'token-of-the-backup', 0o600);
    const ok = run(node, 'start');
    expect(ok.code, ok.stderr).toBe(0);
    expect(lastLine(ok.stderr)).toBe('odp-datastore-restore: k3s started on the restored database: run start on the other servers, one at a time');
    // start enabled the unit again: the next reboot starts it; start run again is harmless.
    expect(node.reboot()).toContain('k3s');
    expect(run(node, 'start').code).toBe(0);
    expect(run(node, 'bogus').code).toBe(2);
    // Not a server: refused before anything is stopped.
    const agent = world.node('ip-10-10-2-10.eu-west-1.compute.internal', '10.10.2.10');
    expect(lastLine(agent.run(script).stderr)).toBe('odp-datastore-restore: no K3s server unit (/etc/systemd/system/k3s.service) on this node: run this on the servers');
  });

  it('the README on Kine: backup and restore are the database\'s own, with the rendered script and the token of the backup\'s time', () => {
    const readme = files().get('README.md')!;
    expect(readme).toContain('**Backup and restore are the database\'s own**');
    expect(readme).toContain('on Kine K3s takes no snapshots and restores none of its own');
    expect(readme).toMatch(/`rendered\/k3s-postgres\/k3s\/datastore-restore\.sh`/);
    expect(readme).toContain('rebooted during the restore stays stopped (`stop` disabled its unit; `start` enables it again)');
    expect(readme).toContain('the server token of the backup\'s\ntime');
  });

  it('rotate-token.sh with Kine: the rotation re-encrypts the bootstrap data in the database; follow with a token the cluster does not hold stops with the cause (it waited for ever)', () => {
    const booted = SERVERS.map((_, i) => boot(i));
    for (const { r } of booted) expect(r.code, r.stderr).toBe(0);
    const [first, second, third] = booted.map((b) => b.node);
    const script = files().get('k3s/rotate-token.sh')!;
    // The K3s CLI's `token rotate` (the stub of the server side: new token, bootstrap data re-encrypted under it).
    first!.stubBinary('/usr/local/bin/k3s');
    const r = first!.run(`${script.replace(/^#!\/bin\/sh\n/, '#!/bin/sh\nset -- rotate\n')}`);
    expect(r.code, r.stderr).toBe(0);
    const fresh = world.ssm('/odp/k3s-postgres/k3s/token')!;
    expect(world.bootstrapKey()!.password).toBe(fresh);
    // The third server follows as the runbook says.
    const ok = third!.run(script.replace(/^#!\/bin\/sh\n/, '#!/bin/sh\nset -- follow\n'));
    expect(ok.code, ok.stderr).toBe(0);
    expect(world.nodeState(booted[2]!.host)).toMatchObject({ starts: 2 });
    // Someone overwrote the parameter meanwhile: the second server's follow restarts it with a token the database does not know.
    // (Overwritten alone, it would differ from the pending one, and follow refuses before any restart: an unfinished rotation.)
    expect(world.ssm('/odp/k3s-postgres/k3s/token-pending')).toBe(fresh);
    world.ssm('/odp/k3s-postgres/k3s/token', 'not-the-cluster-token');
    const refused = second!.run(script.replace(/^#!\/bin\/sh\n/, '#!/bin/sh\nset -- follow\n'));
    expect(refused.code).toBe(1);
    expect(lastLine(refused.stderr)).toBe('odp-rotate-token: a rotation is unfinished (/odp/k3s-postgres/k3s/token-pending holds a token /odp/k3s-postgres/k3s/token does not): run sh rotate-token.sh resume here first');
    world.ssm('/odp/k3s-postgres/k3s/token-pending', 'not-the-cluster-token');
    const bad = second!.run(script.replace(/^#!\/bin\/sh\n/, '#!/bin/sh\nset -- follow\n'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('bootstrap data already found and encrypted with different token');
    // Watched (start_watched, as every start of the script): the refusal ends it after its first window, not after the bound.
    expect(lastLine(bad.stderr)).toBe(
      `odp-rotate-token: k3s is not ready (${SERVICE_READY_SECONDS} s): its journal says the bootstrap data is under another server token; check /odp/k3s-postgres/k3s/token against the server that rotated (journalctl -u k3s). This server is down until it starts`,
    );
    expect(world.calls().filter((x) => x.startsWith(`${second!.hostname} timeout ${START_WINDOW_SECONDS} systemctl start k3s.service`))).toHaveLength(1);
  });
});
