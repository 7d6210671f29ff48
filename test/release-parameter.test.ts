/**
 * The release a K3s or RKE2 node installs is read at first boot from the base stack's SSM String parameter
 * (generators/distributions/rancher/release.ts), not carried in its user data. A changed AWS::EC2::Instance UserData is
 * "Update requires: Some interruptions" (CloudFormation stops and starts the instance; cloud-init does not run the user
 * data again: once per instance, canonical/cloud-init cc_runcmd.py / cc_scripts_user.py PER_INSTANCE), a changed launch
 * template an instance refresh: with the release in the user data, a bump's merge stopped every fixed server at once
 * while the system-upgrade-controller's server Plan upgraded them one by one.
 *
 * - A release bump between two renders leaves every node's user data (and the nodes stack) byte-identical and changes
 *   only the base stack's parameter.
 * - Every node role may ssm:GetParameter exactly that parameter.
 * - The rendered boot script, run in the sandbox (test/support/node-sandbox.ts) against the aws stub answering as the
 *   AWS CLI v2 does, installs the release read from the parameter and refuses a missing, unreadable or malformed one
 *   (and an `unrecorded` hash) before it installs anything.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { K3S_ARTIFACTS } from '../generators/distributions/k3s/artifacts.js';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { fixtureSources, formatted } from './helpers.js';
import { POOL_JOIN_HOOK } from '../generators/distributions/rancher/pool-join.js';
import { serveRelease } from './support/artifacts.js';
import { K3S_INSTALL_STUB } from './support/installers.js';
import { World } from './support/node-sandbox.js';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function rendered(fixture: string, edit: (text: string) => string = (t) => t): Map<string, string> {
  const { sources } = fixtureSources('valid', `${fixture}.yaml`);
  const file = `environments/${fixture}.yaml`;
  const text = edit(sources.get(file)!);
  sources.set(file, text);
  const r = prepareEnvironment(fixture, sources);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  return new Map(renderEnvironment(r.prepared).map((f) => [f.path, f.content]));
}

const CASES = [
  { title: 'K3s', fixture: 'k3s-postgres', dir: 'k3s', key: 'k3sVersion', from: 'v1.35.2+k3s1', to: 'v1.35.9+k3s1', kube: ['1.35.2', '1.35.9'] },
  { title: 'RKE2', fixture: 'rke2-etcd', dir: 'rke2', key: 'rke2Version', from: 'v1.35.7+rke2r1', to: 'v1.36.3+rke2r1', kube: ['1.35.7', '1.36.3'] },
] as const;

describe.each(CASES)('$title: a release bump changes the base stack\'s release parameter only', (c) => {
  const before = rendered(c.fixture);
  // The release and the Kubernetes version it ships (an unset kubernetesVersion defaults to the fixture's release's).
  const after = rendered(c.fixture, (t) =>
    /kubernetesVersion:/.test(t)
      ? t.replace(`${c.key}: ${c.from}`, `${c.key}: ${c.to}`).replace(new RegExp(`kubernetesVersion: ["']?${c.kube[0].replace(/\./g, '\\.')}["']?`), `kubernetesVersion: ${c.kube[1]}`)
      : t.replace(`${c.key}: ${c.from}`, `${c.key}: ${c.to}\n  kubernetesVersion: ${c.kube[1]}`),
  );
  const param = `/odp/${c.fixture}/${c.dir}/release`;
  const paramOf = (files: Map<string, string>) => Object.values((parseYamlStream(files.get('aws/base.yaml')!)[0] as Doc).Resources as Record<string, Doc>).filter((r: Doc) => r.Type === 'AWS::SSM::Parameter' && r.Properties.Name === param);

  it('every node\'s user data and the nodes stack are byte-identical', () => {
    const userData = [...before.keys()].filter((p) => p.startsWith(`${c.dir}/userdata/`));
    expect(userData.length).toBeGreaterThan(1);
    for (const p of userData) {
      expect(after.get(p), p).toBe(before.get(p));
      expect(before.get(p)).not.toContain(c.from);
    }
    expect(after.get('aws/nodes.yaml')).toBe(before.get('aws/nodes.yaml'));
  });

  it('the base stack differs only in the parameter\'s value (a String parameter, its shape enforced by AllowedPattern)', () => {
    const b = paramOf(before)[0]!;
    const a = paramOf(after)[0]!;
    expect(b.Properties).toMatchObject({ Name: param, Type: 'String', Tier: 'Standard' });
    expect(b.Properties.Value).toMatch(new RegExp(`^version=${c.from.replace('+', '\\+')} install\\.sh=([0-9a-f]{64}|unrecorded) amd64=([0-9a-f]{64}|unrecorded) arm64=([0-9a-f]{64}|unrecorded)$`));
    expect(a.Properties.Value).toContain(`version=${c.to} `);
    for (const v of [a.Properties.Value, b.Properties.Value]) expect(v).toMatch(new RegExp(b.Properties.AllowedPattern));
    expect(before.get('aws/base.yaml')!.replace(b.Properties.Value, '')).toBe(after.get('aws/base.yaml')!.replace(a.Properties.Value, ''));
  });

  it('every node role may ssm:GetParameter exactly that parameter, nothing more on it', () => {
    const base = parseYamlStream(before.get('aws/base.yaml')!)[0] as Doc;
    const policies = Object.entries(base.Resources as Record<string, Doc>).filter(([id, r]) => r.Type === 'AWS::IAM::ManagedPolicy' && id.endsWith('BootSecretsPolicy'));
    const roles = Object.entries(base.Resources as Record<string, Doc>).filter(([, r]) => r.Type === 'AWS::IAM::Role' && r.Properties.AssumeRolePolicyDocument.Statement[0].Principal.Service === 'ec2.amazonaws.com');
    expect(policies.length).toBe(roles.length);
    for (const [id, p] of policies) {
      const on = (p.Properties.PolicyDocument.Statement as Doc[]).filter((s) => s.Resource.some((r: string) => r.endsWith(`:parameter${param}`)));
      expect(on, id).toStrictEqual([{ Action: ['ssm:GetParameter'], Effect: 'Allow', Resource: [`arn:aws:ssm:eu-west-1:${base.Resources[id].Properties.PolicyDocument.Statement[0].Resource[0].split(':')[4]}:parameter${param}`] }]);
    }
  });
});

describe('the boot script reads the release from the parameter and refuses a bad one (sandbox)', () => {
  const CIS = { 'vm.panic_on_oom': '0', 'vm.overcommit_memory': '1', 'kernel.panic': '10', 'kernel.panic_on_oops': '1' };
  const HOST = 'ip-10-10-2-20.eu-west-1.compute.internal';
  const files = rendered('k3s-postgres');
  // The pool's agent (held under its launch lifecycle hook: generators/distributions/rancher/pool-join.ts).
  const agent = 'k3s/userdata/workers.yaml';
  const ID = 'i-0123456789abcdef0';
  const PARAM = '/odp/k3s-postgres/k3s/release';
  let world: World;
  let restore: () => void;
  const fresh = () => {
    world = new World();
    world.instantSleep();
    world.sysctlDefaults(CIS);
    world.ssm('/odp/k3s-postgres/k3s/agent-token', 'agent-secret');
    world.launching(ID, 'fixture-workers', POOL_JOIN_HOOK);
  };
  beforeEach(() => {
    fresh();
    restore = serveRelease(world, K3S_ARTIFACTS, 'k3s', 'v1.35.9+k3s1', { 'install.sh': K3S_INSTALL_STUB, amd64: '#!/bin/sh\necho k3s v1.35.9+k3s1\n' });
  });
  afterEach(() => {
    restore();
    world.cleanup();
  });
  const boot = () => world.node(HOST, '10.10.2.20', 'amd64', ID).boot(files.get(agent)!);
  const installed = () => world.node(HOST, '10.10.2.20', 'amd64', ID).exists('/usr/local/bin/k3s');

  it('installs the release the parameter names (not the fixture\'s v1.35.2+k3s1, which the user data does not carry)', () => {
    const r = boot();
    expect(r.code, r.stderr).toBe(0);
    expect(world.node(HOST, '10.10.2.20', 'amd64', ID).read('/usr/local/bin/k3s')).toContain('k3s v1.35.9+k3s1');
    expect(r.stderr).toContain('odp-k3s-boot: K3s agent started');
    expect(world.calls().filter((l) => l.includes('get-parameter') && l.includes(PARAM))).toHaveLength(1);
  });

  it('a missing parameter (ParameterNotFound) or one the role may not read (AccessDenied): retried, then the boot stops naming it; nothing installed', () => {
    restore();
    restore = () => {};
    for (const setup of [() => world.ssm(PARAM.replace('k3s-postgres', 'other'), 'x'), () => world.ssmUnreadable([PARAM])]) {
      world.cleanup();
      fresh();
      setup();
      const r = boot();
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`odp-k3s-boot: cannot read SSM parameter ${PARAM}`);
      expect(installed()).toBe(false);
    }
  });

  it.each([
    ['a bad release', 'version=v1.35.9 install.sh=' + 'a'.repeat(64) + ' amd64=' + 'b'.repeat(64) + ' arm64=' + 'c'.repeat(64)],
    ['a short hash', 'version=v1.35.9+k3s1 install.sh=' + 'a'.repeat(63) + ' amd64=' + 'b'.repeat(64) + ' arm64=' + 'c'.repeat(64)],
    ['a shell word', "version=v1.35.9+k3s1 install.sh=$(reboot) amd64=" + 'b'.repeat(64) + ' arm64=' + 'c'.repeat(64)],
    ['two lines', 'version=v1.35.9+k3s1 install.sh=' + 'a'.repeat(64) + ' amd64=' + 'b'.repeat(64) + ' arm64=' + 'c'.repeat(64) + '\nversion=v1.35.9+k3s1 install.sh=' + 'a'.repeat(64) + ' amd64=' + 'b'.repeat(64) + ' arm64=' + 'c'.repeat(64)],
    ['an RKE2 release', 'version=v1.35.7+rke2r1 install.sh=' + 'a'.repeat(64) + ' amd64=' + 'b'.repeat(64) + ' arm64=' + 'c'.repeat(64)],
  ])('a malformed value (%s): refused before anything is downloaded', (_what, value) => {
    world.ssm('/odp/*/k3s/release', value);
    const r = boot();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`odp-k3s-boot: SSM parameter ${PARAM} does not hold a release record of K3s`);
    expect(world.calls().some((l) => /curl .*github/.test(l))).toBe(false);
    expect(installed()).toBe(false);
  });

  it('an `unrecorded` hash: refused with the command that records it', () => {
    world.ssm('/odp/*/k3s/release', `version=v1.35.9+k3s1 install.sh=${'a'.repeat(64)} amd64=unrecorded arm64=unrecorded`);
    const r = boot();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('odp-k3s-boot: refusing to install K3s v1.35.9+k3s1: no sha256 is recorded for its install.sh or amd64 artifact (/odp/k3s-postgres/k3s/release)');
    expect(r.stderr).toContain('npm run artifacts -- record');
    expect(installed()).toBe(false);
  });

  it('a hash the download does not have: refused by fetch_verified', () => {
    world.ssm('/odp/*/k3s/release', `version=v1.35.9+k3s1 install.sh=${'a'.repeat(64)} amd64=${'b'.repeat(64)} arm64=${'c'.repeat(64)}`);
    const r = boot();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('does not have the recorded sha256');
    expect(installed()).toBe(false);
  });
});

// The RKE2 boot installing the parameter's release in the sandbox: test/pool-join.test.ts, test/rke2-lifecycle.test.ts.
describe('RKE2: the release read from the parameter reaches install.sh\'s checksum file', () => {
  it('renders the tarball hash from the parameter into sha256sum-<arch>.txt', () => {
    const files = rendered('rke2-etcd');
    const ud = [...files.entries()].filter(([p]) => p.startsWith('rke2/userdata/'));
    for (const [, text] of ud) {
      expect(text).toContain(`printf '%s  %s\\n' "$RELEASE_SHA_ARTIFACT" rke2.linux-`);
      expect(text).toContain(`fetch_verified 'https://github.com/rancher/rke2/releases/download/'"$RELEASE_TAG"'/rke2.linux-`);
    }
  });
});
