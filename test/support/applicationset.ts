/**
 * The hub's ApplicationSet evaluated as argoproj/argo-cd v3.4.4's ApplicationSet controller does, for the generators
 * the hub renders (goTemplate: true):
 * - git files: one element per file, its top-level keys, then `path` (path, basename, filename, segments), set after
 *   the file's keys so the file cannot override it (applicationset/generators/git.go:221-257);
 * - clusters: the Secrets in Argo CD's namespace labelled argocd.argoproj.io/secret-type=cluster that match the
 *   selector; no in-cluster entry when the selector is not empty (cluster.go:58-60, 165-187); parameters name, server,
 *   project, metadata.labels/annotations (:128-163);
 * - matrix: exactly two children; the second is rendered with each element of the first
 *   (generator_spec_processor.go:56-68, 175-186) and each pair merged, the first's parameters winning (matrix.go:48-80);
 * - the template rendered with each element's parameters, missingkey=error (a missing key fails the generation).
 */
import { posix } from 'node:path';
import { parseYamlStream } from '../../generators/lib/yaml.js';

type Obj = Record<string, any>;
export interface ClusterSecret {
  metadata: { name: string; namespace: string; labels: Record<string, string>; annotations?: Record<string, string> };
  data: Record<string, string>;
}

/** Go template `{{ .a.b }}` field references, missingkey=error (the only template form the hub renders). */
export function renderTemplate<T>(value: T, params: Obj): T {
  if (typeof value === 'string')
    return value.replace(/\{\{\s*((?:\.[A-Za-z_]\w*)+)\s*\}\}/g, (_, ref: string) => {
      const v = ref.split('.').slice(1).reduce<any>((o, k) => (o !== null && typeof o === 'object' && k in o ? o[k] : undefined), params);
      if (v === undefined || typeof v === 'object') throw new Error(`template: map has no entry for key ${ref}`);
      return String(v);
    }) as T;
  if (Array.isArray(value)) return value.map((x) => renderTemplate(x, params)) as T;
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderTemplate(v, params)])) as T;
  return value;
}

const matches = (labels: Record<string, string>, selector: Obj | undefined): boolean => {
  if (selector?.matchExpressions?.length) throw new Error('matchExpressions: not modelled');
  return Object.entries({ ...(selector?.matchLabels ?? {}), 'argocd.argoproj.io/secret-type': 'cluster' }).every(([k, v]) => labels[k] === v);
};

function params(gen: Obj, files: ReadonlyMap<string, string>, secrets: readonly ClusterSecret[], namespace: string): Obj[] {
  if (gen.git) {
    return (gen.git.files as { path: string }[]).flatMap(({ path }) => {
      if (path.includes('*')) throw new Error('globs: not modelled');
      const content = files.get(path);
      if (content === undefined) return [];
      const dir = posix.dirname(path);
      return [{ ...(parseYamlStream(content)[0] as Obj), path: { path: dir, basename: posix.basename(dir), filename: posix.basename(path), segments: dir.split('/') } }];
    });
  }
  if (gen.clusters) {
    const selector = gen.clusters.selector as Obj | undefined;
    const selected = secrets
      .filter((s) => s.metadata.namespace === namespace && matches(s.metadata.labels, selector))
      .map((s) => ({ name: s.data.name, nameNormalized: s.data.name, server: s.data.server, project: s.data.project ?? '', metadata: { labels: s.metadata.labels, ...(s.metadata.annotations ? { annotations: s.metadata.annotations } : {}) } }));
    const empty = !selector || (Object.keys(selector.matchLabels ?? {}).length === 0 && !(selector.matchExpressions ?? []).length);
    return empty ? [...selected, { name: 'in-cluster', nameNormalized: 'in-cluster', server: 'https://kubernetes.default.svc', project: '' }] : selected;
  }
  if (gen.matrix) {
    const [first, second] = gen.matrix.generators as Obj[];
    if (gen.matrix.generators.length !== 2) throw new Error('a matrix has exactly two generators');
    return params(first!, files, secrets, namespace).flatMap((a) => params(renderTemplate(second!, a), files, secrets, namespace).map((b) => ({ ...b, ...a })));
  }
  throw new Error(`generator not modelled: ${Object.keys(gen).join(', ')}`);
}

/** The Applications the ApplicationSet generates, given the repository's files and the cluster Secrets in the hub. */
export function generateApplications(appset: Obj, files: ReadonlyMap<string, string>, secrets: readonly ClusterSecret[]): Obj[] {
  if (appset.spec.goTemplate !== true) throw new Error('only goTemplate is modelled');
  const namespace = appset.metadata.namespace as string;
  return (appset.spec.generators as Obj[]).flatMap((g) => params(g, files, secrets, namespace)).map((p) => renderTemplate(appset.spec.template, p));
}

/** The Secret External Secrets creates from an ExternalSecret's template, its `{{ .key }}` fields filled with `values`. */
export function secretOf(externalSecret: Obj, values: Record<string, string>): ClusterSecret {
  const t = externalSecret.spec.target;
  return {
    metadata: { name: t.name, namespace: externalSecret.metadata.namespace, labels: t.template.metadata.labels, ...(t.template.metadata.annotations ? { annotations: t.template.metadata.annotations } : {}) },
    data: renderTemplate(t.template.data as Record<string, string>, values),
  };
}
