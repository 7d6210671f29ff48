/**
 * auditk3s: the K3s dev cluster of test/fixtures/valid/k3s-audit-sqlite.yaml (one server on Kine SQLite, Litestream to
 * S3 with its bucket through SSM, a Graviton pool, Flux) in motion on simulated nodes (test/support/node-sandbox.ts):
 * the hand restore of the Litestream replica (to a point in time, or the latest state) as the rendered
 * `k3s/litestream-restore.sh`, against a Litestream stand-in that behaves as v0.5.16's `restore` does
 * (test/support/installers.ts litestreamTarball) and K3s refusing bootstrap data under another token (node-stubs.mjs).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { K3S_ARTIFACTS } from '../generators/distributions/k3s/artifacts.js';
import { SERVICE_READY_SECONDS } from '../generators/distributions/rancher/boot.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { fixtureSources, formatted } from './helpers.js';
import { serveRelease } from './support/artifacts.js';
import { K3S_INSTALL_STUB, litestreamTarball } from './support/installers.js';
import { World, type NodeBox } from './support/node-sandbox.js';

const CIS = { 'vm.panic_on_oom': '0', 'vm.overcommit_memory': '1', 'kernel.panic': '10', 'kernel.panic_on_oops': '1' };
const HOST = 'ip-10-10-1-10.eu-west-1.compute.internal';
const BUCKET = 'odp-audit-litestream';
const REPLICA = `$WORLD/s3/${BUCKET}/k3s/audit-sqlite`;
const DB = '/var/lib/rancher/k3s/server/db/state.db';
const TOKEN = '/odp/k3s-audit-sqlite/k3s/token';

/** The fixture's rendered files (rendered after the test's lock records the stand-ins' hashes: the user data embeds them). */
const render = (): Map<string, string> => {
  const { name, sources } = fixtureSources('valid', 'k3s-audit-sqlite.yaml');
  const r = prepareEnvironment(name, sources);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  return new Map(renderEnvironment(r.prepared).map((f) => [f.path, f.content]));
};
const lastLine = (stderr: string): string | undefined => stderr.trim().split('\n').at(-1);

