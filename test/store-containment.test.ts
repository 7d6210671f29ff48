/**
 * One secret store that is not Ready holds back only the units that read through it. Each
 * namespace's ClusterSecretStore is a unit of its own (`external-secrets-store-<ns>`,
 * catalog/external-secrets.ts parts), after External Secrets' chart (CRDs and webhook) and before
 * only that namespace's consumers (plan/graph.ts); the fixture has two workload namespaces (qa: web,
 * shop: shop) and monitoring (Grafana's admin password).
 *
 * Upstream facts relied on:
 * - Flux: a Kustomization is applied once every `dependsOn` is Ready (fluxcd/kustomize-controller
 *   internal/controller/kustomization_controller.go checkDependencies, research/sync-semantics.md
 *   "dependsOn readiness needs Ready=True, observedGeneration == generation"); with `wait: true` it is
 *   Ready only when what it applied is healthy, and a ClusterSecretStore is judged by its Ready
 *   condition through healthCheckExprs (kustomize-controller v1.5.0+, research/sync-semantics.md F1).
 *   So a store's Kustomization that never becomes Ready holds back exactly the Kustomizations whose
 *   dependsOn names it.
 * - Argo CD: a sync applies one wave at a time and waits while a task of it is Progressing, Missing or
 *   Unknown (argoproj/argo-cd gitops-engine/pkg/sync/sync_context.go:538-582 @ v3.4.4, research/sync-semantics.md A1.6-A1.7);
 *   the last wave is never waited on (sync_context.go:688-697 @ v3.4.4, A1.7); an Application's health is the
 *   aggregate of its resources (controller/health.go), a ClusterSecretStore's health is its Ready
 *   condition (argo-cd resource_customizations/external-secrets.io/ClusterSecretStore/health.lua).
 *   So a store's Application in a wave before a namespace's workloads would hold back every later
 *   Application; the workloads' stores share their consumers' wave instead.
 * - ESO retries an ExternalSecret whose store is missing or not Ready: it marks it failed and returns
 *   the error (requeued with backoff; external-secrets v2.9.0
 *   pkg/controllers/externalsecret/externalsecret_controller.go:417-420), skipping the check of a store
 *   that does not exist yet (shouldSkipUnmanagedStore, :1144-1151). That is why a store may share its consumers' wave.
 */
import { describe, expect, it } from 'vitest';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { deliveryGraph, unitLayers } from '../generators/plan/graph.js';
import { cap } from '../generators/plan/needs.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { failureBlocks, motionOf } from '../generators/validate/motion/index.js';
import { simulate } from '../generators/validate/motion/simulate.js';
import { parseRenderedTree } from '../generators/validate/rendered/tree.js';
import { fixtureSources, formatted } from './helpers.js';

type Obj = { kind: string; metadata: { name: string; annotations?: Record<string, string> }; spec?: Record<string, any> };

const FLUX = (t: string) => t.replace('extends: _fixture\n', 'extends: _fixture\ngitops: flux\n');

function prepared(edit: (text: string) => string = (t) => t) {
  const { name, sources } = fixtureSources('valid', 'namespace-stores.yaml');
  sources.set(`environments/${name}.yaml`, edit(sources.get(`environments/${name}.yaml`)!));
  const r = prepareEnvironment(name, sources);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  return { name, r, files: renderEnvironment(r.prepared) };
}
const doc = (files: { path: string; content: string }[], path: string): Obj => parseYamlStream(files.find((f) => f.path === path)!.content)[0] as Obj;
const motion = (p: ReturnType<typeof prepared>) => motionOf(parseRenderedTree(new Map(p.files.map((f) => [`${p.name}/${f.path}`, f.content]))), p.name, p.r.prepared!.model)!;
const STORE = (ns: string) => `external-secrets-store-${ns}`;

