/**
 * The chart version each add-on ran at the base: read off the environment's rendered tree at that
 * revision (its delivery objects, through each engine's review: generators/diff/lead.ts chartsOf),
 * so that a change of the catalog's pin (or of an engine's or a distribution's own chart) shows in
 * the plan, not only a change of an environment's pin; the base document's pins fill in what the
 * tree does not say (no rendered tree at the base). The engine's own releases likewise (engineVersions).
 * Pure: files in, maps out.
 */
import { resolveAddons } from '../catalog/resolve.js';
import { chartsOf, versionsOf } from '../diff/lead.js';
import { splitFile } from '../diff/documents.js';
import type { EnvironmentModel } from '../model/types.js';
import { promotableItems } from '../promote/items.js';

/** Chart versions the base document pins (`addons.<name>.chart.version`), by add-on. */
export function pinnedCharts(data: Record<string, unknown>): Map<string, string> {
  return new Map(promotableItems(data).flatMap((i) => (i.kind === 'chart' && i.value ? [[i.name!, i.value] as const] : [])));
}

/**
 * Add-on name → chart version at the base. `rendered`: paths relative to rendered/ (`<env>/…`), as
 * diff/sources.ts readRenderedAtRef returns them; add-ons are matched to charts by the head's chart
 * names (an add-on whose chart was renamed is not matched, and falls back to the base's pin).
 */
export function baseChartVersions(env: string, baseData: Record<string, unknown>, rendered: ReadonlyMap<string, string>, head: EnvironmentModel): Map<string, string> {
  const out = pinnedCharts(baseData);
  const ran = new Map<string, string>();
  for (const value of documents(env, rendered, 'chart')) for (const c of chartsOf(value)) ran.set(c.chart, c.version);
  for (const a of resolveAddons(head)) {
    const v = a.chart ? ran.get(a.chart.name) : undefined;
    if (v) out.set(a.name, v);
  }
  return out;
}

/** The documents of `env`'s YAML files in a tree (paths `<env>/…`) whose text contains `needle` (a cheap filter before parsing). */
function* documents(env: string, files: ReadonlyMap<string, string>, needle: string): Generator<unknown> {
  for (const [path, content] of files) {
    if (!path.startsWith(`${env}/`) || !/\.ya?ml$/.test(path) || !content.includes(needle)) continue;
    for (const doc of splitFile(path, content)) yield doc.value;
  }
}

/**
 * The engine's own releases (its distribution, besides charts) `env`'s tree pins, through each
 * engine's review (EngineReview.versions): name → version. Read on both sides, the base's rendered
 * tree and the head's fresh render, so a change of the engine's pin in code shows in the plan.
 */
export function engineVersions(env: string, files: ReadonlyMap<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const value of documents(env, files, 'version')) for (const v of versionsOf(value)) out.set(v.name, v.version);
  return out;
}
