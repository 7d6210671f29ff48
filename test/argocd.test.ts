import { bootstrapUnits, deliveryPlan } from '../generators/plan/index.js';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { describe, expect, it } from 'vitest';
import { catalogEntries, catalogEntry, catalogNames } from '../generators/catalog/index.js';
import { resolveAddons } from '../generators/catalog/resolve.js';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { renderArgoCd } from '../generators/engines/argocd/render.js';
import { allAppSpecs } from '../generators/engines/argocd/sources.js';
import { deriveChartKeys, mergeTrees, treeFromSchema, treeFromValues } from '../generators/values/derive-keys.js';
import { keysFileName, loadChartKeys, unknownKeys } from '../generators/values/keys.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { formatDiagnostic } from '../generators/validate/diagnostics.js';
import { checkRenderedTree } from '../generators/validate/rendered/registry.js';
import { parseRenderedTree } from '../generators/validate/rendered/tree.js';
import { clusterSteps } from '../generators/distributions/talos/operations.js';
import { argoCdSections } from '../generators/engines/argocd/readme.js';
import { exampleSources, fixtureSources, formatted, prepareExample, renderExample, ROOT, SHARED, sharedPath } from './helpers.js';

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec?: Record<string, any> };
const ENVS = ['dev', 'staging', 'prod'] as const;

const model = (env: string) => {
  const r = prepareExample(env);
  if (!r.prepared) throw new Error(`${env} does not prepare`);
  return r.prepared.model;
};
const objectsOf = (env: string, prefix: string): { path: string; obj: Obj }[] =>
  renderExample(env)
    .filter((f) => f.path.startsWith(prefix) && f.path.endsWith('.yaml'))
    .flatMap((f) => parseYamlStream(f.content).map((obj) => ({ path: f.path, obj: obj as Obj })));
/** The Applications under apps/ (which also holds the root's monitoring objects: sync-alerts.ts, fleet-alerts.ts). */
const applicationsOf = (env: string): { path: string; obj: Obj }[] => objectsOf(env, 'apps/').filter((o) => o.obj.kind === 'Application');

