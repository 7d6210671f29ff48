/**
 * Flux objects of the rendered tree: the FluxInstance against its schema (no model package ships
 * the Flux Operator's API), and the policies every engine's delivery objects follow: charts and the Flux version
 * pinned exactly; every sourceRef / chartRef / dependsOn / valuesFrom resolves inside the
 * environment; no reference to another namespace (the multitenancy lockdown refuses them); every
 * path exists and every Kustomization path lies under rendered/<env>/flux/; no object delivered by
 * two Flux Kustomizations.
 *
 * Field names and enums: ../shared/upstream/crds/flux-operator/v0.58.1/fluxcd.controlplane.io_fluxinstances.yaml
 * and ../shared/upstream/crds/flux/v2.9.0/ (test/flux.test.ts checks rendered objects against both).
 */
import { posix } from 'node:path';
import { createRequire } from 'node:module';
import type { Ajv as AjvClass, ErrorObject, ValidateFunction } from 'ajv';
import type { DocPath } from '../../lib/paths.js';
import type { Diagnostic } from '../../validate/diagnostics.js';
import type { SchemaError } from '../../validate/k8s-models.js';
import { groupOf } from '../../diff/documents.js';
import type { TreeChecker } from '../../validate/rendered/registry.js';
import { finding, isMap, k8sIdentity, type ParsedDoc, type ParsedFile, type RenderedTree } from '../../validate/rendered/tree.js';

const DURATION = { type: 'string', pattern: '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$' };
const str = { type: 'string' };
const closed = (properties: Record<string, unknown>, required: string[] = []) => ({ type: 'object', additionalProperties: false, properties, required });

/**
 * The FluxInstance fields (fluxcd.controlplane.io/v1) this project renders or may render, closed:
 * an unknown field is refused, as the API server's structural pruning would drop it silently.
 * Subset of the v0.58.1 CRD's openAPIV3Schema (spec.required: distribution; distribution.required:
 * registry, version; sync.required: kind, path, ref, url).
 */
const FLUX_INSTANCE_SCHEMA = closed(
  {
    apiVersion: { const: 'fluxcd.controlplane.io/v1' },
    kind: { const: 'FluxInstance' },
    metadata: closed({ name: str, namespace: str, labels: { type: 'object', additionalProperties: str }, annotations: { type: 'object', additionalProperties: str } }, ['name']),
    spec: closed(
      {
        distribution: closed({ version: str, registry: str, artifact: { type: 'string', pattern: '^oci://.*$' }, artifactPullSecret: str, imagePullSecret: str, variant: { enum: ['upstream-alpine', 'enterprise-alpine', 'enterprise-distroless', 'enterprise-distroless-fips'] } }, ['registry', 'version']),
        components: {
          type: 'array',
          items: { enum: ['source-controller', 'kustomize-controller', 'helm-controller', 'notification-controller', 'image-reflector-controller', 'image-automation-controller', 'source-watcher'] },
        },
        cluster: closed({
          domain: str,
          multitenant: { type: 'boolean' },
          multitenantWorkloadIdentity: { type: 'boolean' },
          networkPolicy: { type: 'boolean' },
          objectLevelWorkloadIdentity: { type: 'boolean' },
          size: { enum: ['small', 'medium', 'large'] },
          tenantDefaultServiceAccount: str,
          tenantDefaultDecryptionServiceAccount: str,
          tenantDefaultKubeConfigServiceAccount: str,
          type: { enum: ['kubernetes', 'openshift', 'aws', 'azure', 'gcp'] },
        }),
        sync: closed(
          { interval: DURATION, kind: { enum: ['OCIRepository', 'GitRepository', 'Bucket'] }, name: str, path: str, provider: { enum: ['generic', 'aws', 'azure', 'gcp', 'github'] }, pullSecret: str, ref: str, url: str },
          ['kind', 'path', 'ref', 'url'],
        ),
        kustomize: closed({
          patches: {
            type: 'array',
            items: closed({ patch: str, target: closed({ annotationSelector: str, group: str, kind: str, labelSelector: str, name: str, namespace: str, version: str }) }, ['patch']),
          },
        }),
        wait: { type: 'boolean' },
        migrateResources: { type: 'boolean' },
      },
      ['distribution'],
    ),
  },
  ['apiVersion', 'kind', 'metadata', 'spec'],
);

