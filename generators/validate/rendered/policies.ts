/**
 * Policies over the rendered tree (DESIGN.md "Validation layers" 3): no secret material; images by
 * tag or digest, never `latest`; PSS labels on every workload namespace; requests on every container;
 * ALB subnets; every name an object refers to rendered. The engines add their delivery objects'
 * policies (Distribution/Engine checks), the distributions their node configs'.
 */
import { secretShape, findSecrets } from '../../lib/secrets.js';
import { hintFor } from '../../lib/suggest.js';
import { distributions } from '../../distributions/registry.js';
import { engines } from '../../engines/registry.js';
import type { DocPath } from '../../lib/paths.js';
import type { Diagnostic } from '../diagnostics.js';
import { groupOf } from '../../diff/documents.js';
import type { FileChecker, TreeChecker } from './registry.js';
import { finding, isMap, k8sIdentity, type ParsedDoc, type ParsedFile, type RenderedTree } from './tree.js';

const PSS_ENFORCE = 'pod-security.kubernetes.io/enforce';
const PSS_LEVELS = ['privileged', 'baseline', 'restricted'];

/** No secret-shaped value anywhere (YAML by field, other files by line). */
const noSecrets: FileChecker = {
  name: 'policy.no-secrets',
  pattern: /./,
  check(f) {
    // The ways a value can stay out of the tree: an ExternalSecret, or a distribution's secrets filled in at apply time.
    const hint = `reference it instead (${['{ secret: /ssm/path } → ExternalSecret', ...distributions().flatMap((d) => d.facts.applyTimeSecrets ?? [])].join(', or ')})`;
    if (f.docs.length > 0)
      return f.docs.flatMap((d) => findSecrets(d.value).map((h) => finding(f, d, 'policy.no-secrets', h.path, `secret-shaped value (${h.kind}) in the rendered tree`, { hint })));
    const out: Diagnostic[] = [];
    f.content.split('\n').forEach((line, i) => {
      const m = secretShape(undefined, line);
      if (m) out.push({ severity: 'error', rule: 'policy.no-secrets', file: f.file, line: i + 1, col: 1, path: [], message: `secret-shaped value (${m.kind}) in the rendered tree`, hint });
    });
    return out;
  },
};

/** `registry/name:tag`, `name@sha256:…`: the tag, if any, and whether a digest pins it. */
export function parseImage(ref: string): { name: string; tag?: string; digest?: string } {
  const at = ref.indexOf('@');
  const digest = at === -1 ? undefined : ref.slice(at + 1);
  const rest = at === -1 ? ref : ref.slice(0, at);
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) return { name: rest.slice(0, colon), tag: rest.slice(colon + 1), digest };
  return { name: rest, digest };
}

export function walk(v: unknown, path: DocPath, visit: (v: unknown, path: DocPath) => void): void {
  visit(v, path);
  if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i], visit));
  else if (isMap(v)) for (const [k, x] of Object.entries(v)) walk(x, [...path, k], visit);
}

/** Images by tag or digest, never latest: container images, node-config images, Helm values `image`. */
const pinnedImages: FileChecker = {
  name: 'policy.pinned-images',
  pattern: /\.ya?ml$/,
  check(f) {
    const out: Diagnostic[] = [];
    for (const d of f.docs) {
      walk(d.value, [], (v, path) => {
        if (path[path.length - 1] !== 'image') return;
        if (typeof v === 'string') {
          if (v.includes('{{')) return;
          const img = parseImage(v);
          if (!img.tag && !img.digest) out.push(finding(f, d, 'policy.pinned-images', path, `image '${v}' has neither tag nor digest`, { hint: 'pin a version tag (name:1.2.3) or a digest (name@sha256:…)' }));
          else if (img.tag === 'latest' && !img.digest) out.push(finding(f, d, 'policy.pinned-images', path, `image '${v}' uses the tag latest`, { hint: 'pin a version tag or a digest' }));
        } else if (isMap(v) && v.tag === 'latest') {
          out.push(finding(f, d, 'policy.pinned-images', [...path, 'tag'], `image tag latest for '${String(v.repository ?? '?')}'`, { hint: 'pin a version tag or a digest' }));
        }
      });
    }
    return out;
  },
};

