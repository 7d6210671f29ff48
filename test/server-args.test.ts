/**
 * Server flags of K3s and RKE2 that leave the cluster without a component (generators/distributions/rancher/server-args.ts,
 * rke2/rules.ts rke2Disable): refused where nothing is left (split server roles: everywhere), accepted where another server or component still serves
 * (the invalid fixtures cluster-dns-range, server-roles, server-roles-kine and rke2-disable-coredns assert
 * the refusals' position and text).
 */
import { describe, expect, it } from 'vitest';
import { prepareEnvironment } from '../generators/pipeline.js';
import { SPLIT_ROLE_FLAGS } from '../generators/distributions/rancher/server-args.js';
import { SUPERVISOR_FLAGS } from '../generators/distributions/rancher/supervisor-flags.js';
import { fixtureSources } from './helpers.js';

/** The error rules (and messages) of a valid fixture with `edit` applied to its text. */
function errors(file: string, edit: (text: string) => string): string[] {
  const { name, sources } = fixtureSources('valid', file);
  sources.set(`environments/${name}.yaml`, edit(sources.get(`environments/${name}.yaml`)!));
  return prepareEnvironment(name, sources).diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.rule}: ${d.message}`);
}

/** rke2-etcd.yaml (three servers in pool cp) with its server extraArgs replaced, and pool cp split in two when `split`. */
const rke2 = (args: string, split?: { first?: string; later?: string }) =>
  errors('rke2-etcd.yaml', (t) => {
    let out = t.replace('      kube-apiserver-arg: [request-timeout=300s]\n      etcd-snapshot-compress: true\n', args.split('\n').map((l) => `      ${l}\n`).join(''));
    if (split)
      out = out.replace(
        '      - { name: cp-2, ip: 10.10.1.11 }\n      - { name: cp-3, ip: 10.10.1.12 }\n',
        `${split.first ? `    rke2: { extraArgs: { ${split.first} } }\n` : ''}  - name: cp-later\n    role: controlplane\n    arch: amd64\n    instanceType: m7i.large\n    subnet: private-a\n${split.later ? `    rke2: { extraArgs: { ${split.later} } }\n` : ''}    nodes:\n      - { name: cp-2, ip: 10.10.1.11 }\n      - { name: cp-3, ip: 10.10.1.12 }\n`,
      );
    return out;
  });

describe('cluster-dns', () => {
  it('inside the service CIDR (not its first address): accepted', () => {
    expect(rke2('cluster-dns: 10.96.0.53')).toStrictEqual([]);
  });
  it("the service CIDR's first address (the kubernetes Service's): refused", () => {
    expect(rke2('cluster-dns: 10.96.0.1')).toStrictEqual([expect.stringMatching(/^cluster-dns: cluster-dns 10\.96\.0\.1 is the first address of the service CIDR 10\.96\.0\.0\/12, the kubernetes Service's/)]);
  });
  it('outside it, IPv6 included (the service CIDR is IPv4): refused, one error per item', () => {
    expect(rke2('cluster-dns: 10.200.0.10,fd00::10')).toStrictEqual([
      expect.stringMatching(/^cluster-dns: cluster-dns 10\.200\.0\.10 is outside the service CIDR 10\.96\.0\.0\/12/),
      expect.stringMatching(/^cluster-dns: cluster-dns fd00::10 is outside the service CIDR/),
    ]);
  });
});

describe('split server roles: refused (rancher/server-args.ts SPLIT_ROLE_FLAGS)', () => {
  it.each(Object.keys(SPLIT_ROLE_FLAGS))('%s on one controlplane pool: refused at its key', (flag) => {
    expect(rke2('kube-apiserver-arg: [request-timeout=300s]', { later: `${flag}: true` })).toStrictEqual([
      `server-roles: ${flag} turns off ${SPLIT_ROLE_FLAGS[flag]!.component} on the servers of controlplane pool 'cp-later', making ${SPLIT_ROLE_FLAGS[flag]!.leaves}: split server roles (docs.rke2.io/install/server_roles) are not supported: the generator runs every server as an etcd member with the whole control plane (the API load balancer targets every server, etcd-odd counts every server as a member, the restore and the upgrade gate expect etcd on every server)`,
    ]);
  });
  it('an etcd-only pool (all three control-plane flags): one error per key', () => {
    const e = rke2('kube-apiserver-arg: [request-timeout=300s]', { first: 'disable-apiserver: true, disable-scheduler: true, disable-controller-manager: true' });
    expect(e.map((m) => m.split(' turns off')[0])).toStrictEqual(['server-roles: disable-apiserver', 'server-roles: disable-controller-manager', 'server-roles: disable-scheduler']);
  });
  it('cluster-wide: refused once, at the one key', () => {
    expect(rke2('disable-etcd: true')).toStrictEqual([expect.stringMatching(/^server-roles: disable-etcd turns off etcd on the servers of every controlplane pool/)]);
  });
  it('set to false (the default): accepted', () => {
    expect(rke2('disable-etcd: false\ndisable-apiserver: false', { later: 'disable-scheduler: false' })).toStrictEqual([]);
  });
  it('K3s on Kine (kine-postgres): refused with the Kine reason', () => {
    const e = errors('k3s-postgres.yaml', (t) => t.replace(/(  - name: (\S+)\n    role: controlplane\n)/, '$1    k3s: { extraArgs: { disable-etcd: true } }\n'));
    expect(e).toStrictEqual([expect.stringMatching(/^server-roles: disable-etcd turns off etcd .*: on kine-postgres there is no embedded etcd and every server runs the whole control plane/)]);
  });
  it("the table is the supervisor's disable-<component> flags of the control plane, each a server flag", () => {
    const components = Object.keys(SUPERVISOR_FLAGS.server).filter((k) => /^disable-(etcd|apiserver|controller-manager|scheduler)$/.test(k));
    expect(Object.keys(SPLIT_ROLE_FLAGS).sort()).toStrictEqual(components.sort());
  });
});

describe('RKE2 disable', () => {
  it('the snapshot controller items: accepted (nothing rendered uses VolumeSnapshots)', () => {
    expect(rke2('disable: [rke2-snapshot-controller, rke2-snapshot-controller-crd, rke2-snapshot-validation-webhook]')).toStrictEqual([]);
  });
  it('rke2-coredns, as a comma-separated string too: refused', () => {
    expect(rke2('disable: "rke2-snapshot-controller,rke2-coredns"')).toStrictEqual([expect.stringMatching(/^rke2-disable: 'rke2-coredns' disables RKE2's CoreDNS/)]);
  });
  it('cni none and disable-kube-proxy stay generator-owned (refused as managed keys)', () => {
    expect(rke2('cni: [none]\ndisable-kube-proxy: true')).toStrictEqual([
      "rke2-extra-args: 'cni' is set by the generator",
      "rke2-extra-args: 'disable-kube-proxy' is set by the generator",
    ]);
  });
});
