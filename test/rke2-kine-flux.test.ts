/**
 * The valid fixture rke2-kine-flux (auditflux: RKE2 under Flux on Kine + PostgreSQL, three servers across three
 * subnets, an x86, a Graviton and a tainted NVIDIA pool, two workloads with Secrets from SSM) and what its walk found:
 * the API endpoint's port. The API load balancer forwards each endpoint port to the same port on the control planes
 * (generators/infra/aws/stacks.ts), and the control planes serve the Kubernetes API on 6443 only
 * (rancher/rke2-docs@9477b7b1 docs/install/requirements.md, Inbound Network Rules: 6443 Kubernetes API, 9345 RKE2
 * supervisor; k3s-io/docs docs/installation/requirements.md: 6443 "K3s supervisor and Kubernetes API Server", moved
 * by `--https-listen-port`; siderolabs/talos@v1.12.11 firewallpatch.go: 6443 kube-apiserver). An endpoint on another
 * port rendered a load balancer forwarding to a port where nothing answers; on RKE2's 9345 a template with two
 * listeners on one port and two target groups of one name (ELB refuses both: a port takes one listener, a target
 * group name is unique in the account and region).
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { prepareEnvironment } from '../generators/pipeline.js';
import { RKE2_ARTIFACTS } from '../generators/distributions/rke2/artifacts.js';
import { RDS_CA_BUNDLE_URL } from '../generators/distributions/rancher/boot.js';
import { fixtureSources, formatted, renderValidFixture } from './helpers.js';
import { serveRelease } from './support/artifacts.js';
import { RKE2_INSTALL_STUB, rke2Tarball } from './support/installers.js';
import { World } from './support/node-sandbox.js';
import { ec2Host as host, RKE2_CIS_SYSCTLS } from './support/rke2-etcd-world.js';

type Doc = Record<string, any>;
const resourcesOf = (base: string, type: string): Doc[] =>
  Object.values((parseYamlStream(base)[0] as Doc).Resources as Record<string, Doc>).filter((r) => r.Type === type);

/** The errors of a valid fixture with `from` replaced by `to` in its file. */
function errorsOf(file: string, from: string | RegExp, to: string): string[] {
  const { name, sources } = fixtureSources('valid', file);
  const key = [...sources.keys()].find((k) => k === `environments/${name}.yaml`)!;
  const text = sources.get(key)!;
  const changed = text.replace(from, to);
  expect(changed, 'the edit applies').not.toBe(text);
  sources.set(key, changed);
  return formatted(prepareEnvironment(name, sources)).filter((l) => !l.includes(': warning: '));
}