describe('k3s-audit-sqlite: the Litestream hand restore (k3s/litestream-restore.sh)', () => {
  let world: World;
  let node: NodeBox;
  let restore: (() => void)[];
  let files: Map<string, string>;
  beforeEach(() => {
    world = new World();
    world.sysctlDefaults(CIS);
    world.ssm(TOKEN, 'server-secret');
    world.ssm('/odp/k3s-audit-sqlite/k3s/agent-token', 'agent-secret');
    // The fixture's release has no recorded sha256 (the lock): the stand-ins are served under the digests this test
    // records, and the base stack's release parameter carries them.
    restore = [
      serveRelease(world, K3S_ARTIFACTS, 'k3s', 'v1.35.9+k3s1', { 'install.sh': K3S_INSTALL_STUB, amd64: '#!/bin/sh\necho k3s\n' }),
      serveRelease(world, K3S_ARTIFACTS, 'litestream', 'v0.5.16', { amd64: litestreamTarball() }),
    ];
    node = world.node(HOST, '10.10.1.10');
    files = render();
    world.deployBase(files);
    // The cluster's replica in S3: the latest state, and the state at a point in time.
    world.runScript(`mkdir -p "${REPLICA}" && printf latest > "${REPLICA}/replica.db" && printf at-three > "${REPLICA}/replica@2026-01-02T03:04:05Z.db"\n`);
    const r = node.boot(files.get('k3s/userdata/server-1.yaml')!);
    expect(r.code, r.stderr).toBe(0);
    // The server runs on its own database since (the hook restored once); it diverged from the replica.
    node.write(DB, 'diverged');
  });
  afterEach(() => {
    restore.forEach((r) => r());
    world.cleanup();
  });
  const script = (): string => files.get('k3s/litestream-restore.sh')!;
  const run = (...args: string[]) => node.run(script().replace(/^#!\/bin\/sh\n/, `#!/bin/sh\nset -- ${args.join(' ')}\n`));

  it('to a point in time: both units stopped and disabled, the state at that time restored, K3s started (bounded), then Litestream', () => {
    const r = run('2026-01-02T03:04:05Z');
    expect(r.code, r.stderr).toBe(0);
    expect(node.read(DB)).toBe('at-three');
    const calls = world.calls().filter((c) => c.startsWith(`${HOST} systemctl`));
    const at = (c: string) => calls.lastIndexOf(`${HOST} systemctl ${c}`);
    expect(at('disable --now litestream.service k3s.service')).toBeGreaterThan(-1);
    expect(at('start k3s.service')).toBeGreaterThan(at('enable k3s.service'));
    expect(at('enable --now litestream.service')).toBeGreaterThan(at('start k3s.service'));
    expect(lastLine(r.stderr)).toBe(`odp-litestream-restore: k3s runs on the restored database and Litestream replicates it to s3://${BUCKET}/k3s/audit-sqlite`);
    expect(r.stderr).toContain(`odp-litestream-restore: restored ${DB} from s3://${BUCKET}/k3s/audit-sqlite at 2026-01-02T03:04:05Z`);
    // The old database is kept beside it.
    const kept = world.runScript(`cat "${node.path(DB)}".before-restore-*\n`);
    expect(kept.stdout).toBe('diverged');
    // The restore hook does not run again over it at the next start (the node is marked done).
    expect(node.run('systemctl restart k3s\n').code).toBe(0);
    expect(node.read(DB)).toBe('at-three');
    expect(node.reboot()).toEqual(expect.arrayContaining(['k3s', 'litestream']));
  });

  it('the latest state with no time', () => {
    const r = run();
    expect(r.code, r.stderr).toBe(0);
    expect(node.read(DB)).toBe('latest');
  });

  it('a time with no backup leaves the database as it was, both units stopped and disabled (a reboot starts neither)', () => {
    const r = run('2025-01-01T00:00:00Z');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no matching backup files available');
    expect(lastLine(r.stderr)).toBe('odp-litestream-restore: litestream restore failed: the database is as it was; K3s and Litestream are stopped and disabled (systemctl enable --now k3s litestream to go back to it), or run this again with another time');
    expect(node.read(DB)).toBe('diverged');
    expect(node.reboot()).toStrictEqual([]);
  });

  it('a time that is no RFC 3339 time, or two arguments, is refused before anything stops', () => {
    for (const args of [['yesterday'], ['2026-01-02', '03:04:05']]) {
      const before = world.calls().length;
      const r = run(...args);
      expect(r.code).toBe(2);
      expect(world.calls().slice(before).filter((c) => c.includes('systemctl'))).toStrictEqual([]);
    }
    expect(lastLine(run('yesterday').stderr)).toBe('odp-litestream-restore: yesterday is not an RFC 3339 time (e.g. 2026-01-02T03:04:05Z)');
    expect(node.read(DB)).toBe('diverged');
  });

  it('a state from before a token rotation: the start stops after its bound naming the token of that time, Litestream stays stopped; with that token K3s starts', () => {
    world.bootstrapKey({ ...world.bootstrapKey()!, password: 'token-of-that-time' });
    const r = run('2026-01-02T03:04:05Z');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('bootstrap data already found and encrypted with different token');
    expect(lastLine(r.stderr)).toBe(
      `odp-litestream-restore: k3s.service is not ready after ${SERVICE_READY_SECONDS} s: it exits before it is ready on the restored database: journalctl -u k3s. "bootstrap data already found and encrypted with different token": the database is from before a token rotation; put the server token of that time (aws ssm get-parameter-history --with-decryption --name ${TOKEN}) into /etc/rancher/k3s/token and back into ${TOKEN}, then systemctl restart k3s and systemctl enable --now litestream. Litestream stays stopped meanwhile (the replica is untouched)`,
    );
    expect(world.calls()).not.toContain(`${HOST} systemctl enable --now litestream.service`);
    node.write('/etc/rancher/k3s/token', 'token-of-that-time', 0o600);
    expect(node.run('timeout 60 systemctl restart k3s\nsystemctl enable --now litestream\n').code).toBe(0);
    expect(node.read(DB)).toBe('at-three');
  });

  it('the README gives the script, never an unbounded `systemctl enable --now k3s`', () => {
    const readme = files.get('README.md')!;
    const section = readme.slice(readme.indexOf('## Datastore: Kine on SQLite'), readme.indexOf('## K3s limits'));
    expect(section).toContain('sh litestream-restore.sh [<time, RFC 3339>]');
    expect(section).not.toMatch(/systemctl enable --now k3s/);
  });

  it('deleting the replica marker empties no cluster while a replica exists: the running server keeps its database, a replacement restores the replica; the README says so', () => {
    const marker = `$WORLD/s3/${BUCKET}/.odp/k3s/audit-sqlite/replica`;
    expect(world.runScript(`cat "${marker}"\n`).stdout).toBe('k3s/audit-sqlite');
    const readme = files.get('README.md')!;
    const reset = /```sh\n(aws s3api delete-object [^\n]+)\n```/.exec(readme)?.[1];
    expect(reset).toBe(`aws s3api delete-object --region 'eu-west-1' --bucket '${BUCKET}' --key '.odp/k3s/audit-sqlite/replica'`);
    expect(world.runScript(`${reset}\n`).code).toBe(0);
    expect(node.run('systemctl restart k3s\n').code).toBe(0);
    expect(node.read(DB)).toBe('diverged');
    const next = world.node('ip-10-10-1-11.eu-west-1.compute.internal', '10.10.1.11');
    const r = next.boot(files.get('k3s/userdata/server-1.yaml')!);
    expect(r.code, r.stderr).toBe(0);
    expect(next.read(DB)).toBe('latest');
    expect(readme).not.toContain('To start a NEW, EMPTY cluster on purpose (the old state is given up)');
    expect(readme).toContain('The marker decides only when there is no replica: while one exists the hook restores it');
  });
});

describe('k3s-audit-sqlite: replacing the only server (README, "Replacing a lost fixed node")', () => {
  // No API server answers until the replacement runs, so its old Node cannot be deleted first; the replacement finds
  // its Node in the restored database and keeps it, providerID and all (generators/infra/aws/facts.ts replaceOnlyServerNode).
  it('says to delete the restored Node once the new server runs, then restart k3s, never "delete it first"', () => {
    const { name, sources } = fixtureSources('valid', 'k3s-audit-sqlite.yaml');
    const r = prepareEnvironment(name, sources);
    if (!r.prepared) throw new Error(formatted(r).join('\n'));
    const readme = renderEnvironment(r.prepared).find((f) => f.path === 'README.md')!.content;
    const step = readme.split('\n').find((l) => l.startsWith('   - `server-1`: '))!;
    expect(step).toContain('the new server restores the Litestream replica before K3s starts');
    expect(step).not.toContain('so the new instance registers afresh under the same name');
    expect(step).toContain("there is no API server until the new instance runs, so its old Node cannot go first: once the new server runs, `kubectl delete node <name>` (the Node whose InternalIP is 10.10.1.10, restored with the old instance's providerID), then on the new server `systemctl restart k3s`: its kubelet registers the Node afresh and the cloud controller sets the new instance's providerID");
  });
});