/** The pod spec of a workload object, and where it is. */
export function podSpecOf(v: Record<string, unknown>): { spec: Record<string, unknown>; path: DocPath } | undefined {
  const spec = isMap(v.spec) ? v.spec : undefined;
  if (!spec) return undefined;
  if (v.kind === 'Pod') return { spec, path: ['spec'] };
  if (v.kind === 'CronJob') {
    const jt = isMap(spec.jobTemplate) && isMap(spec.jobTemplate.spec) && isMap(spec.jobTemplate.spec.template) ? spec.jobTemplate.spec.template : undefined;
    return jt && isMap(jt.spec) ? { spec: jt.spec, path: ['spec', 'jobTemplate', 'spec', 'template', 'spec'] } : undefined;
  }
  if (isMap(spec.template) && isMap(spec.template.spec) && Array.isArray(spec.template.spec.containers)) return { spec: spec.template.spec, path: ['spec', 'template', 'spec'] };
  return undefined;
}

/** Requests (cpu and memory) on every container and init container. */
const containerRequests: FileChecker = {
  name: 'policy.container-requests',
  pattern: /\.ya?ml$/,
  check(f) {
    const out: Diagnostic[] = [];
    for (const d of f.docs) {
      if (!k8sIdentity(d.value) || !isMap(d.value)) continue;
      const pod = podSpecOf(d.value);
      if (!pod) continue;
      for (const list of ['initContainers', 'containers']) {
        const cs = pod.spec[list];
        if (!Array.isArray(cs)) continue;
        cs.forEach((c, i) => {
          if (!isMap(c)) return;
          const req = isMap(c.resources) && isMap(c.resources.requests) ? c.resources.requests : {};
          const missing = ['cpu', 'memory'].filter((r) => req[r] === undefined);
          if (missing.length > 0)
            out.push(finding(f, d, 'policy.container-requests', [...pod.path, list, i, 'resources'], `container '${String(c.name)}' has no ${missing.join(' and ')} request`, { hint: 'set resources.requests.cpu and .memory so the scheduler can place it' }));
        });
      }
    }
    return out;
  },
};

const SUBNETS_ANNOTATION = 'alb.ingress.kubernetes.io/subnets';

/**
 * Every ALB Ingress names its subnets: at least two, in distinct zones and, when the environment's
 * subnets are known, each one of them, of the tier its scheme needs (internet-facing → public).
 */
const albSubnetsPlacement: FileChecker = {
  name: 'policy.alb-subnets',
  pattern: /^manifests\//,
  check(f, tree) {
    const out: Diagnostic[] = [];
    const known = tree.subnets.get(f.env);
    for (const d of f.docs) {
      const o = d.value;
      if (!isMap(o) || o.kind !== 'Ingress' || !isMap(o.spec) || o.spec.ingressClassName !== 'alb') continue;
      const annotations = isMap(o.metadata) && isMap(o.metadata.annotations) ? o.metadata.annotations : {};
      const scheme = annotations['alb.ingress.kubernetes.io/scheme'] === 'internet-facing' ? 'internet-facing' : 'internal';
      const tier = scheme === 'internet-facing' ? 'public' : 'private';
      const raw = annotations[SUBNETS_ANNOTATION];
      const at = ['metadata', 'annotations', SUBNETS_ANNOTATION];
      if (typeof raw !== 'string') {
        out.push(finding(f, d, 'policy.alb-subnets', ['metadata', 'annotations'], `Ingress ${nameOf(o)} does not name its subnets (${SUBNETS_ANNOTATION}): the ALB would be placed by tag discovery`, { hint: 'render it with npm run synth' }));
        continue;
      }
      const ids = raw.split(',').map((x) => x.trim()).filter((x) => x !== '');
      if (ids.length < 2) out.push(finding(f, d, 'policy.alb-subnets', at, `Ingress ${nameOf(o)} names ${ids.length} subnet(s); an ALB needs subnets in at least 2 Availability Zones`));
      if (!known) continue;
      const zones = new Map<string, string>();
      for (const id of ids) {
        const s = known.find((x) => x.id === id);
        if (!s) out.push(finding(f, d, 'policy.alb-subnets', at, `subnet ${id} is not in aws.vpc.subnets of ${f.env}`, { hint: `its ${tier} subnets: ${known.filter((x) => x.public === (tier === 'public')).map((x) => `${x.name} (${x.id ?? 'no id'})`).join(', ') || 'none'}` }));
        else if (s.public !== (tier === 'public')) out.push(finding(f, d, 'policy.alb-subnets', at, `subnet ${id} (${s.name}) is ${s.public ? 'public' : 'private'}, but an ${scheme} ALB belongs in ${tier} subnets`));
        else if (zones.has(s.zone)) out.push(finding(f, d, 'policy.alb-subnets', at, `subnets ${zones.get(s.zone)} and ${id} are both in ${s.zone}; the Load Balancer Controller takes one subnet per zone`));
        else zones.set(s.zone, id);
      }
    }
    return out;
  },
};

