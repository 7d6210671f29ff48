/**
 * RKE2's embedded etcd restored from an S3 snapshot with the rendered runbook (rke2/restore-etcd.sh), on servers booted
 * from their rendered user data (test/support/node-sandbox.ts), step by step as rke2-docs@9477b7b1
 * docs/datastore/backup_restore.md (Multiple Servers) has it: stop every server, cluster-reset on one, start it, move
 * the database of every other server away and start it. The stubs behave as the supervisor does: `rke2 etcd-snapshot`
 * asks the running local server (so it fails once RKE2 is stopped), the reset makes a single-member cluster from the
 * snapshot the etcd-s3 config names, and a peer starting on its old database is no member of it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { fixtureSources, formatted } from './helpers.js';
import type { NodeBox, World } from './support/node-sandbox.js';
import { ec2Host as host, RKE2_ETCD_SERVERS as SERVERS, rke2EtcdWorld, type Rke2EtcdServer as Server } from './support/rke2-etcd-world.js';

const SNAPSHOT = `etcd-snapshot-${host(SERVERS['cp-2'])}-1765065600.zip`;
const DB = '/var/lib/rancher/rke2/server/db';

describe('RKE2 embedded etcd: restore from an S3 snapshot with rke2/restore-etcd.sh', () => {
  let world: World;
  let files: Map<string, string>;
  let done: () => void;
  beforeEach(() => {
    ({ world, files, done } = rke2EtcdWorld());
  });
  afterEach(() => done());

  const node = (name: Server): NodeBox => world.node(host(SERVERS[name]), SERVERS[name]);
  /** The runbook as an operator runs it on a server: `sh restore-etcd.sh <args>`. */
  const step = (name: Server, ...args: string[]) => node(name).run(files.get('rke2/restore-etcd.sh')!.replace('#!/bin/sh\n', `#!/bin/sh\nset -- ${args.join(' ')}\n`));
  const active = (name: Server): boolean => node(name).run('#!/bin/sh\nsystemctl is-active --quiet rke2-server.service\n').code === 0;

  it('is rendered for embedded etcd only, and the README walks through it (no `rke2 etcd-snapshot ls` after stopping RKE2)', () => {
    expect(files.has('rke2/restore-etcd.sh')).toBe(true);
    const readme = files.get('README.md')!;
    expect(readme).toContain('copy\n`rendered/rke2-etcd/rke2/restore-etcd.sh` to the servers');
    expect(readme).toMatch(/`stop` also disables RKE2 on the server\n\(`restore` and `rejoin` enable it again\): a server rebooted in between stays stopped/);
    // The former walkthrough listed with `rke2 etcd-snapshot ls` after `systemctl stop rke2-server` on every server:
    // the CLI asks the running local server (k3s pkg/cli/etcdsnapshot/etcd_snapshot.go list()), so it could only fail.
    expect(readme).not.toMatch(/systemctl stop rke2-server[\s\S]*rke2 etcd-snapshot ls/);
    const { sources } = fixtureSources('valid', 'rke2-flux.yaml');
    const r = prepareEnvironment('rke2-flux', sources);
    if (!r.prepared) throw new Error(formatted(r).join('\n'));
    expect(renderEnvironment(r.prepared).some((f) => f.path.endsWith('restore-etcd.sh'))).toBe(false);
  });

  it('three servers booted, stopped, restored on one, the others rejoin one at a time: one cluster of three from the snapshot', () => {
    for (const name of Object.keys(SERVERS) as Server[]) {
      const r = node(name).boot(files.get(`rke2/userdata/${name}.yaml`)!);
      expect(r.code, r.stderr).toBe(0);
      // The server CLI of the release (the sandbox's stand-in for its cluster-reset and etcd-snapshot).
      node(name).stubBinary('/usr/local/bin/rke2');
    }
    const ca = world.etcd().ca;
    // Nothing in the bucket yet: `aws s3 ls` exits 1 on an empty prefix; list says so and still lists the node's own.
    node('cp-1').write('/var/lib/rancher/rke2/server/db/snapshots/etcd-snapshot-local-1', 'x');
    const empty = step('cp-1', 'list');
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stderr).toContain('nothing listed in s3://odp-fixture-etcd/etcd/fixture/ (no snapshot there yet, or the error above)');
    expect(empty.stdout).toContain('etcd-snapshot-local-1');
    // A scheduled snapshot of cp-2 in the bucket, taken under the token the servers hold (its bootstrap data opens with it).
    const bucket = join(world.dir, 's3/odp-fixture-etcd/etcd/fixture');
    mkdirSync(bucket, { recursive: true });
    writeFileSync(join(bucket, SNAPSHOT), JSON.stringify({ ca, password: 'short-server-token', data: 'state-at-snapshot' }));

    // The upstream CLI cannot list once its server is stopped: why `list` reads the bucket.
    const cp2 = node('cp-2');
    expect(cp2.run('#!/bin/sh\n/usr/local/bin/rke2 etcd-snapshot ls\n').code).toBe(0);
    cp2.run('#!/bin/sh\nsystemctl stop rke2-server\n');
    const cli = cp2.run('#!/bin/sh\n/usr/local/bin/rke2 etcd-snapshot ls\n');
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('/db/snapshot": dial tcp 127.0.0.1: connect: connection refused');
    const list = step('cp-2', 'list');
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(SNAPSHOT);

    // Restore refuses while this server runs, and before anything is stopped nothing is changed.
    const running = step('cp-1', 'restore', SNAPSHOT);
    expect(running.code).toBe(1);
    expect(running.stderr).toContain('rke2-server runs on this server: stop it on every server first (sh restore-etcd.sh stop)');
    for (const name of Object.keys(SERVERS) as Server[]) expect(step(name, 'stop').code).toBe(0);
    expect((Object.keys(SERVERS) as Server[]).some(active)).toBe(false);
    // A server rebooted before its restore or rejoin stays stopped: its unit (WantedBy=multi-user.target, Restart=always:
    // rancher/rke2@6ce1a801 bundle/lib/systemd/system/rke2-server.service lines 7-8, 21-22) was disabled by stop; on
    // its old database it would run the old cluster again beside the restored one.
    expect(node('cp-3').reboot()).not.toContain('rke2-server');

    // A name that is no file name is refused before RKE2 is called; a missing snapshot fails loudly, nothing started.
    expect(step('cp-1', 'restore', "'../../x'").code).toBe(2);
    const missing = step('cp-1', 'restore', 'etcd-snapshot-none-1.zip');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('The specified key does not exist.');
    expect(missing.stderr).toContain('odp-restore-etcd: the cluster reset failed (above)');
    expect(active('cp-1')).toBe(false);

    // rejoin before any server was restored: nothing answers, the database stays.
    world.endpoint(false);
    const early = step('cp-3', 'rejoin');
    expect(early.code).toBe(1);
    expect(early.stderr).toContain('nothing answers at https://api.fixture.internal:9345: restore on one server first');
    expect(node('cp-3').exists(`${DB}/etcd/name`)).toBe(true);
    world.endpoint(true);

    const restored = step('cp-1', 'restore', SNAPSHOT);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stderr).toContain('Managed etcd cluster membership has been reset');
    expect(restored.stderr).toContain('now on each other server, one at a time: sh restore-etcd.sh rejoin');
    expect(active('cp-1')).toBe(true);
    expect(world.etcd()).toMatchObject({ clusters: 1, ca, restoredFrom: SNAPSHOT, data: 'state-at-snapshot' });
    expect(world.etcd().members.map((m) => m.nodeName)).toStrictEqual([host(SERVERS['cp-1'])]);
    // Started normally: the reset flag is gone (a second reset is possible again).
    expect(node('cp-1').exists(`${DB}/reset-flag`)).toBe(false);

    // Without the runbook's rejoin, a peer on its old database is no member of the reset cluster.
    const stale = node('cp-3').run('#!/bin/sh\nsystemctl start rke2-server\n');
    expect(stale.code).not.toBe(0);
    expect(stale.stderr).toContain('this server is a not a member of the etcd cluster');
    // Run on the restored server, rejoin refuses (it would throw the restored data away).
    const self = step('cp-1', 'rejoin');
    expect(self.code).toBe(1);
    expect(self.stderr).toContain('rke2-server runs on this server: on the restored server never');

    for (const name of ['cp-2', 'cp-3'] as const) {
      const r = step(name, 'rejoin');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('moved the old database to /var/lib/rancher/rke2/server/db.old-');
      expect(readdirSync(node(name).path('/var/lib/rancher/rke2/server')).filter((f) => f.startsWith('db.old-'))).toHaveLength(1);
      expect(active(name)).toBe(true);
      expect(world.nodeState(host(SERVERS[name]))).toMatchObject({ caVerified: true });
    }
    // restore and rejoin enabled the unit again: every server comes back after a reboot.
    for (const name of Object.keys(SERVERS) as Server[]) expect(node(name).reboot()).toContain('rke2-server');
    expect(world.etcd()).toMatchObject({ clusters: 1, data: 'state-at-snapshot' });
    expect(world.etcd().members.map((m) => m.nodeName).sort()).toStrictEqual(Object.values(SERVERS).map(host).sort());
    expect(existsSync(join(world.dir, 'etcd.json'))).toBe(true);
  }, 400_000);
});