describe('Argo CD objects of the example environments', () => {
  it.each(ENVS)('%s: AppProjects, a root Application and one Application per enabled add-on, per workload and per workload namespace', (env) => {
    const argo = objectsOf(env, 'argocd/').map((o) => o.obj);
    const thirdParty = resolveAddons(model(env)).some((a) => !a.catalog);
    expect(argo.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toStrictEqual(
      ['AppProject/platform', ...(thirdParty ? ['AppProject/third-party'] : []), 'AppProject/workloads', 'Application/root'].sort(),
    );
    const root = argo.find((o) => o.kind === 'Application')!;
    // No finalizer on the root: `argocd app delete root` must not delete every workload (issue 19).
    expect((root.metadata as { finalizers?: string[] }).finalizers).toBeUndefined();
    expect(root.spec!.sources.map((s: { path: string }) => s.path)).toStrictEqual([`rendered/${env}/apps`, `rendered/${env}/argocd`]);
    const apps = applicationsOf(env).map((o) => o.obj.metadata.name).sort();
    const namespaces = [...new Set(model(env).workloads.map((w) => `namespace-${w.namespace}`))];
    expect(apps).toStrictEqual([...resolveAddons(model(env)).map((a) => a.name), ...model(env).workloads.map((w) => w.name), ...namespaces].sort());
  });

  it('prod has GPU support, dev does not', () => {
    const names = (env: string) => applicationsOf(env).map((o) => o.obj.metadata.name);
    expect(names('prod')).toContain('nvidia-device-plugin');
    expect(names('dev')).not.toContain('nvidia-device-plugin');
    // (Its namespace's IMDS denial, catalog/network-policies.ts, is there too.)
    const rc = objectsOf('prod', 'manifests/nvidia-device-plugin/').map((o) => o.obj).filter((o) => o.kind !== 'NetworkPolicy');
    // Before the chart naming it (a wave earlier inside its Application: the delivery graph).
    expect(rc).toStrictEqual([{ apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name: 'nvidia', annotations: { 'argocd.argoproj.io/sync-wave': '-1' } }, handler: 'nvidia' }]);
    const values = parseYamlStream(renderExample('prod').find((f) => f.path === 'values/nvidia-device-plugin.yaml')!.content)[0] as any;
    expect(values.runtimeClassName).toBe('nvidia');
    // One selector, the label the generator puts on GPU nodes only (not the pool's own labels).
    expect(values.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms).toStrictEqual([
      { matchExpressions: [{ key: 'nvidia.com/gpu.present', operator: 'In', values: ['true'] }] },
    ]);
  });

  it('prod syncs by hand, dev automatically with prune and self-heal', () => {
    const policy = (env: string) => objectsOf(env, 'apps/metrics-server').map((o) => o.obj.spec!.syncPolicy)[0];
    expect(policy('prod').automated).toBeUndefined();
    expect(policy('dev').automated).toStrictEqual({ prune: true, selfHeal: true });
    // Without limit: a pool joining late ends in a sync (test/talos-flux-motion.test.ts).
    expect(policy('dev').retry.limit).toBe(-1);
  });

  it('a retry without limit syncs the latest revision: a failing commit does not hold the fix pushed after it for the sync timeout', () => {
    // argo-cd v3.4.4 controller/appcontroller.go: a retrying operation keeps app.Operation set (:1592-1604), automated
    // sync skips an app whose operation runs (:2194-2196), and a retry re-syncs its first revision unless
    // retry.refresh (:1483-1488); only the sync timeout (3600 s, from the operation's start) would end it.
    const retries = ['dev', 'staging', 'prod', 'dev-k3s'].flatMap((env) =>
      renderExample(env)
        .filter((f) => /\.ya?ml$/.test(f.path))
        .flatMap((f) => parseYamlStream(f.content) as any[])
        .flatMap((o) => (o?.kind === 'Application' ? [o.spec.syncPolicy?.retry] : o?.kind === 'ApplicationSet' ? [o.spec.template?.spec?.syncPolicy?.retry] : []))
        .filter((r) => r !== undefined),
    );
    expect(retries.length).toBeGreaterThan(20);
    for (const r of retries) expect(r.limit >= 0 || r.refresh === true, JSON.stringify(r)).toBe(true);
  });

  it('applies the environment overrides to kube-prometheus-stack (retention and storage)', () => {
    const v = (env: string) => (parseYamlStream(renderExample(env).find((f) => f.path === 'values/kube-prometheus-stack.yaml')!.content)[0] as any).prometheus.prometheusSpec;
    expect([v('prod').retention, v('prod').storageSpec.volumeClaimTemplate.spec.resources.requests.storage]).toStrictEqual(['30d', '100Gi']);
    expect([v('dev').retention, v('dev').storageSpec.volumeClaimTemplate.spec.resources.requests.storage]).toStrictEqual(['3d', '20Gi']);
    // deep merge kept the catalog's storage class
    expect(v('prod').storageSpec.volumeClaimTemplate.spec.storageClassName).toBe('gp3');
  });

  it.each(ENVS)('%s: every $values file and every source path exists in the rendered tree', (env) => {
    const files = new Set(renderExample(env).map((f) => f.path));
    const apps = [...objectsOf(env, 'apps/'), ...objectsOf(env, 'argocd/')].map((o) => o.obj).filter((o) => o.kind === 'Application');
    for (const app of apps) {
      for (const s of app.spec!.sources as { path?: string; helm?: { valueFiles?: string[] } }[]) {
        for (const vf of s.helm?.valueFiles ?? []) {
          expect(vf.startsWith(`$values/rendered/${env}/`), vf).toBe(true);
          expect(files.has(vf.slice(`$values/rendered/${env}/`.length)), vf).toBe(true);
        }
        if (s.path) {
          const rel = s.path.slice(`rendered/${env}/`.length);
          expect([...files].some((f) => f.startsWith(`${rel}/`)), s.path).toBe(true);
        }
      }
    }
  });

  it.each(ENVS)('%s: each AppProject has no wildcard and lists exactly the repositories, namespaces and kinds its Applications use', (env) => {
    const projects = new Map(objectsOf(env, 'argocd/appproject-').map(({ obj }) => [obj.metadata.name, obj]));
    const apps = [...applicationsOf(env), ...objectsOf(env, 'argocd/application-')].map((o) => o.obj);
    for (const [name, project] of projects) {
      expect(JSON.stringify(project), name).not.toContain('*');
      const members = apps.filter((a) => a.spec!.project === name);
      expect(members.length, name).toBeGreaterThan(0);
      const repos = members.flatMap((a) => a.spec!.sources.map((s: { repoURL: string }) => s.repoURL));
      expect([...project.spec!.sourceRepos].sort(), name).toStrictEqual([...new Set(repos)].sort());
      const namespaces = members.map((a) => a.spec!.destination.namespace);
      expect([...new Set(namespaces)].every((n) => project.spec!.destinations.some((d: { namespace: string }) => d.namespace === n)), name).toBe(true);
    }
    // Every Application names a rendered project; only the platform project reaches the Argo CD namespace.
    for (const a of apps) expect(projects.has(a.spec!.project), a.metadata.name).toBe(true);
    for (const [name, project] of projects)
      expect(project.spec!.destinations.some((d: { namespace: string }) => d.namespace === 'argocd'), name).toBe(name === 'platform');
  });

  it.each(ENVS)('%s: catalog add-ons and root are in platform, workloads in workloads, third-party charts in third-party', (env) => {
    const project = new Map(applicationsOf(env).map(({ obj }) => [obj.metadata.name, obj.spec!.project]));
    for (const a of resolveAddons(model(env))) expect(project.get(a.name), a.name).toBe(a.catalog ? 'platform' : 'third-party');
    for (const w of model(env).workloads) expect(project.get(w.name), w.name).toBe('workloads');
    expect(objectsOf(env, 'argocd/application-root').map((o) => o.obj.spec!.project)).toStrictEqual(['platform']);
  });

  it('the workloads project allows no cluster-scoped kind but Namespace, the third-party project only what the charts declare', () => {
    const kinds = (env: string, p: string) => objectsOf(env, `argocd/appproject-${p}`).flatMap((o) => o.obj.spec!.clusterResourceWhitelist.map((k: { group: string; kind: string }) => `${k.group}/${k.kind}`));
    expect(kinds('prod', 'workloads')).toStrictEqual(['/Namespace']);
    const cnpg = model('prod').addons.find((a) => a.name === 'cloudnative-pg')!;
    expect(kinds('prod', 'third-party').sort()).toStrictEqual(['/Namespace', ...cnpg.clusterResources].sort());
    expect(objectsOf('prod', 'argocd/appproject-third-party').flatMap((o) => o.obj.spec!.destinations)).toStrictEqual([{ server: 'https://kubernetes.default.svc', namespace: 'cnpg-system' }]);
  });

  it.each(ENVS)('%s: every Application whose chart ships CRDs syncs server-side, with server-side diff', (env) => {
    const apps = new Map(applicationsOf(env).map(({ obj }) => [obj.metadata.name, obj as any]));
    const shipsCrds = resolveAddons(model(env)).filter((a) => a.chart && (!a.catalog || a.clusterResources.includes('apiextensions.k8s.io/CustomResourceDefinition')));
    expect(shipsCrds.map((a) => a.name)).toContain('external-secrets');
    for (const a of shipsCrds) {
      const app = apps.get(a.name);
      expect(app.spec.syncPolicy.syncOptions, a.name).toContain('ServerSideApply=true');
      expect(app.metadata.annotations['argocd.argoproj.io/compare-options'], a.name).toBe('ServerSideDiff=true');
    }
    // and nothing else carries the options, except a release the bootstrap installed (the CSA migration needs SSA)
    const adopted = bootstrapUnits(deliveryPlan(model(env))).map((u) => u.name);
    for (const [name, app] of apps)
      if (!shipsCrds.some((a) => a.name === name) && !adopted.includes(name)) expect(app.spec.syncPolicy.syncOptions, name).not.toContain('ServerSideApply=true');
  });

  it('a third-party chart syncs server-side unless the environment opts out', () => {
    const m = model('prod');
    const cnpg = (serverSideApply?: boolean) => {
      const mm = { ...m, addons: m.addons.map((a) => (a.name === 'cloudnative-pg' ? { ...a, serverSideApply } : a)) };
      return resolveAddons(mm).find((a) => a.name === 'cloudnative-pg')!.serverSideApply;
    };
    expect([cnpg(undefined), cnpg(true), cnpg(false)]).toStrictEqual([true, true, false]);
  });

  it.each(ENVS)('%s: every Application carries the environment label; sync waves only with automated sync', (env) => {
    const apps = [...applicationsOf(env), ...objectsOf(env, 'argocd/application-')].map((o) => o.obj as any);
    for (const a of apps) expect(a.metadata.labels, a.metadata.name).toStrictEqual({ 'odp.opendev.dev/environment': env });
    const waves = apps.filter((a) => a.metadata.annotations?.['argocd.argoproj.io/sync-wave'] !== undefined).length;
    // Every Application, the root included (in the last wave of its own source, never waited on: issue 19).
    expect(waves).toBe(model(env).sync.automated ? apps.length : 0);
  });

  it('prod (manual sync): the runbook syncs root, then every Application wave by wave, waiting for health', () => {
    const readme = renderExample('prod').find((f) => f.path === 'README.md')!.content;
    expect(readme).not.toContain('argocd.argoproj.io/instance');
    // The root first without its monitoring objects (their CRDs come with kube-prometheus-stack), once the controller has
    // read its resources (the CLI expands the filter over them), whole at the end.
    // Every wait bounded (engines/argocd/cli.ts; test/argocd-runbook.test.ts runs the block against the CLI's stub).
    const block = /```sh\nargocd app get root --refresh --timeout 300 > \/dev\/null\n\[ -n .*\nargocd app sync root --resource '!monitoring\.coreos\.com:\*:\*' --timeout 900\n([\s\S]*?)argocd app sync root --timeout 900\n```/.exec(readme)![1]!;
    const synced = [...block.matchAll(/^argocd app sync (.+) --timeout 900$/gm)].map((x) => x[1]!.split(' '));
    const waited = [...block.matchAll(/^argocd app wait (.+) --health --timeout 900$/gm)].map((x) => x[1]!.split(' '));
    expect(waited).toStrictEqual(synced);
    const specs = allAppSpecs(model('prod'));
    expect(synced.flat().sort()).toStrictEqual(specs.map((s) => s.name).sort());
    const waveOf = new Map(specs.map((s) => [s.name, s.syncWave]));
    const order = synced.map((names) => new Set(names.map((n) => waveOf.get(n))));
    expect(order.every((w) => w.size === 1)).toBe(true);
    const ws = order.map((w) => [...w][0]!);
    expect(ws).toStrictEqual([...ws].sort((a, b) => a - b));
    expect(renderExample('dev').find((f) => f.path === 'README.md')!.content).not.toContain('argocd app sync');
  });

  it.each(ENVS)('%s: the load balancer controller gets its webhook certificate from cert-manager, synced before it', (env) => {
    const values = parseYamlStream(renderExample(env).find((f) => f.path === 'values/aws-load-balancer-controller.yaml')!.content)[0] as any;
    expect(values.enableCertManager).toBe(true);
    const wave = (n: string) => resolveAddons(model(env)).find((a) => a.name === n)!.syncWave;
    expect(wave('cert-manager')).toBeLessThan(wave('aws-load-balancer-controller'));
  });

  it('every catalog chart version is exact', () => {
    for (const e of catalogEntries()) if (e.chart) expect(e.chart.version, e.name).toMatch(/^v?\d+\.\d+\.\d+$/);
  });

  it('takes AppSpecs from any source: a workload spec adds an Application and its namespace', () => {
    const m = model('dev');
    const specs = [...allAppSpecs(m), { name: 'search', project: 'workloads' as const, namespace: 'search', syncWave: 10, manifests: true, clusterResources: [] }];
    const files = renderArgoCd(m, specs);
    const app = parseYamlStream(files.find((f) => f.path === 'apps/search.yaml')!.content)[0] as Obj;
    expect(app.spec!.sources).toStrictEqual([{ repoURL: m.git.repoURL, targetRevision: 'main', path: 'rendered/dev/manifests/search' }]);
    const project = parseYamlStream(files.find((f) => f.path === 'argocd/appproject-workloads.yaml')!.content)[0] as Obj;
    expect(project.spec!.destinations).toContainEqual({ server: 'https://kubernetes.default.svc', namespace: 'search' });
  });

  it('the etcd-backup CronJob runs talos-backup on control-plane nodes with the Talos ServiceAccount', () => {
    const objs = objectsOf('prod', 'manifests/etcd-backup/').map((o) => o.obj as any);
    const talosSa = objs.find((o) => o.apiVersion === 'talos.dev/v1alpha1');
    expect(talosSa).toStrictEqual({ apiVersion: 'talos.dev/v1alpha1', kind: 'ServiceAccount', metadata: { name: 'talos-backup-secrets', namespace: 'etcd-backup' }, spec: { roles: ['os:etcd:backup'] } });
    const cron = objs.find((o) => o.kind === 'CronJob');
    const pod = cron.spec.jobTemplate.spec.template.spec;
    expect(cron.spec.schedule).toBe('0 */2 * * *');
    expect(pod.nodeSelector).toStrictEqual({ 'node-role.kubernetes.io/control-plane': '' });
    expect(pod.tolerations).toStrictEqual([{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }]);
    const env = Object.fromEntries(pod.containers[0].env.map((e: { name: string; value: string }) => [e.name, e.value]));
    expect(Object.keys(env).sort()).toStrictEqual(['AGE_X25519_PUBLIC_KEY', 'AWS_REGION', 'BUCKET', 'CLUSTER_NAME', 'S3_PREFIX']);
    expect(env.S3_PREFIX).toBe('etcd/odp-prod');
  });
});

