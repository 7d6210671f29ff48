/**
 * The upgrade plans' summaries for the review comment (npm run diff --format markdown): one block per
 * changed environment whose plan has steps. Pure: the environment files at the base and in the
 * working tree in, Markdown out.
 */
import { resolveEnvironment, type SourceFiles } from '../load/loader.js';
import { prepareEnvironment } from '../pipeline.js';
import { planSummaryMarkdown, upgradePlan } from './plan.js';
import { baseChartVersions, engineVersions } from './base-charts.js';
import { roleChanges } from './roles.js';
import { untaggedGroups } from './drain-tags.js';
import { exportChanges } from './exports.js';

/**
 * `rendered`: rendered/ at the base and the head's render (paths `<env>/…`), whose charts show a change
 * of the catalog's pin and whose engine objects a change of the engine's own release.
 */
export function planSummaries(base: SourceFiles, head: SourceFiles, envs: readonly string[], rendered?: { base: ReadonlyMap<string, string>; head: ReadonlyMap<string, string> }): string[] {
  return envs.flatMap((env) => {
    const before = resolveEnvironment(env, base).env?.data;
    const after = prepareEnvironment(env, head).prepared;
    if (!before || !after) return [];
    const baseCharts = rendered ? baseChartVersions(env, before, rendered.base, after.model) : undefined;
    const engine = rendered ? { base: engineVersions(env, rendered.base), head: engineVersions(env, rendered.head) } : undefined;
    const roles = rendered ? roleChanges(env, rendered.base, rendered.head) : undefined;
    const untagged = rendered ? untaggedGroups(after.model, rendered.base, rendered.head) : undefined;
    const exportsOrder = rendered ? exportChanges(env, rendered.base, rendered.head) : undefined;
    const text = planSummaryMarkdown(upgradePlan(before, after.model, after.data, baseCharts, engine, roles, untagged, exportsOrder));
    return text ? [text.trimEnd()] : [];
  });
}