/** ajv (CommonJS) is loaded and the schema compiled on the first FluxInstance checked: a run that checks none pays nothing. */
const require = createRequire(import.meta.url);
let compiled: ValidateFunction | undefined;
const instanceValidator = (): ValidateFunction => (compiled ??= new (require('ajv') as { Ajv: typeof AjvClass }).Ajv({ allErrors: true, strict: false }).compile(FLUX_INSTANCE_SCHEMA));

const pointer = (p: string): DocPath => (p === '' ? [] : p.slice(1).split('/').map((s) => (/^\d+$/.test(s) ? Number(s) : s.replace(/~1/g, '/').replace(/~0/g, '~'))));

/** FluxInstance errors (strict), in the shape of the kubernetes-models checker's. */
export function fluxInstanceErrors(o: Record<string, unknown>): SchemaError[] {
  const validateInstance = instanceValidator();
  if (validateInstance(o)) return [];
  return (validateInstance.errors ?? []).map((e: ErrorObject) => {
    const path = pointer(e.instancePath);
    if (e.keyword === 'additionalProperties') return { path: [...path, String(e.params.additionalProperty)], key: true, message: `unknown field '${String(e.params.additionalProperty)}' (not in the fluxcd.controlplane.io/v1 FluxInstance schema)` };
    if (e.keyword === 'required') return { path, key: true, message: `missing required field '${String(e.params.missingProperty)}'` };
    if (e.keyword === 'enum') return { path, key: false, message: `must be one of: ${(e.params.allowedValues as unknown[]).map(String).join(', ')}` };
    return { path, key: false, message: e.message ?? `fails ${e.keyword}` };
  });
}

const EXACT_VERSION = /^v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$/;

export interface Loc {
  file: ParsedFile;
  doc: ParsedDoc;
  v: Record<string, unknown>;
}

const FLUX_GROUPS = new Set(['kustomize.toolkit.fluxcd.io', 'helm.toolkit.fluxcd.io', 'source.toolkit.fluxcd.io', 'notification.toolkit.fluxcd.io', 'fluxcd.controlplane.io']);
const isKustomizeConfig = (v: unknown): v is Record<string, unknown> => isMap(v) && v.kind === 'Kustomization' && v.apiVersion === 'kustomize.config.k8s.io/v1beta1';
const metaOf = (v: Record<string, unknown>): { name: string; namespace: string } => {
  const m = isMap(v.metadata) ? v.metadata : {};
  return { name: String(m.name), namespace: typeof m.namespace === 'string' ? m.namespace : 'default' };
};
const specOf = (v: Record<string, unknown>): Record<string, unknown> => (isMap(v.spec) ? v.spec : {});