describe('rke2-kine-flux: the API load balancer forwards only to ports the servers serve', () => {
  it('each listener has a port of its own, each target group a name of its own, and each forwards to the API (6443) or the supervisor (9345)', () => {
    const base = renderValidFixture('rke2-kine-flux.yaml').get('aws/base.yaml')!;
    const listeners = resourcesOf(base, 'AWS::ElasticLoadBalancingV2::Listener').map((l) => l.Properties.Port);
    expect(listeners.sort()).toStrictEqual([6443, 9345]);
    const groups = resourcesOf(base, 'AWS::ElasticLoadBalancingV2::TargetGroup');
    expect(new Set(groups.map((g) => g.Properties.Name)).size).toBe(groups.length);
    for (const g of groups) for (const t of g.Properties.Targets) expect([6443, 9345]).toContain(t.Port);
  });

  it.each([
    ['the supervisor port', 'https://api.rke2-kine-flux.internal:9345', "port 9345 is not the port the control planes serve the Kubernetes API on (6443): the API load balancer forwards it to port 9345 of the control planes, the supervisor's, whose listener it would take a second time  (write https://api.rke2-kine-flux.internal:6443)"],
    ['no port (443)', 'https://api.rke2-kine-flux.internal', 'port 443 (none written: 443) is not the port the control planes serve the Kubernetes API on (6443): the API load balancer forwards it to port 443 of the control planes, where nothing answers  (write https://api.rke2-kine-flux.internal:6443)'],
    ['a server\'s address and the supervisor port (no load balancer)', 'https://10.10.1.20:9345', "port 9345 is not the port the control planes serve the Kubernetes API on (6443): clients would call port 9345 of the control plane at that address, the supervisor's  (write https://10.10.1.20:6443)"],
  ])('RKE2, an endpoint on %s, is refused at cluster.endpoint', (_what, endpoint, message) => {
    expect(errorsOf('rke2-kine-flux.yaml', 'https://api.rke2-kine-flux.internal:6443', endpoint)).toStrictEqual([
      expect.stringMatching(new RegExp(`^environments/rke2-kine-flux\\.yaml:\\d+:13  cluster\\.endpoint: the endpoint's `)),
    ]);
    expect(errorsOf('rke2-kine-flux.yaml', 'https://api.rke2-kine-flux.internal:6443', endpoint)[0]).toContain(message);
  });

  it('K3s: an endpoint on 443 is refused, and accepted once the servers serve the API there (https-listen-port)', () => {
    // k3s-postgres's endpoint is the fixtures' (https://api.fixture.internal:6443, from _fixture.yaml).
    const endpoint = '  endpoint: https://api.fixture.internal:443\n';
    expect(errorsOf('k3s-postgres.yaml', /^cluster:\n/m, `cluster:\n${endpoint}`)).toStrictEqual([
      expect.stringContaining("cluster.endpoint: the endpoint's port 443 is not the port the control planes serve the Kubernetes API on (6443)"),
    ]);
    expect(errorsOf('k3s-postgres.yaml', /^cluster:\n/m, `cluster:\n${endpoint}  k3s: { extraArgs: { https-listen-port: 443 } }\n`)).toStrictEqual([]);
  });

  it('Talos: an endpoint on 443 is refused', () => {
    expect(errorsOf('minimal.yaml', /^extends: _fixture\n/m, 'extends: _fixture\ncluster:\n  endpoint: https://api.fixture.internal:443\n')).toStrictEqual([
      expect.stringContaining("cluster.endpoint: the endpoint's port 443 is not the port the control planes serve the Kubernetes API on (6443)"),
    ]);
  });
});

