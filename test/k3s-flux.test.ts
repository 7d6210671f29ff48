/**
 * The valid fixture k3s-flux (K3s under Flux, Kine on SQLite with Litestream, flannel, a tainted GPU pool) walked as it
 * runs: how Flux arrives, K3s's packaged components against the rendered add-ons (one owner each), the first sync's
 * order and what a failed unit holds back, and the node upgrade Plans Flux delivers. The upstream lines each check
 * relies on are cited beside it and on docs/concepts/delivery-and-engines.md ("Flux on K3s: how it runs").
 */
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { bootstrapReleases } from '../generators/validate/motion/context.js';
import { failureBlocks, motionOf } from '../generators/validate/motion/index.js';
import { upgradePlan } from '../generators/upgrade-plan/plan.js';
import { parseRenderedTree } from '../generators/validate/rendered/tree.js';
import { fixtureSources, formatted } from './helpers.js';

const { name, sources } = fixtureSources('valid', 'k3s-flux.yaml');
const prepared = prepareEnvironment(name, sources);
const files = new Map((prepared.prepared ? renderEnvironment(prepared.prepared) : []).map((f) => [f.path, f.content]));
type Obj = { kind?: string; apiVersion?: string; metadata?: { name?: string; namespace?: string }; spec?: Record<string, unknown> };
const objects = (path: string): Obj[] => parseAllDocuments(files.get(path) ?? '').map((d) => d.toJS() as Obj).filter((o) => o && o.kind);
const dependsOn = (unit: string): string[] => ((objects(`flux/kustomizations/${unit}.yaml`)[0]?.spec?.dependsOn ?? []) as { name: string }[]).map((d) => d.name);
/** Every object Flux applies (the manifests the units' overlays reach) and the Flux objects themselves. */
const delivered = (): Obj[] => [...files.keys()].filter((p) => /^(manifests|flux)\/.*\.yaml$/.test(p) && !p.endsWith('kustomization.yaml') && !p.endsWith('kustomizeconfig.yaml')).flatMap(objects);

