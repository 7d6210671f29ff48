/**
 * Argo CD's rendered-tree checks: its Applications, AppProjects and ApplicationSets against the tree
 * (charts pinned, no wildcard, every source path and values file rendered, one owner per object, every
 * Application within its project, charts rendered deterministically) and the namespaces they label.
 */
import { determinismRules, determinismViolations, valueAt } from '../../catalog/determinism.js';
import { groupOf } from '../../diff/documents.js';
import type { DocPath } from '../../lib/paths.js';
import { hintFor } from '../../lib/suggest.js';
import { mergeDeep } from '../../load/loader.js';
import type { Diagnostic } from '../../validate/diagnostics.js';
import { envDocs, inEnv, nameOf, walk, type Located } from '../../validate/rendered/policies.js';
import type { FileChecker, TreeChecker } from '../../validate/rendered/registry.js';
import { finding, isMap, k8sIdentity, type ParsedDoc, type ParsedFile } from '../../validate/rendered/tree.js';

const EXACT_VERSION = /^v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$/;
const PSS_ENFORCE = 'pod-security.kubernetes.io/enforce';
const PSS_LEVELS = ['privileged', 'baseline', 'restricted'];

interface AppSource {
  source: Record<string, unknown>;
  path: DocPath;
}

export function applicationSources(app: Record<string, unknown>): AppSource[] {
  const spec = isMap(app.spec) ? app.spec : {};
  const out: AppSource[] = [];
  if (isMap(spec.source)) out.push({ source: spec.source, path: ['spec', 'source'] });
  if (Array.isArray(spec.sources)) spec.sources.forEach((s, i) => isMap(s) && out.push({ source: s, path: ['spec', 'sources', i] }));
  return out;
}

export const isApplication = (v: unknown): v is Record<string, unknown> => isMap(v) && v.kind === 'Application' && typeof v.apiVersion === 'string' && groupOf(v.apiVersion) === 'argoproj.io';

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


