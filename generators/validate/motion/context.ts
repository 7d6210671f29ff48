/**
 * What the engines' first-sync models share: the catalog's chart facts for a chart a rendered release
 * names (by chart name and exact version: another version has none), the releases a bootstrap script
 * installs before the engine runs, and the simulator's types.
 */
import { catalogEntries } from '../../catalog/index.js';
import type { ChartFacts } from '../../catalog/types.js';
import type { EnvironmentModel } from '../../model/types.js';
import { objectFacts } from '../../plan/needs.js';
import type { Diagnostic } from '../diagnostics.js';
import type { ParsedFile, RenderedTree } from '../rendered/tree.js';
import type { SimItem, SimUnit } from './simulate.js';

export type { SimItem, SimUnit };

/** A rule of an engine's semantics: its id (findings carry it), what it models, and the upstream code it follows. */
export interface MotionRule {
  id: string;
  text: string;
  /** repository tag path:line(s). */
  source: string;
}

export interface MotionContext {
  tree: RenderedTree;
  env: string;
  /** The environment's model, when validated in the same run (nodes, distribution facts). */
  model?: EnvironmentModel;
  /** Files of this environment by env-relative path. */
  files: ReadonlyMap<string, ParsedFile>;
  /** Capabilities the cluster has before anything is applied (built-in namespaces, the distribution's own objects). */
  cluster?: ReadonlySet<string>;
}

export interface EngineMotionResult {
  units: SimUnit[];
  /** Capabilities that exist before the engine applies anything (the bootstrap's releases, its own namespace …). */
  base: string[];
  /** Findings the engine's reading of the tree produces itself (e.g. the root gated on its own health). */
  findings: Diagnostic[];
  /** The gates of units that express an ordering the engine imposes beyond dependsOn-like edges (waves): containment findings name this rule. */
  coupling?: MotionRule;
}

/** The catalog's facts for a chart at exactly this version (undefined: none stated). */
export function chartFactsFor(chart: string, version: string): ChartFacts | undefined {
  const e = catalogEntries().find((x) => x.chart?.name === chart && x.facts?.version === version);
  return e?.facts;
}

/** A chart release as a simulator item (its catalog facts on the given values). */
export function releaseItem(label: string, chart: string, version: string, values: Record<string, unknown>, namespace: string, onUnmet: SimItem['onUnmet']): SimItem {
  const f = chartFactsFor(chart, version);
  return {
    label: `${label} (chart ${chart} ${version}${f ? '' : ', no facts stated for this version'})`,
    provides: f?.provides(values, namespace) ?? [],
    needs: f?.needs(values, namespace) ?? [],
    pods: f?.pods?.(values) ?? [],
    onUnmet,
  };
}

/** One object as a simulator item. */
export function objectItem(o: Record<string, unknown>, namespace: string, extra: Partial<SimItem> = {}): SimItem {
  const f = objectFacts(o, namespace);
  const m = (o.metadata ?? {}) as { name?: string; namespace?: string };
  // A CronJob is healthy once created (no engine waits for its pods): they come with its schedule.
  if (o.kind === 'CronJob') extra = { healthyAtOnce: true, ...extra };
  // A StorageClass has no status and no health rule of its own: every engine counts it healthy once applied
  // (research/sync-semantics.md F9.2 rule 6, A2.1); it provides its class only once its provisioner runs
  // (plan/needs.ts).
  if (o.kind === 'StorageClass') extra = { healthyAtOnce: true, ...extra };
  return { label: `${String(o.kind)} ${m.namespace ?? (f.needs.some((n) => n.what.startsWith('Namespace ')) ? namespace : '')}${m.namespace || f.needs.some((n) => n.what.startsWith('Namespace ')) ? '/' : ''}${m.name ?? ''}`, ...f, onUnmet: { fail: false }, ...extra };
}

/**
 * The helm releases a rendered bootstrap script installs, in order (the shared prelude's
 * `helm upgrade --install 'release' 'chart' … --version 'v' --namespace 'ns' … --values "$ROOT/"'file'`).
 */
export function bootstrapReleases(script: string): { release: string; chart: string; version: string; namespace: string; values: string }[] {
  const out: { release: string; chart: string; version: string; namespace: string; values: string }[] = [];
  const text = script.replace(/\\\n\s*/g, ' ').replace(/ +/g, ' ');
  for (const m of text.matchAll(/helm upgrade --install '([^']+)' '([^']+)'(?: --repo '[^']+')? --version '([^']+)' --namespace '([^']+)'.*?--values "\$ROOT\/"'([^']+)'/g)) {
    out.push({ release: m[1]!, chart: m[2]!.split('/').pop()!, version: m[3]!, namespace: m[4]!, values: m[5]! });
  }
  return out;
}
