/**
 * The valid fixture rke2-flux (RKE2 under Flux, Kine on PostgreSQL with the host from SSM, three servers, amd64,
 * Graviton and a tainted GPU pool, Cilium) booted as cloud-init runs its user data (test/support/node-sandbox.ts):
 * the DSN is assembled at boot from SSM and lands only in the root-only drop-in, and a failed download of the RDS
 * CA bundle stops the boot with its name (set -e alone would stop it without a word; user data runs once per
 * instance, canonical/cloud-init@0167c1b9 cloudinit/config/cc_runcmd.py:60, cc_scripts_user.py:34).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RKE2_ARTIFACTS } from '../generators/distributions/rke2/artifacts.js';
import { RDS_CA_BUNDLE_URL } from '../generators/distributions/rancher/boot.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { fixtureSources, formatted } from './helpers.js';

/** The diagnostics of the fixture with `from` replaced by `to` (the typical mistakes of a user editing it). */
function edited(from: string, to: string): string[] {
  const { sources } = fixtureSources('valid', 'rke2-flux.yaml');
  const text = sources.get('environments/rke2-flux.yaml')!;
  expect(text).toContain(from);
  sources.set('environments/rke2-flux.yaml', text.replace(from, to));
  return formatted(prepareEnvironment('rke2-flux', sources)).filter((l) => !l.includes('no sha256 is recorded'));
}
import { serveRelease } from './support/artifacts.js';
import { RKE2_INSTALL_STUB, rke2Tarball } from './support/installers.js';
import { World } from './support/node-sandbox.js';

const OLD = 'v1.36.2+rke2r1';

const VERSION = 'v1.36.3+rke2r1';
const CIS = { 'vm.panic_on_oom': '0', 'vm.overcommit_memory': '1', 'kernel.panic': '10', 'kernel.panic_on_oops': '1' };
const HOST = 'ip-10-10-1-11.eu-west-1.compute.internal';
// The host comes from the fixture's lock (/odp/rke2-flux/kine/host); the password from SSM at boot, percent-encoded.
const DSN = 'postgres://rke2:%70%40%73%73%2f%77%3a%72%64@odp-rke2-flux-kine.cluster-c0ffee000000.eu-west-1.rds.amazonaws.com:5432/rke2?sslmode=verify-full';

function rendered(version?: string): Map<string, string> {
  const { sources } = fixtureSources('valid', 'rke2-flux.yaml');
  if (version) {
    const text = sources.get('environments/rke2-flux.yaml')!.replace(`rke2Version: ${VERSION}\n  kubernetesVersion: 1.36.3`, `rke2Version: ${version}\n  kubernetesVersion: ${version.slice(1, version.indexOf('+'))}`);
    expect(text).toContain(`rke2Version: ${version}`);
    sources.set('environments/rke2-flux.yaml', text);
  }
  const r = prepareEnvironment('rke2-flux', sources);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  return new Map(renderEnvironment(r.prepared).map((f) => [f.path, f.content]));
}

