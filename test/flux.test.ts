import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { diffTrees } from '../generators/diff/diff.js';
import { listEnvironmentNames } from '../generators/load/loader.js';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { formatDiagnostic } from '../generators/validate/diagnostics.js';
import { checkRenderedTree } from '../generators/validate/rendered/registry.js';
import { parseRenderedTree } from '../generators/validate/rendered/tree.js';
import { exampleSources, fixtureSources, formatted, SHARED, sharedPath } from './helpers.js';

type Obj = Record<string, any>;
type Files = Map<string, string>;

/** A fixture environment (next to the valid fixtures): a third-party chart, Cilium, and one workload. */
const BODY = `cluster:
  network: { podCIDR: 10.244.0.0/16, serviceCIDR: 10.96.0.0/12, cni: cilium }
addons:
  reloader:
    chart: { repoURL: https://stakater.github.io/stakater-charts, name: reloader, version: 2.2.7 }
    namespace: reloader
    clusterResources: [rbac.authorization.k8s.io/ClusterRole, rbac.authorization.k8s.io/ClusterRoleBinding]
    values: { reloader: { watchGlobally: true } }
workloads:
  - name: web
    namespace: shop
    image: ghcr.io/opendev/web:1.0.0
    ports: [{ name: http, port: 8080 }]
    resources: { requests: { cpu: 100m, memory: 128Mi } }
`;

/** The environment file with its engine set to `engine` (one line; none: the default). */
function withEngine(text: string, engine: 'argocd' | 'flux' | undefined): string {
  const lines = text.split('\n').filter((l) => !/^gitops:/.test(l));
  if (!engine) return lines.join('\n');
  const at = lines.findIndex((l) => /^extends:/.test(l));
  lines.splice(at + 1, 0, `gitops: ${engine}`);
  return lines.join('\n');
}

const fixtureText = (extra = ''): string => `# yaml-language-server: $schema=../schemas/environment.schema.json\nname: shop\nextends: _fixture\n${BODY}${extra}`;

/** Render one environment from `sources` as env-relative path → content (no headers). */
function renderOf(name: string, sources: Files): Files {
  const r = prepareEnvironment(name, sources);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  return new Map(renderEnvironment(r.prepared).map((f) => [f.path, f.content]));
}

function renderFixture(engine: 'argocd' | 'flux' | undefined, extra = ''): Files {
  const { sources } = fixtureSources('valid', 'minimal.yaml');
  sources.set('environments/shop.yaml', withEngine(fixtureText(extra), engine));
  sources.set('environments/shop.ssm.lock.json', sources.get('environments/_fixture.ssm.lock.json')!);
  return renderOf('shop', sources);
}

function renderReal(env: string, engine: 'argocd' | 'flux'): Files {
  const sources = exampleSources();
  const file = `environments/${env}.yaml`;
  sources.set(file, withEngine(sources.get(file)!, engine));
  return renderOf(env, sources);
}

const docs = (files: Files, prefix: string): { path: string; obj: Obj }[] =>
  [...files].filter(([p]) => p.startsWith(prefix) && p.endsWith('.yaml')).flatMap(([path, c]) => (parseYamlStream(c) as Obj[]).filter(Boolean).map((obj) => ({ path, obj })));

/** What a unit delivers, engine-independent: chart (repository, name, exact version, release), values file, manifest files. */
interface Delivered {
  chart?: { repo: string; name: string; version: string; release: string; values: string };
  manifests: string[];
}

/** The engines' own units (add-ons and Flux's alert units), the only units that differ between them. */
const ENGINE_UNITS = new Set(['argo-cd', 'flux-operator', 'flux-alerts', 'flux-sync-alerts']);

