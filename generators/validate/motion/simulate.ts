/**
 * The first sync of a rendered tree on an empty cluster, engine-neutral: the driver. Each engine
 * turns its rendered objects into SimUnits (generators/engines/<name>/motion.ts: which unit waits for
 * which, what each applies in which order, how it judges health and what an unmet need does), and
 * this driver runs them to a fixpoint in rounds: a unit is applied once its gates are Ready; an
 * object becomes healthy once what it needs exists; what it provides then exists. Pure.
 *
 * Findings: a unit never applied or never Ready, with the chain that holds it (`X waits for Y, which
 * needs Secret a/b, which only X provides`); containment: with each unit failed in turn, every unit
 * that consumes nothing of it is still applied; a gate with nothing consumed across it (a false edge).
 */
import { cap, type Need, type PodPlacement } from '../../plan/needs.js';
import { placeable, type PoolNode } from '../../plan/nodes.js';
import type { ParsedDoc, ParsedFile } from '../rendered/tree.js';

/** Needs checked when an object is applied (the API server refuses it otherwise); the others when it becomes healthy. */
export const applyTimeNeed = (what: string): boolean => what.startsWith('CRD ') || what.startsWith('Namespace ') || what.startsWith('webhook ');

export interface SimItem {
  /** e.g. "ExternalSecret monitoring/grafana-admin", "HelmRelease ns/kube-prometheus-stack (chart kube-prometheus-stack 88.5.3)". */
  label: string;
  provides: string[];
  needs: Need[];
  pods: PodPlacement[];
  /**
   * Whether the unit counts the item healthy before its needs are met (kstatus: an object without
   * status is Current at the first, immediate poll); it still provides nothing until they are.
   */
  healthyAtOnce?: boolean;
  /** What an unmet need does when the item is applied: it waits (retried), or it fails for good (and why, citing the engine). */
  onUnmet: { fail: false } | { fail: true; why: string };
  /**
   * With `onUnmet.fail`: how many more rounds the engine retries the failed attempt before giving up
   * (an engine's sync retry limit; Infinity: forever). A round stands for one attempt: what a
   * unit applied side by side provides within that many rounds arrives in time. Default 0.
   */
  retries?: number;
  /**
   * What its pods having no node does when their pool joins late (simulate's `late`), where that differs from
   * `onUnmet`: e.g. a delivery unit whose Deployment turns Degraded at its progress deadline fails the engine's sync
   * of a later step, retried as that sync is. Default: `onUnmet` with `retries`.
   */
  onUnplaced?: { why: string; retries: number };
  /** The item needs something no first sync provides (e.g. parameters a later bootstrap writes): it stays unhealthy, expectedly. */
  pendingUntil?: string;
}

export interface SimUnit {
  /** Unique id, the unit's name in messages. */
  id: string;
  file?: ParsedFile;
  doc?: ParsedDoc;
  /** Units that must be Ready before it is applied, each with the engine's reason (dependsOn, a lower wave …). */
  gates: { id: string; rule: string }[];
  /** What it applies, in order: a phase is applied once the previous one is healthy (when `phasesWait`). */
  phases: SimItem[][];
  /** Whether the next phase waits for the previous one to be healthy. */
  phasesWait: boolean;
  /** Whether it is Ready only once everything it applied is healthy (else right after applying). */
  waitsForHealth: boolean;
  /** Items it cannot apply (refused at apply time) block the unit's whole phase (a stage dry-run, an Application's validation). */
  phaseAtomic: boolean;
}

export type SimNode = PoolNode;

export type UnitState = 'pending' | 'applied' | 'ready' | 'failed';

export interface SimResult {
  state: Map<string, UnitState>;
  /** Capability → the unit whose item made it exist. */
  available: Map<string, string>;
  /** Why an item failed for good (unit → message). */
  failures: Map<string, string>;
  /** Per unit: the first item not healthy and its first unmet need. */
  blocked: Map<string, { item: string; need: Need }>;
}

/** Who provides a capability among the units (every unit with an item providing it). */
export function providersOf(units: readonly SimUnit[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const u of units) for (const p of u.phases.flat().flatMap((i) => i.provides)) if (!(out.get(p) ?? []).includes(u.id)) out.set(p, [...(out.get(p) ?? []), u.id]);
  return out;
}