describe('k3s-flux: arrival and K3s packaged components', () => {
  it('renders', () => {
    expect(prepared.prepared).toBeDefined();
    expect(formatted(prepared).filter((l) => !l.includes(': warning: '))).toStrictEqual([]);
  });

  it('Flux arrives only through the bootstrap script: no node writes into K3s\'s auto-deploy directory', () => {
    // K3s's deploy controller applies what is under server/manifests on every start (k3s-io/k3s pkg/deploy/controller.go
    // listFilesIn, deploy); the user data writes psa.yaml and audit.yaml beside it, not in it.
    const userData = [...files].filter(([p]) => p.startsWith('k3s/userdata/'));
    expect(userData.length).toBeGreaterThan(0);
    for (const [p, text] of userData) expect(text, p).not.toContain('/var/lib/rancher/k3s/server/manifests');
    // The script installs the cloud controller and the operator with the HelmReleases' versions and values files.
    const releases = bootstrapReleases(files.get('flux/bootstrap/bootstrap.sh')!);
    expect(releases.map((r) => `${r.release}@${r.version} ${r.values}`)).toStrictEqual([
      `aws-cloud-controller-manager@0.0.11 rendered/${name}/values/aws-cloud-controller-manager.yaml`,
      `flux-operator@${(objects('flux/units/flux-operator/ocirepository-flux-operator.yaml')[0]!.spec!.ref as { tag: string }).tag} rendered/${name}/values/flux-operator.yaml`,
    ]);
    expect((objects('flux/units/aws-cloud-controller-manager/helmrelease-aws-cloud-controller-manager.yaml')[0]!.spec!.chart as { spec: { version: string } }).spec.version).toBe('0.0.11');
  });

  it('the README says where the bootstrap kubeconfig is: k3s.yaml on a server, pointed at the endpoint', () => {
    // K3s writes /etc/rancher/k3s/k3s.yaml with server https://127.0.0.1:6443 (docs.k3s.io "Cluster Access").
    const readme = files.get('README.md')!;
    expect(readme).toContain('`/etc/rancher/k3s/k3s.yaml`');
    expect(readme).toContain(`set \`server:\`\n  to \`${prepared.prepared!.model.cluster.endpoint}\``);
  });

  it('each packaged component K3s disables is replaced by a rendered add-on; the ones it keeps have no second owner', () => {
    const server = parse(files.get('k3s/server-1.yaml')!) as { disable: string[]; 'disable-cloud-controller': boolean; 'disable-network-policy'?: boolean; 'disable-kube-proxy'?: boolean };
    expect(server.disable).toStrictEqual(['local-storage', 'metrics-server', 'servicelb', 'traefik']);
    expect(server['disable-cloud-controller']).toBe(true);
    // With flannel, kube-router enforces the NetworkPolicies and kube-proxy routes Services: both stay on.
    expect(server['disable-network-policy']).toBeUndefined();
    expect(server['disable-kube-proxy']).toBeUndefined();
    const units = [...files.keys()].filter((p) => p.startsWith('flux/kustomizations/')).map((p) => p.slice('flux/kustomizations/'.length, -'.yaml'.length));
    // metrics-server → the add-on; servicelb/traefik → the Load Balancer Controller; local-storage → EBS CSI and gp3;
    // the cloud controller → aws-cloud-controller-manager.
    for (const u of ['metrics-server', 'aws-load-balancer-controller', 'aws-ebs-csi-driver', 'aws-ebs-csi-driver-manifests', 'aws-cloud-controller-manager']) expect(units).toContain(u);
    // CoreDNS (manifests/coredns.yaml) and the RuntimeClasses (manifests/runtimes.yaml) stay K3s's: nothing of theirs is rendered.
    const all = delivered();
    expect(all.filter((o) => o.kind === 'HelmRelease').length).toBeGreaterThan(5);
    expect(all.filter((o) => o.kind === 'RuntimeClass')).toStrictEqual([]);
    expect(all.filter((o) => o.metadata?.namespace === 'kube-system' && /^(coredns|kube-dns)$/.test(o.metadata?.name ?? ''))).toStrictEqual([]);
    // The device plugin runs with K3s's RuntimeClass.
    expect((parse(files.get('values/nvidia-device-plugin.yaml')!) as { runtimeClassName?: string }).runtimeClassName).toBe('nvidia');
  });
});

describe('k3s-flux: the first sync', () => {
  const tree = () => parseRenderedTree(new Map([...files].map(([p, c]) => [`${name}/${p}`, c])));
  it('orders providers before consumers (dependsOn)', () => {
    expect(dependsOn('system-upgrade-plans')).toContain('system-upgrade-controller');
    expect(dependsOn('litestream-alerts')).toContain('kube-prometheus-stack');
    expect(dependsOn('api')).toEqual(expect.arrayContaining(['external-secrets', 'external-secrets-store-apps', 'namespace-apps']));
    expect(dependsOn('queue')).toEqual(expect.arrayContaining(['aws-ebs-csi-driver-manifests', 'namespace-data']));
    expect(dependsOn('flux-operator-manifests')).toContain('external-secrets-store-flux-system');
    expect(dependsOn('aws-load-balancer-controller')).toContain('cert-manager');
  });

  it('a failed unit holds back only what needs it (kustomize-controller re-checks a dependency every 30 s and starts once it is Ready)', () => {
    const m = motionOf(tree(), name, prepared.prepared!.model)!;
    expect(failureBlocks(m, 'system-upgrade-controller')).toStrictEqual(['system-upgrade-plans']);
    expect(failureBlocks(m, 'external-secrets-store-apps')).toStrictEqual(['api']);
    expect(failureBlocks(m, 'external-secrets-store-flux-system')).toStrictEqual(['flux-operator-manifests']);
    expect(failureBlocks(m, 'nvidia-device-plugin')).toStrictEqual([]);
    // Its monitoring kinds' consumers: the Litestream rules and the sync alert (flux-sync-alerts, engines/flux/sync-alerts.ts).
    expect(failureBlocks(m, 'kube-prometheus-stack')).toStrictEqual(['flux-sync-alerts', 'litestream-alerts']);
  });
});

