/**
 * The upgrade plans' summaries for the review comment (npm run diff --format markdown): one block per
 * changed environment whose plan has steps. Pure: the environment files at the base and in the
 * working tree in, Markdown out.
 */
import { resolveEnvironment, type SourceFiles } from '../load/loader.js';
import { prepareEnvironment } from '../pipeline.js';
import { planSummaryMarkdown, upgradePlan } from './plan.js';

export function planSummaries(base: SourceFiles, head: SourceFiles, envs: readonly string[]): string[] {
  return envs.flatMap((env) => {
    const before = resolveEnvironment(env, base).env?.data;
    const after = prepareEnvironment(env, head).prepared;
    if (!before || !after) return [];
    const text = planSummaryMarkdown(upgradePlan(before, after.model, after.data));
    return text ? [text.trimEnd()] : [];
  });
}