/** Per unit, every unit it waits for, directly or through others. */
export function upstreamOf(units: readonly SimUnit[]): Map<string, Set<string>> {
  const byId = new Map(units.map((u) => [u.id, u]));
  const out = new Map<string, Set<string>>();
  for (const u of units) {
    const seen = new Set<string>();
    const stack = u.gates.map((g) => g.id);
    while (stack.length > 0) {
      const x = stack.pop()!;
      if (seen.has(x)) continue;
      seen.add(x);
      stack.push(...(byId.get(x)?.gates.map((g) => g.id) ?? []));
    }
    out.set(u.id, seen);
  }
  return out;
}

/** Whether some node tolerates and matches a pod placement. */
export const schedulable = (p: PodPlacement, nodes: readonly SimNode[]): boolean => nodes.some((n) => placeable(p, n));

/**
 * Run the units to a fixpoint. `base`: what exists before anything (built-in namespaces, the
 * bootstrap's releases, the distribution's objects); `forced`: units that fail whatever happens
 * (containment); `nodes`: the cluster's nodes once the bootstrap is done; `late`: nodes of pools that join
 * only after the first sync has gone as far as it can without them, later than any finite retry budget lasts
 * (an hour: a pool scaled from zero, a GPU capacity shortage): an item that fails on an unmet need
 * (`onUnmet.fail`) and whose pods had no node has failed by then unless it retries forever; then they join.
 */
