/**
 * K3s nodes in motion: the rendered user data booted on simulated nodes (test/support/node-sandbox.ts)
 * with an upstream-faithful install.sh, then the installer run again and the manual upgrade: the server
 * keeps its name and its datastore; every download is checked against a literal sha256 or the node
 * installs nothing; the kernel parameters are asserted; Litestream restores before K3s starts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { K3S_ARTIFACTS } from '../generators/distributions/k3s/artifacts.js';
import { RDS_CA_BUNDLE_URL } from '../generators/distributions/rancher/boot.js';
import { POOL_JOIN_HOOK } from '../generators/distributions/rancher/pool-join.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { fixtureSources, formatted } from './helpers.js';
import { serveRelease } from './support/artifacts.js';
import { K3S_INSTALL_STUB, litestreamTarball } from './support/installers.js';
import { World, type NodeBox } from './support/node-sandbox.js';
import { sourcesWith } from './support/inline-env.js';

const CIS = { 'vm.panic_on_oom': '0', 'vm.overcommit_memory': '1', 'kernel.panic': '10', 'kernel.panic_on_oops': '1' };

/** The rendered files of an environment (path → content). */
function rendered(sources: Map<string, string>, name: string): Map<string, string> {
  const r = prepareEnvironment(name, sources);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  return new Map(renderEnvironment(r.prepared).map((f) => [f.path, f.content]));
}
const postgresFiles = (version?: string): Map<string, string> => {
  const { sources } = fixtureSources('valid', 'k3s-postgres.yaml');
  if (version) {
    const text = sources.get('environments/k3s-postgres.yaml')!.replace('k3sVersion: v1.35.2+k3s1', `k3sVersion: ${version}\n  kubernetesVersion: ${version.slice(1, version.indexOf('+'))}`);
    sources.set('environments/k3s-postgres.yaml', text);
  }
  return rendered(sources, 'k3s-postgres');
};

const HOST = 'ip-10-10-1-10.eu-west-1.compute.internal';
const DSN = 'postgres://k3s:%70%40%73%73%2f%77%3a%72%64@kine.fixture.internal:5432/k3s?sslmode=verify-full';

