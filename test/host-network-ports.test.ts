/**
 * The node security groups admit a host-network add-on port exactly when the rendered platform listens there
 * (infra/aws/ports.ts hostNetworkPorts, catalog/host-network.ts `serves`). The expectation is derived here from
 * the rendered Helm values file (values/kube-prometheus-stack.yaml), falling back to the pinned chart's defaults
 * the table cites (prometheus-community/helm-charts charts/prometheus-node-exporter @ 0193199: hostNetwork: true,
 * service.port: 9100; kube-prometheus-stack 88.5.3 values.yaml:2711-2712 nodeExporter.enabled: true), and the
 * scheduler's view of the pools: node-exporter's and Prometheus' placement from the same file.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { HOST_NETWORK_PODS } from '../generators/catalog/host-network.js';
import { placementAt, valueAt } from '../generators/catalog/facts.js';
import { nodesOf, placeable } from '../generators/plan/nodes.js';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { exampleSources, FIXTURES, fixtureSources, formatted } from './helpers.js';

type Doc = Record<string, any>;
const EXAMPLES = ['dev', 'dev-k3s', 'prod', 'staging', 'staging-k3s'];
const VALID = readdirSync(join(FIXTURES, 'valid')).filter((f) => f.endsWith('.yaml')).sort();
const ROW = HOST_NETWORK_PODS.find((r) => r.serves)!;

function rendered(name: string, sources: Map<string, string>) {
  const r = prepareEnvironment(name, sources);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  const files = renderEnvironment(r.prepared);
  const values = files.find((f) => f.path.endsWith(`/values/${ROW.addon}.yaml`) || f.path === `values/${ROW.addon}.yaml`);
  const base = files.find((f) => f.path.endsWith('aws/base.yaml'));
  return { model: r.prepared.model, values: values ? (parse(values.content) as Doc) : undefined, base: base ? (parseYamlStream(base.content)[0] as Doc) : undefined };
}

/** `<target> <- <peer> <port>/tcp` of every node-to-node ingress rule on `port`s the host-network rows could open. */
function ruleKeys(base: Doc | undefined, ports: Set<number>): string[] {
  if (!base) return [];
  const groups: Record<string, string> = { ControlPlaneSecurityGroup: 'controlplane', WorkerSecurityGroup: 'worker' };
  return Object.values(base.Resources as Record<string, Doc>)
    .filter((r) => r.Type === 'AWS::EC2::SecurityGroupIngress' && r.Properties.SourceSecurityGroupId && ports.has(r.Properties.FromPort))
    .map((r) => `${groups[r.Properties.GroupId['Fn::GetAtt'][0]]} <- ${groups[r.Properties.SourceSecurityGroupId['Fn::GetAtt'][0]] ?? '?'} ${r.Properties.FromPort}/tcp`)
    .sort();
}

/** What the rendered values say: node-exporter on the host network, its port, and the groups of it and of its clients. */
function expected(r: ReturnType<typeof rendered>): { port?: number; keys: string[] } {
  const v = r.values;
  if (!v || valueAt(v, ROW.condition!) === false) return { keys: [] };
  const on = valueAt(v, ROW.key);
  if (!(typeof on === 'boolean' ? on : ROW.byDefault)) return { keys: [] };
  const port = (valueAt(v, ROW.serves!.key) as number | undefined) ?? ROW.serves!.byDefault;
  if (valueAt(v, ROW.serves!.clients.condition!) === false) return { port, keys: [] };
  const nodes = nodesOf(r.model);
  const groups = (p: ReturnType<typeof placementAt>) => [...new Set(nodes.filter((n) => placeable(p, n)).map((n) => n.role!))].sort();
  const targets = groups(placementAt(v, ROW.who, ROW.prefix, ROW.defaults));
  const peers = groups(placementAt(v, 'Prometheus', ROW.serves!.clients.prefix));
  const present = new Set(nodes.map((n) => n.role));
  return { port, keys: targets.flatMap((t) => peers.filter((p) => present.has(p)).map((p) => `${t} <- ${p} ${port}/tcp`)).sort() };
}

const cases: [string, () => ReturnType<typeof rendered>][] = [
  ...VALID.map((f): [string, () => ReturnType<typeof rendered>] => [`valid/${f}`, () => rendered(fixtureSources('valid', f).name, fixtureSources('valid', f).sources)]),
  ...EXAMPLES.map((e): [string, () => ReturnType<typeof rendered>] => [`example ${e}`, () => rendered(e, exampleSources())]),
];

describe('the node security groups open a host-network port exactly where the rendered values put a listener and its clients', () => {
  let opened = 0;
  it.each(cases)('%s', (_label, load) => {
    const r = load();
    const e = expected(r);
    expect(ruleKeys(r.base, new Set([ROW.serves!.byDefault, ...(e.port ? [e.port] : [])]))).toStrictEqual(e.keys);
    if (e.keys.length > 0) opened += 1;
  });
  it('the cases include environments that open it', () => expect(opened).toBeGreaterThan(5));
});

describe('what changes the rule', () => {
  const { name, sources } = fixtureSources('valid', 'k3s-flux.yaml');
  const withValues = (values: string) => {
    const s = new Map(sources);
    s.set(`environments/${name}.yaml`, `${s.get(`environments/${name}.yaml`)!}addons:\n  kube-prometheus-stack:\n    values:\n${values}`);
    return rendered(name, s);
  };
  const keys = (r: ReturnType<typeof rendered>, port = ROW.serves!.byDefault) => ruleKeys(r.base, new Set([port]));
  it('defaults: Prometheus runs on the untainted workers only, so the servers and workers admit 9100 from the workers alone', () => {
    const r = rendered(name, sources);
    expect(expected(r).keys).toStrictEqual(['controlplane <- worker 9100/tcp', 'worker <- worker 9100/tcp']);
    expect(keys(r)).toStrictEqual(expected(r).keys);
  });
  it('node-exporter off the host network: no rule (Prometheus reaches its pod address through the overlay)', () => {
    expect(keys(withValues('      prometheus-node-exporter: { hostNetwork: false }\n'))).toStrictEqual([]);
  });
  it('another port: that port, not 9100', () => {
    const r = withValues('      prometheus-node-exporter: { service: { port: 9200 } }\n');
    expect(keys(r)).toStrictEqual([]);
    expect(keys(r, 9200)).toStrictEqual(['controlplane <- worker 9200/tcp', 'worker <- worker 9200/tcp']);
  });
  it('no Prometheus, or no node-exporter: no rule', () => {
    expect(keys(withValues('      prometheus: { enabled: false }\n'))).toStrictEqual([]);
    expect(keys(withValues('      nodeExporter: { enabled: false }\n'))).toStrictEqual([]);
  });
  it('Prometheus tolerating the servers: they are a source too', () => {
    const r = withValues('      prometheus: { prometheusSpec: { tolerations: [{ operator: Exists }] } }\n');
    expect(keys(r)).toStrictEqual(['controlplane <- controlplane 9100/tcp', 'controlplane <- worker 9100/tcp', 'worker <- controlplane 9100/tcp', 'worker <- worker 9100/tcp']);
  });
});
