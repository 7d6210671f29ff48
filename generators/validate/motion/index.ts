/**
 * `npm run validate`'s motion check: the first sync of each environment's rendered tree, simulated
 * with its engine's semantics (Engine.motion) on an empty cluster whose nodes are the environment's
 * pools once the bootstrap is done. Refuses a tree in which a unit is never applied or never Ready
 * (naming the chain), reports (warnings) containment breaches (with a unit failed, a unit that
 * consumes nothing of it is not applied) and false edges (a gate with nothing consumed across it).
 */
import { engines } from '../../engines/registry.js';
import type { EnvironmentModel } from '../../model/types.js';
import { BUILTIN_NAMESPACES, cap } from '../../plan/needs.js';
import { distributionOf } from '../../distributions/registry.js';
import { nodesOf } from '../../plan/nodes.js';
import type { Diagnostic } from '../diagnostics.js';
import { finding, type RenderedTree } from '../rendered/tree.js';
import type { MotionContext } from './context.js';
import { consumersOf, consumesDirectly, explain, simulate, upstreamOf, type SimNode, type SimUnit } from './simulate.js';

export { nodesOf };

const at = (u: SimUnit, rule: string, message: string, severity: 'error' | 'warning', hint?: string): Diagnostic =>
  u.file ? finding(u.file, u.doc, rule, ['metadata', 'name'], message, { severity, hint }) : { severity, rule, file: u.id, path: [], message, hint };

export interface MotionReport {
  env: string;
  engine: string;
  units: SimUnit[];
  /** What exists before the engine applies anything. */
  base: ReadonlySet<string>;
  nodes: SimNode[];
  findings: Diagnostic[];
}

/** Containment: the units never applied when unit `id` fails (sorted), in a report's first sync. */
export function failureBlocks(r: Pick<MotionReport, 'units' | 'base' | 'nodes'>, id: string): string[] {
  const f = simulate(r.units, r.base, r.nodes, new Set([id]));
  return r.units.filter((u) => u.id !== id && f.state.get(u.id) === 'pending').map((u) => u.id).sort();
}

/** Simulate one environment (undefined: no engine's objects in its tree). */
export function motionOf(tree: RenderedTree, env: string, model?: EnvironmentModel): MotionReport | undefined {
  const files = new Map(tree.files.filter((f) => f.env === env).map((f) => [f.path, f]));
  // What the cluster has before anything is applied: built-in namespaces, the distribution's own objects.
  const cluster = [...BUILTIN_NAMESPACES.map(cap.namespace), ...(model ? [...(distributionOf(model).facts.runtimeClasses ?? []).map(cap.runtimeClass), ...(distributionOf(model).facts.clusterCapabilities?.(model) ?? [])] : [])];
  const ctx: MotionContext = { tree, env, model, files, cluster: new Set(cluster) };
  for (const e of engines()) {
    const m = e.motion?.(ctx);
    if (!m) continue;
    const base = new Set<string>([...cluster, ...m.base]);
    const nodes = nodesOf(model);
    const units = m.units;
    const findings: Diagnostic[] = [...m.findings];
    const r = simulate(units, base, nodes);
    const expected = (u: SimUnit): boolean => u.phases.flat().some((i) => i.pendingUntil && !i.pendingUntil.startsWith('AppProject'));
    for (const u of units) {
      const st = r.state.get(u.id);
      if (st === 'ready' || expected(u)) continue;
      const chain = explain(u.id, units, r);
      const what = st === 'pending' ? 'is never applied' : st === 'failed' ? 'fails' : 'never becomes Ready';
      findings.push(at(u, st === 'pending' ? 'motion.never-applied' : 'motion.never-ready', `${e.title} first sync: ${u.id} ${what}: ${chain}`, 'error', 'order the provider first (the delivery graph does: npm run synth), or remove the need'));
    }
    // Containment: with one unit failed, every unit that consumes nothing of it is still applied.
    const consumers = consumersOf(units, base);
    // An engine whose ordering couples every later step to each earlier one (waves: coupling set) cannot
    // contain a failure; that is its documented semantics, not a finding per unit (failureBlocks() still says what is blocked).
    for (const x of m.coupling ? [] : units) {
      // An object without health (an AppProject) cannot fail its sync.
      if (r.state.get(x.id) !== 'ready' || x.phases.flat().every((i) => i.label.startsWith('AppProject '))) continue;
      const blocked = failureBlocks({ units, base, nodes }, x.id);
      const stranded = units.filter((u) => blocked.includes(u.id) && r.state.get(u.id) !== 'pending' && !consumers.get(x.id)!.has(u.id));
      if (stranded.length === 0) continue;
      const rule = m.coupling ?? e.motionRules?.dependsOn;
      findings.push(
        at(x, 'motion.containment', `${e.title}: if ${x.id} fails, ${stranded.map((u) => u.id).join(', ')} ${stranded.length === 1 ? 'is' : 'are'} never applied although ${stranded.length === 1 ? 'it consumes' : 'they consume'} nothing of it (${rule ? `${rule.id}: ${rule.source}` : 'its gates'})`, 'warning', 'a unit waits only for what it needs (the delivery graph)'),
      );
    }
    // Webhook races: a unit creating objects through another unit's fail-closed webhook while the two
    // run side by side (neither waits for the other): the webhook registers before it serves.
    const behind = upstreamOf(units);
    const owners = new Map<string, string>();
    for (const u of units) for (const p of u.phases.flat().flatMap((i) => i.provides)) if (p.startsWith('webhook ')) owners.set(p, u.id);
    for (const u of units) {
      const raced = new Set<string>();
      for (const n of u.phases.flat().flatMap((i) => i.needs)) {
        const owner = n.mode === 'webhook' ? owners.get(n.what) : undefined;
        if (!owner || owner === u.id || raced.has(owner) || behind.get(u.id)!.has(owner) || behind.get(owner)!.has(u.id)) continue;
        raced.add(owner);
        findings.push(at(u, 'motion.webhook-race', `${e.title} first sync: ${u.id} runs side by side with ${owner}, whose admission webhook fails closed on ${n.what.slice('webhook '.length).replace(/^\//, '')} (${n.why}): once registered and before its pods serve, every such create is refused`, 'error', `make ${u.id} wait for ${owner} (or ${owner} for ${u.id}): the delivery graph does (npm run synth)`));
      }
    }
    // False edges: an explicit gate (not implied by waves) across which nothing is consumed.
    const byId = new Map(units.map((u) => [u.id, u]));
    for (const u of units)
      for (const g of u.gates) {
        const target = byId.get(g.id);
        if (!target || g.rule.includes('wave')) continue;
        if (!consumesDirectly(u, target))
          findings.push(at(u, 'motion.false-edge', `${e.title}: ${u.id} waits for ${g.id} (${g.rule}) but needs nothing it provides: a failure of ${g.id} would hold it for nothing`, 'warning', 'drop the edge, or state the need it stands for'));
      }
    return { env, engine: e.name, units, base, nodes, findings };
  }
  return undefined;
}

/** The motion findings of every environment of the tree. */
export function checkMotion(tree: RenderedTree, models: readonly EnvironmentModel[]): Diagnostic[] {
  const byName = new Map(models.map((m) => [m.name, m]));
  return tree.envs.flatMap((env) => motionOf(tree, env, byName.get(env))?.findings ?? []);
}
