/** NetworkPolicy enforcement: what each CNI / Talos version renders, and the rule refusing the gap. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { getAt } from '../generators/lib/paths.js';
import { parseYamlStream } from '../generators/lib/yaml.js';
import type { EnvironmentModel } from '../generators/model/types.js';
import { prepareEnvironment } from '../generators/pipeline.js';
import { machineConfigDocuments } from '../generators/distributions/talos/machineconfig.js';
import { talosCluster } from '../generators/distributions/talos/model.js';
import { talosRelease } from '../generators/distributions/talos/release.js';
import { networkPolicyEnforcer } from '../generators/render/readme/workloads.js';
import { checkTalosDocuments } from '../generators/distributions/talos/checks.js';
import { FIXTURES, formatted, prepareExample, renderExample, SHARED, sharedPath } from './helpers.js';

type Obj = Record<string, unknown>;
const modelOf = (env: string): EnvironmentModel => prepareExample(env).prepared!.model;
const v1 = (m: EnvironmentModel, i: number): Obj => machineConfigDocuments(m, m.configTargets[i]!)[0] as Obj;

/** The fixture base with a changed cluster block and workloads, as an in-memory environment. */
function fixture(cluster: string, workloads = true): string[] {
  const sources = new Map<string, string>();
  const dir = FIXTURES;
  sources.set('environments/_fixture.yaml', readFileSync(join(dir, '_fixture.yaml'), 'utf8'));
  const lock = readFileSync(join(dir, '_fixture.ssm.lock.json'), 'utf8');
  sources.set('environments/_fixture.ssm.lock.json', lock);
  sources.set('environments/np.ssm.lock.json', lock);
  const w = workloads ? 'workloads:\n  - name: portal\n    image: ghcr.io/opendev/portal:1.4.2\n    resources: { requests: { cpu: 100m, memory: 128Mi } }\n' : '';
  sources.set('environments/np.yaml', `name: np\nextends: _fixture\ncluster:\n${cluster}${w}`);
  return formatted(prepareEnvironment('np', sources)).filter((l) => !l.includes(': warning: '));
}

