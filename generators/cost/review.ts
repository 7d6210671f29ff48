/**
 * The review comment's cost delta (npm run diff): a lead section ("What changes in the cluster",
 * diff/lead-sections.ts) with one item per node pool whose monthly cost changes — its instance type,
 * its size, or the locked price — e.g. "+$412/month: general-amd64 m7i.xlarge → m7i.2xlarge × 4",
 * then the environment's total. Each side is priced from its own lock: the base's environment files
 * and lock at the base revision, the head's in the working tree. A price missing on either side
 * says so; no delta is computed from it. Pure: the two sides' environment files in.
 */
import { envPrefix, type LeadItem, type LeadSection, type Style } from '../diff/lead-sections.js';
import { envFile, resolveEnvironment, type SourceFiles } from '../load/loader.js';
import { lockFile, parseLock, REFRESH_COMMAND, resolveSsm } from '../load/ssm-lock.js';
import { poolSize } from '../model/build.js';
import { COST_SCOPE, environmentCost, formatDelta, formatUsd, pricesFor, shortUsd, type EnvironmentCost, type PoolCost, type PoolShape } from './estimate.js';

/** One side of the change: the environment's pools and what its lock prices them at (undefined: no such environment). */
export function costOf(env: string, sources: SourceFiles): EnvironmentCost | undefined {
  if (!sources.has(envFile(env))) return undefined;
  const resolved = resolveEnvironment(env, sources).env;
  if (!resolved) return undefined;
  const { lock } = parseLock(lockFile(env), sources.get(lockFile(env)));
  const data = resolveSsm(resolved, lock).data;
  const region = String((data.aws as { region?: unknown } | undefined)?.region ?? '');
  const pools: PoolShape[] = ((data.nodePools ?? []) as { name?: unknown; instanceType?: unknown; nodes?: unknown[]; count?: number }[]).map((p) => ({
    name: String(p.name),
    instanceType: String(p.instanceType),
    size: poolSize(p),
  }));
  return environmentCost(pools, pricesFor(lock.prices, region));
}

/** `m7i.xlarge → m7i.2xlarge × 4`, `m7i.xlarge × 3 → × 4`, `m7i.xlarge × 4 ($0.2/h → $0.21/h)`. */
function change(s: Style, was: PoolCost | undefined, now: PoolCost | undefined): string {
  const t = (x: string): string => s.code(x);
  if (!was) return `${t(now!.instanceType)} × ${now!.size} ${s.text('(new pool)')}`;
  if (!now) return `${t(was.instanceType)} × ${was.size} ${s.text('(pool removed)')}`;
  const typeChanged = was.instanceType !== now.instanceType;
  const sizeChanged = was.size !== now.size;
  if (typeChanged && !sizeChanged) return `${t(was.instanceType)} → ${t(now.instanceType)} × ${now.size}`;
  if (typeChanged) return `${t(was.instanceType)} × ${was.size} → ${t(now.instanceType)} × ${now.size}`;
  if (sizeChanged) return `${t(now.instanceType)} × ${was.size} → × ${now.size}`;
  const prices: string[] = [];
  if (was.hourly && now.hourly && was.hourly.usd !== now.hourly.usd) prices.push(`$${shortUsd(was.hourly.usd)}/h → $${shortUsd(now.hourly.usd)}/h`);
  if (was.volume && now.volume && was.volume.usd !== now.volume.usd) prices.push(`${now.volumeType} $${shortUsd(was.volume.usd)}/GB-month → $${shortUsd(now.volume.usd)}/GB-month`);
  return `${t(now.instanceType)} × ${now.size} ${s.text(`(locked price ${prices.join(', ') || 'changed'})`)}`;
}

const same = (a: PoolCost | undefined, b: PoolCost | undefined): boolean =>
  a !== undefined && b !== undefined && a.instanceType === b.instanceType && a.size === b.size && a.hourly?.usd === b.hourly?.usd && a.volume?.usd === b.volume?.usd && a.missing.join() === b.missing.join();

/** The items of one environment: a line per pool whose cost changes, then the total. */
export function costItems(env: string, before: EnvironmentCost | undefined, after: EnvironmentCost | undefined, s: Style): LeadItem[] {
  const byName = (c: EnvironmentCost | undefined): Map<string, PoolCost> => new Map((c?.pools ?? []).map((p) => [p.name, p]));
  const was = byName(before);
  const now = byName(after);
  const names = [...new Set([...was.keys(), ...now.keys()])].sort();
  const items: LeadItem[] = [];
  const refresh = s.code(REFRESH_COMMAND(env));
  for (const name of names) {
    const a = was.get(name);
    const b = now.get(name);
    if (same(a, b)) continue;
    const what = `${s.text(name)} ${change(s, a, b)}`;
    const lacking = [...(a?.missing.map((m) => `${m} in the base's lock`) ?? []), ...(b?.missing.map((m) => `${m} in this change's lock`) ?? [])];
    if (lacking.length > 0) {
      items.push({ text: `${what}: ${s.text(`cost not known, no price locked for ${lacking.join(', ')}`)} (run ${refresh})` });
      continue;
    }
    const delta = (b?.monthly ?? 0) - (a?.monthly ?? 0);
    items.push({ text: `${s.bold(`${formatDelta(delta)}/month`)}: ${what}` });
  }
  if (items.length === 0) return [];
  const total = before?.total !== undefined && after?.total !== undefined
    ? `${formatUsd(before.total)} → ${formatUsd(after.total)}/month (${formatDelta(after.total - before.total)})`
    : before === undefined && after?.total !== undefined
      ? `${formatUsd(after.total)}/month (a new environment)`
      : after === undefined && before?.total !== undefined
        ? `${formatUsd(before.total)}/month no longer spent (environment removed)`
        : 'not known: a price is missing on one side';
  items.push({ text: `${s.text('total')}: ${s.text(total)}` });
  return items;
}

/** The lead section for `npm run diff`, the two sides' environment files bound in. */
export function costLeadSection(base: SourceFiles, head: SourceFiles): LeadSection {
  return {
    id: 'cost',
    title: 'Monthly cost (on-demand)',
    note: `Each side priced from its own lock (environments/<env>.ssm.lock.json): ${COST_SCOPE}.`,
    items: (d, { style: s }) =>
      d.envs.flatMap((e) => {
        const prefix = envPrefix(d, e, s);
        const before = costOf(e.env, base);
        const after = costOf(e.env, head);
        // A side whose file is there but does not resolve (a base written for another schema) is not priced: no "pool removed" lines.
        if ((before === undefined && base.has(envFile(e.env))) || (after === undefined && head.has(envFile(e.env)))) return [];
        return costItems(e.env, before, after, s).map((i) => ({ ...i, text: prefix + i.text }));
      }),
  };
}