export const POLICY_FILE_CHECKERS: FileChecker[] = [noSecrets, pinnedImages, containerRequests, albSubnetsPlacement];

export interface Located {
  file: ParsedFile;
  doc: ParsedDoc;
}

export function envDocs(tree: RenderedTree, env: string): Located[] {
  return tree.files.filter((f) => f.env === env).flatMap((file) => file.docs.map((doc) => ({ file, doc })));
}

/** A repo path of an Application source, relative to rendered/<env>/ when it lies there. */
export function inEnv(env: string, repoPath: string): string | undefined {
  const p = repoPath.replace(/^\.?\//, '').replace(/\/+$/, '');
  const prefix = `rendered/${env}`;
  if (p === prefix) return '';
  return p.startsWith(`${prefix}/`) ? p.slice(prefix.length + 1) : undefined;
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Pod']);

/** Every namespace that runs workloads is PSS-labelled (its Namespace object, or the engine object that creates it). */
const pssNamespaces: TreeChecker = {
  name: 'policy.pss-labels',
  check(tree) {
    const out: Diagnostic[] = [];
    for (const env of tree.envs) {
      const labelled = new Map<string, string>();
      const namespaces = new Map<string, Located>();
      const docs = envDocs(tree, env);
      for (const loc of docs) {
        const v = loc.doc.value;
        if (isMap(v) && v.kind === 'Namespace' && v.apiVersion === 'v1') {
          const id = k8sIdentity(v);
          if (!id) continue;
          namespaces.set(id.name, loc);
          const level = isMap((v.metadata as Record<string, unknown>).labels) ? ((v.metadata as { labels: Record<string, unknown> }).labels[PSS_ENFORCE] as unknown) : undefined;
          if (typeof level === 'string' && PSS_LEVELS.includes(level)) labelled.set(id.name, level);
          else
            out.push(finding(loc.file, loc.doc, 'policy.pss-labels', ['metadata', 'labels'], `Namespace ${id.name} has no valid ${PSS_ENFORCE} label${level === undefined ? '' : ` ('${String(level)}')`}`, { hint: `label it ${PSS_ENFORCE}: restricted (or baseline/privileged with a reason)` }));
        }
        // Namespaces an engine's delivery objects create, with the level they label them with.
        for (const e of engines()) {
          const r = e.checks.namespaceLevels?.(loc.file, loc.doc);
          if (!r) continue;
          if (r.namespace !== undefined && r.level !== undefined && PSS_LEVELS.includes(r.level)) labelled.set(r.namespace, r.level);
          out.push(...r.findings);
        }
      }
      const reported = new Set<string>();
      for (const loc of docs) {
        const id = k8sIdentity(loc.doc.value);
        if (!id || !WORKLOAD_KINDS.has(id.kind) || !loc.file.path.startsWith('manifests/')) continue;
        const ns = id.namespace ?? 'default';
        if (labelled.has(ns) || namespaces.has(ns) || reported.has(ns)) continue;
        reported.add(ns);
        out.push(finding(loc.file, loc.doc, 'policy.pss-labels', ['metadata', 'namespace'], `${id.kind} ${id.name} runs in namespace '${ns}', which has no Pod Security Standards label`, { hint: `render a Namespace ${ns} labelled ${PSS_ENFORCE}, or set it in the Application's syncPolicy.managedNamespaceMetadata` }));
      }
    }
    return out;
  },
};

/**
 * Names one object uses and another part of the tree must create: the ClusterSecretStore of an
 * ExternalSecret, the StorageClass of a claim, the RuntimeClass of a pod. Each area renders its own
 * objects; this catches two areas that disagree on a name.
 */
/**
 * A ClusterSecretStore's AWS JWT auth names a ServiceAccount that must be rendered, in the namespace
 * it gives. Without a namespace ESO (providers/v1/aws/auth/auth.go) looks the ServiceAccount up in
 * the namespace of each ExternalSecret, so one store would assume a different role per namespace.
 */
function storeServiceAccount(loc: Located, spec: Record<string, unknown>, serviceAccounts: ReadonlySet<string>, out: Diagnostic[]): void {
  const path: DocPath = ['spec', 'provider', 'aws', 'auth', 'jwt', 'serviceAccountRef'];
  let ref: unknown = spec;
  for (const k of path.slice(1)) ref = isMap(ref) ? ref[k as string] : undefined;
  if (!isMap(ref) || typeof ref.name !== 'string') return;
  if (typeof ref.namespace !== 'string') {
    out.push(finding(loc.file, loc.doc, 'policy.references', path, `the ClusterSecretStore's serviceAccountRef '${ref.name}' has no namespace, so ESO would look it up in each ExternalSecret's namespace`, { hint: 'set serviceAccountRef.namespace to the namespace of the ServiceAccount carrying the role' }));
    return;
  }
  if (!serviceAccounts.has(`${ref.namespace}/${ref.name}`))
    out.push(finding(loc.file, loc.doc, 'policy.references', [...path, 'name'], `ServiceAccount '${ref.namespace}/${ref.name}' is not rendered in this environment`, { hint: `ServiceAccounts here: ${[...serviceAccounts].sort().join(', ') || 'none'}` }));
}

/** The namespaces a ClusterSecretStore's `conditions` admit by name; undefined when it admits by selector or regex too (not judged) or has none (every namespace). */
function storeAdmits(store: Record<string, unknown>): readonly string[] | undefined {
  const conditions = isMap(store.spec) ? store.spec.conditions : undefined;
  if (!Array.isArray(conditions) || conditions.length === 0) return undefined;
  const names: string[] = [];
  for (const c of conditions) {
    if (!isMap(c) || c.namespaceSelector !== undefined || c.namespaceRegexes !== undefined || !Array.isArray(c.namespaces)) return undefined;
    names.push(...c.namespaces.map(String));
  }
  return names;
}

const crossReferences: TreeChecker = {
  name: 'policy.references',
  check(tree) {
    const out: Diagnostic[] = [];
    for (const env of tree.envs) {
      const docs = envDocs(tree, env);
      const defined = new Map<string, Set<string>>();
      // Core ServiceAccounts by namespace/name (a distribution's ServiceAccount kind of another group is another object).
      const serviceAccounts = new Set<string>();
      const admits = new Map<string, readonly string[] | undefined>();
      for (const { doc } of docs) {
        const id = k8sIdentity(doc.value);
        if (id) (defined.get(id.kind) ?? defined.set(id.kind, new Set()).get(id.kind)!).add(id.name);
        if (id?.apiVersion === 'v1' && id.kind === 'ServiceAccount') serviceAccounts.add(`${id.namespace ?? ''}/${id.name}`);
        if (id?.kind === 'ClusterSecretStore' && isMap(doc.value)) admits.set(id.name, storeAdmits(doc.value));
      }
      // A distribution that creates RuntimeClasses itself (its node configs are in this tree).
      for (const d of distributions())
        if (d.facts.runtimeClasses && tree.files.some((f) => f.env === env && f.path.startsWith(`${d.name}/`)))
          for (const rc of d.facts.runtimeClasses) (defined.get('RuntimeClass') ?? defined.set('RuntimeClass', new Set()).get('RuntimeClass')!).add(rc);
      const need = (loc: Located, kind: string, name: unknown, path: DocPath, what: string): void => {
        if (typeof name !== 'string' || defined.get(kind)?.has(name)) return;
        const known = [...(defined.get(kind) ?? [])].sort();
        out.push(finding(loc.file, loc.doc, 'policy.references', path, `${what} '${name}' is not rendered in this environment`, { hint: known.length > 0 ? `${kind} objects here: ${known.join(', ')}` : `no ${kind} is rendered here` }));
      };
      for (const loc of docs) {
        const v = loc.doc.value;
        const id = k8sIdentity(v);
        if (!id || !isMap(v)) continue;
        const spec = isMap(v.spec) ? v.spec : {};
        if (id.kind === 'ExternalSecret' && isMap(spec.secretStoreRef) && spec.secretStoreRef.kind === 'ClusterSecretStore') {
          need(loc, 'ClusterSecretStore', spec.secretStoreRef.name, ['spec', 'secretStoreRef', 'name'], 'ClusterSecretStore');
          // ESO refuses a store whose conditions do not admit the ExternalSecret's namespace
          // (external-secrets v2.9.0 pkg/controllers/secretstore/client_manager.go:132, 227-278).
          const admitted = admits.get(String(spec.secretStoreRef.name));
          if (admitted && id.namespace && !admitted.includes(id.namespace))
            out.push(finding(loc.file, loc.doc, 'policy.references', ['spec', 'secretStoreRef', 'name'], `ClusterSecretStore '${String(spec.secretStoreRef.name)}' does not admit namespace '${id.namespace}' (its conditions: ${admitted.join(', ') || 'none'}): ESO refuses the ExternalSecret`, { hint: `name the store of its namespace${admits.has(`aws-ssm-parameter-store-${id.namespace}`) ? `, aws-ssm-parameter-store-${id.namespace}` : ''}` }));
        }
        if (id.kind === 'ClusterSecretStore') storeServiceAccount(loc, spec, serviceAccounts, out);
        if (id.kind === 'PersistentVolumeClaim') need(loc, 'StorageClass', spec.storageClassName, ['spec', 'storageClassName'], 'StorageClass');
        if (id.kind === 'StatefulSet' && Array.isArray(spec.volumeClaimTemplates))
          spec.volumeClaimTemplates.forEach((t, i) => need(loc, 'StorageClass', isMap(t) && isMap(t.spec) ? t.spec.storageClassName : undefined, ['spec', 'volumeClaimTemplates', i, 'spec', 'storageClassName'], 'StorageClass'));
        const template = id.kind === 'CronJob' ? (spec.jobTemplate as { spec?: { template?: unknown } } | undefined)?.spec?.template : spec.template;
        const podSpec = isMap(template) && isMap(template.spec) ? template.spec : undefined;
        const podPath: DocPath = id.kind === 'CronJob' ? ['spec', 'jobTemplate', 'spec', 'template', 'spec'] : ['spec', 'template', 'spec'];
        if (podSpec) need(loc, 'RuntimeClass', podSpec.runtimeClassName, [...podPath, 'runtimeClassName'], 'RuntimeClass');
      }
    }
    return out;
  },
};

/** The labels of a workload object's pod template (a CronJob's under its jobTemplate; a Pod's own). */
function podTemplateLabels(kind: string, v: Record<string, unknown>): Record<string, unknown> | undefined {
  const spec = isMap(v.spec) ? v.spec : {};
  const template = kind === 'Pod' ? v : kind === 'CronJob' ? (spec.jobTemplate as { spec?: { template?: unknown } } | undefined)?.spec?.template : spec.template;
  const metadata = isMap(template) && isMap(template.metadata) ? template.metadata : undefined;
  return metadata && isMap(metadata.labels) ? metadata.labels : {};
}

/**
 * A Service with a selector, rendered beside pods of its own (the same manifests/<app>/ folder),
 * must select some pod template of its namespace: the endpoints controller gives a Service the pods
 * whose labels include every selector pair (Kubernetes Service `spec.selector`), so one that matches
 * none has no endpoints — for a StatefulSet's governing Service, its pods also get no DNS records.
 * Services of charts (values/) and of folders without pods (they front something else) are not judged.
 */
const serviceSelectors: TreeChecker = {
  name: 'policy.service-selectors',
  check(tree) {
    const out: Diagnostic[] = [];
    for (const env of tree.envs) {
      const docs = envDocs(tree, env).filter((l) => l.file.path.startsWith('manifests/'));
      const folderOf = (path: string): string => path.split('/').slice(0, 2).join('/');
      const pods: { namespace: string; folder: string; labels: Record<string, unknown> }[] = [];
      for (const { file, doc } of docs) {
        const id = k8sIdentity(doc.value);
        if (!id || !WORKLOAD_KINDS.has(id.kind) || !isMap(doc.value)) continue;
        const labels = podTemplateLabels(id.kind, doc.value);
        if (labels) pods.push({ namespace: id.namespace ?? 'default', folder: folderOf(file.path), labels });
      }
      for (const loc of docs) {
        const v = loc.doc.value;
        const id = k8sIdentity(v);
        if (!id || id.kind !== 'Service' || id.apiVersion !== 'v1' || !isMap(v) || !isMap(v.spec) || !isMap(v.spec.selector)) continue;
        const selector = v.spec.selector;
        if (Object.keys(selector).length === 0 || !pods.some((p) => p.folder === folderOf(loc.file.path))) continue;
        const ns = id.namespace ?? 'default';
        if (pods.some((p) => p.namespace === ns && Object.entries(selector).every(([k, val]) => p.labels[k] === val))) continue;
        const pairs = Object.entries(selector).map(([k, val]) => `${k}=${String(val)}`).join(', ');
        out.push(finding(loc.file, loc.doc, 'policy.service-selectors', ['spec', 'selector'], `Service ${ns}/${id.name} selects no pod rendered in namespace '${ns}' (selector ${pairs}): it would have no endpoints`, { hint: "select labels the pod template carries (the workload's app.kubernetes.io/name)" }));
      }
    }
    return out;
  },
};

export const nameOf = (v: Record<string, unknown>): string => String((v.metadata as { name?: unknown } | undefined)?.name);
export const POLICY_TREE_CHECKERS: TreeChecker[] = [pssNamespaces, crossReferences, serviceSelectors];
