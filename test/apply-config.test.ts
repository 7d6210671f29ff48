/**
 * The runbook's way of a settings change to a running fixed node (rendered/<env>/<k3s|rke2>/apply-config.sh,
 * generators/distributions/rancher/apply-config.ts), executed on simulated servers (test/support/node-sandbox.ts): the
 * merge changed the node's base-stack config parameter only (no instance stopped: ./aws-node-config.test.ts); the script
 * writes the parameter's value to config.yaml and restarts the service, one server at a time: it refuses while a server
 * is not Ready, and says the next may go only once every server is Ready again.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EnvironmentModel } from '../generators/model/types.js';
import { addExtraArg, fixtureSources, formatted, renderValidFixture } from './helpers.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { World, type NodeBox } from './support/node-sandbox.js';
import { APPLY_LOCK_STRETCH } from '../generators/distributions/rancher/apply-config.js';
import { CLUSTER_LOCK as APPLY_LOCK, LOCK_RETRY } from '../generators/lib/cluster-lock.js';
import { KUBECTL_REQUEST_TIMEOUT } from '../generators/lib/kubectl-timeout.js';

interface Setup {
  file: string;
  name: 'k3s' | 'rke2';
  unit: string;
  unitPath: string;
  kubectl: string;
}

const SETUPS: Setup[] = [
  { file: 'k3s-postgres.yaml', name: 'k3s', unit: 'k3s', unitPath: '/etc/systemd/system/k3s.service', kubectl: '/usr/local/bin/kubectl' },
  { file: 'rke2-etcd.yaml', name: 'rke2', unit: 'rke2-server', unitPath: '/usr/local/lib/systemd/system/rke2-server.service', kubectl: '/var/lib/rancher/rke2/bin/kubectl' },
];

/** A cluster-wide setting changed (every server's config): cluster.<name>.extraArgs. */
const changed = (m: EnvironmentModel): void => addExtraArg(m.cluster.extension, 'kube-apiserver-arg', 'request-timeout=301s');
/**
 * Servers that run workloads: their pool's own control-plane taint PreferNoSchedule (a taint of that key replaces the
 * NoSchedule one the family adds when the environment has workers: rancher/config.ts nodeTaints).
 */
const serversSchedulable = (m: EnvironmentModel): void => {
  for (const p of m.pools) if (p.role === 'controlplane') p.taints = [{ key: 'node-role.kubernetes.io/control-plane', effect: 'PreferNoSchedule' }];
};
const render = renderValidFixture;

/** The fixtures' servers: cp-1..3 at 10.10.1.10..12. */
const SERVERS = [
  ['cp-1', '10.10.1.10'],
  ['cp-2', '10.10.1.11'],
  ['cp-3', '10.10.1.12'],
] as const;
const host = (ip: string): string => `ip-${ip.replace(/\./g, '-')}.eu-west-1.compute.internal`;
const configText = (files: Map<string, string>, node: string): string => files.get(`${node}.yaml`) ?? '';
const lastLine = (stderr: string) => stderr.trim().split('\n').at(-1);