describe('rke2-flux: a Kine server boots as cloud-init runs it', () => {
  let world: World;
  let restore: (() => void)[];
  let files: Map<string, string>;
  beforeEach(() => {
    world = new World();
    world.sysctlDefaults(CIS);
    // A joining server: the first one has published the secure token already.
    world.ssm('/odp/rke2-flux/rke2/token', `K10${'a'.repeat(64)}::server:short-server-token`);
    world.ssm('/odp/rke2-flux/rke2/agent-token', `K10${'a'.repeat(64)}::node:short-agent-token`);
    world.ssm('/odp/rke2-flux/kine/password', 'p@ss/w:rd');
    restore = [serveRelease(world, RKE2_ARTIFACTS, 'rke2', VERSION, { 'install.sh': RKE2_INSTALL_STUB, amd64: rke2Tarball(VERSION) })];
    files = rendered();
    world.deployBase(files);
  });
  afterEach(() => {
    restore.forEach((r) => r());
    world.cleanup();
  });

  it('the DSN is assembled at boot and written only to the root-only drop-in; nothing secret is rendered', () => {
    world.serve(RDS_CA_BUNDLE_URL, 'rds-ca\n');
    const node = world.node(HOST, '10.10.1.11');
    const r = node.boot(files.get('rke2/userdata/server-2.yaml')!);
    expect(r.code, r.stderr).toBe(0);
    expect(world.nodeState(HOST)).toMatchObject({ unit: 'rke2-server', nodeName: HOST, datastore: DSN });
    expect(node.read('/etc/rancher/rke2/config.yaml.d/10-node.yaml')).toBe(`node-name: "${HOST}"\ndatastore-endpoint: "${DSN}"\n`);
    expect(node.read('/etc/ssl/certs/rds-global-bundle.pem')).toBe('rds-ca\n');
    for (const [path, content] of files) expect(content, path).not.toContain('p@ss');
  });

  it('a failed download of the RDS CA bundle stops the boot with its name, before any secret is read or anything installed', () => {
    const node = world.node(HOST, '10.10.1.11');
    const r = node.boot(files.get('rke2/userdata/server-2.yaml')!);
    expect(r.code).toBe(1);
    // (The stub's curl prints its error even with -s, which the real one does not without -S: the boot's own line is the last.)
    expect(r.stderr.trim().split('\n').at(-1)).toBe(`odp-rke2-boot: cannot download the RDS CA bundle ${RDS_CA_BUNDLE_URL}`);
    expect(world.calls().some((c) => c.includes('/odp/rke2-flux/kine/password'))).toBe(false);
    expect(world.calls().some((c) => c.includes('install.sh'))).toBe(false);
    expect(node.exists('/etc/rancher/rke2/config.yaml.d/10-node.yaml')).toBe(false);
  });

  it('the runbook\'s manual upgrade (rendered/<env>/rke2/manual-upgrade.sh) installs the verified release; the server keeps name and datastore', () => {
    world.serve(RDS_CA_BUNDLE_URL, 'rds-ca\n');
    // Booted on the release before, then the manual upgrade rendered for the pinned one.
    restore.push(serveRelease(world, RKE2_ARTIFACTS, 'rke2', OLD, { 'install.sh': RKE2_INSTALL_STUB, amd64: rke2Tarball(OLD) }));
    const node = world.node(HOST, '10.10.1.11');
    const boot = node.boot(rendered(OLD).get('rke2/userdata/server-2.yaml')!);
    expect(boot.code, boot.stderr).toBe(0);
    expect(node.read('/usr/local/bin/rke2')).toContain(OLD);
    const upgrade = files.get('rke2/manual-upgrade.sh')!;
    const r = node.run(upgrade);
    expect(r.stderr).toContain(`odp-manual-upgrade: server rke2-server upgraded to ${VERSION}`);
    expect(r.code).toBe(0);
    expect(node.read('/usr/local/bin/rke2')).toContain(VERSION);
    expect(world.nodeState(HOST)).toMatchObject({ unit: 'rke2-server', nodeName: HOST, datastore: DSN, starts: 2 });
  });
  it('after a password rotation, the runbook\'s datastore-password.sh gives the server the new DSN and restarts it', () => {
    world.serve(RDS_CA_BUNDLE_URL, 'rds-ca\n');
    const node = world.node(HOST, '10.10.1.11');
    expect(node.boot(files.get('rke2/userdata/server-2.yaml')!).code).toBe(0);
    // ALTER ROLE … PASSWORD, then the new one in SSM: the drop-in still holds the first boot's.
    world.ssm('/odp/rke2-flux/kine/password', 'n3w&pass');
    expect(node.read('/etc/rancher/rke2/config.yaml.d/10-node.yaml')).toContain(DSN);
    const r = node.run(files.get('rke2/datastore-password.sh')!);
    expect(r.stderr).toContain('odp-datastore-password: rke2-server restarted with the password in /odp/rke2-flux/kine/password');
    expect(r.code).toBe(0);
    const fresh = DSN.replace('%70%40%73%73%2f%77%3a%72%64', '%6e%33%77%26%70%61%73%73');
    expect(node.read('/etc/rancher/rke2/config.yaml.d/10-node.yaml')).toBe(`node-name: "${HOST}"\ndatastore-endpoint: "${fresh}"\n`);
    expect(world.nodeState(HOST)).toMatchObject({ unit: 'rke2-server', nodeName: HOST, datastore: fresh, starts: 2 });
  });

  it('datastore-password.sh refuses to run on an agent', () => {
    const node = world.node('ip-10-10-1-50.eu-west-1.compute.internal', '10.10.1.50');
    const r = node.run(files.get('rke2/datastore-password.sh')!);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n').at(-1)).toBe('odp-datastore-password: no RKE2 server unit (/usr/local/lib/systemd/system/rke2-server.service) on this node: run this on the servers');
  });
});