describe('K3s server on Kine PostgreSQL: boot, installer re-run, manual upgrade', () => {
  let world: World;
  let node: NodeBox;
  let restore: (() => void)[];
  beforeEach(() => {
    world = new World();
    world.sysctlDefaults({ ...CIS, 'vm.overcommit_memory': '0', 'kernel.panic': '0' });
    world.ssm('/odp/k3s-postgres/k3s/token', 'server-secret');
    world.ssm('/odp/k3s-postgres/k3s/agent-token', 'agent-secret');
    world.ssm('/odp/fixture/kine/password', 'p@ss/w:rd');
    world.serve(RDS_CA_BUNDLE_URL, 'rds-ca');
    restore = [serveRelease(world, K3S_ARTIFACTS, 'k3s', 'v1.35.2+k3s1', { 'install.sh': K3S_INSTALL_STUB, amd64: '#!/bin/sh\necho k3s v1.35.2+k3s1\n' })];
    node = world.node(HOST, '10.10.1.10');
    // The base stack's config parameters (a fixed node reads its config there at first boot).
    world.deployBase(postgresFiles());
  });
  afterEach(() => {
    restore.forEach((r) => r());
    world.cleanup();
  });

  it('boots with node name and datastore in a root-only drop-in, none of it in k3s.service.env', () => {
    const r = node.boot(postgresFiles().get('k3s/userdata/cp-1.yaml')!);
    expect(r.stderr).toContain('K3s server started');
    expect(r.code).toBe(0);
    expect(world.nodeState(HOST)).toMatchObject({ unit: 'k3s', nodeName: HOST, datastore: DSN, starts: 1 });
    expect(node.read('/etc/systemd/system/k3s.service.env')).not.toMatch(/K3S_NODE_NAME|K3S_DATASTORE_ENDPOINT/);
    expect(node.read('/etc/rancher/k3s/config.yaml.d/10-node.yaml')).toBe(`node-name: "${HOST}"\ndatastore-endpoint: "${DSN}"\n`);
    expect(statMode(node, '/etc/rancher/k3s/config.yaml.d/10-node.yaml')).toBe(0o600);
    expect(statMode(node, '/etc/rancher/k3s/config.yaml.d')).toBe(0o700);
    // install.sh was run without downloading (the boot script verified the binary) and without K3S_* variables.
    expect(world.calls().some((c) => c.includes('raw.githubusercontent.com/k3s-io/k3s/v1.35.2%2Bk3s1/install.sh'))).toBe(true);
  });

  it('install.sh run again (the documented manual path) rewrites k3s.service.env, and K3s comes back on the same datastore and name', () => {
    expect(node.boot(postgresFiles().get('k3s/userdata/cp-1.yaml')!).code).toBe(0);
    // What an operator runs: the installer again, here forcing the restart it does when anything changed.
    const again = node.run('INSTALL_K3S_SKIP_DOWNLOAD=true INSTALL_K3S_EXEC=server INSTALL_K3S_FORCE_RESTART=true sh /root/k3s-install.sh\n');
    expect(again.code).toBe(0);
    expect(node.read('/etc/systemd/system/k3s.service.env')).toBe('');
    expect(world.nodeState(HOST)).toMatchObject({ nodeName: HOST, datastore: DSN, starts: 2 });
  });

  it('the rendered manual upgrade verifies the new release and keeps name and datastore', () => {
    expect(node.boot(postgresFiles().get('k3s/userdata/cp-1.yaml')!).code).toBe(0);
    restore.push(serveRelease(world, K3S_ARTIFACTS, 'k3s', 'v1.35.3+k3s1', { 'install.sh': K3S_INSTALL_STUB, amd64: '#!/bin/sh\necho k3s v1.35.3+k3s1\n', arm64: 'arm' }));
    const script = postgresFiles('v1.35.3+k3s1').get('k3s/manual-upgrade.sh')!;
    const r = node.run(script);
    expect(r.stderr).toContain('server k3s upgraded to v1.35.3+k3s1');
    expect(r.code).toBe(0);
    expect(node.read('/usr/local/bin/k3s')).toContain('v1.35.3+k3s1');
    expect(world.nodeState(HOST)).toMatchObject({ nodeName: HOST, datastore: DSN, starts: 2 });
  });

  it('after a password rotation, the runbook\'s datastore-password.sh gives the server the new DSN and restarts K3s', () => {
    const files = postgresFiles();
    expect(node.boot(files.get('k3s/userdata/cp-1.yaml')!).code).toBe(0);
    world.ssm('/odp/fixture/kine/password', 'n3w&pass');
    const r = node.run(files.get('k3s/datastore-password.sh')!);
    expect(r.stderr).toContain('odp-datastore-password: k3s restarted with the password in /odp/fixture/kine/password');
    expect(r.code).toBe(0);
    const fresh = DSN.replace('%70%40%73%73%2f%77%3a%72%64', '%6e%33%77%26%70%61%73%73');
    expect(node.read('/etc/rancher/k3s/config.yaml.d/10-node.yaml')).toBe(`node-name: "${HOST}"\ndatastore-endpoint: "${fresh}"\n`);
    expect(world.nodeState(HOST)).toMatchObject({ unit: 'k3s', nodeName: HOST, datastore: fresh, starts: 2 });
  });

  it('a caBundlePath of its own is never overwritten by the RDS bundle, and a missing one stops the boot', () => {
    const { sources } = fixtureSources('valid', 'k3s-postgres.yaml');
    const text = sources.get('environments/k3s-postgres.yaml')!.replace('password: { secret: /odp/fixture/kine/password } }', 'password: { secret: /odp/fixture/kine/password }, caBundlePath: /etc/ssl/certs/corp-db-ca.pem }');
    expect(text).toContain('caBundlePath: /etc/ssl/certs/corp-db-ca.pem');
    sources.set('environments/k3s-postgres.yaml', text);
    const files = rendered(sources, 'k3s-postgres');
    world.deployBase(files);
    const userData = files.get('k3s/userdata/cp-1.yaml')!;
    const missing = node.boot(userData);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('caBundlePath /etc/ssl/certs/corp-db-ca.pem is missing: put the database\'s CA bundle there (in the AMI), or remove caBundlePath to use the RDS bundle');
    node.write('/etc/ssl/certs/corp-db-ca.pem', 'corp-ca\n');
    const r = node.boot(userData);
    expect(r.code).toBe(0);
    expect(node.read('/etc/ssl/certs/corp-db-ca.pem')).toBe('corp-ca\n');
    expect(world.calls().some((c) => c.includes(RDS_CA_BUNDLE_URL))).toBe(false);
    expect(node.read('/etc/rancher/k3s/config.yaml')).toContain('datastore-cafile: /etc/ssl/certs/corp-db-ca.pem');
  });

  it('a download that does not have the recorded sha256 is refused before it is used', () => {
    world.serve('https://github.com/k3s-io/k3s/releases/download/v1.35.2%2Bk3s1/k3s', '#!/bin/sh\necho tampered\n');
    const r = node.boot(postgresFiles().get('k3s/userdata/cp-1.yaml')!);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('k3s-io/k3s/releases/download/v1.35.2%2Bk3s1/k3s does not have the recorded sha256');
    expect(node.exists('/usr/local/bin/k3s')).toBe(false);
  });

  it('without a recorded sha256 the node installs nothing and says how to record it (fails closed)', () => {
    restore.forEach((r) => r());
    restore = [];
    const r = node.boot(postgresFiles().get('k3s/userdata/cp-1.yaml')!);
    expect(r.code).toBe(1);
    // The release parameter of the base stack (generators/distributions/rancher/release.ts) says `unrecorded`: refused
    // after reading it, before any download or install.
    expect(r.stderr.split('\n').filter(Boolean).slice(-2)).toStrictEqual([
      expect.stringMatching(/^odp-k3s-boot: refusing to install K3s v1\.35\.2\+k3s1: no sha256 is recorded for its install\.sh or amd64 artifact \(\/odp\/[a-z0-9-]+\/k3s\/release\)$/),
      'odp-k3s-boot: record the hashes (npm run artifacts -- record, needs network), run npm run synth, commit, deploy the base stack, and replace this instance',
    ]);
    expect(world.calls().filter((l) => / (curl -sfL|systemctl|sh \/root)/.test(l))).toStrictEqual([]);
  });

  it('a sysctl.d file sorting after the CIS file stops the boot and is named', () => {
    node.write('/usr/lib/sysctl.d/99-vendor.conf', 'vm.overcommit_memory = 0\n');
    // Same name in /etc masks the /usr/lib one (sysctl.d(5)): this one does not change the value.
    node.write('/etc/sysctl.d/50-masked.conf', 'kernel.panic=10\n');
    node.write('/usr/lib/sysctl.d/50-masked.conf', 'kernel.panic=0\n');
    const r = node.boot(postgresFiles().get('k3s/userdata/cp-1.yaml')!);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('odp-k3s-boot: kernel parameter vm.overcommit_memory is 0, not 1: /usr/lib/sysctl.d/99-vendor.conf overrides /etc/sysctl.d/90-kubelet.conf');
  });

  it('GPU nodes get the toolkit settings that leave only the device plugin\'s volume mounts', () => {
    const { sources } = fixtureSources('valid', 'k3s-postgres.yaml');
    const text = sources.get('environments/k3s-postgres.yaml')!.replace('  - name: workers\n    role: worker\n    arch: amd64\n    instanceType: m7i.xlarge', '  - name: workers\n    role: worker\n    arch: amd64\n    instanceType: g5.xlarge\n    gpu: { vendor: nvidia }');
    sources.set('environments/k3s-postgres.yaml', text);
    const files = rendered(sources, 'k3s-postgres');
    const gpu = world.node('ip-10-10-1-99.eu-west-1.compute.internal', '10.10.1.99');
    // A pool instance: it waits under its launch lifecycle hook (test/pool-join.test.ts) and releases itself.
    world.launching(gpu.instanceId, 'fixture-workers', POOL_JOIN_HOOK);
    const r = gpu.boot(files.get('k3s/userdata/workers.yaml')!);
    expect(r.code, r.stderr).toBe(0);
    expect(world.lifecycle()[gpu.instanceId]).toMatchObject({ state: 'InService', result: 'CONTINUE' });
    expect(gpu.read('/etc/nvidia-container-runtime/config.toml')).toBe('accept-nvidia-visible-devices-as-volume-mounts = true\naccept-nvidia-visible-devices-envvar-when-unprivileged = false\n');
    expect(world.nodeState('ip-10-10-1-99.eu-west-1.compute.internal')).toMatchObject({ unit: 'k3s-agent', nodeName: 'ip-10-10-1-99.eu-west-1.compute.internal' });
  });
});