describe.each(SETUPS)('apply-config.sh: $name ($file)', (s) => {
  let world: World;
  let before: Map<string, string>;
  let after: Map<string, string>;
  const config = `/etc/rancher/${s.name}/config.yaml`;
  const nodeConfig = (files: Map<string, string>, node: string): string => configText(new Map([...files].map(([p, c]) => [p.replace(`${s.name}/`, ''), c])), node).replace(/^#.*\n/gm, '');

  beforeEach(() => {
    world = new World();
    world.instantSleep();
    before = render(s.file);
    after = render(s.file, changed);
    // The servers' Nodes (the kubectl stub's cluster): every one Ready.
    writeFileSync(join(world.dir, 'etcd.json'), JSON.stringify({ clusters: 1, ca: '1', members: SERVERS.map(([, ip], i) => ({ name: `${host(ip)}-0000000${i}`, nodeName: host(ip), ip })) }));
  });
  afterEach(() => world.cleanup());

  const etcdJson = () => JSON.parse(readFileSync(join(world.dir, 'etcd.json'), 'utf8')) as { members: Record<string, unknown>[] };
  const editMember = (i: number, v: Record<string, unknown>): void => {
    const etcd = etcdJson();
    Object.assign(etcd.members[i]!, v);
    writeFileSync(join(world.dir, 'etcd.json'), JSON.stringify(etcd));
  };
  const leases = (): Record<string, { holderIdentity: string }> => (existsSync(join(world.dir, 'leases.json')) ? JSON.parse(readFileSync(join(world.dir, 'leases.json'), 'utf8')) : {});
  const holdLease = (holderIdentity: string, renewTime: string): void =>
    writeFileSync(join(world.dir, 'leases.json'), JSON.stringify({ 'odp-apply-config': { holderIdentity, leaseDurationSeconds: 3600, acquireTime: renewTime, renewTime, resourceVersion: '7' } }));

  /** A running server as its first boot left it, with the config of `before`. */
  function server(i: number, from = before, to = after): NodeBox {
    const [name, ip] = SERVERS[i]!;
    const node = world.node(host(ip), ip);
    node.write(config, nodeConfig(from, name), 0o600);
    node.write(`/etc/rancher/${s.name}/token`, 'a1b2'.repeat(16), 0o600);
    node.write(s.unitPath, `[Service]\nExecStart=/usr/local/bin/${s.name} server\n`);
    if (s.name === 'rke2') node.write('/var/lib/rancher/rke2/server/db/etcd/name', `${host(ip)}-0000000${i}`);
    node.stubBinary(`/usr/local/bin/${s.name}`);
    node.stubBinary(s.kubectl);
    node.write('/root/apply-config.sh', to.get(`${s.name}/apply-config.sh`)!, 0o700);
    expect(node.run(`#!/bin/sh\nsystemctl start ${s.unit}.service\n`).code).toBe(0);
    return node;
  }
  // Tests of several script runs (each a few dozen stub processes): a loaded machine takes more than the default minute.
  const SLOW = { timeout: 180_000 };
  const apply = (node: NodeBox, name: string) => node.run(`#!/bin/sh\nsh /root/apply-config.sh ${name}\n`);
  const starts = (node: NodeBox): number => (JSON.parse(readFileSync(join(world.dir, 'nodes', `${node.hostname}.json`), 'utf8')) as { starts: number }).starts;

  // Six runs of the script on three simulated servers, each a few dozen stub processes: more than the default minute on
  // a loaded machine (nothing here waits on a clock: sleep returns at once).
  it('after the base stack update, each server in turn: the new config, a restart, every server Ready before the next; again: nothing to do', { timeout: 300_000 }, () => {
    world.deployBase(after);
    const nodes = SERVERS.map((_, i) => server(i));
    for (const [i, node] of nodes.entries()) {
      const name = SERVERS[i]![0];
      expect(node.read(config)).not.toBe(nodeConfig(after, name));
      const r = apply(node, name);
      expect(r.code, r.stderr).toBe(0);
      expect(node.read(config)).toBe(nodeConfig(after, name));
      expect(node.read(config)).toContain('request-timeout=301s');
      expect(starts(node)).toBe(2);
      expect(lastLine(r.stderr)).toBe(`odp-apply-config: ${name}: config applied, ${s.unit} restarted, every server Ready and the datastore healthy: the next server may go`);
      // The lock was held during the run and released at its end; the gate asked the datastore (and etcd's voters).
      expect(leases()).toEqual({});
      const calls = world.calls().filter((c) => c.startsWith(`${host(SERVERS[i]![1])} kubectl`));
      expect(calls.some((c) => c.includes('create -f -'))).toBe(true);
      expect(calls.some((c) => c.includes('get --raw /readyz/etcd'))).toBe(true);
      // Its servers are tainted NoSchedule (the fixture has workers): nothing to drain.
      expect(calls.some((c) => c.includes(' drain '))).toBe(false);
      const again = apply(node, name);
      expect(again.code).toBe(0);
      expect(lastLine(again.stderr)).toBe(`odp-apply-config: ${name} runs this config already: nothing to do`);
      expect(starts(node)).toBe(2);
    }
  });

  it('refuses while another server is not Ready: nothing written, nothing restarted', () => {
    world.deployBase(after);
    const [first] = [server(0), server(1), server(2)];
    editMember(1, { down: true });
    const r = apply(first!, 'cp-1');
    expect(r.code).toBe(1);
    expect(lastLine(r.stderr)).toBe(`odp-apply-config: server ${host('10.10.1.11')} (10.10.1.11) is not Ready: apply to one server at a time, the next once every server is Ready and the datastore healthy again; nothing changed here`);
    expect(first!.read(config)).toBe(nodeConfig(before, 'cp-1'));
    expect(starts(first!)).toBe(1);
    expect(leases()).toEqual({});
  });

  it('refuses while the datastore is not healthy though every Node is Ready: an etcd member not a voter (RKE2) / PostgreSQL unreachable (K3s on Kine)', () => {
    world.deployBase(after);
    const [first] = [server(0), server(1), server(2)];
    if (s.name === 'rke2') editMember(2, { learner: true });
    else world.postgres({ host: 'db.example', user: 'k3s', password: 'x', up: false });
    const r = apply(first!, 'cp-1');
    expect(r.code).toBe(1);
    expect(lastLine(r.stderr)).toBe(
      s.name === 'rke2'
        ? `odp-apply-config: the etcd member of server ${host('10.10.1.12')} (10.10.1.12) is not a healthy voter (EtcdIsVoter: False): apply to one server at a time, the next once every server is Ready and the datastore healthy again; nothing changed here`
        : "odp-apply-config: the datastore does not answer this server's API server (/readyz/etcd): apply to one server at a time, the next once every server is Ready and the datastore healthy again; nothing changed here",
    );
    expect(first!.read(config)).toBe(nodeConfig(before, 'cp-1'));
    expect(starts(first!)).toBe(1);
  });

  it('a second operator on another server while a run holds the lock: refused, nothing changed, the lock left to its holder', SLOW, () => {
    world.deployBase(after);
    const [, second] = [server(0), server(1), server(2)];
    holdLease('cp-1 on bastion pid 4242', '2099-01-01T00:00:00.000000Z');
    const r = apply(second!, 'cp-2');
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines.at(-2)).toBe('odp-apply-config: another server run holds the lock (Lease kube-system/odp-apply-config: cp-1 on bastion pid 4242, until 2099-01-01T01:00:00Z): apply to one server at a time; nothing changed here');
    // When it is safe to remove a stale lock (its holder ended, or it expired), and the exact command, with this
    // server's kubeconfig (the script's own kubectl).
    const kubeconfig = s.name === 'k3s' ? '/etc/rancher/k3s/k3s.yaml' : '/etc/rancher/rke2/rke2.yaml';
    expect(lines.at(-1)).toBe(
      'odp-apply-config: the lock expires at 2099-01-01T01:00:00Z (3600 s after its holder took or last renewed it; the next run then takes it over). ' +
        'Only if that run ended without releasing it (cp-1 on bastion pid 4242 is no longer running: killed, or its host lost), delete it sooner: ' +
        `KUBECONFIG=${kubeconfig} ${s.kubectl} --request-timeout=${KUBECTL_REQUEST_TIMEOUT} -n kube-system delete lease odp-apply-config`,
    );
    expect(lines.at(-1)).toContain(' -n kube-system delete lease odp-apply-config');
    expect(second!.read(config)).toBe(nodeConfig(before, 'cp-2'));
    expect(starts(second!)).toBe(1);
    expect(leases()['odp-apply-config']!.holderIdentity).toBe('cp-1 on bastion pid 4242');
    // The printed command, run as the operator would once that run is known to be gone: the Lease is deleted and the
    // next run takes the lock, applies and releases it.
    const cmd = lines.at(-1)!.split('delete it sooner: ')[1]!;
    expect(second!.run(`#!/bin/sh\n${cmd}\n`).code).toBe(0);
    expect(leases()).toEqual({});
    const again = apply(second!, 'cp-2');
    expect(again.code, again.stderr).toBe(0);
    expect(second!.read(config)).toBe(nodeConfig(after, 'cp-2'));
    expect(leases()).toEqual({});
  });

  it('an expired lock (a run that died) is taken over with its resourceVersion, then released', SLOW, () => {
    world.deployBase(after);
    const node = server(0);
    holdLease('cp-3 on gone pid 1', '2020-01-01T00:00:00.000000Z');
    const r = apply(node, 'cp-1');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('odp-apply-config: took over the expired lock of cp-3 on gone pid 1');
    expect(node.read(config)).toBe(nodeConfig(after, 'cp-1'));
    expect(world.calls().some((c) => c.includes(' replace -f -'))).toBe(true);
    expect(leases()).toEqual({});
  });

  it('a server whose Node stays not Ready after its restart: exit 3, the exact message, the lock released', () => {
    world.deployBase(after);
    world.shortPolls(60, 3);
    const [first] = [server(0), server(1), server(2)];
    writeFileSync(join(world.dir, 'not-ready-after-start.json'), JSON.stringify([host('10.10.1.10')]));
    const r = apply(first!, 'cp-1');
    expect(r.code).toBe(3);
    expect(lastLine(r.stderr)).toBe(`odp-apply-config: server ${host('10.10.1.10')} (10.10.1.10) is not Ready 600 s after cp-1 restarted: apply to no other server until it is`);
    expect(first!.read(config)).toBe(nodeConfig(after, 'cp-1'));
    expect(starts(first!)).toBe(2);
    expect(leases()).toEqual({});
  });

  it('a server that runs workloads (no NoSchedule taint) is drained before its restart and uncordoned after; a drain a PDB blocks uncordons it and changes nothing', SLOW, () => {
    const from = render(s.file, serversSchedulable);
    const to = render(s.file, (m) => (serversSchedulable(m), changed(m)));
    expect(to.get(`${s.name}/apply-config.sh`)).toContain('DRAIN=1');
    world.deployBase(to);
    const [first, second] = [server(0, from, to), server(1, from, to), server(2, from, to)];
    const ok = apply(first!, 'cp-1');
    expect(ok.code, ok.stderr).toBe(0);
    expect(etcdJson().members[0]).toMatchObject({ drained: 1, cordoned: false });
    editMember(1, { pdbBlocks: 'web-0' });
    const blocked = apply(second!, 'cp-2');
    expect(blocked.code).toBe(1);
    expect(lastLine(blocked.stderr)).toBe(`odp-apply-config: ${host('10.10.1.11')}: not drained within 600s: a PodDisruptionBudget allows no eviction of a pod kubectl named above (kubectl get pdb -A: ALLOWED DISRUPTIONS 0), or a pod did not stop in time. The node is uncordoned, nothing changed here. Give the workload room (more replicas Ready elsewhere), or raise ODP_DRAIN_TIMEOUT, then run this again`);
    expect(etcdJson().members[1]).toMatchObject({ cordoned: false });
    expect(second!.read(config)).toBe(nodeConfig(from, 'cp-2'));
    expect(starts(second!)).toBe(1);
    expect(leases()).toEqual({});
  });

  // The restart keeps a pod no controller re-creates running (the unit's KillMode=process: lib/node-drain.ts row
  // `restart`), so the drain does not --force it away: it stops, names each pod and the command that deletes it.
  it('a server running a pod no controller re-creates: the drain stops, uncordoned, nothing changed, each pod and its delete command named', () => {
    const from = render(s.file, serversSchedulable);
    const to = render(s.file, (m) => (serversSchedulable(m), changed(m)));
    world.deployBase(to);
    const first = server(0, from, to);
    editMember(0, { barePods: ['debug/shell', 'default/probe'] });
    const r = apply(first, 'cp-1');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot delete Pods that declare no controller (use --force to override): debug/shell, default/probe');
    const me = host('10.10.1.10');
    expect(lastLine(r.stderr)).toBe(
      `odp-apply-config: ${me}: not drained: pods that no controller re-creates run on it (debug/shell, default/probe). A drain would delete them for good (kubectl refuses without --force), and this step would keep them running. The node is uncordoned, nothing changed here. Delete each that may go (kubectl delete pod -n debug shell; kubectl delete pod -n default probe), or run it under a controller (a Deployment), then run this again`,
    );
    expect(etcdJson().members[0]).toMatchObject({ cordoned: false });
    expect(first.read(config)).toBe(nodeConfig(from, 'cp-1'));
    expect(starts(first)).toBe(1);
    expect(leases()).toEqual({});
  });

  const leaseLog = (): Record<string, string>[] =>
    existsSync(join(world.dir, 'leases.log')) ? readFileSync(join(world.dir, 'leases.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>) : [];

  it('renews the lock before the write and after the restart, each a PUT with the resourceVersion it last wrote (same holder, same acquireTime)', SLOW, () => {
    world.deployBase(after);
    const node = server(0);
    const r = apply(node, 'cp-1');
    expect(r.code, r.stderr).toBe(0);
    const log = leaseLog();
    expect(log.map((l) => `${l.verb} ${l.resourceVersion}`)).toEqual(['created 1', 'replaced 2', 'replaced 3']);
    const holder = log[0]!.holderIdentity;
    expect(holder).toMatch(/^cp-1 on .+ pid \d+$/);
    for (const l of log) expect(l).toMatchObject({ holderIdentity: holder, acquireTime: log[0]!.acquireTime, leaseDurationSeconds: APPLY_LOCK.seconds });
    expect(leases()).toEqual({});
    // Every kubectl request of the run is bounded (lib/kubectl-timeout.ts): a hung API server fails a check, it does
    // not hold the lock.
    const kubectlCalls = world.calls().filter((c) => c.startsWith(`${host('10.10.1.10')} kubectl `));
    expect(kubectlCalls.length).toBeGreaterThan(5);
    for (const c of kubectlCalls) expect(c).toContain(` --request-timeout=${KUBECTL_REQUEST_TIMEOUT} `);
    // A live run is never taken over between two renewals: the duration exceeds the longest stretch between them.
    expect(APPLY_LOCK.seconds).toBeGreaterThan(APPLY_LOCK_STRETCH);
  });

  it('a run whose lock another run took over meanwhile stops before the write: nothing changed, the other run keeps it', () => {
    world.deployBase(after);
    const node = server(0);
    writeFileSync(join(world.dir, 'lease-thief.json'), JSON.stringify('cp-2 on other pid 9'));
    const r = apply(node, 'cp-1');
    expect(r.code).toBe(1);
    expect(lastLine(r.stderr)).toBe('odp-apply-config: this run lost the lock (Lease kube-system/odp-apply-config): another run holds it now (cp-2 on other pid 9): nothing changed here');
    expect(node.read(config)).toBe(nodeConfig(before, 'cp-1'));
    expect(starts(node)).toBe(1);
    expect(leases()['odp-apply-config']!.holderIdentity).toBe('cp-2 on other pid 9');
  });

  it('a renewal the API server does not answer is retried, not read as lost: the run goes on; a release it cannot make is said, with the command that makes it', SLOW, () => {
    world.deployBase(after);
    const node = server(0);
    // The Lease created; then the renewal before the write and its read back are not answered; the retry passes. At the
    // end (create, two renewals, three Lease calls later) the release's read fails: said, with the delete command.
    writeFileSync(join(world.dir, 'leases-unreachable.json'), JSON.stringify({ skip: 1, before: 2 }));
    const r = apply(node, 'cp-1');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`odp-apply-config: could not renew the lock (Lease kube-system/odp-apply-config): the API server does not answer; trying again in ${LOCK_RETRY.first} s (until `);
    expect(r.stderr).not.toContain('lost the lock');
    expect(node.read(config)).toBe(nodeConfig(after, 'cp-1'));
    expect(leases()).toEqual({});

    const second = server(1);
    writeFileSync(join(world.dir, 'leases-unreachable.json'), JSON.stringify({ skip: 3, before: 9 }));
    const kept = apply(second, 'cp-2');
    expect(kept.code, kept.stderr).toBe(0);
    const holder = leases()['odp-apply-config']!.holderIdentity;
    expect(holder).toMatch(/^cp-2 on .+ pid \d+$/);
    expect(lastLine(kept.stderr)).toMatch(
      new RegExp(
        `^odp-apply-config: could not release the lock \\(Lease kube-system/odp-apply-config, held by ${holder}\\): the API server did not answer\\. It expires at \\S+Z; to release it sooner, once the API server answers and the Lease still names this run \\(.+ -n kube-system get lease odp-apply-config -o jsonpath='\\{\\.spec\\.holderIdentity\\}'\\): .*${s.kubectl.replace(/\//g, '\\/')} --request-timeout=15s -n kube-system delete lease odp-apply-config$`,
      ),
    );
  });

  it('a run that lost the lock after its restart reads the gate (read only) and says its result before exit 3: passing, then not passing', SLOW, () => {
    world.deployBase(after);
    world.shortPolls(60, 3);
    const [first, second] = [server(0), server(1), server(2)];
    // Another run takes the Lease over once it was created and renewed before the write: the renewal after the restart fails.
    writeFileSync(join(world.dir, 'lease-thief.json'), JSON.stringify({ holder: 'cp-3 on other pid 9', afterWrites: 2 }));
    const r = apply(first!, 'cp-1');
    expect(r.code).toBe(3);
    const lost = 'odp-apply-config: this run lost the lock (Lease kube-system/odp-apply-config): another run holds it now (cp-3 on other pid 9) after cp-1 restarted';
    expect(r.stderr).toContain(`${lost}: this run changes nothing more; reading the gate (read only) before it stops`);
    expect(lastLine(r.stderr)).toBe(`${lost}; the gate passes (read only): every server Ready and the datastore healthy`);
    expect(first!.read(config)).toBe(nodeConfig(after, 'cp-1'));
    expect(starts(first!)).toBe(2);
    // The other run's Lease is left to it; the gate's reads were made after the lost renewal.
    expect(leases()['odp-apply-config']!.holderIdentity).toBe('cp-3 on other pid 9');
    const calls = world.calls().filter((c) => c.startsWith(`${host('10.10.1.10')} kubectl `));
    const lostAt = calls.findLastIndex((c) => c.includes(' replace -f -'));
    expect(calls.slice(lostAt + 1).filter((c) => c.includes('get --raw /readyz/etcd')).length).toBe(3);
    // Again on the second server, its Node not Ready after its restart: the gate's failure is said.
    writeFileSync(join(world.dir, 'leases.json'), '{}');
    writeFileSync(join(world.dir, 'leases.log'), '');
    writeFileSync(join(world.dir, 'lease-thief.json'), JSON.stringify({ holder: 'cp-3 on other pid 9', afterWrites: 2 }));
    writeFileSync(join(world.dir, 'not-ready-after-start.json'), JSON.stringify([host('10.10.1.11')]));
    const r2 = apply(second!, 'cp-2');
    expect(r2.code).toBe(3);
    expect(lastLine(r2.stderr)).toBe(
      `${lost.replace('cp-1', 'cp-2')}; the gate does not pass (read only): server ${host('10.10.1.11')} (10.10.1.11) is not Ready 600 s after cp-2 restarted: apply to no other server until it does`,
    );
    expect(leases()['odp-apply-config']!.holderIdentity).toBe('cp-3 on other pid 9');
  });

  it('the takeover boundary: a Lease renewed less than its duration ago is refused, one renewed more than that ago is taken over', SLOW, () => {
    world.deployBase(after);
    const node = server(0);
    const ago = (s: number): string => new Date(Date.now() - s * 1000).toISOString().replace(/\.\d+Z$/, '.000000Z');
    // Two minutes either side of the boundary (renewTime + leaseDurationSeconds), far more than a run's start takes.
    holdLease('cp-2 on live pid 2', ago(APPLY_LOCK.seconds - 120));
    const live = apply(node, 'cp-1');
    expect(live.code).toBe(1);
    expect(live.stderr).toContain('another server run holds the lock (Lease kube-system/odp-apply-config: cp-2 on live pid 2, until ');
    expect(starts(node)).toBe(1);
    holdLease('cp-2 on dead pid 2', ago(APPLY_LOCK.seconds + 120));
    const dead = apply(node, 'cp-1');
    expect(dead.code, dead.stderr).toBe(0);
    expect(dead.stderr).toContain('took over the expired lock of cp-2 on dead pid 2');
    expect(leaseLog()[0]).toMatchObject({ verb: 'replaced', resourceVersion: '8' });
    expect(leases()).toEqual({});
  });

  if (s.name === 'rke2')
    it('refuses while etcd has a member no Node shows (a replaced server\'s, left behind), though every Node is Ready and a voter', () => {
      world.deployBase(after);
      const [first] = [server(0), server(1), server(2)];
      const etcd = etcdJson();
      etcd.members.push({ name: 'ip-10-10-1-13.eu-west-1.compute.internal-00000009', nodeName: host('10.10.1.13'), ip: '10.10.1.13', node: false });
      writeFileSync(join(world.dir, 'etcd.json'), JSON.stringify(etcd));
      const r = apply(first!, 'cp-1');
      expect(r.code).toBe(1);
      expect(lastLine(r.stderr)).toBe(
        "odp-apply-config: etcd member ip-10-10-1-13.eu-west-1.compute.internal-00000009 (10.10.1.13) is no server of this environment (a replaced server's member left behind: remove it, replace-server.sh): apply to one server at a time, the next once every server is Ready and the datastore healthy again; nothing changed here",
      );
      expect(first!.read(config)).toBe(nodeConfig(before, 'cp-1'));
      expect(starts(first!)).toBe(1);
      expect(leases()).toEqual({});
    });

  it('refuses a parameter that is not this commit’s config (base stack not deployed yet), and the wrong node', () => {
    world.deployBase(before);
    const node = server(0);
    const r = apply(node, 'cp-1');
    expect(r.code).toBe(1);
    expect(lastLine(r.stderr)).toContain(`odp-apply-config: SSM parameter /odp/${fixtureSources('valid', s.file).name}/${s.name}/config/cp-1 does not hold the config of this script's commit`);
    expect(node.read(config)).toBe(nodeConfig(before, 'cp-1'));
    const wrong = apply(node, 'cp-2');
    expect(wrong.code).toBe(1);
    expect(lastLine(wrong.stderr)).toBe('odp-apply-config: this instance is 10.10.1.10, not cp-2 (10.10.1.11): run it as root on cp-2');
    const none = apply(node, '');
    expect(none.code).toBe(2);
  });
});

/** The K3s-on-Kine fixture with its worker pool as these fixed nodes, rendered after `change` of its model. */
function renderFixedWorkers(agents: readonly (readonly [string, string])[], change?: (m: EnvironmentModel) => void): Map<string, string> {
  const { name, sources } = fixtureSources('valid', 'k3s-postgres.yaml');
  const next = new Map(sources);
  const key = [...next.keys()].find((k) => k.endsWith(`${name}.yaml`) && !k.includes('_base'))!;
  next.set(key, next.get(key)!.replace('    count: 1\n', `    nodes:\n${agents.map(([n, ip]) => `      - { name: ${n}, ip: ${ip} }\n`).join('')}`));
  const r = prepareEnvironment(name, next);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  change?.(r.prepared.model);
  return new Map(renderEnvironment(r.prepared).map((f) => [f.path, f.content]));
}

/** A running fixed K3s agent with this config file, and the script at /root/apply-config.sh. */
function k3sAgent(world: World, hostname: string, ip: string, configFile: string, script: string): NodeBox {
  const node = world.node(hostname, ip);
  node.write('/etc/rancher/k3s/config.yaml', configFile, 0o600);
  node.write('/etc/rancher/k3s/token', 'a1b2'.repeat(16), 0o600);
  node.write('/etc/systemd/system/k3s-agent.service', '[Service]\nExecStart=/usr/local/bin/k3s agent\n');
  node.stubBinary('/usr/local/bin/k3s');
  node.stubBinary('/usr/local/bin/kubectl');
  node.write('/root/apply-config.sh', script, 0o700);
  expect(node.run('#!/bin/sh\nsystemctl start k3s-agent.service\n').code).toBe(0);
  return node;
}

/**
 * A fixed K3s agent (the K3s-on-Kine fixture with its worker pool as one fixed node): its kubelet's credentials read and
 * annotate its own Node only, so a run of the script on a server takes the lock and drains it, the run on the agent
 * applies its config and annotates its Node, and a second run on the server uncordons it and releases the lock.
 */
describe('apply-config.sh: a fixed K3s agent', () => {
  let world: World;
  afterEach(() => world.cleanup());
  const renderWith = (change?: (m: EnvironmentModel) => void): Map<string, string> => renderFixedWorkers([['wk-1', '10.10.1.20']], change);
  const AGENT = host('10.10.1.20');
  const config = '/etc/rancher/k3s/config.yaml';
  const strip = (files: Map<string, string>): string => (files.get('k3s/wk-1.yaml') ?? '').replace(/^#.*\n/gm, '');

  it('a server run takes the lock and drains it, its own run applies and annotates its Node, a second server run uncordons it and releases the lock', () => {
    world = new World();
    world.instantSleep();
    const before = renderWith();
    const after = renderWith((m) => {
      for (const p of m.pools) if (p.role === 'worker') addExtraArg(p.extension ?? (p.extension = {}), 'kubelet-arg', 'image-gc-low-threshold=71');
    });
    const script = after.get('k3s/apply-config.sh')!;
    expect(script).toContain("'wk-1') IP='10.10.1.20'; ROLE=agent; DRAIN=1;");
    world.deployBase(after);
    writeFileSync(join(world.dir, 'etcd.json'), JSON.stringify({ clusters: 1, ca: '1', kine: true, members: [...SERVERS.map(([, ip], i) => ({ name: `${host(ip)}-0000000${i}`, nodeName: host(ip), ip })), { name: 'agent', nodeName: AGENT, ip: '10.10.1.20' }] }));
    const etcd = () => JSON.parse(readFileSync(join(world.dir, 'etcd.json'), 'utf8')) as { members: Record<string, unknown>[] };
    const leases = (): Record<string, { holderIdentity: string }> => (existsSync(join(world.dir, 'leases.json')) ? JSON.parse(readFileSync(join(world.dir, 'leases.json'), 'utf8')) : {});
    const node = k3sAgent(world, AGENT, '10.10.1.20', strip(before), script);
    // A server (its admin kubeconfig: the kubectl stub), with the same script.
    const cp1 = world.node(host('10.10.1.10'), '10.10.1.10');
    cp1.stubBinary('/usr/local/bin/kubectl');
    cp1.write('/root/apply-config.sh', script, 0o700);
    const cp2 = world.node(host('10.10.1.11'), '10.10.1.11');
    cp2.stubBinary('/usr/local/bin/kubectl');
    cp2.write('/root/apply-config.sh', script, 0o700);
    const run = (box: NodeBox, name = 'wk-1') => box.run(`#!/bin/sh\nsh /root/apply-config.sh ${name}\n`);
    const starts = (): number => (JSON.parse(readFileSync(join(world.dir, 'nodes', `${AGENT}.json`), 'utf8')) as { starts: number }).starts;

    // On the agent first: refused, nothing changed.
    const refused = run(node);
    expect(refused.code).toBe(1);
    expect(lastLine(refused.stderr)).toBe(`odp-apply-config: wk-1 (Node ${AGENT}) is not cordoned: drain it first, from a server (the lock is held for it meanwhile): sh apply-config.sh wk-1 as root on a server; nothing changed here`);
    expect(node.read(config)).toBe(strip(before));
    expect(starts()).toBe(1);

    // On a server: the lock, the gate, the drain; the lock handed to the agent's run.
    const drained = run(cp1);
    expect(drained.code, drained.stderr).toBe(0);
    expect(lastLine(drained.stderr)).toMatch(
      new RegExp(`^odp-apply-config: wk-1 \\(Node ${AGENT.replace(/\./g, '\\.')}\\) drained; the lock is held for it until \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ: now as root on wk-1: sh apply-config.sh wk-1; then here again: sh apply-config.sh wk-1 \\(uncordons it and releases the lock\\)$`),
    );
    expect(etcd().members[3]).toMatchObject({ drained: 1, cordoned: true });
    expect(leases()['odp-apply-config']!.holderIdentity).toMatch(/^agent wk-1 drained for its run; by .+ pid \d+$/);
    // Meanwhile another operator's server run is refused, and so is finishing before the agent's run.
    const otherServer = run(cp2, 'cp-2');
    expect(otherServer.code).toBe(1);
    // The hand-over's own refusal, not "another run holds the lock … delete it sooner": that run ended on purpose.
    expect(otherServer.stderr).toContain('the lock (Lease kube-system/odp-apply-config) was handed over to wk-1, drained for its own run (the Lease runs until ');
    expect(otherServer.stderr).not.toContain('delete lease');
    expect(etcd().members[1]!.drained).toBeUndefined();
    const early = run(cp1);
    expect(early.code).toBe(1);
    expect(lastLine(early.stderr)).toBe(`odp-apply-config: wk-1 (Node ${AGENT}) is drained and waits for its own run: as root on wk-1: sh apply-config.sh wk-1, then on a server: sh apply-config.sh wk-1 (the lock stays with it)`);
    expect(leases()['odp-apply-config']!.holderIdentity).toMatch(/^agent wk-1 drained for its run;/);

    // On the agent: applied, restarted, its Node Ready, annotated with the config's sha256.
    const r = run(node);
    expect(r.code, r.stderr).toBe(0);
    expect(node.read(config)).toBe(strip(after));
    expect(node.read(config)).toContain('image-gc-low-threshold=71');
    expect(starts()).toBe(2);
    expect(lastLine(r.stderr)).toBe('odp-apply-config: wk-1: config applied, k3s-agent restarted, its Node Ready: finish from a server: sh apply-config.sh wk-1 as root there (uncordons it and releases the lock), then the next node may go');
    const sha = /'wk-1'\) .* SHA=([0-9a-f]{64}) ;;/.exec(script)![1];
    expect(etcd().members[3]!.annotations).toEqual({ 'odp-gitops.io/apply-config-handover': `wk-1:${sha}`, 'odp-gitops.io/apply-config-sha256': sha });

    // On a server again (another one): uncordoned, the lock released.
    const done = run(cp2);
    expect(done.code, done.stderr).toBe(0);
    expect(lastLine(done.stderr)).toBe('odp-apply-config: wk-1: config applied, its Node Ready and uncordoned, the lock released: the next node may go');
    expect(etcd().members[3]).toMatchObject({ cordoned: false });
    expect(leases()).toEqual({});
  }, 120_000);

  it('a server run for an agent is refused while another run holds the lock: nothing drained', () => {
    world = new World();
    world.instantSleep();
    const after = renderWith();
    world.deployBase(after);
    writeFileSync(join(world.dir, 'etcd.json'), JSON.stringify({ clusters: 1, ca: '1', kine: true, members: [...SERVERS.map(([, ip], i) => ({ name: `${host(ip)}-0000000${i}`, nodeName: host(ip), ip })), { name: 'agent', nodeName: AGENT, ip: '10.10.1.20' }] }));
    writeFileSync(join(world.dir, 'leases.json'), JSON.stringify({ 'odp-apply-config': { holderIdentity: 'cp-2 on bastion pid 7', leaseDurationSeconds: 3600, acquireTime: '2099-01-01T00:00:00.000000Z', renewTime: '2099-01-01T00:00:00.000000Z', resourceVersion: '3' } }));
    const cp1 = world.node(host('10.10.1.10'), '10.10.1.10');
    cp1.stubBinary('/usr/local/bin/kubectl');
    cp1.write('/root/apply-config.sh', after.get('k3s/apply-config.sh')!, 0o700);
    const r = cp1.run('#!/bin/sh\nsh /root/apply-config.sh wk-1\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('another server run holds the lock (Lease kube-system/odp-apply-config: cp-2 on bastion pid 7, until 2099-01-01T01:00:00Z)');
    const etcd = JSON.parse(readFileSync(join(world.dir, 'etcd.json'), 'utf8')) as { members: Record<string, unknown>[] };
    expect(etcd.members[3]!.cordoned).toBeUndefined();
    expect(world.calls().some((c) => c.includes(' drain '))).toBe(false);
  });
});

/**
 * The hand-over in motion (two fixed K3s agents): the server run that drained an agent marks its Node (annotation
 * odp-gitops.io/apply-config-handover = <node>:<config sha256>) and names it on the Lease (odp-gitops.io/handed-over-to).
 * Neither an expired Lease nor a deleted one lets another node go while the agent stays cordoned; the finish needs the
 * agent's run of this config after the hand-over; ODP_ABANDON_HANDOVER ends it without that run, once its Node is Ready.
 */
describe('apply-config.sh: a hand-over in motion (two fixed K3s agents)', () => {
  let world: World;
  afterEach(() => world.cleanup());
  const AGENTS = [
    ['wk-1', '10.10.1.20'],
    ['wk-2', '10.10.1.21'],
  ] as const;
  /** The rendered tree with the workers' kubelet argument `image-gc-low-threshold=<gc>` (none: the fixture's). */
  const renderWith = (gc?: number): Map<string, string> =>
    renderFixedWorkers(AGENTS, (m) => {
      if (gc !== undefined) for (const p of m.pools) if (p.role === 'worker') addExtraArg(p.extension ?? (p.extension = {}), 'kubelet-arg', `image-gc-low-threshold=${gc}`);
    });
  const config = '/etc/rancher/k3s/config.yaml';
  const strip = (files: Map<string, string>, node: string): string => (files.get(`k3s/${node}.yaml`) ?? '').replace(/^#.*\n/gm, '');
  const shaOf = (script: string, node: string): string => new RegExp(`'${node}'\\) .* SHA=([0-9a-f]{64}) ;;`).exec(script)![1]!;
  const HANDOVER = 'odp-gitops.io/apply-config-handover';
  const APPLIED = 'odp-gitops.io/apply-config-sha256';

  function setup(before: Map<string, string>, after: Map<string, string>) {
    world = new World();
    world.instantSleep();
    world.deployBase(after);
    const script = after.get('k3s/apply-config.sh')!;
    writeFileSync(
      join(world.dir, 'etcd.json'),
      JSON.stringify({ clusters: 1, ca: '1', kine: true, members: [...SERVERS.map(([, ip], i) => ({ name: `${host(ip)}-0000000${i}`, nodeName: host(ip), ip })), ...AGENTS.map(([n, ip]) => ({ name: n, nodeName: host(ip), ip }))] }),
    );
    const agents = AGENTS.map(([n, ip]) => {
      return k3sAgent(world, host(ip), ip, strip(before, n), script);
    });
    const servers = SERVERS.slice(0, 2).map(([, ip]) => {
      const box = world.node(host(ip), ip);
      box.stubBinary('/usr/local/bin/kubectl');
      box.write('/root/apply-config.sh', script, 0o700);
      return box;
    });
    return { agents, servers, script };
  }
  const run = (box: NodeBox, name: string, env = '', script = '/root/apply-config.sh') => box.run(`#!/bin/sh\n${env}sh ${script} ${name}\n`);
  const member = (i: number): Record<string, unknown> => (JSON.parse(readFileSync(join(world.dir, 'etcd.json'), 'utf8')) as { members: Record<string, unknown>[] }).members[3 + i]!;
  const editMember = (i: number, v: Record<string, unknown>): void => {
    const etcd = JSON.parse(readFileSync(join(world.dir, 'etcd.json'), 'utf8')) as { members: Record<string, unknown>[] };
    Object.assign(etcd.members[3 + i]!, v);
    writeFileSync(join(world.dir, 'etcd.json'), JSON.stringify(etcd));
  };
  const leases = (): Record<string, { holderIdentity: string; renewTime: string; annotations?: Record<string, string> }> =>
    existsSync(join(world.dir, 'leases.json')) ? JSON.parse(readFileSync(join(world.dir, 'leases.json'), 'utf8')) : {};
  const starts = (i: number): number => (JSON.parse(readFileSync(join(world.dir, 'nodes', `${host(AGENTS[i]![1])}.json`), 'utf8')) as { starts: number }).starts;
  const A1 = host('10.10.1.20');

  it('an expired hand-over, then a deleted one: no other agent is drained while wk-1 stays cordoned; ODP_ABANDON_HANDOVER uncordons it once its Node is Ready', () => {
    const before = renderWith();
    const after = renderWith(71);
    const { agents, servers, script } = setup(before, after);
    const [cp1, cp2] = servers as [NodeBox, NodeBox];
    const drained = run(cp1, 'wk-1');
    expect(drained.code, drained.stderr).toBe(0);
    expect(member(0)).toMatchObject({ cordoned: true, annotations: { [HANDOVER]: `wk-1:${shaOf(script, 'wk-1')}` } });
    expect(leases()['odp-apply-config']!.annotations).toEqual({ 'odp-gitops.io/handed-over-to': 'wk-1' });

    // The Lease expires (the agent's run never came): another run does not take it over; it names wk-1 and both ways out.
    const lease = leases();
    lease['odp-apply-config']!.renewTime = '2020-01-01T00:00:00.000000Z';
    writeFileSync(join(world.dir, 'leases.json'), JSON.stringify(lease));
    const ways = 'Finish it (as root on wk-1: sh apply-config.sh wk-1, then on a server: sh apply-config.sh wk-1), or abandon it (on a server: ODP_ABANDON_HANDOVER=wk-1 sh apply-config.sh wk-1: uncordons it once its Node is Ready); nothing changed here';
    const expired = run(cp2, 'wk-2');
    expect(expired.code).toBe(1);
    expect(lastLine(expired.stderr)).toBe(
      `odp-apply-config: the lock (Lease kube-system/odp-apply-config) was handed over to wk-1, drained for its own run (the Lease runs until 2020-01-01T01:00:00Z and is never taken over, even expired): wk-1 stays cordoned until that hand-over ends, and no other node goes before. ${ways}`,
    );
    expect(member(1).cordoned).toBeUndefined();
    expect(leases()['odp-apply-config']!.holderIdentity).toMatch(/^agent wk-1 drained for its run; by /);

    // The Lease deleted by hand (the refusal of a live lock prints that command): wk-1's Node still stops the next run.
    writeFileSync(join(world.dir, 'leases.json'), '{}');
    const deleted = run(cp2, 'wk-2');
    expect(deleted.code).toBe(1);
    expect(lastLine(deleted.stderr)).toBe(
      `odp-apply-config: wk-1 (Node ${A1}) is cordoned by a hand-over (its Node's annotation ${HANDOVER}): drained for its own run, not finished; no other node goes before it ends. ${ways}`,
    );
    expect(member(1).cordoned).toBeUndefined();
    expect(world.calls().some((c) => c.includes(` drain ${host('10.10.1.21')}`))).toBe(false);
    expect(leases()).toEqual({});

    // Abandon: named for another node (usage), on the agent itself (usage), its Node not Ready (refused: stays cordoned).
    expect(run(cp1, 'wk-1', 'ODP_ABANDON_HANDOVER=wk-2 ').code).toBe(2);
    expect(run(agents[0]!, 'wk-1', 'ODP_ABANDON_HANDOVER=wk-1 ').code).toBe(2);
    editMember(0, { notReady: true });
    const notReady = run(cp1, 'wk-1', 'ODP_ABANDON_HANDOVER=wk-1 ');
    expect(notReady.code).toBe(1);
    expect(lastLine(notReady.stderr)).toBe(`odp-apply-config: wk-1 (Node ${A1}) is not Ready: it stays cordoned (pods scheduled on it would not start) and the hand-over stays; find why (journalctl -u k3s-agent on it), then abandon again; nothing changed here`);
    expect(member(0)).toMatchObject({ cordoned: true, annotations: { [HANDOVER]: `wk-1:${shaOf(script, 'wk-1')}` } });
    editMember(0, { notReady: false });
    const abandoned = run(cp1, 'wk-1', 'ODP_ABANDON_HANDOVER=wk-1 ');
    expect(abandoned.code, abandoned.stderr).toBe(0);
    expect(lastLine(abandoned.stderr)).toBe(
      `odp-apply-config: wk-1 (Node ${A1}): hand-over abandoned, its Node Ready and uncordoned, the lock released; its own run did not apply this config: it runs its previous one; apply it again later (sh apply-config.sh wk-1 on a server, then as root on wk-1: sh apply-config.sh wk-1, then on a server: sh apply-config.sh wk-1)`,
    );
    expect(member(0).cordoned).toBe(false);
    expect(member(0).annotations).toEqual({});
    expect(leases()).toEqual({});
    expect(agents[0]!.read(config)).toBe(strip(before, 'wk-1'));
    expect(starts(0)).toBe(1);
    // Now the next agent may go.
    const next = run(cp2, 'wk-2');
    expect(next.code, next.stderr).toBe(0);
    expect(member(1)).toMatchObject({ cordoned: true, annotations: { [HANDOVER]: `wk-2:${shaOf(script, 'wk-2')}` } });
  }, 180_000);

  it('an agent a new config broke: ODP_ROLLBACK=<agent> on it puts its previous config back and restarts it, without the API; a server run then abandons the hand-over', () => {
    const before = renderWith();
    const after = renderWith(71);
    const { agents, servers, script } = setup(before, after);
    const [cp1] = servers as [NodeBox, NodeBox];
    // The agent's waits for its Node Ready bounded at 3 polls (its script written again with the bound rewritten).
    world.shortPolls(60, 3);
    agents[0]!.write('/root/apply-config.sh', script, 0o700);
    // The new setting keeps wk-1's kubelet from reporting Ready; its previous config does not.
    writeFileSync(join(world.dir, 'not-ready-after-start.json'), JSON.stringify([{ host: A1, config: 'image-gc-low-threshold=71' }]));
    // No previous config kept yet on wk-2 (never replaced by this script); a server or another agent named: usage.
    const none = run(agents[1]!, 'wk-2', 'ODP_ROLLBACK=wk-2 ');
    expect(none.code).toBe(1);
    expect(lastLine(none.stderr)).toBe(`odp-apply-config: wk-2 has no previous config (no ${config}.previous: this script never replaced its config here): nothing to roll back to; nothing changed here`);
    expect(run(cp1, 'cp-1', 'ODP_ROLLBACK=cp-1 ').code).toBe(2);
    expect(run(agents[0]!, 'wk-1', 'ODP_ROLLBACK=wk-2 ').code).toBe(2);

    expect(run(cp1, 'wk-1').code).toBe(0);
    const broken = run(agents[0]!, 'wk-1');
    expect(broken.code).toBe(3);
    expect(agents[0]!.read(config)).toBe(strip(after, 'wk-1'));
    expect(agents[0]!.read(`${config}.previous`)).toBe(strip(before, 'wk-1'));
    expect(member(0).notReady).toBe(true);

    const asked = (): number => world.calls().filter((c) => c.startsWith(`${A1} aws ssm`) || (c.startsWith(`${A1} kubectl`) && c.includes(' lease '))).length;
    const askedBefore = asked();
    const back = run(agents[0]!, 'wk-1', 'ODP_ROLLBACK=wk-1 ');
    expect(back.code, back.stderr).toBe(0);
    expect(lastLine(back.stderr)).toBe(
      'odp-apply-config: wk-1: its previous config back, k3s-agent restarted, its Node Ready; it stays cordoned while a hand-over marks it: on a server, ODP_ABANDON_HANDOVER=wk-1 sh apply-config.sh wk-1 uncordons it and releases the lock; then fix the config, merge, deploy the base stack and apply again',
    );
    expect(agents[0]!.read(config)).toBe(strip(before, 'wk-1'));
    expect(starts(0)).toBe(3);
    expect(member(0).notReady).toBe(false);
    // Neither SSM nor the Lease was asked; the agent's Node not annotated as applied.
    expect(asked()).toBe(askedBefore);
    expect(member(0).annotations).toEqual({ [HANDOVER]: `wk-1:${shaOf(after.get('k3s/apply-config.sh')!, 'wk-1')}` });

    const abandoned = run(cp1, 'wk-1', 'ODP_ABANDON_HANDOVER=wk-1 ');
    expect(abandoned.code, abandoned.stderr).toBe(0);
    expect(lastLine(abandoned.stderr)).toContain('odp-apply-config: wk-1 (Node ' + A1 + '): hand-over abandoned, its Node Ready and uncordoned, the lock released; its own run did not apply this config: it runs its previous one');
    expect(member(0).cordoned).toBe(false);
    expect(leases()).toEqual({});
  }, 180_000);

  it("the finish needs the agent's run of the config handed over for: an earlier annotation does not count, nor a script of another commit (agent's or finisher's)", () => {
    const before = renderWith();
    const after = renderWith(71);
    const other = renderWith(72);
    const { agents, servers, script } = setup(before, after);
    const [cp1, cp2] = servers as [NodeBox, NodeBox];
    const sha = shaOf(script, 'wk-1');
    const otherSha = shaOf(other.get('k3s/apply-config.sh')!, 'wk-1');
    expect(otherSha).not.toBe(sha);
    // An annotation an earlier run left (this config, applied once): removed by the hand-over.
    editMember(0, { annotations: { [APPLIED]: sha } });
    expect(run(cp1, 'wk-1').code).toBe(0);
    expect(member(0).annotations).toEqual({ [HANDOVER]: `wk-1:${sha}` });
    const early = run(cp1, 'wk-1');
    expect(early.code).toBe(1);
    expect(lastLine(early.stderr)).toBe(`odp-apply-config: wk-1 (Node ${A1}) is drained and waits for its own run: as root on wk-1: sh apply-config.sh wk-1, then on a server: sh apply-config.sh wk-1 (the lock stays with it)`);
    expect(member(0).cordoned).toBe(true);

    // The agent's run with another commit's script: refused, nothing written.
    agents[0]!.write('/root/other.sh', other.get('k3s/apply-config.sh')!, 0o700);
    world.deployBase(other);
    const wrongAgent = run(agents[0]!, 'wk-1', '', '/root/other.sh');
    expect(wrongAgent.code).toBe(1);
    expect(lastLine(wrongAgent.stderr)).toBe(`odp-apply-config: wk-1 (Node ${A1}) was handed over for the config ${sha}, by a script of another commit; this script's is ${otherSha}: run the script of the commit the server ran; nothing changed here`);
    expect(agents[0]!.read(config)).toBe(strip(before, 'wk-1'));
    expect(starts(0)).toBe(1);

    // Its run of this commit's: applied and annotated. A finisher with another commit's script: refused, still cordoned.
    world.deployBase(after);
    const applied = run(agents[0]!, 'wk-1');
    expect(applied.code, applied.stderr).toBe(0);
    expect(member(0).annotations).toEqual({ [HANDOVER]: `wk-1:${sha}`, [APPLIED]: sha });
    cp2.write('/root/other.sh', other.get('k3s/apply-config.sh')!, 0o700);
    const wrongFinisher = run(cp2, 'wk-1', '', '/root/other.sh');
    expect(wrongFinisher.code).toBe(1);
    expect(lastLine(wrongFinisher.stderr)).toBe(
      `odp-apply-config: wk-1 (Node ${A1}) was handed over for the config ${sha}, by a script of another commit; this script's is ${otherSha}: finish with the script that drained it, or abandon the hand-over (ODP_ABANDON_HANDOVER=wk-1 sh apply-config.sh wk-1); nothing changed here`,
    );
    expect(member(0).cordoned).toBe(true);
    expect(leases()['odp-apply-config']!.holderIdentity).toMatch(/^agent wk-1 drained for its run; by /);
    const done = run(cp2, 'wk-1');
    expect(done.code, done.stderr).toBe(0);
    expect(lastLine(done.stderr)).toBe('odp-apply-config: wk-1: config applied, its Node Ready and uncordoned, the lock released: the next node may go');
    expect(member(0)).toMatchObject({ cordoned: false, annotations: { [APPLIED]: sha } });
    expect(leases()).toEqual({});
  }, 180_000);
});