/** Repo path → env-relative path, or undefined outside rendered/<env>/. */
function inEnv(env: string, repoPath: string): string | undefined {
  const p = posix.normalize(repoPath.replace(/^\.\//, '')).replace(/\/+$/, '');
  const prefix = `rendered/${env}`;
  if (p === prefix) return '';
  return p.startsWith(`${prefix}/`) ? p.slice(prefix.length + 1) : undefined;
}

export interface EnvIndex {
  env: string;
  locs: Loc[];
  files: Map<string, ParsedFile>;
  /** `<kind>/<namespace>/<name>` of Flux sources and Kustomizations declared (rendered, or created by the FluxInstance). */
  objects: Set<string>;
}

export function indexEnv(tree: RenderedTree, env: string): EnvIndex {
  const files = new Map(tree.files.filter((f) => f.env === env).map((f) => [f.path, f]));
  const locs: Loc[] = [];
  for (const file of files.values()) for (const doc of file.docs) if (isMap(doc.value)) locs.push({ file, doc, v: doc.value });
  const objects = new Set<string>();
  for (const l of locs) {
    const id = k8sIdentity(l.v);
    if (!id || !FLUX_GROUPS.has(groupOf(id.apiVersion))) continue;
    const { name, namespace } = metaOf(l.v);
    objects.add(`${id.kind}/${namespace}/${name}`);
    if (id.kind === 'FluxInstance') {
      const sync = isMap(specOf(l.v).sync) ? (specOf(l.v).sync as Record<string, unknown>) : undefined;
      // The operator creates the sync source and the root Kustomization, named spec.sync.name or after the namespace.
      if (sync) for (const kind of [String(sync.kind), 'Kustomization']) objects.add(`${kind}/${namespace}/${typeof sync.name === 'string' ? sync.name : namespace}`);
    }
  }
  return { env, locs, files, objects };
}

const dirHasKustomization = (ix: EnvIndex, dir: string): boolean => ix.files.has(`${dir}/kustomization.yaml`);

/** Files of the objects a kustomize directory delivers (resources, recursively). */
export function overlayFiles(ix: EnvIndex, dir: string, seen = new Set<string>()): string[] {
  if (seen.has(dir)) return [];
  seen.add(dir);
  const k = ix.files.get(`${dir}/kustomization.yaml`)?.docs[0]?.value;
  if (!isKustomizeConfig(k)) return [];
  const out: string[] = [];
  for (const r of Array.isArray(k.resources) ? k.resources : []) {
    if (typeof r !== 'string') continue;
    const p = posix.normalize(posix.join(dir, r));
    if (ix.files.has(p)) out.push(p);
    else if (dirHasKustomization(ix, p)) out.push(...overlayFiles(ix, p, seen));
  }
  return out;
}

const ref = (kind: string, namespace: string, name: string) => `${kind}/${namespace}/${name}`;

function checkEnv(ix: EnvIndex, out: Diagnostic[]): void {
  const { env } = ix;
  const push = (l: Loc, rule: string, path: DocPath, message: string, hint?: string) => out.push(finding(l.file, l.doc, rule, path, message, { hint }));
  // Overlays: every listed file exists.
  for (const l of ix.locs) {
    if (!isKustomizeConfig(l.v) || !l.file.path.startsWith('flux/')) continue;
    const dir = posix.dirname(l.file.path);
    const check = (p: string, path: DocPath) => {
      const target = posix.normalize(posix.join(dir, p));
      if (target.startsWith('..') || (!ix.files.has(target) && !dirHasKustomization(ix, target)))
        push(l, 'policy.flux-paths', path, `'${p}' does not exist in rendered/${env}/`, 'overlays list files npm run synth writes (values/, manifests/, flux/)');
    };
    (Array.isArray(l.v.resources) ? l.v.resources : []).forEach((r, i) => typeof r === 'string' && check(r, ['resources', i]));
    (Array.isArray(l.v.configurations) ? l.v.configurations : []).forEach((r, i) => typeof r === 'string' && check(r, ['configurations', i]));
    (Array.isArray(l.v.configMapGenerator) ? l.v.configMapGenerator : []).forEach((g, i) => {
      if (!isMap(g)) return;
      (Array.isArray(g.files) ? g.files : []).forEach((f, j) => typeof f === 'string' && check(f.slice(f.indexOf('=') + 1), ['configMapGenerator', i, 'files', j]));
    });
  }
  // Which generated ConfigMaps an object file gets (the configMapGenerator of the overlay listing it).
  const generated = new Map<string, Set<string>>();
  for (const l of ix.locs) {
    if (!isKustomizeConfig(l.v) || !Array.isArray(l.v.configMapGenerator)) continue;
    const dir = posix.dirname(l.file.path);
    const names = l.v.configMapGenerator.filter(isMap).map((g) => ref('ConfigMap', typeof g.namespace === 'string' ? g.namespace : 'default', String(g.name)));
    for (const f of overlayFiles(ix, dir)) generated.set(f, new Set([...(generated.get(f) ?? []), ...names]));
  }

  const owners = new Map<string, { kustomization: string; loc: Loc }>();
  for (const l of ix.locs) {
    const id = k8sIdentity(l.v);
    if (!id || !FLUX_GROUPS.has(groupOf(id.apiVersion))) continue;
    const { name, namespace } = metaOf(l.v);
    const spec = specOf(l.v);
    const local = (what: string, path: DocPath, r: unknown, kinds: string[]): void => {
      if (!isMap(r)) return;
      if (typeof r.namespace === 'string' && r.namespace !== namespace) {
        push(l, 'policy.flux-cross-namespace', [...path, 'namespace'], `${id.kind} ${namespace}/${name}: ${what} refers to namespace '${r.namespace}'`, 'the multitenancy lockdown (--no-cross-namespace-refs) refuses it: keep the referent in the same namespace');
        return;
      }
      const kind = typeof r.kind === 'string' ? r.kind : kinds[0]!;
      if (!ix.objects.has(ref(kind, namespace, String(r.name))))
        push(l, 'policy.flux-references', [...path, 'name'], `${id.kind} ${namespace}/${name}: ${what} ${kind} '${String(r.name)}' is not rendered in namespace '${namespace}' of this environment`);
    };
    if (id.kind === 'FluxInstance') {
      const d = isMap(spec.distribution) ? spec.distribution : {};
      if (typeof d.version === 'string' && !EXACT_VERSION.test(d.version))
        push(l, 'policy.flux-pinned-charts', ['spec', 'distribution', 'version'], `FluxInstance ${name}: Flux version '${d.version}' is not exact`, 'pin the distribution, e.g. 2.9.0');
      // The artifact is pulled with crane (a reference without a tag is :latest), and every operator release re-tags
      // latest (flux-operator v0.58.1 internal/builder/pull.go:19-22, .github/workflows/release.yaml:143-153).
      if (typeof d.artifact === 'string' && !/@sha256:[0-9a-f]{64}$/.test(d.artifact)) {
        const tag = /:([^/:@]+)$/.exec(d.artifact)?.[1];
        if (tag === undefined || !EXACT_VERSION.test(tag))
          push(l, 'policy.flux-pinned-charts', ['spec', 'distribution', 'artifact'], `FluxInstance ${name}: manifests artifact '${d.artifact}' is not pinned (${tag === undefined ? 'no tag: :latest' : `tag '${tag}'`}), so it moves with every operator release`, 'pin it to the operator release tag (…-manifests:vX.Y.Z) or a digest, or omit it to use the operator\'s embedded manifests');
      }
      const sync = isMap(spec.sync) ? spec.sync : undefined;
      if (sync && typeof sync.path === 'string') {
        const rel = inEnv(env, sync.path);
        if (rel !== 'flux') push(l, 'policy.flux-paths', ['spec', 'sync', 'path'], `FluxInstance ${name}: sync path '${sync.path}' is not rendered/${env}/flux`, 'Flux reads this environment from rendered/<env>/flux only');
        else if (!dirHasKustomization(ix, rel)) push(l, 'policy.flux-paths', ['spec', 'sync', 'path'], `FluxInstance ${name}: sync path '${sync.path}' has no kustomization.yaml`);
        else
          for (const f of overlayFiles(ix, rel))
            for (const doc of ix.files.get(f)!.docs) {
              const o = k8sIdentity(doc.value);
              if (o) owners.set(`${groupOf(o.apiVersion)}/${o.kind}/${o.namespace ?? ''}/${o.name}`, owners.get(`${groupOf(o.apiVersion)}/${o.kind}/${o.namespace ?? ''}/${o.name}`) ?? { kustomization: `${namespace}/${name} (root)`, loc: l });
            }
      }
      continue;
    }
    if (id.kind === 'Kustomization') {
      local('sourceRef', ['spec', 'sourceRef'], spec.sourceRef, ['GitRepository']);
      (Array.isArray(spec.dependsOn) ? spec.dependsOn : []).forEach((dep, i) => local('dependsOn', ['spec', 'dependsOn', i], dep, ['Kustomization']));
      if (typeof spec.path === 'string') {
        const rel = inEnv(env, spec.path);
        if (rel === undefined || !(rel === 'flux' || rel.startsWith('flux/')))
          push(l, 'policy.flux-paths', ['spec', 'path'], `Kustomization ${name}: path '${spec.path}' lies outside rendered/${env}/flux/`, 'every Flux entry point is under rendered/<env>/flux/ (never node configs)');
        else if (!dirHasKustomization(ix, rel)) push(l, 'policy.flux-paths', ['spec', 'path'], `Kustomization ${name}: path '${spec.path}' has no kustomization.yaml in the rendered tree`);
        else
          for (const f of overlayFiles(ix, rel)) {
            const file = ix.files.get(f)!;
            for (const doc of file.docs) {
              const o = k8sIdentity(doc.value);
              if (!o) continue;
              const key = `${groupOf(o.apiVersion)}/${o.kind}/${o.namespace ?? ''}/${o.name}`;
              const first = owners.get(key);
              if (first && first.kustomization !== `${namespace}/${name}`)
                out.push(finding(file, doc, 'policy.flux-duplicate-objects', ['metadata', 'name'], `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name} is delivered by Flux Kustomizations ${first.kustomization} and ${namespace}/${name}`, { hint: 'two Kustomizations fighting over one object: list it in one overlay' }));
              else owners.set(key, { kustomization: `${namespace}/${name}`, loc: l });
            }
          }
      }
      continue;
    }
    if (id.kind === 'HelmRelease') {
      const chart = isMap(spec.chart) && isMap(spec.chart.spec) ? spec.chart.spec : undefined;
      if (chart) {
        local('chart sourceRef', ['spec', 'chart', 'spec', 'sourceRef'], chart.sourceRef, ['HelmRepository']);
        if (typeof chart.version !== 'string' || !EXACT_VERSION.test(chart.version))
          push(l, 'policy.flux-pinned-charts', ['spec', 'chart', 'spec', 'version'], `HelmRelease ${name}: chart '${String(chart.chart)}' is not pinned to an exact version (${chart.version === undefined ? 'none' : `'${String(chart.version)}'`})`);
      }
      if (spec.chartRef !== undefined) local('chartRef', ['spec', 'chartRef'], spec.chartRef, ['OCIRepository']);
      const mine = generated.get(l.file.path) ?? new Set<string>();
      (Array.isArray(spec.valuesFrom) ? spec.valuesFrom : []).forEach((vf, i) => {
        if (!isMap(vf)) return;
        const key = ref(String(vf.kind), namespace, String(vf.name));
        const rendered = ix.locs.some((x) => isMap(x.v) && x.v.kind === vf.kind && metaOf(x.v).name === vf.name && metaOf(x.v).namespace === namespace);
        if (!mine.has(key) && !rendered)
          push(l, 'policy.flux-references', ['spec', 'valuesFrom', i, 'name'], `HelmRelease ${namespace}/${name}: valuesFrom ${String(vf.kind)} '${String(vf.name)}' is neither generated by its overlay nor rendered in namespace '${namespace}'`);
      });
      continue;
    }
    if (id.kind === 'Alert') {
      local('providerRef', ['spec', 'providerRef'], spec.providerRef, ['Provider']);
      (Array.isArray(spec.eventSources) ? spec.eventSources : []).forEach((src, i) => {
        if (isMap(src) && typeof src.namespace === 'string' && src.namespace !== namespace)
          push(l, 'policy.flux-cross-namespace', ['spec', 'eventSources', i, 'namespace'], `Alert ${namespace}/${name}: eventSources[${i}] refers to namespace '${src.namespace}'`, 'the multitenancy lockdown gives notification-controller --no-cross-namespace-refs: an Alert watches its own namespace only');
      });
      continue;
    }
    if (id.kind === 'OCIRepository') {
      const r = isMap(spec.ref) ? spec.ref : {};
      if (typeof r.digest !== 'string' && (typeof r.tag !== 'string' || !EXACT_VERSION.test(r.tag) || r.semver !== undefined))
        push(l, 'policy.flux-pinned-charts', ['spec', 'ref'], `OCIRepository ${name}: not pinned to an exact tag or digest`, 'set spec.ref.tag to the chart version (no semver range)');
    }
  }
}

export const fluxPolicies: TreeChecker = {
  name: 'policy.flux',
  check(tree) {
    const out: Diagnostic[] = [];
    for (const env of tree.envs) {
      const ix = indexEnv(tree, env);
      if (ix.locs.some((l) => FLUX_GROUPS.has(groupOf(String(l.v.apiVersion))))) checkEnv(ix, out);
    }
    return out;
  },
};