describe('Talos CNI settings per version', () => {
  it('Talos 1.13 with flannel deploys kube-network-policies, on control planes and workers alike (as gen config writes cni)', () => {
    const dev = modelOf('dev');
    expect(talosCluster(dev).minor).toBe('1.13');
    for (const i of [0, 1]) expect(getAt(v1(dev, i), ['cluster', 'network', 'cni'])).toStrictEqual({ name: 'flannel', flannel: { kubeNetworkPoliciesEnabled: true } });
    expect(getAt(v1(dev, 0), ['cluster', 'proxy', 'disabled'])).toBeUndefined();
  });

  it('Talos 1.12 with flannel leaves cni unwritten (its schema has no kubeNetworkPoliciesEnabled)', () => {
    const prod = modelOf('prod');
    const m: EnvironmentModel = { ...prod, cluster: { ...prod.cluster, network: { ...prod.cluster.network, cni: 'flannel' } } };
    expect(getAt(v1(m, 0), ['cluster', 'network', 'cni'])).toBeUndefined();
  });

  it.skipIf(!sharedPath('upstream', 'talos', 'v1.13', 'config.schema.json') || !sharedPath('upstream', 'talos', 'v1.12', 'config.schema.json'))('the 1.13 field is valid against the v1.13 schema and refused by the v1.12 schema', () => {
    const schema = (v: string) => new Ajv2020({ strict: false, allErrors: true }).compile(JSON.parse(readFileSync(join(SHARED, 'upstream', 'talos', v, 'config.schema.json'), 'utf8')));
    const cni = { version: 'v1alpha1', cluster: { network: { cni: { name: 'flannel', flannel: { kubeNetworkPoliciesEnabled: true } } } } };
    expect(schema('v1.13')(cni)).toBe(true);
    expect(schema('v1.12')(cni)).toBe(false);
  });

  it('prod (Talos 1.12) renders Cilium: no Talos CNI, no kube-proxy, the cilium add-on first in the bootstrap', () => {
    const prod = modelOf('prod');
    expect([talosCluster(prod).minor, prod.cluster.network.cni]).toStrictEqual(['1.12', 'cilium']);
    const files = renderExample('prod');
    const cp = parseYamlStream(files.find((f) => f.path === 'talos/prod-cp-1.yaml')!.content)[0] as Obj;
    const worker = parseYamlStream(files.find((f) => f.path === 'talos/general-amd64.yaml')!.content)[0] as Obj;
    expect([getAt(cp, ['cluster', 'network', 'cni']), getAt(cp, ['cluster', 'proxy', 'disabled']), getAt(worker, ['cluster', 'network', 'cni'])]).toStrictEqual([{ name: 'none' }, true, { name: 'none' }]);
    const values = parseYamlStream(files.find((f) => f.path === 'values/cilium.yaml')!.content)[0] as Obj;
    expect([values.kubeProxyReplacement, values.k8sServiceHost, values.k8sServicePort, getAt(values, ['ipam', 'mode'])]).toStrictEqual([true, 'localhost', 7445, 'kubernetes']);
    const script = files.find((f) => f.path === 'argocd/bootstrap/bootstrap.sh')!.content;
    expect([...script.matchAll(/^helm upgrade --install '([^']+)'/gm)].map((m) => m[1])[0]).toBe('cilium');
    const kps = parseYamlStream(files.find((f) => f.path === 'values/kube-prometheus-stack.yaml')!.content)[0] as Obj;
    expect(getAt(kps, ['kubeProxy', 'enabled'])).toBe(false);
    const readme = files.find((f) => f.path === 'README.md')!.content;
    expect(readme).toContain('one per workload), enforced by Cilium.');
  });

  it('names the enforcer per distribution, CNI and Talos minor', () => {
    const dev = modelOf('dev');
    const k3s = modelOf('dev-k3s');
    const on = (m: EnvironmentModel, cni: 'flannel' | 'cilium', minor?: string): EnvironmentModel => ({
      ...m,
      cluster: { ...m.cluster, network: { ...m.cluster.network, cni }, ...(minor ? { extension: { ...talosCluster(m), minor } } : {}) },
    });
    expect([
      networkPolicyEnforcer(on(dev, 'flannel', '1.12')),
      networkPolicyEnforcer(on(dev, 'flannel', '1.13')),
      networkPolicyEnforcer(on(dev, 'cilium', '1.12')),
      networkPolicyEnforcer(on(k3s, 'flannel')),
      networkPolicyEnforcer(on(k3s, 'cilium')),
    ]).toStrictEqual([undefined, 'kube-network-policies, deployed by Talos along with flannel', 'Cilium', "K3s' embedded network policy controller (kube-router)", 'Cilium']);
    expect([talosRelease('1.12').flannelNetworkPolicies, talosRelease('1.13').flannelNetworkPolicies]).toStrictEqual([false, true]);
  });

  it('the rendered-config checker mirrors ValidateCNI', () => {
    const doc = (cni: Obj): Obj[] => [{ version: 'v1alpha1', machine: { type: 'worker' }, cluster: { controlPlane: { endpoint: 'https://x:6443' }, network: { cni } } }];
    const rules = (cni: Obj) => checkTalosDocuments('talos/x.yaml', doc(cni)).filter((d) => d.rule === 'talos.cni').map((d) => d.message);
    expect(rules({ name: 'flannel', flannel: { kubeNetworkPoliciesEnabled: true } })).toStrictEqual([]);
    expect(rules({ name: 'none', flannel: { kubeNetworkPoliciesEnabled: true, extraArgs: ['--x'] } })).toStrictEqual([
      '"flanneldExtraArgs" field should be empty for "none" CNI',
      '"flannelKubeNetworkPoliciesEnabled" should not be enabled for "none" CNI',
    ]);
    expect(rules({ name: 'flannel', urls: ['https://x/cni.yaml'] })).toStrictEqual(['"urls" field should be empty for "flannel" CNI']);
  });
});

describe('rule network-policy-enforcement', () => {
  const msg = 'cluster.talosVersion: Talos v1.12.11 with flannel cannot enforce NetworkPolicies, but 1 workload relies on them';
  it('points at cluster.talosVersion when cni is not written', () => {
    expect(fixture('  talosVersion: v1.12.11\n  kubernetesVersion: 1.35.4\n')).toStrictEqual([
      `environments/np.yaml:4:17  ${msg} (default-deny per namespace): all traffic would be allowed  (set cluster.network.cni: cilium, or pin Talos ≥ v1.13 (flannel with kube-network-policies))`,
    ]);
  });
  it('accepts Talos 1.12 with Cilium, Talos 1.13 with flannel, and Talos 1.12 without workloads', () => {
    expect(fixture('  talosVersion: v1.12.11\n  kubernetesVersion: 1.35.4\n  network: { podCIDR: 10.244.0.0/16, serviceCIDR: 10.96.0.0/12, cni: cilium }\n')).toStrictEqual([]);
    expect(fixture('  talosVersion: v1.13.9\n')).toStrictEqual([]);
    expect(fixture('  talosVersion: v1.12.11\n  kubernetesVersion: 1.35.4\n', false)).toStrictEqual([]);
  });
});
