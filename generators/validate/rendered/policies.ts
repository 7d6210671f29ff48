/**
 * Policies over the rendered tree (DESIGN.md "Validation layers" 3): no secret material; images by
 * tag or digest, never `latest`; charts by exact version; PSS labels on every workload namespace;
 * requests on every container; no wildcard in AppProjects; every Application source path and values
 * file exists; every git files generator path of an ApplicationSet matches a file; no object owned
 * by two Applications; every Application within its AppProject.
 */
import { secretShape, findSecrets } from '../../lib/secrets.js';
import { hintFor } from '../../lib/suggest.js';
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
    const hint = 'reference it instead ({ secret: /ssm/path } → ExternalSecret, or a Talos secret materialized at apply time)';
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

function walk(v: unknown, path: DocPath, visit: (v: unknown, path: DocPath) => void): void {
  visit(v, path);
  if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i], visit));
  else if (isMap(v)) for (const [k, x] of Object.entries(v)) walk(x, [...path, k], visit);
}

/** Images by tag or digest, never latest: container images, Talos images, Helm values `image`. */
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

const EXACT_VERSION = /^v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$/;

interface AppSource {
  source: Record<string, unknown>;
  path: DocPath;
}

function applicationSources(app: Record<string, unknown>): AppSource[] {
  const spec = isMap(app.spec) ? app.spec : {};
  const out: AppSource[] = [];
  if (isMap(spec.source)) out.push({ source: spec.source, path: ['spec', 'source'] });
  if (Array.isArray(spec.sources)) spec.sources.forEach((s, i) => isMap(s) && out.push({ source: s, path: ['spec', 'sources', i] }));
  return out;
}

const isApplication = (v: unknown): v is Record<string, unknown> => isMap(v) && v.kind === 'Application' && typeof v.apiVersion === 'string' && groupOf(v.apiVersion) === 'argoproj.io';

