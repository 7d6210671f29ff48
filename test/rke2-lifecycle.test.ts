/**
 * RKE2 servers on embedded etcd in motion: the rendered user data booted on simulated nodes
 * (test/support/node-sandbox.ts) with an upstream-faithful install.sh and an etcd that refuses a
 * duplicate member name (the supervisor's pkg/etcd/etcd.go join(): "duplicate node name found") and
 * starts a NEW cluster when a server has neither etcd data nor a join URL. Invariants: one etcd
 * cluster whatever is replaced, every joining node verifies the CA (K10 token), and the replacement
 * of the first server joins the running cluster once the runbook removed its old member.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { ec2Host as host, RKE2_ETCD_SERVERS as SERVERS, rke2EtcdWorld } from './support/rke2-etcd-world.js';
import type { World } from './support/node-sandbox.js';
import { SERVICE_READY_SECONDS } from '../generators/distributions/rancher/boot.js';

describe('RKE2 on embedded etcd: bootstrap, join, replace the first server', () => {
  let world: World;
  let files: Map<string, string>;
  let done: () => void;
  beforeEach(() => {
    ({ world, files, done } = rke2EtcdWorld());
  });
  afterEach(() => done());

  const boot = (name: keyof typeof SERVERS) => world.node(host(SERVERS[name]), SERVERS[name]).boot(files.get(`rke2/userdata/${name}.yaml`)!);

  it('CIS kernel parameters: /etc/sysctl.conf (read last by sysctl --system) overriding the CIS file stops the boot and is named', () => {
    const node = world.node(host(SERVERS['cp-1']), SERVERS['cp-1']);
    node.write('/etc/sysctl.conf', 'kernel.panic_on_oops = 0\n');
    const r = node.boot(files.get('rke2/userdata/cp-1.yaml')!);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('odp-rke2-boot: kernel parameter kernel.panic_on_oops is 0, not 1: /etc/sysctl.conf overrides /etc/sysctl.d/60-rke2-cis.conf');
    // Asserted before anything is downloaded or installed: the last thing the node ran was the check.
    expect(world.calls().at(-1)).toBe(`${host(SERVERS['cp-1'])} sysctl -n kernel.panic_on_oops`);
  });

  it('the first server\'s bootstrap start fails: the re-run of its boot, joining the server that came up meanwhile, removes the bootstrap drop-in', () => {
    const node = world.node(host(SERVERS['cp-1']), SERVERS['cp-1']);
    const dropIn = '/etc/rancher/rke2/config.yaml.d/20-bootstrap.yaml';
    // A start that fails once (a unit drop-in whose ExecStartPre fails: the stub runs it as systemd does).
    node.write('/root/fails.sh', '#!/bin/sh\necho "cannot start this time" >&2\nexit 1\n', 0o755);
    node.write('/etc/systemd/system/rke2-server.service.d/99-fails.conf', '[Service]\nExecStartPre=/root/fails.sh\n');
    const first = node.boot(files.get('rke2/userdata/cp-1.yaml')!);
    expect(first.code).toBe(1);
    expect(first.stderr).toContain('no cluster yet: bootstrapping etcd');
    expect(first.stderr).toContain('odp-rke2-boot: systemctl start of rke2-server.service failed (exit 1)');
    // The boot stopped before its removal of the drop-in: RKE2 retries with it.
    expect(node.read(dropIn)).toBe('server: ""\n');
    // The cause gone, systemd's next restart bootstraps etcd with the drop-in.
    rmSync(node.path('/etc/systemd/system/rke2-server.service.d/99-fails.conf'));
    expect(node.run('#!/bin/sh\nsystemctl start rke2-server.service\n').code).toBe(0);
    expect(world.etcd()).toMatchObject({ clusters: 1 });
    // The boot run again: a server answers (this one), so it joins, removes the drop-in and publishes the secure tokens.
    const again = node.run('/usr/local/sbin/odp-rke2-boot');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('a server answers at https://api.fixture.internal:9345: joining');
    expect(node.exists(dropIn)).toBe(false);
    expect(world.etcd()).toMatchObject({ clusters: 1 });
    expect(world.ssm('/odp/rke2-etcd/rke2/token')).toMatch(/^K10/);
  });

  it('every server config joins through the supervisor, the first one\'s too', () => {
    for (const name of Object.keys(SERVERS)) expect(files.get(`rke2/${name}.yaml`)).toContain('\nserver: https://api.fixture.internal:9345\n');
  });

  it('one cluster: the first server bootstraps, publishes the secure tokens, the others join verifying the CA; its replacement joins after the runbook', () => {
    const first = boot('cp-1');
    expect(first.stderr).toContain('no cluster yet: bootstrapping etcd');
    expect(first.code).toBe(0);
    // The secure tokens replace the short ones, with the parameter's KMS key.
    expect(world.ssm('/odp/rke2-etcd/rke2/token')).toMatch(/^K10[0-9a-f]{64}::server:short-server-token\n?$/);
    expect(world.ssm('/odp/rke2-etcd/rke2/agent-token')).toMatch(/^K10[0-9a-f]{64}::node:short-agent-token\n?$/);
    expect(world.ssmKey('/odp/rke2-etcd/rke2/token')).toBe('alias/odp-test');
    // The bootstrap drop-in is gone: later starts follow config.yaml's server: (ignored once etcd data exists).
    expect(world.node(host(SERVERS['cp-1']), SERVERS['cp-1']).exists('/etc/rancher/rke2/config.yaml.d/20-bootstrap.yaml')).toBe(false);

    for (const name of ['cp-2', 'cp-3'] as const) {
      const r = boot(name);
      expect(r.code, r.stderr).toBe(0);
      expect(world.nodeState(host(SERVERS[name]))).toMatchObject({ caVerified: true, nodeName: host(SERVERS[name]) });
    }
    expect(world.etcd()).toMatchObject({ clusters: 1 });
    expect(world.etcd().members.map((m) => m.nodeName)).toStrictEqual(Object.values(SERVERS).map(host));

    // cp-1's instance is terminated; its replacement has a fresh disk and the same user data and name.
    const cp1 = world.node(host(SERVERS['cp-1']), SERVERS['cp-1']);
    rmSync(cp1.root, { recursive: true, force: true });
    const early = boot('cp-1');
    // Without the runbook's first step etcd refuses the name (and no second cluster is started).
    expect(early.code).not.toBe(0);
    expect(early.stderr).toContain('duplicate node name found');
    expect(world.etcd()).toMatchObject({ clusters: 1 });

    const runbook = world.runScript(files.get('rke2/replace-server.sh')!.replace('#!/bin/sh\n', '#!/bin/sh\nset -- cp-1\n'));
    expect(runbook.stderr).toContain('launch the replacement of cp-1 now');
    expect(runbook.code).toBe(0);
    expect(world.etcd().members.map((m) => m.nodeName)).not.toContain(host(SERVERS['cp-1']));

    rmSync(cp1.root, { recursive: true, force: true });
    const replaced = boot('cp-1');
    expect(replaced.stderr).toContain('a cluster exists (secure token in SSM): joining');
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(world.etcd()).toMatchObject({ clusters: 1 });
    expect(world.etcd().members.map((m) => m.nodeName).sort()).toStrictEqual(Object.values(SERVERS).map(host).sort());
    expect(world.nodeState(host(SERVERS['cp-1']))).toMatchObject({ caVerified: true });
  }, 400_000);

  // replace-server.sh asks etcd itself (runbooks.ts): a Node gone while its member stays (deleted by hand, or by the
  // cloud controller for the terminated instance) is no success until the member is removed through etcdctl in a
  // running etcd static pod of another server (the stub answers as etcdctl does: hex JSON member list, member remove).
  const members = (list: { name: string; ip: string; node?: boolean; down?: boolean; phase?: string }[]) =>
    world.runScript(`cat > "$WORLD/etcd.json" <<'EOF'\n${JSON.stringify({ clusters: 1, ca: '1', members: list.map((m) => ({ ...m, nodeName: host(m.ip) })) })}\nEOF\n`);
  const replace = (server: string) => world.runScript(files.get('rke2/replace-server.sh')!.replace('#!/bin/sh\n', `#!/bin/sh\nset -- ${server}\n`));
  it('replace-server.sh: the Node gone, its etcd member left behind: the member is removed through etcdctl before it reports success', () => {
    members([{ name: 'cp1-aaaa', ip: SERVERS['cp-1'], node: false }, { name: 'cp2-bbbb', ip: SERVERS['cp-2'] }, { name: 'cp3-cccc', ip: SERVERS['cp-3'] }]);
    const r = replace('cp-1');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`odp-replace-server: no node has address ${SERVERS['cp-1']}: checking etcd for a member left behind`);
    expect(r.stderr).toMatch(new RegExp(`odp-replace-server: etcd member [0-9a-f]+ still has the address ${SERVERS['cp-1'].replace(/\./g, '\\.')}: removing it`));
    expect(r.stderr).toMatch(/Member [0-9a-f]+ removed from cluster cdf818194e3a8c32/);
    expect(r.stderr).toContain('launch the replacement of cp-1 now');
    expect(world.etcd().members.map((m) => m.name)).toStrictEqual(['cp2-bbbb', 'cp3-cccc']);
    // Run again: nothing is left, nothing is removed, still success.
    const again = replace('cp-1');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toContain('removing it');
    expect(world.etcd().members).toHaveLength(2);
  });

  it('replace-server.sh: no member, or the Node present (the controller removes its member), succeeds; no running etcd pod elsewhere stops it', () => {
    members([{ name: 'cp2-bbbb', ip: SERVERS['cp-2'] }, { name: 'cp3-cccc', ip: SERVERS['cp-3'] }]);
    const none = replace('cp-1');
    expect(none.code, none.stderr).toBe(0);
    expect(none.stderr).not.toContain('removing it');
    // The Node present: the annotation's controller removes the member, the etcd check finds none left.
    members([{ name: 'cp1-aaaa', ip: SERVERS['cp-1'] }, { name: 'cp2-bbbb', ip: SERVERS['cp-2'] }, { name: 'cp3-cccc', ip: SERVERS['cp-3'] }]);
    const annotated = replace('cp-1');
    expect(annotated.code, annotated.stderr).toBe(0);
    expect(annotated.stderr).toContain(`removing the etcd member of ${host(SERVERS['cp-1'])}`);
    expect(world.etcd().members.map((m) => m.name)).toStrictEqual(['cp2-bbbb', 'cp3-cccc']);
    // Only the replaced server's etcd pod (the others' Nodes gone): no other server to ask, no success.
    members([{ name: 'cp1-aaaa', ip: SERVERS['cp-1'], node: false }, { name: 'cp2-bbbb', ip: SERVERS['cp-2'], node: false }]);
    const alone = replace('cp-1');
    expect(alone.code).toBe(1);
    expect(alone.stderr).toContain('no running etcd pod on another server: cannot check the etcd members');
    expect(alone.stderr).not.toContain('launch the replacement');
  });

  it('replace-server.sh: the first running etcd pod on another server does not answer: the next one is asked; none answering stops it', () => {
    const cp = (n: 1 | 2 | 3) => host(SERVERS[`cp-${n}`]);
    // cp-1's Node gone and its member left behind; cp-2's etcd pod runs but its etcd does not answer (restarting).
    members([{ name: 'cp1-aaaa', ip: SERVERS['cp-1'], node: false }, { name: 'cp2-bbbb', ip: SERVERS['cp-2'], down: true }, { name: 'cp3-cccc', ip: SERVERS['cp-3'] }]);
    const r = replace('cp-1');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`odp-replace-server: etcdctl member list failed in etcd-${cp(2)}: asking the next running etcd pod`);
    expect(r.stderr).toMatch(/Member [0-9a-f]+ removed from cluster cdf818194e3a8c32/);
    expect(r.stderr).toContain('launch the replacement of cp-1 now');
    expect(world.etcd().members.map((m) => m.name)).toStrictEqual(['cp2-bbbb', 'cp3-cccc']);
    // The removal went through the pod that answered, cp-3's.
    expect(world.calls().filter((c) => c.includes(' member remove ')).every((c) => c.includes(`exec etcd-${cp(3)} `))).toBe(true);
    expect(world.calls().some((c) => c.includes(' member remove '))).toBe(true);

    // cp-2's etcd pod not Running (its static pod being replaced): never asked, cp-3's answers.
    members([{ name: 'cp1-aaaa', ip: SERVERS['cp-1'], node: false }, { name: 'cp2-bbbb', ip: SERVERS['cp-2'], phase: 'Pending' }, { name: 'cp3-cccc', ip: SERVERS['cp-3'] }]);
    const pending = replace('cp-1');
    expect(pending.code, pending.stderr).toBe(0);
    expect(pending.stderr).not.toContain(`failed in etcd-${cp(2)}`);
    expect(world.etcd().members.map((m) => m.name)).toStrictEqual(['cp2-bbbb', 'cp3-cccc']);

    // No other pod answers (cp-2's etcd down, cp-3's pod not Running): no success, and nothing removed.
    members([{ name: 'cp1-aaaa', ip: SERVERS['cp-1'], node: false }, { name: 'cp2-bbbb', ip: SERVERS['cp-2'], down: true }, { name: 'cp3-cccc', ip: SERVERS['cp-3'], phase: 'Pending' }]);
    const none = replace('cp-1');
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`odp-replace-server: etcdctl member list failed in etcd-${cp(2)}: asking the next running etcd pod`);
    expect(none.stderr).toContain(`odp-replace-server: no running etcd pod on another server answered (tried: etcd-${cp(2)}): is a majority of the servers up?`);
    expect(none.stderr).not.toContain('launch the replacement');
    expect(world.etcd().members).toHaveLength(3);
  });

  it('a server joining while nothing answers at the supervisor URL: the start is bounded and the boot stops naming the servers it joins through (it waited for ever in systemctl enable --now)', () => {
    expect(boot('cp-1').code).toBe(0);
    world.endpoint(false);
    world.shortStarts(2);
    const r = boot('cp-2');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('server is not ready');
    expect(r.stderr.trim().split('\n').at(-1)).toBe(
      `odp-rke2-boot: rke2-server is not ready (${SERVICE_READY_SECONDS} s): see journalctl -u rke2-server.service; it exits until it joins the cluster: the servers behind https://api.fixture.internal:9345 unreachable from this node (the API endpoint's load balancer, its security groups), their etcd not taking a new member, or the server token in /odp/rke2-etcd/rke2/token not theirs: journalctl -u rke2-server. systemd keeps restarting it; once the cause is fixed, run /usr/local/sbin/odp-rke2-boot again`,
    );
    // Watched in 60 s windows of one start job up to the bound (nothing in the journal names a refused token).
    expect(world.calls().filter((c) => c === `${host(SERVERS['cp-2'])} timeout 60 systemctl start rke2-server.service`)).toHaveLength(2);
    // Once the endpoint answers, running the boot script again finishes the boot.
    world.endpoint(true);
    const again = world.node(host(SERVERS['cp-2']), SERVERS['cp-2']).run('/usr/local/sbin/odp-rke2-boot');
    expect(again.code, again.stderr).toBe(0);
    expect(world.etcd().members).toHaveLength(2);
  });

  it('a server joining with a server token the servers refuse (HTTP 401 on server-bootstrap): the watched start ends after its first window, not after the bound, and says so', () => {
    expect(boot('cp-1').code).toBe(0);
    // The servers hold the password of the first boot; the parameter now holds another (the CA hash right: a wrong value
    // written by hand, or a rotation the others have not followed).
    world.clusterServerToken('short-server-token');
    const secure = world.ssm('/odp/rke2-etcd/rke2/token')!;
    world.ssm('/odp/rke2-etcd/rke2/token', secure.replace(/::server:.*$/s, '::server:not-the-cluster-password'));
    const r = boot('cp-2');
    expect(r.code).toBe(1);
    // What the joiner logs (k3s-io/k3s pkg/cluster/bootstrap.go httpBootstrap; the line of k3s-io/k3s#2463).
    expect(r.stderr).toContain('failed to bootstrap cluster data: https://api.fixture.internal:9345/v1-rke2/server-bootstrap: 401 Unauthorized');
    expect(r.stderr.trim().split('\n').at(-1)).toBe(
      `odp-rke2-boot: rke2-server is not ready (${SERVICE_READY_SECONDS} s): its journal says the servers refuse the server token (401); it exits until it joins the cluster: the servers behind https://api.fixture.internal:9345 unreachable from this node (the API endpoint's load balancer, its security groups), their etcd not taking a new member, or the server token in /odp/rke2-etcd/rke2/token not theirs: journalctl -u rke2-server. systemd keeps restarting it; once the cause is fixed, run /usr/local/sbin/odp-rke2-boot again`,
    );
    // The rendered bound is 15 windows (no shortStarts here): the refusal ended it in one.
    expect(files.get('rke2/userdata/cp-2.yaml')).toContain(`start_watched rke2-server.service ${SERVICE_READY_SECONDS / 60} || rc=$?`);
    expect(world.calls().filter((c) => c === `${host(SERVERS['cp-2'])} timeout 60 systemctl start rke2-server.service`)).toHaveLength(1);
    expect(world.etcd().members).toHaveLength(1);
  });

  it('the first server replaced while SSM still holds the short token (publishing failed) joins the server that answers', () => {
    // A running cluster of cp-2 and cp-3 behind the endpoint; the SSM token was never replaced.
    world.runScript(`cat > "$WORLD/etcd.json" <<'EOF'\n${JSON.stringify({ clusters: 1, ca: '1', members: [{ name: 'm2', nodeName: host(SERVERS['cp-2']), ip: SERVERS['cp-2'] }, { name: 'm3', nodeName: host(SERVERS['cp-3']), ip: SERVERS['cp-3'] }] })}\nEOF\n`);
    const r = boot('cp-1');
    expect(r.stderr).toContain('a server answers at https://api.fixture.internal:9345: joining');
    expect(r.code, r.stderr).toBe(0);
    expect(world.etcd()).toMatchObject({ clusters: 1 });
    expect(world.etcd().members).toHaveLength(3);
  }, 120_000);
});
