/**
 * Charts' `kubeVersion` constraints (Chart.yaml): Helm refuses to render a chart for a Kubernetes
 * version outside it ("chart requires kubeVersion: … which is incompatible with Kubernetes …",
 * helm/helm pkg/action/install.go / pkg/chartutil), and so do both GitOps engines, which template
 * through Helm's library. The catalog records the constraint of each
 * pinned chart (CatalogEntry.chartKubeVersion); validation and the upgrade plan refuse a Kubernetes
 * version outside it. Pure.
 *
 * Constraints are Masterminds/semver ranges: `||` between alternatives, commas or spaces between the
 * comparisons that must all hold, each `>=`, `>`, `<=`, `<`, `=`, `!=` or a bare version; a `-0`
 * pre-release suffix (`>=1.25.0-0`) only admits pre-releases (EKS' `v1.30.2-eks-…`), so it is read as
 * the version itself. Anything else (`~`, `^`, wildcards) is not evaluated: the check says nothing.
 */
import type { EnvironmentModel } from '../model/types.js';
import { resolveAddons } from './resolve.js';

type Triple = [number, number, number];

const parse = (v: string): Triple | undefined => {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/.exec(v.trim());
  return m ? [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)] : undefined;
};
const cmp = (a: Triple, b: Triple): number => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** Whether `version` satisfies `constraint`; undefined when either cannot be read. */
export function satisfiesKubeVersion(version: string, constraint: string): boolean | undefined {
  const v = parse(version);
  if (!v) return undefined;
  let readable = true;
  const ok = constraint.split('||').some((alt) => {
    const parts = alt.replace(/(>=|<=|!=|>|<|=)\s+/g, '$1').split(/[\s,]+/).filter(Boolean);
    return parts.every((p) => {
      const m = /^(>=|<=|!=|>|<|=)?(.+)$/.exec(p)!;
      const w = parse(m[2]!);
      if (!w) {
        readable = false;
        return true;
      }
      const c = cmp(v, w);
      return { '>=': c >= 0, '>': c > 0, '<=': c <= 0, '<': c < 0, '=': c === 0, '!=': c !== 0, '': c === 0 }[m[1] ?? '']!;
    });
  });
  return readable ? ok : undefined;
}

export interface KubeVersionProblem {
  addon: string;
  chart: string;
  version: string;
  constraint: string;
  source: string;
}

/**
 * The enabled add-ons whose pinned chart does not admit `kubernetes` (the model's own version by
 * default). A chart at another version than the catalog's pin is not judged: its constraint is not
 * recorded.
 */
export function kubeVersionProblems(m: EnvironmentModel, kubernetes: string = m.cluster.kubernetesVersion): KubeVersionProblem[] {
  return resolveAddons(m).flatMap((a) => {
    const rec = a.catalog?.chartKubeVersion;
    if (!a.chart || !rec?.constraint || a.chart.version !== a.catalog?.chart?.version) return [];
    return satisfiesKubeVersion(kubernetes, rec.constraint) === false ? [{ addon: a.name, chart: a.chart.name, version: a.chart.version, constraint: rec.constraint, source: rec.source }] : [];
  });
}
