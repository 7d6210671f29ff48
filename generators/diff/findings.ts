/**
 * The run's warnings for the review comment: what `npm run validate` finds in the head — the
 * environment files' findings (already in hand from rendering) and the checks of the rendered files
 * held in memory (the same file, tree and distribution checks validate runs on rendered/).
 */
import { distributionOf } from '../distributions/registry.js';
import type { EnvironmentModel } from '../model/types.js';
import { sortDiagnostics, type Diagnostic } from '../validate/diagnostics.js';
import { checkRenderedTree, fileCheckers, treeCheckers } from '../validate/rendered/registry.js';
import { parseRenderedTree } from '../validate/rendered/tree.js';

/** `whole`: every environment was rendered, so the checks across the tree apply (not with --env). */
export async function headFindings(files: ReadonlyMap<string, string>, models: readonly EnvironmentModel[], own: readonly Diagnostic[], whole: boolean): Promise<Diagnostic[]> {
  const tree = parseRenderedTree(
    files,
    new Map(models.map((m) => [m.name, m.cluster.kubernetesVersion])),
    new Map(models.map((m) => [m.name, m.aws.vpc.subnets])),
  );
  const found = [...own, ...(await checkRenderedTree(tree, fileCheckers(), whole ? treeCheckers() : []))];
  for (const m of models) {
    const prefix = `${m.name}/`;
    const rel = new Map([...files].filter(([p]) => p.startsWith(prefix)).map(([p, c]) => [p.slice(prefix.length), c]));
    found.push(...(distributionOf(m).checks.environment?.(m, rel) ?? []));
  }
  return sortDiagnostics(found);
}