describe('chart key trees', () => {
  it('derives open maps from empty defaults and nodes from maps', () => {
    expect(treeFromValues({ a: {}, b: { c: 1, d: null }, e: [1] })).toStrictEqual({ a: '*', b: { c: '*', d: '*' }, e: '*' });
    expect(mergeTrees({ a: { b: '*' } }, { a: { c: '*' }, d: '*' })).toStrictEqual({ a: { b: '*', c: '*' }, d: '*' });
  });

  it('derives from a schema: listed properties closed, additionalProperties open, $ref followed', () => {
    const schema = { $defs: { r: { type: 'object', properties: { x: { type: 'string' } } } }, type: 'object', properties: { a: { $ref: '#/$defs/r' }, m: { type: 'object', additionalProperties: { type: 'string' } } } };
    expect(treeFromSchema(schema)).toStrictEqual({ a: { x: '*' }, m: '*' });
  });

  it('finds unknown keys with the keys known at their level', () => {
    expect(unknownKeys({ a: { x: 1, y: 2 }, m: { any: 1 } }, { a: { x: '*' }, m: '*' })).toStrictEqual([{ path: ['a', 'y'], known: ['x'] }]);
  });

  it.each(ENVS)('%s: the catalog defaults use only keys the pinned charts have', (env) => {
    for (const a of resolveAddons(model(env))) {
      if (!a.chart || !a.catalog) continue;
      const keys = loadChartKeys(a.chart.name, a.chart.version);
      if (!keys) continue;
      const defaults = a.catalog.values?.({ model: model(env), namespace: a.namespace, settings: {} }) ?? {};
      expect(unknownKeys(defaults, keys.keys), a.name).toStrictEqual([]);
    }
  });

  const CHARTS = sharedPath('upstream', 'charts');
  it.skipIf(!CHARTS)('committed key files match a fresh derivation from the upstream chart data', () => {
    for (const c of catalogNames().map((n) => catalogEntry(n).chart).filter((c) => c !== undefined)) {
      const dir = join(CHARTS!, c.name, c.version);
      if (!existsSync(dir)) continue;
      const committed = JSON.parse(readFileSync(join(ROOT, 'schemas', 'charts', keysFileName(c.name, c.version)), 'utf8'));
      expect(committed, c.name).toStrictEqual(deriveChartKeys(dir, c.name, c.version));
    }
  });
});

