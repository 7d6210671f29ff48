/**
 * Host-network add-on pods and the node role (catalog/host-network.ts, validate/access.ts route
 * host-network, rule host-network-role). A pod on the host network shares the node's network namespace:
 * no NetworkPolicy selects it (the IMDS denial of catalog/network-policies.ts does not apply) and the
 * IMDSv2 hop limit does not count, so it wears the node's role. kube-prometheus-stack's node-exporter
 * runs so by default and tolerates every NoSchedule taint (prometheus-community/helm-charts
 * charts/prometheus-node-exporter/values.yaml @ 0193199: hostNetwork: true, tolerations
 * [{effect: NoSchedule, operator: Exists}]), the control-plane taint included: on a node whose role
 * assumes the stores' roles (instance-profile mode) it could read every store's parameters.
 */
import { describe, expect, it } from 'vitest';
import { prepareEnvironment } from '../generators/pipeline.js';
import { accessGraph } from '../generators/validate/access.js';
import { resolveAddons } from '../generators/catalog/resolve.js';
import { catalogNames } from '../generators/catalog/index.js';
import { HOST_NETWORK_PODS, hostNetworkPods } from '../generators/catalog/host-network.js';
import { exampleSources, fixtureSources, formatted } from './helpers.js';

const FIXTURE = fixtureSources('valid', 'host-network-role.yaml');

/** The fixture with more YAML appended (top-level keys it does not set). */
function run(extra = '', base = FIXTURE) {
  const sources = new Map(base.sources);
  const file = `environments/${base.name}.yaml`;
  sources.set(file, `${sources.get(file)}${extra}`);
  return prepareEnvironment(base.name, sources);
}
const warnings = (r: ReturnType<typeof run>) => formatted(r).filter((l) => l.includes(': warning: namespace') && l.includes(' from the host network of pool '));
const hostEntries = (r: ReturnType<typeof run>) => {
  const g = accessGraph(r.prepared!.resolved, r.prepared!.model);
  return g.entries.filter((e) => e.route === 'host-network').map((e) => `${e.reader.kind === 'namespace' ? e.reader.namespace : '?'} ${e.via.join(' ')} ${e.identity}`);
};

describe('the host-network table', () => {
  it('names catalog add-ons, with a source each', () => {
    const names = new Set(catalogNames());
    for (const row of HOST_NETWORK_PODS) {
      expect(names.has(row.addon), row.addon).toBe(true);
      expect(row.source).toMatch(/values\.yaml/);
    }
  });

  it('with the catalog values, node-exporter and the cloud controller manager run on the host network', () => {
    const r = run();
    expect(r.prepared).toBeDefined();
    const pods = hostNetworkPods(resolveAddons(r.prepared!.model)).map((p) => `${p.namespace}/${p.who}`);
    expect(pods).toContain('monitoring/prometheus-node-exporter');
    expect(pods.every((p) => p.startsWith('kube-system/') || p === 'monitoring/prometheus-node-exporter'), pods.join(', ')).toBe(true);
  });
});

describe('the access graph', () => {
  it('puts node-exporter on every pool, the tainted control planes included', () => {
    expect(hostEntries(run())).toEqual(
      expect.arrayContaining(['monitoring host network of pool cp (prometheus-node-exporter) node:controlplane', 'monitoring host network of pool workers (prometheus-node-exporter) node:worker']),
    );
  });

  it('keeps it off a pool tainted NoExecute (it tolerates NoSchedule only)', () => {
    const sources = new Map(FIXTURE.sources);
    const base = sources.get('environments/_fixture.yaml')!;
    const tainted = base.replace(
      '    count: 1\n',
      '    count: 1\n  - { name: batch, role: worker, arch: amd64, instanceType: m7i.xlarge, subnet: private-a, count: 1, taints: [{ key: dedicated, value: batch, effect: NoExecute }] }\n',
    );
    expect(tainted).not.toBe(base);
    sources.set('environments/_fixture.yaml', tainted);
    const entries = hostEntries(run('', { name: FIXTURE.name, sources }));
    expect(entries.some((e) => e.includes('pool batch'))).toBe(false);
    expect(entries.some((e) => e.includes('pool workers'))).toBe(true);
    expect(entries.some((e) => e.includes('pool cp (prometheus-node-exporter)'))).toBe(true);
  });

  it('has no host-network route once node-exporter is off the host network, or off', () => {
    expect(hostEntries(run('addons:\n  kube-prometheus-stack: { values: { prometheus-node-exporter: { hostNetwork: false } } }\n')).filter((e) => e.startsWith('monitoring'))).toEqual([]);
    expect(hostEntries(run('addons:\n  kube-prometheus-stack: { values: { nodeExporter: { enabled: false } } }\n')).filter((e) => e.startsWith('monitoring'))).toEqual([]);
  });
});

