/**
 * Two consumers that were applied before what makes them work (found open at the end of session 6):
 *
 * - Volumes: the StorageClass gp3 is usable only once the EBS CSI driver runs. Its Flux unit
 *   (`aws-ebs-csi-driver-manifests`) had no dependsOn: Ready at once (a StorageClass has no status: kstatus
 *   counts it Current, fluxcd/cli-utils v1.2.1 pkg/kstatus/status/generic.go, research/sync-semantics.md F9.2),
 *   so the units with claims (kube-prometheus-stack, a StatefulSet workload) started beside the driver. A claim
 *   then stays Pending (WaitForFirstConsumer: once its pod is scheduled) until the driver's controller runs the
 *   csi-provisioner (aws-ebs-csi-driver chart 2.64.0 templates/controller.yaml:3, 73, 216; templates/csidriver.yaml:5
 *   `ebs.csi.aws.com`); with the driver failing, they sat unhealthy instead of waiting at their dependsOn.
 * - metrics-server on Talos: its Deployment is Ready only after scraping a kubelet (/readyz `metric-storage-ready`,
 *   kubernetes-sigs/metrics-server v0.8.1 pkg/server/server.go:148-152, 187-197; pkg/storage/storage.go:40-46;
 *   chart 3.13.1 values.yaml:112-119), over TLS it verifies (values.yaml:96-100, no --kubelet-insecure-tls); Talos
 *   kubelets get their serving certificates only once kubelet-csr-approver approves their CSRs
 *   (postfinance/kubelet-csr-approver v1.2.14 internal/controller/csr_controller.go:86, 214-217). Its HelmRelease has
 *   3 remediated retries, then stalls for good (fluxcd/helm-controller v1.6.1 internal/reconcile/atomic_release.go:
 *   509-513, Stalled RetriesExceeded :204-207): applied beside a failing approver it could spend them.
 *
 * The facts are catalog data (aws-ebs-csi-driver and metrics-server chart facts, the Talos approver's facts, the
 * K3s/RKE2 cluster capabilities); the graph derives the edges, each engine renders them.
 */
import { describe, expect, it } from 'vitest';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { deliveryGraph } from '../generators/plan/graph.js';
import { cap } from '../generators/plan/needs.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { failureBlocks, motionOf } from '../generators/validate/motion/index.js';
import { simulate } from '../generators/validate/motion/simulate.js';
import { parseRenderedTree } from '../generators/validate/rendered/tree.js';
import { fixtureSources, formatted } from './helpers.js';

type Obj = { kind: string; metadata: { name: string; annotations?: Record<string, string> }; spec?: Record<string, any> };

function prepared(file: string) {
  const { name, sources } = fixtureSources('valid', file);
  const r = prepareEnvironment(name, sources);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  return { name, model: r.prepared.model, files: new Map(renderEnvironment(r.prepared).map((f) => [f.path, f.content])) };
}
type Prepared = ReturnType<typeof prepared>;
const doc = (p: Prepared, path: string): Obj => parseYamlStream(p.files.get(path)!)[0] as Obj;
const motion = (p: Prepared, edit: (files: Map<string, string>) => void = () => {}) => {
  const files = new Map(p.files);
  edit(files);
  return motionOf(parseRenderedTree(new Map([...files].map(([path, content]) => [`${p.name}/${path}`, content]))), p.name, p.model)!;
};
/** Remove a Kustomization's dependsOn entry from the rendered tree (the tree as it was before the fix). */
const dropDependsOn = (unit: string, dep: string) => (files: Map<string, string>) => {
  const path = `flux/kustomizations/${unit}.yaml`;
  const text = files.get(path)!;
  const without = text.replace(`    - name: ${dep}\n`, '').replace('  dependsOn:\n  interval', '  interval');
  expect(without).not.toBe(text);
  files.set(path, without);
};

const PROVISIONER = cap.provisioner('ebs.csi.aws.com');

describe('the delivery graph: storage after its provisioner, metrics-server after the kubelets\' serving certificates', () => {
  it('Talos: the StorageClass step waits for the driver\'s chart, its consumers for the StorageClass; metrics-server for the approver', () => {
    const g = deliveryGraph(prepared('flux-talos.yaml').model);
    const edge = (from: string, to: string) => g.edges.find((e) => e.from === from && e.to === to);
    expect(edge('aws-ebs-csi-driver/after', 'aws-ebs-csi-driver')).toMatchObject({ what: PROVISIONER, why: 'StorageClass gp3: provisioner' });
    for (const consumer of ['inference', 'kube-prometheus-stack']) expect(edge(consumer, 'aws-ebs-csi-driver/after')?.what).toBe(cap.storageClass('gp3'));
    expect(edge('metrics-server', 'kubelet-csr-approver')).toMatchObject({ what: cap.kubeletServingCertificates, retried: true });
    expect(g.unresolved).toStrictEqual([]);
  });

  it('RKE2 (K3s alike): the kubelets have their serving certificates at boot, so metrics-server waits for no unit for them', () => {
    const g = deliveryGraph(prepared('rke2-etcd.yaml').model);
    expect(g.base.has(cap.kubeletServingCertificates)).toBe(true);
    expect(g.edges.filter((e) => e.what === cap.kubeletServingCertificates)).toStrictEqual([]);
    expect(g.edges.find((e) => e.from === 'aws-ebs-csi-driver/after')?.what).toBe(PROVISIONER);
    expect(g.unresolved).toStrictEqual([]);
  });
});