/** Make a CRD schema strict: objects with properties and without preserve-unknown-fields reject other keys. */
function strict(schema: any): any {
  if (Array.isArray(schema)) return schema.map(strict);
  if (!schema || typeof schema !== 'object') return schema;
  const out: any = {};
  for (const [k, v] of Object.entries(schema)) out[k] = k === 'properties' ? Object.fromEntries(Object.entries(v as object).map(([p, s]) => [p, strict(s)])) : strict(v);
  if (schema.properties && schema.additionalProperties === undefined && !schema['x-kubernetes-preserve-unknown-fields']) out.additionalProperties = false;
  return out;
}

const CRDS = join(SHARED, 'upstream', 'crds');
/** Both CRD folders the strict checks read, or undefined when the optional upstream data lacks one. */
const HAS_CRDS = sharedPath('upstream', 'crds', 'argocd', 'v3.4.4') !== undefined && sharedPath('upstream', 'crds', 'external-secrets', 'v2.9.0') !== undefined;
function crdValidators(): Map<string, ValidateFunction> {
  const ajv = new Ajv({ strict: false, allErrors: true });
  const out = new Map<string, ValidateFunction>();
  const files = [
    ...['application-crd.yaml', 'applicationset-crd.yaml', 'appproject-crd.yaml'].map((f) => join(CRDS, 'argocd', 'v3.4.4', f)),
    ...readdirSync(join(CRDS, 'external-secrets', 'v2.9.0')).map((f) => join(CRDS, 'external-secrets', 'v2.9.0', f)),
  ];
  for (const f of files) {
    const crd = parseYamlStream(readFileSync(f, 'utf8'))[0] as any;
    for (const v of crd.spec.versions.filter((x: any) => x.served)) {
      const schema = strict(v.schema.openAPIV3Schema);
      schema.properties.metadata = { type: 'object' };
      out.set(`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`, ajv.compile(schema));
    }
  }
  return out;
}

