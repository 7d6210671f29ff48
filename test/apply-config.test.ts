/**
 * The runbook's way of a settings change to a running fixed node (rendered/<env>/<k3s|rke2>/apply-config.sh,
 * generators/distributions/rancher/apply-config.ts), executed on simulated servers (test/support/node-sandbox.ts): the
 * merge changed the node's base-stack config parameter only (no instance stopped: ./aws-node-config.test.ts); the script
 * writes the parameter's value to config.yaml and restarts the service, one server at a time: it refuses while a server
 * is not Ready, and says the next may go only once every server is Ready again.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EnvironmentModel } from '../generators/model/types.js';
import { addExtraArg, fixtureSources, renderValidFixture } from './helpers.js';
import { World, type NodeBox } from './support/node-sandbox.js';

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

  /** A running server as its first boot left it, with the config of `before`. */
  function server(i: number): NodeBox {
    const [name, ip] = SERVERS[i]!;
    const node = world.node(host(ip), ip);
    node.write(config, nodeConfig(before, name), 0o600);
    node.write(`/etc/rancher/${s.name}/token`, 'a1b2'.repeat(16), 0o600);
    node.write(s.unitPath, `[Service]\nExecStart=/usr/local/bin/${s.name} server\n`);
    if (s.name === 'rke2') node.write('/var/lib/rancher/rke2/server/db/etcd/name', `${host(ip)}-0000000${i}`);
    node.stubBinary(`/usr/local/bin/${s.name}`);
    node.stubBinary(s.kubectl);
    node.write('/root/apply-config.sh', after.get(`${s.name}/apply-config.sh`)!, 0o700);
    expect(node.run(`#!/bin/sh\nsystemctl start ${s.unit}.service\n`).code).toBe(0);
    return node;
  }
  const apply = (node: NodeBox, name: string) => node.run(`#!/bin/sh\nsh /root/apply-config.sh ${name}\n`);
  const starts = (node: NodeBox): number => (JSON.parse(readFileSync(join(world.dir, 'nodes', `${node.hostname}.json`), 'utf8')) as { starts: number }).starts;

  it('after the base stack update, each server in turn: the new config, a restart, every server Ready before the next; again: nothing to do', () => {
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
      expect(lastLine(r.stderr)).toBe(`odp-apply-config: ${name}: config applied, ${s.unit} restarted, every server Ready: the next server may go`);
      const again = apply(node, name);
      expect(again.code).toBe(0);
      expect(lastLine(again.stderr)).toBe(`odp-apply-config: ${name} runs this config already: nothing to do`);
      expect(starts(node)).toBe(2);
    }
  });

  it('refuses while another server is not Ready: nothing written, nothing restarted', () => {
    world.deployBase(after);
    const [first] = [server(0), server(1), server(2)];
    const etcd = JSON.parse(readFileSync(join(world.dir, 'etcd.json'), 'utf8'));
    etcd.members[1].down = true;
    writeFileSync(join(world.dir, 'etcd.json'), JSON.stringify(etcd));
    const r = apply(first!, 'cp-1');
    expect(r.code).toBe(1);
    expect(lastLine(r.stderr)).toBe(`odp-apply-config: server ${host('10.10.1.11')} (10.10.1.11) is not Ready: apply to one server at a time, the next once every server is Ready again; nothing changed here`);
    expect(first!.read(config)).toBe(nodeConfig(before, 'cp-1'));
    expect(starts(first!)).toBe(1);
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
