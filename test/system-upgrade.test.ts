/**
 * Upgrades of the K3s and RKE2 environments through Rancher's system-upgrade-controller: the
 * controller and the two Plans are catalog add-ons of the family, rendered for every such example
 * environment with the release it pins (research/day2.md "system-upgrade-controller v0.20.1" and
 * the distributions' upgrades/automated.md: server Plan concurrency 1 + cordon on the control planes,
 * agent Plan whose prepare `prepare server-plan` waits for it); Talos renders none.
 */
import { describe, expect, it } from 'vitest';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { canonicalJson, sha256 } from '../generators/lib/hash.js';
import { prepareExample, renderExample } from './helpers.js';
import { diagnosticsOf, inlineSources } from './support/inline-env.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { formatted } from './helpers.js';
import { planErrors, SUC_KUBECTL_TAGS } from '../generators/distributions/rancher/addons/system-upgrade-controller.js';
import { K3S_RELEASES } from '../generators/distributions/k3s/releases.js';
import { RKE2_RELEASES } from '../generators/distributions/rke2/rules.js';

const EXAMPLES = ['dev', 'dev-k3s', 'staging', 'staging-k3s', 'prod'] as const;

type Plan = { metadata: { name: string; namespace: string }; spec: Record<string, unknown> & { version: string; prepare?: { image: string; args: string[]; command?: string[] }; upgrade: { image: string } } };

const plansOf = (files: Map<string, string>): Plan[] =>
  [...files].filter(([p]) => p.startsWith('manifests/system-upgrade-plans/')).map(([, t]) => parseYamlStream(t)[0] as Plan);