export function simulate(units: readonly SimUnit[], base: ReadonlySet<string>, nodes: readonly SimNode[], forced: ReadonlySet<string> = new Set(), late: readonly SimNode[] = []): SimResult {
  const state = new Map<string, UnitState>(units.map((u) => [u.id, 'pending']));
  const phase = new Map<string, number>(units.map((u) => [u.id, 0]));
  const healthy = new Set<SimItem>();
  const applied = new Set<SimItem>();
  const available = new Map<string, string>([...base].map((b) => [b, '']));
  const failures = new Map<string, string>();
  const blocked = new Map<string, { item: string; need: Need }>();
  const webhookOwner = new Map<string, string>();
  const firstRound = new Map<SimItem, number>();
  for (const u of units) for (const i of u.phases.flat()) for (const p of i.provides) if (p.startsWith('webhook ')) webhookOwner.set(p, u.id);
  const behind = upstreamOf(units);
  /**
   * A webhook need: met once its unit serves (is Ready), or when its unit cannot start before this
   * one is Ready (it waits for it, directly or through others). Otherwise the two run side by side
   * and the webhook registers while the consumer is creating objects through it: a race, unmet.
   */
  const met = (n: Need, u: SimUnit): boolean => {
    if (n.mode === 'webhook') {
      const owner = webhookOwner.get(n.what);
      if (owner === undefined || owner === u.id || available.has(n.what)) return true;
      return behind.get(owner)!.has(u.id);
    }
    if (n.what === cap.podNetwork || n.what === cap.nodeInitialization) return true;
    return available.has(n.what);
  };
  let current = nodes;
  const podsFit = (i: SimItem): PodPlacement | undefined => i.pods.find((p) => !schedulable(p, current));
  let changed = true;
  let round = 0;
  for (const pass of late.length > 0 ? ['early', 'late'] : ['early']) {
    if (pass === 'late') {
      // The late pools join now: what waited for them with a finite retry budget has spent it.
      for (const u of units) {
        if (state.get(u.id) !== 'applied') continue;
        const onUnplaced = (x: SimItem) => x.onUnplaced ?? (x.onUnmet.fail ? { why: x.onUnmet.why, retries: x.retries ?? 0 } : undefined);
        const i = u.phases.flat().find((x) => applied.has(x) && !healthy.has(x) && Number.isFinite(onUnplaced(x)?.retries ?? Number.POSITIVE_INFINITY) && podsFit(x));
        if (!i) continue;
        const pod = podsFit(i)!;
        failures.set(u.id, `${i.label} ${onUnplaced(i)!.why} while ${pod.who} had no node (its pool joined after every retry was spent)`);
        blocked.set(u.id, { item: i.label, need: { what: 'a schedulable node', why: `${pod.who}: tolerations and node selector` } });
        state.set(u.id, 'failed');
      }
      current = [...nodes, ...late];
      changed = true;
    }
    for (; changed && round < 10_000 * (pass === 'late' ? 2 : 1); round++) {
      changed = false;
      // Units whose gates are Ready are applied this round.
      for (const u of units) {
        if (state.get(u.id) !== 'pending') continue;
        if (u.gates.every((g) => state.get(g.id) === 'ready')) {
          state.set(u.id, 'applied');
          changed = true;
        }
      }
      // Applied units: apply their phases in order, items become healthy once their needs exist.
      for (const u of units) {
        if (state.get(u.id) !== 'applied') continue;
        if (forced.has(u.id)) {
          state.set(u.id, 'failed');
          failures.set(u.id, 'marked failed');
          changed = true;
          continue;
        }
        for (let p = phase.get(u.id)!; p < u.phases.length; p++) {
          const items = u.phases[p]!;
          // Apply-time needs: refused objects block the phase (atomic) or only themselves.
          const defines = new Set(items.flatMap((i) => i.provides).filter((x) => x.startsWith('CRD ') || x.startsWith('Namespace ')));
          const refused = items.filter((i) => i.needs.some((n) => applyTimeNeed(n.what) && !defines.has(n.what) && !met(n, u)));
          const toApply = u.phaseAtomic && refused.length > 0 ? [] : items.filter((i) => !refused.includes(i));
          for (const i of refused) if (i.onUnmet.fail && !firstRound.has(i)) firstRound.set(i, round);
          for (const i of toApply) if (!applied.has(i)) {
            applied.add(i);
            if (!firstRound.has(i)) firstRound.set(i, round);
            changed = true;
            for (const x of i.provides) if (x.startsWith('CRD ') || x.startsWith('Namespace ')) if (!available.has(x)) available.set(x, u.id);
          }
          for (const i of toApply) {
            if (healthy.has(i)) continue;
            const unmet = i.pendingUntil ? undefined : i.needs.find((n) => !applyTimeNeed(n.what) && !met(n, u));
            const unplaced = unmet ? undefined : podsFit(i);
            if (!i.pendingUntil && !unmet && !unplaced) {
              healthy.add(i);
              changed = true;
              for (const x of i.provides) if (!available.has(x)) available.set(x, u.id);
            }
          }
          if (state.get(u.id) === 'failed') break;
          const done = refused.length === 0 && items.every((i) => healthy.has(i) || (i.healthyAtOnce && applied.has(i)));
          if (!done && u.phasesWait) break;
          if (done) phase.set(u.id, p + 1);
        }
        if (state.get(u.id) !== 'applied') continue;
        const all = u.phases.flat();
        const everyApplied = all.every((i) => applied.has(i));
        const everyHealthy = all.every((i) => healthy.has(i) || (i.healthyAtOnce && applied.has(i)));
        if (everyApplied && (!u.waitsForHealth || everyHealthy)) {
          state.set(u.id, 'ready');
          changed = true;
        }
      }
      // An item that fails on an unmet need fails when the round it was applied (or refused) in ends
      // with the need still unmet: units applied in the same round run side by side.
      for (const u of units) {
        if (state.get(u.id) !== 'applied') continue;
        for (const i of u.phases.flat()) {
          if (!i.onUnmet.fail || healthy.has(i) || firstRound.get(i) === undefined) continue;
          const unmet = i.needs.find((n) => !met(n, u));
          if (!unmet) continue;
          // Retries left: the next attempt comes (a finite budget keeps the rounds going until it is spent).
          const last = firstRound.get(i)! + (i.retries ?? 0);
          if (round < last) {
            if (Number.isFinite(last)) changed = true;
            continue;
          }
          if (round !== last) continue;
          failures.set(u.id, `${i.label} ${i.onUnmet.why} while ${unmet.what} ${unmet.mode === 'webhook' ? 'was registered but not yet serving' : 'did not exist'}`);
          blocked.set(u.id, { item: i.label, need: unmet });
          state.set(u.id, 'failed');
          changed = true;
          break;
        }
      }
    }
  }
  for (const u of units) {
    if (state.get(u.id) === 'ready' || blocked.has(u.id)) continue;
    for (const i of u.phases.flat()) {
      if (healthy.has(i)) continue;
      const need = i.needs.find((n) => !met(n, u)) ?? (podsFit(i) ? { what: 'a schedulable node', why: `${podsFit(i)!.who}: tolerations and node selector` } : i.pendingUntil ? { what: i.pendingUntil, why: i.label } : undefined);
      if (need) {
        blocked.set(u.id, { item: i.label, need });
        break;
      }
    }
  }
  return { state, available, failures, blocked };
}

