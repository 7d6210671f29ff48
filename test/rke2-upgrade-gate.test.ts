/**
 * The RKE2 server Plan on embedded etcd cannot take a second server down while another one's etcd is not back: its
 * prepare step (rendered in the Plan, executed here on a simulated server as the controller's Job runs it: chroot into
 * the host, host network) waits until every server's Node and etcd static pod are Ready (asked with the node's own
 * kubectl and admin kubeconfig), then takes the pre-upgrade snapshot.
 *
 * Why (sources in generators/distributions/rke2/model.ts ETCD_UPGRADE_GATE): the upgrade Job ends as soon as rke2 is
 * SIGTERMed (rancher/rke2-upgrade scripts/upgrade.sh upgrade()), and the system-upgrade-controller v0.20.1 then labels
 * the node done and starts the next server's Job (pkg/upgrade/handle_batch.go:103-135) without waiting for anything:
 * with only the snapshot in prepare, the second server went down while the first one's etcd was still restarting (or
 * never came back), two of three members down.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { symlinkSync, writeFileSync } from 'node:fs';
import { RKE2_ETCD_IMAGE } from '../generators/distributions/rke2/etcd-image.js';
import { RKE2_RELEASES } from '../generators/distributions/rke2/rules.js';
import { join } from 'node:path';
import { parse } from 'yaml';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { fixtureSources, formatted } from './helpers.js';
import { World, type NodeBox } from './support/node-sandbox.js';
import { ec2Host as host, RKE2_ETCD_SERVERS, RKE2_ETCD_VERSION } from './support/rke2-etcd-world.js';

const SERVERS = Object.values(RKE2_ETCD_SERVERS);

function serverPlan(fixture: string): { spec: { prepare?: { command: string[]; args: string[] }; postCompleteDelay?: string } } {
  const { sources } = fixtureSources('valid', `${fixture}.yaml`);
  const r = prepareEnvironment(fixture, sources);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  const file = renderEnvironment(r.prepared).find((f) => f.path === 'manifests/system-upgrade-plans/plan-server-plan.yaml')!;
  return parse(file.content);
}

describe('RKE2 server Plan on embedded etcd: no second server goes down while another etcd is not back', () => {
  let world: World;
  let cp2: NodeBox;
  let prepare: string;
  beforeEach(() => {
    world = new World();
    // The Job's prepare sleeps between checks; the test does not wait for them.
    symlinkSync('/bin/true', join(world.bin, 'sleep'));
    const plan = serverPlan('rke2-etcd');
    expect(plan.spec.prepare!.command).toStrictEqual(['chroot', '/host']);
    expect(plan.spec.prepare!.args.slice(0, 2)).toStrictEqual(['sh', '-c']);
    prepare = plan.spec.prepare!.args[2]!;
    // cp-2, the next server of the Plan: its RKE2 runs (the snapshot asks it).
    cp2 = world.node(host(SERVERS[1]!), SERVERS[1]!);
    cp2.stubBinary('/usr/local/bin/rke2');
    cp2.stubBinary('/var/lib/rancher/rke2/bin/kubectl');
    cp2.write('/.active.json', JSON.stringify(['rke2-server']));
  });
  afterEach(() => world.cleanup());

  /** Upgrading v1.35.6+rke2r1 → v1.35.7+rke2r1 (the fixture's release): each server's kubelet and etcd image, old by default. */
  // The image as the release's scripts/build-binary names it: rancher/hardened-etcd:${ETCD_VERSION}-build<date>.
  const etcdImage = (release: string) => `rancher/hardened-etcd:${RKE2_ETCD_IMAGE[release]!.etcd}-k3s1-build${RKE2_ETCD_IMAGE[release]!.build}`;
  const OLD = { kubelet: 'v1.35.6+rke2r1', etcdImage: etcdImage('v1.35.6+rke2r1') };
  const NEW = { kubelet: RKE2_ETCD_VERSION, etcdImage: etcdImage(RKE2_ETCD_VERSION) };
  const members = (down: string[], state: Record<string, Partial<typeof OLD>> = {}) =>
    writeFileSync(join(world.dir, 'etcd.json'), JSON.stringify({ clusters: 1, ca: '1', members: SERVERS.map((ip, i) => ({ name: `m${i}`, nodeName: host(ip), ip, ...OLD, ...state[ip], ...(down.includes(ip) ? { down: true } : {}) })) }));
  const run = () => cp2.run(`#!/bin/sh\n${prepare}\n`);
  /** The gate gives up after 120 checks 5 s apart (10 minutes); run with 3 checks (each spawns the stubs). */
  const runShort = () => {
    expect(prepare).toContain('[ "$n" -lt 120 ] ||');
    expect(prepare).toContain('    sleep 5\n');
    return cp2.run(`#!/bin/sh\n${prepare.replace('[ "$n" -lt 120 ]', '[ "$n" -lt 3 ]')}\n`);
  };

  it('the controller waits after each server (postCompleteDelay) before the gate looks', () => {
    expect(serverPlan('rke2-etcd').spec.postCompleteDelay).toBe('5m');
    // Kine on PostgreSQL: no quorum, but the same delay before a gate on the servers' Nodes (test/rke2-kine-flux.test.ts).
    expect(serverPlan('rke2-flux').spec.postCompleteDelay).toBe('5m');
  });

  it('every member healthy: the snapshot is taken, the upgrade goes on', () => {
    members([]);
    const r = run();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Snapshot pre-upgrade-ip-10-10-1-11\.eu-west-1\.compute\.internal-\d+ saved\./);
    const calls = world.calls();
    for (const ip of SERVERS) {
      expect(calls).toContain(`${host(SERVERS[1]!)} kubectl get node ${host(ip)} -o jsonpath={.status.conditions[?(@.type=="Ready")].status}`);
      expect(calls).toContain(`${host(SERVERS[1]!)} kubectl -n kube-system get pod etcd-${host(ip)} -o jsonpath={.status.conditions[?(@.type=="Ready")].status}`);
    }
    expect(calls.at(-1)).toBe(`${host(SERVERS[1]!)} rke2 etcd-snapshot save --name pre-upgrade`);
  });

  it('the previous server\'s etcd still down (restarting after its Job): this server\'s Job fails, nothing is touched', () => {
    members([SERVERS[0]!]);
    const r = runShort();
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('odp-upgrade-gate: the server 10.10.1.10 or its etcd is not Ready after 10 minutes: this server is not upgraded (a second server down would lose the etcd quorum)');
    expect(world.calls().some((c) => c.includes('etcd-snapshot'))).toBe(false);
    // It asked at each check, then gave up.
    expect(world.calls().filter((c) => c.includes(`get node ${host(SERVERS[0]!)} `))).toHaveLength(3);
    // cp-3 is never asked about while cp-1 is not back: the servers are checked in order.
    expect(world.calls().some((c) => c.includes(`etcd-${host(SERVERS[2]!)}`))).toBe(false);
  });

  it('the previous server upgraded but its etcd pod still the old one (Ready): the old gate passed, this one waits', () => {
    expect(OLD.etcdImage).not.toBe(NEW.etcdImage);
    // cp-1's Job ended and its kubelet is the new release, but its etcd pod is still the old manifest's mirror pod (the
    // kubelet pulls the new etcd image, slower than postCompleteDelay): Ready read from the old pod.
    members([], { [SERVERS[0]!]: { kubelet: NEW.kubelet } });
    // The gate as it was (Node Ready, etcd pod Ready): it passes and takes cp-2 down next.
    const oldGate = prepare
      .split('\n')
      .filter((l) => !l.includes('kubeletVersion') && !l.includes('image=') && !l.includes('$ETCD_TAG_START'))
      .join('\n')
      .replace('" = True ] || return 1\n}', '" = True ]\n}');
    const wrong = cp2.run(`#!/bin/sh\n${oldGate}\n`);
    expect(wrong.code, wrong.stderr).toBe(0);
    expect(world.calls().at(-1)).toBe(`${host(SERVERS[1]!)} rke2 etcd-snapshot save --name pre-upgrade`);
    // The gate now: cp-1's kubelet is the release, so its etcd pod must run the release's etcd image.
    const r = runShort();
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('odp-upgrade-gate: the server 10.10.1.10 or its etcd is not Ready after 10 minutes: this server is not upgraded (a second server down would lose the etcd quorum)');
    expect(world.calls().filter((c) => c.includes(`get pod etcd-${host(SERVERS[0]!)} -o jsonpath={.spec.containers[?(@.name=="etcd")].image}`))).toHaveLength(3);
    // The new pod Ready: the gate passes. A server not yet upgraded (cp-2, cp-3) keeps its old pod, rightly.
    members([], { [SERVERS[0]!]: NEW });
    const back = run();
    expect(back.code, back.stderr).toBe(0);
    expect(world.calls().at(-1)).toBe(`${host(SERVERS[1]!)} rke2 etcd-snapshot save --name pre-upgrade`);
  });

  it('every listed RKE2 release has its etcd image recorded; the gate names the release and its etcd tag', () => {
    for (const release of Object.values(RKE2_RELEASES).flat()) expect(RKE2_ETCD_IMAGE[release], release).toMatchObject({ etcd: expect.stringMatching(/^v3\.\d+\.\d+$/), build: expect.stringMatching(/^\d{8}$/) });
    const { etcd, build } = RKE2_ETCD_IMAGE[RKE2_ETCD_VERSION]!;
    expect(prepare).toContain(`RELEASE='${RKE2_ETCD_VERSION}'\nETCD_TAG_START='${etcd}-'\nETCD_TAG_END='-build${build}'\n`);
  });

  it('the etcd quorum already lost (two servers down): the API server cannot answer, nothing is touched', () => {
    members([SERVERS[0]!, SERVERS[2]!]);
    const r = runShort();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('odp-upgrade-gate: the server 10.10.1.10 or its etcd is not Ready after 10 minutes');
    expect(world.calls().some((c) => c.includes('etcd-snapshot'))).toBe(false);
  });
});