function argoDelivery(env: string, files: Files): Map<string, Delivered> {
  const out = new Map<string, Delivered>();
  const prefix = `rendered/${env}/`;
  for (const { obj } of docs(files, 'apps/').filter((o) => o.obj.kind === 'Application')) {
    const d: Delivered = { manifests: [] };
    for (const s of obj.spec.sources as Obj[]) {
      // Argo CD sources an oci:// chart without the scheme (engines/argocd/objects.ts argoChartRepo).
      if (s.chart)
        d.chart = { repo: /^[a-z]+:\/\//.test(s.repoURL) ? s.repoURL : `oci://${s.repoURL}`, name: s.chart, version: s.targetRevision, release: s.helm.releaseName, values: (s.helm.valueFiles[0] as string).replace(`$values/${prefix}`, '') };
      else if (s.path) {
        const dir = (s.path as string).slice(prefix.length);
        d.manifests = [...files.keys()].filter((p) => p.startsWith(`${dir}/`)).sort();
      }
    }
    out.set(obj.metadata.name, d);
  }
  return out;
}

function fluxDelivery(env: string, files: Files): Map<string, Delivered> {
  const out = new Map<string, Delivered>();
  const objects = docs(files, 'flux/');
  const find = (kind: string, ns: string, name: string) => objects.find((o) => o.obj.kind === kind && o.obj.metadata?.namespace === ns && o.obj.metadata?.name === name)!.obj;
  for (const { obj } of objects.filter((o) => o.obj.kind === 'Kustomization' && o.obj.apiVersion.startsWith('kustomize.toolkit'))) {
    const dir = (obj.spec.path as string).slice(`./rendered/${env}/`.length);
    const overlay = parseYamlStream(files.get(`${dir}/kustomization.yaml`)!)[0] as Obj;
    const unit = (obj.metadata.name as string).replace(/-(manifests|prerequisites)$/, '');
    if (unit === 'platform-namespaces') continue;
    const d = out.get(unit) ?? { manifests: [] };
    const resources = (overlay.resources as string[]).map((r) => posix.normalize(posix.join(dir, r)));
    d.manifests.push(...resources.filter((p) => p.startsWith('manifests/')));
    d.manifests.sort();
    const release = resources.map((p) => parseYamlStream(files.get(p)!)[0] as Obj).find((o) => o.kind === 'HelmRelease');
    if (release) {
      const ns = release.metadata.namespace as string;
      const values = (overlay.configMapGenerator[0].files[0] as string).split('=')[1]!;
      const src = release.spec.chartRef ? find(release.spec.chartRef.kind, ns, release.spec.chartRef.name) : find('HelmRepository', ns, release.spec.chart.spec.sourceRef.name);
      const oci = src.kind === 'OCIRepository';
      d.chart = {
        repo: oci ? (src.spec.url as string).slice(0, (src.spec.url as string).lastIndexOf('/')) : src.spec.url,
        name: oci ? (src.spec.url as string).slice((src.spec.url as string).lastIndexOf('/') + 1) : release.spec.chart.spec.chart,
        version: oci ? src.spec.ref.tag : release.spec.chart.spec.version,
        release: release.spec.releaseName,
        values: posix.normalize(posix.join(dir, values)),
      };
    }
    out.set(unit, d);
  }
  return out;
}

/** Without the engines' own units, and without the store of an engine's namespace (Flux reads its Git credentials through flux-system's). */
const ENGINE_STORE = /\/clustersecretstore-aws-ssm-parameter-store-(flux-system|argocd)\.yaml$/;
/** The unit of that store (one unit per store: catalog/external-secrets.ts parts). */
const ENGINE_STORE_UNIT = /^external-secrets-store-(flux-system|argocd)$/;
const withoutEngine = <T,>(m: Map<string, T>): Map<string, T> =>
  new Map(
    [...m]
      .filter(([k]) => !ENGINE_UNITS.has(k) && !ENGINE_STORE_UNIT.test(k))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, v && typeof v === 'object' && Array.isArray((v as { manifests?: unknown }).manifests) ? ({ ...v, manifests: (v as unknown as { manifests: string[] }).manifests.filter((p) => !ENGINE_STORE.test(p)) } as T) : v]),
  );