describe('the delivery graph: each namespace waits for its own store only', () => {
  const { r } = prepared();
  const g = deliveryGraph(r.prepared!.model);

  it('each store is a unit of its own after the chart; each consumer waits for its namespace\'s store and no other', () => {
    for (const ns of ['monitoring', 'qa', 'shop']) {
      const provider = g.steps.find((s) => s.provides.includes(cap.clusterSecretStore(`aws-ssm-parameter-store-${ns}`)))!;
      expect(provider.id).toBe(STORE(ns));
      // It needs the chart's CRD and webhook, nothing of another store.
      expect([...new Set(g.edges.filter((e) => e.from === provider.id).map((e) => e.to))]).toStrictEqual(['external-secrets']);
    }
    const storesOf = (unit: string) => [...new Set(g.edges.filter((e) => e.from.split('/')[0] === unit && e.to.startsWith('external-secrets-store-')).map((e) => e.to))];
    expect(storesOf('web')).toStrictEqual([STORE('qa')]);
    expect(storesOf('shop')).toStrictEqual([STORE('shop')]);
    expect(storesOf('kube-prometheus-stack')).toStrictEqual([STORE('monitoring')]);
    // Nothing waits for the external-secrets unit's own manifests any more (it has none here).
    expect(g.steps.map((s) => s.id)).not.toContain('external-secrets/after');
  });

  it('layers: a workload namespace\'s store shares its consumers\' layer, never one before another namespace\'s workloads', () => {
    const layers = unitLayers(g);
    for (const [ns, w] of [['qa', 'web'], ['shop', 'shop']] as const) {
      expect(layers.get(STORE(ns))).toBe(layers.get(w));
      expect(layers.get(STORE(ns))! < layers.get(w === 'web' ? 'shop' : 'web')!).toBe(false);
    }
    // Still after the chart that brings the CRD and webhook.
    expect(layers.get('external-secrets')!).toBeLessThan(layers.get(STORE('qa'))!);
    // Nothing waits for kube-prometheus-stack here (no workload has a metricsPort): its store shares its layer too.
    expect(layers.get(STORE('monitoring'))).toBe(layers.get('kube-prometheus-stack'));
  });

  it('a consumer something waits for keeps its store one layer before it (its sync retries are limited)', () => {
    // web's metricsPort needs kube-prometheus-stack's ServiceMonitor CRD. An Argo CD Application gives up after
    // syncPolicy.retry.limit attempts (argo-cd controller/appcontroller.go:2231-2245 @ v3.4.4, research/sync-semantics.md).
    const metrics = prepared((t) => t.replace('    ports: [{ name: http, port: 8080 }]\n    env:\n      API_TOKEN', '    ports: [{ name: http, port: 8080 }]\n    metricsPort: http\n    env:\n      API_TOKEN'));
    const layers = unitLayers(deliveryGraph(metrics.r.prepared!.model));
    expect(layers.get('kube-prometheus-stack')!).toBeLessThan(layers.get('web')!);
    expect(layers.get(STORE('monitoring'))).toBe(layers.get('kube-prometheus-stack')! - 1);
    expect(layers.get(STORE('qa'))).toBe(layers.get('web'));
  });
});

describe('Flux: dependsOn names the namespace\'s own store; a failed store blocks only its namespace', () => {
  const p = prepared(FLUX);

  it('rendered dependsOn', () => {
    const deps = (k: string) => (doc(p.files, `flux/kustomizations/${k}.yaml`).spec!.dependsOn as { name: string }[]).map((d) => d.name);
    // The chart (CRD and webhook of ExternalSecret) and the namespace's own store; no other store, no unit holding them all.
    expect(deps('web').filter((d) => d.startsWith('external-secrets'))).toStrictEqual(['external-secrets', STORE('qa')]);
    expect(deps('shop').filter((d) => d.startsWith('external-secrets'))).toStrictEqual(['external-secrets', STORE('shop')]);
    expect(deps(STORE('qa'))).toStrictEqual(['external-secrets']);
    // The store's Kustomization waits for the store's Ready condition (healthCheckExprs).
    const store = doc(p.files, `flux/kustomizations/${STORE('qa')}.yaml`);
    expect(store.spec!.wait).toBe(true);
    expect((store.spec!.healthCheckExprs as { kind: string }[]).map((x) => x.kind)).toContain('ClusterSecretStore');
  });

  it('first-sync simulator: shop\'s store failing holds back shop only; qa\'s holds back web only', () => {
    const m = motion(p);
    expect(failureBlocks(m, STORE('shop'))).toStrictEqual(['shop']);
    expect(failureBlocks(m, STORE('qa'))).toStrictEqual(['web']);
    expect(failureBlocks(m, STORE('monitoring'))).toStrictEqual(['flux-sync-alerts', 'kube-prometheus-stack', 'kube-prometheus-stack-prerequisites']);
    const s = simulate(m.units, m.base, m.nodes, new Set([STORE('shop')]));
    expect(s.state.get('web')).toBe('ready');
    expect(m.findings.filter((d) => d.severity === 'error')).toStrictEqual([]);
  });
});

describe('Argo CD: no wave makes one namespace\'s workloads wait for another namespace\'s store', () => {
  const p = prepared();
  const wave = (app: string): number => {
    const a = doc(p.files, `apps/${app}.yaml`).metadata.annotations ?? {};
    return Number(a['argocd.argoproj.io/sync-wave'] ?? a['odp.opendev.dev/manual-sync-wave'] ?? 0);
  };

  it('rendered sync waves: each workload namespace\'s store is in its workloads\' wave, after the chart', () => {
    for (const [ns, w, other] of [['qa', 'web', 'shop'], ['shop', 'shop', 'web']] as const) {
      expect(wave(STORE(ns))).toBe(wave(w));
      expect(wave(STORE(ns))).toBeGreaterThanOrEqual(wave(other));
    }
    expect(wave('external-secrets')).toBeLessThan(wave(STORE('qa')));
  });

  it('first-sync simulator: with shop\'s store failed, web is still applied and Ready', () => {
    const m = motion(p);
    const appId = (name: string) => m.units.find((u) => u.id === name || u.id.endsWith(`-${name}`) || u.id.endsWith(`/${name}`))!.id;
    expect(failureBlocks(m, appId(STORE('shop')))).toStrictEqual([]);
    const s = simulate(m.units, m.base, m.nodes, new Set([appId(STORE('shop'))]));
    expect(s.state.get(appId('web'))).toBe('ready');
    expect(m.findings.filter((d) => d.severity === 'error')).toStrictEqual([]);
  });
});
