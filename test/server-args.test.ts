/**
 * Server flags of K3s and RKE2 that leave the cluster without a component (generators/distributions/rancher/server-args.ts,
 * rke2/rules.ts rke2Disable): refused where nothing is left, accepted where another server or component still serves
 * (the invalid fixtures cluster-dns-range, server-components, server-components-kine and rke2-disable-coredns assert
 * the refusals' position and text).
 */
import { describe, expect, it } from 'vitest';
import { prepareEnvironment } from '../generators/pipeline.js';
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

describe('split server roles', () => {
  it('a control-plane component disabled on some servers only: accepted (etcd-only servers)', () => {
    expect(rke2('kube-apiserver-arg: [request-timeout=300s]', { first: 'disable-apiserver: true, disable-scheduler: true, disable-controller-manager: true' })).toStrictEqual([]);
  });
  it('disable-etcd on a later pool (its servers join the first pool\'s etcd): accepted', () => {
    expect(rke2('kube-apiserver-arg: [request-timeout=300s]', { later: 'disable-etcd: true' })).toStrictEqual([]);
  });
  it('each control-plane component disabled on every server: refused once per place that sets it', () => {
    const e = rke2('kube-apiserver-arg: [request-timeout=300s]', { first: 'disable-apiserver: true, disable-controller-manager: true', later: 'disable-apiserver: true, disable-controller-manager: true' });
    expect(e).toStrictEqual([
      expect.stringMatching(/^server-components: disable-apiserver is set on every server .*no server runs kube-apiserver/),
      expect.stringMatching(/^server-components: disable-apiserver is set on every server/),
      expect.stringMatching(/^server-components: disable-controller-manager is set on every server .*no server runs kube-controller-manager/),
      expect.stringMatching(/^server-components: disable-controller-manager is set on every server/),
    ]);
  });
  it('disable-etcd on every server (cluster-wide): refused at the one key', () => {
    expect(rke2('disable-etcd: true')).toStrictEqual([expect.stringMatching(/^server-components: disable-etcd on controlplane pool 'cp', whose first node is the server that bootstraps/)]);
  });
  it('K3s on Kine (kine-postgres): disable-etcd on a pool refused', () => {
    const e = errors('k3s-postgres.yaml', (t) => t.replace(/(  - name: (\S+)\n    role: controlplane\n)/, '$1    k3s: { extraArgs: { disable-etcd: true } }\n'));
    expect(e).toStrictEqual([expect.stringMatching(/^server-components: disable-etcd on a kine-postgres cluster: there is no embedded etcd/)]);
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