/** Charts by exact version: an Application's Helm chart source has a semver targetRevision. */
const pinnedCharts: FileChecker = {
  name: 'policy.pinned-charts',
  pattern: /\.ya?ml$/,
  check(f) {
    const out: Diagnostic[] = [];
    for (const d of f.docs) {
      if (!isApplication(d.value)) continue;
      for (const s of applicationSources(d.value)) {
        if (typeof s.source.chart !== 'string') continue;
        const rev = s.source.targetRevision;
        if (typeof rev !== 'string' || !EXACT_VERSION.test(rev))
          out.push(finding(f, d, 'policy.pinned-charts', [...s.path, 'targetRevision'], `chart '${s.source.chart}' is not pinned to an exact version (${rev === undefined ? 'no targetRevision' : `'${String(rev)}'`})`, { hint: 'set targetRevision to the exact chart version, e.g. 1.2.3' }));
      }
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

/** No wildcard in AppProjects: source repos, destinations, resource allow-lists. */
const appProjectWildcards: FileChecker = {
  name: 'policy.appproject-wildcard',
  pattern: /\.ya?ml$/,
  check(f) {
    const out: Diagnostic[] = [];
    for (const d of f.docs) {
      const v = d.value;
      if (!isMap(v) || v.kind !== 'AppProject' || typeof v.apiVersion !== 'string' || groupOf(v.apiVersion) !== 'argoproj.io') continue;
      walk(v.spec, ['spec'], (x, path) => {
        if (typeof x === 'string' && x.includes('*'))
          out.push(finding(f, d, 'policy.appproject-wildcard', path, `wildcard '${x}' in AppProject ${String((v.metadata as { name?: unknown } | undefined)?.name)}`, { hint: 'list the exact repositories, destinations and resource kinds' }));
      });
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

export const POLICY_FILE_CHECKERS: FileChecker[] = [noSecrets, pinnedImages, pinnedCharts, containerRequests, appProjectWildcards, albSubnetsPlacement];

interface Located {
  file: ParsedFile;
  doc: ParsedDoc;
}

function envDocs(tree: RenderedTree, env: string): Located[] {
  return tree.files.filter((f) => f.env === env).flatMap((file) => file.docs.map((doc) => ({ file, doc })));
}

/** A repo path of an Application source, relative to rendered/<env>/ when it lies there. */
function inEnv(env: string, repoPath: string): string | undefined {
  const p = repoPath.replace(/^\.?\//, '').replace(/\/+$/, '');
  const prefix = `rendered/${env}`;
  if (p === prefix) return '';
  return p.startsWith(`${prefix}/`) ? p.slice(prefix.length + 1) : undefined;
}

/** Every Application source path (a directory) and Helm values file exists in the tree. */
const applicationPaths: TreeChecker = {
  name: 'policy.application-paths',
  check(tree) {
    const out: Diagnostic[] = [];
    const allFiles = new Set(tree.files.map((f) => `rendered/${f.env}/${f.path}`));
    const dirExists = (p: string): boolean => [...allFiles].some((f) => f.startsWith(`${p.replace(/\/+$/, '')}/`));
    for (const env of tree.envs) {
      for (const { file, doc } of envDocs(tree, env)) {
        if (!isApplication(doc.value)) continue;
        const sources = applicationSources(doc.value);
        const refs = new Map(sources.filter((s) => typeof s.source.ref === 'string').map((s) => [s.source.ref as string, s]));
        for (const s of sources) {
          if (typeof s.source.path === 'string' && typeof s.source.chart !== 'string') {
            const p = s.source.path.replace(/^\.?\//, '');
            if (!dirExists(p))
              out.push(finding(file, doc, 'policy.application-paths', [...s.path, 'path'], `source path '${s.source.path}' does not exist in the rendered tree`, { hint: 'point it at a rendered/<env>/… directory that npm run synth writes' }));
            else if (inEnv(env, p) === undefined)
              out.push(finding(file, doc, 'policy.application-paths', [...s.path, 'path'], `source path '${s.source.path}' lies outside rendered/${env}/`, { severity: 'warning' }));
          }
          const helm = isMap(s.source.helm) ? s.source.helm : undefined;
          const valueFiles = helm && Array.isArray(helm.valueFiles) ? helm.valueFiles : [];
          valueFiles.forEach((vf, i) => {
            if (typeof vf !== 'string') return;
            const m = /^\$([A-Za-z0-9_-]+)\/(.+)$/.exec(vf);
            let repoPath: string | undefined;
            if (m) {
              if (!refs.has(m[1]!)) {
                out.push(finding(file, doc, 'policy.application-paths', [...s.path, 'helm', 'valueFiles', i], `values file '${vf}' names the source ref '$${m[1]}', which no source declares`));
                return;
              }
              repoPath = m[2]!;
            } else if (typeof s.source.path === 'string') repoPath = `${s.source.path.replace(/\/+$/, '')}/${vf}`;
            if (repoPath !== undefined && !allFiles.has(repoPath.replace(/^\.?\//, '')))
              out.push(finding(file, doc, 'policy.application-paths', [...s.path, 'helm', 'valueFiles', i], `values file '${vf}' does not exist in the rendered tree`, { hint: 'values files live at rendered/<env>/values/<addon>.yaml' }));
          });
        }
      }
    }
    return out;
  },
};

/** A git files generator path as a RegExp: `*` within a segment, `**` across segments, `?` one character. */
const globRegExp = (glob: string): RegExp =>
  new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*/g, '\u0000').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]').replace(/\u0000/g, '.*')}$`);

/**
 * Every file an ApplicationSet's git files generator reads exists in the rendered tree: the hub's
 * ApplicationSet reads rendered/<env>/fleet.yaml of each managed environment, and a path matching
 * nothing silently generates no Application (the environment is never deployed).
 */
const applicationSetFiles: TreeChecker = {
  name: 'policy.applicationset-files',
  check(tree) {
    const out: Diagnostic[] = [];
    const allFiles = tree.files.map((f) => `rendered/${f.env}/${f.path}`);
    for (const env of tree.envs) {
      for (const { file, doc } of envDocs(tree, env)) {
        const v = doc.value;
        if (!isMap(v) || v.kind !== 'ApplicationSet' || typeof v.apiVersion !== 'string' || groupOf(v.apiVersion) !== 'argoproj.io') continue;
        const generators = isMap(v.spec) && Array.isArray(v.spec.generators) ? v.spec.generators : [];
        generators.forEach((g, gi) => {
          const files = isMap(g) && isMap(g.git) && Array.isArray(g.git.files) ? g.git.files : [];
          files.forEach((f, fi) => {
            if (!isMap(f) || typeof f.path !== 'string') return;
            const p = f.path.replace(/^\.?\//, '');
            const re = globRegExp(p);
            if (allFiles.some((x) => re.test(x))) return;
            const near = allFiles.filter((x) => x.endsWith(`/${p.split('/').pop()}`));
            out.push(
              finding(file, doc, 'policy.applicationset-files', ['spec', 'generators', gi, 'git', 'files', fi, 'path'], `ApplicationSet ${nameOf(v)}: git files generator path '${f.path}' matches no file in the rendered tree, so it generates no Application`, {
                hint: hintFor(p, near) ?? 'npm run synth writes rendered/<env>/fleet.yaml for every environment a hub manages',
              }),
            );
          });
        });
      }
    }
    return out;
  },
};

/** An object is declared once: no two files (and so no two Applications) render the same object. */
const noDuplicateObjects: TreeChecker = {
  name: 'policy.duplicate-objects',
  check(tree) {
    const out: Diagnostic[] = [];
    for (const env of tree.envs) {
      // Which Applications own a file: those whose source path is a directory above it.
      const appDirs: { app: string; dir: string }[] = [];
      const seen = new Map<string, Located>();
      for (const loc of envDocs(tree, env)) {
        if (isApplication(loc.doc.value)) {
          const name = String((loc.doc.value.metadata as { name?: unknown } | undefined)?.name);
          for (const s of applicationSources(loc.doc.value)) {
            if (typeof s.source.path !== 'string') continue;
            const rel = inEnv(env, s.source.path);
            if (rel !== undefined) appDirs.push({ app: name, dir: rel });
          }
        }
      }
      const owners = (path: string): string[] => appDirs.filter((a) => a.dir === '' || path.startsWith(`${a.dir}/`)).map((a) => a.app);
      for (const loc of envDocs(tree, env)) {
        if (!loc.file.path.startsWith('manifests/') && !loc.file.path.startsWith('argocd/') && !loc.file.path.startsWith('apps/')) continue;
        const id = k8sIdentity(loc.doc.value);
        if (!id) continue;
        const key = `${groupOf(id.apiVersion)}/${id.kind}/${id.namespace ?? ''}/${id.name}`;
        const first = seen.get(key);
        if (!first) {
          seen.set(key, loc);
          continue;
        }
        const a = owners(first.file.path).join(', ') || 'no Application';
        const b = owners(loc.file.path).join(', ') || 'no Application';
        out.push(
          finding(loc.file, loc.doc, 'policy.duplicate-objects', ['metadata', 'name'], `${id.kind} ${id.namespace ? `${id.namespace}/` : ''}${id.name} is also rendered in ${first.file.file} (owned by ${a}; this one by ${b})`, {
            hint: 'two Applications fighting over one object: keep it in one place',
          }),
        );
      }
    }
    return out;
  },
};

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Pod']);

/** Every namespace that runs workloads is PSS-labelled (its Namespace object, or Argo CD's managed metadata). */
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
        if (isApplication(v)) {
          const spec = isMap(v.spec) ? v.spec : {};
          const ns = isMap(spec.destination) && typeof spec.destination.namespace === 'string' ? spec.destination.namespace : undefined;
          const meta = isMap(spec.syncPolicy) && isMap(spec.syncPolicy.managedNamespaceMetadata) ? spec.syncPolicy.managedNamespaceMetadata : undefined;
          const level = meta && isMap(meta.labels) ? meta.labels[PSS_ENFORCE] : undefined;
          if (ns && typeof level === 'string' && PSS_LEVELS.includes(level)) labelled.set(ns, level);
          // A namespace Argo CD creates (CreateNamespace=true) gets its labels only from
          // managedNamespaceMetadata: without a level it would run unenforced (kube-system exists already).
          const options = isMap(spec.syncPolicy) && Array.isArray(spec.syncPolicy.syncOptions) ? spec.syncPolicy.syncOptions : [];
          if (ns && ns !== 'kube-system' && options.includes('CreateNamespace=true') && !(typeof level === 'string' && PSS_LEVELS.includes(level)))
            out.push(
              finding(loc.file, loc.doc, 'policy.pss-labels', ['spec', 'syncPolicy', 'syncOptions'], `Application ${String((v.metadata as { name?: unknown }).name)} creates namespace '${ns}' without a Pod Security Standards level`, {
                hint: `set syncPolicy.managedNamespaceMetadata.labels["${PSS_ENFORCE}"] (the environment's addons.<name>.podSecurity)`,
              }),
            );
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

/** RuntimeClasses RKE2's rke2-runtimeclasses chart creates (rancher/rke2 v1.35.7+rke2r1 charts/chart_versions.yaml, takeOwnership; the one the platform uses). */
const RKE2_RUNTIME_CLASSES = ['nvidia'];

const crossReferences: TreeChecker = {
  name: 'policy.references',
  check(tree) {
    const out: Diagnostic[] = [];
    for (const env of tree.envs) {
      const docs = envDocs(tree, env);
      const defined = new Map<string, Set<string>>();
      // Core ServiceAccounts by namespace/name (Talos' talos.dev ServiceAccount is another kind of object).
      const serviceAccounts = new Set<string>();
      for (const { doc } of docs) {
        const id = k8sIdentity(doc.value);
        if (id) (defined.get(id.kind) ?? defined.set(id.kind, new Set()).get(id.kind)!).add(id.name);
        if (id?.apiVersion === 'v1' && id.kind === 'ServiceAccount') serviceAccounts.add(`${id.namespace ?? ''}/${id.name}`);
      }
      // RKE2 ships its RuntimeClasses (nvidia among them) itself: rke2-runtimeclasses chart.
      if (tree.files.some((f) => f.env === env && f.path.startsWith('rke2/'))) for (const rc of RKE2_RUNTIME_CLASSES) (defined.get('RuntimeClass') ?? defined.set('RuntimeClass', new Set()).get('RuntimeClass')!).add(rc);
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
        if (id.kind === 'ExternalSecret' && isMap(spec.secretStoreRef) && spec.secretStoreRef.kind === 'ClusterSecretStore')
          need(loc, 'ClusterSecretStore', spec.secretStoreRef.name, ['spec', 'secretStoreRef', 'name'], 'ClusterSecretStore');
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

const nameOf = (v: Record<string, unknown>): string => String((v.metadata as { name?: unknown } | undefined)?.name);
const stringsAt = (list: unknown, key?: string): string[] =>
  Array.isArray(list) ? list.flatMap((x) => (key === undefined ? (typeof x === 'string' ? [x] : []) : isMap(x) && typeof x[key] === 'string' ? [x[key] as string] : [])) : [];

/** Whether an AppProject list allows a value: Argo CD reads its entries as globs (policy.appproject-wildcard reports those). */
const allows = (patterns: Set<string>, value: string): boolean =>
  patterns.has(value) || [...patterns].some((p) => p.includes('*') && new RegExp(`^${p.split('*').map((x) => x.replace(/[.+?^${}()|[\]\\/]/g, '\\$&')).join('.*')}$`).test(value));

/**
 * Applications against their AppProjects: the project is rendered; it allows the destination
 * namespace and every source repository; every object the Application's manifest directories hold
 * names a namespace the project allows (a workload cannot write into Argo CD's namespace). A project
 * that lists its own (Argo CD's) namespace must have an Application deploying there: only the
 * project of the root may write Applications and AppProjects.
 */
const applicationProjects: TreeChecker = {
  name: 'policy.application-project',
  check(tree) {
    const out: Diagnostic[] = [];
    for (const env of tree.envs) {
      const docs = envDocs(tree, env);
      const projects = new Map<string, Located>();
      for (const loc of docs) {
        const v = loc.doc.value;
        if (isMap(v) && v.kind === 'AppProject' && typeof v.apiVersion === 'string' && groupOf(v.apiVersion) === 'argoproj.io') projects.set(nameOf(v), loc);
      }
      const deploysTo = new Map<string, Set<string>>();
      for (const loc of docs) {
        const app = loc.doc.value;
        if (!isApplication(app)) continue;
        const spec = isMap(app.spec) ? app.spec : {};
        const projectName = typeof spec.project === 'string' ? spec.project : 'default';
        const project = projects.get(projectName);
        if (!project) {
          out.push(finding(loc.file, loc.doc, 'policy.application-project', ['spec', 'project'], `Application ${nameOf(app)} names AppProject '${projectName}', which is not rendered in this environment`, { hint: `AppProjects here: ${[...projects.keys()].sort().join(', ') || 'none'}` }));
          continue;
        }
        const pspec = isMap((project.doc.value as Record<string, unknown>).spec) ? ((project.doc.value as Record<string, unknown>).spec as Record<string, unknown>) : {};
        const allowed = new Set(stringsAt(pspec.destinations, 'namespace'));
        const repos = new Set(stringsAt(pspec.sourceRepos));
        const dest = isMap(spec.destination) && typeof spec.destination.namespace === 'string' ? spec.destination.namespace : undefined;
        if (dest !== undefined) (deploysTo.get(projectName) ?? deploysTo.set(projectName, new Set()).get(projectName)!).add(dest);
        if (dest !== undefined && !allows(allowed, dest))
          out.push(finding(loc.file, loc.doc, 'policy.application-project', ['spec', 'destination', 'namespace'], `AppProject ${projectName} does not allow namespace '${dest}'`, { hint: `its destinations: ${[...allowed].sort().join(', ')}` }));
        for (const s of applicationSources(app)) {
          const repo = s.source.repoURL;
          if (typeof repo === 'string' && !allows(repos, repo))
            out.push(finding(loc.file, loc.doc, 'policy.application-project', [...s.path, 'repoURL'], `AppProject ${projectName} does not allow source repository '${repo}'`, { hint: `its sourceRepos: ${[...repos].join(', ')}` }));
          const rel = typeof s.source.path === 'string' && typeof s.source.chart !== 'string' ? inEnv(env, s.source.path) : undefined;
          if (rel === undefined || rel === '') continue;
          for (const m of docs) {
            if (!m.file.path.startsWith(`${rel}/`)) continue;
            const ns = k8sIdentity(m.doc.value)?.namespace;
            if (ns !== undefined && !allows(allowed, ns))
              out.push(finding(m.file, m.doc, 'policy.application-project', ['metadata', 'namespace'], `Application ${nameOf(app)} (AppProject ${projectName}) would write to namespace '${ns}', which its project does not allow`, { hint: `its destinations: ${[...allowed].sort().join(', ')}` }));
          }
        }
      }
      for (const [name, loc] of projects) {
        const v = loc.doc.value as Record<string, unknown>;
        const own = (v.metadata as { namespace?: unknown } | undefined)?.namespace;
        const pspec = isMap(v.spec) ? v.spec : {};
        if (typeof own === 'string' && stringsAt(pspec.destinations, 'namespace').includes(own) && !deploysTo.get(name)?.has(own))
          out.push(finding(loc.file, loc.doc, 'policy.application-project', ['spec', 'destinations'], `AppProject ${name} may write to the Argo CD namespace '${own}' (Applications, AppProjects, cluster Secrets), but none of its Applications deploys there`, { hint: `remove '${own}' from its destinations; only the root Application's project needs it` }));
      }
    }
    return out;
  },
};

export const POLICY_TREE_CHECKERS: TreeChecker[] = [applicationPaths, applicationSetFiles, noDuplicateObjects, pssNamespaces, crossReferences, applicationProjects];