describe('K3s on Kine SQLite: Litestream restores before K3s starts', () => {
  const SQLITE = `cluster:\n  distribution: k3s\n  talosVersion: null\n  k3sVersion: v1.35.2+k3s1\n  datastore: { type: kine-sqlite, litestream: { bucket: odp-fixture-litestream } }\nnodePools:\n  - { name: cp, role: controlplane, arch: amd64, instanceType: m7i.large, subnet: private-a, nodes: [{ name: cp-1, ip: 10.10.1.10 }] }\n`;
  let world: World;
  let node: NodeBox;
  let restore: (() => void)[];
  let userData: string;
  beforeEach(() => {
    world = new World();
    world.sysctlDefaults(CIS);
    world.ssm('/odp/sqlite/k3s/token', 'server-secret');
    world.ssm('/odp/sqlite/k3s/agent-token', 'agent-secret');
    restore = [
      serveRelease(world, K3S_ARTIFACTS, 'k3s', 'v1.35.2+k3s1', { 'install.sh': K3S_INSTALL_STUB, amd64: '#!/bin/sh\necho k3s\n' }),
      serveRelease(world, K3S_ARTIFACTS, 'litestream', 'v0.5.16', { amd64: litestreamTarball() }),
    ];
    node = world.node(HOST, '10.10.1.10');
    const files = rendered(sourcesWith('sqlite', `name: sqlite\nextends: _fixture\n${SQLITE}`), 'sqlite');
    userData = files.get('k3s/userdata/cp-1.yaml')!;
    world.deployBase(files);
  });
  afterEach(() => {
    restore.forEach((r) => r());
    world.cleanup();
  });

  it('Litestream is enabled before K3s starts, and K3s wants it and restores first', () => {
    expect(node.boot(userData).code).toBe(0);
    const calls = world.calls().filter((c) => c.includes(' systemctl '));
    expect(calls.indexOf(`${HOST} systemctl enable litestream.service`)).toBeLessThan(calls.indexOf(`${HOST} systemctl start k3s`));
    expect(node.read('/etc/systemd/system/k3s.service.d/10-litestream.conf')).toBe('[Unit]\nWants=litestream.service\n\n[Service]\nExecStartPre=/usr/local/sbin/odp-litestream-restore\n');
    expect(world.nodeState(HOST)).toMatchObject({ datastore: 'litestream:///var/lib/rancher/k3s/server/db/state.db?_journal_mode=WAL&_busy_timeout=30000&_synchronous=NORMAL&_txlock=immediate&cache=shared' });
  });

  it('an empty database left by a failed first boot does not shadow the replica (unlike -if-db-not-exists)', () => {
    world.serve('unused', '');
    node.write('/var/lib/rancher/k3s/server/db/state.db', '');
    // The replica in S3 (the stand-in's restore copies it).
    writeReplica(world, 'replicated-state');
    expect(node.boot(userData).code).toBe(0);
    expect(node.read('/var/lib/rancher/k3s/server/db/state.db')).toBe('replicated-state');
    // Restarts keep the node's database: the restore ran once.
    writeReplica(world, 'newer-replica');
    expect(node.run('systemctl restart k3s\n').code).toBe(0);
    expect(node.read('/var/lib/rancher/k3s/server/db/state.db')).toBe('replicated-state');
  });

  it('the manual upgrade of the server refuses while Litestream is stopped (as the server Plan does), and upgrades once it runs', () => {
    expect(node.boot(userData).code).toBe(0);
    restore.push(serveRelease(world, K3S_ARTIFACTS, 'k3s', 'v1.35.3+k3s1', { 'install.sh': K3S_INSTALL_STUB, amd64: '#!/bin/sh\necho k3s v1.35.3+k3s1\n', arm64: 'arm' }));
    const next = SQLITE.replace('k3sVersion: v1.35.2+k3s1', 'k3sVersion: v1.35.3+k3s1\n  kubernetesVersion: 1.35.3');
    const script = rendered(sourcesWith('sqlite', `name: sqlite\nextends: _fixture\n${next}`), 'sqlite').get('k3s/manual-upgrade.sh')!;
    node.run('systemctl stop litestream\n');
    const stopped = node.run(script);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toContain('odp-manual-upgrade: litestream.service is not active: the S3 replica is not current; start it (systemctl start litestream) and run this script again');
    expect(node.read('/usr/local/bin/k3s')).not.toContain('v1.35.3+k3s1');
    node.run('systemctl start litestream\n');
    const r = node.run(script);
    expect(r.stderr).toContain('server k3s upgraded to v1.35.3+k3s1');
    expect(r.code).toBe(0);
    expect(node.read('/usr/local/bin/k3s')).toContain('v1.35.3+k3s1');
  });

  it('no replica yet: a new cluster starts with a new database, and the first start writes the replica marker', () => {
    const r = node.boot(userData);
    expect(r.stderr).toContain('K3s server started');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('odp-litestream-restore: no replica yet: K3s starts a new database');
    expect(r.stderr).toContain(`odp-litestream-restore: replica marker s3://${BUCKET}/${MARKER} set to k3s/fixture`);
    expect(readMarker(world)).toBe('k3s/fixture');
  });

  // A replacement server: the same user data on a new instance (its disk empty), after the first one wrote the marker.
  describe('the replica marker: a replacement server never starts an empty cluster by accident', () => {
    let next: NodeBox;
    beforeEach(() => {
      expect(node.boot(userData).code).toBe(0);
      next = world.node('ip-10-10-1-11.eu-west-1.compute.internal', '10.10.1.11');
    });
    const started = (b: NodeBox): boolean => world.nodeState(b.hostname) !== undefined;

    it('with the replica present it restores and keeps the marker (no write)', () => {
      writeReplica(world, 'replicated-state');
      const r = next.boot(userData);
      expect(r.code, r.stderr).toBe(0);
      expect(next.read('/var/lib/rancher/k3s/server/db/state.db')).toBe('replicated-state');
      expect(readMarker(world)).toBe('k3s/fixture');
      expect(world.calls().filter((c) => c.startsWith(`${next.hostname} aws s3api put-object`))).toStrictEqual([]);
    });

    it('with no replica it refuses: K3s does not start, and the message gives the deliberate reset', () => {
      const r = next.boot(userData);
      expect(r.code).not.toBe(0);
      expect(started(next)).toBe(false);
      expect(r.stderr).toContain(`odp-litestream-restore: refusing to start K3s: the replica at s3://${BUCKET}/k3s/fixture vanished (the marker s3://${BUCKET}/${MARKER} says this cluster replicates there), and K3s would start an EMPTY cluster.`);
      expect(r.stderr).toContain(`to start an empty cluster on purpose: aws s3api delete-object --region 'eu-west-1' --bucket '${BUCKET}' --key '${MARKER}'`);
      expect(next.exists('/var/lib/rancher/k3s/server/db/.odp-restore-done')).toBe(false);
    });

    it('the README\'s reset command (deleting the marker) lets the replacement start a new cluster', () => {
      expect(next.boot(userData).code).not.toBe(0);
      const readme = rendered(sourcesWith('sqlite', `name: sqlite\nextends: _fixture\n${SQLITE}`), 'sqlite').get('README.md')!;
      const reset = /```sh\n(aws s3api delete-object [^\n]+)\n```/.exec(readme)?.[1];
      expect(reset).toBe(`aws s3api delete-object --region 'eu-west-1' --bucket '${BUCKET}' --key '${MARKER}'`);
      expect(world.runScript(`${reset}\n`).code).toBe(0);
      expect(readMarker(world)).toBeUndefined();
      const r = next.boot(userData);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('odp-litestream-restore: no replica yet: K3s starts a new database');
      expect(started(next)).toBe(true);
      expect(readMarker(world)).toBe('k3s/fixture');
    });

    it('a changed prefix refuses with the copy to make, then restores from the copy and moves the marker', () => {
      writeReplica(world, 'replicated-state');
      const moved = rendered(sourcesWith('sqlite', `name: sqlite\nextends: _fixture\n${SQLITE.replace('bucket: odp-fixture-litestream }', 'bucket: odp-fixture-litestream, prefix: k3s/fixture-v2 }')}`), 'sqlite').get('k3s/userdata/cp-1.yaml')!;
      const r = next.boot(moved);
      expect(r.code).not.toBe(0);
      expect(started(next)).toBe(false);
      const sync = `aws s3 sync s3://${BUCKET}/k3s/fixture/ s3://${BUCKET}/k3s/fixture-v2/`;
      expect(r.stderr).toContain(`odp-litestream-restore: refusing to start K3s: the replica moved from s3://${BUCKET}/k3s/fixture to s3://${BUCKET}/k3s/fixture-v2 and nothing is there yet: ${sync}, then systemctl restart k3s`);
      expect(world.runScript(`${sync}\n`).code).toBe(0);
      const again = next.boot(moved);
      expect(again.code, again.stderr).toBe(0);
      expect(next.read('/var/lib/rancher/k3s/server/db/state.db')).toBe('replicated-state');
      expect(readMarker(world)).toBe('k3s/fixture-v2');
    });

    it('a network error reading the marker refuses (exit 255 of the AWS CLI), as does AccessDenied', () => {
      world.runScript(`echo true > "$WORLD/s3-down.json"\n`);
      const down = next.boot(userData);
      expect(down.code).not.toBe(0);
      expect(started(next)).toBe(false);
      expect(down.stderr).toContain('Could not connect to the endpoint URL: "https://s3.eu-west-1.amazonaws.com/"');
      expect(down.stderr).toContain(`odp-litestream-restore: cannot read the replica marker s3://${BUCKET}/${MARKER}: refusing to start K3s`);
      // A role without s3:ListBucket on the key: S3 answers a missing key with AccessDenied, never NoSuchKey.
      world.runScript(`rm "$WORLD/s3-down.json"; echo true > "$WORLD/s3-nolist.json"; rm -r "$WORLD/s3/${BUCKET}/.odp"\n`);
      const denied = fresh(world).boot(userData);
      expect(denied.code).not.toBe(0);
      expect(denied.stderr).toContain('An error occurred (AccessDenied) when calling the GetObject operation: Access Denied');
      expect(readMarker(world)).toBeUndefined();
    });
  });
});

const BUCKET = 'odp-fixture-litestream';
const MARKER = '.odp/k3s/fixture/replica';
const fresh = (world: World): NodeBox => world.node('ip-10-10-1-12.eu-west-1.compute.internal', '10.10.1.12');

/** The replica in S3 at the fixture's default path (the stand-in's restore copies it). */
function writeReplica(world: World, content: string): void {
  world.runScript(`mkdir -p "$WORLD/s3/${BUCKET}/k3s/fixture" && printf '%s' '${content}' > "$WORLD/s3/${BUCKET}/k3s/fixture/replica.db"\n`);
}
function readMarker(world: World): string | undefined {
  const r = world.runScript(`cat "$WORLD/s3/${BUCKET}/${MARKER}" 2>/dev/null || echo '<none>'\n`);
  return r.stdout === '<none>\n' ? undefined : r.stdout;
}

function statMode(node: NodeBox, p: string): number {
  return world_stat(node.path(p));
}
import { statSync } from 'node:fs';
const world_stat = (p: string): number => statSync(p).mode & 0o777;
