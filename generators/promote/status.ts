/**
 * `npm run promote -- --status`: per environment with a `promotion.from`, what it is behind its source
 * by (the versions `npm run promote` would move) and since when the source has carried each — the
 * same Git-history measure as the soak gate (gates.ts carriedSince: the oldest commit of the unbroken
 * run of the source's provenance manifest carrying that version) — with the soak left and an open
 * freeze window. The fleet matrix (rendered/README.md) has the "behind by" without the "since when",
 * which would go stale with the very commit carrying it. Pure: plans, history and the moment in.
 */
import { carriedSince, formatDuration, iso, openFreeze, parseDuration, type HistoryCommit, type SourceHistory } from './gates.js';
import { planPromotion } from './plan.js';
import type { PromotionInput } from '../model/input.js';

export interface StatusInput {
  env: string;
  data: Record<string, unknown>;
  /** Whether it runs an add-on, catalog defaults included (from its model: plan.ts AddonsRun); else its document says. */
  runs?: (addon: string) => boolean;
}

const shown = (v: string | undefined): string => v ?? 'the catalog pin';

/** The report, one block per environment that declares `promotion.from`. */
export function promotionStatus(envs: readonly StatusInput[], historyOf: (env: string) => SourceHistory, now: Date): string {
  const byName = new Map(envs.map((e) => [e.env, e]));
  const lines: string[] = [`Promotion status at ${iso(now)}`];
  const without: string[] = [];
  for (const e of [...envs].sort((a, b) => a.env.localeCompare(b.env))) {
    const promotion = e.data.promotion as PromotionInput | undefined;
    if (promotion?.from === undefined) {
      without.push(e.env);
      continue;
    }
    const source = byName.get(promotion.from);
    lines.push('');
    const soak = promotion.soak;
    lines.push(`${e.env} ← ${promotion.from}${soak ? ` (soak ${soak})` : ''}:`);
    if (!source) {
      lines.push(`  no environment ${promotion.from} (promotion.from)`);
      continue;
    }
    const moves = planPromotion(source.data, e.data, undefined, source.runs && e.runs ? { source: source.runs, target: e.runs } : undefined).moves;
    if (moves.length === 0) lines.push(`  level with ${promotion.from}`);
    else lines.push(`  behind ${promotion.from} by ${moves.length} version${moves.length === 1 ? '' : 's'}:`);
    const history = historyOf(promotion.from);
    for (const m of moves) {
      const since: HistoryCommit | undefined = carriedSince(history, m.item.id, m.to);
      const what = `    ${m.item.id}: ${shown(m.from)} → ${shown(m.to)}`;
      if (!since) {
        lines.push(`${what} — not in ${promotion.from}'s committed rendered tree yet (npm run synth there, commit)`);
        continue;
      }
      const ran = now.getTime() - since.time * 1000;
      const left = soak === undefined ? '' : ran >= parseDuration(soak) ? '; soak passed' : `; soak: ${formatDuration(parseDuration(soak) - ran)} left`;
      lines.push(`${what} — in ${promotion.from} since commit ${since.sha.slice(0, 12)} (${iso(new Date(since.time * 1000))}, ${formatDuration(ran)} ago)${left}`);
    }
    const freeze = openFreeze(promotion.freeze ?? [], now);
    if (freeze) lines.push(`  freeze open: ${freeze.window.reason}, until ${iso(freeze.closes)} (${formatDuration(freeze.closes.getTime() - now.getTime())} left)`);
  }
  if (without.length > 0) lines.push('', `Without promotion.from: ${without.join(', ')}.`);
  return `${lines.join('\n')}\n`;
}