describe('rke2-kine-flux: the password rotation runbook on a running server', () => {
  const VERSION = 'v1.36.3+rke2r1';
  const HOST = host('10.10.2.20');
  const CA = '/etc/ssl/certs/rds-global-bundle.pem';
  const DROP_IN = '/etc/rancher/rke2/config.yaml.d/10-node.yaml';
  let world: World;
  let restore: () => void;
  let files: Map<string, string>;
  beforeEach(() => {
    world = new World();
    world.sysctlDefaults(RKE2_CIS_SYSCTLS);
    // srv-b joins: srv-a has published the secure tokens.
    world.ssm('/odp/rke2-kine-flux/rke2/token', `K10${'a'.repeat(64)}::server:short-server-token`);
    world.ssm('/odp/rke2-kine-flux/rke2/agent-token', `K10${'a'.repeat(64)}::node:short-agent-token`);
    world.ssm('/odp/rke2-kine-flux/datastore/password', 'first-password');
    restore = serveRelease(world, RKE2_ARTIFACTS, 'rke2', VERSION, { 'install.sh': RKE2_INSTALL_STUB, amd64: rke2Tarball(VERSION) });
    files = renderValidFixture('rke2-kine-flux.yaml');
    world.deployBase(files);
    world.serve(RDS_CA_BUNDLE_URL, 'rds-ca-of-first-boot\n');
  });
  afterEach(() => {
    restore();
    world.cleanup();
  });

  it('a download of the RDS CA bundle that breaks off part-way leaves the bundle, the drop-in and the server as they were', () => {
    const node = world.node(HOST, '10.10.2.20');
    const boot = node.boot(files.get('rke2/userdata/srv-b.yaml')!);
    expect(boot.code, boot.stderr).toBe(0);
    const dropIn = node.read(DROP_IN);
    // ALTER ROLE, the new password in SSM; then the runbook step, while the truststore's transfer breaks off.
    world.ssm('/odp/rke2-kine-flux/datastore/password', 'second-password');
    world.servePartial(RDS_CA_BUNDLE_URL, '-----BEGIN CERTIFICATE-----\nMIIEBjCCAu6gAwIBAgIJAMc0ZzaSUK51');
    const r = node.run(files.get('rke2/datastore-password.sh')!);
    expect(r.code).toBe(1);
    // Before: the partial bundle replaced the one the server verifies PostgreSQL with, for its next start.
    expect(node.read(CA)).toBe('rds-ca-of-first-boot\n');
    expect(r.stderr.trim().split('\n').at(-1)).toBe(`odp-datastore-password: cannot download the RDS CA bundle ${RDS_CA_BUNDLE_URL}; ${CA} is unchanged`);
    expect(node.exists(`${CA}.new`)).toBe(false);
    expect(node.read(DROP_IN)).toBe(dropIn);
    expect(world.nodeState(HOST)).toMatchObject({ unit: 'rke2-server', starts: 1 });
  });

  it('a drop-in write that fails (full disk) leaves the drop-in with its datastore line and the server as they were', () => {
    // Before: the drop-in was rewritten in place; a failed write left it without `datastore-endpoint`, and the next
    // start of rke2 came up on a new embedded etcd (generators/distributions/rancher/host.ts identityDropInLines).
    const node = world.node(HOST, '10.10.2.20');
    const boot = node.boot(files.get('rke2/userdata/srv-b.yaml')!);
    expect(boot.code, boot.stderr).toBe(0);
    const dropIn = node.read(DROP_IN);
    expect(dropIn).toContain('datastore-endpoint: ');
    world.ssm('/odp/rke2-kine-flux/datastore/password', 'second-password');
    // The write of the new content fails: its temporary path cannot be written (a directory stands in for ENOSPC).
    mkdirSync(node.path(`${DROP_IN}.new`));
    const r = node.run(files.get('rke2/datastore-password.sh')!);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n').at(-1)).toBe(`odp-datastore-password: could not write ${DROP_IN}: it is unchanged`);
    expect(node.read(DROP_IN)).toBe(dropIn);
    expect(world.nodeState(HOST)).toMatchObject({ unit: 'rke2-server', starts: 1 });
  });

  it('the rewritten drop-in replaces the old one whole, root-only, with no temporary file left', () => {
    const node = world.node(HOST, '10.10.2.20');
    expect(node.boot(files.get('rke2/userdata/srv-b.yaml')!).code).toBe(0);
    world.ssm('/odp/rke2-kine-flux/datastore/password', 'second-password');
    const r = node.run(files.get('rke2/datastore-password.sh')!);
    expect(r.code, r.stderr).toBe(0);
    // The DSN carries the password percent-encoded (generators/distributions/rancher/boot.ts postgresEndpointLines).
    const encoded = [...'second-password'].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('');
    expect(node.read(DROP_IN)).toContain(`postgres://kine:${encoded}@`);
    expect(statSync(node.path(DROP_IN)).mode & 0o777).toBe(0o600);
    expect(node.exists(`${DROP_IN}.new`)).toBe(false);
  });
});