describe('k3s-flux: node upgrades delivered by Flux', () => {
  it('the server Plan, then the agent Plan waiting in prepare for it, both at the environment\'s release', () => {
    const server = objects('manifests/system-upgrade-plans/plan-server-plan.yaml')[0]!.spec as { version: string; concurrency: number; cordon: boolean; prepare: { args: string[] } };
    const agent = objects('manifests/system-upgrade-plans/plan-agent-plan.yaml')[0]!.spec as { version: string; concurrency: number; prepare: { args: string[] }; tolerations: { key: string }[] };
    expect(server.version).toBe('v1.35.9+k3s1');
    expect(agent.version).toBe(server.version);
    expect([server.concurrency, agent.concurrency]).toStrictEqual([1, 1]);
    // k3s-io/k3s-upgrade scripts/upgrade.sh prepare: waits until the server Plan applies to no node and every server's
    // kubelet runs the Plan's version (verify_masters_versions).
    expect(agent.prepare.args).toStrictEqual(['prepare', 'server-plan']);
    // Kine on SQLite: a server upgrades only while Litestream replicates.
    expect(server.prepare.args).toContain('litestream.service');
    // The GPU pool's taint is tolerated, or its node would never be upgraded.
    expect(agent.tolerations.map((t) => t.key)).toContain('nvidia.com/gpu');
    // Both Plans are in one unit, applied together after the controller (which creates the Plan CRD at start).
    expect(files.get('flux/units/system-upgrade-plans/kustomization.yaml')).toMatch(/plan-agent-plan\.yaml[\s\S]*plan-server-plan\.yaml/);
  });
});

describe('k3s-flux: the upgrade plan of a release bump says what the merge does (the release parameter, not the nodes stack)', () => {
  // The nodes read the release at first boot from the base stack's SSM parameter (distributions/rancher/release.ts): the
  // merge changes that parameter only; no node's user data changes, so the nodes stack stops no server and refreshes no
  // pool. On a minor bump, only an instance launched before the server Plan is done boots a kubelet newer than the API.
  const at = (release: string) => {
    const src = new Map(sources);
    const text = src.get(`environments/${name}.yaml`)!.replace('k3sVersion: v1.35.9+k3s1\n  kubernetesVersion: 1.35.9', `k3sVersion: ${release}\n  kubernetesVersion: ${release.slice(1, release.indexOf('+'))}`);
    expect(text).toContain(release);
    src.set(`environments/${name}.yaml`, text);
    return prepareEnvironment(name, src).prepared!;
  };
  const plan = (from: string, to: string) => {
    const h = at(to);
    return upgradePlan(at(from).data as Record<string, unknown>, h.model, h.data as Record<string, unknown>);
  };

  it('a minor bump: a caution step naming the parameter and the pools, only for instances launched before the server Plan is done; no fixed node stopped', () => {
    const p = plan('v1.35.9+k3s1', 'v1.36.3+k3s1');
    expect(p.steps.some((s) => s.gate === 'nodes stack')).toBe(false);
    const step = p.steps.find((s) => s.gate === 'release parameter')!;
    expect(step.title).toBe(`base stack: release parameter /odp/${name}/k3s/release names v1.36.3+k3s1`);
    expect(step.verdict).toBe('caution');
    expect(step.reason).toContain('no node\'s user data: the nodes stack is untouched (no fixed node is stopped, no pool refreshed)');
    expect(step.reason).toContain('general-amd64, general-arm64, gpu');
    expect(step.reason).toContain('a kubelet one minor newer than the API server');
    expect(step.reason).toContain('only instances launched in those minutes, not the running ones');
    expect(step.reason).not.toContain('server-1');
  });

  it('a patch bump: the same step, safe, without the kubelet skew; no release change: none', () => {
    const step = plan('v1.36.0+k3s1', 'v1.36.3+k3s1').steps.find((s) => s.gate === 'release parameter');
    expect(step?.verdict).toBe('safe');
    expect(step?.reason).not.toContain('newer than the API server');
    expect(plan('v1.36.3+k3s1', 'v1.36.3+k3s1').steps.find((s) => s.gate === 'release parameter')).toBeUndefined();
  });
});
