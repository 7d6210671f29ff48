/**
 * One owner per object: no object (apiVersion group, kind, namespace, name) is emitted by two sync units of one
 * environment (two Argo CD Applications, or two Flux Kustomizations / the FluxInstance's sync).
 *
 * Two owners of one object fight over it: Argo CD reports SharedResourceWarning when an object's tracking id names
 * another Application and each sync rewrites it (argo-cd docs user-guide/resource_tracking.md; gitops-engine
 * pkg/sync), and Flux's kustomize-controller takes the object over on each apply (its kustomize.toolkit.fluxcd.io/name
 * labels flip between the Kustomizations, and the one that loses it prunes it on its next reconciliation). A Namespace an
 * Application creates with managedNamespaceMetadata is applied by that Application on every sync (argo-cd v3.4.4
 * controller/sync_namespace.go syncNamespace: the managed metadata is server-side applied, the same field manager for
 * every Application), so two such Applications of one namespace are two owners of its labels.
 *
 * What a unit emits, read off the rendered files: an Application's `sources[].path` (the YAML files of that
 * directory, or its kustomization.yaml's resources) and, with CreateNamespace=true and managedNamespaceMetadata, its
 * destination Namespace; a Flux Kustomization's `spec.path` and the FluxInstance's `spec.sync.path` (kustomization.yaml
 * resources, directories followed). Helm charts are not rendered here (their objects are the chart's).
 */
import { readdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { isClusterScoped } from '../generators/plan/needs.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { FIXTURES, fixtureSources, formatted } from './helpers.js';

type Obj = { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string }; spec?: Record<string, unknown> };
const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every object each sync unit of a rendered environment emits, keyed `group/kind/namespace/name`. */
export function ownersOf(files: Map<string, string>, renderedDir: string): Map<string, string[]> {
  const docs = (path: string): Obj[] => parseYamlStream(files.get(path) ?? '').filter(isMap) as Obj[];
  const rel = (repoPath: string): string => posix.normalize(repoPath.replace(/^\.\//, '')).replace(new RegExp(`^${renderedDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/?`), '');
  /** The files a directory applies: its kustomization.yaml's resources (followed), or its own YAML files. */
  const applied = (dir: string, seen = new Set<string>()): string[] => {
    if (seen.has(dir)) return [];
    seen.add(dir);
    const k = files.get(posix.join(dir, 'kustomization.yaml'));
    if (k !== undefined) {
      const resources = (parseYamlStream(k)[0] as { resources?: string[] }).resources ?? [];
      return resources.flatMap((r) => {
        const p = posix.normalize(posix.join(dir, r));
        return files.has(p) ? [p] : applied(p, seen);
      });
    }
    return [...files.keys()].filter((p) => posix.dirname(p) === dir && /\.(ya?ml|json)$/.test(p));
  };
  const key = (o: Obj, defaultNs: string): string => {
    const group = (o.apiVersion ?? '').includes('/') ? o.apiVersion!.split('/')[0] : '';
    const ns = isClusterScoped(o.kind ?? '') ? '' : (o.metadata?.namespace ?? defaultNs);
    return `${group}/${o.kind}/${ns}/${o.metadata?.name}`;
  };
  const owners = new Map<string, string[]>();
  const own = (unit: string, k: string) => owners.set(k, [...(owners.get(k) ?? []), unit]);
  for (const path of files.keys()) {
    if (!/\.ya?ml$/.test(path)) continue;
    for (const o of docs(path)) {
      const spec = o.spec ?? {};
      if (o.apiVersion?.startsWith('argoproj.io/') && o.kind === 'Application') {
        const unit = `Application ${o.metadata?.name}`;
        const dest = isMap(spec.destination) && typeof spec.destination.namespace === 'string' ? spec.destination.namespace : '';
        const sources = [...(isMap(spec.source) ? [spec.source] : []), ...(Array.isArray(spec.sources) ? spec.sources.filter(isMap) : [])];
        for (const s of sources) if (typeof s.path === 'string') for (const f of applied(rel(s.path))) for (const x of docs(f)) own(unit, key(x, dest));
        const policy = isMap(spec.syncPolicy) ? spec.syncPolicy : {};
        const options = Array.isArray(policy.syncOptions) ? policy.syncOptions : [];
        if (options.includes('CreateNamespace=true') && policy.managedNamespaceMetadata !== undefined && dest) own(unit, `/Namespace//${dest}`);
      }
      if (o.apiVersion?.startsWith('kustomize.toolkit.fluxcd.io/') && o.kind === 'Kustomization' && typeof spec.path === 'string') {
        const ns = typeof spec.targetNamespace === 'string' ? spec.targetNamespace : '';
        for (const f of applied(rel(spec.path))) for (const x of docs(f)) own(`Kustomization ${o.metadata?.name}`, key(x, ns));
      }
      if (o.kind === 'FluxInstance' && isMap(spec.sync) && typeof spec.sync.path === 'string')
        for (const f of applied(rel(spec.sync.path))) for (const x of docs(f)) own(`FluxInstance ${o.metadata?.name}`, key(x, ''));
    }
  }
  return owners;
}

const valid = readdirSync(join(FIXTURES, 'valid')).filter((f) => f.endsWith('.yaml')).sort();

describe('one owner per object: no object under two sync units', () => {
  it.each(valid)('%s', (file) => {
    const { name, sources } = fixtureSources('valid', file);
    const r = prepareEnvironment(name, sources);
    if (!r.prepared) throw new Error(formatted(r).join('\n'));
    const files = new Map(renderEnvironment(r.prepared).map((f) => [f.path, f.content]));
    const owners = ownersOf(files, r.prepared.model.renderedDir);
    // The walk found units and their objects (a test that reads nothing would pass).
    expect(owners.size).toBeGreaterThan(0);
    const shared = [...owners].filter(([, units]) => new Set(units).size > 1).map(([k, units]) => `${k}: ${[...new Set(units)].join(', ')}`);
    expect(shared).toStrictEqual([]);
  });

  it('the walk sees a shared object: one Namespace created with metadata by two Applications, one object in two Kustomizations', () => {
    const app = (n: string, ns: string) =>
      `apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: { name: ${n}, namespace: argocd }\nspec:\n  destination: { namespace: ${ns} }\n  sources: [{ path: rendered/e/manifests/${n} }]\n  syncPolicy: { syncOptions: [CreateNamespace=true], managedNamespaceMetadata: { labels: { a: b } } }\n`;
    const ks = (n: string, path: string) => `apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: { name: ${n}, namespace: flux-system }\nspec: { path: ./rendered/e/${path} }\n`;
    const files = new Map([
      ['apps/a.yaml', app('a', 'x')],
      ['apps/b.yaml', app('b', 'x')],
      ['manifests/a/cm.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\n'],
      ['manifests/b/cm.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c, namespace: other }\n'],
      ['flux/kustomizations/k1.yaml', ks('k1', 'flux/units/k1')],
      ['flux/kustomizations/k2.yaml', ks('k2', 'flux/units/k2')],
      ['flux/units/k1/kustomization.yaml', 'resources:\n  - ../../../manifests/shared/role.yaml\n'],
      ['flux/units/k2/kustomization.yaml', 'resources:\n  - ../../../manifests/shared\n'],
      ['manifests/shared/kustomization.yaml', 'resources:\n  - role.yaml\n'],
      ['manifests/shared/role.yaml', 'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: { name: r }\n'],
    ]);
    const owners = ownersOf(files, 'rendered/e');
    expect(owners.get('/Namespace//x')).toStrictEqual(['Application a', 'Application b']);
    // The ConfigMap without a namespace lands in the Application's destination: two objects, one owner each.
    expect(owners.get('/ConfigMap/x/c')).toStrictEqual(['Application a']);
    expect(owners.get('/ConfigMap/other/c')).toStrictEqual(['Application b']);
    expect(owners.get('rbac.authorization.k8s.io/ClusterRole//r')).toStrictEqual(['Kustomization k1', 'Kustomization k2']);
  });
});