describe('rke2-kine-flux: the server Plan on Kine takes no second server down while another is not back', () => {
  // Why (generators/distributions/rke2/model.ts KINE_UPGRADE_GATE_REASON): the upgrade Job ends once rke2 is SIGTERMed
  // (rancher/rke2-upgrade@f76c6e05 scripts/upgrade.sh upgrade()) and system-upgrade-controller v0.20.1 starts the next
  // server's Job at once (pkg/upgrade/handle_batch.go:103-135): without a gate, a release that cannot start on this
  // datastore restarted every server on it within a minute or so.
  const SERVERS = ['10.10.1.20', '10.10.2.20', '10.10.3.20'];
  let world: World;
  let plan: { spec: { postCompleteDelay?: string; prepare?: { command: string[]; args: string[] } } };
  beforeEach(() => {
    world = new World();
    world.instantSleep();
    plan = parse(renderValidFixture('rke2-kine-flux.yaml').get('manifests/system-upgrade-plans/plan-server-plan.yaml')!);
  });
  afterEach(() => world.cleanup());
  /** The servers' Nodes as the local API server answers (the kubectl stub's world: one entry per server), `down` NotReady. */
  const servers = (down: string[]) =>
    writeFileSync(join(world.dir, 'etcd.json'), JSON.stringify({ clusters: 1, ca: '1', members: SERVERS.map((ip, i) => ({ name: `s${i}`, nodeName: host(ip), ip, ...(down.includes(ip) ? { down: true } : {}) })) }));
  /** srv-b's Job runs the prepare step (chroot into the host: its kubectl and admin kubeconfig); 3 checks, not 120. */
  const runOnSrvB = () => {
    const node = world.node(host(SERVERS[1]!), SERVERS[1]!);
    node.stubBinary('/var/lib/rancher/rke2/bin/kubectl');
    const prepare = plan.spec.prepare!.args[2]!;
    expect(prepare).toContain('[ "$n" -lt 120 ] ||');
    return node.run(`#!/bin/sh\n${prepare.replace('[ "$n" -lt 120 ]', '[ "$n" -lt 3 ]')}\n`);
  };

  it('the controller waits after each server (postCompleteDelay), then the prepare step runs in the host', () => {
    // Before: no prepare and no delay on Kine.
    expect(plan.spec.postCompleteDelay).toBe('5m');
    expect(plan.spec.prepare!.command).toStrictEqual(['chroot', '/host']);
    expect(plan.spec.prepare!.args.slice(0, 2)).toStrictEqual(['sh', '-c']);
  });

  it('every server Ready: the Job goes on; no etcd is asked about and no snapshot taken', () => {
    servers([]);
    const r = runOnSrvB();
    expect(r.code, r.stderr).toBe(0);
    const calls = world.calls();
    for (const ip of SERVERS) expect(calls).toContain(`${host(SERVERS[1]!)} kubectl get node ${host(ip)} -o jsonpath={.status.conditions[?(@.type=="Ready")].status}`);
    expect(calls.some((c) => c.includes('etcd'))).toBe(false);
  });

  it('srv-a not back after its Job (its rke2 does not start on the new release): srv-b\'s Job fails, srv-b is not touched', () => {
    servers([SERVERS[0]!]);
    const r = runOnSrvB();
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('odp-upgrade-gate: the server 10.10.1.20 is not Ready after 10 minutes: this server is not upgraded (a second server down on a release that does not start would leave fewer API servers, none once every server has restarted on it)');
    expect(world.calls().filter((c) => c.includes(`get node ${host(SERVERS[0]!)} `))).toHaveLength(3);
    expect(world.calls().some((c) => c.includes(host(SERVERS[2]!)))).toBe(false);
  });
});

describe('K3s on Kine PostgreSQL (valid fixture k3s-postgres): the same gate on its server Plan', () => {
  const SERVERS = ['10.10.1.10', '10.10.1.11', '10.10.1.12'];
  let world: World;
  beforeEach(() => {
    world = new World();
    world.instantSleep();
  });
  afterEach(() => world.cleanup());

  it('the first server not back: the second server\'s Job fails (asked with K3s\' kubectl and admin kubeconfig)', () => {
    const plan = parse(renderValidFixture('k3s-postgres.yaml').get('manifests/system-upgrade-plans/plan-server-plan.yaml')!);
    expect(plan.spec.postCompleteDelay).toBe('5m');
    expect(plan.spec.prepare.command).toStrictEqual(['chroot', '/host']);
    writeFileSync(join(world.dir, 'etcd.json'), JSON.stringify({ clusters: 1, ca: '1', members: SERVERS.map((ip, i) => ({ name: `s${i}`, nodeName: host(ip), ip, ...(i === 0 ? { down: true } : {}) })) }));
    const node = world.node(host(SERVERS[1]!), SERVERS[1]!);
    node.stubBinary('/usr/local/bin/kubectl');
    const prepare: string = plan.spec.prepare.args[2];
    expect(prepare).toContain('export KUBECONFIG=/etc/rancher/k3s/k3s.yaml');
    const r = node.run(`#!/bin/sh\n${prepare.replace('[ "$n" -lt 120 ]', '[ "$n" -lt 3 ]')}\n`);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('odp-upgrade-gate: the server 10.10.1.10 is not Ready after 10 minutes: this server is not upgraded (a second server down on a release that does not start would leave fewer API servers, none once every server has restarted on it)');
    expect(world.calls().filter((c) => c.includes(`kubectl get node ${host(SERVERS[0]!)} `))).toHaveLength(3);
  });
});