describe('system-upgrade-controller Plans', () => {
  it.each(EXAMPLES)('%s: Plans for the family at the pinned release, none for others', (env) => {
    const r = prepareExample(env);
    const m = r.prepared!.model;
    const files = new Map(renderExample(env).map((f) => [f.path, f.content]));
    const plans = plansOf(files);
    if (m.cluster.distribution === 'talos') {
      expect(plans).toStrictEqual([]);
      expect([...files.keys()].some((p) => p.includes('system-upgrade'))).toBe(false);
      return;
    }
    const version = (m.cluster.extension as { version: string }).version;
    const image = `${m.cluster.distribution === 'k3s' ? 'rancher/k3s-upgrade' : 'rancher/rke2-upgrade'}:${version.replace('+', '-')}`;
    const server = plans.find((p) => p.metadata.name === 'server-plan')!;
    const agent = plans.find((p) => p.metadata.name === 'agent-plan')!;
    expect(server.spec).toMatchObject({ version, concurrency: 1, cordon: true, upgrade: { image }, serviceAccountName: 'system-upgrade' });
    expect(server.spec.nodeSelector).toStrictEqual({ matchExpressions: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'In', values: ['true'] }] });
    expect(agent.spec).toMatchObject({ version, concurrency: 1, cordon: true, prepare: { image, args: ['prepare', 'server-plan'] } });
    expect(agent.spec.nodeSelector).toStrictEqual({ matchExpressions: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'DoesNotExist' }] });
    // Controller before Plans (it creates the Plan CRD when it starts: rancher/system-upgrade-controller pkg/upgrade/controller.go:184-194 @ v0.20.1).
    const readme = files.get('README.md')!;
    expect(readme).toContain(`\`rendered/${m.name}/${m.cluster.distribution}/manual-upgrade.sh\` (a copy on the node), as root on each server`);
    expect(files.has(`${m.cluster.distribution}/manual-upgrade.sh`)).toBe(true);
  });

  it('K3s on SQLite: the server Plan upgrades only while Litestream runs; RKE2 on etcd: a snapshot first', () => {
    const k3s = plansOf(new Map(renderExample('dev-k3s').map((f) => [f.path, f.content]))).find((p) => p.metadata.name === 'server-plan')!;
    expect(k3s.spec.prepare).toStrictEqual({ image: 'rancher/k3s-upgrade:v1.35.9-k3s1', command: ['chroot', '/host'], args: ['/usr/bin/env', 'SYSTEMD_OFFLINE=0', 'systemctl', 'is-active', '--quiet', 'litestream.service'] });
    const body = (extra = '') =>
      `cluster:\n  distribution: rke2\n  talosVersion: null\n  rke2Version: v1.35.7+rke2r1\n  kubernetesVersion: 1.35.7\n${extra}  datastore: { type: etcd, backup: { bucket: odp-fixture-etcd, prefix: etcd/fixture } }\nnodePools:\n  - { name: cp, role: controlplane, arch: amd64, instanceType: m7i.large, subnet: private-a, nodes: [{ name: cp-1, ip: 10.10.1.10 }] }\n`;
    const rke2 = inlineSources('rke2-upg', body());
    const r = prepareEnvironment('rke2-upg', rke2);
    expect(formatted(r).filter((l) => / error /.test(l))).toStrictEqual([]);
    const plans = plansOf(new Map(renderEnvironment(r.prepared!).map((f) => [f.path, f.content])));
    expect(plans.map((p) => p.metadata.name)).toStrictEqual(['server-plan']); // no agents, no agent Plan
    // The etcd gate first, then the snapshot (executed in test/rke2-upgrade-gate.test.ts).
    expect(plans[0]!.spec.prepare).toMatchObject({ image: 'rancher/rke2-upgrade:v1.35.7-rke2r1', command: ['chroot', '/host'], args: ['sh', '-c', expect.stringMatching(/\nexec \/usr\/local\/bin\/rke2 etcd-snapshot save --name pre-upgrade$/)] });
    expect(plans[0]!.spec.postCompleteDelay).toBe('5m');
    expect(plans[0]!.spec.version).toBe('v1.35.7+rke2r1');
    // The gate recognises an upgraded server's etcd pod by the release's etcd image, or by the environment's own.
    expect(plans[0]!.spec.prepare!.args[2]).toContain("\nETCD_TAG_START='v3.6.14-'\nETCD_TAG_END='-build20260723'\n");
    const own = inlineSources('rke2-upg', body('  rke2: { extraArgs: { etcd-image: registry.example.com/etcd:v3.6.14-own } }\n'));
    const r2 = prepareEnvironment('rke2-upg', own);
    expect(formatted(r2).filter((l) => / error /.test(l))).toStrictEqual([]);
    const gate = plansOf(new Map(renderEnvironment(r2.prepared!).map((f) => [f.path, f.content])))[0]!.spec.prepare!.args[2];
    expect(gate).toContain("\nETCD_TAG_START='v3.6.14-own'\nETCD_TAG_END=''\n");
  });

  // kubectl is supported within one minor of kube-apiserver (Kubernetes version skew policy, kubectl): the Jobs'
  // cordon/drain image follows the environment's minor, the target of an upgrade (one newer than the servers not yet
  // upgraded, within skew of both).
  it.each(['dev-k3s', 'staging-k3s'] as const)('%s: the upgrade Jobs\' kubectl is the environment\'s Kubernetes minor', (env) => {
    const m = prepareExample(env).prepared!.model;
    const files = new Map(renderExample(env).map((f) => [f.path, f.content]));
    const cm = parseYamlStream(files.get('manifests/system-upgrade-controller/configmap-default-controller-env.yaml')!)[0] as { data: Record<string, string> };
    const image = cm.data.SYSTEM_UPGRADE_JOB_KUBECTL_IMAGE!;
    expect(image).toMatch(new RegExp(`^rancher/kubectl:v${m.cluster.kubernetesMinor.replace('.', '\\.')}\\.\\d+$`));
  });

  // The controller reads its environment once, at start (rancher/system-upgrade-controller pkg/upgrade/job/job.go:81-86
  // @ v0.20.1): a new kubectl tag in the ConfigMap reaches the Jobs only through a new controller pod, so the pod
  // template carries the ConfigMap data's hash and a changed tag rolls the Deployment.
  it.each(['dev-k3s', 'staging-k3s'] as const)('%s: the controller\'s pod template carries the hash of its ConfigMap, so a new kubectl tag restarts it', (env) => {
    const files = new Map(renderExample(env).map((f) => [f.path, f.content]));
    const cm = parseYamlStream(files.get('manifests/system-upgrade-controller/configmap-default-controller-env.yaml')!)[0] as { data: Record<string, string> };
    const deployment = parseYamlStream(files.get('manifests/system-upgrade-controller/deployment-system-upgrade-controller.yaml')!)[0] as { spec: { template: { metadata: { annotations?: Record<string, string> } } } };
    expect(deployment.spec.template.metadata.annotations?.['checksum/config']).toBe(sha256(canonicalJson(cm.data)));
    const other = sha256(canonicalJson({ ...cm.data, SYSTEM_UPGRADE_JOB_KUBECTL_IMAGE: 'rancher/kubectl:v0.0.0' }));
    expect(other).not.toBe(deployment.spec.template.metadata.annotations?.['checksum/config']);
  });

  it('every Kubernetes minor the K3s and RKE2 release tables list has a kubectl tag; an upgrade\'s both ends are within skew of it', () => {
    const minors = new Set([...Object.keys(K3S_RELEASES), ...Object.keys(RKE2_RELEASES)]);
    for (const minor of minors) expect(SUC_KUBECTL_TAGS.find((t) => t.minor === minor), minor).toBeDefined();
    for (const t of SUC_KUBECTL_TAGS) {
      const n = Number(t.minor.split('.')[1]);
      const kubectl = Number(t.tag.split('.')[1]);
      // Upgrading from n-1 to n: the API servers are at n-1 or n, kubectl at n: within one minor of each.
      for (const server of [n - 1, n]) expect(Math.abs(kubectl - server), `${t.tag} against 1.${server}`).toBeLessThanOrEqual(1);
    }
  });

  it('a Kubernetes minor without a kubectl tag is refused at kubernetesVersion', () => {
    // No invalid fixture can hold this rule alone (one rule per fixture), checked: the kubectl minors include every minor
    // of the K3s and RKE2 release tables (the test above), and kubernetesVersion must be the release's own Kubernetes
    // (k3sVersion/rke2Version "ships Kubernetes …, not kubernetesVersion …"), whose minor the tables must list ("K3s 1.37
    // is not supported"). So a minor without a tag always meets one of those rules too: 1.37.1 on v1.35.9+k3s1 the
    // version mismatch, 1.33.1 on v1.33.1+k3s1 the unsupported release. The positioned message is asserted here instead;
    // the rule guards a release table that gains a minor before this table does (the test above fails then as well).
    // 1.37: the release tables refuse it too (their own rules); this rule names the kubectl table.
    const lines = diagnosticsOf('k3s-kubectl', 'cluster:\n  distribution: k3s\n  talosVersion: null\n  k3sVersion: v1.35.9+k3s1\n  kubernetesVersion: 1.37.1\n  datastore: { type: kine-sqlite, litestream: { bucket: odp-fixture-litestream, prefix: k3s/fixture } }\n');
    expect(lines).toContain(
      "environments/k3s-kubectl.yaml:8:22  cluster.kubernetesVersion: Kubernetes 1.37.1: the upgrade Jobs' kubectl (rancher/kubectl) has no tag listed for 1.37; kubectl is supported within one minor of the API server  (the generator lists rancher/kubectl for 1.34, 1.35, 1.36 (SUC_KUBECTL_TAGS in generators/distributions/rancher/addons/system-upgrade-controller.ts); use one of those minors)",
    );
    // The controller off: no upgrade Job runs kubectl, the rule is silent.
    const off = diagnosticsOf('k3s-kubectl', 'cluster:\n  distribution: k3s\n  talosVersion: null\n  k3sVersion: v1.35.9+k3s1\n  kubernetesVersion: 1.37.1\n  datastore: { type: kine-sqlite, litestream: { bucket: odp-fixture-litestream, prefix: k3s/fixture } }\naddons:\n  system-upgrade-controller: { enabled: false }\n  system-upgrade-plans: { enabled: false }\n');
    expect(off.some((l) => l.includes('rancher/kubectl'))).toBe(false);
  });

  it('turning the add-on on for Talos is refused at its position', () => {
    const r = prepareEnvironment('talos-suc', inlineSources('talos-suc', 'addons:\n  system-upgrade-controller: { enabled: true }\n'));
    expect(formatted(r).filter((l) => l.includes('system-upgrade-controller'))[0]).toMatch(/^environments\/talos-suc\.yaml:\d+:\d+ .*distribution talos has none/);
  });

  it('the Plan check refuses what the controller would ignore or reject (env instead of envs, no upgrade, version and channel)', () => {
    const bad = { apiVersion: 'upgrade.cattle.io/v1', kind: 'Plan', metadata: { name: 'p' }, spec: { version: 'v1', channel: 'https://x', prepare: { image: 'i:1', env: [] } } };
    expect(planErrors(bad).map((e) => `${e.path.join('.')}: ${e.message}`)).toStrictEqual([
      'spec.upgrade: spec.upgrade is required',
      'spec: a Plan names exactly one of version and channel',
      "spec.prepare.env: unknown field 'env' of a Plan's container (it is envs)",
    ]);
  });
});