/** values/ and manifests/ files outside the engines' own units; the ClusterSecretStores compared apart (Flux has one for flux-system). */
function sharedFiles(files: Files): Map<string, string> {
  return new Map(
    [...files]
      .filter(([p]) => /^(values|manifests)\//.test(p) && ![...ENGINE_UNITS].some((u) => p === `values/${u}.yaml` || p.startsWith(`manifests/${u}/`)) && !p.includes('/clustersecretstore-'))
      .sort(([a], [b]) => a.localeCompare(b))
      // Each object carries only its own engine's annotations (plan/annotations.ts): compared without them (beside
      // others, e.g. the StorageClass's default-class annotation and Argo CD's resource wave).
      .map(([p, c]) => [p, c.replace(/^ {4}(?:argocd\.argoproj\.io|kustomize\.toolkit\.fluxcd\.io)\/[^\n]*\n/gm, '').replace(/^ {2}annotations:\n(?! {4})/gm, '')]),
  );
}

async function findings(env: string, files: Files): Promise<string[]> {
  const tree = parseRenderedTree(new Map([...files].map(([p, c]) => [`${env}/${p}`, c])));
  return (await checkRenderedTree(tree)).filter((d) => d.severity === 'error').map((d) => `${formatDiagnostic(d)}  [${d.rule}]`);
}

function expectSameDelivery(env: string, argo: Files, flux: Files): void {
  expect(withoutEngine(fluxDelivery(env, flux))).toStrictEqual(withoutEngine(argoDelivery(env, argo)));
  expect(sharedFiles(flux)).toStrictEqual(sharedFiles(argo));
}

describe('Flux engine (fixture environment)', () => {
  const argo = renderFixture(undefined);
  const flux = renderFixture('flux');

  it('both engines deliver the same charts, versions, release names, values files and manifests', () => {
    expectSameDelivery('shop', argo, flux);
    expect(fluxDelivery('shop', flux).get('reloader')!.chart).toStrictEqual({ repo: 'https://stakater.github.io/stakater-charts', name: 'reloader', version: '2.2.7', release: 'reloader', values: 'values/reloader.yaml' });
    expect(fluxDelivery('shop', flux).get('web')!.manifests.length).toBeGreaterThan(0);
  });

  it('a Flux environment renders flux/ and no Argo CD objects; nothing Flux reads points at node configs', () => {
    expect([...flux.keys()].some((p) => p.startsWith('apps/') || p.startsWith('argocd/'))).toBe(false);
    expect([...argo.keys()].some((p) => p.startsWith('flux/'))).toBe(false);
    for (const { obj } of docs(flux, 'flux/kustomizations/')) expect(obj.spec.path).toMatch(/^\.\/rendered\/shop\/flux\/units\/[a-z0-9-]+$/);
    for (const [p, c] of flux) if (p.startsWith('flux/') && p.endsWith('kustomization.yaml')) expect(c, p).not.toMatch(/talos\/|k3s\//);
  });

  it('the rendered Flux tree passes validate (schemas and Flux policies)', async () => {
    expect(await findings('shop', flux)).toStrictEqual([]);
  });

  it('the FluxInstance pins Flux exactly, locks multitenancy down and syncs rendered/<env>/flux; no credentials in the tree', () => {
    const fi = docs(flux, 'flux/flux-instance.yaml')[0]!.obj;
    expect(fi.spec.distribution.version).toBe('2.9.0');
    // Operator v0.58.1 embeds Flux 2.9.0 (flux-operator v0.58.1 config/data/flux/v2.9.0/) and elects only embedded
    // versions (commit 79a3905, v0.54.0); the artifact is pinned to its release tag, never the mutable :latest
    // (v0.58.1 .github/workflows/release.yaml:143-153 re-tags every release latest).
    expect(fi.spec.distribution.artifact).toBe('oci://ghcr.io/controlplaneio-fluxcd/flux-operator-manifests:v0.58.1');
    // notification-controller: the Alert to Alertmanager; its CRD patch needs operator >= 0.53.0 with Flux 2.9 (templates.go:469-481).
    expect(fi.spec.components).toStrictEqual(['source-controller', 'kustomize-controller', 'helm-controller', 'notification-controller']);
    expect(fi.spec.cluster.multitenant).toBe(true);
    expect(fi.spec.sync).toStrictEqual({ kind: 'GitRepository', url: 'https://github.com/opendev/odp-gitops.git', ref: 'refs/heads/main', path: './rendered/shop/flux', pullSecret: 'flux-system', interval: '5m' });
    const es = docs(flux, 'manifests/flux-operator/')[0]!.obj;
    expect(es.kind).toBe('ExternalSecret');
    expect(es.spec.target.name).toBe('flux-system');
    expect(flux.get('flux/bootstrap/bootstrap.sh')).toContain("aws ssm get-parameter --region 'eu-west-1' --with-decryption");
    expect(flux.get('flux/bootstrap/bootstrap.sh')).toContain("helm upgrade --install 'flux-operator' 'oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator' --version '0.58.1'");
    // The artifact's tag is the operator's: one pin, two places.
    expect(fi.spec.distribution.artifact.endsWith(`:v${/--version '([^']+)'/.exec(flux.get('flux/bootstrap/bootstrap.sh')!.split("'flux-operator'")[1]!)![1]}`)).toBe(true);
  });

  it('Flux errors go to Alertmanager: a Provider and an Alert in flux-system, in a unit that waits for nothing', () => {
    const alerts = docs(flux, 'flux/units/flux-alerts/').map((d) => d.obj).filter((o) => o.kind !== 'Kustomization');
    expect(alerts.sort((a, b) => b.kind.localeCompare(a.kind))).toStrictEqual([
      {
        apiVersion: 'notification.toolkit.fluxcd.io/v1beta3',
        kind: 'Provider',
        metadata: { name: 'alertmanager', namespace: 'flux-system' },
        // kube-prometheus-stack 88.5.3 templates/alertmanager/service.yaml:6,44: <fullname>-alertmanager, port 9093.
        spec: { type: 'alertmanager', address: 'http://kube-prometheus-stack-alertmanager.monitoring.svc.cluster.local:9093/api/v2/alerts/' },
      },
      {
        apiVersion: 'notification.toolkit.fluxcd.io/v1beta3',
        kind: 'Alert',
        metadata: { name: 'flux-errors', namespace: 'flux-system' },
        spec: { providerRef: { name: 'alertmanager' }, eventSeverity: 'error', eventSources: [{ kind: 'Kustomization', name: '*' }, { kind: 'HelmRelease', name: '*' }] },
      },
    ]);
    const k = docs(flux, 'flux/kustomizations/flux-alerts.yaml')[0]!.obj;
    expect(k.spec.dependsOn).toBeUndefined();
    expect(parseYamlStream(flux.get('flux/kustomization.yaml')!)[0]).toMatchObject({ resources: expect.arrayContaining(['kustomizations/flux-alerts.yaml']) });
    // Without kube-prometheus-stack there is no Alertmanager: no Provider, no unit.
    const { sources } = fixtureSources('valid', 'minimal.yaml');
    sources.set('environments/shop.yaml', withEngine(fixtureText().replace('addons:\n', 'addons:\n  kube-prometheus-stack: { enabled: false }\n'), 'flux'));
    sources.set('environments/shop.ssm.lock.json', sources.get('environments/_fixture.ssm.lock.json')!);
    const without = renderOf('shop', sources);
    expect([...without.keys()].filter((p) => p.includes('flux-alerts'))).toStrictEqual([]);
    expect(without.get('flux/kustomization.yaml')).not.toContain('flux-alerts');
  });

  it('values reach the HelmRelease through a hashed ConfigMap generated from the same values file', () => {
    const overlay = parseYamlStream(flux.get('flux/units/reloader/kustomization.yaml')!)[0] as Obj;
    expect(overlay.configMapGenerator).toStrictEqual([{ name: 'reloader-values', namespace: 'reloader', files: ['values.yaml=../../../values/reloader.yaml'] }]);
    expect(overlay.generatorOptions).toBeUndefined(); // the name suffix hash stays on
    expect(parseYamlStream(flux.get('flux/units/reloader/kustomizeconfig.yaml')!)[0]).toStrictEqual({
      nameReference: [{ kind: 'ConfigMap', version: 'v1', fieldSpecs: [{ path: 'spec/valuesFrom/name', kind: 'HelmRelease' }] }],
    });
  });

  it('tenants: a third-party chart and a workload impersonate identities limited to their namespaces', () => {
    const release = docs(flux, 'flux/units/reloader/').find((d) => d.obj.kind === 'HelmRelease')!.obj;
    expect([release.metadata.namespace, release.spec.serviceAccountName]).toStrictEqual(['reloader', 'flux-third-party']);
    const platform = docs(flux, 'flux/units/platform-namespaces/').map((d) => d.obj);
    expect(platform.find((o) => o.kind === 'ClusterRole')!.rules).toStrictEqual([{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterrolebindings', 'clusterroles'], verbs: ['*'] }]);
    const web = docs(flux, 'flux/kustomizations/web.yaml')[0]!.obj;
    expect(web.spec.serviceAccountName).toBe('tenant-shop');
    const ns = docs(flux, 'flux/units/namespace-shop/').map((d) => d.obj);
    expect(ns.filter((o) => o.kind === 'RoleBinding').map((o) => [o.metadata.namespace, o.subjects])).toStrictEqual([['shop', [{ kind: 'ServiceAccount', name: 'tenant-shop', namespace: 'flux-system' }]]]);
    for (const o of platform.filter((x) => x.kind === 'Namespace')) expect(o.metadata.annotations).toStrictEqual({ 'kustomize.toolkit.fluxcd.io/prune': 'disabled' });
  });

  it('dependsOn comes from the delivery graph: a Kustomization waits only for what it needs, extra manifests for the CRDs of their chart', () => {
    const ks = new Map(docs(flux, 'flux/kustomizations/').map((d) => [d.obj.metadata.name as string, ((d.obj.spec.dependsOn ?? []) as { name: string }[]).map((x) => x.name)]));
    expect(ks.get('platform-namespaces')).toStrictEqual([]);
    // Cilium needs nothing another unit provides (it brings the pod network itself).
    expect(ks.get('cilium')).toStrictEqual([]);
    // Each namespace's store is a unit of its own after the chart (CRDs, webhook); its consumers wait for it alone.
    expect(ks.get('external-secrets-store-flux-system')).toStrictEqual(['external-secrets']);
    expect(ks.get('external-secrets-store-monitoring')).toStrictEqual(['external-secrets']);
    expect([...ks].filter(([, deps]) => deps.includes('external-secrets-store-flux-system')).map(([k]) => k)).toStrictEqual(['flux-operator-manifests']);
    // web's Services pass the AWS Load Balancer Controller's fail-closed Service webhook: it waits for it.
    expect(ks.get('web')).toStrictEqual(['aws-load-balancer-controller', 'namespace-shop']);
    for (const [name, deps] of ks) for (const d of deps) expect(ks.has(d), `${name} → ${d}`).toBe(true);
  });

  it('manual sync (argocd.automated: false): every Kustomization is suspended and the README says how to resume them', () => {
    const manual = renderFixture('flux', 'argocd: { automated: false }\n');
    for (const { obj } of docs(manual, 'flux/kustomizations/')) expect(obj.spec.suspend, obj.metadata.name).toBe(true);
    expect(manual.get('README.md')).toContain('flux resume kustomization cilium -n flux-system && flux suspend kustomization cilium -n flux-system');
    for (const { obj } of docs(flux, 'flux/kustomizations/')) expect(obj.spec.suspend).toBeUndefined();
  });

  it('switching engines is one line, and the rendered diff shows Applications leaving and Flux objects arriving', () => {
    const a = withEngine(fixtureText(), 'argocd').split('\n');
    const f = withEngine(fixtureText(), 'flux').split('\n');
    expect(f.filter((l, i) => l !== a[i])).toStrictEqual(['gitops: flux']);
    const key = (m: Files) => new Map([...m].map(([p, c]) => [`shop/${p}`, c]));
    const d = diffTrees(key(argo), key(flux)).envs[0]!;
    const ids = (status: string) => d.objects.filter((o) => o.status === status).map((o) => o.label);
    expect(ids('removed')).toEqual(expect.arrayContaining(['Application argocd/reloader', 'AppProject argocd/platform']));
    expect(ids('added')).toEqual(expect.arrayContaining(['FluxInstance flux-system/flux', 'Kustomization flux-system/reloader', 'HelmRelease reloader/reloader', 'HelmRepository reloader/reloader']));
    expect(d.objects.filter((o) => o.file.startsWith('values/') && o.status !== 'added' && o.status !== 'removed')).toStrictEqual([]);
  });
});

describe('Flux engine (every example environment, both engines)', () => {
  const envs = listEnvironmentNames(exampleSources());

  it.each(envs)('%s: Argo CD and Flux deliver the same charts, versions, values files and manifests; the Flux tree validates', async (env) => {
    const argo = renderReal(env, 'argocd');
    const flux = renderReal(env, 'flux');
    expectSameDelivery(env, argo, flux);
    expect(await findings(env, flux)).toStrictEqual([]);
  });
});

/** Every object schema closed (additionalProperties: false) unless it is a map or free-form, as the API server prunes unknown fields. */
function strict(schema: Obj): Obj {
  if (Array.isArray(schema)) return schema.map(strict);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Obj = {};
  for (const [k, v] of Object.entries(schema)) out[k] = k === 'properties' ? Object.fromEntries(Object.entries(v as Obj).map(([p, s]) => [p, strict(s as Obj)])) : strict(v as Obj);
  if (out.type === 'object' && out.properties && out.additionalProperties === undefined && !out['x-kubernetes-preserve-unknown-fields']) out.additionalProperties = false;
  return out;
}

const CRDS = join(SHARED, 'upstream', 'crds');

const HAS_FLUX_CRDS = sharedPath('upstream', 'crds', 'flux', 'v2.9.0') !== undefined && sharedPath('upstream', 'crds', 'flux-operator', 'v0.58.1') !== undefined;

/** Strict validators of the pinned Flux and Flux Operator CRDs, keyed group/version/Kind (read on first use, never at collection). */
function fluxCrdValidators(): Map<string, (o: unknown) => boolean> {
  const validators = new Map<string, (o: unknown) => boolean>();
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  for (const dir of [join(CRDS, 'flux', 'v2.9.0'), join(CRDS, 'flux-operator', 'v0.58.1')])
    for (const f of readdirSync(dir)) {
      const crd = parseYamlStream(readFileSync(join(dir, f), 'utf8'))[0] as Obj;
      for (const v of crd.spec.versions as Obj[]) {
        if (!v.served) continue;
        const schema = strict(v.schema.openAPIV3Schema);
        schema.properties.metadata = { type: 'object' };
        const validate = ajv.compile(schema);
        validators.set(`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`, (o) => {
          const ok = validate(o);
          if (!ok) throw new Error(`${(o as Obj).kind} ${(o as Obj).metadata.name}: ${ajv.errorsText(validate.errors)}`);
          return ok;
        });
      }
    }
  return validators;
}

describe.skipIf(!HAS_FLUX_CRDS)('rendered Flux objects against the upstream CRDs (../shared/upstream)', () => {
  let validators: Map<string, (o: unknown) => boolean> | undefined;
  const check = (files: Files): number => {
    validators ??= fluxCrdValidators();
    let n = 0;
    for (const { obj } of docs(files, 'flux/')) {
      const v = validators.get(`${obj.apiVersion}/${obj.kind}`);
      if (!v) continue;
      expect(v(obj)).toBe(true);
      n++;
    }
    return n;
  };

  it('the fixture and every example environment rendered for Flux', () => {
    expect(check(renderFixture('flux'))).toBeGreaterThan(10);
    expect(check(renderFixture('flux', 'argocd: { automated: false, selfHeal: false }\n'))).toBeGreaterThan(10);
    for (const env of listEnvironmentNames(exampleSources())) expect(check(renderReal(env, 'flux')), env).toBeGreaterThan(10);
  });

  it('the FluxInstance fields validate accepts exist in the v0.58.1 CRD', () => {
    const crd = parseYamlStream(readFileSync(join(CRDS, 'flux-operator', 'v0.58.1', 'fluxcd.controlplane.io_fluxinstances.yaml'), 'utf8'))[0] as Obj;
    const spec = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec;
    for (const part of ['distribution', 'cluster', 'sync']) expect(Object.keys(spec.properties[part].properties), part).toEqual(expect.arrayContaining(Object.keys(docs(renderFixture('flux'), 'flux/flux-instance.yaml')[0]!.obj.spec[part])));
    expect(spec.properties.components.items.enum).toEqual(expect.arrayContaining(['source-controller', 'kustomize-controller', 'helm-controller', 'notification-controller']));
  });
});