/**
 * Why a unit is not Ready, as a chain in words: "A waits for B, which needs Secret x/y, which only A
 * provides". Stops at a unit already named (a cycle) or at a root cause.
 */
export function explain(id: string, units: readonly SimUnit[], r: SimResult, seen: string[] = []): string {
  const byId = new Map(units.map((u) => [u.id, u]));
  const providers = providersOf(units);
  const parts: string[] = [];
  let cur: string | undefined = id;
  const visited = new Set<string>(seen);
  while (cur !== undefined) {
    const u = byId.get(cur);
    if (!u) break;
    visited.add(cur);
    const st = r.state.get(cur);
    if (st === 'pending') {
      const g = u.gates.find((x) => r.state.get(x.id) !== 'ready');
      if (!g) break;
      parts.push(`${parts.length === 0 ? cur : 'which'} waits for ${g.id} (${g.rule})`);
      if (visited.has(g.id)) {
        parts[parts.length - 1] += ': a cycle, which nothing breaks';
        break;
      }
      cur = g.id;
      continue;
    }
    if (st === 'failed' && r.failures.get(cur) === 'marked failed') {
      parts.push(`${parts.length === 0 ? cur : 'which'} failed`);
      break;
    }
    const b = r.blocked.get(cur);
    if (!b) break;
    parts.push(`${parts.length === 0 ? cur : 'which'} needs ${b.need.what} (${b.need.why})${st === 'failed' ? `, and failed: ${r.failures.get(cur)}` : ''}`);
    const ps = (providers.get(b.need.what) ?? []).filter((p) => p !== cur);
    if (ps.length === 0) {
      parts.push(b.need.what === 'a schedulable node' ? 'which no node offers' : providers.get(b.need.what)?.includes(cur) ? `which only ${cur} itself provides` : `which nothing provides`);
      break;
    }
    const next: string = ps.find((p) => r.state.get(p) !== 'ready') ?? ps[0]!;
    if (visited.has(next)) {
      parts.push(`which only ${next} provides`);
      break;
    }
    parts.push(`which ${ps.length === 1 ? 'only ' : ''}${ps.join(' or ')} provide${ps.length === 1 ? 's' : ''}`);
    cur = next;
  }
  return parts.join(', ');
}

/**
 * Which units consume a unit: every unit with a need that only it provides, directly or through units
 * that consume it (with several providers, a need is consumed from none in particular).
 */
export function consumersOf(units: readonly SimUnit[], base: ReadonlySet<string>): Map<string, Set<string>> {
  const providers = providersOf(units);
  const direct = new Map<string, Set<string>>(units.map((u) => [u.id, new Set<string>()]));
  for (const u of units)
    for (const n of u.phases.flat().flatMap((i) => i.needs)) {
      if (base.has(n.what)) continue;
      const ps = (providers.get(n.what) ?? []).filter((p) => p !== u.id);
      if (ps.length === 1) direct.get(ps[0]!)!.add(u.id);
    }
  const out = new Map<string, Set<string>>();
  for (const u of units) {
    const seen = new Set<string>();
    const stack = [...direct.get(u.id)!];
    while (stack.length > 0) {
      const x = stack.pop()!;
      if (seen.has(x)) continue;
      seen.add(x);
      stack.push(...direct.get(x)!);
    }
    out.set(u.id, seen);
  }
  return out;
}

/** Whether unit `a` needs something unit `b` provides (the edge a → b is real). */
export function consumesDirectly(a: SimUnit, b: SimUnit): boolean {
  const provided = new Set(b.phases.flat().flatMap((i) => i.provides));
  return a.phases.flat().some((i) => i.needs.some((n) => provided.has(n.what)));
}