describe('rule host-network-role', () => {
  it('warns at the pool whose node role assumes the stores\' roles', () => {
    const r = run();
    expect(r.prepared).toBeDefined();
    expect(warnings(r)).toStrictEqual([
      "environments/_fixture.yaml:22:5  nodePools[0]: warning: namespace monitoring wears node role fixture-controlplane from the host network of pool cp (prometheus-node-exporter): no NetworkPolicy or IMDS hop limit applies to a host-network pod; that role may assume role fixture-external-secrets-monitoring, so it can read /odp/host-network-role/grafana/admin-password, /odp/host-network-role/grafana/admin-user  (give the stores a web identity (aws.iam.mode irsa), take the pod off the host network (addons.kube-prometheus-stack.values.prometheus-node-exporter.hostNetwork: false; node-exporter's network collectors then report the pod's interfaces, not the node's), keep it off the pool with a taint it does not tolerate (node-exporter tolerates NoSchedule taints only, not NoExecute ones; the pool's nodes then go unmonitored), or acknowledge the warning with the reason)",
    ]);
  });

  it('is silent when node-exporter is off the host network', () => {
    const r = run('addons:\n  kube-prometheus-stack: { values: { prometheus-node-exporter: { hostNetwork: false } } }\n');
    expect(r.prepared).toBeDefined();
    expect(warnings(r)).toStrictEqual([]);
  });

  it('can be acknowledged apart from the pool\'s secret-access warnings', () => {
    const r = run('acknowledge:\n  - { rule: host-network-role, path: "nodePools[0]", reason: node metrics of the control planes; stores move to IRSA next quarter }\n');
    expect(r.prepared).toBeDefined();
    expect(warnings(r)).toStrictEqual([]);
  });

  it('warns on the K3s example at the servers (server token) and the controllers pool (the stores), not for the agent token every node reads', () => {
    // The example acknowledges both (its last entries): without them.
    const sources = exampleSources();
    const text = sources.get('environments/dev-k3s.yaml')!;
    expect(prepareEnvironment('dev-k3s', sources).acknowledged).toBe(3);
    sources.set('environments/dev-k3s.yaml', text.slice(0, text.indexOf('  - rule: host-network-role')));
    const r = prepareEnvironment('dev-k3s', sources);
    expect(warnings(r).map((l) => l.replace(/^(.*?): no NetworkPolicy or IMDS hop limit applies to a host-network pod; (.*?)  \((.*)\)$/, '$1 | $2 | $3'))).toStrictEqual([
      "environments/dev-k3s.yaml:36:5  nodePools[0]: warning: namespace monitoring wears node role odp-dev-k3s-controlplane from the host network of pool server (prometheus-node-exporter) | that role reads /odp/dev-k3s/k3s/token, /odp/dev-k3s/k3s/token-pending itself (the nodes' boot secrets, and what rotate-token.sh writes for them) | take the pod off the host network (addons.kube-prometheus-stack.values.prometheus-node-exporter.hostNetwork: false; node-exporter's network collectors then report the pod's interfaces, not the node's), keep it off the pool with a taint it does not tolerate (node-exporter tolerates NoSchedule taints only, not NoExecute ones; the pool's nodes then go unmonitored), or acknowledge the warning with the reason",
      "environments/dev-k3s.yaml:43:5  nodePools[1]: warning: namespace monitoring wears node role odp-dev-k3s-controllers from the host network of pool general (prometheus-node-exporter) | that role may assume role odp-dev-k3s-external-secrets-monitoring, so it can read /odp/dev-k3s/grafana/admin-password, /odp/dev-k3s/grafana/admin-user | give the stores a web identity (aws.iam.mode irsa), take the pod off the host network (addons.kube-prometheus-stack.values.prometheus-node-exporter.hostNetwork: false; node-exporter's network collectors then report the pod's interfaces, not the node's), keep it off the pool with a taint it does not tolerate (node-exporter tolerates NoSchedule taints only, not NoExecute ones; the pool's nodes then go unmonitored), or acknowledge the warning with the reason",
    ]);
  });

  it('is silent in web-identity mode (the control planes\' role then assumes no store role)', () => {
    const r = run('aws:\n  iam: { mode: irsa, issuerURL: https://odp-fixture-oidc.s3.eu-west-1.amazonaws.com }\n');
    expect(r.prepared).toBeDefined();
    const g = accessGraph(r.prepared!.resolved, r.prepared!.model);
    expect(g.identities.filter((i) => i.id.startsWith('node:') && i.assumes.length > 0)).toStrictEqual([]);
    expect(hostEntries(r)).toContain('monitoring host network of pool cp (prometheus-node-exporter) node:controlplane');
    expect(warnings(r)).toStrictEqual([]);
  });
});
