/**
 * The upgrade plans' summaries for the review comment (npm run diff --format markdown): one block per
 * changed environment whose plan has steps. Pure: the environment files at the base and in the
 * working tree in, Markdown out.
 */
import { resolveEnvironment, type SourceFiles } from '../load/loader.js';
import { prepareEnvironment } from '../pipeline.js';
import { planSummaryMarkdown, upgradePlan } from './plan.js';
import { baseChartVersions } from './base-charts.js';

/** `baseRendered`: rendered/ at the base (paths `<env>/…`), whose charts show a change of the catalog's pin. */
export function planSummaries(base: SourceFiles, head: SourceFiles, envs: readonly string[], baseRendered?: ReadonlyMap<string, string>): string[] {
  return envs.flatMap((env) => {
    const before = resolveEnvironment(env, base).env?.data;
    const after = prepareEnvironment(env, head).prepared;
    if (!before || !after) return [];
    const baseCharts = baseRendered ? baseChartVersions(env, before, baseRendered, after.model) : undefined;
    const text = planSummaryMarkdown(upgradePlan(before, after.model, after.data, baseCharts));
    return text ? [text.trimEnd()] : [];
  });
}