describe.skipIf(!HAS_CRDS)('rendered custom resources against the upstream CRDs (strict)', () => {
  // Built lazily: the describe body runs at collection even when skipped (no ../shared).
  let validators: Map<string, ValidateFunction> | undefined;
  const check = (o: Obj) => {
    validators ??= crdValidators();
    const v = validators.get(`${o.apiVersion}/${o.kind}`);
    if (!v) throw new Error(`no CRD for ${o.apiVersion} ${o.kind}`);
    return v(o) ? [] : (v.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
  };

  it.each(ENVS)('%s: every Application, AppProject, ClusterSecretStore and ExternalSecret validates', (env) => {
    const objs = renderExample(env)
      .filter((f) => f.path.endsWith('.yaml'))
      .flatMap((f) => parseYamlStream(f.content) as Obj[])
      .filter((o) => /^(argoproj\.io|external-secrets\.io)\//.test(o.apiVersion));
    expect(new Set(objs.map((o) => o.kind))).toStrictEqual(new Set(['Application', 'AppProject', 'ClusterSecretStore', 'ExternalSecret']));
    for (const o of objs) expect(check(o), `${o.kind}/${o.metadata.name}`).toStrictEqual([]);
  });

  it('the strict check rejects an unknown field', () => {
    const app = objectsOf('dev', 'apps/metrics-server').map((o) => o.obj)[0]!;
    const bad = { ...app, spec: { ...app.spec, syncPolicy: { ...app.spec!.syncPolicy, retries: 3 } } };
    expect(check(bad).join('\n')).toContain('retries');
  });
});

describe('Cilium and third-party charts (fixture)', () => {
  const files = () => {
    const { name, sources } = fixtureSources('valid', 'cilium-thirdparty.yaml');
    const r = prepareEnvironment(name, sources);
    if (!r.prepared) throw new Error(formatted(r).join('\n'));
    return renderEnvironment(r.prepared);
  };
  const doc = (path: string) => parseYamlStream(files().find((f) => f.path === path)!.content)[0] as any;

  it('renders Cilium with the Talos settings and installs it first in the bootstrap', () => {
    const v = doc('values/cilium.yaml');
    expect([v.k8sServiceHost, v.k8sServicePort, v.kubeProxyReplacement, v.cgroup]).toStrictEqual(['localhost', 7445, true, { autoMount: { enabled: false }, hostRoot: '/sys/fs/cgroup' }]);
    expect(v.securityContext.capabilities.ciliumAgent).not.toContain('SYS_MODULE');
    const script = files().find((f) => f.path === 'argocd/bootstrap/bootstrap.sh')!.content;
    const order = [...script.matchAll(/^helm upgrade --install '([^']+)'/gm)].map((m) => m[1]);
    expect(order).toStrictEqual(['cilium', 'aws-cloud-controller-manager', 'argo-cd']);
  });

  it('gives a third-party chart its Application, values file and project entries', () => {
    const app = doc('apps/reloader.yaml');
    expect(app.spec.sources[0]).toStrictEqual({
      repoURL: 'https://stakater.github.io/stakater-charts', chart: 'reloader', targetRevision: '2.2.7',
      helm: { releaseName: 'reloader', valueFiles: ['$values/rendered/cilium-thirdparty/values/reloader.yaml'] },
    });
    // Its wave comes from the delivery graph: after the units that provide what it needs; nothing waits for it, so it is
    // in the last wave (5: kube-prometheus-stack, which the root's monitoring objects need, is one before it).
    expect(app.metadata.annotations['argocd.argoproj.io/sync-wave']).toBe('5');
    expect(doc('values/reloader.yaml')).toStrictEqual({ reloader: { watchGlobally: true } });
    expect(app.spec.project).toBe('third-party');
    expect(app.spec.syncPolicy.syncOptions).toContain('ServerSideApply=true');
    const project = doc('argocd/appproject-third-party.yaml');
    expect(project.spec.sourceRepos).toStrictEqual([app.spec.sources[1].repoURL, 'https://stakater.github.io/stakater-charts']);
    expect(project.spec.destinations).toStrictEqual([{ server: 'https://kubernetes.default.svc', namespace: 'reloader' }]);
    expect(doc('argocd/appproject-platform.yaml').spec.sourceRepos).not.toContain('https://stakater.github.io/stakater-charts');
  });
});

describe('README: EC2 instances and subnets', () => {
  it.each(['prod', 'dev-k3s'])('%s: the IMDS paragraph points at the AWS layer, which sets the hop limits; every subnet gets its load balancer tags', (env) => {
    const r = prepareExample(env);
    const readme = renderEnvironment(r.prepared!).find((f) => f.path === 'README.md')!.content;
    expect(readme).toContain('**Instance metadata (IMDSv2).** The AWS layer (section *AWS layer*) launches every instance with\nIMDSv2 required');
    expect(readme).toContain('## AWS layer (CloudFormation)');
    const m = r.prepared!.model;
    for (const s of m.aws.vpc.subnets)
      expect(readme).toContain(
        `| ${s.name} | ${s.zone} | \`${s.cidr}\` | ${s.public ? 'public' : 'private'} | ${s.name.startsWith('public') ? 'internet-facing' : '—'} | \`kubernetes.io/cluster/${m.cluster.name}=shared\`, \`kubernetes.io/role/${s.public ? 'elb' : 'internal-elb'}=1\` |`,
      );
    expect(readme).toContain('alb.ingress.kubernetes.io/subnets');
  });
});

describe('hub mode (fixture valid/hub.yaml managing valid/hub.fleet/fleet-a and fleet-b)', () => {
  const { sources } = fixtureSources('valid', 'hub.yaml');
  const rendered = new Map<string, ReturnType<typeof renderEnvironment>>();
  const files = (env: string) => {
    if (!rendered.has(env)) {
      const r = prepareEnvironment(env, sources);
      if (!r.prepared) throw new Error(formatted(r).join('\n'));
      rendered.set(env, renderEnvironment(r.prepared));
    }
    return rendered.get(env)!;
  };
  const objs = (env: string, prefix = '') =>
    files(env)
      .filter((f) => f.path.startsWith(prefix) && f.path.endsWith('.yaml'))
      .flatMap((f) => parseYamlStream(f.content) as Obj[]);
  const doc = (env: string, path: string) => parseYamlStream(files(env).find((f) => f.path === path)!.content)[0] as any;

  it('the hub renders one ApplicationSet over the managed environments\' fleet files: go templates, create-update, resources preserved, a literal project', () => {
    const sets = objs('hub').filter((o) => o.kind === 'ApplicationSet');
    expect(sets.map((o) => o.metadata.name)).toStrictEqual(['fleet']);
    const spec = (sets[0] as any).spec;
    expect([spec.goTemplate, spec.goTemplateOptions, spec.syncPolicy]).toStrictEqual([true, ['missingkey=error'], { preserveResourcesOnDeletion: true, applicationsSync: 'create-update' }]);
    // A root per fleet file whose cluster Secret exists (hub.ts ROOT_WHEN_REGISTERED; walked in test/hub.test.ts).
    expect(spec.generators).toStrictEqual([
      {
        matrix: {
          generators: [
            { git: { repoURL: 'https://github.com/opendev/odp-gitops.git', revision: 'main', files: [{ path: 'rendered/fleet-a/fleet.yaml' }, { path: 'rendered/fleet-b/fleet.yaml' }] } },
            { clusters: { selector: { matchLabels: { 'odp.opendev.dev/environment': '{{.path.basename}}' } } } },
          ],
        },
      },
    ]);
    expect(spec.template.spec.project).toBe('fleet');
    expect(spec.template.metadata.name).toBe('{{.environment}}-root');
    expect(spec.template.spec.sources.map((s: any) => s.path)).toStrictEqual(['{{.path.path}}/apps', '{{.path.path}}/argocd']);
  });

  it('each managed environment renders its fleet file and no Argo CD install nor root Application', () => {
    expect(doc('fleet-a', 'fleet.yaml')).toStrictEqual({ environment: 'fleet-a', cluster: { name: 'fleet-a', server: 'https://api.fleet-a.internal:6443' }, renderedDir: 'rendered/fleet-a' });
    const paths = files('fleet-a').map((f) => f.path);
    expect(paths.filter((p) => p.includes('argo-cd') || p === 'argocd/application-root.yaml')).toStrictEqual([]);
    expect(paths.filter((p) => p.startsWith('argocd/bootstrap/')).sort()).toStrictEqual(['argocd/bootstrap/bootstrap.sh', 'argocd/bootstrap/hub-access.yaml', 'argocd/bootstrap/register.sh']);
    expect(files('hub').map((f) => f.path)).not.toContain('fleet.yaml');
  });

  const script = (env: string) => files(env).find((f) => f.path === 'argocd/bootstrap/bootstrap.sh')!.content;

  it.each([
    ['fleet-a', ['aws-cloud-controller-manager']],
    ['fleet-b', ['cilium', 'aws-cloud-controller-manager']],
  ])('%s: its own bootstrap installs the CNI (Cilium) and the cloud controller with the release and values file of the hub\'s Application, and no Argo CD', (env, releases) => {
    const installs = [...script(env).replace(/\\\n\s*/g, ' ').matchAll(/^helm upgrade --install '([^']+)' .* --values "\$ROOT\/"'([^']+)'/gm)].map((m) => [m[1], m[2]]);
    expect(installs.map(([r]) => r)).toStrictEqual(releases);
    for (const [release, values] of installs) {
      const app = doc(env, `apps/${release}.yaml`);
      expect(app.metadata.name).toBe(`${env}-${release}`);
      expect(app.spec.sources[0].helm).toStrictEqual({ releaseName: release, valueFiles: [`$values/${values}`] });
      expect(files(env).some((f) => `rendered/${env}/${f.path}` === values)).toBe(true);
    }
  });

  it('a managed Talos cluster with Cilium: the talosctl commands run the bootstrap script it renders', () => {
    const r = prepareEnvironment('fleet-b', sources);
    const step = clusterSteps(r.prepared!.model).find((s) => s.lines.some((l) => l.startsWith('sh ')))!;
    expect(step.title).toContain("Cilium and the cloud controller, right away");
    expect(step.title).toContain("the hub's access (hub manages this cluster) once workers have joined");
    expect(step.lines[0]).toBe('sh rendered/fleet-b/argocd/bootstrap/bootstrap.sh nodes');
  });

  it('the managed bootstrap gives the hub a ServiceAccount and a TokenRequest token with a lifetime, then writes the cluster Secret\'s fields to the hub\'s SSM parameters (run with stub kubectl, helm and aws)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'odp-managed-'));
    try {
      const bin = join(dir, 'bin');
      const repo = join(dir, 'repo');
      mkdirSync(bin);
      for (const f of files('fleet-b')) {
        mkdirSync(dirname(join(repo, 'rendered/fleet-b', f.path)), { recursive: true });
        writeFileSync(join(repo, 'rendered/fleet-b', f.path), f.content);
      }
      const log = join(dir, 'log');
      const stub = (name: string, body: string) => writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
      stub('helm', `echo "helm $*" >>${log}`);
      // kubectl create token prints the token (TokenRequest); the kube-root-ca.crt ConfigMap holds the CA's PEM.
      stub('kubectl', [
        `echo "kubectl $*" >>${log}`,
        'case "$*" in',
        // -o jsonpath: the TokenRequest's status.expirationTimestamp (UTC, RFC 3339), a newline, its token.
        `  *'create token argocd-manager --duration=2160h -o jsonpath={.status.expirationTimestamp}'*) printf '2027-03-07T03:00:00Z\\neyJ.tok.en' ;;`,
        `  *'get configmap kube-root-ca.crt'*) printf 'PEM' ;;`,
        'esac',
      ].join('\n'));
      // The clock register.sh reads (date -u +FORMAT): fixed, so the test does not depend on today.
      stub('date', `[ "$*" = '-u +%Y-%m-%dT%H:%M:%SZ' ] && { echo 2026-12-07T03:00:00Z; exit 0; }; exec /bin/date "$@"`);
      stub('aws', [`echo "aws $*" >>${log}`, 'while [ $# -gt 0 ]; do case "$1" in --name) n=$2 ;; --type) t=$2 ;; --value) v=$2 ;; esac; shift; done', `{ echo "== $n $t"; cat "\${v#file://}"; echo; } >>${join(dir, 'ssm')}`].join('\n'));
      execFileSync('sh', [join(repo, 'rendered/fleet-b/argocd/bootstrap/bootstrap.sh')], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, stdio: 'pipe' });
      const calls = readFileSync(log, 'utf8').split('\n');
      expect(calls).toContain(`kubectl apply --server-side --field-manager=argocd-bootstrap -f ${repo}/rendered/fleet-b/argocd/bootstrap/hub-access.yaml`);
      expect(calls.filter((c) => c.startsWith('aws ')).every((c) => c.includes('--region eu-west-1') && c.includes('--overwrite'))).toBe(true);
      const written = Object.fromEntries(
        readFileSync(join(dir, 'ssm'), 'utf8').split('== ').filter(Boolean).map((chunk) => {
          const [head, ...rest] = chunk.split('\n');
          return [head, rest.join('\n').trim()];
        }),
      );
      // Only the config: the hub pins name and server from the managed file (the name and server parameters are not written).
      expect(Object.keys(written)).toStrictEqual(['/odp/hub/argocd/clusters/fleet-b/config SecureString']);
      expect(JSON.parse(written['/odp/hub/argocd/clusters/fleet-b/config SecureString']!)).toStrictEqual({ bearerToken: 'eyJ.tok.en', tlsClientConfig: { insecure: false, caData: Buffer.from('PEM').toString('base64') }, expiresAt: '2027-03-07T03:00:00Z' });
      // No credential on a command line: values go through a file.
      expect(calls.filter((c) => c.includes('eyJ'))).toStrictEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // The identity it applies: no cluster-admin and no token Secret (hub-identity.test.ts checks the roles).
    const access = parseYamlStream(files('fleet-b').find((f) => f.path === 'argocd/bootstrap/hub-access.yaml')!.content) as any[];
    expect(access.filter((o) => o.kind === 'Secret' || o.roleRef?.name === 'cluster-admin')).toStrictEqual([]);
  });

  it('the managed runbook\'s Network step, hub in another VPC: its CIDR is admitted on the API load balancer\'s group, as the AWS layer renders it', () => {
    // The examples with dev (10.10.0.0/16) managing dev-k3s (10.11.0.0/16).
    const sources = exampleSources();
    sources.set('environments/dev.yaml', `${sources.get('environments/dev.yaml')}argocd:\n  manages: [dev-k3s]\n`);
    const r = prepareEnvironment('dev-k3s', sources);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toStrictEqual([]);
    const files = renderEnvironment(r.prepared!);
    const readme = files.find((f) => f.path === 'README.md')!.content;
    const hubCidr = /and, on that port only, from the hub's VPC \(`([0-9./]+)`, the hub's `aws\.vpc\.cidr`\)/.exec(readme)?.[1];
    expect(hubCidr).toBe('10.10.0.0/16');
    expect(readme).toContain('Not created by the AWS layer: the route between the two VPCs');
    const base = parseYamlStream(files.find((f) => f.path === 'aws/base.yaml')!.content)[0] as any;
    const lbGroup = Object.values(base.Resources as Record<string, any>).find((r) => r.Type === 'AWS::EC2::SecurityGroup' && /API load balancer/.test(r.Properties.GroupDescription));
    expect(lbGroup.Properties.SecurityGroupIngress).toContainEqual(expect.objectContaining({ FromPort: 6443, ToPort: 6443, CidrIp: hubCidr }));
  });

  it('the managed runbook: bootstrap, the SSM parameters with the cluster Secret config, network, and the checks on the hub', () => {
    const readme = files('fleet-b').find((f) => f.path === 'README.md')!.content;
    const section = readme.slice(readme.indexOf('## Bootstrap and join the hub `hub`'));
    expect(section).toContain('- **cilium** `1.18.');
    expect(section).toContain('(Application `fleet-b-aws-cloud-controller-manager`)');
    expect(section).toContain('| `/odp/hub/argocd/clusters/fleet-b/config` | SecureString |');
    expect(section).not.toContain('| `/odp/hub/argocd/clusters/fleet-b/name` |');
    expect(section).toContain('A registration made before that also wrote `/odp/hub/argocd/clusters/fleet-b/name` and\n`/odp/hub/argocd/clusters/fleet-b/server`: nothing reads them; *Leave the hub* deletes them with the config.');
    const fences = [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => [m[1], m[2]!] as const);
    expect(fences.map(([lang]) => lang)).toStrictEqual(['sh', 'json', 'sh']);
    expect(fences[0]![1]).toBe('sh rendered/fleet-b/argocd/bootstrap/bootstrap.sh\n');
    const config = JSON.parse(fences[1]![1]);
    expect(Object.keys(config)).toStrictEqual(['bearerToken', 'tlsClientConfig', 'expiresAt']);
    expect(Object.keys(config.tlsClientConfig)).toStrictEqual(['insecure', 'caData']);
    expect(config.tlsClientConfig.insecure).toBe(false);
    // The Network step says what the AWS layer opens (infra/aws/stacks.ts): the API load balancer's group admits
    // the VPC (the hub's nodes here: the same VPC) on the API port, and the control planes admit the load balancer.
    const vpc = /its security group admits TCP 6443 from this\nVPC \(`([0-9./]+)`\)/.exec(section)?.[1];
    expect(vpc).toBeDefined();
    expect(section).toContain('The hub runs in this VPC, which the load balancer admits and where `api.fleet-b.internal` resolves.');
    const base = parseYamlStream(files('fleet-b').find((f) => f.path === 'aws/base.yaml')!.content)[0] as any;
    const lbGroup = Object.values(base.Resources as Record<string, any>).find((r) => r.Type === 'AWS::EC2::SecurityGroup' && /API load balancer/.test(r.Properties.GroupDescription));
    expect(lbGroup.Properties.SecurityGroupIngress).toContainEqual(expect.objectContaining({ FromPort: 6443, ToPort: 6443, CidrIp: vpc }));
    expect(section).toContain('so nothing is opened on the\ncontrol planes for the hub');
    // The check is rendered code (argocd/check-hub.sh), run against the argocd stub in test/argocd-hub-check.test.ts.
    expect(fences[2]![1].trim().split('\n')).toStrictEqual(['sh rendered/fleet-b/argocd/check-hub.sh']);
    expect(readme).not.toContain('## Hub mode');
  });

  it('the managed runbook with manual syncs: sync the root, then the prefixed Applications wave by wave', () => {
    const m = prepareEnvironment('fleet-b', sources).prepared!.model;
    const body = argoCdSections({ ...m, sync: { ...m.sync, automated: false } }).find((x) => x.title === 'Bootstrap and join the hub `hub`')!.body;
    const checks = [...body.matchAll(/```sh\n([\s\S]*?)```/g)].at(-1)![1]!;
    const synced = [...checks.matchAll(/^argocd app sync (.+) --timeout 900$/gm)].map((x) => x[1]!);
    expect(synced[0]).toBe('fleet-b-root');
    expect(synced.slice(1).flatMap((l) => l.split(' ')).sort()).toStrictEqual(allAppSpecs(m).map((a) => `fleet-b-${a.name}`).sort());
    expect([...checks.matchAll(/^argocd app wait (.+) --health --timeout 900$/gm)].map((x) => x[1])).toStrictEqual(synced.slice(1));
  });

  it.each(['fleet-a', 'fleet-b'])('%s: Applications target the cluster by name, with hub-unique names and per-environment AppProjects in the hub\'s namespace', (env) => {
    const apps = objs(env, 'apps/').filter((o) => o.kind === 'Application') as any[];
    expect(apps.length).toBeGreaterThan(0);
    for (const a of apps) {
      expect(a.spec.destination.name, a.metadata.name).toBe(env);
      expect(a.spec.destination.server).toBeUndefined();
      expect(a.metadata.name.startsWith(`${env}-`)).toBe(true);
      expect(a.metadata.namespace).toBe('argocd');
    }
    const projects = objs(env, 'argocd/').filter((o) => o.kind === 'AppProject') as any[];
    expect(projects.map((p) => p.metadata.name).sort()).toStrictEqual([`${env}-platform`]);
    for (const p of projects) expect(p.spec.destinations.every((d: any) => d.name === env && d.server === undefined && d.namespace !== 'argocd')).toBe(true);
    expect(new Set(apps.map((a) => a.spec.project))).toStrictEqual(new Set(projects.map((p) => p.metadata.name)));
  });

  it('the hub creates each managed cluster\'s Argo CD cluster Secret from SSM with an ExternalSecret', () => {
    const es = doc('hub', 'apps/cluster-fleet-b.yaml');
    expect(es.spec.target).toStrictEqual({ name: 'cluster-fleet-b', creationPolicy: 'Owner', template: { metadata: { labels: { 'argocd.argoproj.io/secret-type': 'cluster', 'odp.opendev.dev/environment': 'fleet-b' } }, data: { name: 'fleet-b', server: 'https://api.fleet-b.internal:6443', config: expect.stringMatching(/\{\{ \.config \}\}$/) } } });
    expect(es.spec.data.map((d: any) => [d.secretKey, d.remoteRef.key])).toStrictEqual([
      ['config', '/odp/hub/argocd/clusters/fleet-b/config'],
    ]);
  });

  it('the waves cannot deadlock: a managed root creates its AppProjects before its first Application, the hub syncs cluster Secrets last, through a store that admits its namespace', () => {
    const wave = (o: any): number => Number(o.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? 0);
    for (const env of ['fleet-a', 'fleet-b']) {
      const apps = objs(env, 'apps/').filter((o) => o.kind === 'Application');
      const projects = objs(env, 'argocd/').filter((o) => o.kind === 'AppProject');
      expect(projects.length).toBeGreaterThan(0);
      for (const p of projects) expect(wave(p)).toBeLessThan(Math.min(...apps.map(wave)));
    }
    const hubApps = objs('hub', 'apps/');
    const clusterSecrets = hubApps.filter((o) => o.kind === 'ExternalSecret');
    expect(clusterSecrets.map((o: any) => o.metadata.name).sort()).toStrictEqual(['cluster-fleet-a', 'cluster-fleet-b']);
    const others = hubApps.filter((o) => o.kind !== 'ExternalSecret');
    // In the last wave (with the root and the ApplicationSet), which is never waited on.
    for (const es of clusterSecrets) expect(wave(es)).toBe(Math.max(...others.map(wave)));
    // Nothing the hub's bootstrap applies (argocd/) is of a kind whose CRD arrives later.
    expect(objs('hub', 'argocd/').filter((o) => o.kind === 'ExternalSecret')).toStrictEqual([]);
    const store = objs('hub', 'manifests/external-secrets/').find((o) => o.kind === 'ClusterSecretStore') as any;
    expect(store.spec.conditions.flatMap((c: any) => c.namespaces)).toContain('argocd');
  });

  it('the READMEs say what IAM the hub needs and who manages a managed environment', () => {
    const readme = (env: string) => files(env).find((f) => f.path === 'README.md')!.content;
    expect(readme('hub')).toContain(
      "through the ClusterSecretStore `argocd-cluster-registry`, which admits only Argo CD's namespace and reads with the\nrole `hub-argocd-cluster-registry` (the AWS layer creates it): `ssm:GetParameter` on\n`arn:aws:ssm:eu-west-1:111111111111:parameter/odp/hub/argocd/clusters/*` only",
    );
    expect(readme('hub')).toContain('| fleet-a | `apps/cluster-fleet-a.yaml` |');
    expect(readme('fleet-a')).toContain('The Argo CD of `hub` (namespace `argocd`) manages this cluster');
    expect(readme('fleet-a')).not.toContain('Bootstrap Argo CD');
  });

  const fleetTree = () => parseRenderedTree(new Map(['hub', 'fleet-a', 'fleet-b'].flatMap((env) => files(env).map((f) => [`${env}/${f.path}`, f.content] as [string, string]))));

  it('the hub and its managed environments pass validate\'s rendered checks (schemas, the ApplicationSet included; policies)', async () => {
    const errors = (await checkRenderedTree(fleetTree())).filter((d) => d.severity === 'error').map((d) => `${formatDiagnostic(d)}  [${d.rule}]`);
    expect(errors).toStrictEqual([]);
  });

  it('validate refuses the hub\'s ApplicationSet when a managed environment\'s fleet file is not rendered', async () => {
    const tree = fleetTree();
    tree.files = tree.files.filter((f) => !(f.env === 'fleet-b' && f.path === 'fleet.yaml'));
    const errors = (await checkRenderedTree(tree)).filter((d) => d.severity === 'error').map((d) => `${formatDiagnostic(d)}  [${d.rule}]`);
    expect(errors).toStrictEqual([
      "rendered/hub/argocd/applicationset-fleet.yaml:19:25  spec.generators[0].matrix.generators[0].git.files[1].path: ApplicationSet fleet: git files generator path 'rendered/fleet-b/fleet.yaml' matches no file in the rendered tree, so it generates no Application  (did you mean 'rendered/fleet-a/fleet.yaml'?)  [policy.applicationset-files]",
    ]);
  });

  it.skipIf(!HAS_CRDS)('every Argo CD and External Secrets object of the hub and a managed environment validates strictly against the upstream CRDs, the ApplicationSet included', () => {
    const validators = crdValidators();
    const all = [...objs('hub'), ...objs('fleet-a')].filter((o) => /^(argoproj\.io|external-secrets\.io)\//.test(o.apiVersion));
    expect(all.filter((o) => o.kind === 'ApplicationSet').length).toBe(1);
    for (const o of all) {
      const v = validators.get(`${o.apiVersion}/${o.kind}`)!;
      expect(v(o) ? [] : v.errors, `${o.kind}/${o.metadata.name}`).toStrictEqual([]);
    }
    // The check is strict: a misspelt ApplicationSet key is refused.
    const set = all.find((o) => o.kind === 'ApplicationSet') as any;
    expect(validators.get('argoproj.io/v1alpha1/ApplicationSet')!({ ...set, spec: { ...set.spec, goTemplates: true } })).toBe(false);
  });
});