describe('rke2-flux: typical mistakes are refused at file:line:col before anything is written', () => {
  const GPU_TAINT = '    taints:\n      - { key: nvidia.com/gpu, value: "present", effect: NoSchedule }\n';
  it.each([
    ['a label indented as a pool key', '    labels:\n      node.opendev.dev/pool: general-arm64', '    labels:\n    node.opendev.dev/pool: general-arm64', [/^environments\/rke2-flux\.yaml:\d+:5 {2}nodePools\[2\]\["node\.opendev\.dev\/pool"\]: unknown key 'node\.opendev\.dev\/pool'; expected one of: name, role/, /^environments\/rke2-flux\.yaml:\d+:12 {2}nodePools\[2\]\.labels: expected object, got null/]],
    ['a misspelt key', 'disruptionBudget: { minAvailable: 1 }', 'disruptionBuget: { minAvailable: 1 }', /^environments\/rke2-flux\.yaml:\d+:5 {2}workloads\[0\]\.disruptionBuget: unknown key 'disruptionBuget'.*did you mean 'disruptionBudget'/],
    ['a Graviton type in the x86 pool', 'instanceType: m7i.xlarge', 'instanceType: m7g.xlarge', /^environments\/rke2-flux\.yaml:\d+:11 {2}nodePools\[1\]\.arch: amd64 does not match instance type m7g\.xlarge, which is arm64/],
    ['the GPU pool tainted with a key GPU workloads do not tolerate', GPU_TAINT, '    taints:\n      - { key: gpu, value: "true", effect: NoSchedule }\n', /^environments\/rke2-flux\.yaml:\d+:36 {2}workloads\[1\]\.placement\.gpu: workload 'inference' can land on no node: gpu \(nodePools\[3\]\.taints: gpu=true:NoSchedule\)/],
    ['the datastore password written in clear', 'password: { secret: /odp/rke2-flux/kine/password }', 'password: hunter2', /^environments\/rke2-flux\.yaml:\d+:17 {2}cluster\.datastore\.postgres\.password: expected a secret reference/],
    ['a URL as the datastore host', 'host: { ssm: /odp/rke2-flux/kine/host }', 'host: postgres://db.example.internal:5432/rke2', /^environments\/rke2-flux\.yaml:\d+:13 {2}cluster\.datastore\.postgres\.host: .* is not a DNS name or an IPv4 address/],
    ['an RKE2 version with a dash', 'rke2Version: v1.36.3+rke2r1', 'rke2Version: v1.36.3-rke2r1', /^environments\/rke2-flux\.yaml:\d+:16 {2}cluster\.rke2Version: 'v1\.36\.3-rke2r1' is not of the form/],
    ['an RKE2 release that does not exist', 'rke2Version: v1.36.3+rke2r1', 'rke2Version: v1.36.9+rke2r1', /^environments\/rke2-flux\.yaml:\d+:16 {2}cluster\.rke2Version: v1\.36\.9\+rke2r1 is not an RKE2 release this generator lists/],
  ] as [string, string, string, RegExp | RegExp[]][])('%s', (_what, from, to, messages) => {
    const lines = edited(from, to);
    expect(lines.filter((l) => !l.includes(': warning: '))).toStrictEqual([messages].flat().map((m) => expect.stringMatching(m)));
  });

  it('a GPU pool without the nvidia.com/gpu taint is rendered, with a warning at its gpu key', () => {
    // (The fixture's host-network-role warnings, node-exporter on the servers and the controllers pool: test/host-network.test.ts.)
    expect(edited('    taints:\n      - { key: nvidia.com/gpu, value: "present", effect: NoSchedule }\n', '').filter((l) => !l.includes(' from the host network of pool '))).toStrictEqual([
      "environments/rke2-flux.yaml:55:10  nodePools[3].gpu: warning: GPU pool 'gpu' has no nvidia.com/gpu taint: pods that need no GPU (add-ons, workloads without placement.gpu) may land on its nodes and take the CPU and memory GPU pods need  (add taints: [{ key: nvidia.com/gpu, value: present, effect: NoSchedule }]: GPU workloads and the device plugin tolerate it)",
    ]);
  });
});