describe('Flux (flux-talos): dependsOn and the first sync', () => {
  const p = prepared('flux-talos.yaml');
  const deps = (k: string) => ((doc(p, `flux/kustomizations/${k}.yaml`).spec!.dependsOn ?? []) as { name: string }[]).map((d) => d.name);

  it('rendered: the StorageClass\'s unit depends on the driver, metrics-server on the approver', () => {
    expect(deps('aws-ebs-csi-driver-manifests')).toStrictEqual(['aws-ebs-csi-driver']);
    expect(deps('metrics-server')).toContain('kubelet-csr-approver');
    // The consumers of the StorageClass still name its unit (which now comes after the driver).
    for (const k of ['inference', 'kube-prometheus-stack']) expect(deps(k)).toContain('aws-ebs-csi-driver-manifests');
  });

  it('first-sync simulator: converges; a failed driver holds back every unit with claims, a failed approver holds back metrics-server', () => {
    const m = motion(p);
    expect(m.findings.filter((d) => d.severity === 'error')).toStrictEqual([]);
    const s = simulate(m.units, m.base, m.nodes);
    for (const u of ['aws-ebs-csi-driver-manifests', 'inference', 'kube-prometheus-stack', 'metrics-server']) expect(s.state.get(u), u).toBe('ready');
    expect(failureBlocks(m, 'aws-ebs-csi-driver')).toEqual(expect.arrayContaining(['aws-ebs-csi-driver-manifests', 'inference', 'kube-prometheus-stack']));
    expect(failureBlocks(m, 'kubelet-csr-approver')).toContain('metrics-server');
    // Held back at its dependsOn (re-checked until the approver is Ready), not failed: nothing is spent.
    const held = simulate(m.units, m.base, m.nodes, new Set(['kubelet-csr-approver']));
    expect(held.state.get('metrics-server')).toBe('pending');
    expect(held.failures.has('metrics-server')).toBe(false);
  });

  it('the tree as it was (no dependsOn on the driver, none on the approver): consumers start without what they need', () => {
    // Driver failed: the StorageClass's unit is Ready anyway (kstatus), and the StatefulSet's unit is applied with claims
    // nothing provisions: never Ready, blocked on the class the provisioner never serves.
    const storage = motion(p, dropDependsOn('aws-ebs-csi-driver-manifests', 'aws-ebs-csi-driver'));
    const s = simulate(storage.units, storage.base, storage.nodes, new Set(['aws-ebs-csi-driver']));
    expect(s.state.get('aws-ebs-csi-driver-manifests')).toBe('ready');
    expect(s.state.get('inference')).toBe('applied');
    expect(s.blocked.get('inference')?.need.what).toBe(cap.storageClass('gp3'));
    // Approver failed: metrics-server installs beside it and its Deployment is never Ready. Its install retries without
    // limit (install.remediation.retries: -1; with the former 3 it stalled for good), so it is not failed, only
    // uninstalled and installed again for as long as the approver fails.
    const certs = motion(p, dropDependsOn('metrics-server', 'kubelet-csr-approver'));
    const c = simulate(certs.units, certs.base, certs.nodes, new Set(['kubelet-csr-approver']));
    expect(c.state.get('metrics-server')).toBe('applied');
    expect(c.blocked.get('metrics-server')?.need.what).toBe(cap.kubeletServingCertificates);
  });
});

describe('Argo CD (minimal, Talos): waves', () => {
  const p = prepared('minimal.yaml');
  const wave = (o: Obj): number => Number(o.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? 0);
  const app = (name: string) => doc(p, `apps/${name}.yaml`);

  it('the approver shares metrics-server\'s wave (the last, never waited on); the StorageClass is a resource wave after the driver\'s chart', () => {
    // metrics-server retries (it scrapes every 15 s, its readiness probe passes once one succeeds): the edge is
    // `retried`, so the approver need not come a wave earlier, where a failing approver would hold back the whole last
    // wave (plan/graph.ts unitLayers). Nothing waits for metrics-server.
    expect(wave(app('kubelet-csr-approver'))).toBe(wave(app('metrics-server')));
    expect(wave(app('metrics-server'))).toBe(Math.max(...[...p.files.keys()].filter((f) => /^apps\/[^/]+\.yaml$/.test(f)).map((f) => wave(doc(p, f)))));
    expect(wave(app('aws-ebs-csi-driver'))).toBeLessThan(wave(app('kube-prometheus-stack')));
    // Inside the driver's Application: the chart's objects (wave 0) are applied and healthy before the StorageClass.
    expect(wave(doc(p, 'manifests/aws-ebs-csi-driver/storageclass-gp3.yaml'))).toBeGreaterThan(0);
  });

  it('first-sync simulator: converges with no error; a failed approver holds back no other Application', () => {
    const m = motion(p);
    expect(m.findings.filter((d) => d.severity === 'error')).toStrictEqual([]);
    const approver = m.units.find((u) => u.id.endsWith('kubelet-csr-approver'))!.id;
    expect(failureBlocks(m, approver)).toStrictEqual([]);
  });
});