/** No wildcard in AppProjects: source repos, destinations, resource allow-lists, sync windows' targets. */
const appProjectWildcards: FileChecker = {
  name: 'policy.appproject-wildcard',
  pattern: /\.ya?ml$/,
  check(f) {
    const out: Diagnostic[] = [];
    for (const d of f.docs) {
      const v = d.value;
      if (!isMap(v) || v.kind !== 'AppProject' || typeof v.apiVersion !== 'string' || groupOf(v.apiVersion) !== 'argoproj.io') continue;
      walk(v.spec, ['spec'], (x, path) => {
        // A sync window's cron schedule is not a glob (its applications, namespaces and clusters are).
        const schedule = path.length === 4 && path[1] === 'syncWindows' && path[3] === 'schedule';
        if (typeof x === 'string' && x.includes('*') && !schedule)
          out.push(finding(f, d, 'policy.appproject-wildcard', path, `wildcard '${x}' in AppProject ${String((v.metadata as { name?: unknown } | undefined)?.name)}`, { hint: 'list the exact repositories, destinations and resource kinds' }));
      });
    }
    return out;
  },
};


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
        // Every generator with its document path, a matrix's (or merge's) children included.
        const all: { g: unknown; at: (string | number)[] }[] = [];
        const walk = (list: unknown, at: (string | number)[]): void => {
          if (!Array.isArray(list)) return;
          list.forEach((g, i) => {
            all.push({ g, at: [...at, i] });
            for (const nest of ['matrix', 'merge'] as const) if (isMap(g) && isMap(g[nest])) walk(g[nest].generators, [...at, i, nest, 'generators']);
          });
        };
        walk(isMap(v.spec) ? v.spec.generators : undefined, ['spec', 'generators']);
        all.forEach(({ g, at }) => {
          const files = isMap(g) && isMap(g.git) && Array.isArray(g.git.files) ? g.git.files : [];
          files.forEach((f, fi) => {
            if (!isMap(f) || typeof f.path !== 'string') return;
            const p = f.path.replace(/^\.?\//, '');
            const re = globRegExp(p);
            if (allFiles.some((x) => re.test(x))) return;
            const near = allFiles.filter((x) => x.endsWith(`/${p.split('/').pop()}`));
            out.push(
              finding(file, doc, 'policy.applicationset-files', [...at, 'git', 'files', fi, 'path'], `ApplicationSet ${nameOf(v)}: git files generator path '${f.path}' matches no file in the rendered tree, so it generates no Application`, {
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
      // A tree without Applications is another engine's, which says itself who applies an object twice.
      if (appDirs.length === 0) continue;
      const owners = (path: string): string[] => appDirs.filter((a) => a.dir === '' || path.startsWith(`${a.dir}/`)).map((a) => a.app);
      for (const loc of envDocs(tree, env)) {
        if (!loc.file.path.startsWith('manifests/') && !loc.file.path.startsWith('argocd/') && !loc.file.path.startsWith('apps/')) continue;
        // The bootstrap's objects are applied once by its script, by no Application: a managed environment's bootstrap
        // creates its workload namespaces before their units exist (managed.ts hubAccessScope: the same labels).
        if (loc.file.path.startsWith('argocd/bootstrap/')) continue;
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
      // An ApplicationSet's template is an Application of its project too (the hub's roots: project fleet, Argo CD's namespace).
      for (const loc of docs) {
        const v = loc.doc.value;
        if (!isMap(v) || v.kind !== 'ApplicationSet' || !isMap(v.spec) || !isMap(v.spec.template) || !isMap(v.spec.template.spec)) continue;
        const t = v.spec.template.spec;
        const projectName = typeof t.project === 'string' ? t.project : 'default';
        const dest = isMap(t.destination) && typeof t.destination.namespace === 'string' ? t.destination.namespace : undefined;
        const project = projects.get(projectName);
        if (!project) {
          out.push(finding(loc.file, loc.doc, 'policy.application-project', ['spec', 'template', 'spec', 'project'], `ApplicationSet ${nameOf(v)} generates Applications of AppProject '${projectName}', which is not rendered in this environment`, { hint: `AppProjects here: ${[...projects.keys()].sort().join(', ') || 'none'}` }));
          continue;
        }
        const pspec = isMap((project.doc.value as Record<string, unknown>).spec) ? ((project.doc.value as Record<string, unknown>).spec as Record<string, unknown>) : {};
        if (dest !== undefined && !allows(new Set(stringsAt(pspec.destinations, 'namespace')), dest))
          out.push(finding(loc.file, loc.doc, 'policy.application-project', ['spec', 'template', 'spec', 'destination', 'namespace'], `AppProject ${projectName} does not allow namespace '${dest}' (ApplicationSet ${nameOf(v)})`, { hint: `its destinations: ${stringsAt(pspec.destinations, 'namespace').sort().join(', ')}` }));
        if (dest !== undefined) (deploysTo.get(projectName) ?? deploysTo.set(projectName, new Set()).get(projectName)!).add(dest);
      }
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


/**
 * A namespace an Application creates (CreateNamespace=true) gets its labels only from
 * managedNamespaceMetadata: without a level it would run unenforced (kube-system exists already).
 */
export function applicationNamespaceLevel(file: ParsedFile, doc: ParsedDoc): { namespace?: string; level?: string; findings: Diagnostic[] } {
  const v = doc.value;
  if (!isApplication(v)) return { findings: [] };
  const spec = isMap(v.spec) ? v.spec : {};
  const ns = isMap(spec.destination) && typeof spec.destination.namespace === 'string' ? spec.destination.namespace : undefined;
  const meta = isMap(spec.syncPolicy) && isMap(spec.syncPolicy.managedNamespaceMetadata) ? spec.syncPolicy.managedNamespaceMetadata : undefined;
  const level = meta && isMap(meta.labels) ? meta.labels[PSS_ENFORCE] : undefined;
  const options = isMap(spec.syncPolicy) && Array.isArray(spec.syncPolicy.syncOptions) ? spec.syncPolicy.syncOptions : [];
  const findings: Diagnostic[] = [];
  if (ns && ns !== 'kube-system' && options.includes('CreateNamespace=true') && !(typeof level === 'string' && PSS_LEVELS.includes(level)))
    findings.push(
      finding(file, doc, 'policy.pss-labels', ['spec', 'syncPolicy', 'syncOptions'], `Application ${String((v.metadata as { name?: unknown }).name)} creates namespace '${ns}' without a Pod Security Standards level`, {
        hint: `set syncPolicy.managedNamespaceMetadata.labels["${PSS_ENFORCE}"] (the environment's addons.<name>.podSecurity)`,
      }),
    );
  return { namespace: ns, level: typeof level === 'string' ? level : undefined, findings };
}

/**
 * Deterministic rendering of the charts: each Application's chart (name and version) is looked up in
 * the catalog's determinism table (catalog/determinism.ts) and its values files, merged in order,
 * must keep every template of that chart off its genCA / randAlphaNum / lookup / now path.
 */
const show = (v: unknown): string => (v === undefined ? 'unset (chart default)' : JSON.stringify(v));

const deterministicValues: TreeChecker = {
  name: 'policy.determinism',
  check(tree) {
    const out: Diagnostic[] = [];
    const charts = new Set(determinismRules().map((r) => r.chart));
    const byPath = new Map(tree.files.map((f) => [f.file, f]));
    for (const file of tree.files) {
      for (const doc of file.docs) {
        const app = doc.value;
        if (!isMap(app) || app.kind !== 'Application' || !isMap(app.spec)) continue;
        const sources = Array.isArray(app.spec.sources) ? app.spec.sources.filter(isMap) : isMap(app.spec.source) ? [app.spec.source] : [];
        for (const s of sources) {
          if (typeof s.chart !== 'string' || !charts.has(s.chart) || typeof s.targetRevision !== 'string') continue;
          const helm = isMap(s.helm) ? s.helm : {};
          const files: { f: ParsedFile; d: ParsedDoc }[] = [];
          for (const vf of Array.isArray(helm.valueFiles) ? helm.valueFiles : []) {
            const m = typeof vf === 'string' ? /^\$[A-Za-z0-9_-]+\/(.+)$/.exec(vf) : null;
            const f = m ? byPath.get(m[1]!) : undefined;
            if (f?.docs[0]) files.push({ f, d: f.docs[0] });
          }
          const values = files.reduce<unknown>((acc, x) => mergeDeep(acc, x.d.value), isMap(helm.valuesObject) ? helm.valuesObject : {});
          for (const r of determinismViolations(s.chart, s.targetRevision, values)) {
            // At the last values file that sets the key, else at the first one (or the Application).
            const at = [...files].reverse().find((x) => valueAt(x.d.value, r.path) !== undefined) ?? files[0];
            const v = valueAt(values, r.path);
            const expected = r.nonEmptyString ? 'a non-empty string' : (r.allowed ?? []).map(show).join(' or ');
            const message = `${show(v)} lets chart ${r.chart} ${r.version} render ${r.template} with ${r.functions.join('/')}, whose output changes on every render (permanently OutOfSync under Argo CD); expected ${expected}`;
            out.push(at ? finding(at.f, at.d, 'policy.determinism', r.path, message, { hint: r.fix }) : finding(file, doc, 'policy.determinism', ['spec'], message, { hint: r.fix }));
          }
        }
      }
    }
    return out;
  },
};

export const ARGOCD_FILE_CHECKERS: FileChecker[] = [pinnedCharts, appProjectWildcards];
export const ARGOCD_TREE_CHECKERS: TreeChecker[] = [applicationPaths, applicationSetFiles, noDuplicateObjects, applicationProjects, deterministicValues];
