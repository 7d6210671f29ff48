/**
 * Charts' `kubeVersion` constraints (Chart.yaml): Helm refuses to render a chart for a Kubernetes
 * version outside it ("chart requires kubeVersion: … which is incompatible with Kubernetes …",
 * helm/helm pkg/action/install.go / pkg/chartutil), and so do both GitOps engines, which template
 * through Helm's library. The catalog records the constraint per chart version
 * (CatalogEntry.chartKubeVersions: the pin and the versions environments may pin); validation and
 * the upgrade plan refuse a Kubernetes version outside it, and warn when the add-on runs a chart
 * version whose constraint is not recorded (never a guess). Pure.
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
  /** outside: the chart does not admit the Kubernetes version; unknown: its constraint at this version is not recorded. */
  kind: 'outside' | 'unknown';
  addon: string;
  chart: string;
  version: string;
  /** Whether the environment pins this version (`addons.<addon>.chart.version`), not the catalog. */
  pinnedByEnvironment: boolean;
  /** unknown only: the versions the catalog records, in its order. */
  known?: string[];
  /** outside only. */
  constraint?: string;
  source?: string;
}

/**
 * The enabled catalog add-ons whose chart, at the version the environment runs, does not admit
 * `kubernetes` (the model's own version by default), or whose constraint at that version is not
 * recorded. Charts that are no catalog entry's (an environment's third-party charts) are not judged.
 */
export function kubeVersionProblems(m: EnvironmentModel, kubernetes: string = m.cluster.kubernetesVersion): KubeVersionProblem[] {
  return resolveAddons(m).flatMap((a): KubeVersionProblem[] => {
    const table = a.catalog?.chartKubeVersions;
    if (!a.chart || !table) return [];
    const base = { addon: a.name, chart: a.chart.name, version: a.chart.version, pinnedByEnvironment: a.chart.version !== a.catalog?.chart?.version };
    const rec = Object.hasOwn(table, a.chart.version) ? table[a.chart.version] : undefined;
    if (!rec) return [{ kind: 'unknown', ...base, known: Object.keys(table) }];
    if (!rec.constraint) return [];
    return satisfiesKubeVersion(kubernetes, rec.constraint) === false ? [{ kind: 'outside', ...base, constraint: rec.constraint, source: rec.source }] : [];
  });
}

/** What to do about a version whose constraint is not recorded (validate's hint, the plan's reason). */
export function unknownKubeVersionHint(p: KubeVersionProblem): string {
  return `read kubeVersion from chart ${p.chart} ${p.version}'s Chart.yaml (helm show chart … --version ${p.version}, or the chart's source at its release tag) and add it, with that source, to chartKubeVersions of catalog entry '${p.addon}' (constraint: null when it declares none)`;
}

/** The recorded versions in words: all of a few, else how many and the first and last. */
export function knownVersionsText(known: readonly string[]): string {
  if (known.length === 0) return 'no version';
  return known.length <= 4 ? known.join(', ') : `${known.length} versions, ${known[0]} to ${known[known.length - 1]}`;
}
